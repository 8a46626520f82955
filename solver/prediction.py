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

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from solver.calibration import REFERENCE_CURRENT_A_M2
from solver.creep import (
    CreepOptions,
    CreepResult,
    solve_creep,
    solve_creep_converged,
    solve_creep_dimensionless,
)
from solver.creep_params import CreepParameters
from solver.critical import (
    CrackDrive,
    DendriteConstants,
    critical_current_ratio,
    fracture_critical_current_ratio,
)
from solver.electrolyte import ElectrolyteOptions, ElectrolyteStress
from solver.field import VOXEL_RADIUS_UM, solve_field
from solver.materials import Materials
from solver.results import FieldPair, FieldResult
from templater.geometry.errors import TemplaterError
from templater.geometry.surfaces import Surface
from templater.geometry.units import UM, a_m2_to_ma_cm2, pa_to_mpa

log = logging.getLogger(__name__)

__all__ = ["Prediction", "predict", "default_constants", "CRITERIA", "critical_ratio",
           "critical_ratio_error", "electrolyte_stress", "ElectrolyteReport",
           "solid_design"]

CRITERIA = {
    "fracture": "m J* = J_flat ((P_c - P(J*)) / (P_c - P_flat))^n_g, P = p_Li + crack-opening "
                "stress, P_c = K_IC / (Y sqrt(pi c))",
    "pressure_margin": "m J* = J_flat (1 - dp_max(J*) / dP_margin)^n_g",
}
SHAPE_DIVISIONS = 2  # creep mesh for the excess-pressure shape when Π comes from a table (2 vs 4
# changes J*/J_flat by 0.1 %: egg-box and pyramid H25S150, docs/benchmarks.md); the shape needs
# no tight Newton tolerance (J*/J_flat changes by 3e-6, the frustum's solve is 20 % faster)
SHAPE_OPTIONS = CreepOptions(tol=1e-3, pressure_tol=1e-2)
# the electrolyte stress is refined level by level from ElectrolyteOptions.divisions until two
# levels agree to 2 % of the departure from the flat interface, up to 6 divisions (rounded
# edges need 5-6, steep egg-boxes 6; docs/benchmarks.md "Electrolyte stress")
ELECTROLYTE_RTOL = 0.02
ELECTROLYTE_MAX_DIVISIONS = 6
FREE_SLIP_CHECK_LAYER = 1.0  # free slip: Π is solved again with this first element layer (in
# lateral spacings) and the difference counted in its error (see _free_slip_spread)
ELECTROLYTE_ROUNDED_START = 5  # rounded edges start here (4 and 3 agreed to 2 % for none of the
# paper's rounded designs: 5.5-14 %)


def _json_num(value: float) -> float | None:
    return None if math.isnan(value) else value


def critical_ratio(m: float, pf: float, *, constants: DendriteConstants, creep_exponent: float,
                   drive: CrackDrive | None = None, stress_rel: float = 0.0,
                   flat: bool = False) -> float:
    """J*/J_flat by the constants' criterion from m, P_f (Δp_max at J_flat) and, for the
    fracture criterion, the design's crack drive (its departure from flat scaled by
    1 + ``stress_rel``); exactly 1 for the flat interface."""
    if flat:
        return 1.0  # the flat interface defines J_flat
    ng = constants.growth_exponent or creep_exponent
    if constants.criterion == "fracture":
        if drive is None:
            raise ValueError("the fracture criterion needs the design's crack drive")
        return fracture_critical_current_ratio(
            m, pf, _scaled(drive, stress_rel), critical_pressure_pa=constants.critical_pressure_pa,
            growth_exponent=ng, creep_exponent=creep_exponent)
    return critical_current_ratio(m, pf, pressure_margin_pa=constants.pressure_margin_pa,
                                  growth_exponent=ng, creep_exponent=creep_exponent)


def critical_ratio_error(m: float, m_error: float, pf: float, pf_error: float, *,
                         constants: DendriteConstants, creep_exponent: float,
                         drive: CrackDrive | None = None, stress_error: float = 0.0,
                         flat: bool = False) -> float:
    """Error estimate of :func:`critical_ratio` from the relative error of m, the absolute
    error of P_f and the relative error of the electrolyte stress."""
    if flat:
        return 0.0

    def ratio_of(m_value: float, pf_value: float, stress_rel: float) -> float:
        return critical_ratio(m_value, pf_value, constants=constants,
                              creep_exponent=creep_exponent, drive=drive, stress_rel=stress_rel)

    return _ratio_error(ratio_of, m, m_error, pf, pf_error, stress_error)


