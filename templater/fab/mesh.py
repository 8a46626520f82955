"""Template solid: base plate plus the negative of the electrolyte contour, as a watertight mesh.

Coordinates are micrometres. The contour keeps its global lattice (electrolyte peak at the
origin); the footprint is the square [0, L]² or the disc of diameter L centred at (L/2, L/2).
The top surface is a tensor grid of nodes per period:

* sharp pyramids/frustums: the breaklines only (apex lines, rims, grooves) with each quad split
  along the hip direction, so every planar facet is meshed exactly (zero deviation);
* curved surfaces (egg-box, rounded edges): breaklines subdivided uniformly until the linear
  interpolant deviates from the analytic surface by at most ``tolerance_um`` (measured on a
  dense sample of one period, which is exact for the whole periodic surface).

Footprints that do not end on grid lines (circles, sizes that are not whole periods) are cut
from a covering grid: triangles crossing the boundary are clipped (shapely) and re-lifted in
their own plane, so facets stay exact. Walls and a planar bottom close the solid.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import shapely
import trimesh
from numpy.typing import NDArray

from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, check, declare, default_value, validate_fields
from templater.geometry.surfaces import Surface

__all__ = [
    "Footprint",
    "TemplateOptions",
    "DEFAULT_FOOTPRINT_UM",
    "DEFAULT_BASE_UM",
    "DEFAULT_TOLERANCE_UM",
    "resolve_footprint",
    "period_nodes_um",
    "interpolation_deviation_um",
    "build_template_mesh",
    "template_volume_um3",
]

log = logging.getLogger(__name__)

DEFAULT_FOOTPRINT_UM = default_value("size_um")
DEFAULT_BASE_UM = default_value("base_um")
DEFAULT_TOLERANCE_UM = default_value("tolerance_um")
FOOTPRINT_SHAPES = PARAMETERS["shape"].choices
MAX_NODES_PER_PERIOD = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class Footprint:
    """Printed area: ``square`` [0, L]² or ``circle`` of diameter L centred at (L/2, L/2), µm."""

    shape: str = declare("shape", default=True)
    size_um: float = declare("size_um", default=True)

    def __post_init__(self) -> None:
        validate_fields(self, "footprint")

    @property
    def area_um2(self) -> float:
        """Projected area, µm²."""
        if self.shape == "square":
            return self.size_um**2
        return math.pi * self.size_um**2 / 4.0

    def polygon(self, tolerance_um: float) -> shapely.Polygon:
        """The footprint as a shapely polygon (a circle is inscribed within ``tolerance_um``)."""
        s = self.size_um
        if self.shape == "square":
            return shapely.box(0.0, 0.0, s, s)
        r = s / 2.0
        n = max(64, math.ceil(math.pi / math.acos(max(-1.0, 1.0 - tolerance_um / r))))
        n = 4 * math.ceil(n / 4)
        t = 2.0 * np.pi * np.arange(n) / n
        return shapely.Polygon(np.c_[r + r * np.cos(t), r + r * np.sin(t)])


def resolve_footprint(
    design: Surface, *, shape: str = "square", size_um: float | None = None
) -> Footprint:
    """Footprint with the default size: the whole number of periods closest to 3 mm (≥ 1)."""
    if size_um is None:
        periods = max(1, round(DEFAULT_FOOTPRINT_UM / design.period_um))
        size_um = periods * design.period_um
    return Footprint(shape=shape, size_um=size_um)


def _check_tolerance(tolerance_um: float) -> None:
    check("tolerance_um", tolerance_um, context="mesh")


def _main_diagonal(
    cx: NDArray, cy: NDArray, period_um: float, hips: bool = True
) -> NDArray[np.bool_]:
    """Split direction per quad: along the hips of square reliefs (quads whose centre lies
    where x_c·y_c > 0 are split along y = x); smooth surfaces use one direction everywhere,
    which cancels the leading volume bias of the interpolant over a period."""
    if not hips:
        return np.ones(np.broadcast(cx, cy).shape, dtype=bool)
    xc = cx - period_um * np.round(cx / period_um)
    yc = cy - period_um * np.round(cy / period_um)
    return xc * yc > 0


def _interpolate(e00, e10, e01, e11, a, b, main):
    """Piecewise-linear interpolant on a unit quad split along its main or anti diagonal."""
    lower = a >= b
    m = np.where(lower, e00 + a * (e10 - e00) + b * (e11 - e10),
                 e00 + b * (e01 - e00) + a * (e11 - e01))
    inner = a + b <= 1.0
    n = np.where(inner, e00 + a * (e10 - e00) + b * (e01 - e00),
                 e11 + (1 - a) * (e01 - e11) + (1 - b) * (e10 - e11))
    return np.where(main, m, n)


def interpolation_deviation_um(
    design: Surface, nodes_um: NDArray[np.float64], *, stop_above_um: float = math.inf
) -> tuple[float, float]:
    """(max |linear interpolant − e|, mean of (interpolant − e)) over one period, µm.

    ``nodes_um`` is the tensor grid of one period (0 … S); the mean is the volume bias per
    unit area (trapezoidal weights on the sample lattice).
    Each quad is sampled on a 9 × 9 lattice plus points at the blend half-width from its
    edges, which is where the rounded bands of pyramids and frustums deviate most.
    Once the deviation exceeds ``stop_above_um`` the scan stops (the bias is then partial):
    the caller refines anyway.
    """
    nodes = np.asarray(nodes_um, dtype=float)
    h = np.diff(nodes)
    offsets = list(np.linspace(0.0, 1.0, 9))
    r = getattr(design, "edge_radius_um", 0.0)
    if r > 0:
        for frac in (0.25, 0.5, 1.0, 1.5):
            d = frac * r / h.min()
            if d < 1.0:
                offsets += [d, 1.0 - d]
    t = np.unique(np.clip(offsets, 0.0, 1.0))
    a, b = np.meshgrid(t, t, indexing="ij")
    wt = np.gradient(t)
    weights = (wt[:, None] * wt[None, :])[None, :, :]
    worst, bias = 0.0, 0.0
    xg, yg = np.meshgrid(nodes, nodes, indexing="ij")
    e = design.z_um(xg, yg)
    # hip-split reliefs mirror about x = S/2 and y = S/2 together with their mesh: scan a
    # quarter of the quads
    mirrored = (not design.is_smooth and design.is_square_symmetric and len(h) % 2 == 0
                and np.allclose(nodes + nodes[::-1], nodes[0] + nodes[-1], rtol=0.0,
                                atol=1e-9 * (nodes[-1] - nodes[0])))
    rows = len(h) // 2 if mirrored else len(h)
    for i in range(rows):
        x0, x1 = nodes[i], nodes[i + 1]
        y0, y1 = nodes[:rows], nodes[1:rows + 1]
        main = _main_diagonal(0.5 * (x0 + x1), 0.5 * (y0 + y1), design.period_um,
                              not design.is_smooth)
        ax = a[None, :, :]
        by = b[None, :, :]
        xs = x0 + ax * (x1 - x0)
        ys = y0[:, None, None] + by * (y1 - y0)[:, None, None]
        interp = _interpolate(
            e[i, :rows, None, None], e[i + 1, :rows, None, None],
            e[i, 1:rows + 1, None, None], e[i + 1, 1:rows + 1, None, None], ax, by,
            main[:, None, None],
        )
        diff = interp - design.z_um(xs, ys)
        worst = max(worst, float(np.max(np.abs(diff))))
        if worst > stop_above_um:
            break
        area = (x1 - x0) * (y1 - y0)
        bias += float(np.sum(diff * weights * area[:, None, None]))
    return worst, (4.0 if mirrored else 1.0) * bias / (nodes[-1] - nodes[0]) ** 2


def period_nodes_um(
    design: Surface,
    tolerance_um: float = DEFAULT_TOLERANCE_UM,
    *,
    base_um: float = DEFAULT_BASE_UM,
    volume_rtol: float = 2e-4,
) -> NDArray:
    """1-D node positions in one period [0, S] (see module docstring).

    Curved surfaces are refined until the deviation is at most ``tolerance_um`` and the
    volume bias at most ``volume_rtol`` of the template's mean thickness.
    """
    _check_tolerance(tolerance_um)
    thickness = base_um + design.height_um - design.mean_height_um()
    s = design.period_um
    exact = design.facet_nodes_um()
    if exact is not None:
        return np.asarray(exact, dtype=float)
    if design.height_um == 0.0:
        return np.array([0.0, s])
    if design.is_smooth:
        # start from the curvature estimate h²κ/8 ≈ tol, κ ≈ H(2π/S)²/2
        kappa = 0.5 * design.height_um * (2.0 * np.pi / s) ** 2
        n = max(4, 4 * math.ceil(s / math.sqrt(8.0 * tolerance_um / kappa) / 4))
        breaks = np.array([0.0, s])
    else:
        t = getattr(design, "top_fraction", 0.0)
        breaks = np.array([0.0, 0.5 * t * s, 0.5 * s, s - 0.5 * t * s, s]) if t > 0 else \
            np.array([0.0, 0.5 * s, s])
        n = 1
    while True:
        nodes = np.unique(np.concatenate([
            np.linspace(breaks[i], breaks[i + 1], n + 1) for i in range(len(breaks) - 1)
        ]))
        worst, bias = interpolation_deviation_um(design, nodes, stop_above_um=tolerance_um)
        if worst <= tolerance_um and abs(bias) <= volume_rtol * thickness:
            return nodes
        if len(nodes) > MAX_NODES_PER_PERIOD:
            raise DesignError("mesh", "tolerance_um", "tolerance", tolerance_um,
                              "a larger tolerance (mesh would exceed "
                              f"{MAX_NODES_PER_PERIOD} nodes per period)", "um")
        n = max(n + 1, math.ceil(n * 1.25))
        if design.is_smooth:
            n = 4 * math.ceil(n / 4)


def _axis_nodes(nodes: NDArray, period_um: float, lo: float, hi: float) -> NDArray:
    k0, k1 = math.floor(lo / period_um), math.ceil(hi / period_um)
    pts = (np.arange(k0, k1)[:, None] * period_um + nodes[None, :-1]).ravel()
    pts = np.append(pts, k1 * period_um)
    return pts


def _grid_surface(design: Surface, xs: NDArray, ys: NDArray, base_um: float):
    """Top-surface vertices and CCW triangles of the tensor grid xs × ys."""
    verts, t1, t2, idx = grid_triangles(design, xs, ys, base_um)
    faces = np.vstack([t1, t2])
    perimeter = np.concatenate([
        idx[:, 0], idx[-1, 1:], idx[-2::-1, -1], idx[0, -2:0:-1]
    ])
    return verts, faces, perimeter


def grid_triangles(design: Surface, xs: NDArray, ys: NDArray, base_um: float
                   ) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Vertices (n, 3) of the template top on the grid xs × ys, the two CCW triangles of every
    quad (each (q, 3), split along the hips for square reliefs) and the (nx, ny) index grid."""
    nx, ny = len(xs), len(ys)
    xg, yg = np.meshgrid(xs, ys, indexing="ij")
    zg = design.template_top_um(xg, yg, base_um)
    verts = np.column_stack([xg.ravel(), yg.ravel(), zg.ravel()])
    idx = np.arange(nx * ny).reshape(nx, ny)
    v00, v10 = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    v01, v11 = idx[:-1, 1:].ravel(), idx[1:, 1:].ravel()
    cx = (0.5 * (xs[:-1] + xs[1:]))[:, None] * np.ones(ny - 1)[None, :]
    cy = np.ones(nx - 1)[:, None] * (0.5 * (ys[:-1] + ys[1:]))[None, :]
    main = _main_diagonal(cx.ravel(), cy.ravel(), design.period_um, not design.is_smooth)
    t1 = np.where(main[:, None], np.c_[v00, v10, v11], np.c_[v00, v10, v01])
    t2 = np.where(main[:, None], np.c_[v00, v11, v01], np.c_[v10, v11, v01])
    return verts, t1, t2, idx


