"""Power-law creep solver: scaling laws, the Newtonian oracle, flat interface, tip location."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pytest

from solver.creep import (
    CreepOptions,
    CreepResult,
    first_order_estimate,
    richardson_estimate,
    solve_creep,
    solve_creep_converged,
    solve_creep_dimensionless,
)
from solver.creep_params import CreepParameters
from templater.geometry.errors import DesignError
from templater.geometry.surfaces import EggBox, Flat, FrustumArray, PyramidArray, Surface

N_LI = 6.56
# the pure power law (σ_t = 0) these tests are about, whatever the default transition stress in
# templates/parameters/default.toml is
POWER_LAW = CreepParameters(transition_stress_pa=0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ridge(Surface):
    """Test-only 2D ridge, e = (H/2)(1 − cos kx): solver-frame interface f = H/2 + (H/2) cos kx,
    Li tip at x = 0 (the Newtonian Stokes oracle of docs/theory.md with ε = H/2)."""

    kind: ClassVar[str] = "ridge"
    height_um: float
    period_um: float
    invert: bool = False

    def _e_raw(self, x, y):
        k = 2.0 * np.pi / self.period_um
        h = self.height_um
        return 0.5 * h * (1.0 - np.cos(k * x)), 0.5 * h * k * np.sin(k * x), 0.0 * y


EGGBOX = EggBox(height_um=25.0, period_um=150.0)
AREA = EGGBOX.area_ratio()


def uniform(x_um, y_um):
    """Uniform plating per true area (charge conservation: i_n/J = 1/(A/A0))."""
    return np.full_like(np.asarray(x_um, dtype=float), 1.0 / AREA)


def first_order(surface: EggBox):
    """First-order primary current of the product egg-box (small-amplitude series):
    i_n/J = 1 + √2 k (f − H/2) = 1 − √2 k (H/2) cos kx cos ky, maximum 1 + √2 πH/S at the Li tip."""
    k = 2.0 * np.pi / surface.period_um
    amp = math.sqrt(2.0) * k * 0.5 * surface.height_um

    def ratio(x_um, y_um):
        return 1.0 - amp * np.cos(k * x_um) * np.cos(k * y_um)

    return ratio


def tip_distance_um(result: CreepResult) -> float:
    """Distance of the pressure maximum from the nearest Li tip (S/2, 0) or (0, S/2)."""
    s = result.design.period_um
    x, y = result.max_location_um
    return min(math.hypot(x - s / 2, y), math.hypot(x, y - s / 2))


@pytest.fixture(scope="module")
def eggbox_noslip() -> CreepResult:
    return solve_creep(EGGBOX, uniform, POWER_LAW, divisions=3, estimate_error=True)


@pytest.fixture(scope="module")
def eggbox_focused() -> CreepResult:
    return solve_creep(EGGBOX, first_order(EGGBOX), POWER_LAW, divisions=3)


# --- parameters -------------------------------------------------------------------------------
def test_default_rate_constant_and_flow_stress_match_physics_table():
    """A*(298.15 K) = 1.40e-2 s⁻¹ MPa⁻ⁿ; flow stress 0.60 MPa at 5e-4 s⁻¹ (docs/theory.md)."""
    params = CreepParameters()
    assert params.rate_constant_s_mpa_n == pytest.approx(1.40e-2, rel=5e-3)
    flow_mpa = (5e-4 / params.rate_constant_s_mpa_n) ** (1.0 / params.stress_exponent)
    assert flow_mpa == pytest.approx(0.60, abs=0.005)


def test_stress_scale_formula():
    params = CreepParameters()
    v0 = 10.0 * 13.0e-6 / 96485.33212  # 1 mA/cm², m/s
    expected = (v0 / 150e-6 / params.rate_constant_s_mpa_n) ** (1.0 / 6.56) * 1e6
    assert params.stress_scale_pa(10.0, 150e-6) == pytest.approx(expected, rel=1e-12)
    assert 0.2e6 < expected < 0.5e6  # magnitude estimate: O(0.1-1 MPa)


@pytest.mark.parametrize(
    "kwargs, flag",
    [
        ({"stress_exponent": 0.5}, "creep-n"),
        ({"prefactor_s_mpa_n": -1.0}, "creep-A"),
        ({"temperature_k": float("nan")}, "temperature"),
        ({"slip": "partial"}, "slip"),
        ({"regularisation": 0.0}, "creep-regularisation"),
        ({"depth_factor": "3"}, "creep-depth"),
    ],
)
def test_bad_parameters_raise_design_error(kwargs, flag):
    with pytest.raises(DesignError) as info:
        CreepParameters(**kwargs)
    assert info.value.flag == flag and info.value.kind == "creep"


def test_bad_divisions_raise():
    with pytest.raises(DesignError, match="divisions"):
        solve_creep(EGGBOX, uniform, divisions=1)


# --- exact properties -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1.0, N_LI])
def test_flat_interface_uniform_current_gives_zero_excess_pressure(n):
    """Rigid translation: Δp = 0 and −σ_nn − p_stack = 0 identically (rigid translation)."""
    res = solve_creep(
        Flat(period_um=150.0),
        lambda x, y: 1.0 + 0.0 * x,
        replace(POWER_LAW, stress_exponent=n),
        divisions=3,
    )
    assert res.converged
    scale = res.stress_scale_pa
    assert np.abs(res.excess_pressure_pa).max() < 1e-9 * scale
    assert np.abs(res.normal_traction_pa).max() < 1e-9 * scale
    assert res.outflow_ratio == pytest.approx(1.0, abs=1e-10)


def test_error_estimate_and_diagnostics(eggbox_noslip):
    """At 3 divisions the estimate uses levels 2 and 3 (first order assumed: 1.25 |ΔΠ| / (r − 1),
    r = 3/2), so it is at least the observed change."""
    res = eggbox_noslip
    assert res.divisions_sequence == (2, 3)
    assert res.pressure_factor_sequence[-1] == pytest.approx(res.pressure_factor)
    step = abs(res.pressure_factor_sequence[1] - res.pressure_factor_sequence[0])
    assert res.pressure_factor_error == pytest.approx(1.25 * step / 0.5)
    assert 0.0 < res.pressure_factor_error < 0.5 * res.pressure_factor
    assert res.dofs > 0 and res.iterations > 0 and res.solve_time_s > 0.0
    assert res.max_excess_pressure_pa == pytest.approx(res.pressure_factor * res.stress_scale_pa)


def test_result_arrays_are_read_only(eggbox_noslip):
    with pytest.raises(ValueError):
        eggbox_noslip.excess_pressure_pa[0] = 0.0


def test_plated_volume_leaves_through_far_boundary(eggbox_noslip):
    """Charge conservation of the uniform current → net outflow V0·A0 (mesh accuracy)."""
    assert eggbox_noslip.outflow_ratio == pytest.approx(1.0, abs=2e-3)


@pytest.mark.parametrize(
    "d, cells, check_traction",
    [(0.0, (12, 2), False), (0.05, (16, 2), True)],
)
def test_newtonian_small_amplitude_matches_stokes_oracle(d, cells, check_traction):
    """Newtonian oracle, n = 1, qε = 0.05: p − p_far = 2μqV(qε + d) cos qx and
    −σ_nn − p_far = 2μqV d cos qx, with μ = 1/3 in units of Σ S/V0, q = 2π/S, V = 1."""
    q, q_eps = 2.0 * np.pi, 0.05
    surface = Ridge(height_um=2.0 * q_eps / q * 150.0, period_um=150.0)
    sol = solve_creep_dimensionless(
        surface,
        lambda x, y: 1.0 + d * np.cos(2.0 * np.pi * x / 150.0),
        replace(POWER_LAW, stress_exponent=1.0),
        divisions=cells,
        options=CreepOptions(interface_layer=1.0),  # the Newtonian flow has no thin shear layer
    )
    tip, valley = sol.x < 1e-9, np.abs(sol.x - 0.5) < 1e-9
    mu = 1.0 / 3.0
    amp = 0.5 * (sol.pressure[tip].mean() - sol.pressure[valley].mean())
    assert amp == pytest.approx(2.0 * mu * q * (q_eps + d), rel=0.02)
    if check_traction:
        amp_t = 0.5 * (sol.normal_traction[tip].mean() - sol.normal_traction[valley].mean())
        assert amp_t == pytest.approx(2.0 * mu * q * d, rel=0.02)


def test_homogeneity_of_the_nonlinear_solver():
    """Doubling the boundary velocity multiplies Π by 2^(1/n) (pure power law, ε̇₀ → 0)."""
    params = replace(POWER_LAW, stress_exponent=N_LI, regularisation=1e-7)
    one = solve_creep_dimensionless(EGGBOX, uniform, params, divisions=3)
    two = solve_creep_dimensionless(EGGBOX, lambda x, y: 2.0 * uniform(x, y), params, divisions=3)
    ratio = two.pressure.max() / one.pressure.max()
    assert ratio == pytest.approx(2.0 ** (1.0 / N_LI), rel=1e-3)


def test_current_density_scaling_through_sigma(eggbox_noslip):
    """Δp(2J)/Δp(J) = 2^(1/n) for the dimensional result (homogeneity)."""
    double = solve_creep(EGGBOX, uniform, POWER_LAW, current_density_a_m2=20.0, divisions=3)
    ratio = double.max_excess_pressure_pa / eggbox_noslip.max_excess_pressure_pa
    assert ratio == pytest.approx(2.0 ** (1.0 / N_LI), rel=1e-3)


def test_geometric_scaling_lambda_power_minus_one_over_n(eggbox_noslip):
    """Same shape ×λ and same current distribution: Δp × λ^(−1/n)."""
    lam = 2.0
    big = EggBox(height_um=25.0 * lam, period_um=150.0 * lam)
    res = solve_creep(big, lambda x, y: uniform(x / lam, y / lam), POWER_LAW, divisions=3)
    ratio = res.max_excess_pressure_pa / eggbox_noslip.max_excess_pressure_pa
    assert ratio == pytest.approx(lam ** (-1.0 / N_LI), rel=1e-6)


# --- physics trends ---------------------------------------------------------------------------
def test_newtonian_pressure_maximum_at_li_tip():
    res = solve_creep(
        EGGBOX, first_order(EGGBOX), replace(POWER_LAW, stress_exponent=1.0), divisions=3
    )
    assert tip_distance_um(res) < 1e-9
    assert res.max_excess_pressure_pa > 0 > res.min_excess_pressure_pa


def test_power_law_pressure_maximum_at_li_tip(eggbox_focused):
    """Primary-like (focused) current: the maximum pressure and the maximum normal traction sit at
    the Li tip (electrolyte trough, e = 0) with the current maximum; the minimum at the
    electrolyte peaks (e = H), below the stack pressure."""
    res = eggbox_focused
    assert res.converged
    assert tip_distance_um(res) < 1e-9
    i_max = int(np.argmax(res.excess_pressure_pa))
    assert res.height_um[i_max] == pytest.approx(0.0, abs=1e-9)
    assert res.current_ratio[i_max] == pytest.approx(res.current_ratio.max())
    x, y = res.max_traction_location_um
    assert min(math.hypot(x - 75.0, y), math.hypot(x, y - 75.0)) < 1e-9
    i_min = int(np.argmin(res.excess_pressure_pa))
    assert res.height_um[i_min] == pytest.approx(25.0, abs=1e-9)
    assert res.min_excess_pressure_pa < 0.0


def test_uniform_plating_pressure_plateau_at_li_tip(eggbox_noslip):
    """Uniform plating, no-slip: a flat-topped maximum around the Li tip; the tip value is within
    2 % of the maximum and the maximum lies within 0.15 S of the tip (measured: at the tip node up
    to 5 divisions)."""
    res = eggbox_noslip
    tips = res.height_um < 1e-9
    assert res.excess_pressure_pa[tips].max() >= 0.98 * res.max_excess_pressure_pa
    assert tip_distance_um(res) <= 0.15 * 150.0
    assert res.converged


def test_pressure_stall_criterion_matches_strict_newton():
    """The Newton stop on stalled interface pressures (pressure_tol = 1e-6, Π-stall rule off)
    gives the strict-tolerance Π to 1e-5 in fewer steps (rounded pyramid H25S150 at 3
    divisions: 15 instead of 16; an egg-box converges in as many steps either way)."""
    from solver.field import solve_field
    from solver.prediction import solid_design

    design = PyramidArray(height_um=25.0, period_um=150.0)
    secondary = solve_field(design, mode="secondary")
    solid = solid_design(design, secondary)
    strict, fast = (solve_creep(solid, secondary.current_ratio_at_um, POWER_LAW, divisions=3,
                                options=CreepOptions(pressure_tol=tol, peak_tol=None))
                    for tol in (None, 1e-6))
    assert strict.converged and strict.step_norm < 1e-8 and fast.converged
    assert fast.pressure_factor == pytest.approx(strict.pressure_factor, rel=1e-5)
    assert fast.iterations < strict.iterations


def test_peak_stall_criterion_matches_strict_newton():
    """The default Newton stop on a stalled Π (peak_tol = 1e-5, two successive full steps)
    gives the strict-tolerance Π to 1e-5 in fewer steps where the pressures away from the peak
    settle slowly (a rounded frustum with a small plateau: 14 instead of 19 steps)."""
    from solver.field import solve_field
    from solver.prediction import solid_design

    design = FrustumArray(height_um=25.0, period_um=150.0, top_fraction=0.3)
    secondary = solve_field(design, mode="secondary")
    solid = solid_design(design, secondary)
    runs = [solve_creep(solid, secondary.current_ratio_at_um, POWER_LAW, divisions=3,
                        options=CreepOptions(pressure_tol=None, peak_tol=tol))
            for tol in (None, 1e-5)]
    strict, fast = runs
    assert strict.converged and strict.step_norm < 1e-8 and fast.converged
    assert fast.pressure_factor == pytest.approx(strict.pressure_factor, rel=1e-5)
    assert fast.iterations < strict.iterations


def test_current_focusing_adds_pressure(eggbox_noslip, eggbox_focused):
    assert eggbox_focused.pressure_factor > eggbox_noslip.pressure_factor


def test_lateral_grading_option_keeps_tip_maximum(eggbox_focused):
    """Grading towards the mirror planes changes the focused-current Π by a few % at 3 divisions
    (measured 5.02 vs 5.09) and keeps the maximum at the Li tip."""
    graded = solve_creep(EGGBOX, first_order(EGGBOX), POWER_LAW, divisions=3,
                         options=CreepOptions(lateral_grading=0.8))
    assert tip_distance_um(graded) < 1e-9
    assert graded.pressure_factor == pytest.approx(eggbox_focused.pressure_factor, rel=0.03)
    assert graded.pressure_factor != eggbox_focused.pressure_factor


def test_free_slip_does_not_exceed_no_slip(eggbox_noslip):
    free = solve_creep(EGGBOX, uniform, replace(POWER_LAW, slip="freeslip"), divisions=3)
    assert free.converged
    assert 0.0 < free.max_excess_pressure_pa <= eggbox_noslip.max_excess_pressure_pa


def test_pressure_grows_with_aspect_ratio():
    """The paper (Fig. 3c/f): max Δp increases with H/S at fixed S."""
    values = []
    for h in (10.0, 25.0):
        design = EggBox(height_um=h, period_um=150.0)
        a = design.area_ratio()
        values.append(
            solve_creep(design, lambda x, y, a=a: 1.0 / a + 0 * x, POWER_LAW,
                        divisions=3).pressure_factor
        )
    assert values[0] < values[1]


# --- convergence estimates ---------------------------------------------------------------------
def test_richardson_recovers_order_and_limit():
    """Synthetic sequence Π = 4 + 2 h^1.5: the observed order and the limit are recovered and the
    GCI error bounds the true error of the finest value."""
    divs = [3, 4, 5]
    values = [4.0 + 2.0 * (1.0 / d) ** 1.5 for d in divs]
    est = richardson_estimate(divs, values)
    assert est.order == pytest.approx(1.5, rel=1e-6)
    assert est.extrapolated == pytest.approx(4.0, rel=1e-9)
    assert est.value == est.extrapolated
    assert abs(values[-1] - 4.0) <= est.error <= 1.3 * abs(values[-1] - 4.0)


def test_richardson_oscillating_and_two_level_sequences_are_conservative():
    osc = richardson_estimate([3, 4, 5], [2.0, 2.1, 2.05])
    assert math.isnan(osc.extrapolated) and osc.value == 2.05
    assert osc.error == pytest.approx(1.25 * 0.1)
    two = richardson_estimate([4, 5], [2.0, 1.9])
    assert two.error == pytest.approx(1.25 * 0.1 / 0.25)
    with pytest.raises(ValueError):
        richardson_estimate([4], [2.0])


def test_first_order_limit_is_exact_for_first_order_data_and_covers_a_quadratic_remainder():
    """Π = 3 + 0.8 h is extrapolated exactly (error 0); with a remainder 1.5 h² the limit is
    off by 1.5 h_8 h_9, and the error is the same measure one level coarser, 1.5 h_7 h_8
    (times the safety factor 1.25), which covers it; an oscillating sequence falls back to the
    GCI of its finest value."""
    divs = [5, 6, 7, 8, 9]
    linear = first_order_estimate(divs, [3.0 + 0.8 / d for d in divs])
    assert linear.value == pytest.approx(3.0, rel=1e-12)
    assert linear.error == pytest.approx(0.0, abs=1e-12)
    assert linear.finest == pytest.approx(3.0 + 0.8 / 9)
    quad = first_order_estimate(divs, [3.0 + 0.8 / d + 1.5 / d**2 for d in divs])
    assert quad.value == pytest.approx(3.0 - 1.5 / (8 * 9), rel=1e-12)
    assert quad.error == pytest.approx(1.25 * 1.5 / (7 * 8), rel=1e-9)
    three = first_order_estimate(divs[2:], [3.0 + 0.8 / d + 1.5 / d**2 for d in divs[2:]])
    assert three.error == pytest.approx(1.25 * abs(three.value - 3.0), rel=1e-9)
    # a first-order sequence converging from below
    below = first_order_estimate(divs, [3.0 - 0.8 / d + 0.3 / d**2 for d in divs])
    assert abs(below.value - 3.0) <= below.error
    osc = first_order_estimate([5, 6, 7], [2.0, 2.1, 2.05])
    gci = richardson_estimate([5, 6, 7], [2.0, 2.1, 2.05])
    assert (osc.value, osc.error) == (gci.value, gci.error) == (2.05, pytest.approx(0.125))
    with pytest.raises(ValueError):
        first_order_estimate([4], [2.0])


def secondary_like(surface: EggBox):
    """Stand-in for the default secondary current of H25S150 (i_max/J ≈ 0.986, nearly uniform):
    (1 − 0.07 cos kx cos ky) / (A/A0), maximum at the Li tip."""
    k = 2.0 * np.pi / surface.period_um
    area = surface.area_ratio()
    return lambda x, y: (1.0 - 0.07 * np.cos(k * x) * np.cos(k * y)) / area


@pytest.fixture(scope="module")
def converged_secondary() -> CreepResult:
    return solve_creep_converged(
        EGGBOX, secondary_like(EGGBOX), POWER_LAW, rtol=0.05, start_divisions=2, max_divisions=4
    )


def test_converged_entry_point_meets_rtol(converged_secondary):
    """Accuracy-driven refinement for the near-uniform (secondary-like) current: stops as soon
    as the estimate meets rtol and reports the sequence (measured: 2.543, 2.815, 2.893 for 2-4
    divisions, GCI 4.3 % with the observed order clamped to 2)."""
    res, rtol = converged_secondary, 0.05
    assert res.accuracy_met
    assert res.pressure_factor_error <= rtol * res.pressure_factor
    assert len(res.pressure_factor_sequence) == len(res.divisions_sequence) >= 2
    assert res.divisions == (res.divisions_sequence[-1],) * 2
    assert len(res.level_times_s) == len(res.divisions_sequence)
    assert res.pressure_factor == res.pressure_factor_sequence[-1]  # finest, not extrapolated
    est = richardson_estimate(res.divisions_sequence, res.pressure_factor_sequence)
    assert res.pressure_factor_error == pytest.approx(est.error)
    assert res.extrapolated_pressure_factor == pytest.approx(est.extrapolated, nan_ok=True)


@pytest.mark.slow
def test_converged_estimate_covers_next_level(converged_secondary):
    """The reported error covers the change to the next finer level (measured 2.884 at 5)."""
    res = converged_secondary
    finer = solve_creep(EGGBOX, secondary_like(EGGBOX), POWER_LAW,
                        divisions=res.divisions[0] + 1)
    assert abs(finer.pressure_factor - res.pressure_factor) <= res.pressure_factor_error


def test_converged_entry_point_reports_unmet_accuracy():
    """A tolerance the allowed levels cannot meet is reported, not hidden."""
    res = solve_creep_converged(
        EGGBOX, first_order(EGGBOX), POWER_LAW, rtol=1e-4, start_divisions=2, max_divisions=3
    )
    assert not res.accuracy_met
    assert res.pressure_factor_error > 1e-4 * res.pressure_factor
    assert res.divisions_sequence == (2, 3)


@pytest.mark.slow
def test_creep_resolution_convergence_secondary_like_current():
    """Π changes by less than 1 % between the two finest resolutions (lateral and vertical
    spacing refined together) for the near-uniform current of the default materials."""
    fn = secondary_like(EGGBOX)
    pis = [solve_creep(EGGBOX, fn, POWER_LAW, divisions=n).pressure_factor for n in (4, 5)]
    assert abs(pis[-1] - pis[-2]) < 0.01 * pis[-1], pis


@pytest.mark.slow
def test_creep_resolution_convergence_focused_current():
    """Focused (first-order primary) current with lateral grading 0.8: Π changes by less than
    1.5 % between 5 and 6 divisions (measured 1.4 %; the 1 % target needs 7 divisions, see the
    module notes), and the GCI estimate of solve_creep(estimate_error=True) at 6 divisions covers
    the observed change."""
    res = solve_creep(
        EGGBOX, first_order(EGGBOX), POWER_LAW, divisions=6,
        options=CreepOptions(lateral_grading=0.8),
        estimate_error=True,
    )
    pis = res.pressure_factor_sequence
    assert res.divisions_sequence == (4, 5, 6)
    assert abs(pis[-1] - pis[-2]) < 0.015 * pis[-1], pis
    assert res.pressure_factor_error >= abs(pis[-1] - pis[-2])


def test_warm_started_sequence_equals_cold_solves():
    """One mesh, several current distributions, each Newton solve started from the previous
    solution: the same Π as cold solves with continuation, to the Newton tolerance."""
    from solver.creep import solve_creep_sequence

    d = EggBox(height_um=25.0, period_um=150.0)
    fns = [lambda x, y, a=a: 1.0 + a * np.cos(2 * np.pi * x / 150.0) * np.cos(
        2 * np.pi * y / 150.0) for a in (0.1, 0.3)]
    warm = solve_creep_sequence(d, fns, divisions=3)
    for fn, w in zip(fns, warm, strict=True):
        cold = solve_creep_dimensionless(d, fn, divisions=3)
        assert w.pressure.max() == pytest.approx(cold.pressure.max(), rel=1e-5)


@pytest.mark.parametrize("r_um", [0.3, 1.0, 3.0])
def test_rounded_mesh_layers_follow_the_lateral_spacing_over_the_band(r_um):
    """Over the rounding band the first element layer is about as tall as the band elements
    are wide (not a needle), elsewhere it is the uniform first layer; every element has a
    positive volume and the interface area is the surface's."""
    from solver.creep import _Problem

    d = PyramidArray(height_um=10.0, period_um=150.0, edge_radius_um=r_um)
    prob = _Problem(d, (3, 3), 1.0, "noslip", 1.0 / 16.0, 0.0, True, 1.0)
    assert (prob.dx > 0).all()
    x, y, z = prob.mesh.doflocs
    top = prob.top_nodes
    ridge = top[(np.abs(y[top] - 0.5) < 1e-12) & (x[top] < 0.3)]
    far = top[(np.abs(y[top]) < 1e-12) & (x[top] < 0.3)]
    widths = np.diff(np.unique(y[prob.top_vertices]))  # lateral element sizes
    below = {}
    for name, nodes in (("ridge", ridge), ("far", far)):
        col = np.isclose(x, x[nodes[0]]) & np.isclose(y, y[nodes[0]])
        zs = np.sort(z[col & (np.arange(z.size) < prob.n_vertices)])
        below[name] = zs[-1] - zs[-2]
    assert below["ridge"] < below["far"]
    assert below["ridge"] <= 1.5 * max(widths[-1], below["far"] / 16.0)
    # interface area (mass matrix sum) = ∫ √(1 + |∇e|²) dA of the quarter cell, in S²: every
    # face of a pyramid has slope m, so √(1 + m²)/4 less a little in the rounded bands
    m = d.face_slope
    area = prob.mass_top.sum()
    assert area == pytest.approx(0.25 * np.sqrt(1.0 + m * m), rel=2e-3)
    assert area < 0.25 * np.sqrt(1.0 + m * m)


