"""Model inputs of a prediction (materials, creep parameters, dendrite constants) from user values.

User values come in the CLI's units (mS/cm, mA/cm², MPa, kJ/mol); ``None`` keeps the default.
Each value is validated in its CLI unit and converted by its parameter's scale
(:mod:`templater.geometry.parameters`), so every error names the flag and the value as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.materials import Materials
from templater.geometry.parameters import from_cli

__all__ = ["ModelInputs", "model_inputs", "CLI_NAMES"]

# keyword of model_inputs (CLI unit in the name) → (parameter, group it belongs to)
CLI_NAMES: dict[str, tuple[str, str]] = {
    "kappa_ms_cm": ("kappa_s_m", "materials"),
    "i0_ma_cm2": ("i0_a_m2", "materials"),
    "alpha_a": ("alpha_a", "materials"),
    "alpha_c": ("alpha_c", "materials"),
    "temperature_k": ("temperature_k", "materials"),
    "creep_a": ("prefactor_s_mpa_n", "creep"),
    "creep_n": ("stress_exponent", "creep"),
    "creep_q_kj_mol": ("activation_energy_j_mol", "creep"),
    "stack_pressure_mpa": ("stack_pressure_pa", "creep"),
    "slip": ("slip", "creep"),
    "flat_ccd_ma_cm2": ("flat_critical_current_a_m2", "dendrite"),
    "pressure_margin_mpa": ("pressure_margin_pa", "dendrite"),
    "growth_exponent": ("growth_exponent", "dendrite"),
}


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
    from solver.calibration import load_calibration  # lazy: scipy only when predicting
    from solver.prediction import default_constants

    given = {"kappa_ms_cm": kappa_ms_cm, "i0_ma_cm2": i0_ma_cm2, "alpha_a": alpha_a,
             "alpha_c": alpha_c, "temperature_k": temperature_k, "creep_a": creep_a,
             "creep_n": creep_n, "creep_q_kj_mol": creep_q_kj_mol,
             "stack_pressure_mpa": stack_pressure_mpa, "slip": slip,
             "flat_ccd_ma_cm2": flat_ccd_ma_cm2, "pressure_margin_mpa": pressure_margin_mpa,
             "growth_exponent": growth_exponent}
    groups: dict[str, dict[str, Any]] = {"materials": {}, "creep": {}, "dendrite": {}}
    for key, value in given.items():
        if value is None:
            continue
        name, group = CLI_NAMES[key]
        groups[group][name] = from_cli(name, value, context=group)
    if "temperature_k" in groups["materials"]:  # one temperature for kinetics and creep
        groups["creep"]["temperature_k"] = groups["materials"]["temperature_k"]
    materials = Materials(**groups["materials"])
    params = CreepParameters(**groups["creep"])
    label = "default"
    constants = default_constants()
    if calibration is not None:
        constants = load_calibration(calibration)
        label = str(calibration)
    if groups["dendrite"]:
        constants = replace(constants, **groups["dendrite"])
        label = f"{label} + overrides" if label != "default" else "default + overrides"
    return ModelInputs(materials=materials, creep=params, constants=constants,
                       calibration=label)