def _ratio_error(ratio_of: Callable[[float, float, float], float], m: float, m_error: float,
                 pf: float, pf_error: float, stress_error: float) -> float:
    """Error of J*/J_flat from the relative error of m, the absolute error of P_f and the
    relative error of the electrolyte stress: the one-sided sensitivities added in quadrature
    (NaN if an input error is unknown)."""
    if math.isnan(m_error) or math.isnan(pf_error) or math.isnan(stress_error):
        return math.nan
    ratio = ratio_of(m, pf, 0.0)
    d_m = ratio_of(m * (1.0 + abs(m_error)), pf, 0.0) - ratio
    d_p = ratio_of(m, pf + abs(pf_error), 0.0) - ratio
    d_s = ratio_of(m, pf, abs(stress_error)) - ratio
    return math.hypot(d_m, d_p, d_s)


def _last_maximum(values: np.ndarray) -> int:
    """Index of the maximum; of values equal to it within round-off (1e-9 of the largest
    magnitude: mirror images x ↔ y) the last, i.e. x ≥ y for vertices ordered by x (the field's
    wedge convention), so that round-off does not pick the reported location."""
    tol = 1e-9 * float(np.max(np.abs(values)))
    return int(np.flatnonzero(values >= np.max(values) - tol)[-1])


def _scaled(drive: CrackDrive, rel: float) -> CrackDrive:
    """The drive with its departure from the flat interface scaled by 1 + rel."""
    if rel == 0.0:
        return drive
    return CrackDrive(stack_pa=drive.stack_pa, base=drive.flat + (drive.base - drive.flat)
                      * (1.0 + rel), slope=drive.slope * (1.0 + rel), flat=drive.flat)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ElectrolyteReport:
    """Electrolyte stress at J* (fracture criterion): surface hoop stress and crack drive."""

    stress: ElectrolyteStress
    max_hoop_stress_pa: float  # largest crack-opening stress on the interface at J*
    location_um: tuple[float, float]
    stress_concentration: float
    crack_driving_pressure_pa: float  # max p_Li + σ̄ at J*
    flat_crack_driving_pressure_pa: float
    critical_pressure_pa: float  # P_c
    error_estimate: float  # relative error of the crack drive's departure from flat (depth c)
    pressure_part_error_pa: float = 0.0  # change of the drive at J* by the error of Π
    interface_error_estimate: float = float("nan")  # the same at the interface (K_t, hoop stress)

    @property
    def interface_error(self) -> float:
        """Relative error of the interface values (K_t and the hoop stress, depth 0): they
        converge differently from the crack-averaged drive (NaN recorded: the drive's)."""
        return (self.error_estimate if math.isnan(self.interface_error_estimate)
                else self.interface_error_estimate)

    @property
    def max_hoop_stress_error_pa(self) -> float:
        """Absolute error estimate of the hoop stress: the relative error times its departure
        from the flat interface's lateral stress."""
        flat = self.stress.flat_ratio * self.stress_stack_pa
        return abs(self.interface_error) * abs(self.max_hoop_stress_pa - flat)

    @property
    def crack_driving_pressure_error_pa(self) -> float:
        """Absolute error estimate of the crack-driving pressure at J* (its departure from the
        flat interface times the relative error)."""
        stress_part = abs(self.error_estimate) * abs(self.crack_driving_pressure_pa
                                                     - self.flat_crack_driving_pressure_pa)
        return math.hypot(stress_part, self.pressure_part_error_pa)

    @property
    def stress_concentration_error(self) -> float:
        """Absolute error estimate of K_t (its departure from 1 times the relative error)."""
        return abs(self.interface_error) * abs(self.stress_concentration - 1.0)

    @property
    def stress_stack_pa(self) -> float:
        return self.flat_crack_driving_pressure_pa / (1.0 + self.stress.flat_ratio)


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
    electrolyte: ElectrolyteReport | None = None  # fracture criterion on a contoured design
    kinetics: str = "linear"  # tip current at J*: "linear" or "butler-volmer"
    kinetics_iterations: int = 0  # J* ↔ m(J*) fixed-point iterations (Butler-Volmer)
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
            "notes": list(self.notes),
            "reference_current_mA_cm2": a_m2_to_ma_cm2(REFERENCE_CURRENT_A_M2),
            "pressure_used": "hydrostatic",
            "parameters": {k: getattr(self.creep_params, k)
                           for k in self.creep_params.__dataclass_fields__},
        }
        c = self.constants
        e = self.electrolyte
        d["electrolyte"] = None if e is None else {
            "max_hoop_stress_MPa": pa_to_mpa(e.max_hoop_stress_pa),
            "max_hoop_stress_error_MPa": _json_num(pa_to_mpa(e.max_hoop_stress_error_pa)),
            "location_um": [e.location_um[0], e.location_um[1]],
            "stress_concentration": e.stress_concentration,
            "stress_concentration_error": _json_num(e.stress_concentration_error),
            "interface_error_estimate": _json_num(e.interface_error),
            "lateral_condition": e.stress.options.lateral_condition,
            "poisson_ratio": e.stress.options.poisson_ratio,
            "crack_size_um": c.crack_size_m / UM,
            "crack_driving_pressure_MPa": pa_to_mpa(e.crack_driving_pressure_pa),
            "crack_driving_pressure_error_MPa": _json_num(
                pa_to_mpa(e.crack_driving_pressure_error_pa)),
            "flat_crack_driving_pressure_MPa": pa_to_mpa(e.flat_crack_driving_pressure_pa),
            "critical_pressure_MPa": pa_to_mpa(e.critical_pressure_pa),
            "error_estimate": _json_num(e.error_estimate),
            "divisions": e.stress.divisions,
        }
        d["dendrite"] = {
            "criterion": c.criterion,
            "critical_current_ratio": self.critical_current_ratio,
            "critical_current_ratio_error": _json_num(self.critical_current_ratio_error),
            "critical_current_mA_cm2": a_m2_to_ma_cm2(self.critical_current_a_m2),
            "flat_critical_current_mA_cm2": a_m2_to_ma_cm2(c.flat_critical_current_a_m2),
            "pressure_margin_MPa": pa_to_mpa(c.pressure_margin_pa),
            "fracture_toughness_MPa_m05": pa_to_mpa(c.fracture_toughness_pa_m05),
            "crack_size_um": c.crack_size_m / UM,
            "growth_exponent": c.growth_exponent or self.creep_params.stress_exponent,
            "max_current_ratio": self.max_current_ratio,
            "kinetics": self.kinetics,
            "excess_pressure_at_flat_ccd_MPa": pa_to_mpa(self.excess_pressure_at_flat_ccd_pa),
            "calibration": self.calibration,
        }
        d["coupling"] = (None if self.coupling_current_change is None
                         else {"max_current_relative_change": self.coupling_current_change})
        d["solve_time_s"] = self.solve_time_s
        return d


