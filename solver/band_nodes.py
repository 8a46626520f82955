"""Lateral mesh nodes graded towards the rounded Li-convex edges of pyramids and frustums.

The creep and electrolyte solvers mesh the quarter cell [0, S/2]² with these nodes (as the FEM
field solver does with :func:`solver.fem_field.graded_nodes`): a 1 µm rounding band at
S = 150 µm is otherwise missed by every practical mesh, and the tip pressure and the crack-
driving stress there converge slowly or not at all (docs/benchmarks.md, "Rounded tips").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from solver.fem_field import graded_nodes
from templater.geometry.surfaces import Surface

__all__ = ["band_nodes", "refine_band"]


def band_nodes(surface: Surface, divisions: int, band_elements: int = 0,
                band_growth: float = 2.0) -> NDArray[np.float64]:
    """Nodes on [0, 1/2] graded towards the rounded Li-convex edge of a pyramid or frustum
    (ridge at 1/2; inverted: apex at 0 or plateau edge at t/2), with the plateau edge a node;
    with ``band_elements`` k > 0 the band is refined (:func:`refine_band`). A sharp edge
    (no rounding band; the predictions always round it first) gets the plain graded nodes."""
    s = surface.period_um
    edge, _, rim = (w / s for w in surface.rounding_half_widths_um())
    t = surface.plateau_fraction
    breaks = (0.0, 0.5 * t, 0.5) if t > 0.0 else (0.0, 0.5)
    if not surface.invert:
        feature = (0.5, edge)
    elif t > 0.0:
        feature = (0.5 * t, rim)
    else:
        feature = (0.0, edge)
    if feature[1] <= 0.0:
        return graded_nodes(breaks, (), divisions, 1.0)
    nodes = graded_nodes(breaks, (feature,), divisions, 1.0)
    if band_elements > 0:
        nodes = refine_band(nodes, feature, band_elements, band_growth)
    return nodes


def refine_band(nodes: NDArray[np.float64], feature: tuple[float, float], k: int,
                 growth: float) -> NDArray[np.float64]:
    """``nodes`` plus k uniform elements per half-width w of the band [p − w, p + w] and, on
    each side, elements growing by ``growth`` from w/k until they reach the neighbouring node.

    The graded nodes alone put a single element across the band at every practical level
    (r = 1 µm at S = 150 µm: w = 0.32 µm next to a 1.3–2 µm element); the tip pressure then
    stays tens of per cent high (docs/benchmarks.md, "Rounded tips")."""
    lo, hi = float(nodes[0]), float(nodes[-1])
    p, w = feature
    h = w / k
    new = [p + h * j for j in range(-k, k + 1)]
    for side in (-1.0, 1.0):
        edge = p + side * w
        beyond = nodes[(nodes - edge) * side > 1e-12]
        if beyond.size == 0:
            continue
        stop = float(np.abs(beyond - edge).min())  # the first graded node past the band
        size, dist = h, 0.0
        # grow while the rest is over 1.5 next elements: the last element is 0.5-3 times the
        # one before it (ratio 2)
        while stop - dist > 1.5 * size * growth:
            size *= growth
            dist += size
            new.append(edge + side * dist)
    extra = np.asarray([v for v in new if lo + 1e-12 < v < hi - 1e-12])
    out = np.unique(np.concatenate([nodes, extra]))
    keep = np.r_[True, np.diff(out) > 1e-9 * (hi - lo)]
    return out[keep]
