"""The template solid of :func:`templater.fab.mesh.build_template_mesh`, strip by strip.

Pellet-scale templates have tens of millions of facets; building them as one trimesh takes
gigabytes. :class:`TemplateStream` produces the same triangles, in the same order and with the
same (rounded, welded) coordinates, one strip of grid rows at a time:

* :meth:`TemplateStream.write_stl` writes the binary STL straight to disk (facet count patched
  into the header at the end); the bytes equal ``write_stl(build_template_mesh(...))``;
* :meth:`TemplateStream.window_mesh` is the top surface restricted to a few xy windows, with
  faces and vertices in the relative order of the full mesh, so that slicing it gives the same
  cross-sections as slicing the full mesh (used for the GWL plan of a periodic job: each distinct
  block needs only the triangles under it).

Memory is bounded by one strip (``rows`` grid rows) plus the clipped boundary band.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
import trimesh
from numpy.typing import NDArray

from templater.fab.mesh import (
    Footprint,
    _axis_nodes,
    _check_tolerance,
    grid_triangles,
    period_nodes_um,
    walk_boundary,
)
from templater.geometry.parameters import check
from templater.geometry.surfaces import Surface

__all__ = ["TemplateStream", "StreamSummary", "estimate_facets"]

_STRIP_VERTICES = 1 << 20  # grid vertices per strip
_RIM_UM = 1e-5  # vertices this close to the footprint outline may carry boundary edges
_STL_DTYPE = np.dtype([("normals", "<f4", (3,)), ("vectors", "<f4", (3, 3)),
                       ("attr", "<u2", (1,))])

Progress = Callable[[int], None]


def estimate_facets(nodes_per_period: int, period_um: float, footprint: Footprint) -> int:
    """Facets of the template solid (top grid + walls + floor), without building it."""
    n = nodes_per_period * math.ceil(footprint.size_um / period_um - 1e-9) + 1
    top = 2.0 * (n - 1) ** 2
    if footprint.shape == "circle":
        top *= math.pi / 4.0
    return int(top + 3 * 4 * n + 12 * n)


@dataclass(slots=True)
class StreamSummary:
    """What a pass over the solid saw: facets, bounds (µm) and the enclosed volume (µm³)."""

    facets: int = 0
    lo: NDArray[np.float64] = field(default_factory=lambda: np.full(3, np.inf))
    hi: NDArray[np.float64] = field(default_factory=lambda: np.full(3, -np.inf))
    volume_um3: float = 0.0

    def add(self, tri: NDArray[np.float64]) -> None:
        if not len(tri):
            return
        self.facets += len(tri)
        self.lo = np.minimum(self.lo, tri.min(axis=(0, 1)))
        self.hi = np.maximum(self.hi, tri.max(axis=(0, 1)))
        self.volume_um3 += float(np.einsum("ij,ij->", tri[:, 0],
                                           np.cross(tri[:, 1], tri[:, 2]))) / 6.0

    @property
    def bounds(self) -> NDArray[np.float64]:
        return np.array([self.lo, self.hi])


class TemplateStream:
    """The template solid of ``design`` on ``footprint``, produced strip by strip."""

    def __init__(self, design: Surface, *, footprint: Footprint, base_um: float,
                 tolerance_um: float, nodes_um: NDArray | None = None) -> None:
        check("base_um", base_um, context="template")
        _check_tolerance(tolerance_um)
        self.design, self.footprint = design, footprint
        self.base_um, self.tolerance_um = base_um, tolerance_um
        nodes = period_nodes_um(design, tolerance_um, base_um=base_um) if nodes_um is None \
            else np.asarray(nodes_um, dtype=float)
        self.nodes = nodes
        size = footprint.size_um
        xs = _axis_nodes(nodes, design.period_um, 0.0, size)
        self.aligned = footprint.shape == "square" and bool(
            np.any(np.isclose(xs, size, atol=1e-9, rtol=0)))
        if self.aligned:
            xs = xs[xs <= size + 1e-9]
            xs[-1] = size
            self.poly = None
        else:
            self.poly = footprint.polygon(tolerance_um)
        self.xs = xs
        self._cands: list[NDArray] | None = None
        self._fans: NDArray | None = None

    # -- the top surface -------------------------------------------------------------------

    @property
    def grid_facets(self) -> int:
        """Triangles of the (covering) top grid."""
        return 2 * (len(self.xs) - 1) ** 2

    def _strip_ranges(self) -> list[tuple[int, int]]:
        rows = max(1, _STRIP_VERTICES // len(self.xs))
        nq = len(self.xs) - 1
        return [(i, min(i + rows, nq)) for i in range(0, nq, rows)]

    def _strip(self, i0: int, i1: int, second: bool):
        """Vertices (unrounded), triangles (local indices) of one half (t1 or t2) of quad rows
        ``i0 … i1 − 1``."""
        verts, t1, t2, _ = grid_triangles(self.design, self.xs[i0:i1 + 1], self.xs,
                                          self.base_um)
        return verts, (t2 if second else t1)

    def _far_outside(self, xy: NDArray, margin: float) -> NDArray[np.bool_]:
        """Points farther than ``margin`` outside the footprint (cheap, conservative)."""
        s = self.footprint.size_um
        if self.footprint.shape == "square":
            d = np.maximum.reduce([-xy[:, 0], xy[:, 0] - s, -xy[:, 1], xy[:, 1] - s])
        else:
            d = np.hypot(xy[:, 0] - 0.5 * s, xy[:, 1] - 0.5 * s) - 0.5 * s
        return d > margin

    def _near_outline(self, xy: NDArray) -> NDArray[np.bool_]:
        """Points that may lie on the footprint polygon's outline (superset)."""
        sagitta = self.tolerance_um if self.footprint.shape == "circle" else 0.0
        return self._far_outside(xy, -(sagitta + _RIM_UM))

    def _top_pieces(self) -> Iterator[tuple[NDArray, NDArray | None]]:
        """Top-surface triangles (m, 3, 3) in the order of the full mesh, with the unrounded
        candidate triangles of the clipped band collected on the side."""
        ranges = self._strip_ranges()
        if self.aligned:
            for second in (False, True):
                for i0, i1 in ranges:
                    verts, faces = self._strip(i0, i1, second)
                    yield verts[faces], None
            return
        poly = self.poly
        margin = 2.0 * float(np.diff(self.nodes).max()) + self.tolerance_um + 1.0
        cands = []
        for second in (False, True):
            for i0, i1 in ranges:
                verts, faces = self._strip(i0, i1, second)
                inside = shapely.contains_xy(poly, verts[:, 0], verts[:, 1]) | \
                    shapely.intersects_xy(poly.exterior, verts[:, 0], verts[:, 1])
                all_in = inside[faces].all(axis=1)
                yield np.round(verts[faces[all_in]], 6), None
                rest = faces[~all_in]
                far = self._far_outside(verts[:, :2], margin)
                rest = rest[~far[rest].all(axis=1)]
                cands.append(verts[rest])
        self._cands = cands
        yield np.zeros((0, 3, 3)), self._fan_triangles(np.concatenate(cands))

    def _fan_triangles(self, cand: NDArray) -> NDArray:
        """Clipped pieces of the boundary triangles, fan-triangulated (rounded), as in
        :func:`templater.fab.mesh._clip`."""
        poly = self.poly
        tris = shapely.polygons(cand[:, :, :2])
        hit = shapely.intersects(tris, poly) & ~shapely.touches(tris, poly)
        cand, tris = cand[hit], tris[hit]
        pieces = shapely.intersection(tris, poly)
        out = []
        for p, piece in zip(cand, pieces, strict=True):
            if piece.is_empty or piece.geom_type != "Polygon" or piece.area <= 0:
                continue
            ring = np.asarray(piece.exterior.coords)[:-1]
            if not shapely.is_ccw(piece.exterior):
                ring = ring[::-1]
            m = np.array([[p[1, 0] - p[0, 0], p[2, 0] - p[0, 0]],
                          [p[1, 1] - p[0, 1], p[2, 1] - p[0, 1]]])
            lam = np.linalg.solve(m, (ring - p[0, :2]).T)
            z = p[0, 2] + lam[0] * (p[1, 2] - p[0, 2]) + lam[1] * (p[2, 2] - p[0, 2])
            pts = np.round(np.c_[ring, z], 6)
            k = len(ring)
            fan = np.c_[np.zeros(k - 2, int), np.arange(1, k - 1), np.arange(2, k)]
            out.append(pts[fan])
        return np.concatenate(out) if out else np.zeros((0, 3, 3))

    @staticmethod
    def _non_degenerate(tri: NDArray) -> NDArray:
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        bad = (a == b).all(axis=1) | (b == c).all(axis=1) | (a == c).all(axis=1)
        return tri[~bad] if bad.any() else tri

    def top_triangles(self) -> Iterator[NDArray]:
        """Top-surface triangles (m, 3, 3) µm, strip by strip, in the full mesh's order."""
        for tri, fans in self._top_pieces():
            if len(tri):
                yield self._non_degenerate(tri) if not self.aligned else tri
            if fans is not None and len(fans):
                yield self._non_degenerate(fans)

    # -- walls and floor -------------------------------------------------------------------

    def _loop(self, rim: list[tuple[int, NDArray]]) -> NDArray:
        """Outer boundary loop (k, 3) of the top surface, starting where the full mesh's
        ``_boundary_loop`` starts."""
        if self.aligned:
            xs = self.xs
            n = len(xs)
            ii = np.concatenate([np.arange(n), np.full(n - 1, n - 1), np.arange(n - 2, -1, -1),
                                 np.zeros(n - 2, int)])
            jj = np.concatenate([np.zeros(n, int), np.arange(1, n), np.full(n - 1, n - 1),
                                 np.arange(n - 2, 0, -1)])
            xg, yg = np.meshgrid(xs, xs, indexing="ij")
            # the same elementwise evaluation as the full grid, restricted to its perimeter
            z = self.design.template_top_um(xg[ii, jj], yg[ii, jj], self.base_um)
            return np.c_[xs[ii], xs[jj], z]
        index = np.concatenate([r[0] for r in rim])
        tri = np.concatenate([r[1] for r in rim])
        keys, inv = np.unique(tri.reshape(-1, 3), axis=0, return_inverse=True)
        faces = inv.reshape(-1, 3)
        on = self._near_outline(keys[:, :2])
        d = np.full(len(keys), np.inf)
        d[on] = shapely.distance(self.poly.exterior, shapely.points(keys[on, :2]))
        on = d <= _RIM_UM
        edges = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
        kind = np.repeat(np.arange(3), len(faces))
        gidx = np.tile(index, 3)
        both = on[edges].all(axis=1)
        edges, kind, gidx = edges[both], kind[both], gidx[both]
        key = np.sort(edges, axis=1)
        _, einv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        single = counts[einv.reshape(-1)] == 1
        edges, kind, gidx = edges[single], kind[single], gidx[single]
        first = int(np.lexsort((gidx, kind))[0])
        return keys[walk_boundary(edges, first)]

    @staticmethod
    def _closing(loop: NDArray) -> Iterator[NDArray]:
        """Walls then floor (as ``templater.fab.mesh._close``)."""
        top = loop
        top_j = np.roll(top, -1, axis=0)
        bot = np.c_[loop[:, :2], np.zeros(len(loop))]
        bot_j = np.roll(bot, -1, axis=0)
        yield np.stack([bot, bot_j, top_j], axis=1)
        yield np.stack([bot, top_j, top], axis=1)
        centre = np.r_[bot[:, :2].mean(axis=0), 0.0]
        yield np.stack([np.broadcast_to(centre, bot.shape), bot_j, bot], axis=1)

    def triangles(self) -> Iterator[NDArray]:
        """Every facet (m, 3, 3) of the solid, in the order of the full mesh."""
        rim: list[tuple[int, NDArray]] = []
        count = 0
        for tri in self.top_triangles():
            if not self.aligned:
                near = self._near_outline(tri.reshape(-1, 3)[:, :2]).reshape(-1, 3).any(axis=1)
                if near.any():
                    rim.append((count + np.flatnonzero(near), tri[near]))
            count += len(tri)
            yield tri
        yield from self._closing(self._loop(rim))

    # -- outputs ---------------------------------------------------------------------------

    def write_stl(self, path: Path, header: str,
                  progress: Progress | None = None) -> StreamSummary:
        """Write the binary STL to ``path``; returns facets, bounds and volume."""
        summary = StreamSummary()
        with open(path, "wb") as fh:
            fh.write(header[:80].ljust(80, " ").encode("ascii", "replace"))
            fh.write(struct.pack("<I", 0))
            for tri in self.triangles():
                rec = np.zeros(len(tri), dtype=_STL_DTYPE)
                normals, valid = trimesh.triangles.normals(triangles=tri)
                if valid.all():
                    rec["normals"] = normals
                else:
                    padded = np.zeros((len(tri), 3))
                    padded[valid] = normals
                    rec["normals"] = padded
                rec["vectors"] = tri
                rec.tofile(fh)
                summary.add(tri)
                if progress is not None:
                    progress(len(tri))
            fh.seek(80)
            fh.write(struct.pack("<I", summary.facets))
        return summary

    def survey(self, progress: Progress | None = None
               ) -> tuple[StreamSummary, float, tuple[float, float]]:
        """One pass without writing: facets, bounds and volume of the solid, and the highest
        top-surface vertex (z and xy, µm)."""
        summary = StreamSummary()
        top, where = -math.inf, (0.0, 0.0)
        for tri in self.triangles():
            summary.add(tri)
            if len(tri):
                k = int(np.argmax(tri[:, :, 2]))
                z = float(tri.reshape(-1, 3)[k, 2])
                if z > top:
                    top, where = z, tuple(tri.reshape(-1, 3)[k, :2].tolist())
            if progress is not None:
                progress(len(tri))
        return summary, top, where

    def window_mesh(self, windows: list[tuple[float, float, float, float]]
                    ) -> tuple[trimesh.Trimesh, float]:
        """The top-surface triangles whose xy bounding box meets one of ``windows``
        ``(xmin, ymin, xmax, ymax)``, as a trimesh whose faces and vertices keep the relative
        order of the full mesh; and the top of the whole surface (µm)."""
        w = np.asarray(windows, dtype=float).reshape(-1, 4)
        parts = []
        top = -math.inf
        for tri in self.top_triangles():
            if not len(tri):
                continue
            top = max(top, float(tri[:, :, 2].max()))
            lo, hi = tri[:, :, :2].min(axis=1), tri[:, :, :2].max(axis=1)
            hit = np.zeros(len(tri), dtype=bool)
            for x0, y0, x1, y1 in w:
                hit |= (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
            if hit.any():
                parts.append(tri[hit])
        tri = np.concatenate(parts) if parts else np.zeros((0, 3, 3))
        verts, inv = np.unique(tri.reshape(-1, 3), axis=0, return_inverse=True)
        mesh = trimesh.Trimesh(vertices=verts, faces=inv.reshape(-1, 3), process=False)
        return mesh, top