def _clip(verts: NDArray, faces: NDArray, poly: shapely.Polygon):
    """Clip a triangulated height field to a convex footprint polygon."""
    inside = shapely.contains_xy(poly, verts[:, 0], verts[:, 1]) | shapely.intersects_xy(
        poly.exterior, verts[:, 0], verts[:, 1])
    all_in = inside[faces].all(axis=1)
    keep = faces[all_in]
    cand = faces[~all_in]
    tris = shapely.polygons(verts[cand][:, :, :2])
    hit = shapely.intersects(tris, poly) & ~shapely.touches(tris, poly)
    cand, tris = cand[hit], tris[hit]
    pieces = shapely.intersection(tris, poly)
    new_pts, new_faces = [], []
    nv = len(verts)
    for tri, piece in zip(cand, pieces, strict=True):
        if piece.is_empty or piece.geom_type != "Polygon" or piece.area <= 0:
            continue
        ring = np.asarray(piece.exterior.coords)[:-1]
        if not shapely.is_ccw(piece.exterior):
            ring = ring[::-1]
        p = verts[tri]
        # barycentric lift within the source triangle keeps planar facets planar
        m = np.array([[p[1, 0] - p[0, 0], p[2, 0] - p[0, 0]],
                      [p[1, 1] - p[0, 1], p[2, 1] - p[0, 1]]])
        lam = np.linalg.solve(m, (ring - p[0, :2]).T)
        z = p[0, 2] + lam[0] * (p[1, 2] - p[0, 2]) + lam[1] * (p[2, 2] - p[0, 2])
        k = len(ring)
        new_pts.append(np.c_[ring, z])
        fan = np.c_[np.zeros(k - 2, int), np.arange(1, k - 1), np.arange(2, k)] + nv
        new_faces.append(fan)
        nv += k
    if new_pts:
        verts = np.vstack([verts, *new_pts])
        keep = np.vstack([keep, *new_faces])
    # weld coincident vertices (clip points computed from neighbouring triangles)
    uniq, inverse = np.unique(np.round(verts, 6), axis=0, return_inverse=True)
    faces = inverse.reshape(-1)[keep]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2])
                  & (faces[:, 0] != faces[:, 2])]
    used = np.unique(faces)
    remap = np.full(len(uniq), -1)
    remap[used] = np.arange(len(used))
    verts, faces = uniq[used], remap[faces]
    return verts, faces, _boundary_loop(faces)


