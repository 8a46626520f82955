"""Text reports of library results (what the commands print)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa

if TYPE_CHECKING:
    from solver.prediction import Prediction
    from templater.fab.gwl_plan import GwlPlan

__all__ = ["prediction_lines", "gwl_plan_lines", "critical_current_line"]


def _pm(value: float, error: float, fmt: str) -> str:
    """``value ± error`` (``value (error not estimated)`` when the error is unknown)."""
    if math.isnan(error):
        return f"{value:{fmt}} (error not estimated)"
    return f"{value:{fmt}} ± {error:.2g}"


def critical_current_line(pred: Prediction) -> str:
    """``predicted critical current: …`` (one line, with the estimated error)."""
    ratio, err = pred.critical_current_ratio, pred.critical_current_ratio_error
    jf = a_m2_to_ma_cm2(pred.constants.flat_critical_current_a_m2)
    return (f"predicted critical current: {_pm(ratio * jf, err * jf, '.3g')} mA/cm^2 "
            f"({_pm(ratio, err, '.3g')} x flat; calibration: {pred.calibration})")


def minimum_text(min_ratio: float) -> str:
    """``min …`` of a current distribution. The current into Li is never negative; a negative
    nodal value is the FEM gradient overshooting where the current nearly vanishes (the Li's
    concave corners, e.g. at the foot of steep flanks), so it is shown as that, not as a
    current."""
    if min_ratio >= 0.0:
        return f"min {min_ratio:.4f}"
    return f"min ~0, not resolved: {min_ratio:.4f} on the mesh at a concave corner"


def prediction_lines(pred: Prediction) -> list[str]:
    """Human-readable summary of a prediction; every number with its estimated error."""
    f = pred.field
    lines = [f"{pred.design.name}: area ratio A/A0 = {f.area_ratio:.5f}"]
    for label, res in (("primary", f.primary), ("with kinetics", f.secondary)):
        if res is None:
            continue
        extra = f", edge radius {res.edge_radius_um:g} um" if res.edge_radius_um else ""
        err = res.error_estimate
        err_txt = f", est. rel. error {err:.1e}" if err == err else ", error not estimated"
        lines.append(f"  max local current / J ({label}): {res.max_current_ratio:.4f} "
                     f"({minimum_text(res.min_current_ratio)}; {res.method}{err_txt}{extra})")
    dp = pa_to_mpa(pred.max_excess_pressure_pa)
    dp_err = pa_to_mpa(pred.max_excess_pressure_error_pa)
    rel = (f"{100 * pred.pressure_factor_error / pred.pressure_factor:.2g} %"
           if pred.pressure_factor and not math.isnan(pred.pressure_factor_error) else "")
    lines.append(f"  max excess Li pressure at 1 mA/cm^2: {_pm(dp, dp_err, '.3f')} MPa "
                 f"(Pi = {pred.pressure_factor:.4g}{', error ' + rel if rel else ''}, "
                 f"{pred.pressure_source})")
    lines += [f"  note: {note}" for note in pred.notes]
    e = pred.electrolyte
    if e is not None:
        o = e.stress.options
        hoop = _pm(pa_to_mpa(e.max_hoop_stress_pa), pa_to_mpa(e.max_hoop_stress_error_pa), ".3f")
        kt = _pm(e.stress_concentration, e.stress_concentration_error, ".3f")
        lines.append(f"  electrolyte hoop stress at the Li tips at J*: {hoop} MPa "
                     f"(concentration {kt}; {o.lateral_condition}"
                     f" pellet, nu {o.poisson_ratio:g})")
        drive = _pm(pa_to_mpa(e.crack_driving_pressure_pa),
                    pa_to_mpa(e.crack_driving_pressure_error_pa), ".3f")
        lines.append(f"  crack-driving pressure p_Li + stress at J*: {drive} MPa (flat "
                     f"{pa_to_mpa(e.flat_crack_driving_pressure_pa):.3f}, critical "
                     f"{pa_to_mpa(e.critical_pressure_pa):.3f} MPa; crack "
                     f"{pred.constants.crack_size_m * 1e6:g} um)")
    c = pred.constants
    lines.append(f"  {critical_current_line(pred)}; J_flat "
                 f"{a_m2_to_ma_cm2(c.flat_critical_current_a_m2):.3g} mA/cm^2, criterion "
                 f"{c.criterion}, {pred.kinetics} kinetics")
    if pred.kinetics == "butler-volmer":
        lines.append(f"  max local current / J at J* (Butler-Volmer): {pred.max_current_ratio:.4f}"
                     f" ({pred.kinetics_iterations} fixed-point iterations)")
    if pred.coupling_current_change is not None:
        lines.append(f"  pressure-kinetics coupling changed the max current by "
                     f"{100 * pred.coupling_current_change:+.3f} %")
    lines.append(f"  solve time {pred.solve_time_s:.2f} s")
    return lines


def gwl_plan_lines(plan: GwlPlan) -> list[str]:
    """Summary lines of a planned GWL job (layers, blocks, write length, estimated time)."""
    from templater.fab.gwl_plan import format_duration  # the print-job code (trimesh): lazily

    t, e = plan.totals, plan.estimate
    return [
        f"GWL: {len(plan.layer_heights_um)} layers, blocks {t.distinct_blocks} distinct / "
        f"{t.placements} placed (pitch {plan.grid.pitch_um:g} um), write length "
        f"{t.write_length_um / 1e6:.1f} m in {t.polylines} lines",
        f"estimated print time: {format_duration(e.total_s)} (write {e.write_s:.0f} s "
        f"+ lines {e.lines_s:.0f} s + layers {e.layers_s:.0f} s + blocks {e.blocks_s:.0f} s)",
    ]
