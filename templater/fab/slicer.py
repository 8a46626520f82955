"""Layer regions of the template solid: exact cross-sections of the STL mesh at fixed heights.

The region of a layer at height z is the part of the footprint where the mesh's top surface
(a piecewise-linear height field, the same triangles as ``NAME.stl``) is at least z. Each
triangle is clipped against the level z (vertices at or above z are inside); crossing points
are computed from the edge's endpoints in vertex-index order, so neighbouring triangles share
them exactly and the pieces form a coverage whose union is the cross-section. Layers below the
lowest point of the top surface are the whole footprint (the base plate, from z = 0; see
``layer_heights_um`` for the z convention).

Only the triangles under a window are processed, so a block of a 3 mm template costs what one
period costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
import trimesh
from numpy.typing import NDArray

from templater.geometry.errors import TemplaterError

__all__ = ["layer_heights_um", "TopSurface", "SurfacePatch"]


def _coverage_union(geoms: NDArray[np.object_]) -> shapely.Geometry:
    """Union of polygons that share edges exactly (fast); plain union if GEOS disagrees."""
    try:
        merged = shapely.coverage_union_all(geoms)
        if merged.is_valid:
            return merged
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.union_all(geoms)
    except shapely.errors.GEOSException:
        # degenerate input (e.g. vertices exactly at the level): repair, then union
        return shapely.union_all(shapely.make_valid(geoms))

# below this area (µm²) a clipped triangle piece is a degenerate sliver
_MIN_PIECE_AREA_UM2 = 1e-12
_CHUNK = 1 << 20  # faces per chunk when indexing a mesh
# crossings this close (relative to the edge) to an end vertex are snapped onto it
_SNAP = 1e-9


def layer_heights_um(top_um: float, *, slice_um: float) -> NDArray[np.float64]:
    """Layer heights z_k = k·slice for every z_k ≤ ``top_um`` (µm), from the STL's z = 0.

    Layer z is written at GWL z (no offset); ``FindInterfaceAt`` then places the substrate
    interface at GWL z = find_interface_at_um, which sinks the first layer that far into the
    substrate (DeScribe's convention; the anchoring offset is applied once, by the printer).
    """
    if not (slice_um > 0 and math.isfinite(slice_um)):
        raise TemplaterError(f"slice_um must be positive, got {slice_um!r}")
    n = math.floor(top_um / slice_um + 1e-9) + 1
    return slice_um * np.arange(max(n, 0), dtype=float)


@dataclass(frozen=True, slots=True, eq=False)
class SurfacePatch:
    """The top-surface triangles under one window (global µm coordinates).

    Attributes
    ----------
    vertices_um : (n, 3) float
        Vertices of the mesh referenced by ``faces`` (global indices kept for exact sharing).
    faces : (m, 3) int
        Counter-clockwise (seen from above) triangles of the top surface.
    floor_um : float
        Lowest top-surface height in the patch, µm (below it the region is the footprint).
    """

    vertices_um: NDArray[np.float64]
    faces: NDArray[np.int64]
    floor_um: float

    def superlevels(self, heights_um: NDArray[np.float64]) -> list[shapely.Geometry]:
        """Union of the patch's triangles where the top surface is at least z, for each z
        of the ascending ``heights_um``.

        Triangles entirely at or above z are merged once, from the top layer down (each
        triangle joins at the highest layer it lies fully above); each layer then only adds the
        clipped pieces of the triangles it crosses.
        """
        f = self.faces
        zs = np.asarray(heights_um, dtype=float)
        out: list[shapely.Geometry] = [shapely.Polygon()] * len(zs)
        if len(f) == 0 or len(zs) == 0:
            return out
        zv = self.vertices_um[:, 2]
        tz = zv[f]
        tmin, tmax = tz.min(axis=1), tz.max(axis=1)
        bucket = np.searchsorted(zs, tmin, side="right") - 1
        xy = self.vertices_um[:, :2]
        full: shapely.Geometry = shapely.Polygon()
        for k in range(len(zs) - 1, -1, -1):
            new = f[bucket == k]
            if len(new):
                merged = _coverage_union(shapely.polygons(xy[new]))
                full = _coverage_union(np.array([full, merged])) if not full.is_empty \
                    else merged
            cross = f[(tmin < zs[k]) & (tmax >= zs[k])]
            pieces = self._pieces(cross, float(zs[k]))
            if len(pieces):
                out[k] = _coverage_union(np.concatenate([[full], pieces])) \
                    if not full.is_empty else _coverage_union(pieces)
            else:
                out[k] = full
        return out

    def _pieces(self, tri_faces: NDArray[np.int64], z_um: float) -> NDArray[np.object_]:
        """Parts at or above ``z_um`` of triangles crossing that level (shapely polygons)."""
        if len(tri_faces) == 0:
            return np.zeros(0, dtype=object)
        xy = self.vertices_um[:, :2]
        above = self.vertices_um[tri_faces, 2] >= z_um
        count = above.sum(axis=1)
        pieces = []
        for k in (1, 2):
            sel = tri_faces[count == k]
            if not len(sel):
                continue
            ab = above[count == k]
            # roll each triangle so its lone vertex (the one on the minority side) comes first
            lone_mask = ab if k == 1 else ~ab
            shift = np.argmax(lone_mask, axis=1)
            idx = (shift[:, None] + np.arange(3)[None, :]) % 3
            tri = np.take_along_axis(sel, idx, axis=1)
            a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
            xab = self._cross(a, b, z_um)
            xac = self._cross(a, c, z_um)
            if k == 1:  # a above: triangle (a, ab, ac)
                ring = np.stack([xy[a], xab, xac], axis=1)
            else:  # a below: quad (ab, b, c, ac)
                ring = np.stack([xab, xy[b], xy[c], xac], axis=1)
            pieces.append(shapely.polygons(ring))
        geoms = np.concatenate(pieces)
        return geoms[shapely.area(geoms) > _MIN_PIECE_AREA_UM2]

    def _cross(self, i: NDArray, j: NDArray, z_um: float) -> NDArray[np.float64]:
        """Level-z crossing on edges (i, j), computed from the lower vertex index."""
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        p, q = self.vertices_um[lo], self.vertices_um[hi]
        t = (z_um - p[:, 2]) / (q[:, 2] - p[:, 2])
        x = p[:, :2] + t[:, None] * (q[:, :2] - p[:, :2])
        # a vertex at the level (to rounding) is its own crossing: no near-duplicate points
        x = np.where((t <= _SNAP)[:, None], p[:, :2], x)
        return np.where((t >= 1.0 - _SNAP)[:, None], q[:, :2], x)


class TopSurface:
    """The top surface of a template mesh, indexed for windowed slicing.

    Parameters
    ----------
    mesh : trimesh.Trimesh
        Watertight template solid from :func:`templater.fab.mesh.build_template_mesh` (µm).
    footprint : shapely.Polygon
        The footprint outline used to build the mesh (its top surface covers exactly this).
    """

    def __init__(self, mesh: trimesh.Trimesh, footprint: shapely.Polygon) -> None:
        verts = np.asarray(mesh.vertices, dtype=float)
        faces = np.asarray(mesh.faces, dtype=np.int64)
        keep, lo, hi, top = [], [], [], -math.inf
        for start in range(0, len(faces), _CHUNK):  # chunks bound the memory of big meshes
            tri = verts[faces[start:start + _CHUNK]]
            # upward-facing triangles (height field top); walls are vertical, the floor faces down
            nz = ((tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
                  - (tri[:, 1, 1] - tri[:, 0, 1]) * (tri[:, 2, 0] - tri[:, 0, 0]))
            up = nz > 0
            keep.append(start + np.flatnonzero(up))
            lo.append(tri[up, :, :2].min(axis=1))
            hi.append(tri[up, :, :2].max(axis=1))
            if up.any():
                top = max(top, float(tri[up, :, 2].max()))
        idx = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
        self.vertices_um = verts
        self.faces = faces[idx]
        self._lo = np.concatenate(lo) if lo else np.zeros((0, 2))
        self._hi = np.concatenate(hi) if hi else np.zeros((0, 2))
        self.top_um = top if math.isfinite(top) else 0.0
        self.footprint = footprint

    def patch(self, bounds_um: tuple[float, float, float, float]) -> SurfacePatch:
        """Triangles whose xy bounding box meets ``(xmin, ymin, xmax, ymax)``."""
        x0, y0, x1, y1 = bounds_um
        hit = ((self._hi[:, 0] >= x0) & (self._lo[:, 0] <= x1)
               & (self._hi[:, 1] >= y0) & (self._lo[:, 1] <= y1))
        faces = self.faces[hit]
        floor = float(self.vertices_um[faces, 2].min()) if len(faces) else math.inf
        return SurfacePatch(self.vertices_um, faces, floor)

    def regions(self, patch: SurfacePatch, windows: list[shapely.Geometry],
                heights_um: NDArray[np.float64]) -> list[shapely.Geometry]:
        """Cross-sections footprint ∩ window_k ∩ {top ≥ z_k} for ascending ``heights_um``."""
        zs = np.asarray(heights_um, dtype=float)
        upper = zs > patch.floor_um
        tops = patch.superlevels(zs[upper]) if upper.any() else []
        out, i = [], 0
        for z, window in zip(zs, windows, strict=True):
            clip = shapely.intersection(self.footprint, window)
            if z <= patch.floor_um:
                out.append(clip)
            else:
                out.append(shapely.intersection(tops[i], clip))
                i += 1
        return out

    def region(self, patch: SurfacePatch, window: shapely.Geometry,
               z_um: float) -> shapely.Geometry:
        """Cross-section at ``z_um`` inside ``window`` (footprint ∩ window ∩ {top ≥ z})."""
        return self.regions(patch, [window], np.array([z_um]))[0]
