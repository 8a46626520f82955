"""GWL text: block files, the job file, the sidecar record and the DeScribe-style recipe.

Pure functions from a :class:`~templater.fab.gwl_plan.GwlPlan` to text or JSON-ready records.
Conventions: ASCII, CRLF, single spaces, fixed-point numbers with 3 decimals, comments on their own
lines, literal values only, one include level. The job file places each distinct block with
relative stage moves and ``include``. The stage starts at the STL origin (x = y = 0, the
footprint's lower-left corner) and returns there at the end, so replayed coordinates equal STL
coordinates; z is measured from the substrate interface (the STL's z = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import trimesh

from templater.fab.gwl_plan import BlockProgram, GwlPlan, format_duration
from templater.fab.mesh import TemplateOptions
from templater.fab.printer import PrinterProfile
from templater.fab.stitch import BlockGrid
from templater.geometry.surfaces import Surface

__all__ = ["CRLF", "PlannedSizes", "block_text", "job_text", "sidecar_record", "recipe_text",
           "planned_sizes"]

CRLF = "\r\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSizes:
    """Bytes a job would take: the binary STL and the GWL job file + block files (the small
    sidecar and recipe are not counted)."""

    stl_bytes: int
    gwl_bytes: int


def planned_sizes(plan: GwlPlan, design: Surface, options: TemplateOptions, *,
                  version: str) -> PlannedSizes:
    """Sizes of the files of ``plan`` on disk, without writing anything."""
    gwl = len(job_text(plan, design, options, version))
    gwl += sum(len(block_text(prog, plan.name)) for prog in plan.programs)
    return PlannedSizes(stl_bytes=84 + 50 * plan.stl_facets, gwl_bytes=gwl)


def _num(v: float) -> str:
    return f"{float(v) + 0.0:.3f}"


def block_text(prog: BlockProgram, name: str) -> str:
    """The block file ``NAME_files\\block_KKK.gwl`` of one distinct block."""
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


def _header(plan: GwlPlan, design: Surface, options: TemplateOptions, version: str) -> list[str]:
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
        f"% estimated print time {_num(plan.estimate.total_s)} s "
        f"({format_duration(plan.estimate.total_s)})",
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


def job_text(plan: GwlPlan, design: Surface, options: TemplateOptions, version: str) -> str:
    """The job file ``NAME_job.gwl``: header, then one stage move and include per placement."""
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


def sidecar_record(plan: GwlPlan, design: Surface, options: TemplateOptions, version: str,
                   stl_sha256: str | None) -> dict[str, Any]:
    """The JSON record of the sidecar ``NAME_job.json`` (everything a reader needs to check)."""
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
        "totals": plan.totals.to_record(),
        "estimate": plan.estimate.to_record(),
    }


def recipe_text(name: str, p: PrinterProfile, g: BlockGrid, mesh: trimesh.Trimesh) -> str:
    """The DeScribe recipe ``NAME.recipe``: the STL with the same slicing, filling and blocks."""
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
