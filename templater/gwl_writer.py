"""GWL job writer: slice, fill and stitch a template into ``NAME_job.gwl`` + ``NAME_files\\``.

Layout and conventions follow ``../shared/spec/gwl.md`` (a): ASCII, CRLF, single spaces,
fixed-point numbers with 3 decimals, comments on their own lines, literal values only, one
include level. Each distinct block is written once, in block-local coordinates (origin at the
field centre); the job file places it with relative stage moves and ``include``. The stage starts
at the STL origin (x = y = 0, the footprint's lower-left corner) and returns there at the end,
so replayed coordinates equal STL coordinates; z is measured from the substrate interface
(the STL's z = 0), and the first layer lies ``anchor_um`` below it.

Also written: ``NAME_job.json`` (sidecar: parameters, printer profile, block table, totals,
estimated print time with each term) and ``NAME.recipe`` (DeScribe-style recipe with the same
slicing, filling and stitching settings, for the vendor slicer).

Print time (gwl.md §4): T = L/v + N_lines·t_line + N_layers·t_layer + N_blocks·t_block, with L
the written length, N_lines the polylines (each closed by ``Write``), N_layers the layers summed
over block placements and N_blocks the placements.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import trimesh
from numpy.typing import NDArray

from templater.errors import TemplaterError
from templater.hatch import fill_region, hatch_angle_deg
from templater.job import JobFiles, design_record, write_json
from templater.mesh import build_template_mesh, period_nodes_um
from templater.outputs import atomic_output_dir
from templater.presets import PrinterProfile, load_printer
from templater.slicer import TopSurface, layer_heights_um
from templater.stitch import Block, BlockGrid, StitchSettings, plan_blocks
from templater.surfaces import Surface

__all__ = ["BlockProgram", "GwlPlan", "plan_gwl", "planned_sizes", "write_gwl", "GwlWriter",
           "RecipeWriter", "write_gwl_job", "estimate_time", "format_duration"]

log = logging.getLogger(__name__)

CRLF = "\r\n"


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


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GwlPlan:
    """Everything needed to write (or summarise) a GWL job, computed without writing."""

    name: str
    profile: PrinterProfile
    layer_heights_um: NDArray[np.float64]
    grid: BlockGrid
    programs: tuple[BlockProgram, ...]
    placement_program: tuple[int, ...]  # program number of each placement, in order
    totals: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] = field(default_factory=dict)
    stl_facets: int = 0

    @property
    def placements(self) -> tuple[Block, ...]:
        """Block placements in writing order."""
        return self.grid.blocks

    def summary(self) -> dict[str, Any]:
        """Figures for the CLI (layers, blocks, write length, estimated time)."""
        return {
            "gwl_layers": len(self.layer_heights_um),
            "gwl_blocks_distinct": len(self.programs),
            "gwl_blocks_placed": len(self.placements),
            "gwl_write_length_um": self.totals["write_length_um"],
            "gwl_polylines": self.totals["polylines"],
            "gwl_estimated_time_s": self.estimate["total_s"],
        }


def _stitch_settings(profile: PrinterProfile) -> StitchSettings:
    return StitchSettings(field_diameter_um=profile.field_diameter_um,
                          block_max_um=profile.block_max_um,
                          overlap_um=profile.block_overlap_um,
                          shear_angle_deg=profile.shear_angle_deg, order=profile.block_order)


def _round_nm(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to 1 nm (3 decimals in µm) and clear negative zeros."""
    return np.round(a, 3) + 0.0


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
                contours.append(poly)
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
                  layers: int, placements: int) -> dict[str, Any]:
    """Print-time estimate, each term shown (gwl.md §4), seconds."""
    terms = {
        "write_s": write_length_um / profile.scan_speed_um_s,
        "lines_s": polylines * profile.line_overhead_s,
        "layers_s": layers * profile.layer_overhead_s,
        "blocks_s": placements * profile.block_overhead_s,
    }
    return {
        "formula": "T = L/v + N_lines*t_line + N_layers*t_layer + N_blocks*t_block",
        "inputs": {"L_um": write_length_um, "v_um_s": profile.scan_speed_um_s,
                   "N_lines": polylines, "t_line_s": profile.line_overhead_s,
                   "N_layers": layers, "t_layer_s": profile.layer_overhead_s,
                   "N_blocks": placements, "t_block_s": profile.block_overhead_s},
        **terms,
        "total_s": sum(terms.values()),
    }