def solid_design(design: Surface, secondary: FieldResult | None = None) -> Surface:
    """The design the mechanics solve: sharp edges rounded to the field's edge radius (a sharp
    edge makes the creep flow and the elastic stress singular). Without ``secondary``: the
    radius a default field solve rounds to (the design's, at least the voxel radius), known
    before the field is solved."""
    if design.is_smooth or design.height_um == 0:
        return design
    field_radius = None if secondary is None else secondary.edge_radius_um
    radius = max(design.edge_radius_um, field_radius or VOXEL_RADIUS_UM)
    return design.with_edge_radius(radius)


class _ElectrolyteSolve:
    """The electrolyte stress of a design, solved in threads (SuperLU and numpy release the
    GIL): the mesh levels are chosen from the stack-pressure state alone, which needs the
    design only (so a rounded design's start before its field is solved), while the coarse
    creep solve of the excess-pressure shape builds its mesh and then waits for the current.
    :meth:`provide_shape` hands over the field, or the shape of a creep solve; :meth:`cancel`
    resolves what the threads wait on when neither will come."""

    def __init__(self, solid: Surface, params: CreepParameters, options: ElectrolyteOptions,
                 crack_um: float, *, refine_for_um: float | None = None,
                 creep: CreepResult | None = None, name: str | None = None) -> None:
        from solver.electrolyte import solve_electrolyte_converged

        self.solid = solid
        self.name = name or solid.name  # the design's name, as the user gave it
        if not solid.is_smooth:  # the same final pair of levels, one solve fewer
            options = replace(options,
                              divisions=max(options.divisions, ELECTROLYTE_ROUNDED_START))
        self.field: Future = Future()  # the secondary field, for the coarse shape
        self._lock = threading.Lock()  # orders the two sources of the shape
        self._coarse_chosen = False  # the field was provided: the coarse solve sets the shape
        self._coarse_outcome: Callable[[], None] | None = None
        self.shape: Future = Future()
        if creep is not None:  # the shape is known: no coarse solve
            self.shape.set_result(self._shape_of(creep))
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="electrolyte")
        try:
            self.stress = pool.submit(
                solve_electrolyte_converged, solid, options, excess_shape=self.shape,
                crack_depth_um=crack_um, rtol=ELECTROLYTE_RTOL,
                max_divisions=ELECTROLYTE_MAX_DIVISIONS, rtol_crack_um=refine_for_um,
                coarse_beside=not solid.is_smooth)
            if creep is None:
                pool.submit(self._coarse_shape, params)
        except BaseException:  # e.g. no thread could be started: nothing may wait
            self.cancel()
            raise
        finally:
            pool.shutdown(wait=False)  # the threads end with their tasks

    def _coarse_shape(self, params: CreepParameters) -> None:
        """The shape from a coarse creep solve (Π from a table); its current is read after
        the mesh is built, from the field once it is provided. Its outcome (shape or error)
        becomes the shape's only if the field was provided: a creep result may have come
        first."""
        def current(x_um: np.ndarray, y_um: np.ndarray) -> np.ndarray:
            return self.field.result().current_ratio_at_um(x_um, y_um)

        try:
            result = solve_creep(self.solid, current, params,
                                 current_density_a_m2=REFERENCE_CURRENT_A_M2,
                                 divisions=SHAPE_DIVISIONS, options=SHAPE_OPTIONS)
            outcome = functools.partial(self.shape.set_result, self._shape_of(result))
        except BaseException as exc:  # noqa: BLE001 (re-raised by result())
            outcome = functools.partial(self.shape.set_exception, exc)
        with self._lock:
            self._coarse_outcome = outcome
            if self._coarse_chosen and not self.shape.done():
                outcome()

    def provide_shape(self, secondary: FieldResult, creep: CreepResult | None,
                      notify: Callable[[str], None] | None) -> None:
        """The shape of the excess Li pressure: from ``creep``, or (Π from a table) from the
        coarse creep solve, given ``secondary``."""
        if creep is None and not self.shape.done() and notify is not None:
            notify(f"{self.name}: excess-pressure shape for the electrolyte stress "
                   f"(creep mesh {SHAPE_DIVISIONS})")
        with self._lock:
            if self.shape.done() or self.field.done():  # given already, or cancelled
                return
            if creep is not None:
                self.shape.set_result(self._shape_of(creep))
                self.field.cancel()  # the coarse solve stops
                return
            self._coarse_chosen = True
            self.field.set_result(secondary)
            if self._coarse_outcome is not None:  # it failed before it needed the field
                self._coarse_outcome()

    def _shape_of(self, result: CreepResult) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        from solver.coupling import pressure_interpolant

        fn = pressure_interpolant(result.x_um, result.y_um,
                                  result.excess_pressure_pa / result.max_excess_pressure_pa,
                                  self.solid.period_um, method="linear")
        return lambda x_um, y_um: fn(x_um * UM, y_um * UM)

    def result(self) -> ElectrolyteStress:
        return self.stress.result()

    def cancel(self) -> None:
        """Resolve the futures the threads wait on when no field or shape will come (an
        error on the way): the coarse solve stops at its current, the stress thread after
        its levels, and neither waits forever."""
        with self._lock:
            self.field.cancel()
            self.shape.cancel()