@pytest.mark.parametrize(("kind", "invert", "k"), [("pyramid", False, 2), ("pyramid", False, 3),
                                                ("frustum", True, 2)])
def test_band_refinement_puts_k_elements_across_the_band_and_grows_geometrically(kind, invert,
                                                                                   k):
    """``band_elements`` k: k equal elements per band half-width w, then elements growing by
    the ratio (2) up to the graded nodes, which are all kept; the interface area is still the
    surface's (every element has a positive volume)."""
    from solver.band_nodes import band_nodes as _band_nodes
    from solver.creep import CreepOptions, _Problem

    cls = PyramidArray if kind == "pyramid" else FrustumArray
    d = cls(height_um=25.0, period_um=150.0, edge_radius_um=1.0, invert=invert)
    graded = _band_nodes(d, 3)
    nodes = _band_nodes(d, 3, k, 2.0)
    assert set(np.round(graded, 12)) <= set(np.round(nodes, 12))
    w = d.rounding_half_widths_um()[2 if invert else 0] / 150.0
    centre = 0.25 if invert else 0.5  # the plateau edge t/2 (t = 0.5) or the ridge
    h = np.diff(nodes)
    inside = (nodes[:-1] >= centre - w - 1e-12) & (nodes[1:] <= centre + w + 1e-12)
    assert inside.sum() == (2 * k if invert else k)
    assert np.allclose(h[inside], w / k)
    # outwards from the band edge to the next graded node the elements double, the last one
    # (up to that node) is 0.5 to 3 times the one before
    edge = centre - w
    below = graded[graded < edge - 1e-12].max()
    side = h[(nodes[:-1] >= below - 1e-12) & (nodes[1:] <= edge + 1e-12)][::-1]
    assert side.size >= 3
    ratio = side[1:] / side[:-1]
    assert np.allclose(ratio[:-1], 2.0) and 0.5 <= ratio[-1] <= 3.0
    opts = CreepOptions(band_elements=k)
    prob = _Problem(d, (3, 3), 1.0, "noslip", opts.interface_layer, 0.0, True, 1.0, k, 2.0)
    assert (prob.dx > 0).all()
    area = prob.mass_top.sum()
    graded_area = _Problem(d, (3, 3), 1.0, "noslip", 1.0 / 16.0, 0.0, True, 1.0).mass_top.sum()
    assert area == pytest.approx(graded_area, rel=2e-3)