def _layout(design: Surface, footprint: shapely.Polygon, top_um: float,
            profile: PrinterProfile) -> tuple[NDArray[np.float64], BlockGrid]:
    """Layer heights and block grid of a template whose top is at ``top_um``."""
    if top_um > profile.field_z_um:
        raise TemplaterError(f"template height {top_um:g} um exceeds the piezo field "
                         f"{profile.field_z_um:g} um")
    heights = layer_heights_um(top_um, slice_um=profile.slice_um, anchor_um=profile.anchor_um)
    grid = plan_blocks(footprint, period_um=design.period_um,
                       z_range_um=(float(heights[0]), float(heights[-1])),
                       settings=_stitch_settings(profile))
    return heights, grid


def plan_gwl(design: Surface, options: Any, *, profile: PrinterProfile | None = None,
             mesh: trimesh.Trimesh | None = None) -> GwlPlan:
    """Slice, fill and stitch ``design`` without writing anything.

    Parameters
    ----------
    design : Surface
        The contour; the template solid is the one ``write_job`` writes as STL.
    options : TemplateOptions
        Footprint, base thickness and tolerance (µm).
    profile : PrinterProfile, optional
        Printer settings; default :func:`templater.presets.load_printer`.
    mesh : trimesh.Trimesh, optional
        The template mesh (built from ``options`` when omitted); layers are its cross-sections.
    """
    profile = profile or load_printer()
    if profile.fill_mode != "solid":
        raise TemplaterError(f"fill mode {profile.fill_mode!r} is not supported; allowed: solid")
    if mesh is None:
        mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                                   tolerance_um=options.tolerance_um)
    footprint = options.footprint.polygon(options.tolerance_um)
    top = TopSurface(mesh, footprint)
    heights, grid = _layout(design, footprint, top.top_um, profile)
    programs: dict[tuple, BlockProgram] = {}
    order: list[int] = []
    for block in grid.blocks:
        prog = programs.get(block.key)
        if prog is None:
            prog = _program(len(programs) + 1, block, grid, top, heights, profile)
            programs[block.key] = prog
        order.append(prog.number)
    progs = tuple(sorted(programs.values(), key=lambda p: p.number))
    limit = 0.5 * profile.field_diameter_um
    worst = max(p.max_radius_um for p in progs)
    if worst > limit:
        raise TemplaterError(f"a block reaches {worst:.3f} um from its field centre, beyond the "
                         f"{limit:g} um field radius")
    count = np.bincount(order, minlength=len(progs) + 1)[1:]
    totals = {
        "placements": len(order),
        "distinct_blocks": len(progs),
        "polylines": int(sum(p.polylines * c for p, c in zip(progs, count, strict=True))),
        "segments": int(sum(p.segments * c for p, c in zip(progs, count, strict=True))),
        "write_length_um": float(sum(p.write_length_um * c
                                     for p, c in zip(progs, count, strict=True))),
        "layers_written": int(sum(len(p.layers) * c for p, c in zip(progs, count, strict=True))),
    }
    est = estimate_time(profile, write_length_um=totals["write_length_um"],
                        polylines=totals["polylines"], layers=totals["layers_written"],
                        placements=totals["placements"])
    return GwlPlan(name=design.name, profile=profile, layer_heights_um=heights, grid=grid,
                   programs=progs, placement_program=tuple(order), totals=totals, estimate=est,
                   stl_facets=len(mesh.faces))


def planned_sizes(plan: GwlPlan, design: Surface, options: Any, *, version: str) -> dict[str, int]:
    """Bytes the job would take: ``stl`` (binary STL) and ``gwl`` (job file + block files;
    the small sidecar and recipe are not counted), without writing anything."""
    gwl = len(_job_text(plan, design, options, version))
    gwl += sum(len(_block_text(prog, plan.name)) for prog in plan.programs)
    return {"stl": 84 + 50 * plan.stl_facets, "gwl": gwl}


