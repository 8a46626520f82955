"""Two-mechanism creep law ε̇ = A1* σ + A* σ^n (transition stress σ_t): verification.

Oracles: the pure power law (σ_t → 0), the Newtonian solve of the n = 1 code path with the
linear prefactor (σ_t ≫ Σ), the scaling Δp ∝ J (linear end) and Δp ∝ J^(1/n) (power-law end),
a scalar root finder for the pointwise stress, and finite differences for the consistent tangent.
Coarse meshes (2 divisions) keep the file at a few seconds: the oracles compare solutions on the
same mesh, so the discretisation error cancels.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy.optimize import brentq

from solver.creep import (
    _mixed_law,
    _Problem,
    mixed_law_stress,
    solve_creep,
    solve_creep_dimensionless,
)
from solver.creep_params import CreepParameters
from solver.tables import (
    PressureTable,
    creep_key,
    load_tables,
    lookup_pressure_factor,
    save_table,
    shape_key,
)
from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, default_value, from_cli
from templater.geometry.surfaces import EggBox

N_LI = 6.56
# the pure power law, whatever the default transition stress in default.toml is
POWER_LAW = CreepParameters(transition_stress_pa=0.0)
N = POWER_LAW.stress_exponent
EGGBOX = EggBox(height_um=25.0, period_um=150.0)
AREA = EGGBOX.area_ratio()
DIV = 2


def focused(x_um, y_um):
    """Uniform plating plus a modulation peaked at the Li tip (x = S/2): a non-trivial flow."""
    return 1.0 / AREA - 0.1 * np.cos(2.0 * np.pi * np.asarray(x_um, dtype=float) / 150.0)


# --- parameter ---------------------------------------------------------------------------------
def test_transition_stress_parameter_flag_units_range_and_default():
    p = PARAMETERS["transition_stress_pa"]
    assert (p.flag, p.flag_unit, p.low, p.high) == ("creep-transition-stress", "MPa", 0.0, 0.5)
    assert from_cli("transition_stress_pa", 0.1, context="creep") == pytest.approx(1e5)
    assert CreepParameters().transition_stress_pa == default_value("transition_stress_pa")
    with pytest.raises(DesignError) as info:
        CreepParameters(transition_stress_pa=0.6e6)
    assert info.value.flag == "creep-transition-stress"
    params = replace(POWER_LAW, transition_stress_pa=0.2e6)
    assert params.linear_prefactor_s_mpa == pytest.approx(
        params.prefactor_s_mpa_n * 0.2 ** (params.stress_exponent - 1.0))
    sigma = params.stress_scale_pa(10.0, 150e-6)
    assert params.transition_ratio(10.0, 150e-6) == pytest.approx(0.2e6 / sigma, rel=1e-15)
    assert POWER_LAW.transition_ratio(10.0, 150e-6) == POWER_LAW.linear_prefactor_s_mpa == 0.0


# --- pointwise law -----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1.5, N_LI, 12.0])
@pytest.mark.parametrize("tau", [0.01, 1.0, 100.0])
def test_stress_inversion_matches_scalar_root_finder(n, tau):
    """σ from the vectorised log-space Newton solve against brentq on a1 σ + σ^n = ε̇ (bracket:
    0 and twice the smaller single-mechanism stress), over 16 decades of strain rate, and the slope
    d ln σ/d ln ε̇ against a central difference."""
    rates = np.logspace(-8, 8, 41)
    log_a1 = (n - 1.0) * math.log(tau)
    sigma, slope = mixed_law_stress(rates, n, log_a1)
    a1 = math.exp(log_a1)
    ref = np.array([brentq(lambda s, r=r: a1 * s + s**n - r, 0.0, 2.0 * min(r ** (1.0 / n), r / a1),
                           xtol=1e-300, rtol=1e-15, maxiter=500) for r in rates])
    np.testing.assert_allclose(sigma, ref, rtol=1e-12)
    h = 1e-5
    up, _ = mixed_law_stress(rates * math.exp(h), n, log_a1)
    down, _ = mixed_law_stress(rates * math.exp(-h), n, log_a1)
    np.testing.assert_allclose(slope, (np.log(up) - np.log(down)) / (2.0 * h), rtol=1e-7)
    assert np.all((slope >= 1.0 / n - 1e-15) & (slope <= 1.0 + 1e-15))


@pytest.mark.parametrize("tau", [1.0, 100.0])
def test_consistent_tangent_matches_finite_differences(tau):
    """The Newton Jacobian (implicit derivative dσ/dε̇ = 1/(b1 + n b2 σ^(n−1))) is the derivative
    of the residual (central differences along a random direction)."""
    prob = _Problem(EGGBOX, (DIV, DIV), 1.0, "noslip", 1.0 / 16.0, 0.0)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(prob.nu + prob.np_)
    direction = rng.standard_normal(w.size)
    law = _mixed_law(N_LI, tau)
    _, jac = prob.residual(w, 1.0 / N_LI, 1e-3, True, law)
    h = 1e-6
    r_up, _ = prob.residual(w + h * direction, 1.0 / N_LI, 1e-3, False, law)
    r_down, _ = prob.residual(w - h * direction, 1.0 / N_LI, 1e-3, False, law)
    fd = (r_up - r_down) / (2.0 * h)
    exact = jac @ direction
    assert np.linalg.norm(exact - fd) <= 1e-6 * np.linalg.norm(exact)


# --- limits of the boundary-value problem --------------------------------------------------------
def test_vanishing_transition_stress_recovers_the_power_law():
    """σ_t = 1 kPa ≪ Σ = 0.33 MPa (τ = 3e-3, a1 = τ^(n−1) ~ 1e-14): Π and the pressure map of
    the pure power law; σ_t = 0 keeps the power-law code path (τ = 0 recorded)."""
    power = solve_creep(EGGBOX, focused, POWER_LAW, divisions=DIV)
    mixed = solve_creep(EGGBOX, focused, replace(POWER_LAW, transition_stress_pa=1e3),
                        divisions=DIV)
    assert power.transition_ratio == 0.0
    assert mixed.transition_ratio == pytest.approx(1e3 / power.stress_scale_pa, rel=1e-12)
    assert mixed.pressure_factor == pytest.approx(power.pressure_factor, rel=1e-9)
    np.testing.assert_allclose(mixed.excess_pressure_pa, power.excess_pressure_pa,
                               rtol=1e-8, atol=1e-8 * power.max_excess_pressure_pa)


def test_large_transition_stress_is_newtonian_with_the_linear_prefactor():
    """σ_t = 0.5 MPa at J = 1e-9 A/m² (Σ = 9.7 kPa, τ ≈ 51): the flow is Newtonian with
    η = 1/(3 A1*); the n = 1 code path with A = A1 = A σ_t^(n−1) gives the same pressures (same
    mesh, so the discretisation error cancels; the power-law remainder is ~τ^(1−n) ~ 1e-10)."""
    j = 1e-9
    params = replace(POWER_LAW, transition_stress_pa=0.5e6)
    mixed = solve_creep(EGGBOX, focused, params, current_density_a_m2=j, divisions=DIV)
    newtonian = replace(POWER_LAW, stress_exponent=1.0,
                        prefactor_s_mpa_n=params.linear_prefactor_s_mpa)
    linear = solve_creep(EGGBOX, focused, newtonian, current_density_a_m2=j, divisions=DIV)
    assert mixed.converged and mixed.transition_ratio > 50.0
    assert mixed.max_excess_pressure_pa == pytest.approx(linear.max_excess_pressure_pa, rel=1e-6)
    scale = linear.max_excess_pressure_pa
    np.testing.assert_allclose(mixed.excess_pressure_pa, linear.excess_pressure_pa,
                               rtol=0.0, atol=1e-6 * scale)
    np.testing.assert_allclose(mixed.normal_traction_pa, linear.normal_traction_pa,
                               rtol=0.0, atol=1e-6 * scale)


def test_pressure_scales_as_j_at_small_current_and_as_j_power_one_over_n_at_large():
    """Homogeneity is broken the right way: with σ_t = 0.1 MPa, d ln Δp_max / d ln J = 1 where
    Σ ≪ σ_t (τ = σ_t/Σ = 100; J ≈ 3e-16 A/m² at the defaults) and 1/n where Σ ≫ σ_t (τ = 0.01;
    J ≈ 5e10 A/m²), and in between at the transition (τ = 1). Δp over J and 2J at each."""
    params = replace(POWER_LAW, transition_stress_pa=0.1e6)
    tau_ref = params.transition_ratio(10.0, 150e-6)  # at 1 mA/cm²; τ ∝ J^(−1/n)

    def current(tau: float) -> float:
        return 10.0 * (tau_ref / tau) ** N

    def slope(j: float) -> tuple[float, float]:
        one = solve_creep(EGGBOX, focused, params, current_density_a_m2=j, divisions=DIV)
        two = solve_creep(EGGBOX, focused, params, current_density_a_m2=2.0 * j, divisions=DIV)
        assert one.converged and two.converged
        ratio = two.max_excess_pressure_pa / one.max_excess_pressure_pa
        return math.log(ratio) / math.log(2.0), one.transition_ratio

    low, tau_low = slope(current(100.0))
    mid, tau_mid = slope(current(1.0))
    high, tau_high = slope(current(0.01))
    assert tau_low == pytest.approx(100.0) and tau_high == pytest.approx(0.01)
    assert tau_mid == pytest.approx(1.0)
    assert low == pytest.approx(1.0, abs=1e-6)
    assert high == pytest.approx(1.0 / N, abs=1e-6)
    assert 1.0 / N + 0.05 < mid < 1.0 - 0.05


def test_newton_converges_and_pressure_falls_over_the_transition_ratio():
    """Newton (with the continuation in n) converges for τ = σ_t/Σ from 0.01 to 100, and a second,
    parallel creep mechanism can only lower the pressure: Π(τ) decreases, from the power-law
    value to the Newtonian Π = Π₁/a1 (a1 = τ^(n−1), Π₁ of the n = 1 problem with η = 1/3)."""
    taus = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)
    sols = [solve_creep_dimensionless(EGGBOX, focused, POWER_LAW, divisions=DIV,
                                      transition_ratio=t) for t in taus]
    assert all(s.converged for s in sols)
    assert all(s.iterations <= 20 for s in sols)
    pis = [float(s.pressure.max()) for s in sols]
    assert all(a >= b for a, b in zip(pis, pis[1:], strict=False))
    assert pis[1] == pytest.approx(pis[0], rel=1e-9)
    stokes = solve_creep_dimensionless(EGGBOX, focused, replace(POWER_LAW, stress_exponent=1.0),
                                       divisions=DIV)
    for tau, pi in zip(taus[-2:], pis[-2:], strict=True):
        assert pi * tau ** (N - 1.0) == pytest.approx(float(stokes.pressure.max()), rel=1e-6)


def test_dimensionless_solve_needs_the_ratio_when_the_transition_stress_is_set():
    with pytest.raises(DesignError, match="transition"):
        solve_creep_dimensionless(EGGBOX, focused, CreepParameters(transition_stress_pa=1e5),
                                  divisions=DIV)
    with pytest.raises(DesignError, match="transition"):
        solve_creep_dimensionless(EGGBOX, focused, divisions=DIV, transition_ratio=-1.0)


# --- tables --------------------------------------------------------------------------------------
def _table(tmp_path, creep: dict, name: str) -> None:
    aspects = np.array([1 / 30, 1 / 15, 1 / 9, 1 / 6, 1 / 3])
    lk = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    pi = 2.0 + 0.5 * np.log(aspects)[:, None] - 0.1 * np.log(lk)[None, :]
    save_table(PressureTable(shape=shape_key(EGGBOX), creep=creep, aspect=aspects,
                             kinetic_over_period=lk, pressure_factor=pi,
                             pressure_factor_error=np.full_like(pi, 0.01), divisions=4,
                             generator="test"), tmp_path / f"{name}.npz")


def test_power_law_tables_are_not_used_with_a_transition_stress(tmp_path):
    """A σ_t = 0 table (the shipped kind) never serves σ_t > 0; a table made for one σ_t/Σ serves
    only that ratio, and only when the lookup knows J."""
    power, mixed = POWER_LAW, replace(POWER_LAW, transition_stress_pa=0.1e6)
    assert "transition_ratio" not in creep_key(power)  # the power-law keys are unchanged
    assert creep_key(mixed)["transition_ratio"] is None
    assert creep_key(mixed) != creep_key(power)
    _table(tmp_path, creep_key(power), "eggbox_power")
    load_tables.cache_clear()
    d = EggBox(height_um=20.0, period_um=150.0)
    ell = 0.7 * d.period_um * 1e-6
    try:
        assert lookup_pressure_factor(d, ell, power, folder=tmp_path) is not None
        assert lookup_pressure_factor(d, ell, mixed, folder=tmp_path) is None
        assert lookup_pressure_factor(d, ell, mixed, folder=tmp_path,
                                      current_density_a_m2=10.0) is None
        sigma = mixed.stress_scale_pa(10.0, 150e-6)
        _table(tmp_path, creep_key(mixed, sigma), "eggbox_mixed")
        load_tables.cache_clear()
        assert lookup_pressure_factor(d, ell, mixed, folder=tmp_path) is None
        assert lookup_pressure_factor(d, ell, mixed, folder=tmp_path,
                                      current_density_a_m2=10.0) is not None
        assert lookup_pressure_factor(d, ell, mixed, folder=tmp_path,
                                      current_density_a_m2=20.0) is None
    finally:
        load_tables.cache_clear()

