"""``templater check DIR``: verify a job folder independently of the writer.

Re-reads the folder from disk: the STL (watertight, matching ``design.json``; a GWL-only job is
compared with the template rebuilt from ``design.json``), the GWL job via
:mod:`templater.fab.gwl_reader` (includes, header, field limits, z order, bounds, per-layer coverage
of the STL's exact cross-sections) and the sidecar ``NAME_job.json`` (totals, block table,
estimated time). Returns a list of problems, one line each; empty means a clean bill.

Coverage: per layer, the written lines buffered by hatch/2 against the STL cross-section,
IoU >= ``IOU_MIN`` (layers of features only a few hatch widths across may instead miss by at
most h/4 on average along the section's edge), and no line more than hatch/2 outside it.
Coverage is checked over the whole footprint for jobs of at most ``FULL_COVERAGE_PLACEMENTS``
block placements, otherwise in one window per distinct block file (its first placement, with
every neighbour that reaches into it), which checks each distinct block at every layer; the
placement bookkeeping (every placement's block, position and bounds) is checked for all.

Pellet-scale jobs (10 million facets and more): the STL is read in chunks of ``_CHUNK`` facets
and never held whole. Watertightness and winding are checked by counting directed edges over
quantised vertex keys; bounds and volume come from the same passes. Coverage slices only the
triangles whose xy bounds meet a window's band (the window and everything towards the nearer
footprint edge, where the even-odd rays go).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from tqdm import tqdm

from templater.fab.gwl_reader import Chunk, GwlError, Replay, read_job
from templater.fab.mesh import Footprint, build_template_mesh
from templater.geometry.errors import TemplaterError
from templater.geometry.registry import design_from_dict

__all__ = ["check_job", "section_polygon", "FULL_COVERAGE_PLACEMENTS", "IOU_MIN"]

FULL_COVERAGE_PLACEMENTS = 16
IOU_MIN = 0.98
_CHUNK = 1 << 20  # facets per read of the STL
_STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])
_EPS_UM = 2e-3  # 3-decimal output rounds by up to 0.5 nm per coordinate
_HEADER = ["invertzaxis", "galvoscanmode", "continuousmode", "piezosettlingtime",
           "galvoacceleration", "stagevelocity", "xoffset", "yoffset", "zoffset",
           "powerscaling", "laserpower", "scanspeed", "findinterfaceat"]


def _load_json(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: missing")
    except (OSError, ValueError) as exc:
        problems.append(f"{path}: unreadable ({exc})")
    return None


class _Solid:
    """The template solid as a triangle soup, read chunk by chunk: a binary STL file (never held
    in memory whole) or an in-memory (n, 3, 3) array (the rebuilt template of a GWL-only job).

    :meth:`scan` sets ``bounds`` (2, 3), ``volume`` (µm³) and ``finite``.
    """

    def __init__(self, path: Path | None = None, facets: int = 0,
                 triangles: NDArray[np.float64] | None = None) -> None:
        self.path = path
        self._triangles = triangles
        self.facets = len(triangles) if triangles is not None else facets
        self.bounds = np.zeros((2, 3))
        self.volume = 0.0
        self.finite = True

    def chunks(self) -> Iterator[NDArray[np.float64]]:
        """Consecutive triangles, (k, 3, 3) float64 µm, at most ``_CHUNK`` at a time."""
        size = _CHUNK
        if self._triangles is not None:
            for s in range(0, self.facets, size):
                yield np.asarray(self._triangles[s:s + size], dtype=np.float64)
            return
        with open(self.path, "rb") as f:
            f.seek(84)
            for s in range(0, self.facets, size):
                rec = np.fromfile(f, dtype=_STL_RECORD, count=min(size, self.facets - s))
                yield rec["v"].astype(np.float64)

    def scan(self, bar: tqdm) -> None:
        """Bounds, signed volume (divergence theorem) and finiteness in one pass."""
        lo, hi, six_v = np.full(3, np.inf), np.full(3, -np.inf), 0.0
        for t in self.chunks():
            if not np.isfinite(t).all():
                self.finite = False
                return
            flat = t.reshape(-1, 3)
            lo, hi = np.minimum(lo, flat.min(axis=0)), np.maximum(hi, flat.max(axis=0))
            a, b, c = t[:, 0], t[:, 1], t[:, 2]
            six_v += float((a[:, 0] * (b[:, 1] * c[:, 2] - b[:, 2] * c[:, 1])
                            + a[:, 1] * (b[:, 2] * c[:, 0] - b[:, 0] * c[:, 2])
                            + a[:, 2] * (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0])).sum())
            bar.update(len(t))
        self.bounds = np.array([lo, hi])
        self.volume = six_v / 6.0

    def edges_closed(self, bar: tqdm) -> tuple[bool, bool]:
        """(watertight, consistently wound): every edge is shared by exactly two facets, and
        they traverse it in opposite directions. Vertices are identified by their coordinates
        quantised on a grid of at most ~2^61 cells over the bounds (about 1 nm at 10 mm)."""
        n = self.facets
        lo, hi = self.bounds
        span = np.maximum(hi - lo, 0.0)
        q = max((float(np.prod(span + 1e-9)) / 2.0**61) ** (1.0 / 3.0), 1e-7)
        dims = np.floor(span / q).astype(np.int64) + 2
        keys = np.zeros(3 * n, dtype=np.int64)
        s = 0
        for t in self.chunks():
            iq = np.rint((t.reshape(-1, 3) - lo) / q).astype(np.int64)
            keys[s:s + len(iq)] = (iq[:, 0] * dims[1] + iq[:, 1]) * dims[2] + iq[:, 2]
            s += len(iq)
            bar.update(len(t))
        uniq = np.sort(keys)
        uniq = uniq[np.r_[True, uniq[1:] != uniq[:-1]]]
        nv = len(uniq)
        # one key per directed edge: undirected edge (lo id, hi id) * 2 + (direction)
        edges = np.zeros(3 * n, dtype=np.int64)
        for s in range(0, 3 * n, 3 * _CHUNK):
            ids = np.searchsorted(uniq, keys[s:s + 3 * _CHUNK]).reshape(-1, 3)
            nxt = ids[:, [1, 2, 0]]
            edges[s:s + ids.size] = ((np.minimum(ids, nxt) * nv + np.maximum(ids, nxt)) * 2
                                     + (ids > nxt)).ravel()
            bar.update(len(ids))
        del keys, uniq
        edges.sort()
        if len(edges) % 2 == 0 and not np.any(edges[0::2] & 1) \
                and np.array_equal(edges[1::2], edges[0::2] + 1):
            return True, True
        _, counts = np.unique(edges >> 1, return_counts=True)
        return bool(np.all(counts == 2)), False

    def select(self, boxes: list[tuple[float, float, float, float]],
               bar: tqdm) -> list[NDArray[np.float64]]:
        """Per box (x0, y0, x1, y1), the triangles whose xy bounding box meets it."""
        out: list[list[NDArray[np.float64]]] = [[] for _ in boxes]
        for t in self.chunks():
            x, y = t[:, :, 0], t[:, :, 1]
            xmin, xmax, ymin, ymax = x.min(axis=1), x.max(axis=1), y.min(axis=1), y.max(axis=1)
            for k, (x0, y0, x1, y1) in enumerate(boxes):
                m = (xmax >= x0) & (xmin <= x1) & (ymax >= y0) & (ymin <= y1)
                if m.any():
                    out[k].append(t[m])
            bar.update(len(t))
        return [np.concatenate(o) if o else np.zeros((0, 3, 3)) for o in out]


def _bar(progress: bool, desc: str, total: float | None = None, unit: str = "it") -> tqdm:
    """A tqdm bar on stderr, shown only with ``progress`` and a terminal on stderr."""
    return tqdm(desc=desc, total=total, unit=unit, unit_scale=True, file=sys.stderr,
                disable=not (progress and sys.stderr.isatty()), leave=False, dynamic_ncols=True)


def _check_stl(folder: Path, record: dict[str, Any], problems: list[str],
               progress: bool = False) -> _Solid | None:
    name = record.get("name", "")
    path = folder / f"{name}.stl"
    if not path.is_file():
        problems.append(f"{path}: missing")
        return None
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(84)
    n = int.from_bytes(head[80:84], "little") if len(head) >= 84 else -1
    if head[:5].lower() == b"solid" or size != 84 + 50 * n:
        problems.append(f"{path}: not a well-formed binary STL ({size} bytes, {n} facets)")
        return None
    if n == 0:
        problems.append(f"{path}: no facets")
        return None
    solid = _Solid(path, n)
    with _bar(progress, "check STL", total=3 * n, unit="facet") as bar:
        solid.scan(bar)
        if not solid.finite:
            problems.append(f"{path}: cannot be loaded (non-finite coordinates)")
            return None
        watertight, winding = solid.edges_closed(bar)
    if not (watertight and winding and solid.volume > 0):
        problems.append(f"{path}: not a closed, consistently wound volume (watertight="
                        f"{watertight}, winding={winding}, volume={solid.volume:.6g} um^3)")
    tmpl = record.get("template", {})
    try:
        design = design_from_dict(record["design"])
        size_um = float(tmpl["footprint"]["size_um"])
        base = float(tmpl["base_um"])
    except (KeyError, TypeError, ValueError, TemplaterError) as exc:
        problems.append(f"{folder / 'design.json'}: invalid design record ({exc})")
        return solid
    slack = float(tmpl.get("tolerance_um", 0.0)) + _EPS_UM
    expected = np.array([[0.0, 0.0, 0.0], [size_um, size_um, base + design.height_um]])
    if not np.allclose(solid.bounds, expected, atol=slack, rtol=0.0):
        problems.append(f"{path}: bounds {np.round(solid.bounds, 3).tolist()} um do not match "
                        f"design.json (expected {expected.tolist()} um)")
    if n != tmpl.get("facets", n):
        problems.append(f"{path}: {n} facets, design.json says {tmpl['facets']}")
    vol = tmpl.get("volume_um3")
    if vol is not None and not math.isclose(solid.volume, vol, rel_tol=1e-6):
        problems.append(f"{path}: volume {solid.volume:.6g} um^3, design.json says {vol:.6g}")
    return solid


def _rebuild_mesh(record: dict[str, Any], problems: list[str]) -> _Solid | None:
    try:
        tmpl = record["template"]
        design = design_from_dict(record["design"])
        fp = Footprint(shape=tmpl["footprint"]["shape"], size_um=tmpl["footprint"]["size_um"])
        mesh = build_template_mesh(design, footprint=fp, base_um=tmpl["base_um"],
                                   tolerance_um=tmpl["tolerance_um"])
    except (KeyError, TypeError, ValueError, TemplaterError) as exc:
        problems.append(f"design.json: cannot rebuild the template ({exc})")
        return None
    solid = _Solid(triangles=np.asarray(mesh.triangles, dtype=np.float64))
    with _bar(False, "") as bar:
        solid.scan(bar)
    return solid


def section_polygon(lines_2d: NDArray[np.float64], window: shapely.Polygon,
                    ray: int = 1) -> shapely.Geometry:
    """Cross-section inside ``window`` from closed section segments (k, 2, 2), µm.

    Faces of the segments (noded with the window edge) are kept when a ray from an interior
    point crosses the segments an odd number of times (even-odd rule). The ray goes towards +x
    (``ray`` = 1) or -x (-1): the segments must be complete on that side of the window.
    """
    x0, y0, x1, y1 = window.bounds
    seg = lines_2d
    lo, hi = seg.min(axis=1), seg.max(axis=1)
    near = (hi[:, 0] >= x0) & (lo[:, 0] <= x1) & (hi[:, 1] >= y0) & (lo[:, 1] <= y1)
    inside = shapely.intersection(shapely.multilinestrings(seg[near]), window) \
        if near.any() else shapely.LineString()
    noded = shapely.union(inside, window.boundary)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    if len(faces) == 0:
        return shapely.Polygon()
    pts = shapely.get_coordinates(shapely.point_on_surface(faces))
    keep = _odd_crossings(pts, seg, ray)
    return shapely.union_all(faces[keep]) if keep.any() else shapely.Polygon()


def _odd_crossings(pts: NDArray[np.float64], seg: NDArray[np.float64],
                   ray: int = 1) -> NDArray[np.bool_]:
    if len(seg) == 0:
        return np.zeros(len(pts), dtype=bool)
    ax, ay, bx, by = seg[:, 0, 0], seg[:, 0, 1], seg[:, 1, 0], seg[:, 1, 1]
    out = np.zeros(len(pts), dtype=bool)
    for i, (px, py) in enumerate(pts):
        span = (ay > py) != (by > py)
        xc = ax[span] + (py - ay[span]) * (bx[span] - ax[span]) / (by[span] - ay[span])
        out[i] = bool(np.count_nonzero(xc > px if ray > 0 else xc < px) % 2)
    return out


def _slice(tri: NDArray[np.float64], heights: list[float]) -> dict[float, NDArray[np.float64]]:
    """Section segments (k, 2, 2), global xy, of a triangle soup at each height; layers below
    z = 0 use z = 1 nm.

    Each plane sits 10 pm below its layer so that vertices exactly at the layer height
    (saddles, plateaus) do not produce degenerate sections. A vertex is above the plane or not
    (never on it), and an edge's crossing is interpolated from its lower to its upper vertex,
    so the two facets of an edge give bit-identical points and the segments close exactly.
    """
    zmin, zmax = tri[:, :, 2].min(axis=1), tri[:, :, 2].max(axis=1)
    out = {}
    for z in heights:
        zp = max(z, 1e-3) - 1e-5
        t = tri[(zmin <= zp) & (zmax > zp)]
        d = t[:, :, 2] - zp
        up = d > 0
        pts, cut = [], []
        with np.errstate(divide="ignore", invalid="ignore"):
            for i, j in ((0, 1), (1, 2), (2, 0)):
                ui = up[:, i:i + 1]
                lo = np.where(ui, t[:, j, :2], t[:, i, :2])
                hi = np.where(ui, t[:, i, :2], t[:, j, :2])
                dlo = np.where(up[:, i], d[:, j], d[:, i])
                dhi = np.where(up[:, i], d[:, i], d[:, j])
                pts.append(lo + (hi - lo) * (dlo / (dlo - dhi))[:, None])
                cut.append(up[:, i] != up[:, j])
        p = np.stack(pts, axis=1)
        out[z] = p[np.stack(cut, axis=1)].reshape(-1, 2, 2)
    return out


def _sections(mesh: Any, heights: list[float]) -> dict[float, NDArray[np.float64]]:
    """Section segments (global xy) of a mesh (anything with ``triangles``) at each height,
    as :func:`_slice`."""
    return _slice(np.asarray(mesh.triangles, dtype=np.float64), heights)


def _poly_z(chunk: Chunk) -> NDArray[np.float64]:
    f = chunk.file
    return f.points[f.starts[chunk.first:chunk.stop], 2] + chunk.translation_um[2]


def _fill(mask_rows: int, cols: int, row: NDArray, lo: NDArray, hi: NDArray,
          x0: float, pix: float) -> NDArray[np.bool_]:
    """Raster of x-intervals [lo, hi] on rows ``row`` (pixel centres inside count)."""
    a = np.clip(np.ceil((lo - x0) / pix - 0.5), 0, cols).astype(np.int64)
    b = np.clip(np.floor((hi - x0) / pix - 0.5) + 1, 0, cols).astype(np.int64)
    ok = b > a
    n = mask_rows * (cols + 1)
    flat = np.bincount(row[ok] * (cols + 1) + a[ok], minlength=n) \
        - np.bincount(row[ok] * (cols + 1) + b[ok], minlength=n)
    return np.cumsum(flat.reshape(mask_rows, cols + 1), axis=1)[:, :cols] > 0


def _rows_of(ymin: NDArray, ymax: NDArray, y0: float, pix: float,
             nrows: int) -> tuple[NDArray, NDArray]:
    """(item, row) pairs for rows whose centre lies in [ymin, ymax]."""
    r0 = np.clip(np.ceil((ymin - y0) / pix - 0.5), 0, nrows).astype(np.int64)
    r1 = np.clip(np.floor((ymax - y0) / pix - 0.5) + 1, 0, nrows).astype(np.int64)
    cnt = np.maximum(r1 - r0, 0)
    item = np.repeat(np.arange(len(cnt)), cnt)
    row = r0[item] + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return item, row


def _capsule_raster(seg: NDArray, radius: float, x0: float, y0: float, pix: float,
                    shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Pixels within ``radius`` of any segment (k, 2, 2): exact row intervals of capsules."""
    nrows, cols = shape
    a, b = seg[:, 0], seg[:, 1]
    item, row = _rows_of(np.minimum(a[:, 1], b[:, 1]) - radius,
                         np.maximum(a[:, 1], b[:, 1]) + radius, y0, pix, nrows)
    y = y0 + (row + 0.5) * pix
    ax, ay, bx, by = a[item, 0], a[item, 1], b[item, 0], b[item, 1]
    lo = np.full(len(item), np.inf)
    hi = np.full(len(item), -np.inf)
    for px, py in ((ax, ay), (bx, by)):  # the end disks
        w = y - py
        inside = np.abs(w) <= radius
        h = np.sqrt(np.maximum(radius * radius - w * w, 0.0))
        lo = np.where(inside, np.minimum(lo, px - h), lo)
        hi = np.where(inside, np.maximum(hi, px + h), hi)
    ex, ey = bx - ax, by - ay
    ll = ex * ex + ey * ey
    length = np.sqrt(ll)
    w = y - ay
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 <= (P - A)·e <= |e|²  and  |e × (P - A)| <= r|e|, both linear in x
        c1a = (ax * ex - w * ey) / ex
        c1b = (ll + ax * ex - w * ey) / ex
        k = ex * w + ey * ax
        c2a = (k - radius * length) / ey
        c2b = (k + radius * length) / ey
    l1 = np.where(ex != 0, np.minimum(c1a, c1b), np.where((w * ey >= 0) & (w * ey <= ll),
                                                            -np.inf, np.inf))
    h1 = np.where(ex != 0, np.maximum(c1a, c1b), np.where((w * ey >= 0) & (w * ey <= ll),
                                                            np.inf, -np.inf))
    l2 = np.where(ey != 0, np.minimum(c2a, c2b), np.where(np.abs(w) <= radius, -np.inf, np.inf))
    h2 = np.where(ey != 0, np.maximum(c2a, c2b), np.where(np.abs(w) <= radius, np.inf, -np.inf))
    rl, rh = np.maximum(l1, l2), np.minimum(h1, h2)
    rect = (rl <= rh) & (ll > 0)
    lo = np.where(rect, np.minimum(lo, rl), lo)
    hi = np.where(rect, np.maximum(hi, rh), hi)
    return _fill(nrows, cols, row, lo, hi, x0, pix)