# --- text output ------------------------------------------------------------------------------
def _num(v: float) -> str:
    return f"{float(v) + 0.0:.3f}"


def _block_text(prog: BlockProgram, name: str) -> str:
    out = [f"% templater block {prog.number:03d} of job {name}",
           "% block-local coordinates, um: origin at the writing-field centre",
           f"% {prog.polylines} polylines, {prog.segments} segments, "
           f"write length {_num(prog.write_length_um)} um"]
    for k, z, contours, hatches in prog.layers:
        zs = f"{z:.3f}"
        out.append(f"% Slice {k}, Z = {zs}")
        for poly in contours:
            out.extend(f"{x + 0.0:.3f} {y + 0.0:.3f} {zs}" for x, y in poly.tolist())
            out.append("Write")
        out.extend(f"{a + 0.0:.3f} {b + 0.0:.3f} {zs}{CRLF}{c + 0.0:.3f} {d + 0.0:.3f} {zs}"
                   f"{CRLF}Write" for (a, b), (c, d) in hatches.tolist())
    return CRLF.join(out) + CRLF


def _header(plan: GwlPlan, design: Surface, options: Any, version: str) -> list[str]:
    p = plan.profile
    g = plan.grid
    fp = options.footprint
    params = ", ".join(f"{k}={v}" for k, v in design.to_dict().items())
    return [
        f"% templater {version} GWL job: {plan.name}",
        f"% design: {params}",
        f"% template: {fp.shape} footprint {_num(fp.size_um)} um, base {_num(options.base_um)} "
        f"um, tolerance {_num(options.tolerance_um)} um",
        f"% printer profile: {p.name}",
        f"% slicing {_num(p.slice_um)} um from z = {_num(-p.anchor_um)} um, "
        f"{len(plan.layer_heights_um)} layers; hatch {_num(p.hatch_um)} um, "
        f"{p.contour_count} contours, angle {_num(p.hatch_angle_deg)} deg "
        f"+ {_num(p.hatch_angle_offset_deg)} deg per layer",
        f"% blocks: pitch {_num(g.pitch_um)} um, grid {g.shape[0]} x {g.shape[1]}, overlap "
        f"{_num(g.settings.overlap_um)} um, shear {_num(g.settings.shear_angle_deg)} deg, "
        f"{g.settings.order}; {len(plan.programs)} distinct, {len(plan.placements)} placed",
        "% stage starts at the STL origin (x = 0, y = 0) and returns there at the end",
        f"% estimated print time {_num(plan.estimate['total_s'])} s "
        f"({format_duration(plan.estimate['total_s'])})",
        "% System initialization",
        "InvertZAxis 1",
        "% Writing configuration",
        "GalvoScanMode",
        "ContinuousMode",
        f"PiezoSettlingTime {_num(p.piezo_settling_time)}",
        f"GalvoAcceleration {_num(p.galvo_acceleration)}",
        f"StageVelocity {_num(p.stage_velocity_um_s)}",
        "% Scan field offsets",
        "XOffset 0.000",
        "YOffset 0.000",
        "ZOffset 0.000",
        "% Writing parameters",
        f"PowerScaling {_num(p.power_scaling)}",
        f"LaserPower {_num(p.laser_power_percent)}",
        f"ScanSpeed {_num(p.scan_speed_um_s)}",
        f"FindInterfaceAt {_num(p.find_interface_at_um)}",
        "%%% Last Line in Parameter Settings",
    ]


def _job_text(plan: GwlPlan, design: Surface, options: Any, version: str) -> str:
    out = _header(plan, design, options, version)
    n = len(plan.placements)
    files = f"{plan.name}_files"
    sx = sy = 0
    for block, prog in zip(plan.placements, plan.placement_program, strict=True):
        cx, cy = block.centre_nm
        out += [
            "NewStructure",
            f"% BLOCK {block.index}/{n} ({_num(cx / 1000)}, {_num(cy / 1000)})",
            f"MoveStageX {_num((cx - sx) / 1000)}",
            f"MoveStageY {_num((cy - sy) / 1000)}",
            f"FindInterfaceAt {_num(plan.profile.find_interface_at_um)}",
            f"include {files}\\{plan.programs[prog - 1].file_name}",
            f'MessageOut "block {block.index}/{n} done"',
        ]
        sx, sy = cx, cy
    out += ["% return the stage to the start", f"MoveStageX {_num(-sx / 1000)}",
            f"MoveStageY {_num(-sy / 1000)}"]
    return CRLF.join(out) + CRLF


