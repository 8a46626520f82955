"""Model inputs of a prediction (materials, creep parameters, dendrite constants) from user values.

User values come in the CLI's units (mS/cm, mA/cm², MPa, kJ/mol); ``None`` keeps the default.
Each value is validated in its CLI unit and converted by its parameter's scale
(:mod:`templater.geometry.parameters`), so every error names the flag and the value as typed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.materials import Materials
from templater.geometry.parameters import default_value, from_cli

if TYPE_CHECKING:
    from solver.electrolyte import ElectrolyteOptions  # heavy (scikit-fem): lazy at run time

__all__ = ["ModelInputs", "model_inputs", "predict_design", "CLI_NAMES"]

# keyword of model_inputs (CLI unit in the name) → (parameter, group it belongs to)
CLI_NAMES: dict[str, tuple[str, str]] = {
    "kappa_ms_cm": ("kappa_s_m", "materials"),
    "i0_ma_cm2": ("i0_a_m2", "materials"),
    "alpha_a": ("alpha_a", "materials"),
    "alpha_c": ("alpha_c", "materials"),
    "temperature_k": ("temperature_k", "materials"),
    "creep_a": ("prefactor_s_mpa_n", "creep"),
    "creep_n": ("stress_exponent", "creep"),
    "creep_transition_mpa": ("transition_stress_pa", "creep"),
    "creep_q_kj_mol": ("activation_energy_j_mol", "creep"),
    "stack_pressure_mpa": ("stack_pressure_pa", "creep"),
    "slip": ("slip", "creep"),
    "flat_ccd_ma_cm2": ("flat_critical_current_a_m2", "dendrite"),
    "pressure_margin_mpa": ("pressure_margin_pa", "dendrite"),
    "growth_exponent": ("growth_exponent", "dendrite"),
    "criterion": ("criterion", "dendrite"),
    "fracture_toughness_mpa_m05": ("fracture_toughness_pa_m05", "dendrite"),
    "crack_size_um": ("crack_size_m", "dendrite"),
    "poisson_ratio": ("poisson_ratio", "electrolyte"),
    "lateral_condition": ("lateral_condition", "electrolyte"),
    "kinetics": ("kinetics", "model"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInputs:
    """Everything a prediction needs besides the design."""

    materials: Materials
    creep: CreepParameters
    constants: DendriteConstants
    electrolyte: ElectrolyteOptions
    kinetics: str  # "linear" or "butler-volmer" (tip current at J*)
    calibration: str  # "default", a calibration file, or either "+ overrides"


def model_inputs(*, calibration: Path | None = None, **values: Any) -> ModelInputs:
    """Validated model inputs from user-unit values keyed as in :data:`CLI_NAMES` (``None``
    keeps the default; raises ``TemplaterError`` subclasses)."""
    from solver.calibration import load_calibration  # lazy: scipy only when predicting
    from solver.electrolyte import ElectrolyteOptions
    from solver.prediction import default_constants

    unknown = sorted(set(values) - set(CLI_NAMES))
    if unknown:
        raise TypeError(f"model_inputs: unknown keywords {unknown}")
    groups: dict[str, dict[str, Any]] = {"materials": {}, "creep": {}, "dendrite": {},
                                         "electrolyte": {}, "model": {}}
    for key, value in values.items():
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
                       electrolyte=ElectrolyteOptions(**groups["electrolyte"]),
                       kinetics=groups["model"].get("kinetics", default_value("kinetics")),
                       calibration=label)


def predict_design(design: Any, model: ModelInputs, **kw: Any) -> Any:
    """:func:`solver.prediction.predict` of ``design`` with every input of ``model``; ``kw``
    are the solver options (tables, coupling, notify, ...)."""
    from solver.prediction import predict

    return predict(design, model.materials, model.creep, model.constants,
                   calibration=model.calibration, electrolyte=model.electrolyte,
                   kinetics=model.kinetics, **kw)