def electrolyte_stress(design: Surface, secondary: FieldResult, params: CreepParameters,
                 creep: CreepResult | None, options: ElectrolyteOptions, crack_um: float,
                 notify: Callable[[str], None] | None, *,
                 refine_for_um: float | None = None) -> ElectrolyteStress:
    """Electrolyte stress of the (rounded) design for the stack pressure and the shape of the
    excess Li pressure (from the creep solve, or a coarse one when Π came from a table), for
    cracks up to ``crack_um`` deep, refined until two levels agree to ``ELECTROLYTE_RTOL`` for
    cracks ``refine_for_um`` deep (default ``crack_um``)."""
    job = _ElectrolyteSolve(solid_design(design, secondary), params, options, crack_um,
                            refine_for_um=refine_for_um, creep=creep, name=design.name)
    try:
        job.provide_shape(secondary, creep, notify)
        return job.result()
    finally:
        job.cancel()


def _pressure(design: Surface, secondary: FieldResult, params: CreepParameters, *,
              use_tables: bool, divisions: int, notify: Callable[[str], None] | None = None):
    """(Π, error, source, creep result or None, note) at the reference current; the note says
    why Π did not come from a table and whether the creep solve converged, or the known bias
    of the table that served it ("" when there is none)."""
    if design.height_um == 0:
        return 0.0, 0.0, "exact", None, ""
    name = design.name
    design = solid_design(design, secondary)
    if use_tables:
        from solver.tables import lookup_pressure_factor, table_caveat

        hit = lookup_pressure_factor(design, secondary.kinetic_length_m, params)
        if hit is not None:
            caveat = table_caveat(design, secondary.kinetic_length_m, params)
            return hit[0], hit[1], "table", None, caveat
    fn = secondary.current_ratio_at_um
    band = None
    if divisions == 0 and not design.is_smooth:
        band = _band_resolved_plan(design, params)
    how = ("creep solve with the rounding band resolved, about a minute" if band is not None
           else "creep solve, tens of seconds")
    if use_tables:
        from solver.tables import table_miss_reason

        why = table_miss_reason(design, secondary.kinetic_length_m, params)
        note = f"pressure not from the tables: {why}"
        msg = f"{name}: {note}: {how}"
    else:
        note = "pressure from a creep solve (--no-tables)"
        msg = f"{name}: creep solve (--no-tables)"
    log.info(msg)
    if notify is not None:
        notify(msg)
    if divisions > 0:
        res = solve_creep(design, fn, params, current_density_a_m2=REFERENCE_CURRENT_A_M2,
                          divisions=divisions)
    else:
        from solver.tables import OFF_TABLE_LEVELS

        def level(d: int, pi: float, seconds: float) -> None:
            if notify is not None:
                notify(f"  creep mesh {d}{band_text}: Pi = {pi:.4g} ({seconds:.1f} s)")

        band_text = "" if band is None else " (rounding band resolved)"
        if band is not None:
            # the rounded tables' mesh and levels: the coarse band's bias (tens of per cent)
            # is gone; every level is solved (two such levels can agree by accident)
            from solver.tables import BAND_RESOLVED_OPTIONS

            res = solve_creep_converged(design, fn, params, rtol=0.01, criterion="gci",
                                        current_density_a_m2=REFERENCE_CURRENT_A_M2,
                                        start_divisions=band[0], max_divisions=band[1],
                                        min_levels=band[1] - band[0] + 1,
                                        options=BAND_RESOLVED_OPTIONS, on_level=level)
        else:
            # accuracy-driven: refine 4 → 5 → 6 until two levels agree to 1 % (or 60 s)
            res = solve_creep_converged(design, fn, params, rtol=0.01, criterion="step",
                                        current_density_a_m2=REFERENCE_CURRENT_A_M2,
                                        start_divisions=OFF_TABLE_LEVELS[0],
                                        max_divisions=OFF_TABLE_LEVELS[1], time_budget_s=60.0,
                                        on_level=level)
        if band is None and not res.accuracy_met:
            seq = ", ".join(f"{v:.4g}" for v in res.pressure_factor_sequence)
            note += (f"; the creep meshes {res.divisions_sequence[0]}-{res.divisions_sequence[-1]}"
                     f" did not agree to 1 % (Pi {seq})")
    error = res.pressure_factor_error
    if params.slip == "freeslip":
        spread, pi_iso = _free_slip_spread(design, fn, params, res, notify)
        error = error + spread
        note += (f"; free slip: Pi at the interface depends on the first element layer "
                 f"({pi_iso:.4g} with elements as thick as wide), the difference is included "
                 "in the error")
    if band is not None:
        from solver.tables import band_resolved_error

        step = band_resolved_error(design)  # the band-resolved mesh's own band error
        error = error + res.pressure_factor * step
        seq = ", ".join(f"{v:.4g}" for v in res.pressure_factor_sequence)
        note += (f"; solved on the tables' band-resolved creep meshes {band[0]}-{band[1]} "
                 f"(Pi {seq}); the error is their estimate plus {100 * step:.1f} % for the "
                 "rounding band (the largest step of the tables' band checks)")
    elif not design.is_smooth:
        from solver.tables import band_excess

        excess = band_excess()
        if excess > 0.0:  # the same coarse band as the rounded tables: the same bias, on
            # top of the levels' own error
            error = error + res.pressure_factor * excess / (1.0 + excess)
            why = "" if divisions > 0 else f" ({_band_resolved_too_large(design, params)})"
            note += (f"; the creep mesh does not resolve the rounding band{why}, Pi is likely "
                     f"biased high (up to {100 * excess:.0f} % in the tables' checks), included "
                     "in the error")
    return res.pressure_factor, error, "solver", res, note