def _section_raster(seg: NDArray, x0: float, y0: float, pix: float,
                    shape: tuple[int, int], ray: int = 1) -> NDArray[np.bool_]:
    """Pixels inside closed section segments (even-odd scanline). The segments must be complete
    towards +x (``ray`` = 1) or -x (-1) of the window; a row with an odd number of crossings
    lacks one on the other side, put just outside the window."""
    nrows, cols = shape
    if len(seg) == 0:
        return np.zeros(shape, dtype=bool)
    a, b = seg[:, 0], seg[:, 1]
    ylo, yhi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    # half-open [ylo, yhi): rows through a shared vertex count one crossing
    item, row = _rows_of(ylo, yhi, y0, pix, nrows)
    y = y0 + (row + 0.5) * pix
    keep = (y >= ylo[item]) & (y < yhi[item])
    item, row, y = item[keep], row[keep], y[keep]
    t = (y - a[item, 1]) / (b[item, 1] - a[item, 1])
    x = a[item, 0] + t * (b[item, 0] - a[item, 0])
    odd = np.flatnonzero(np.bincount(row, minlength=nrows) % 2)
    if len(odd):
        row = np.r_[row, odd]
        x = np.r_[x, np.full(len(odd), x0 - pix if ray > 0 else x0 + (cols + 1) * pix)]
    order = np.lexsort((x, row))
    row, x = row[order], x[order]
    first = np.r_[True, row[1:] != row[:-1]]
    rank = np.arange(len(row)) - np.maximum.accumulate(np.where(first, np.arange(len(row)), 0))
    enter = np.flatnonzero(rank % 2 == 0)
    enter = enter[enter + 1 < len(row)]
    enter = enter[row[enter + 1] == row[enter]]
    return _fill(nrows, cols, row[enter], x[enter], x[enter + 1], x0, pix)