def _boundary_loop(faces: NDArray) -> NDArray:
    """Vertices of the single outer boundary, in the direction of the (CCW) triangles."""
    edges = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    return walk_boundary(edges[counts[inv.reshape(-1)] == 1])


def walk_boundary(edges: NDArray, start_row: int = 0) -> NDArray:
    """Vertex indices of the single closed loop formed by directed boundary ``edges`` (m, 2),
    starting at the tail of edge ``start_row``; raises if the edges form more than one loop."""
    nxt = dict(zip(edges[:, 0].tolist(), edges[:, 1].tolist(), strict=True))
    start = int(edges[start_row, 0])
    loop = [start]
    cur = nxt[start]
    while cur != start:
        loop.append(cur)
        cur = nxt[cur]
        if len(loop) > len(edges):
            raise RuntimeError("top surface boundary is not a single loop")
    if len(loop) != len(edges):
        raise RuntimeError("top surface has more than one boundary loop")
    return np.asarray(loop)


def _close(verts: NDArray, faces: NDArray, loop: NDArray) -> tuple[NDArray, NDArray]:
    """Add vertical walls under the boundary loop and a planar bottom at z = 0."""
    n = len(verts)
    k = len(loop)
    bottom = np.c_[verts[loop, :2], np.zeros(k)]
    centre = np.r_[bottom[:, :2].mean(axis=0), 0.0]
    verts = np.vstack([verts, bottom, centre])
    top_i, top_j = loop, np.roll(loop, -1)
    bot_i = n + np.arange(k)
    bot_j = np.roll(bot_i, -1)
    walls = np.vstack([np.c_[bot_i, bot_j, top_j], np.c_[bot_i, top_j, top_i]])
    c = n + k
    floor = np.c_[np.full(k, c), bot_j, bot_i]
    return verts, np.vstack([faces, walls, floor])