def _band_resolved_plan(design: Surface, params: CreepParameters) -> tuple[int, int] | None:
    """The levels (first, last) of a band-resolved creep solve of a rounded design off the
    tables, or None when one of its meshes would exceed the vertex budget (memory: an inverted
    frustum's take 5-15 GB)."""
    from solver.tables import OFF_TABLE_BAND_LEVELS, OFF_TABLE_BAND_VERTICES

    if _band_resolved_vertices(design, params) > OFF_TABLE_BAND_VERTICES:
        return None
    return OFF_TABLE_BAND_LEVELS


def _band_resolved_vertices(design: Surface, params: CreepParameters) -> int:
    """The largest vertex count of the band-resolved meshes of an off-table solve (the count
    need not grow with the level: the band nodes dominate)."""
    from solver.creep import mesh_vertex_count
    from solver.tables import BAND_RESOLVED_OPTIONS, OFF_TABLE_BAND_LEVELS

    first, last = OFF_TABLE_BAND_LEVELS
    return max(mesh_vertex_count(design, d, params, BAND_RESOLVED_OPTIONS)
               for d in range(first, last + 1))


def _band_resolved_too_large(design: Surface, params: CreepParameters) -> str:
    """Why a rounded design off the tables was not solved with the band resolved."""
    from solver.tables import OFF_TABLE_BAND_VERTICES

    n = _band_resolved_vertices(design, params)
    return (f"a band-resolved mesh would have {n} vertices, more than the "
            f"{OFF_TABLE_BAND_VERTICES} a prediction allows for memory")