def _sidecar(plan: GwlPlan, design: Surface, options: Any, version: str,
             stl_sha256: str | None) -> dict[str, Any]:
    p = plan.profile
    g = plan.grid
    files = f"{plan.name}_files"
    centres: dict[int, list] = {}
    for block, prog in zip(plan.placements, plan.placement_program, strict=True):
        centres.setdefault(prog, []).append(list(block.centre_um))
    heights = plan.layer_heights_um
    return {
        "toolkit": "templater",
        "version": version,
        "name": plan.name,
        "design": design.to_dict(),
        "template": {"footprint": {"shape": options.footprint.shape,
                                   "size_um": options.footprint.size_um},
                     "base_um": options.base_um, "tolerance_um": options.tolerance_um,
                     "stl": f"{plan.name}.stl", "stl_sha256": stl_sha256},
        "printer": p.to_dict(),
        "gwl": {"job_file": f"{plan.name}_job.gwl", "files_dir": files,
                "number_format": "fixed point, 3 decimals", "line_endings": "CRLF",
                "coordinates": "block files: local um, origin at the field centre; "
                               "global = stage position + local",
                "stage_start_um": [0.0, 0.0], "z_reference": "substrate interface (STL z = 0)"},
        "slicing": {"slice_um": p.slice_um, "anchor_um": p.anchor_um,
                    "layers": len(heights), "first_layer_z_um": float(heights[0]),
                    "last_layer_z_um": float(heights[-1])},
        "filling": {"mode": p.fill_mode, "hatch_um": p.hatch_um,
                    "contour_count": p.contour_count, "contour_spacing_um": p.hatch_um,
                    "hatch_angle_deg": p.hatch_angle_deg,
                    "hatch_angle_offset_deg": p.hatch_angle_offset_deg,
                    "hatch_line_mode": "alternate"},
        "stitching": {"pitch_um": g.pitch_um, "phases_per_period": g.phases,
                      "grid": list(g.shape), "overlap_um": g.settings.overlap_um,
                      "shear_angle_deg": g.settings.shear_angle_deg,
                      "order": g.settings.order,
                      "field_diameter_um": g.settings.field_diameter_um},
        "blocks": [
            {"number": prog.number, "file": f"{files}\\{prog.file_name}",
             "placements": len(centres[prog.number]), "centres_um": centres[prog.number],
             "bounds_local_um": [list(prog.bounds_local_um[0]), list(prog.bounds_local_um[1])],
             "max_radius_um": prog.max_radius_um, "layers": len(prog.layers),
             "polylines": prog.polylines, "segments": prog.segments,
             "write_length_um": prog.write_length_um}
            for prog in plan.programs
        ],
        "placements": [
            {"index": b.index, "grid": list(b.grid), "centre_um": list(b.centre_um),
             "block": prog}
            for b, prog in zip(plan.placements, plan.placement_program, strict=True)
        ],
        "totals": dict(plan.totals),
        "estimate": plan.estimate,
    }