def build_template_mesh(
    design: Surface,
    *,
    footprint: Footprint | None = None,
    base_um: float = DEFAULT_BASE_UM,
    tolerance_um: float = DEFAULT_TOLERANCE_UM,
    nodes_um: NDArray | None = None,
) -> trimesh.Trimesh:
    """Watertight template solid (µm): base plate + negative contour, outward winding.

    Parameters
    ----------
    design : Surface
        The contour (electrolyte surface); the template top is base + H − e.
    footprint : Footprint, optional
        Default: square, whole number of periods closest to 3 mm.
    base_um : float, default 10
        Base-plate thickness [µm], 0.5 to 1000.
    tolerance_um : float, default 0.1
        Max deviation of curved surfaces from the analytic one [µm].
    nodes_um : array, optional
        Precomputed :func:`period_nodes_um` (saves the tolerance search).
    """
    check("base_um", base_um, context="template")
    footprint = footprint or resolve_footprint(design)
    if nodes_um is None:
        nodes = period_nodes_um(design, tolerance_um, base_um=base_um)
    else:
        nodes = nodes_um
    size = footprint.size_um
    s = design.period_um
    xs = _axis_nodes(nodes, s, 0.0, size)
    aligned = footprint.shape == "square" and np.any(np.isclose(xs, size, atol=1e-9, rtol=0))
    if aligned:
        xs = xs[xs <= size + 1e-9]
        xs[-1] = size
        verts, faces, loop = _grid_surface(design, xs, xs, base_um)
    else:
        verts, faces, _ = _grid_surface(design, xs, xs, base_um)
        verts, faces, loop = _clip(verts, faces, footprint.polygon(tolerance_um))
    verts, faces = _close(verts, faces, loop)
    mesh = trimesh.Trimesh(vertices=verts, faces=faces, process=False)
    mesh.metadata.update({"design": design.to_dict(), "base_um": base_um,
                          "footprint": {"shape": footprint.shape, "size_um": size},
                          "tolerance_um": tolerance_um, "units": "um"})
    log.debug("template mesh: %d vertices, %d faces", len(verts), len(faces))
    return mesh


def template_volume_um3(design: Surface, footprint: Footprint, base_um: float) -> float:
    """Analytic template volume for a square footprint of whole periods, µm³."""
    periods = footprint.size_um / design.period_um
    if footprint.shape != "square" or abs(periods - round(periods)) > 1e-9:
        raise ValueError("closed-form volume needs a square footprint of whole periods")
    return footprint.area_um2 * (base_um + design.height_um - design.mean_height_um())


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateOptions:
    """How the template solid is built around a design (µm)."""

    footprint: Footprint
    base_um: float = DEFAULT_BASE_UM
    tolerance_um: float = DEFAULT_TOLERANCE_UM

    @classmethod
    def for_design(cls, design: Surface, *, shape: str = "square", size_um: float | None = None,
                   base_um: float = DEFAULT_BASE_UM,
                   tolerance_um: float = DEFAULT_TOLERANCE_UM) -> TemplateOptions:
        """Options with the default footprint rule (whole periods closest to 3 mm)."""
        return cls(footprint=resolve_footprint(design, shape=shape, size_um=size_um),
                   base_um=base_um, tolerance_um=tolerance_um)
