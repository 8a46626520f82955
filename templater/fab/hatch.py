"""Fill one layer region: contour lines offset inwards plus clipped parallel hatch lines.

Solid fill (the default and only mode): the template is pressed at 400 MPa, so it is written
solid rather than as shell + scaffold. Contour i (i = 0 … n−1) is the boundary of the region
offset inwards by (i + ½)·h, so the written lines, each ~h wide, tile the band [0, n·h] from the
edge. Hatch lines at spacing h fill the region offset inwards by (n − ½)·h, i.e. they end on the
innermost contour line: the hatch lattice is not aligned with the boundary, so a larger inset
would leave an unwritten strip of up to h/2 between the innermost contour and the first hatch
line parallel to it. Hatch lines alternate direction line to line and lie on a lattice through
the local origin at the layer's hatch angle. A part of the hatch area that no hatch line crosses
(a feature narrower than the spacing) gets one line through its interior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["LayerFill", "fill_region", "hatch_angle_deg"]


@dataclass(frozen=True, slots=True, eq=False)
class LayerFill:
    """Lines of one layer, in writing order.

    Attributes
    ----------
    contours : tuple of (n, 2) float
        Closed contour polylines (first point repeated), outermost first, µm.
    hatches : (m, 2, 2) float
        Hatch segments (start, end), in meander order, µm.
    """

    contours: tuple[NDArray[np.float64], ...]
    hatches: NDArray[np.float64]


def hatch_angle_deg(layer_index: int, *, angle_deg: float, offset_deg: float) -> float:
    """Hatch direction of layer k: ``angle + k·offset`` modulo 180°."""
    return float((angle_deg + layer_index * offset_deg) % 180.0)


def _rings(geom: shapely.Geometry) -> list[NDArray[np.float64]]:
    """Exterior (CCW) and interior (CW) rings of every polygon in ``geom``."""
    out: list[NDArray[np.float64]] = []
    for poly in shapely.get_parts(geom):
        if not isinstance(poly, shapely.Polygon) or poly.is_empty:
            continue
        poly = shapely.orient_polygons(poly)
        out.append(np.asarray(poly.exterior.coords)[:, :2])
        out.extend(np.asarray(r.coords)[:, :2] for r in poly.interiors)
    return out


def _hatch_segments(area: shapely.Geometry, hatch_um: float,
                    angle_deg: float) -> NDArray[np.float64]:
    """Scanline fill: crossings of the lines c = j·h with the rings, paired by even-odd rule."""
    if area.is_empty:
        return np.zeros((0, 2, 2))
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    n = np.array([-math.sin(a), math.cos(a)])
    polys = shapely.get_parts(area)
    polys = polys[shapely.get_type_id(polys) == 3]
    rings = shapely.get_rings(polys)
    pts, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    p0, p1 = pts[:-1][same], pts[1:][same]
    c0, c1 = p0 @ n, p1 @ n
    s0, s1 = p0 @ u, p1 @ u
    lo, hi = np.minimum(c0, c1), np.maximum(c0, c1)
    # half-open rule lo <= c < hi: a line through a vertex is crossed exactly once per side
    j0 = np.ceil(lo / hatch_um).astype(np.int64)
    j1 = np.ceil(hi / hatch_um).astype(np.int64)
    cnt = np.maximum(j1 - j0, 0)
    if cnt.sum() == 0:
        return np.zeros((0, 2, 2))
    edge = np.repeat(np.arange(len(cnt)), cnt)
    j = j0[edge] + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    c = j * hatch_um
    t = (c - c0[edge]) / (c1[edge] - c0[edge])
    sc = s0[edge] + t * (s1[edge] - s0[edge])
    order = np.lexsort((sc, j))
    j, sc = j[order], sc[order]
    # consecutive crossings on one line pair up (enter, leave)
    starts = np.r_[True, j[1:] != j[:-1]]
    rank = np.arange(len(j)) - np.maximum.accumulate(np.where(starts, np.arange(len(j)), 0))
    enter = np.flatnonzero(rank % 2 == 0)
    enter = enter[(enter + 1 < len(j))]
    enter = enter[j[enter + 1] == j[enter]]
    jj, sa, sb = j[enter], sc[enter], sc[enter + 1]
    keep = sb > sa
    jj, sa, sb = jj[keep], sa[keep], sb[keep]
    odd = (jj % 2) != 0
    first = np.where(odd, sb, sa)
    second = np.where(odd, sa, sb)
    # meander: even lines run along +u, odd lines along -u (pieces in that order too)
    order = np.lexsort((np.where(odd, -sa, sa), jj))
    cc = (jj * hatch_um)[order]
    first, second = first[order], second[order]
    seg = np.stack([cc[:, None] * n + first[:, None] * u, cc[:, None] * n + second[:, None] * u],
                   axis=1)
    return seg


def fill_region(region: shapely.Geometry, *, hatch_um: float, contour_count: int,
                angle_deg: float) -> LayerFill:
    """Contours and hatch lines filling ``region`` (µm, any polygonal geometry).

    Parameters
    ----------
    region : shapely geometry
        Layer region, µm.
    hatch_um : float
        Hatch and contour spacing h, µm.
    contour_count : int
        Number n of contour lines (0 allowed: hatch lines then end h/2 inside the edge).
    angle_deg : float
        Hatch direction, degrees from +x.
    """
    if region.is_empty or region.area <= 0:
        return LayerFill((), np.zeros((0, 2, 2)))
    contours: list[NDArray[np.float64]] = []
    for i in range(contour_count):
        inset = region.buffer(-(i + 0.5) * hatch_um, join_style="mitre", mitre_limit=4.0)
        if inset.is_empty:
            break
        contours.extend(_rings(inset))
    inner = (contour_count - 0.5) * hatch_um if contour_count > 0 else 0.5 * hatch_um
    area = region.buffer(-inner, join_style="mitre", mitre_limit=4.0)
    segments = _hatch_segments(area, hatch_um, angle_deg)
    return LayerFill(tuple(contours), _centre_lines(area, segments, angle_deg))


def _centre_lines(area: shapely.Geometry, segments: NDArray[np.float64],
                  angle_deg: float) -> NDArray[np.float64]:
    """Add one line through each part of ``area`` that no hatch line crosses (features narrower
    than the hatch spacing would otherwise keep an unwritten core)."""
    parts = shapely.get_parts(area)
    parts = parts[(shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)]
    if len(parts) == 0:
        return segments
    if len(segments):
        hit = shapely.intersects(parts, shapely.multilinestrings(shapely.linestrings(segments)))
        parts = parts[~hit]
    a = math.radians(angle_deg)
    u = np.array([math.cos(a), math.sin(a)])
    extra = []
    for part in parts:
        p = shapely.get_coordinates(shapely.point_on_surface(part))[0]
        reach = math.hypot(part.bounds[2] - part.bounds[0], part.bounds[3] - part.bounds[1])
        cut = shapely.intersection(part, shapely.LineString([p - reach * u, p + reach * u]))
        pieces = [g for g in shapely.get_parts(cut) if g.geom_type == "LineString"]
        if pieces:
            c = np.asarray(max(pieces, key=lambda g: g.length).coords)
            extra.append([c[0], c[-1]])
    if not extra:
        return segments
    return np.concatenate([segments, np.asarray(extra, dtype=float)])