def _recipe_text(name: str, p: PrinterProfile, g: BlockGrid, mesh: trimesh.Trimesh) -> str:
    (x0, y0, z0), (x1, y1, z1) = mesh.bounds.tolist()
    a = g.pitch_um
    height = z1 - z0 + p.anchor_um
    eye = " ".join(f"[M{r}1:{int(r == 1)}.000 M{r}2:{int(r == 2)}.000 M{r}3:{int(r == 3)}.000 "
                   f"M{r}4:{int(r == 4)}.000]" for r in range(1, 5))
    lines = [
        "Version = 1.3",
        "Model.Type = Mesh",
        f"Model.FilePath = {name}.stl",
        f"Model.Transformation = {eye}",
        f"Model.BoundingBox = Minimum:X:{x0:.3f} Y:{y0:.3f} Z:{z0:.3f} "
        f"Maximum:X:{x1:.3f} Y:{y1:.3f} Z:{z1:.3f}",
        "Model.Rotation = X:0.000 Y:0.000 Z:0.000 W:1.000",
        "Model.Scaling = X:1.000 Y:1.000 Z:1.000",
        "Model.Translation = X:0 Y:0 Z:0",
        "Slicing.Mode = Fixed",
        f"Slicing.DistanceMax = {p.slice_um:g}",
        "Slicing.SimplificationTolerance = 0",
        "Slicing.FixSelfIntersections = True",
        "Filling.Mode = Solid",
        f"Filling.SolidContourCount = {p.contour_count}",
        f"Filling.SolidContourDistance = {p.hatch_um:g}",
        "Filling.ConcaveCornerMode = Sharp",
        f"Filling.HatchingDistance = {p.hatch_um:g}",
        f"Filling.HatchingAngle = {p.hatch_angle_deg:g}",
        f"Filling.HatchingAngleOffset = {p.hatch_angle_offset_deg:g}",
        "Splitting.Mode = Rectangular",
        f"Splitting.BlockSize = X:{a:g} Y:{a:g} Z:{math.ceil(height):d}",
        "Splitting.BlockOffset = X:0 Y:0 Z:0",
        f"Splitting.BlockShearAngle = {g.settings.shear_angle_deg:g}",
        f"Splitting.BlockOverlap = {g.settings.overlap_um:g}",
        "Splitting.LayerOverlap = 0",
        f"Splitting.BlockWidth = X:{a:g} Y:{a:g} Z:{math.ceil(height):d}",
        "Splitting.BlockOrderMode = Meander",
        "Splitting.AvoidFlyingBlocks = True",
        "Splitting.GroupBlocks = False",
        "Splitting.UseBacklashCorrection = True",
        "Output.ScanMode = Galvo",
        "Output.ZAxis = Piezo",
        "Output.Exposure = Variable",
        "Output.InvertZAxis = True",
        "Output.WritingDirection = Up",
        "Output.HatchLineMode = Alternate",
        f"Exposure.GalvoAcceleration = {p.galvo_acceleration:g}",
        f"Exposure.FindInterfaceAt = {p.find_interface_at_um:g}",
        f"Exposure.ShellLaserPower = {p.laser_power_percent:g}",
        f"Exposure.ShellScanSpeed = {p.scan_speed_um_s:g}",
        f"Exposure.CoreLaserPower = {p.laser_power_percent:g}",
        f"Exposure.CoreScanSpeed = {p.scan_speed_um_s:g}",
    ]
    return CRLF.join(lines) + CRLF


def write_gwl(folder: Path, plan: GwlPlan, design: Surface, options: Any, mesh: trimesh.Trimesh,
              *, version: str, recipe: bool = True) -> dict[str, Any]:
    """Write ``NAME_job.gwl``, ``NAME_files\\block_KKK.gwl``, ``NAME_job.json`` and (with
    ``recipe``) ``NAME.recipe``.

    Returns the summary (see :meth:`GwlPlan.summary`) plus ``gwl_bytes``, the job's size on
    disk (job file, block files, sidecar and recipe).
    """
    folder = Path(folder)
    files_dir = folder / f"{plan.name}_files"
    files_dir.mkdir()
    size = 0
    for prog in plan.programs:
        data = _block_text(prog, plan.name).encode("ascii")
        (files_dir / prog.file_name).write_bytes(data)
        size += len(data)
    job = _job_text(plan, design, options, version).encode("ascii")
    (folder / f"{plan.name}_job.gwl").write_bytes(job)
    stl = folder / f"{plan.name}.stl"
    sha = hashlib.sha256(stl.read_bytes()).hexdigest() if stl.exists() else None
    side = (json.dumps(_sidecar(plan, design, options, version, sha), indent=2, sort_keys=True)
            + "\n").encode("ascii")
    (folder / f"{plan.name}_job.json").write_bytes(side)
    size += len(job) + len(side)
    if recipe:
        text = _recipe_text(plan.name, plan.profile, plan.grid, mesh).encode("ascii")
        (folder / f"{plan.name}.recipe").write_bytes(text)
        size += len(text)
    return {**plan.summary(), "gwl_bytes": size}


