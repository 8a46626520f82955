"""Dose-test matrix: one small patch of a design printed over a LaserPower × ScanSpeed grid.

An operator prints this before a multi-hour job to find the process window in minutes. The
patch is the design's template on a small square footprint (by default the whole number of
periods that fits one block), planned once with :func:`~templater.fab.gwl_plan.plan_gwl`; the
job places that patch's blocks at every grid position, each patch preceded by its own
``LaserPower`` and ``ScanSpeed`` lines. Columns are laser powers (ascending in +x), rows scan
speeds (ascending in +y); patches are ``gap`` apart and written row by row, bottom to top, each
row left to right. Pure planning and text: nothing is written here (see
:mod:`templater.jobs.dose_test`).

The job text is the ordinary job file of :func:`~templater.fab.gwl_format.job_text` for all
placements of all patches (same header, stage moves and includes as ``templater make``), with
the patch settings inserted before each patch's first ``NewStructure``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

import trimesh

from templater.fab.gwl_format import CRLF, job_text, sidecar_record
from templater.fab.gwl_plan import GwlPlan, GwlTotals, estimate_time, plan_gwl
from templater.fab.mesh import Footprint, TemplateOptions, build_template_mesh
from templater.fab.printer import PrinterProfile
from templater.geometry.errors import DesignError
from templater.geometry.surfaces import Surface

__all__ = ["DEFAULT_POWERS", "DEFAULT_SPEEDS", "DEFAULT_GAP_UM", "MAX_VALUES", "DosePatch",
           "DoseMatrix", "parse_values", "parse_powers", "parse_speeds", "plan_dose_matrix",
           "dose_job_text", "dose_sidecar_record", "dose_job_name"]

DEFAULT_POWERS = "20:100:20"  # LaserPower, % of the laser's maximum
DEFAULT_SPEEDS = "20000:100000:20000"  # ScanSpeed, um/s
DEFAULT_GAP_UM = 50.0
MAX_VALUES = 20  # per axis
_POWER_RANGE = (0.0, 100.0)  # (low open, high closed], %
_SPEED_RANGE = (0.0, 100000.0)  # (low open, high closed], um/s (the 25x galvo limit)
_GAP_RANGE = (0.0, 10000.0)


def dose_job_name(design: Surface) -> str:
    """Base name of the dose job's files: ``NAME_dose`` (``NAME_dose_job.gwl``, …)."""
    return f"{design.name}_dose"


@dataclass(frozen=True, slots=True, kw_only=True)
class DosePatch:
    """One patch: grid position (row = speed index, column = power index, from 0), its
    lower-left corner and centre (µm, job coordinates), settings and its block placements
    (1-based indices into the job's placements)."""

    number: int
    row: int
    column: int
    origin_um: tuple[float, float]
    centre_um: tuple[float, float]
    laser_power_percent: float
    scan_speed_um_s: float
    placements: tuple[int, ...]

    @property
    def p2_over_v(self) -> float:
        """Dose figure P²/v (%² s/µm): two-photon exposure grows with P² and the dwell 1/v."""
        return self.laser_power_percent ** 2 / self.scan_speed_um_s


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DoseMatrix:
    """A planned dose test: the patch (template options, mesh, GWL plan), the grid and the
    job plan placing the patch's blocks at every grid position."""

    design: Surface
    options: TemplateOptions  # the patch's template
    mesh: trimesh.Trimesh  # the patch's template mesh (written as NAME.stl)
    patch_plan: GwlPlan  # one patch
    job_plan: GwlPlan  # every patch; name ``NAME_dose``
    powers: tuple[float, ...]
    speeds: tuple[float, ...]
    gap_um: float
    patches: tuple[DosePatch, ...]

    @property
    def patch_size_um(self) -> float:
        """Side of a patch's square footprint, µm."""
        return self.options.footprint.size_um

    @property
    def pitch_um(self) -> float:
        """Distance between the origins of neighbouring patches, µm."""
        return self.patch_size_um + self.gap_um

    @property
    def name(self) -> str:
        """Base name of the job files (``NAME_dose``)."""
        return self.job_plan.name

    def patch_estimate_s(self, patch: DosePatch) -> float:
        """Estimated print time of one patch at its scan speed, s."""
        t = self.patch_plan.totals
        profile = replace(self.patch_plan.profile, scan_speed_um_s=patch.scan_speed_um_s)
        return estimate_time(profile, write_length_um=t.write_length_um, polylines=t.polylines,
                             layers=t.layers_written, placements=t.placements).total_s


