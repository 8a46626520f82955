"""Least-squares calibration of the dendrite constants against measured critical currents.

Model per design i (see :mod:`solver.critical`): J*_i = J_flat · r(m_i, P_f,i), with
P_f,i = P1_i (J_flat / J_ref)^(1/n), P1_i the maximum excess pressure computed at the
reference current J_ref = 1 mA/cm². Fitted: J_flat, dP_margin and (optionally) n_g, by
minimising Σ (ln J*_model − ln J*_measured)² (currents are positive and spread over decades,
so relative errors are the natural metric). Standard errors from the Gauss-Newton covariance
s² (JᵀJ)⁻¹, s² = SSR / (N − p), propagated to natural units by the delta method.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from solver.critical import DendriteConstants, critical_current_ratio
from templater.geometry.errors import TemplaterError
from templater.geometry.units import a_m2_to_ma_cm2, ma_cm2_to_a_m2, mpa_to_pa, pa_to_mpa

__all__ = ["CalibrationResult", "fit_dendrite_constants", "model_critical_currents",
           "write_calibration", "load_calibration", "REFERENCE_CURRENT_A_M2"]

REFERENCE_CURRENT_A_M2 = 10.0  # 1 mA/cm², the paper's reference current


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationResult:
    """Fitted constants with standard errors (SI) and fit diagnostics."""

    constants: DendriteConstants
    flat_critical_current_std_a_m2: float
    pressure_margin_std_pa: float
    growth_exponent_std: float | None
    rms_log_residual: float
    n_measurements: int
    success: bool  # the optimiser converged and no constant sits at a bound of its search range
    message: str
    at_bounds: tuple[str, ...] = ()  # constants stopped at a search bound: not determined


def model_critical_currents(
    max_current_ratios: Sequence[float],
    pressures_at_reference_pa: Sequence[float],
    constants: DendriteConstants,
    *,
    creep_exponent: float,
) -> np.ndarray:
    """J* [A/m²] of each design for the given constants."""
    jf = constants.flat_critical_current_a_m2
    ng = constants.growth_exponent or creep_exponent
    scale = (jf / REFERENCE_CURRENT_A_M2) ** (1.0 / creep_exponent)
    return np.array([
        jf * critical_current_ratio(m, p1 * scale, pressure_margin_pa=constants.pressure_margin_pa,
                                    growth_exponent=ng, creep_exponent=creep_exponent)
        for m, p1 in zip(max_current_ratios, pressures_at_reference_pa, strict=True)
    ])


def fit_dendrite_constants(
    max_current_ratios: Sequence[float],
    pressures_at_reference_pa: Sequence[float],
    measured_a_m2: Sequence[float],
    *,
    creep_exponent: float,
    fit_growth_exponent: bool = True,
    initial: DendriteConstants | None = None,
) -> CalibrationResult:
    """Fit J_flat, dP_margin (and n_g) to measured critical currents [A/m²]."""
    measured = np.asarray(measured_a_m2, dtype=float)
    n_params = 3 if fit_growth_exponent else 2
    if len(measured) < n_params + 1:
        raise TemplaterError(f"calibration needs at least {n_params + 1} measurements to fit "
                             f"{n_params} constants with uncertainties; got {len(measured)}")
    if np.any(~np.isfinite(measured)) or np.any(measured <= 0):
        raise TemplaterError("measured critical currents must be positive numbers")
    init = initial or DendriteConstants(flat_critical_current_a_m2=float(np.median(measured)))
    n = creep_exponent
    x0 = [math.log(init.flat_critical_current_a_m2), math.log(init.pressure_margin_pa)]
    if fit_growth_exponent:
        x0.append(init.growth_exponent or n)

    def consts(x: np.ndarray) -> DendriteConstants:
        return DendriteConstants(
            flat_critical_current_a_m2=float(math.exp(x[0])),
            pressure_margin_pa=float(math.exp(x[1])),
            growth_exponent=float(x[2]) if fit_growth_exponent else init.growth_exponent,
        )

    def residuals(x: np.ndarray) -> np.ndarray:
        model = model_critical_currents(max_current_ratios, pressures_at_reference_pa,
                                        consts(x), creep_exponent=n)
        return np.log(model) - np.log(measured)

    lower = [math.log(1e-3), math.log(1e4)] + ([0.5] if fit_growth_exponent else [])
    upper = [math.log(1e4), math.log(1e8)] + ([20.0] if fit_growth_exponent else [])
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    sol = least_squares(residuals, x0, bounds=(lower, upper), x_scale="jac")
    dof = max(len(measured) - n_params, 1)
    s2 = float(np.sum(sol.fun**2)) / dof
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac) * s2
        std = np.sqrt(np.maximum(np.diag(cov), 0.0))
    except np.linalg.LinAlgError:
        std = np.full(n_params, np.inf)
    c = consts(sol.x)
    names = ("flat_critical_current", "pressure_margin", "growth_exponent")[:n_params]
    span = np.array(upper) - np.array(lower)
    near = (np.abs(sol.x - np.array(lower)) < 1e-6 * span) | (
        np.abs(np.array(upper) - sol.x) < 1e-6 * span)
    at_bounds = tuple(name for name, hit, mask in zip(names, near, sol.active_mask, strict=True)
                      if hit or mask != 0)
    message = str(sol.message)
    if at_bounds:
        message = (f"{', '.join(at_bounds)} at the bound of the search range (the data do not "
                   f"determine it); {message}")
    return CalibrationResult(
        constants=c,
        flat_critical_current_std_a_m2=c.flat_critical_current_a_m2 * float(std[0]),
        pressure_margin_std_pa=c.pressure_margin_pa * float(std[1]),
        growth_exponent_std=float(std[2]) if fit_growth_exponent else None,
        rms_log_residual=float(np.sqrt(np.mean(sol.fun**2))),
        n_measurements=len(measured),
        success=bool(sol.success) and not at_bounds,
        message=message,
        at_bounds=at_bounds,
    )


def write_calibration(result: CalibrationResult, path: Path, *, source: str) -> None:
    """Write a calibration TOML (user units: mA/cm², MPa) that ``load_calibration`` reads."""
    c = result.constants
    lines = [
        "# templater dendrite calibration (fitted by `templater calibrate`)",
        f"source = {source!r}".replace("'", '"'),
        "",
        "[dendrite]",
        f"flat_critical_current_mA_cm2 = {a_m2_to_ma_cm2(c.flat_critical_current_a_m2):.6g}",
        f"pressure_margin_MPa = {pa_to_mpa(c.pressure_margin_pa):.6g}",
    ]
    if c.growth_exponent is not None:
        lines.append(f"growth_exponent = {c.growth_exponent:.6g}")
    lines += [
        "",
        "[uncertainty]",
        "flat_critical_current_mA_cm2 = "
        f"{a_m2_to_ma_cm2(result.flat_critical_current_std_a_m2):.3g}",
        f"pressure_margin_MPa = {pa_to_mpa(result.pressure_margin_std_pa):.3g}",
    ]
    if result.growth_exponent_std is not None:
        lines.append(f"growth_exponent = {result.growth_exponent_std:.3g}")
    lines += ["", "[fit]", f"n_measurements = {result.n_measurements}",
              f"rms_log_residual = {result.rms_log_residual:.4g}",
              f"success = {str(result.success).lower()}",
              "at_bounds = [" + ", ".join(f'"{b}"' for b in result.at_bounds) + "]", ""]
    Path(path).write_text("\n".join(lines), encoding="utf-8")


def load_calibration(path: Path) -> DendriteConstants:
    """Read a calibration TOML written by :func:`write_calibration`."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        d = data["dendrite"]
        return DendriteConstants(
            flat_critical_current_a_m2=ma_cm2_to_a_m2(float(d["flat_critical_current_mA_cm2"])),
            pressure_margin_pa=mpa_to_pa(float(d["pressure_margin_MPa"])),
            growth_exponent=float(d["growth_exponent"]) if "growth_exponent" in d else None,
        )
    except FileNotFoundError as exc:
        raise TemplaterError(f"calibration file {str(path)!r} not found") from exc
    except IsADirectoryError as exc:
        raise TemplaterError(f"calibration file {str(path)!r} is a folder; give the TOML "
                             "written by `templater calibrate`") from exc
    except OSError as exc:
        raise TemplaterError(f"cannot read calibration file {str(path)!r}: {exc.strerror}") \
            from exc
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise TemplaterError(f"calibration file {str(path)!r} is malformed: {exc}") from exc