def test_band_elements_out_of_range_is_a_design_error():
    from solver.creep import CreepOptions

    for bad in ({"band_elements": -1}, {"band_elements": 17}, {"band_elements": 1.5},
                {"band_growth": 1.0}, {"tip_floor": 0.0}, {"tip_floor": 2.0},
                {"peak_tol": 0.0}, {"pressure_tol": 1.5}):
        with pytest.raises(DesignError):
            CreepOptions(**bad)


@pytest.mark.slow
def test_rounded_tip_converges_and_its_first_order_estimate_covers_the_next_level():
    """Pyramid H25S150, r = 1 µm, secondary-like current: with tip layers Π falls monotonically
    with shrinking steps (measured 12.10, 10.06, 9.56, 9.16 at 3-6 divisions), and the
    first-order estimate of levels 4-5, 1.25 |Π5 − Π4| / (5/4 − 1), covers the change to 6
    (the error rule of the rounded tables). About two minutes: slow."""
    from solver.field import solve_field
    from solver.materials import Materials

    d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    fn = solve_field(d, Materials.from_kinetic_length(1.6 * 150e-6),
                     mode="secondary").current_ratio_at_um
    pi = [solve_creep_dimensionless(d, fn, divisions=k).pressure.max() for k in (3, 4, 5, 6)]
    steps = np.abs(np.diff(pi))
    assert np.all(np.diff(pi) < 0) and np.all(np.diff(steps) < 0)
    estimate = 1.25 * steps[1] / (5 / 4 - 1)
    assert steps[2] < estimate
    assert estimate / pi[2] > 0.02  # and the estimate is honest about the slow convergence