def parse_values(text: str, *, what: str, flag: str, unit: str,
                 bounds: tuple[float, float]) -> tuple[float, ...]:
    """Values from ``START:STOP:STEP`` (inclusive of STOP) or a comma list, ascending, distinct,
    each in (low, high]; errors name the flag, value and allowed range."""
    low, high = bounds
    allowed = (f"START:STOP:STEP or a comma list, {MAX_VALUES} values at most, each in "
               f"({low:g}, {high:g}]")
    text = str(text).strip()

    def bad(value: object) -> DesignError:
        return DesignError("dose test", what, flag, value, allowed, unit)

    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3 or not all(math.isfinite(p) for p in parts) or parts[2] <= 0 \
                    or parts[1] < parts[0]:
                raise bad(text)
            start, stop, step = parts
            count = math.floor((stop - start) / step + 1e-9) + 1
            if count > MAX_VALUES:
                raise bad(text)
            values = [round(start + k * step, 9) for k in range(count)]
        else:
            values = [float(p) for p in re.split(r"[,\s]+", text) if p]
    except ValueError:
        raise bad(text) from None
    if not values or len(values) > MAX_VALUES:
        raise bad(text)
    for v in values:
        if not (math.isfinite(v) and low < v <= high):
            raise bad(v)
    out = tuple(sorted(set(values)))
    return out


def parse_powers(text: str) -> tuple[float, ...]:
    """LaserPower values (%) from ``--powers`` text, e.g. ``20:100:20`` or ``30,40,50``."""
    return parse_values(text, what="laser power", flag="powers", unit="%", bounds=_POWER_RANGE)


def parse_speeds(text: str) -> tuple[float, ...]:
    """ScanSpeed values (µm/s) from ``--speeds`` text, e.g. ``20000:100000:20000``."""
    return parse_values(text, what="scan speed", flag="speeds", unit="um/s",
                        bounds=_SPEED_RANGE)


def _plan_patch(design: Surface, options: TemplateOptions,
                profile: PrinterProfile) -> tuple[trimesh.Trimesh, GwlPlan]:
    mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                               tolerance_um=options.tolerance_um)
    return mesh, plan_gwl(design, options, profile=profile, mesh=mesh)


