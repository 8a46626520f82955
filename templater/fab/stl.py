"""Binary STL output in micrometres with a deterministic header (design, ``units=um``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from stl import Mode
from stl import mesh as stl_mesh

__all__ = ["write_stl", "stl_header", "stl_header_for"]


class _DeterministicMesh(stl_mesh.Mesh):
    """numpy-stl mesh whose binary header carries no timestamp."""

    header_text: str = ""

    def get_header(self, name) -> str:  # noqa: D102 - numpy-stl hook
        return self.header_text[:80].ljust(80, " ")


def stl_header(mesh: trimesh.Trimesh, version: str) -> str:
    """80-character header naming the design and ``units=um``; never starts with ``solid``."""
    return _header(dict(mesh.metadata.get("design", {})), mesh.metadata.get("base_um", 0),
                   version)


def stl_header_for(design, base_um: float, version: str) -> str:
    """The header :func:`stl_header` gives the mesh of ``design`` (without building it)."""
    return _header(design.to_dict(), base_um, version)


def _header(d: dict, base_um: float, version: str) -> str:
    short = {"edge_radius_um": "r", "top_fraction": "t", "invert": "inv", "form": "form"}
    opts = " ".join(f"{short.get(k, k)}={int(v) if isinstance(v, bool) else v}"
                    for k, v in d.items() if k not in ("kind", "H_um", "S_um"))
    text = (f"templater {version} units=um {d.get('kind', '?')} H={d.get('H_um', 0):g} "
            f"S={d.get('S_um', 0):g} base={base_um:g} {opts}")
    return text[:80]


def write_stl(mesh: trimesh.Trimesh, path: Path, *, version: str) -> int:
    """Write ``mesh`` (µm) as binary STL; returns the number of facets."""
    out = _DeterministicMesh(np.zeros(len(mesh.faces), dtype=stl_mesh.Mesh.dtype))
    out.vectors[:] = mesh.vertices[mesh.faces]
    out.normals[:] = mesh.face_normals
    out.header_text = stl_header(mesh, version)
    with open(path, "wb") as fh:
        out.save(Path(path).name, fh=fh, mode=Mode.BINARY, update_normals=False)
    return len(mesh.faces)

