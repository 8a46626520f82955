"""Text reports of library results (what the commands print)."""

from __future__ import annotations

from solver.prediction import Prediction
from templater.fab.gwl_plan import GwlPlan, format_duration
from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa

__all__ = ["prediction_lines", "gwl_plan_lines", "critical_current_line"]


def critical_current_line(pred: Prediction) -> str:
    """``predicted critical current: …`` (one line)."""
    return (f"predicted critical current: {a_m2_to_ma_cm2(pred.critical_current_a_m2):.3g} "
            f"mA/cm^2 ({pred.critical_current_ratio:.3g} x flat; calibration: "
            f"{pred.calibration})")


def prediction_lines(pred: Prediction) -> list[str]:
    """Human-readable summary of a prediction."""
    f = pred.field
    lines = [f"{pred.design.name}: area ratio A/A0 = {f.area_ratio:.5f}"]
    for label, res in (("primary", f.primary), ("with kinetics", f.secondary)):
        if res is None:
            continue
        extra = f", edge radius {res.edge_radius_um:g} um" if res.edge_radius_um else ""
        err = res.error_estimate
        err_txt = f", est. error {err:.1e}" if err == err else ""
        lines.append(f"  max local current / J ({label}): {res.max_current_ratio:.4f} "
                     f"(min {res.min_current_ratio:.4f}; {res.method}{err_txt}{extra})")
    lines.append(f"  max excess Li pressure at 1 mA/cm^2: "
                 f"{pa_to_mpa(pred.max_excess_pressure_pa):.3f} MPa "
                 f"(Pi = {pred.pressure_factor:.4g}, {pred.pressure_source})")
    c = pred.constants
    lines.append(f"  predicted critical current: {a_m2_to_ma_cm2(pred.critical_current_a_m2):.3g} "
                 f"mA/cm^2 ({pred.critical_current_ratio:.3g} x flat; calibration: "
                 f"{pred.calibration}; J_flat "
                 f"{a_m2_to_ma_cm2(c.flat_critical_current_a_m2):.3g} mA/cm^2)")
    if pred.coupling_current_change is not None:
        lines.append(f"  pressure-kinetics coupling changed the max current by "
                     f"{100 * pred.coupling_current_change:+.3f} %")
    lines.append(f"  solve time {pred.solve_time_s:.2f} s")
    return lines


def gwl_plan_lines(plan: GwlPlan) -> list[str]:
    """Summary lines of a planned GWL job (layers, blocks, write length, estimated time)."""
    t, e = plan.totals, plan.estimate
    return [
        f"GWL: {len(plan.layer_heights_um)} layers, blocks {t.distinct_blocks} distinct / "
        f"{t.placements} placed (pitch {plan.grid.pitch_um:g} um), write length "
        f"{t.write_length_um / 1e6:.1f} m in {t.polylines} lines",
        f"estimated print time: {format_duration(e.total_s)} (write {e.write_s:.0f} s "
        f"+ lines {e.lines_s:.0f} s + layers {e.layers_s:.0f} s + blocks {e.blocks_s:.0f} s)",
    ]