def plan_dose_matrix(design: Surface, *, profile: PrinterProfile,
                     powers: tuple[float, ...], speeds: tuple[float, ...],
                     patch_size_um: float | None = None, gap_um: float = DEFAULT_GAP_UM,
                     base_um: float | None = None,
                     tolerance_um: float | None = None) -> DoseMatrix:
    """Plan a dose test of ``design`` without writing anything.

    Parameters
    ----------
    powers, speeds : tuple of float
        LaserPower values (%) for the columns and ScanSpeed values (µm/s) for the rows.
    patch_size_um : float, optional
        Side of each patch's square footprint, µm. Default: the largest whole number of periods
        (at least one) that one block holds, so each patch is a single block.
    gap_um : float
        Clear distance between neighbouring patches, µm.
    base_um, tolerance_um : float, optional
        Template base and tolerance (the defaults of ``templater make`` when omitted).
    """
    for p in powers:
        if not _POWER_RANGE[0] < p <= _POWER_RANGE[1]:
            raise DesignError("dose test", "laser power", "powers", p,
                              f"({_POWER_RANGE[0]:g}, {_POWER_RANGE[1]:g}]", "%")
    for v in speeds:
        if not _SPEED_RANGE[0] < v <= _SPEED_RANGE[1]:
            raise DesignError("dose test", "scan speed", "speeds", v,
                              f"({_SPEED_RANGE[0]:g}, {_SPEED_RANGE[1]:g}]", "um/s")
    if not powers or not speeds:
        raise DesignError("dose test", "grid", "powers", len(powers) * len(speeds),
                          "at least one power and one speed", "")
    if not (math.isfinite(gap_um) and _GAP_RANGE[0] < gap_um <= _GAP_RANGE[1]):
        raise DesignError("dose test", "gap", "gap", gap_um,
                          f"({_GAP_RANGE[0]:g}, {_GAP_RANGE[1]:g}]", "um")
    extra: dict[str, Any] = {}
    if base_um is not None:
        extra["base_um"] = base_um
    if tolerance_um is not None:
        extra["tolerance_um"] = tolerance_um
    s = design.period_um
    if patch_size_um is None:
        n = max(1, math.floor(profile.block_max_um / s + 1e-9))
        options = TemplateOptions(footprint=Footprint(shape="square", size_um=n * s), **extra)
        mesh, plan = _plan_patch(design, options, profile)
        fit = max(1, math.floor(plan.grid.pitch_um / s + 1e-9))
        if plan.totals.placements > 1 and fit < n:  # a block holds fewer periods: one block
            options = TemplateOptions(footprint=Footprint(shape="square", size_um=fit * s),
                                      **extra)
            mesh, plan = _plan_patch(design, options, profile)
    else:
        options = TemplateOptions(footprint=Footprint(shape="square", size_um=patch_size_um),
                                  **extra)
        mesh, plan = _plan_patch(design, options, profile)
    return _matrix(design, options, mesh, plan, tuple(powers), tuple(speeds), float(gap_um))


def _matrix(design: Surface, options: TemplateOptions, mesh: trimesh.Trimesh, plan: GwlPlan,
            powers: tuple[float, ...], speeds: tuple[float, ...], gap_um: float) -> DoseMatrix:
    pitch = options.footprint.size_um + gap_um
    size = options.footprint.size_um
    k = len(plan.placements)
    blocks = []
    program = []
    patches = []
    for row, speed in enumerate(speeds):  # rows bottom to top, each left to right
        for col, power in enumerate(powers):
            ox, oy = col * pitch, row * pitch
            dx, dy = round(ox * 1000), round(oy * 1000)
            first = len(blocks) + 1
            for block, prog in zip(plan.placements, plan.placement_program, strict=True):
                cx, cy = block.centre_nm
                blocks.append(replace(block, index=len(blocks) + 1, centre_nm=(cx + dx, cy + dy)))
                program.append(prog)
            patches.append(DosePatch(number=len(patches) + 1, row=row, column=col,
                                     origin_um=(dx / 1000, dy / 1000),
                                     centre_um=(dx / 1000 + size / 2, dy / 1000 + size / 2),
                                     laser_power_percent=power, scan_speed_um_s=speed,
                                     placements=tuple(range(first, first + k))))
    n = len(patches)
    t = plan.totals
    totals = GwlTotals(placements=t.placements * n, distinct_blocks=t.distinct_blocks,
                       polylines=t.polylines * n, segments=t.segments * n,
                       write_length_um=t.write_length_um * n,
                       layers_written=t.layers_written * n)
    # one estimate at the effective speed v: L/v = sum over patches of L_patch/v_patch
    write_s = sum(t.write_length_um / p.scan_speed_um_s for p in patches)
    v_eff = totals.write_length_um / write_s if write_s > 0 else plan.profile.scan_speed_um_s
    estimate = estimate_time(replace(plan.profile, scan_speed_um_s=v_eff),
                             write_length_um=totals.write_length_um, polylines=totals.polylines,
                             layers=totals.layers_written, placements=totals.placements)
    job_plan = replace(plan, name=dose_job_name(design),
                       grid=replace(plan.grid, blocks=tuple(blocks)),
                       placement_program=tuple(program), totals=totals, estimate=estimate)
    return DoseMatrix(design=design, options=options, mesh=mesh, patch_plan=plan,
                      job_plan=job_plan, powers=powers, speeds=speeds, gap_um=gap_um,
                      patches=tuple(patches))


