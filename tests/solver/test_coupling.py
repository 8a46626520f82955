"""Spatially varying kinetics in the field solver and the Monroe-Newman pressure coupling.

Oracles are closed forms (constant factor = rescaled kinetic length, first-order perturbation
theory of a flat interface, charge conservation, the Monroe-Newman magnitudes) or exact
identities (zero pressure, mirror symmetry); none is produced by the solver under test.
"""

import math

import numpy as np
import pytest

from solver.coupling import (
    LI_MOLAR_VOLUME_M3_MOL,
    couple_field_creep,
    creep_pressure_solver,
    exchange_factor,
    pressure_interpolant,
)
from solver.field import solve_field
from solver.materials import Materials
from solver.spectral import UnsupportedSurfaceError, solve_spectral, solve_spectral_fixed
from templater.geometry.surfaces import EggBox, Flat, PyramidArray

EGG = EggBox(height_um=25, period_um=150)
S_M = 150e-6
K_M = 2 * np.pi / S_M
ELL_M = Materials().kinetic_length_m  # 257 µm at the defaults


# --- spatially varying Robin condition ------------------------------------------------------
def test_constant_factor_equals_rescaled_kinetic_length():
    """g ≡ c means i0 → c i0, i.e. the kinetic length ℓ/c; the array path must reproduce it."""
    c = 1.7
    ref = solve_spectral(EGG, kinetic_length_m=ELL_M / c, rtol=1e-8)
    var = solve_spectral(EGG, kinetic_length_m=ELL_M, rtol=1e-8,
                         exchange_factor_fn=lambda x, y: np.full(np.shape(x), c))
    assert var.resolution == ref.resolution
    np.testing.assert_allclose(var.current_ratio, ref.current_ratio, rtol=0, atol=1e-10)
    # and it is a real change: ℓ/1.7 focuses the current more than ℓ
    base = solve_spectral(EGG, kinetic_length_m=ELL_M, rtol=1e-8)
    assert ref.max_current_ratio - base.max_current_ratio > 1e-3
    fixed, _, _, ok = solve_spectral_fixed(EGG, n=24, kinetic_length_m=ELL_M,
                                           exchange_factor_fn=lambda x, y: c + 0 * x)
    fixed_ref, _, _, _ = solve_spectral_fixed(EGG, n=24, kinetic_length_m=ELL_M / c)
    assert ok
    np.testing.assert_allclose(fixed, fixed_ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("symmetric", [True, False])
def test_charge_conservation_with_varying_kinetics(symmetric):
    """∫ i_n dA = J A0 holds for any boundary condition (DtN top, Laplace inside)."""
    if symmetric:  # shares the egg-box mirror planes x = 0, y = 0: even-subspace solver

        def g(x, y):
            return 1.0 + 0.4 * np.cos(K_M * x) * np.cos(2 * K_M * y)
    else:  # no mirror symmetry: full periodic solver

        def g(x, y):
            return 1.0 + 0.4 * np.sin(K_M * x + 0.3) * np.cos(K_M * y - 0.5)

    sol = solve_spectral(EGG, kinetic_length_m=50e-6, rtol=1e-7, exchange_factor_fn=g)
    assert sol.converged
    assert abs(sol.flux_residual) < 1e-8
    ref = solve_spectral(EGG, kinetic_length_m=50e-6, rtol=1e-7)
    assert abs(sol.max_current_ratio - ref.max_current_ratio) > 1e-2  # g matters


def test_even_subspace_matches_full_solver_with_symmetric_factor():
    def g(x, y):
        return 1.0 + 0.3 * np.cos(K_M * x) + 0.2 * np.cos(K_M * y) ** 2

    even, _, _, ok1 = solve_spectral_fixed(EGG, n=24, kinetic_length_m=ELL_M,
                                           exchange_factor_fn=g, use_symmetry=True)
    full, _, _, ok2 = solve_spectral_fixed(EGG, n=24, kinetic_length_m=ELL_M,
                                           exchange_factor_fn=g, use_symmetry=False)
    assert ok1 and ok2
    np.testing.assert_allclose(even, full, rtol=0, atol=1e-9)


@pytest.mark.parametrize("ell_m", [10e-6, ELL_M])
@pytest.mark.parametrize(("axis", "mode"), [(0, 1), (1, 2)])
def test_flat_interface_sinusoidal_kinetics_first_order(ell_m, axis, mode):
    """First-order perturbation theory, flat interface z = 0, electrolyte z > 0.

    Local kinetic length ℓ(x) = ℓ (1 − δ cos qx), i.e. g = 1/(1 − δ cos qx). Write
    u = z + ℓ + v with v = A cos(qx) e^{−qz} (harmonic, decaying, periodic). The Robin
    condition u = ℓ(x) ∂u/∂z at z = 0 reads ℓ + A cos qx = ℓ (1 − δ cos qx)(1 − qA cos qx);
    to first order in δ, A = −ℓδ / (1 + qℓ). The current i_n/J = ∂u/∂z = 1 − qA cos qx:

        i_n/J = 1 + δ · qℓ / (1 + qℓ) · cos qx + O(δ²).

    (qℓ → 0: primary, no change; qℓ → ∞: uniform overpotential, i_n ∝ g.) The residual must
    be O(δ²): it shrinks 100× when δ shrinks 10×.
    """
    q = mode * K_M
    errors = []
    for delta in (1e-2, 1e-3):
        def g(x, y, delta=delta):
            t = x if axis == 0 else y
            return 1.0 / (1.0 - delta * np.cos(q * t))

        sol = solve_spectral(Flat(period_um=150), kinetic_length_m=ell_m, rtol=1e-9,
                             exchange_factor_fn=g)
        xx, yy = np.meshgrid(sol.x_m, sol.y_m, indexing="ij")
        t = xx if axis == 0 else yy
        theory = 1.0 + delta * q * ell_m / (1.0 + q * ell_m) * np.cos(q * t)
        errors.append(np.max(np.abs(sol.current_ratio - theory)))
        assert abs(sol.flux_residual) < 1e-10
    amplitude = 1e-2 * q * ell_m / (1 + q * ell_m)
    assert errors[0] < 0.02 * amplitude  # first order captures the response
    assert 50 < errors[0] / errors[1] < 200  # and the residual is second order


def test_solve_field_routes_varying_kinetics():
    def g(x, y):
        return 1.0 / (1.0 - 1e-3 * np.cos(K_M * x)) + 0 * y

    res = solve_field(Flat(period_um=150), mode="secondary", exchange_factor_fn=g)
    assert res.method == "spectral"  # flat but non-uniform kinetics
    qell = K_M * ELL_M
    theory = 1 + 1e-3 * qell / (1 + qell) * np.cos(K_M * np.asarray(res.x_m))
    np.testing.assert_allclose(res.current_ratio[:, 0], theory, atol=2e-6)
    uniform = solve_field(Flat(period_um=150), mode="secondary",
                          exchange_factor_fn=lambda x, y: 2.0 + 0 * x)
    assert uniform.method == "exact"
    pair = solve_field(EGG, exchange_factor_fn=lambda x, y: 1.0 + 0.5 * np.cos(K_M * x))
    plain = solve_field(EGG)
    assert pair.primary.max_current_ratio == plain.primary.max_current_ratio  # primary ignores g
    assert abs(pair.secondary.max_current_ratio - plain.secondary.max_current_ratio) > 1e-3


def test_varying_kinetics_errors():
    with pytest.raises(UnsupportedSurfaceError, match="exchange_factor_fn"):
        solve_field(PyramidArray(height_um=25, period_um=150), mode="secondary",
                    exchange_factor_fn=lambda x, y: 1.0 + 0.1 * np.cos(K_M * x))
    with pytest.raises(ValueError, match="kinetic_length_m"):
        solve_spectral(EGG, exchange_factor_fn=lambda x, y: 1.0 + 0 * x)
    with pytest.raises(ValueError, match="> 0"):
        solve_spectral(EGG, kinetic_length_m=ELL_M,
                       exchange_factor_fn=lambda x, y: np.cos(K_M * x))


# --- Monroe-Newman coupling ---------------------------------------------------------------------
@pytest.mark.parametrize(("dp_mpa", "percent"), [(0.5, 0.13), (1.0, 0.26), (2.0, 0.53)])
def test_exchange_factor_magnitude_physics_spec(dp_mpa, percent):
    """|i0_eff/i0 − 1| = 0.13, 0.26, 0.53 % at 0.5, 1, 2 MPa (α_a = 0.5; docs/theory.md)."""
    g = float(exchange_factor(dp_mpa * 1e6, Materials()))
    assert 100 * (g - 1) == pytest.approx(percent, abs=0.006)
    assert float(exchange_factor(dp_mpa * 1e6, Materials(), pressure_sign=-1)) < 1
    assert LI_MOLAR_VOLUME_M3_MOL == 13.0e-6


@pytest.mark.parametrize("method", ["cosine", "linear"])
def test_pressure_interpolant_mirror_unfolding(method):
    s_um = 150.0
    k = 2 * np.pi / s_um
    t = np.linspace(0, s_um / 2, 7)
    xx, yy = np.meshgrid(t, t, indexing="ij")
    x, y = xx.ravel(), yy.ravel()

    def field(a, b):
        return 1e6 * (0.3 + np.cos(k * a) * np.cos(k * b) + 0.2 * np.cos(2 * k * a))

    fn = pressure_interpolant(x, y, field(x, y), s_um, method=method)
    np.testing.assert_allclose(fn(x * 1e-6, y * 1e-6), field(x, y), atol=1e-3)  # nodes
    rng = np.random.default_rng(3)
    qx, qy = rng.uniform(-s_um, 2 * s_um, 200), rng.uniform(-s_um, 2 * s_um, 200)
    got = fn(qx * 1e-6, qy * 1e-6)
    np.testing.assert_allclose(got, fn((s_um - qx) * 1e-6, qy * 1e-6), atol=1e-3)  # x = S/2
    np.testing.assert_allclose(got, fn(qx * 1e-6, -qy * 1e-6), atol=1e-3)  # y = 0
    # the cosine series is exact for this field; linear: error ≲ h²/8 · |∇²p| per direction
    # with h = 12.5 µm, |p_xx| ≤ (k² + 0.8 k²) 1e6 Pa → ~0.06 MPa per direction
    tol = 1e-3 if method == "cosine" else 0.1e6
    np.testing.assert_allclose(got, field(qx, qy), atol=tol)


def _standin(p_max_pa: float):
    """Cheap analytic stand-in for the creep solver (not a physical model).

    Δp = P_max · s / max(s), s = 0.5 h + 4 (i_n/J − mean), h = −cos kx cos ky (+1 at the Li
    tips): the pressure peaks at the Li tip like the creep pressure and depends on the current,
    so the fixed point is exercised. Nodes: a 9 × 9 tensor grid of the quarter cell.
    """
    s_um = 150.0
    k = 2 * np.pi / s_um

    def solve_pressure(current_ratio_fn):
        t = np.linspace(0.0, s_um / 2, 9)
        xx, yy = np.meshgrid(t, t, indexing="ij")
        x, y = xx.ravel(), yy.ravel()
        i_n = current_ratio_fn(x, y)
        shape = 0.5 * (-np.cos(k * x) * np.cos(k * y)) + 4.0 * (i_n - i_n.mean())
        return x, y, p_max_pa * shape / shape.max()

    return solve_pressure


def test_coupling_standin_changes_current_below_one_percent():
    """The paper's statement: coupling changes the kinetic current by < 1 % (defaults,
    egg-box H25S150, pressures up to 2 MPa). The magnitude estimate gives ~0.1-0.5 %."""
    res = couple_field_creep(EGG, None, None, solve_pressure=_standin(2e6))
    assert res.converged and res.iterations >= 2
    assert res.change_history[-1] < 1e-4
    assert res.max_excess_pressure_pa == pytest.approx(2e6)
    assert 1e-3 < res.max_current_relative_change < 1e-2  # positive: tips gain (sign +1)
    assert 1e-3 < res.max_local_relative_change < 1e-2
    # upper bound: the local current cannot change by more than the spread of g
    g_lo, g_hi = res.exchange_factor_range
    assert res.max_local_relative_change < (g_hi - g_lo) / g_lo
    assert abs(res.coupled.flux_residual) < 1e-8
    assert res.coupled.mean_current_ratio == pytest.approx(res.uncoupled.mean_current_ratio,
                                                           abs=1e-8)


def test_coupling_change_scales_linearly_with_pressure():
    one = couple_field_creep(EGG, None, None, solve_pressure=_standin(1e6))
    two = couple_field_creep(EGG, None, None, solve_pressure=_standin(2e6))
    ratio = two.max_current_relative_change / one.max_current_relative_change
    assert ratio == pytest.approx(2.0, rel=0.05)
    flipped = couple_field_creep(EGG, None, None, solve_pressure=_standin(1e6),
                                 pressure_sign=-1.0)
    assert flipped.max_current_relative_change == pytest.approx(
        -one.max_current_relative_change, rel=0.05)


def test_zero_pressure_gives_uncoupled_result():
    def zero(current_ratio_fn):
        x = np.array([0.0, 75.0, 0.0, 75.0])
        y = np.array([0.0, 0.0, 75.0, 75.0])
        return x, y, np.zeros(4)

    res = couple_field_creep(EGG, None, None, solve_pressure=zero)
    assert res.iterations == 1 and res.converged
    assert np.array_equal(res.coupled.current_density_a_m2, res.uncoupled.current_density_a_m2)
    assert res.max_current_relative_change == 0.0
    assert res.max_local_relative_change == 0.0


def test_coupling_argument_errors():
    with pytest.raises(ValueError, match="tol"):
        couple_field_creep(EGG, None, None, solve_pressure=_standin(1e6), tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        couple_field_creep(EGG, None, None, solve_pressure=_standin(1e6), max_iter=0)


def test_coupling_with_creep_solver():
    """One real creep solve chain (3 divisions, ~2 × 3 s): still < 1 % at the defaults."""
    res = couple_field_creep(EGG, None, None,
                             solve_pressure=creep_pressure_solver(EGG, divisions=3))
    assert res.converged
    assert 0.3e6 < res.max_excess_pressure_pa < 3e6  # creep pressure of H25S150 ~0.9 MPa
    assert 0.0 < res.max_current_relative_change < 1e-2
    assert res.max_local_relative_change < 1e-2
    assert math.isfinite(res.solve_time_s)


@pytest.mark.slow
def test_coupling_with_creep_solver_interpolation_agrees():
    """4 divisions: the cosine and linear pressure extensions give the same change (~75 s)."""
    solver = creep_pressure_solver(EGG, divisions=4)
    cos = couple_field_creep(EGG, None, None, solve_pressure=solver)
    lin = couple_field_creep(EGG, None, None, solve_pressure=solver, interpolation="linear",
                             field_rtol=1e-5)
    assert cos.max_current_relative_change < 1e-2
    assert lin.max_current_relative_change == pytest.approx(cos.max_current_relative_change,
                                                            rel=0.05)