def _free_slip_spread(design: Surface, fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                      params: CreepParameters, res: CreepResult,
                      notify: Callable[[str], None] | None) -> tuple[float, float]:
    """(|Π − Π_iso|, Π_iso): Π of the finest level solved again with the first element layer
    at the interface as thick as the lateral spacing (FREE_SLIP_CHECK_LAYER).

    Free slip has no shear layer, and with the thin first layer graded for a bonded interface
    the interface pressure carries a one-node spike that grows as the layer thins (egg-box
    H25S150 at 8 divisions: 2.19 at the wall, 1.47 one layer (0.57 µm) below; the level
    sequences at first layers of 1/16 … 1 lateral spacing do not meet: 1.64-2.46 at 8-10
    divisions, docs/benchmarks.md): the spread between the two layers is part of the error."""
    t0 = time.perf_counter()
    check = solve_creep_dimensionless(
        design, fn, params, divisions=res.divisions,
        options=_thick_first_layer(res.options or CreepOptions()),
        transition_ratio=res.transition_ratio)
    pi_iso = float(check.pressure.max())
    if notify is not None:
        notify(f"  free-slip layer check, creep mesh {res.divisions[0]} with elements as thick "
               f"as wide: Pi = {pi_iso:.4g} ({time.perf_counter() - t0:.1f} s)")
    return abs(pi_iso - res.pressure_factor), pi_iso


def _thick_first_layer(options: CreepOptions) -> CreepOptions:
    """``options`` with the first element layer as thick as the lateral spacing, over the
    rounding band too (the band-resolved mesh makes it thinner there)."""
    tip = None if options.tip_layer is None else FREE_SLIP_CHECK_LAYER
    return replace(options, interface_layer=FREE_SLIP_CHECK_LAYER, tip_layer=tip)