def _chunk_segments(chunk: Chunk) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Written segments of a chunk in global xy, (k, 2, 2), and their z, (k,)."""
    f = chunk.file
    i0, i1 = int(f.starts[chunk.first]), int(f.ends[chunk.stop - 1])
    pts = f.points[i0:i1] + chunk.translation_um
    inside = np.ones(max(len(pts) - 1, 0), dtype=bool)
    jumps = f.ends[chunk.first:chunk.stop - 1] - 1 - i0
    inside[jumps] = False
    seg = np.stack([pts[:-1, :2], pts[1:, :2]], axis=1)[inside]
    return seg, np.round(pts[:-1, 2][inside], 6)


def _coverage(replay: Replay, solid: _Solid, hatch_um: float, expected_z: list[float],
              problems: list[str], progress: bool = False) -> None:
    placements: dict[int, list[Chunk]] = {}
    for c in replay.chunks:
        placements.setdefault(c.placement, []).append(c)
    # placement bookkeeping: every placement's xy bounds from its block's local bounds
    local: dict[tuple, tuple | None] = {}
    bounds = {}
    for p, chunks in placements.items():
        lo, hi = np.full(2, np.inf), np.full(2, -np.inf)
        for c in chunks:
            key = (id(c.file), c.first, c.stop)
            if key not in local:
                pts = c.points_local
                local[key] = (pts[:, :2].min(axis=0), pts[:, :2].max(axis=0)) if len(pts) \
                    else None
            if local[key] is not None:
                lo = np.minimum(lo, local[key][0] + c.translation_um[:2])
                hi = np.maximum(hi, local[key][1] + c.translation_um[:2])
        if np.all(lo <= hi):
            bounds[p] = (*lo, *hi)
    b = solid.bounds
    if len(placements) <= FULL_COVERAGE_PLACEMENTS:
        windows = [(b[0, 0] - 1.0, b[0, 1] - 1.0, b[1, 0] + 1.0, b[1, 1] + 1.0)]
    else:
        first: dict[int, int] = {}
        for p, chunks in sorted(placements.items()):
            if p in bounds:
                first.setdefault(id(chunks[0].file), p)
        windows = [bounds[p] for p in sorted(first.values())]
    zs: set[float] = set()
    seen_z: set[tuple] = set()
    for c in replay.chunks:
        key = (id(c.file), c.first, c.stop, round(float(c.translation_um[2]), 9))
        if key not in seen_z:
            seen_z.add(key)
            zs.update(np.round(np.unique(_poly_z(c)), 6).tolist())
    layer_z = sorted(zs | {round(z, 6) for z in expected_z})
    # each window needs the STL's triangles over it and, for the even-odd rule, everything
    # towards the nearer footprint edge (rays go that way)
    mid_x = 0.5 * (b[0, 0] + b[1, 0])
    margin = hatch_um + 1.0
    rays = [1 if 0.5 * (wb[0] + wb[2]) >= mid_x else -1 for wb in windows]
    boxes = [(wb[0] - margin, wb[1] - margin, np.inf, wb[3] + margin) if ray > 0
             else (-np.inf, wb[1] - margin, wb[2] + margin, wb[3] + margin)
             for wb, ray in zip(windows, rays, strict=True)]
    with _bar(progress, "check coverage: STL", total=solid.facets, unit="facet") as bar:
        triangles = solid.select(boxes, bar)
    pix = 0.5 * hatch_um
    with _bar(progress, "check coverage", total=len(windows) * len(layer_z),
              unit="layer") as bar:
        for wb, ray, tri in zip(windows, rays, triangles, strict=True):
            _window_coverage(placements, bounds, wb, ray, _slice(tri, layer_z), layer_z,
                             hatch_um, pix, problems, bar)


def _window_coverage(placements: dict[int, list[Chunk]], bounds: dict[int, tuple],
                     wb: tuple, ray: int, sections: dict[float, NDArray[np.float64]],
                     layer_z: list[float], hatch_um: float, pix: float, problems: list[str],
                     bar: tqdm) -> None:
    # an irrational sub-pixel offset keeps axis-parallel edges off the pixel-centre lines
    x0, y0, x1, y1 = wb[0] - 0.382 * pix, wb[1] - 0.236 * pix, wb[2], wb[3]
    shape = (math.ceil((y1 - y0) / pix), math.ceil((x1 - x0) / pix))
    w = shapely.box(x0, y0, x0 + shape[1] * pix, y0 + shape[0] * pix)
    wx = shapely.buffer(w, hatch_um, join_style="mitre")
    near = [c for p, cs in placements.items()
            if p in bounds and shapely.intersects(shapely.box(*bounds[p]), wx) for c in cs]
    parts = [_chunk_segments(c) for c in near]
    segs = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 2, 2))
    segz = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    for z in layer_z:
        bar.update(1)
        seg = segs[segz == z]
        sz = sections[z]
        sec = _section_raster(sz, x0, y0, pix, shape, ray)
        if len(seg):
            cov = _capsule_raster(seg, 0.5 * hatch_um, x0, y0, pix, shape)
        else:
            cov = np.zeros(shape, dtype=bool)
        inter = np.count_nonzero(cov & sec)
        union = np.count_nonzero(cov | sec)
        iou = inter / union if union else 1.0
        # tiny layers (features of a few hatch widths) may miss by h/4 along their edge
        mid = 0.5 * (sz[:, 0] + sz[:, 1])
        inw = (mid[:, 0] >= x0) & (mid[:, 0] <= x1) & (mid[:, 1] >= y0) & (mid[:, 1] <= y1)
        perimeter = float(np.linalg.norm(sz[inw, 1] - sz[inw, 0], axis=1).sum())
        slack = max(4 * hatch_um**2, 0.25 * hatch_um * perimeter)
        if iou < IOU_MIN and (union - inter) * pix * pix > slack:
            problems.append(f"coverage: layer z = {z:.3f} um: IoU {iou:.4f} < {IOU_MIN} in "
                            f"window {np.round(wb, 1).tolist()}")
        if not len(seg):
            continue
        allowed = shapely.buffer(section_polygon(sz, wx, ray), 0.5 * hatch_um + _EPS_UM)
        shapely.prepare(allowed)
        lines = shapely.linestrings(seg)
        bad = lines[~shapely.covered_by(lines, allowed)]
        out = shapely.difference(shapely.intersection(bad, w), allowed)
        length = float(shapely.length(out).sum()) if len(bad) else 0.0
        if length > _EPS_UM:
            problems.append(f"coverage: layer z = {z:.3f} um: {length:.3f} um of lines "
                            f"more than hatch/2 outside the cross-section")


def _check_header(replay: Replay, problems: list[str]) -> None:
    names = [c[2] for c in replay.commands]
    head = [n for n in names[: names.index("newstructure")] if n in _HEADER] \
        if "newstructure" in names else [n for n in names if n in _HEADER]
    if head[: len(_HEADER)] != _HEADER:
        problems.append(f"{replay.job_path}: header order {head[:len(_HEADER)]} differs from "
                        f"{_HEADER}")
    values = {c[2]: c[3] for c in replay.commands}
    limits = {"laserpower": (0.0, 100.0), "powerscaling": (0.0, 1.2),
              "scanspeed": (1e-9, 100000.0), "galvoacceleration": (0.1, 10.0),
              "invertzaxis": (1.0, 1.0)}
    for key, (lo, hi) in limits.items():
        v = values.get(key)
        if v is not None and not lo <= v <= hi:
            problems.append(f"{replay.job_path}: {key} {v:g} outside [{lo:g}, {hi:g}]")


def _check_z_reference(side: dict[str, Any], replay: Replay, anchor: float,
                       problems: list[str]) -> None:
    """One z convention: every ``FindInterfaceAt`` puts the interface at the sidecar's
    ``interface_z_um``; the first layer lies the documented depth below it."""
    gwl = side.get("gwl", {})
    iface = float(gwl.get("interface_z_um", anchor))
    below = float(gwl.get("first_layer_below_interface_um", anchor))
    values = replay.find_interface_at_um
    if not values:
        problems.append(f"{replay.job_path}: no FindInterfaceAt")
    elif any(abs(v - iface) > _EPS_UM for v in values):
        problems.append(f"{replay.job_path}: FindInterfaceAt {sorted(set(values))}, the sidecar "
                        f"says the interface is at z = {iface:g} um")
    z0 = min((float(c.file.points[c.file.starts[c.first], 2] + c.translation_um[2])
              for c in replay.chunks if c.stop > c.first), default=math.nan)
    found = max(values, default=iface)  # where the job itself puts the interface
    if not abs((z0 - found) + below) <= _EPS_UM:
        problems.append(f"{replay.job_path}: first layer at z = {z0:.3f} um is "
                        f"{found - z0:.3f} um below the interface (FindInterfaceAt "
                        f"{found:g} um); the sidecar documents {below:g} um")


def _check_stage_moves(replay: Replay, problems: list[str]) -> None:
    """No zero stage moves; every block approached moving +x and +y (backlash)."""
    events = [(no, name, arg) for path, no, name, arg in replay.commands
              if name in ("movestagex", "movestagey") and path == replay.job_path]
    for no, name, arg in events:
        if arg == 0:
            problems.append(f"{replay.job_path}:{no}: zero stage move ({name})")
    events += [(no, "include", None) for path, no, _ in replay.includes
               if path == replay.job_path]
    last = {"movestagex": 0.0, "movestagey": 0.0}
    for no, name, arg in sorted(events, key=lambda e: e[0]):
        if name == "include":
            if last["movestagex"] < 0 or last["movestagey"] < 0:
                problems.append(f"{replay.job_path}:{no}: block approached moving -x or -y "
                                "(backlash: approach every block moving +x and +y)")
        elif arg:
            last[name] = arg


def _check_gwl(folder: Path, side: dict[str, Any], replay: Replay, mesh: _Solid | None,
               problems: list[str], progress: bool = False) -> None:
    prof = side.get("printer", {})
    hatch = float(prof.get("hatch_um", 0.5))
    anchor = float(prof.get("anchor_um", 0.5))
    slice_um = float(prof.get("slice_um", 1.0))
    radius = 0.5 * float(prof.get("field_diameter_um", 400.0)) \
        - float(prof.get("field_margin_um", 0.0))
    field_z = float(prof.get("field_z_um", 280.0))
    _check_header(replay, problems)
    _check_z_reference(side, replay, anchor, problems)
    _check_stage_moves(replay, problems)
    max_points = int(prof.get("max_points_per_write", 0))
    for path, gfile in replay.files.items() if max_points else ():
        sizes = gfile.ends - gfile.starts
        if len(sizes) and sizes.max() > max_points:
            k = int(np.argmax(sizes))
            problems.append(f"{path}:{int(gfile.poly_lines[k])}: {int(sizes[k])} points in one "
                            f"Write, the profile allows {max_points}")
    if np.any(np.abs(replay.stage_end_um) > _EPS_UM):
        problems.append(f"{replay.job_path}: the stage ends at "
                        f"{np.round(replay.stage_end_um, 3).tolist()} um, not at its start")
    # includes: every block file used, as often as the sidecar says
    used: dict[Path, int] = {}
    for _, _, target in replay.includes:
        used[target.resolve()] = used.get(target.resolve(), 0) + 1
    files_dir = folder / side.get("gwl", {}).get("files_dir", "")
    for f in sorted(files_dir.glob("*.gwl")) if files_dir.is_dir() else []:
        if f.resolve() not in used:
            problems.append(f"{f}: block file never included")
    for block in side.get("blocks", []):
        path = (folder / block["file"].replace("\\", "/")).resolve()
        if used.get(path, 0) != block["placements"]:
            problems.append(f"{path}: included {used.get(path, 0)} times, sidecar says "
                            f"{block['placements']}")
        gfile = replay.files.get(path)
        if gfile is None:
            continue
        segs = int((gfile.ends - gfile.starts - 1).sum())
        length = float(gfile.poly_lengths.sum())
        if segs != block["segments"] or not math.isclose(length, block["write_length_um"],
                                                         rel_tol=1e-6, abs_tol=1e-6):
            problems.append(f"{path}: {segs} segments, {length:.3f} um written; sidecar says "
                            f"{block['segments']}, {block['write_length_um']:.3f} um")
    # z order and field limits, per file and per distinct field offset
    for path, gfile in replay.files.items():
        if len(gfile.points) and np.any(np.diff(gfile.points[:, 2]) < -1e-9):
            k = int(np.argmax(np.diff(gfile.points[:, 2]) < -1e-9)) + 1
            problems.append(f"{path}: z decreases at point {k + 1} (writing must go upwards)")
    seen = set()
    for c in replay.chunks:
        key = (id(c.file), c.first, c.stop, *np.round(c.field_offset_um, 6).tolist())
        if key in seen:
            continue
        seen.add(key)
        pts = c.points_local
        xy = pts[:, :2] + c.field_offset_um[:2]
        r = float(np.sqrt((xy * xy).sum(axis=1)).max())
        if r > radius + _EPS_UM:
            problems.append(f"{c.file.path}: points reach {r:.3f} um from the field centre, "
                            f"beyond the usable field radius {radius:g} um (field radius less "
                            "the margin)")
        z = pts[:, 2] + c.field_offset_um[2]
        if z.min() < -_EPS_UM or z.max() > field_z + _EPS_UM:
            problems.append(f"{c.file.path}: z in [{z.min():.3f}, {z.max():.3f}] um, outside "
                            f"[0, {field_z:g}] um")
    totals = replay.totals()
    # sidecar totals and time
    st = side.get("totals", {})
    for key in ("polylines", "segments", "placements"):
        if st.get(key) != totals[key]:
            problems.append(f"sidecar: {key} = {st.get(key)}, replayed {totals[key]}")
    if not math.isclose(st.get("write_length_um", -1.0), totals["write_length_um"],
                        rel_tol=1e-6):
        problems.append(f"sidecar: write length {st.get('write_length_um')} um, replayed "
                        f"{totals['write_length_um']:.6f} um")
    if st.get("layers_written") != totals["layers"]:
        problems.append(f"sidecar: layers_written = {st.get('layers_written')}, replayed "
                        f"{totals['layers']}")
    est = side.get("estimate", {})
    t = (totals["write_time_s"] + totals["polylines"] * prof.get("line_overhead_s", 0.0)
         + totals["layers"] * prof.get("layer_overhead_s", 0.0)
         + totals["placements"] * prof.get("block_overhead_s", 0.0))
    if not math.isclose(est.get("total_s", -1.0), t, rel_tol=1e-6):
        problems.append(f"sidecar: estimated time {est.get('total_s')} s, replayed {t:.3f} s")
    if mesh is None:
        return
    # bounds versus the STL
    lo, hi = np.asarray(totals["bounds_um"][0]), np.asarray(totals["bounds_um"][1])
    slo, shi = mesh.bounds
    tol = 0.5 * hatch + _EPS_UM
    if np.any(lo[:2] < slo[:2] - _EPS_UM) or np.any(lo[:2] > slo[:2] + tol) \
            or np.any(hi[:2] > shi[:2] + _EPS_UM) or np.any(hi[:2] < shi[:2] - tol):
        problems.append(f"bounds: written xy {np.round([lo[:2], hi[:2]], 3).tolist()} um vs STL "
                        f"{np.round([slo[:2], shi[:2]], 3).tolist()} um (allowed: hatch/2 inside)")
    if abs(lo[2] - slo[2]) > _EPS_UM:
        problems.append(f"bounds: lowest layer z = {lo[2]:.3f} um, expected the STL bottom "
                        f"{slo[2]:.3f} um (FindInterfaceAt alone anchors it {anchor:g} um deep)")
    if hi[2] > shi[2] + _EPS_UM or hi[2] < shi[2] - slice_um - _EPS_UM:
        problems.append(f"bounds: highest layer z = {hi[2]:.3f} um, STL top {shi[2]:.3f} um "
                        f"(allowed: within one slice {slice_um:g} um below)")
    # every layer of the STL from its bottom up, whether written or not
    n = math.floor((shi[2] - slo[2]) / slice_um + 1e-9) + 1
    expected = [slo[2] + k * slice_um for k in range(n)]
    _coverage(replay, mesh, hatch, expected, problems, progress)


def check_job(folder: Path | str, *, progress: bool = False) -> list[str]:
    """Problems found in a job folder (empty list: clean).

    Parameters
    ----------
    folder : path
        A folder written by ``templater make`` (``design.json``, ``NAME.stl`` and, for GWL,
        ``NAME_job.gwl``, ``NAME_files/``, ``NAME_job.json``) or by ``templater dose-test``
        (``NAME_dose_job.gwl``, ``NAME_dose_files/``, ``NAME_dose_job.json``; ``NAME.stl`` is one
        patch).
    progress : bool
        Show tqdm progress bars on stderr for the long steps (reading the STL, coverage);
        they show only when stderr is a terminal.
    """
    folder = Path(folder)
    problems: list[str] = []
    if not folder.is_dir():
        return [f"{folder}: not a folder"]
    record = _load_json(folder / "design.json", problems)
    if record is None:
        return problems
    name = record.get("name", "")
    if record.get("outputs") == ["gwl"] and not (folder / f"{name}.stl").exists():
        mesh = _rebuild_mesh(record, problems)  # GWL-only job: the STL it would have had
    else:
        mesh = _check_stl(folder, record, problems, progress)
    dose = folder / f"{name}_dose_job.json"
    if dose.exists():  # a dose test (templater dose-test)
        _check_dose(folder, record, mesh, dose, problems, progress)
    job = folder / f"{name}_job.gwl"
    if not job.exists():
        return problems  # an STL-only job or a dose test
    side = _load_json(folder / f"{name}_job.json", problems)
    try:
        replay = read_job(job)
    except GwlError as exc:
        problems.append(str(exc))
        return problems
    if side is None:
        return problems
    if side.get("design") != record.get("design"):
        problems.append("sidecar: design differs from design.json")
    _check_gwl(folder, side, replay, mesh, problems, progress)
    return problems


# --- dose-test folders (templater dose-test) -----------------------------------------------------
def _dose_sub_replay(replay: Replay, placements: set[int],
                     origin: NDArray[np.float64]) -> Replay:
    """The chunks and includes of some top-level placements, moved by ``-origin`` (xy)."""
    from dataclasses import replace

    shift = np.array([origin[0], origin[1], 0.0])
    chunks = [replace(c, translation_um=c.translation_um - shift, stage_um=c.stage_um - shift[:2])
              for c in replay.chunks if c.placement in placements]
    top = [inc for inc in replay.includes if inc[0] == replay.job_path]
    includes = [inc for k, inc in enumerate(top, 1) if k in placements]
    return replace(replay, chunks=chunks, includes=includes)


def _check_dose(folder: Path, record: dict[str, Any], mesh: _Solid | None,
                side_path: Path, problems: list[str], progress: bool = False) -> None:
    """A dose-test folder: the whole job as any job (without the STL comparison), every patch's
    settings and grid position against the sidecar, every patch the same print relative to its
    origin, patches apart, and the first patch against the STL (bounds, coverage, time)."""
    side = _load_json(side_path, problems)
    if side is None:
        return
    job_file = str(side.get("gwl", {}).get("job_file", ""))
    if not job_file or Path(job_file).name != job_file:
        problems.append(f"{side_path}: gwl.job_file {job_file!r} is not a file name")
        return
    try:
        replay = read_job(folder / job_file)
    except GwlError as exc:
        problems.append(str(exc))
        return
    if side.get("design") != record.get("design"):
        problems.append("sidecar: design differs from design.json")
    _check_gwl(folder, side, replay, None, problems)
    dose = side.get("dose_test", {})
    try:
        powers = [float(p) for p in dose["laser_powers_percent"]]
        speeds = [float(v) for v in dose["scan_speeds_um_s"]]
        pitch, size = float(dose["pitch_um"]), float(dose["patch_size_um"])
        patches = list(dose["patches"])
        fp = record["template"]["footprint"]
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"{side_path}: invalid dose_test record ({exc})")
        return
    if fp.get("shape") != "square" or not math.isclose(float(fp.get("size_um", -1)), size):
        problems.append(f"{side_path}: patch size {size:g} um, design.json footprint {fp}")
    if pitch <= size:
        problems.append(f"{side_path}: patch pitch {pitch:g} um leaves no gap between "
                        f"{size:g} um patches")
    n_top = sum(1 for inc in replay.includes if inc[0] == replay.job_path)
    seen_cells: set[tuple[int, int]] = set()
    seen_placements: list[int] = []
    reference = None
    subs = []
    for p in patches:
        label = f"patch {p.get('number')}"
        try:
            row, col = int(p["row"]), int(p["column"])
            power, speed = float(p["laser_power_percent"]), float(p["scan_speed_um_s"])
            origin = np.asarray(p["origin_um"], dtype=float)
            centre = np.asarray(p["centre_um"], dtype=float)
            placements = [int(k) for k in p["placements"]]
            ratio, est = float(p["p2_over_v"]), float(p["estimate_s"])
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{side_path}: {label}: invalid record ({exc})")
            continue
        if not (0 <= row < len(speeds) and 0 <= col < len(powers)) or (row, col) in seen_cells:
            problems.append(f"{side_path}: {label}: row {row}, column {col} outside the "
                            f"{len(powers)} x {len(speeds)} grid or repeated")
            continue
        seen_cells.add((row, col))
        seen_placements += placements
        if not (0 < power <= 100 and 0 < speed <= 100000):
            problems.append(f"{label}: LaserPower {power:g} % / ScanSpeed {speed:g} um/s outside "
                            "(0, 100] % / (0, 100000] um/s")
        if power != powers[col] or speed != speeds[row]:
            problems.append(f"{label}: LaserPower {power:g} %, ScanSpeed {speed:g} um/s; the "
                            f"grid says {powers[col]:g} % (column {col}), {speeds[row]:g} um/s "
                            f"(row {row})")
        if not math.isclose(ratio, power * power / speed, rel_tol=1e-9):
            problems.append(f"{label}: P^2/v = {ratio:g}, expected {power * power / speed:g}")
        if not (np.allclose(origin, [col * pitch, row * pitch], atol=_EPS_UM)
                and np.allclose(centre, origin + 0.5 * size, atol=_EPS_UM)):
            problems.append(f"{label}: origin {origin.tolist()} / centre {centre.tolist()} um "
                            f"off the grid (pitch {pitch:g} um, patch {size:g} um)")
        sub = _dose_sub_replay(replay, set(placements), origin)
        if not sub.chunks:
            problems.append(f"{label}: nothing written")
            continue
        bad = [c for c in sub.chunks
               if abs(c.laser_power - power) > 5e-4 or abs(c.scan_speed_um_s - speed) > 5e-4]
        if bad:
            problems.append(f"{label}: written at LaserPower {bad[0].laser_power:g} %, ScanSpeed "
                            f"{bad[0].scan_speed_um_s:g} um/s; the sidecar says {power:g} %, "
                            f"{speed:g} um/s")
        # the same print relative to the patch origin as the first patch
        sig = sorted((str(c.file.path), c.first, c.stop,
                      *np.round(c.translation_um, 3).tolist()) for c in sub.chunks)
        if reference is None:
            reference = sig
        elif sig != reference:
            problems.append(f"{label}: does not print the same blocks at the same places "
                            "(relative to its origin) as patch 1")
        t = sub.totals()
        prof = side.get("printer", {})
        t_s = (t["write_time_s"] + t["polylines"] * prof.get("line_overhead_s", 0.0)
               + t["layers"] * prof.get("layer_overhead_s", 0.0)
               + t["placements"] * prof.get("block_overhead_s", 0.0))
        if not math.isclose(est, t_s, rel_tol=1e-6):
            problems.append(f"{label}: estimated time {est} s, replayed {t_s:.3f} s")
        lo, hi = np.asarray(t["bounds_um"][0]), np.asarray(t["bounds_um"][1])
        if np.any(lo[:2] < -0.5 * (pitch - size) + _EPS_UM) \
                or np.any(hi[:2] > size + 0.5 * (pitch - size) - _EPS_UM):
            problems.append(f"{label}: written xy {np.round([lo[:2], hi[:2]], 3).tolist()} um "
                            f"(relative to its origin) reaches into the gap between patches")
        subs.append((p, sub))
    if len(seen_cells) != len(powers) * len(speeds):
        problems.append(f"{side_path}: {len(seen_cells)} patches for a {len(powers)} x "
                        f"{len(speeds)} grid")
    if sorted(seen_placements) != list(range(1, n_top + 1)):
        problems.append(f"{side_path}: the patches' placements do not match the job's "
                        f"{n_top} includes one to one")
    if not subs:
        return
    # the first patch, as a job of its own, against the STL (bounds, coverage, time)
    first, sub = subs[0]
    view = dict(side)
    counts: dict[str, int] = {}
    for _, _, target in sub.includes:
        counts[target.name] = counts.get(target.name, 0) + 1
    view["blocks"] = [dict(b, placements=counts.get(b["file"].replace("\\", "/").split("/")[-1],
                                                    0))
                      for b in side.get("blocks", [])]
    view["totals"] = dose.get("patch_totals", {})
    view["estimate"] = {"total_s": first.get("estimate_s")}
    own: list[str] = []
    _check_gwl(folder, view, sub, mesh, own, progress)
    problems += [f"patch {first.get('number')}: {line}" for line in own if line not in problems]
