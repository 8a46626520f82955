"""GWL planning: slice, fill and stitch a template into block programs, totals and a print-time
estimate, without writing anything.

Each distinct block is planned once, in block-local coordinates (origin at the field centre); the
placements say where the stage puts it. Print time: T = L/v + N_lines·t_line + N_layers·t_layer +
N_blocks·t_block, with L the written length, N_lines the polylines (each closed by ``Write``),
N_layers the layers summed over block placements and N_blocks the placements.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import shapely
import trimesh
from numpy.typing import NDArray

from templater.fab.hatch import fill_region, hatch_angle_deg
from templater.fab.mesh import TemplateOptions, build_template_mesh
from templater.fab.printer import PrinterProfile
from templater.fab.slicer import TopSurface, layer_heights_um
from templater.fab.stitch import Block, BlockGrid, StitchSettings, plan_blocks
from templater.geometry.errors import TemplaterError
from templater.geometry.surfaces import Surface

__all__ = ["BlockProgram", "GwlTotals", "PrintTimeEstimate", "GwlPlan", "plan_gwl",
           "block_layout", "estimate_time", "format_duration"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class BlockProgram:
    """One distinct block: its layers in block-local coordinates (rounded to 1 nm).

    ``layers`` holds ``(layer_index, z_um, contours, hatches)`` for non-empty layers: contours
    are closed (n, 2) float polylines, hatches an (m, 2, 2) float array of segments; they are
    written in that order.
    """

    number: int
    key: tuple
    file_name: str
    layers: tuple[tuple[int, float, tuple[NDArray[np.float64], ...], NDArray[np.float64]], ...]
    polylines: int
    segments: int
    write_length_um: float
    bounds_local_um: tuple[tuple[float, float, float], tuple[float, float, float]]
    max_radius_um: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GwlTotals:
    """Totals of a job over all block placements (a block placed n times counts n times)."""

    placements: int
    distinct_blocks: int
    polylines: int
    segments: int
    write_length_um: float
    layers_written: int

    def to_record(self) -> dict[str, int | float]:
        """The sidecar's ``"totals"`` object."""
        return {"placements": self.placements, "distinct_blocks": self.distinct_blocks,
                "polylines": self.polylines, "segments": self.segments,
                "write_length_um": self.write_length_um, "layers_written": self.layers_written}


