"""GWL text: block files, the job file, the sidecar record and the DeScribe-style recipe.

Pure functions from a :class:`~templater.fab.gwl_plan.GwlPlan` to text or JSON-ready records.
Conventions: ASCII, CRLF, single spaces, fixed-point numbers with 3 decimals, comments on their own
lines, literal values only, one include level, at most ``max_points_per_write`` points per
``Write``. The job file places each distinct block with relative stage moves and ``include``. The
stage starts at the STL origin (x = y = 0, the footprint's lower-left corner) and returns there at
the end, so replayed x, y equal STL coordinates. GWL z equals STL z (layers from z = 0);
``FindInterfaceAt a`` puts the substrate interface at z = a, so the first layer lies a inside the
substrate (DeScribe's convention, the only offset applied).

Stage moves (backlash): every block position is approached moving +x and +y. A move in −x or −y
(from the end of a row to the start of the next, and back to the start at the end) overshoots by
the profile's ``backlash_overshoot_um`` and returns; a first +x/+y move shorter than the
overshoot is preceded by one too. Zero moves are not written.
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
        f"% slicing {_num(p.slice_um)} um from z = 0.000 um (FindInterfaceAt puts the interface "
        f"at z = {_num(p.find_interface_at_um)} um: first layer {_num(p.anchor_um)} um inside "
        "the substrate), "
        f"{len(plan.layer_heights_um)} layers; hatch {_num(p.hatch_um)} um, "
        f"{p.contour_count} contours, angle {_num(p.hatch_angle_deg)} deg "
        f"+ {_num(p.hatch_angle_offset_deg)} deg per layer",
        f"% blocks: pitch {_num(g.pitch_um)} um, grid {g.shape[0]} x {g.shape[1]}, overlap "
        f"{_num(g.settings.overlap_um)} um, shear {_num(g.settings.shear_angle_deg)} deg, "
        f"{g.settings.order}; {len(plan.programs)} distinct, {len(plan.placements)} placed",
        "% order: rows bottom to top (+y), each row left to right (+x); windows shift by "
        "-z*tan(shear) in x and y, so each later block overhangs the earlier one at every seam",
        f"% stage: every block approached moving +x and +y (overshoot "
        f"{_num(p.backlash_overshoot_um)} um on reversals); at most {p.max_points_per_write} "
        "points per Write",
        "% START: the stage must be at the footprint's lower-left corner (STL x = 0, y = 0); "
        "it returns there at the end",
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


class _Axis:
    """Relative moves of one stage axis that approach every target moving in +direction."""

    def __init__(self, name: str, overshoot_nm: int) -> None:
        self.name, self.overshoot_nm = name, overshoot_nm
        self.positive = False  # True once the last move was in +direction (backlash taken up)

    def moves(self, d_nm: int) -> list[str]:
        b = self.overshoot_nm
        if d_nm == 0 and (self.positive or b == 0):
            return []
        if d_nm > 0 and (self.positive or d_nm >= b):
            steps = [d_nm]
        else:  # reversal, or a first short move: overshoot below the target, then approach
            steps = [d_nm - b, b]
        self.positive = True
        return [f"MoveStage{self.name} {_num(v / 1000)}" for v in steps if v != 0]


def job_text(plan: GwlPlan, design: Surface, options: TemplateOptions, version: str) -> str:
    """The job file ``NAME_job.gwl``: header, then the stage moves and include per placement."""
    out = _header(plan, design, options, version)
    n = len(plan.placements)
    files = f"{plan.name}_files"
    b = round(plan.profile.backlash_overshoot_um * 1000)
    ax, ay = _Axis("X", b), _Axis("Y", b)
    sx = sy = 0
    for block, prog in zip(plan.placements, plan.placement_program, strict=True):
        cx, cy = block.centre_nm
        out += [
            "NewStructure",
            f"% BLOCK {block.index}/{n} ({_num(cx / 1000)}, {_num(cy / 1000)})",
            *ax.moves(cx - sx),
            *ay.moves(cy - sy),
            f"FindInterfaceAt {_num(plan.profile.find_interface_at_um)}",
            f"include {files}\\{plan.programs[prog - 1].file_name}",
            f'MessageOut "block {block.index}/{n} done"',
        ]
        sx, sy = cx, cy
    out += ["% return the stage to the start", *ax.moves(-sx), *ay.moves(-sy)]
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
                "stage_start_um": [0.0, 0.0],
                "stage_start": "the footprint's lower-left corner (STL x = 0, y = 0); the job "
                               "returns the stage there at the end",
                "z_reference": "GWL z = STL z; FindInterfaceAt puts the substrate interface at "
                               "z = interface_z_um, so the first layer (z = 0) lies "
                               "first_layer_below_interface_um inside the substrate",
                "interface_z_um": p.find_interface_at_um,
                "first_layer_below_interface_um": p.anchor_um,
                "max_points_per_write": p.max_points_per_write,
                "stage_moves": "every block position approached moving +x and +y; moves in -x "
                               "or -y overshoot by backlash_overshoot_um and return; no zero "
                               "moves",
                "backlash_overshoot_um": p.backlash_overshoot_um},
        "slicing": {"slice_um": p.slice_um, "anchor_um": p.anchor_um,
                    "layers": len(heights), "first_layer_z_um": float(heights[0]),
                    "first_layer_relative_to_interface_um":
                        float(heights[0]) - p.find_interface_at_um,
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
                      "writing_order": "rows bottom to top (+y), each row left to right (+x)",
                      "shear_direction": list(g.settings.shear_direction),
                      "seam_rule": "at every shared seam the block written later overhangs the "
                                   "block written earlier: windows shift by -z*tan(shear) in x "
                                   "and y, against the writing order",
                      "field_diameter_um": g.settings.field_diameter_um,
                      "field_margin_um": g.settings.field_margin_um,
                      "usable_field_radius_um": g.settings.usable_radius_um},
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
    height = z1 - z0
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
        "Splitting.BlockOrderMode = Lexical",
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
