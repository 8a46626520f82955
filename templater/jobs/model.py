"""Model inputs of a prediction (materials, creep parameters, dendrite constants) from user values.

User values come in the CLI's units (mS/cm, mA/cm², MPa, kJ/mol); ``None`` keeps the default.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from solver.calibration import load_calibration
from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.materials import Materials
from solver.prediction import default_constants
from templater.geometry.units import ma_cm2_to_a_m2, mpa_to_pa

__all__ = ["ModelInputs", "model_inputs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInputs:
    """Everything a prediction needs besides the design."""

    materials: Materials
    creep: CreepParameters
    constants: DendriteConstants
    calibration: str  # "default", a calibration file, or either "+ overrides"


def model_inputs(*, kappa_ms_cm: float | None = None, i0_ma_cm2: float | None = None,
                 alpha_a: float | None = None, alpha_c: float | None = None,
                 temperature_k: float | None = None, creep_a: float | None = None,
                 creep_n: float | None = None, creep_q_kj_mol: float | None = None,
                 stack_pressure_mpa: float | None = None, slip: str | None = None,
                 flat_ccd_ma_cm2: float | None = None, pressure_margin_mpa: float | None = None,
                 growth_exponent: float | None = None,
                 calibration: Path | None = None) -> ModelInputs:
    """Validated model inputs from user-unit values (raises ``TemplaterError`` subclasses)."""
    materials = Materials.from_cli_units(kappa_ms_cm=kappa_ms_cm, i0_ma_cm2=i0_ma_cm2,
                                         alpha_a=alpha_a, alpha_c=alpha_c,
                                         temperature_k=temperature_k)
    creep: dict[str, Any] = {}
    if creep_a is not None:
        creep["prefactor_s_mpa_n"] = creep_a
    if creep_n is not None:
        creep["stress_exponent"] = creep_n
    if creep_q_kj_mol is not None:
        creep["activation_energy_j_mol"] = creep_q_kj_mol * 1e3
    if stack_pressure_mpa is not None:
        creep["stack_pressure_pa"] = mpa_to_pa(stack_pressure_mpa)
    if slip is not None:
        creep["slip"] = slip
    if temperature_k is not None:
        creep["temperature_k"] = temperature_k
    params = CreepParameters(**creep)
    label = "default"
    constants = default_constants()
    if calibration is not None:
        constants = load_calibration(calibration)
        label = str(calibration)
    over: dict[str, Any] = {}
    if flat_ccd_ma_cm2 is not None:
        over["flat_critical_current_a_m2"] = ma_cm2_to_a_m2(flat_ccd_ma_cm2)
    if pressure_margin_mpa is not None:
        over["pressure_margin_pa"] = mpa_to_pa(pressure_margin_mpa)
    if growth_exponent is not None:
        over["growth_exponent"] = growth_exponent
    if over:
        constants = replace(constants, **over)
        label = f"{label} + overrides" if label != "default" else "default + overrides"
    return ModelInputs(materials=materials, creep=params, constants=constants,
                       calibration=label)