@dataclass(frozen=True, slots=True, kw_only=True)
class PrintTimeEstimate:
    """Print-time estimate T = L/v + N_lines·t_line + N_layers·t_layer + N_blocks·t_block (s)."""

    FORMULA: ClassVar[str] = "T = L/v + N_lines*t_line + N_layers*t_layer + N_blocks*t_block"

    write_length_um: float
    scan_speed_um_s: float
    polylines: int
    line_overhead_s: float
    layers: int
    layer_overhead_s: float
    placements: int
    block_overhead_s: float

    @property
    def write_s(self) -> float:
        """Writing time L/v."""
        return self.write_length_um / self.scan_speed_um_s

    @property
    def lines_s(self) -> float:
        """Polyline overheads N_lines·t_line."""
        return self.polylines * self.line_overhead_s

    @property
    def layers_s(self) -> float:
        """Layer overheads N_layers·t_layer."""
        return self.layers * self.layer_overhead_s

    @property
    def blocks_s(self) -> float:
        """Block overheads N_blocks·t_block."""
        return self.placements * self.block_overhead_s

    @property
    def total_s(self) -> float:
        """The estimated print time T."""
        return sum((self.write_s, self.lines_s, self.layers_s, self.blocks_s))

    def to_record(self) -> dict[str, object]:
        """The sidecar's ``"estimate"`` object: formula, inputs, each term and the total."""
        return {
            "formula": self.FORMULA,
            "inputs": {"L_um": self.write_length_um, "v_um_s": self.scan_speed_um_s,
                       "N_lines": self.polylines, "t_line_s": self.line_overhead_s,
                       "N_layers": self.layers, "t_layer_s": self.layer_overhead_s,
                       "N_blocks": self.placements, "t_block_s": self.block_overhead_s},
            "write_s": self.write_s, "lines_s": self.lines_s, "layers_s": self.layers_s,
            "blocks_s": self.blocks_s, "total_s": self.total_s,
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GwlPlan:
    """Everything needed to write (or summarise) a GWL job, computed without writing."""

    name: str
    profile: PrinterProfile
    layer_heights_um: NDArray[np.float64]
    grid: BlockGrid
    programs: tuple[BlockProgram, ...]
    placement_program: tuple[int, ...]  # program number of each placement, in order
    totals: GwlTotals
    estimate: PrintTimeEstimate
    stl_facets: int

    @property
    def placements(self) -> tuple[Block, ...]:
        """Block placements in writing order."""
        return self.grid.blocks


def _stitch_settings(profile: PrinterProfile) -> StitchSettings:
    return StitchSettings(field_diameter_um=profile.field_diameter_um,
                          block_max_um=profile.block_max_um,
                          overlap_um=profile.block_overlap_um,
                          shear_angle_deg=profile.shear_angle_deg, order=profile.block_order,
                          field_margin_um=profile.field_margin_um)


def _round_nm(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to 1 nm (3 decimals in µm) and clear negative zeros."""
    return np.round(a, 3) + 0.0


def _split(poly: NDArray[np.float64], max_points: int) -> list[NDArray[np.float64]]:
    """Cut a polyline into pieces of at most ``max_points`` points; consecutive pieces share
    their end point, so the written line and its length are unchanged."""
    if len(poly) <= max_points:
        return [poly]
    step = max_points - 1
    return [poly[i:i + max_points] for i in range(0, len(poly) - 1, step)]


def _clean(poly: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Drop repeated consecutive points; None when fewer than 2 points remain."""
    if len(poly) < 2:
        return None
    keep = np.r_[True, np.any(poly[1:] != poly[:-1], axis=1)]
    poly = poly[keep]
    return poly if len(poly) >= 2 else None


def _program(number: int, block: Block, grid: BlockGrid, top: TopSurface,
             heights: NDArray[np.float64], profile: PrinterProfile) -> BlockProgram:
    """Slice and fill one block (the representative placement of its key)."""
    hull = grid.hull(block)
    hb = hull.intersection(top.footprint.envelope).bounds
    patch = top.patch(hb)
    cx, cy = block.centre_um
    layers = []
    polylines = segments = 0
    length = 0.0
    lo = np.full(3, np.inf)
    hi = np.full(3, -np.inf)
    radius = 0.0
    regions = top.regions(patch, [grid.window(block, float(z)) for z in heights], heights)
    for k, (z, region) in enumerate(zip(heights, regions, strict=True)):
        if region.is_empty:
            continue
        local = _translate(region, -cx, -cy)
        fill = fill_region(local, hatch_um=profile.hatch_um, contour_count=profile.contour_count,
                           angle_deg=hatch_angle_deg(k, angle_deg=profile.hatch_angle_deg,
                                                     offset_deg=profile.hatch_angle_offset_deg))
        contours = []
        for raw in fill.contours:
            poly = _clean(_round_nm(np.asarray(raw, dtype=float)))
            if poly is not None:
                contours.extend(_split(poly, profile.max_points_per_write))
        hatches = _round_nm(fill.hatches)
        seg_len = np.sqrt(((hatches[:, 1] - hatches[:, 0]) ** 2).sum(axis=1))
        hatches = hatches[seg_len > 0]
        if not contours and not len(hatches):
            continue
        pts = np.vstack([*contours, hatches.reshape(-1, 2)])
        lo[:2] = np.minimum(lo[:2], pts.min(axis=0))
        hi[:2] = np.maximum(hi[:2], pts.max(axis=0))
        radius = max(radius, float(np.sqrt((pts * pts).sum(axis=1)).max()))
        for poly in contours:
            d = np.diff(poly, axis=0)
            length += float(np.sqrt((d * d).sum(axis=1)).sum())
            segments += len(poly) - 1
        length += float(seg_len[seg_len > 0].sum())
        segments += len(hatches)
        zr = float(_round_nm(np.float64(z)))
        lo[2], hi[2] = min(lo[2], zr), max(hi[2], zr)
        polylines += len(contours) + len(hatches)
        layers.append((k, zr, tuple(contours), hatches))
    return BlockProgram(number=number, key=block.key, file_name=f"block_{number:03d}.gwl",
                        layers=tuple(layers), polylines=polylines, segments=segments,
                        write_length_um=length,
                        bounds_local_um=(tuple(lo.tolist()), tuple(hi.tolist())),
                        max_radius_um=radius)


def _translate(geom: shapely.Geometry, dx: float, dy: float) -> shapely.Geometry:
    return shapely.transform(geom, lambda c: c + np.array([dx, dy]))


def estimate_time(profile: PrinterProfile, *, write_length_um: float, polylines: int,
                  layers: int, placements: int) -> PrintTimeEstimate:
    """Print-time estimate with the overheads of ``profile`` (docs/printer-guide.md)."""
    return PrintTimeEstimate(write_length_um=write_length_um,
                             scan_speed_um_s=profile.scan_speed_um_s, polylines=polylines,
                             line_overhead_s=profile.line_overhead_s, layers=layers,
                             layer_overhead_s=profile.layer_overhead_s, placements=placements,
                             block_overhead_s=profile.block_overhead_s)


def block_layout(design: Surface, footprint: shapely.Polygon, top_um: float,
            profile: PrinterProfile) -> tuple[NDArray[np.float64], BlockGrid]:
    """Layer heights and block grid of a template whose top is at ``top_um``."""
    if top_um > profile.field_z_um:
        raise TemplaterError(f"template height {top_um:g} um exceeds the piezo field "
                         f"{profile.field_z_um:g} um")
    heights = layer_heights_um(top_um, slice_um=profile.slice_um)
    grid = plan_blocks(footprint, period_um=design.period_um,
                       z_range_um=(float(heights[0]), float(heights[-1])),
                       settings=_stitch_settings(profile))
    return heights, grid


def plan_gwl(design: Surface, options: TemplateOptions, *, profile: PrinterProfile,
             mesh: trimesh.Trimesh | None = None) -> GwlPlan:
    """Slice, fill and stitch ``design`` without writing anything.

    Parameters
    ----------
    design : Surface
        The contour; the template solid is the one ``write_job`` writes as STL.
    options : TemplateOptions
        Footprint, base thickness and tolerance (µm).
    profile : PrinterProfile
        Printer settings.
    mesh : trimesh.Trimesh, optional
        The template mesh (built from ``options`` when omitted); layers are its cross-sections.
    """
    if profile.fill_mode != "solid":
        raise TemplaterError(f"fill mode {profile.fill_mode!r} is not supported; allowed: solid")
    if mesh is None:
        mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                                   tolerance_um=options.tolerance_um)
    footprint = options.footprint.polygon(options.tolerance_um)
    top = TopSurface(mesh, footprint)
    heights, grid = block_layout(design, footprint, top.top_um, profile)
    programs: dict[tuple, BlockProgram] = {}
    order: list[int] = []
    for block in grid.blocks:
        prog = programs.get(block.key)
        if prog is None:
            prog = _program(len(programs) + 1, block, grid, top, heights, profile)
            programs[block.key] = prog
        order.append(prog.number)
    progs = tuple(sorted(programs.values(), key=lambda p: p.number))
    limit = profile.usable_field_radius_um
    worst = max(p.max_radius_um for p in progs)
    if worst > limit:
        raise TemplaterError(f"a block reaches {worst:.3f} um from its field centre, beyond the "
                             f"usable field radius {limit:g} um (field radius less the margin "
                             f"{profile.field_margin_um:g} um)")
    count = np.bincount(order, minlength=len(progs) + 1)[1:]
    totals = GwlTotals(
        placements=len(order),
        distinct_blocks=len(progs),
        polylines=int(sum(p.polylines * c for p, c in zip(progs, count, strict=True))),
        segments=int(sum(p.segments * c for p, c in zip(progs, count, strict=True))),
        write_length_um=float(sum(p.write_length_um * c
                                  for p, c in zip(progs, count, strict=True))),
        layers_written=int(sum(len(p.layers) * c for p, c in zip(progs, count, strict=True))),
    )
    est = estimate_time(profile, write_length_um=totals.write_length_um,
                        polylines=totals.polylines, layers=totals.layers_written,
                        placements=totals.placements)
    return GwlPlan(name=design.name, profile=profile, layer_heights_um=heights, grid=grid,
                   programs=progs, placement_program=tuple(order), totals=totals, estimate=est,
                   stl_facets=len(mesh.faces))


def format_duration(seconds: float) -> str:
    """``1 h 02 min 03 s`` style duration."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min {sec:02d} s"
    if m:
        return f"{m} min {sec:02d} s"
    return f"{sec} s"
