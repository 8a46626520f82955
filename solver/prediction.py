"""Full prediction for one design: field → creep pressure → dendrite criterion → J*/J_flat, J*.

Chain (docs/theory.md, "Model chain"): the secondary (linearised Butler-Volmer) current distribution
gives the maximum local current m = i_max/J and the plating rate that feeds the creep solver; the
creep solver gives the maximum excess hydrostatic pressure Δp_max at the reference current
J_ref = 1 mA/cm² (Δp = Π·Σ, Π from a shipped table when the design is covered, else from a direct
solve); the dendrite criterion (:mod:`solver.critical`) combines m and P_f = Δp_max(J_flat) into
J*/J_flat and J* = J_flat × J*/J_flat. The hydrostatic pressure (not the normal traction) feeds
the criterion (an assumption); both are reported.

"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from solver.calibration import REFERENCE_CURRENT_A_M2
from solver.creep import CreepResult, solve_creep, solve_creep_converged
from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants, critical_current_ratio
from solver.field import VOXEL_RADIUS_UM, solve_field
from solver.materials import Materials
from solver.results import FieldPair, FieldResult
from templater.geometry.surfaces import Surface
from templater.geometry.units import UM, a_m2_to_ma_cm2, pa_to_mpa

log = logging.getLogger(__name__)

__all__ = ["Prediction", "predict", "default_constants", "CRITERION"]

CRITERION = "pressure_margin"  # m J* = J_flat (1 − Δp_max(J*)/dP_margin)^n_g


def _json_num(value: float) -> float | None:
    return None if math.isnan(value) else value


def _ratio_error(ratio_of: Callable[[float, float], float], m: float, m_error: float,
                 pf: float, pf_error: float) -> float:
    """Error of J*/J_flat from the relative error of m and the absolute error of P_f: the two
    one-sided sensitivities added in quadrature (NaN if either input error is unknown)."""
    if math.isnan(m_error) or math.isnan(pf_error):
        return math.nan
    ratio = ratio_of(m, pf)
    d_m = ratio_of(m * (1.0 + abs(m_error)), pf) - ratio
    d_p = ratio_of(m, pf + abs(pf_error)) - ratio
    return math.hypot(d_m, d_p)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Prediction:
    """Predicted critical current of one design, with everything it was computed from (SI)."""

    design: Surface
    field: FieldPair
    creep: CreepResult | None
    creep_params: CreepParameters
    constants: DendriteConstants
    calibration: str
    max_current_ratio: float  # m = secondary i_max / J
    pressure_factor: float  # Π = Δp_max / Σ
    pressure_factor_error: float  # absolute error estimate of Π (NaN if unknown)
    pressure_source: str  # "solver" or "table"
    max_excess_pressure_pa: float  # Δp_max at J_ref = 1 mA/cm²
    max_normal_traction_pa: float | None
    max_pressure_location_um: tuple[float, float] | None
    excess_pressure_at_flat_ccd_pa: float  # P_f
    critical_current_ratio: float  # J*/J_flat
    critical_current_ratio_error: float  # from the errors of m and Π (NaN if unknown)
    critical_current_a_m2: float  # J*
    coupling_current_change: float | None  # relative change of m by the coupling (None: off)
    solve_time_s: float
    notes: tuple[str, ...] = field(default=())

    @property
    def max_excess_pressure_error_pa(self) -> float:
        """Absolute error estimate of Δp_max at J_ref [Pa] (from the error of Π; NaN unknown)."""
        if self.pressure_factor == 0.0:
            return 0.0 if self.pressure_factor_error == 0.0 else math.nan
        return self.max_excess_pressure_pa * self.pressure_factor_error / self.pressure_factor

    def to_json_dict(self) -> dict[str, Any]:
        """Field JSON (see :meth:`FieldPair.to_json_dict`) plus ``creep`` and ``dendrite``."""
        d = self.field.to_json_dict()
        loc = self.max_pressure_location_um
        d["creep"] = {
            "max_excess_pressure_MPa": pa_to_mpa(self.max_excess_pressure_pa),
            "max_normal_traction_MPa": (None if self.max_normal_traction_pa is None
                                        else pa_to_mpa(self.max_normal_traction_pa)),
            "max_location_um": None if loc is None else [loc[0], loc[1]],
            "pressure_factor": self.pressure_factor,
            "pressure_factor_error": _json_num(self.pressure_factor_error),
            "max_excess_pressure_error_MPa": _json_num(
                pa_to_mpa(self.max_excess_pressure_error_pa)),
            "source": self.pressure_source,
            "reference_current_mA_cm2": a_m2_to_ma_cm2(REFERENCE_CURRENT_A_M2),
            "pressure_used": "hydrostatic",
            "parameters": {k: getattr(self.creep_params, k)
                           for k in self.creep_params.__dataclass_fields__},
        }
        c = self.constants
        d["dendrite"] = {
            "criterion": CRITERION,
            "critical_current_ratio": self.critical_current_ratio,
            "critical_current_ratio_error": _json_num(self.critical_current_ratio_error),
            "critical_current_mA_cm2": a_m2_to_ma_cm2(self.critical_current_a_m2),
            "flat_critical_current_mA_cm2": a_m2_to_ma_cm2(c.flat_critical_current_a_m2),
            "pressure_margin_MPa": pa_to_mpa(c.pressure_margin_pa),
            "growth_exponent": c.growth_exponent or self.creep_params.stress_exponent,
            "max_current_ratio": self.max_current_ratio,
            "excess_pressure_at_flat_ccd_MPa": pa_to_mpa(self.excess_pressure_at_flat_ccd_pa),
            "calibration": self.calibration,
        }
        d["coupling"] = (None if self.coupling_current_change is None
                         else {"max_current_relative_change": self.coupling_current_change})
        d["solve_time_s"] = self.solve_time_s
        return d


def _pressure(design: Surface, secondary: FieldResult, params: CreepParameters, *,
              use_tables: bool, divisions: int, notify: Callable[[str], None] | None = None):
    """(Π, error, source, creep result or None) at the reference current."""
    if design.height_um == 0:
        return 0.0, 0.0, "exact", None
    if not design.is_smooth:
        # sharp edges make the bonded creep flow singular too: use the field's edge radius
        radius = max(design.edge_radius_um, secondary.edge_radius_um or VOXEL_RADIUS_UM)
        design = design.with_edge_radius(radius)
    if use_tables:
        from solver.tables import lookup_pressure_factor

        hit = lookup_pressure_factor(design, secondary.kinetic_length_m, params)
        if hit is not None:
            return hit[0], hit[1], "table", None
    fn = secondary.current_ratio_at_um
    msg = (f"{design.name}: outside the shipped pressure tables, cold creep solve "
           "(tens of seconds)" if use_tables else f"{design.name}: creep solve")
    log.info(msg)
    if notify is not None:
        notify(msg)
    if divisions > 0:
        res = solve_creep(design, fn, params, current_density_a_m2=REFERENCE_CURRENT_A_M2,
                          divisions=divisions)
    else:
        # accuracy-driven: refine 4 → 5 → 6 until two levels agree to 1 % (or 60 s)
        res = solve_creep_converged(design, fn, params, rtol=0.01, criterion="step",
                                    current_density_a_m2=REFERENCE_CURRENT_A_M2,
                                    start_divisions=4, max_divisions=6, time_budget_s=60.0)
    return res.pressure_factor, res.pressure_factor_error, "solver", res


def predict(
    surface: Surface,
    materials: Materials | None = None,
    creep_params: CreepParameters | None = None,
    constants: DendriteConstants | None = None,
    *,
    calibration: str = "default",
    use_tables: bool = True,
    creep_divisions: int = 0,
    couple: bool = False,
    couple_tol: float = 1e-4,
    primary: bool = True,
    notify: Callable[[str], None] | None = None,
) -> Prediction:
    """Predict J*/J_flat and J* for a design (see module docstring).

    Parameters
    ----------
    surface : Surface
        The design (µm).
    materials, creep_params, constants : optional
        Electrochemistry, creep and dendrite constants (defaults: the shipped
        parameter set and calibration).
    calibration : str, default "default"
        Label of where ``constants`` came from (reported).
    use_tables : bool, default True
        Take Π from the shipped tables when they cover the design; else solve the creep problem.
    creep_divisions : int, default 0
        Creep mesh divisions for a direct solve; 0 refines 4 → 5 → 6 until Π changes by
        less than 1 % between levels (or a 60 s budget), reporting the error estimate.
    couple : bool, default False
        Iterate the Monroe-Newman pressure → exchange-current coupling
        (:mod:`solver.coupling`; smooth designs) and use the coupled maximum current; the
        relative change of the maximum is reported (the paper: < 1 %).
    couple_tol : float, default 1e-4
        Coupling tolerance on the relative change of the current.
    primary : bool, default True
        Also solve the primary distribution (reported, not needed for J*; sweeps skip it).
    notify : callable, optional
        Called with a one-line message before a slow step (a creep solve outside the tables).
    """
    t0 = time.perf_counter()
    materials = materials or Materials()
    creep_params = creep_params or CreepParameters()
    constants = constants or default_constants()
    if primary:
        pair = solve_field(surface, materials)
    else:
        pair = FieldPair(design=surface, materials=materials, primary=None,
                         secondary=solve_field(surface, materials, mode="secondary"))
    secondary = pair.secondary
    pi, pi_err, source, creep = _pressure(surface, secondary, creep_params,
                                          use_tables=use_tables, divisions=creep_divisions,
                                          notify=notify)
    n = creep_params.stress_exponent
    sigma_ref = creep_params.stress_scale_pa(REFERENCE_CURRENT_A_M2, surface.period_um * UM)
    dp_ref = pi * sigma_ref
    m = secondary.max_current_ratio
    change = None
    if couple and surface.height_um > 0:
        from solver.coupling import couple_field_creep, creep_pressure_solver

        coupled = couple_field_creep(
            surface, materials, creep_params, tol=couple_tol,
            solve_pressure=creep_pressure_solver(surface, creep_params,
                                                 divisions=creep_divisions or 4))
        m = coupled.coupled.max_current_ratio
        change = coupled.max_current_relative_change
    pf = dp_ref * (constants.flat_critical_current_a_m2 / REFERENCE_CURRENT_A_M2) ** (1.0 / n)
    def ratio_of(m_value: float, pf_value: float) -> float:
        return critical_current_ratio(m_value, pf_value,
                                      pressure_margin_pa=constants.pressure_margin_pa,
                                      growth_exponent=constants.growth_exponent or n,
                                      creep_exponent=n)

    ratio = ratio_of(m, pf)
    m_error = 0.0 if secondary.method == "exact" else secondary.error_estimate
    pf_error = 0.0 if pi == 0.0 else pf * pi_err / pi
    ratio_error = _ratio_error(ratio_of, m, m_error, pf, pf_error)
    return Prediction(
        design=surface, field=pair, creep=creep, creep_params=creep_params, constants=constants,
        calibration=calibration, max_current_ratio=m, pressure_factor=pi,
        pressure_factor_error=pi_err, pressure_source=source, max_excess_pressure_pa=dp_ref,
        max_normal_traction_pa=None if creep is None else creep.max_normal_traction_pa,
        max_pressure_location_um=None if creep is None else creep.max_location_um,
        excess_pressure_at_flat_ccd_pa=pf, critical_current_ratio=ratio,
        critical_current_ratio_error=ratio_error,
        critical_current_a_m2=ratio * constants.flat_critical_current_a_m2,
        coupling_current_change=change, solve_time_s=time.perf_counter() - t0,
    )


def default_constants() -> DendriteConstants:
    """The shipped default dendrite constants (see ``examples/calibrate_defaults.py``)."""
    return DendriteConstants()