def _num(v: float) -> str:
    return f"{float(v) + 0.0:.3f}"


def dose_job_text(matrix: DoseMatrix, version: str) -> str:
    """The job file ``NAME_dose_job.gwl``: the job of every patch placement, each patch's
    ``LaserPower`` / ``ScanSpeed`` before its first ``NewStructure``."""
    text = job_text(matrix.job_plan, matrix.design, matrix.options, version)
    lines = text.split(CRLF)
    if lines and lines[-1] == "":
        lines.pop()
    starts = {p.placements[0]: p for p in matrix.patches}
    n = len(matrix.patches)
    out: list[str] = []
    count = 0
    for line in lines:
        if line.strip().lower() == "newstructure":
            count += 1
            patch = starts.get(count)
            if patch is not None:
                out += [f"% PATCH {patch.number}/{n}: row {patch.row} (ScanSpeed), column "
                        f"{patch.column} (LaserPower), centre ({_num(patch.centre_um[0])}, "
                        f"{_num(patch.centre_um[1])}) um, P^2/v = {patch.p2_over_v:.6g} "
                        "%^2 s/um",
                        f"LaserPower {_num(patch.laser_power_percent)}",
                        f"ScanSpeed {_num(patch.scan_speed_um_s)}"]
        out.append(line)
        if count == 0 and line.startswith("%%% Last Line in Parameter Settings"):
            out.append(f"% DOSE TEST: {n} patches of {_num(matrix.patch_size_um)} um, "
                       f"{len(matrix.powers)} LaserPower columns (+x) x {len(matrix.speeds)} "
                       f"ScanSpeed rows (+y), gap {_num(matrix.gap_um)} um; settings of every "
                       f"patch in {matrix.name}_job.json")
    if count != len(matrix.job_plan.placements):
        raise RuntimeError(f"job text has {count} structures for "
                           f"{len(matrix.job_plan.placements)} placements")
    return CRLF.join(out) + CRLF


def dose_sidecar_record(matrix: DoseMatrix, version: str,
                        stl_sha256: str | None) -> dict[str, Any]:
    """The sidecar ``NAME_dose_job.json``: the usual job record of all placements plus
    ``"dose_test"``, which lists every patch's grid position, centre and settings."""
    d = matrix.design
    record = sidecar_record(matrix.job_plan, d, matrix.options, version, stl_sha256)
    record["name"] = d.name
    record["template"]["stl"] = f"{d.name}.stl"
    record["dose_test"] = {
        "patch_size_um": matrix.patch_size_um,
        "gap_um": matrix.gap_um,
        "pitch_um": matrix.pitch_um,
        "grid": [len(matrix.powers), len(matrix.speeds)],
        "layout": "columns = LaserPower ascending in +x, rows = ScanSpeed ascending in +y; "
                  "patch origin = (column, row) * pitch_um; the template of one patch is "
                  f"{d.name}.stl",
        "laser_powers_percent": list(matrix.powers),
        "scan_speeds_um_s": list(matrix.speeds),
        "p2_over_v_unit": "%^2 s/um",
        "patch_totals": matrix.patch_plan.totals.to_record(),
        "patches": [
            {"number": p.number, "row": p.row, "column": p.column,
             "origin_um": list(p.origin_um), "centre_um": list(p.centre_um),
             "laser_power_percent": p.laser_power_percent,
             "scan_speed_um_s": p.scan_speed_um_s, "p2_over_v": p.p2_over_v,
             "placements": list(p.placements),
             "estimate_s": matrix.patch_estimate_s(p)}
            for p in matrix.patches
        ],
    }
    return record