@dataclass(frozen=True, slots=True, kw_only=True)
class GwlWriter:
    """An ``extra`` writer for :func:`templater.job.write_job`.

    Parameters
    ----------
    version : str
        Toolkit version written into the files.
    profile : PrinterProfile, optional
        Printer settings (default profile when omitted).
    announce : callable, optional
        Called with the plan after slicing and before any GWL file is written (the CLI states
        the estimate there).
    recipe : bool, default True
        Also write ``NAME.recipe``.
    plan : GwlPlan, optional
        A plan already computed by :func:`plan_gwl` for the same design and options (the CLI
        plans first to state the estimate before the STL is written).
    """

    version: str
    profile: PrinterProfile | None = None
    announce: Callable[[GwlPlan], None] | None = None
    recipe: bool = True
    plan: GwlPlan | None = None

    def __call__(self, folder: Path, design: Surface, options: Any,
                 mesh: trimesh.Trimesh) -> dict[str, Any]:
        """Plan and write the GWL job into ``folder``."""
        plan = self.plan
        if plan is None:
            plan = plan_gwl(design, options, profile=self.profile, mesh=mesh)
        elif plan.name != design.name:
            raise ValueError(f"plan for {plan.name!r} given for design {design.name!r}")
        if self.announce is not None:
            self.announce(plan)
        return write_gwl(folder, plan, design, options, mesh, version=self.version,
                         recipe=self.recipe)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeWriter:
    """An ``extra`` writer adding only ``NAME.recipe`` (for STL-only output)."""

    profile: PrinterProfile | None = None

    def __call__(self, folder: Path, design: Surface, options: Any,
                 mesh: trimesh.Trimesh) -> dict[str, Any]:
        """Write the recipe for ``mesh`` into ``folder``."""
        profile = self.profile or load_printer()
        footprint = options.footprint.polygon(options.tolerance_um)
        _, grid = _layout(design, footprint, float(mesh.bounds[1, 2]), profile)
        data = _recipe_text(design.name, profile, grid, mesh).encode("ascii")
        (Path(folder) / f"{design.name}.recipe").write_bytes(data)
        return {"recipe_bytes": len(data)}


def write_gwl_job(design: Surface, out_dir: Path, *, options: Any, overwrite: bool = False,
                  version: str, profile: PrinterProfile | None = None,
                  announce: Callable[[GwlPlan], None] | None = None,
                  plan: GwlPlan | None = None, extra: list[Any] | None = None,
                  mesh: trimesh.Trimesh | None = None) -> JobFiles:
    """GWL-only output (``--format gwl``): ``design.json`` and the GWL job, no STL (and no
    recipe, which would point at the STL). ``mesh`` reuses an already built template mesh.

    ``design.json`` records ``"outputs": ["gwl"]`` so that ``templater check`` rebuilds the
    template mesh from it instead of reading an STL. ``plan`` reuses a :func:`plan_gwl` result;
    ``extra`` writers run afterwards, as in :func:`templater.job.write_job`.
    """
    nodes = period_nodes_um(design, options.tolerance_um, base_um=options.base_um)
    if mesh is None:
        mesh = build_template_mesh(design, footprint=options.footprint,
                                   base_um=options.base_um, tolerance_um=options.tolerance_um,
                                   nodes_um=nodes)
    writer = GwlWriter(version=version, profile=profile, announce=announce, recipe=False,
                       plan=plan)
    with atomic_output_dir(Path(out_dir), overwrite=overwrite) as tmp:
        record = design_record(design, options, version)
        record["outputs"] = ["gwl"]
        record["template"]["facets"] = len(mesh.faces)
        record["template"]["bounds_um"] = mesh.bounds.tolist()
        write_json(tmp / "design.json", record)
        summary = {"name": design.name, "facets": len(mesh.faces),
                   "nodes_per_period": len(nodes) - 1, **writer(tmp, design, options, mesh)}
        for other in extra or []:
            summary.update(other(tmp, design, options, mesh) or {})
        names = sorted(p.name for p in tmp.iterdir())
    return JobFiles(out_dir=Path(out_dir), files=tuple(Path(out_dir) / n for n in names),
                    summary=summary)


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
