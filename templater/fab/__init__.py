"""The fabrication layer: template mesh, STL, slicing, hatching, stitching, GWL planning and
text, and the independent GWL reader and job check (which share no code with the writer)."""
