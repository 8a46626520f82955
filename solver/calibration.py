"""Least-squares calibration of the dendrite constants against measured critical currents.

Model per design i (see :mod:`solver.critical`): J*_i = J_flat · r(m_i, P_f,i), with
P_f,i = P1_i (J_flat / J_ref)^(1/n), P1_i the maximum excess pressure computed at the
reference current J_ref = 1 mA/cm². Fitted: J_flat, the criterion's strength constant
(dP_margin for ``pressure_margin``; the crack size c for ``fracture``, K_IC held: the two enter
mainly as K_IC/√c) and (optionally) n_g, by
minimising Σ (ln J*_model − ln J*_measured)² (currents are positive and spread over decades,
so relative errors are the natural metric). Standard errors from the Gauss-Newton covariance
s² (JᵀJ)⁻¹, s² = SSR / (N − p), propagated to natural units by the delta method.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from solver.critical import DendriteConstants
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
    pressure_margin_std_pa: float  # NaN when not fitted (fracture criterion)
    growth_exponent_std: float | None
    rms_log_residual: float
    n_measurements: int
    success: bool  # the optimiser converged and no constant sits at a bound of its search range
    message: str
    at_bounds: tuple[str, ...] = ()  # constants stopped at a search bound: not determined
    crack_size_std_m: float = math.nan  # NaN when not fitted (pressure_margin criterion)


def model_critical_currents(
    max_current_ratios: Sequence[float],
    pressures_at_reference_pa: Sequence[float],
    constants: DendriteConstants,
    *,
    creep_exponent: float,
    stresses: Sequence[Any] | None = None,
    stack_pressure_pa: float | None = None,
) -> np.ndarray:
    """J* [A/m²] of each design for the given constants. The fracture criterion needs each
    design's electrolyte stress (:class:`solver.electrolyte.ElectrolyteStress`, None for the
    flat interface) and the stack pressure."""
    from solver.prediction import critical_ratio  # the one place the criterion is chosen

    jf = constants.flat_critical_current_a_m2
    scale = (jf / REFERENCE_CURRENT_A_M2) ** (1.0 / creep_exponent)
    fracture = constants.criterion == "fracture"
    if fracture and (stresses is None or stack_pressure_pa is None):
        raise ValueError("the fracture criterion needs the designs' electrolyte stresses and "
                         "the stack pressure")
    out = []
    for i, (m, p1) in enumerate(zip(max_current_ratios, pressures_at_reference_pa,
                                    strict=True)):
        stress = stresses[i] if fracture else None
        drive = None
        if stress is not None:
            drive = stress.crack_drive(stack_pressure_pa, constants.crack_size_m * 1e6)
        flat = fracture and stress is None
        out.append(jf * critical_ratio(m, p1 * scale, constants=constants,
                                       creep_exponent=creep_exponent, drive=drive, flat=flat))
    return np.array(out)


def fit_dendrite_constants(
    max_current_ratios: Sequence[float],
    pressures_at_reference_pa: Sequence[float],
    measured_a_m2: Sequence[float],
    *,
    creep_exponent: float,
    fit_growth_exponent: bool = True,
    initial: DendriteConstants | None = None,
    stresses: Sequence[Any] | None = None,
    stack_pressure_pa: float | None = None,
) -> CalibrationResult:
    """Fit J_flat, the strength constant of the criterion of ``initial`` (dP_margin, or the
    crack size c) and n_g to measured critical currents [A/m²]."""
    measured = np.asarray(measured_a_m2, dtype=float)
    n_params = 3 if fit_growth_exponent else 2
    if len(measured) < n_params + 1:
        raise TemplaterError(f"calibration needs at least {n_params + 1} measurements to fit "
                             f"{n_params} constants with uncertainties; got {len(measured)}")
    if np.any(~np.isfinite(measured)) or np.any(measured <= 0):
        raise TemplaterError("measured critical currents must be positive numbers")
    init = initial or DendriteConstants(flat_critical_current_a_m2=float(np.median(measured)))
    fracture = init.criterion == "fracture"
    n = creep_exponent
    strength = "crack_size_m" if fracture else "pressure_margin_pa"
    x0 = [math.log(init.flat_critical_current_a_m2), math.log(getattr(init, strength))]
    if fit_growth_exponent:
        x0.append(init.growth_exponent or n)

    def consts(x: np.ndarray) -> DendriteConstants:
        return replace(init, flat_critical_current_a_m2=float(math.exp(x[0])),
                       growth_exponent=float(x[2]) if fit_growth_exponent
                       else init.growth_exponent, **{strength: float(math.exp(x[1]))})

    def residuals(x: np.ndarray) -> np.ndarray:
        try:
            model = model_critical_currents(max_current_ratios, pressures_at_reference_pa,
                                            consts(x), creep_exponent=n, stresses=stresses,
                                            stack_pressure_pa=stack_pressure_pa)
        except (ValueError, TemplaterError):  # P_c below the flat drive: far off
            return np.full(measured.shape, 50.0)
        return np.log(np.maximum(model, 1e-300)) - np.log(measured)

    bounds = (1e-7, 5e-4) if fracture else (1e4, 1e8)  # c [m] or dP_margin [Pa]
    lower = [math.log(1e-3), math.log(bounds[0])] + ([0.5] if fit_growth_exponent else [])
    upper = [math.log(1e4), math.log(bounds[1])] + ([20.0] if fit_growth_exponent else [])
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
    names = ("flat_critical_current", "crack_size" if fracture else "pressure_margin",
             "growth_exponent")[:n_params]
    span = np.array(upper) - np.array(lower)
    near = (np.abs(sol.x - np.array(lower)) < 1e-6 * span) | (
        np.abs(np.array(upper) - sol.x) < 1e-6 * span)
    at_bounds = tuple(name for name, hit, mask in zip(names, near, sol.active_mask, strict=True)
                      if hit or mask != 0)
    message = str(sol.message)
    if at_bounds:
        message = (f"{', '.join(at_bounds)} at the bound of the search range (the data do not "
                   f"determine it); {message}")
    strength_std = getattr(c, strength) * float(std[1])
    return CalibrationResult(
        constants=c,
        flat_critical_current_std_a_m2=c.flat_critical_current_a_m2 * float(std[0]),
        pressure_margin_std_pa=math.nan if fracture else strength_std,
        crack_size_std_m=strength_std if fracture else math.nan,
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
        f'criterion = "{c.criterion}"',
        f"flat_critical_current_mA_cm2 = {a_m2_to_ma_cm2(c.flat_critical_current_a_m2):.6g}",
        f"pressure_margin_MPa = {pa_to_mpa(c.pressure_margin_pa):.6g}",
        f"fracture_toughness_MPa_m05 = {pa_to_mpa(c.fracture_toughness_pa_m05):.6g}",
        f"crack_size_um = {c.crack_size_m * 1e6:.6g}",
    ]
    if c.growth_exponent is not None:
        lines.append(f"growth_exponent = {c.growth_exponent:.6g}")
    lines += [
        "",
        "[uncertainty]",
        "flat_critical_current_mA_cm2 = "
        f"{a_m2_to_ma_cm2(result.flat_critical_current_std_a_m2):.3g}",
    ]
    if not math.isnan(result.pressure_margin_std_pa):
        lines.append(f"pressure_margin_MPa = {pa_to_mpa(result.pressure_margin_std_pa):.3g}")
    if not math.isnan(result.crack_size_std_m):
        lines.append(f"crack_size_um = {result.crack_size_std_m * 1e6:.3g}")
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
        extra: dict[str, Any] = {}
        if "criterion" in d:
            extra["criterion"] = str(d["criterion"])
        else:  # files written before the fracture criterion existed
            extra["criterion"] = "pressure_margin"
        if "fracture_toughness_MPa_m05" in d:
            extra["fracture_toughness_pa_m05"] = mpa_to_pa(float(d["fracture_toughness_MPa_m05"]))
        if "crack_size_um" in d:
            extra["crack_size_m"] = float(d["crack_size_um"]) * 1e-6
        return DendriteConstants(
            flat_critical_current_a_m2=ma_cm2_to_a_m2(float(d["flat_critical_current_mA_cm2"])),
            pressure_margin_pa=mpa_to_pa(float(d["pressure_margin_MPa"])),
            growth_exponent=float(d["growth_exponent"]) if "growth_exponent" in d else None,
            **extra,
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