@pytest.mark.slow
def test_first_layer_over_a_resolved_band_is_converged_to_a_few_per_cent():
    """Pyramid H25S150, r = 1 µm, band refined (k = 2, 3 divisions): with the floor released
    (0.001) a first layer over the band four times thinner than the tables' (tip_layer 0.125
    against 0.5 with the floor at 1/64) moves Π by less than 4 % (measured 5.601 → 5.611), while
    the band elements themselves still matter (k = 0: 12.10; docs/benchmarks.md, "Rounded
    tips"). About four minutes: slow."""
    from solver.creep import CreepOptions
    from solver.field import solve_field
    from solver.materials import Materials

    d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    fn = solve_field(d, Materials.from_kinetic_length(1.6 * 150e-6),
                     mode="secondary").current_ratio_at_um

    def pi(**options):
        return solve_creep_dimensionless(d, fn, divisions=3,
                                         options=CreepOptions(band_elements=2, **options)
                                         ).pressure.max()

    tables = pi(tip_layer=0.5, tip_floor=1 / 64)
    thinner = pi(tip_layer=0.125, tip_floor=0.001)
    assert abs(thinner - tables) < 0.04 * tables
    coarse = solve_creep_dimensionless(d, fn, divisions=3).pressure.max()
    assert coarse > 1.5 * tables  # the band, not the first layer, was the large error


def test_tip_floor_sets_the_thinnest_first_layer_over_the_rounding_band():
    """The first layer over a refined band is tip_layer × the band element, but no thinner than
    tip_floor × the uniform first layer: a lower floor gives thinner layers there (more of them),
    and the default floor reproduces the former fixed one."""
    from solver.creep import _TIP_FLOOR, CreepOptions, _Problem

    d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=0.3)  # band 0.1 µm

    def first_layer_um(floor):
        prob = _Problem(d, (3, 3), 1.0, "noslip", 1 / 16, 0.0, True, 0.5, 2, 2.0, True, floor)
        x, y, z = prob.mesh.p
        # the vertex column through the Li ridge crossing (x = y = S/2), lengths in S
        zs = np.sort(z[np.isclose(x, 0.5) & np.isclose(y, 0.5)])[::-1]
        return (zs[0] - zs[1]) * 150.0, prob.layers

    assert CreepOptions().tip_floor == _TIP_FLOOR
    thick, n_thick = first_layer_um(1 / 16)
    thin, n_thin = first_layer_um(1 / 64)
    assert thin < 0.5 * thick  # measured 53 → 13 nm
    assert n_thin > n_thick
