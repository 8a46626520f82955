"""The ``calibrate`` workflow: predict each measured design, fit the dendrite constants, write
the calibration file atomically."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solver.calibration import CalibrationResult, fit_dendrite_constants, write_calibration
from solver.prediction import Prediction
from templater.geometry.errors import TemplaterError
from templater.jobs.measurements import Measurement, read_measurements
from templater.jobs.model import ModelInputs, predict_design
from templater.jobs.outputs import atomic_output, check_output

__all__ = ["CalibrationReport", "CalibrationPredictionError", "calibrate"]


class CalibrationPredictionError(TemplaterError):
    """The prediction of a measured design failed (the message names the file and line)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationReport:
    """The fit and the file it was written to."""

    fit: CalibrationResult
    out_path: Path
    rows: int


def calibrate(measurements: Path, out_path: Path, *, model: ModelInputs,
              overwrite: bool = False, fit_growth_exponent: bool = True,
              use_tables: bool = True,
              on_row: Callable[[Measurement, Prediction], None] | None = None
              ) -> CalibrationReport:
    """Fit J_flat, the criterion's strength constant (crack size or pressure margin) and n_g to
    the measured cells in ``measurements``.

    ``on_row`` is called after each design is predicted. The calibration TOML appears at
    ``out_path`` only when complete; an existing file is replaced only with ``overwrite``.
    """
    out_path = Path(out_path)
    check_output(out_path, overwrite=overwrite, folder=False, what="calibration file")
    rows = read_measurements(measurements)
    m_values, p_values, measured, stresses = [], [], [], []
    for row in rows:
        try:
            pred = predict_design(row.design, model, use_tables=use_tables)
        except TemplaterError as exc:
            raise CalibrationPredictionError(f"{measurements}:{row.line}: {exc}") from exc
        m_values.append(pred.max_current_ratio)
        p_values.append(pred.max_excess_pressure_pa)
        measured.append(row.critical_current_a_m2)
        stresses.append(None if pred.electrolyte is None else pred.electrolyte.stress)
        if on_row is not None:
            on_row(row, pred)
    fit = fit_dendrite_constants(m_values, p_values, measured,
                                 creep_exponent=model.creep.stress_exponent,
                                 fit_growth_exponent=fit_growth_exponent,
                                 initial=model.constants, stresses=stresses,
                                 stack_pressure_pa=model.creep.stack_pressure_pa)
    with atomic_output(out_path, overwrite=overwrite, folder=False,
                       what="calibration file") as tmp:
        write_calibration(fit, tmp, source=str(measurements))
    return CalibrationReport(fit=fit, out_path=out_path, rows=len(rows))