def _one_blas_thread(fn: Callable[..., Prediction]) -> Callable[..., Prediction]:
    """Run ``fn`` with BLAS limited to one thread. The threads of a prediction enter and leave
    ``threadpool_limits`` regions of their own (creep, interpolants), and OpenBLAS's limit is
    process-wide: with the limit already 1 around them, no region restores a stale value."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Prediction:
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return wrapper


@_one_blas_thread
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
    electrolyte: ElectrolyteOptions | None = None,
    kinetics: str = "linear",
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
        Creep mesh divisions for a direct solve; 0: accuracy-driven, reporting the error
        estimate. Rounded designs are solved on the tables' band-resolved mesh at levels 2-4
        when it fits the vertex budget, other designs refine 4 → 5 → 6 until Π changes by less
        than 1 % between levels (or a 60 s budget).
    couple : bool, default False
        Iterate the Monroe-Newman pressure → exchange-current coupling
        (:mod:`solver.coupling`; smooth designs) and use the coupled maximum current; the
        relative change of the maximum is reported (the paper: < 1 %).
    couple_tol : float, default 1e-4
        Coupling tolerance on the relative change of the current.
    primary : bool, default True
        Also solve the primary distribution (reported, not needed for J*; sweeps skip it).
    electrolyte : ElectrolyteOptions, optional
        Poisson ratio, lateral condition and mesh of the electrolyte stress model (fracture
        criterion; default: the shipped parameter set).
    kinetics : {"linear", "butler-volmer"}, default "linear"
        Tip current at J*: the linearised law (m independent of J), or the full Butler-Volmer
        law evaluated at J* (a fixed point J* ↔ m(J*), :mod:`solver.kinetics`); the creep
        pressure keeps the linear current distribution.
    notify : callable, optional
        Called with a one-line message before a slow step (a creep solve outside the tables).
    """
    t0 = time.perf_counter()
    materials = materials or Materials()
    creep_params = creep_params or CreepParameters()
    constants = constants or default_constants()
    primary_field = None
    if primary:  # reported only: solved in a thread beside the chain (SuperLU and numpy
        # release the GIL), which needs the secondary field only
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="primary-field")
        primary_field = pool.submit(solve_field, surface, materials, mode="primary")
        pool.shutdown(wait=False)  # the thread ends with its one task
    fracture = constants.criterion == "fracture"
    options = electrolyte or ElectrolyteOptions()
    job = None
    if fracture and surface.height_um > 0 and not surface.is_smooth:
        # a rounded design's electrolyte levels (5, 4, 6 divisions) need the design only:
        # started now, beside the FEM field; a smooth design's chain is short, and more
        # threads only contend for the GIL (egg-boxes measured 9 % slower)
        job = _ElectrolyteSolve(solid_design(surface), creep_params, options,
                                constants.crack_size_m / UM, name=surface.name)
    try:
        return _predict(surface, materials, creep_params, constants, job, t0,
                        calibration=calibration, use_tables=use_tables,
                        creep_divisions=creep_divisions, couple=couple, couple_tol=couple_tol,
                        primary_field=primary_field, options=options, kinetics=kinetics,
                        notify=notify)
    finally:
        if job is not None:
            job.cancel()  # no-op once the stress was obtained


def _predict(surface: Surface, materials: Materials, creep_params: CreepParameters,
             constants: DendriteConstants, job: _ElectrolyteSolve | None, t0: float, *,
             calibration: str, use_tables: bool, creep_divisions: int, couple: bool,
             couple_tol: float, primary_field: Future | None, options: ElectrolyteOptions,
             kinetics: str, notify: Callable[[str], None] | None) -> Prediction:
    """The chain of :func:`predict` after the threads it starts: the secondary field, Π, the
    criterion (and the electrolyte stress from ``job``)."""
    secondary = solve_field(surface, materials, mode="secondary")
    pi, pi_err, source, creep, pressure_note = _pressure(
        surface, secondary, creep_params, use_tables=use_tables, divisions=creep_divisions,
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
    jf = constants.flat_critical_current_a_m2
    pf = dp_ref * (jf / REFERENCE_CURRENT_A_M2) ** (1.0 / n)
    pf_rel_error = math.nan if pi == 0.0 else pi_err / pi
    if creep_params.transition_stress_pa > 0.0 and surface.height_um > 0:
        # two-mechanism creep: Δp(J) is no power law; Δp at J_flat and J_flat/2 and the local
        # exponent between them (J* lies near J_flat): Δp(J) = P_f (J/J_flat)^(1/n_eff). Both
        # on the mesh the solve above ended on, whose error Π carries (the reference current
        # is J_flat by default: that solve is P_f's)
        solid = solid_design(surface, secondary)
        level = creep.divisions if creep is not None else (creep_divisions or 4)

        def excess_at(j: float) -> float:
            return solve_creep(solid, secondary.current_ratio_at_um, creep_params,
                               current_density_a_m2=j, divisions=level,
                               options=None if creep is None else creep.options,
                               ).max_excess_pressure_pa

        pf = (creep.max_excess_pressure_pa
              if creep is not None and jf == REFERENCE_CURRENT_A_M2 else excess_at(jf))
        slope = math.log(pf / excess_at(0.5 * jf)) / math.log(2)
        n = 1.0 / min(max(slope, 1.0 / creep_params.stress_exponent), 1.0)
    fracture = constants.criterion == "fracture"
    stress = None
    drive = None
    stress_error = 0.0
    stack = creep_params.stack_pressure_pa
    if fracture:
        if surface.height_um > 0:
            if job is None or job.solid != solid_design(surface, secondary):
                if job is not None:  # the field rounded otherwise
                    job.cancel()
                job = _ElectrolyteSolve(solid_design(surface, secondary), creep_params,
                                        options, constants.crack_size_m / UM, creep=creep,
                                        name=surface.name)
            try:
                job.provide_shape(secondary, creep, notify)
                stress = job.result()
            finally:
                job.cancel()
            drive = stress.crack_drive(stack)
            stress_error = stress.error_estimate
        else:
            from solver.electrolyte import flat_lateral_stress_ratio

            flat = 1.0 + flat_lateral_stress_ratio(options.lateral_condition,
                                                   options.poisson_ratio)
            drive = CrackDrive.flat_interface(stack, flat)
        if not constants.critical_pressure_pa > drive.flat_pa:
            raise TemplaterError(
                f"fracture criterion: P_c = K_IC/(Y sqrt(pi c)) = "
                f"{pa_to_mpa(constants.critical_pressure_pa):.4g} MPa does not exceed the flat "
                f"interface's crack-driving pressure {pa_to_mpa(drive.flat_pa):.4g} MPa: the "
                "flat cell would crack without current (raise K_IC or lower the crack size)")

    flat = surface.height_um == 0
    ratio = critical_ratio(m, pf, constants=constants, creep_exponent=n, drive=drive, flat=flat)
    m_error = 0.0 if secondary.method == "exact" else secondary.error_estimate
    if kinetics not in ("linear", "butler-volmer"):
        raise ValueError(f"kinetics must be 'linear' or 'butler-volmer', got {kinetics!r}")
    bv_iterations = 0
    if kinetics == "butler-volmer" and not flat and ratio > 0.0:
        from solver.kinetics import solve_secondary_bv

        jf = constants.flat_critical_current_a_m2
        for bv_iterations in range(1, 21):  # noqa: B007 (reported)
            bv = solve_secondary_bv(surface, materials, ratio * jf)
            m = bv.max_current_ratio
            new = critical_ratio(m, pf, constants=constants, creep_exponent=n, drive=drive)
            done = abs(new - ratio) <= 1e-6 * ratio
            ratio = new
            if done or ratio == 0.0:
                break
        m_error = bv.field.error_estimate
    pf_error = 0.0 if pi == 0.0 else pf * pf_rel_error
    ratio_error = critical_ratio_error(m, m_error, pf, pf_error, constants=constants,
                                       creep_exponent=n, drive=drive,
                                       stress_error=stress_error, flat=flat)
    report = None
    if stress is not None and drive is not None:
        dp_star = pf * ratio ** (1.0 / n)
        hoop = stress.hoop_stress(stack, dp_star)
        k = _last_maximum(hoop)
        report = ElectrolyteReport(
            stress=stress, max_hoop_stress_pa=float(hoop[k]),
            location_um=(float(stress.x_um[k]), float(stress.y_um[k])),
            stress_concentration=stress.stress_concentration(),
            crack_driving_pressure_pa=drive.at(dp_star),
            flat_crack_driving_pressure_pa=drive.flat_pa,
            critical_pressure_pa=constants.critical_pressure_pa, error_estimate=stress_error,
            interface_error_estimate=stress.drive_error(0.0),
            pressure_part_error_pa=abs(drive.at(dp_star * (1.0 + pf_rel_error))
                                       - drive.at(dp_star)) if pi else 0.0)
    pair = FieldPair(design=surface, materials=materials, secondary=secondary,
                     primary=None if primary_field is None else primary_field.result())
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
        electrolyte=report, kinetics=kinetics, kinetics_iterations=bv_iterations,
        notes=tuple(n for n in (pressure_note, _electrolyte_note(stress)) if n),
    )


def _electrolyte_note(stress: ElectrolyteStress | None) -> str:
    """One line when the electrolyte meshes did not agree to ``ELECTROLYTE_RTOL`` within
    ``ELECTROLYTE_MAX_DIVISIONS`` ("" otherwise)."""
    if stress is None or not stress.error_estimate > ELECTROLYTE_RTOL:
        return ""
    coarse = "" if stress.coarse is None else f" and {stress.coarse.divisions}"
    return (f"the electrolyte meshes of {stress.divisions}{coarse} divisions differ by "
            f"{100 * stress.error_estimate:.1f} % of the departure from flat (the target is "
            f"{100 * ELECTROLYTE_RTOL:.0f} %); the J* error includes it")


def default_constants() -> DendriteConstants:
    """The shipped default dendrite constants (see ``examples/calibrate_defaults.py``)."""
    return DendriteConstants()
