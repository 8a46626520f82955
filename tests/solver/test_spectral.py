"""Pseudo-spectral field solver against the analytic oracles (docs/theory.md, "Verification").

References come from closed forms (small-amplitude series, Robin attenuation, exact trochoid) or
from independent field-expansion values (with Padé summation); none is produced by this solver.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from solver import analytic
from solver.spectral import (
    UnsupportedSurfaceError,
    solve_spectral,
    solve_spectral_fixed,
    trig_interpolation_matrix,
)
from templater.geometry.surfaces import EggBox, FrustumArray, PyramidArray, Surface


@dataclass(frozen=True, slots=True, kw_only=True)
class Trochoid(Surface):
    """Test-only ridge surface extruded in y: the exact conformal-map solution (trochoid).

    Solver-frame interface f = ε cos(k s), x = s − ε sin(k s) (Li tip at x = 0), i.e. electrolyte
    height e = ε − ε cos(k s(x)) ∈ [0, H], H = 2ε.
    """

    kind: ClassVar[str] = "trochoid"
    height_um: float
    period_um: float
    invert: bool = False

    def _e_raw(self, x, y):
        eps = 0.5 * self.height_um
        f = analytic.trochoid_height(x, eps, self.period_um)
        fx = analytic.trochoid_slope(x, eps, self.period_um)
        return eps - f, -fx, np.zeros_like(fx)


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelSet(Surface):
    """Test-only 3D surface with an exact primary solution (level set of a harmonic function).

    u = z − A e^{−Kz} cos kx cos ky is harmonic with ∂u/∂z → 1; its zero level set
    f = A e^{−Kf} cos kx cos ky (Newton per point) is the interface, and i_n/J = |∇u| there.
    Electrolyte height e = f(0, 0) − f (Li tip at the origin); ``height_um`` is the relief.
    """

    kind: ClassVar[str] = "levelset"
    amplitude_um: float
    period_um: float
    invert: bool = False

    @property
    def height_um(self) -> float:  # type: ignore[override]
        top, bottom = self.level(np.array([1.0, -1.0]))
        return float(top - bottom)

    def level(self, c):
        """Solve f = A e^{−K f} c (c = cos kx cos ky) by Newton."""
        a, big_k = self.amplitude_um, 2 * math.sqrt(2) * math.pi / self.period_um
        f = np.zeros_like(c, dtype=float)
        for _ in range(60):
            g = a * np.exp(-big_k * f) * c
            f = f - (f - g) / (1 + big_k * g)
        return f

    def exact_current(self, x, y):
        k = 2 * math.pi / self.period_um
        big_k = math.sqrt(2) * k
        f = self.level(np.cos(k * x) * np.cos(k * y))
        amp = self.amplitude_um * np.exp(-big_k * f)
        ux = amp * k * np.sin(k * x) * np.cos(k * y)
        uy = amp * k * np.cos(k * x) * np.sin(k * y)
        uz = 1 + amp * big_k * np.cos(k * x) * np.cos(k * y)
        return np.sqrt(ux**2 + uy**2 + uz**2)

    def _e_raw(self, x, y):
        k = 2 * math.pi / self.period_um
        big_k = math.sqrt(2) * k
        c = np.cos(k * x) * np.cos(k * y)
        f = self.level(c)
        g = self.amplitude_um * np.exp(-big_k * f)
        den = 1 + big_k * g * c  # implicit differentiation of f − g c = 0
        fx = -g * k * np.sin(k * x) * np.cos(k * y) / den
        fy = -g * k * np.cos(k * x) * np.sin(k * y) / den
        f0 = float(self.level(np.array(1.0)))
        return f0 - f, -fx, -fy


def test_levelset_exact_3d_solution():
    """O3: exact 3D primary solution on an asymmetric egg-box-like surface (A = 5 µm, S = 150)."""
    design = LevelSet(amplitude_um=5.0, period_um=150.0)
    sol = solve_spectral(design, rtol=1e-8)
    xx, yy = np.meshgrid(sol.x_m * 1e6, sol.y_m * 1e6, indexing="ij")
    exact = design.exact_current(xx, yy)
    err = np.max(np.abs(sol.current_ratio - exact))
    assert err < 1e-7, f"max error {err:.1e} at {sol.resolution}"
    assert sol.max_current_ratio == pytest.approx(float(exact.max()), rel=1e-7)
    # the reported error estimate bounds the true error of a loose solve
    loose = solve_spectral(design, rtol=1e-4)
    xx, yy = np.meshgrid(loose.x_m * 1e6, loose.y_m * 1e6, indexing="ij")
    actual = (np.max(np.abs(loose.current_ratio - design.exact_current(xx, yy)))
              / loose.max_current_ratio)
    assert loose.converged and actual <= loose.error_estimate <= 1e-4


def trochoid_design(eps_k: float, period_um: float = 150.0) -> Trochoid:
    eps = eps_k * period_um / (2 * math.pi)
    return Trochoid(height_um=2 * eps, period_um=period_um)


def test_trig_interpolation_reproduces_trig_polynomial():
    n = 12
    xs = 2 * np.pi * np.arange(n) / n
    v = 1 + np.cos(3 * xs) - 0.5 * np.sin(5 * xs) + 0.25 * np.cos(6 * xs)
    xq = np.linspace(0, 2 * np.pi, 37)
    exact = 1 + np.cos(3 * xq) - 0.5 * np.sin(5 * xq) + 0.25 * np.cos(6 * xq)
    np.testing.assert_allclose(trig_interpolation_matrix(n, xq) @ v, exact, atol=1e-12)


def test_trochoid_exact_pointwise():
    """2D trochoid, εk = 0.5: i_n/J = 1/sqrt(1 − 2εk cos ks + (εk)²) within 1e-3 pointwise."""
    design = trochoid_design(0.5)
    sol = solve_spectral(design, rtol=1e-5)
    x_um = sol.x_m * 1e6
    s = analytic.trochoid_parameter(x_um, 0.5 * design.height_um, design.period_um)
    exact = analytic.trochoid_current_ratio(s, 0.5 * design.height_um, design.period_um)
    err = np.max(np.abs(sol.current_ratio - exact[:, None]) / exact[:, None])
    assert err < 1e-3, f"max pointwise relative error {err:.2e} at {sol.resolution}"
    assert sol.max_current_ratio == pytest.approx(2.0, rel=1e-4)  # tip 1/(1 − εk)
    assert sol.min_current_ratio == pytest.approx(1 / 1.5, rel=1e-4)  # valley 1/(1 + εk)
    assert sol.resolution[1] == 4  # detected as a ridge: no resolution wasted along y


def test_trochoid_converges_geometrically():
    """Pointwise trochoid errors fall by orders of magnitude per doubling."""
    design = trochoid_design(0.5)
    eps, period = 0.5 * design.height_um, design.period_um
    errors = []
    for n in (16, 32, 64):
        cur, grid, _, ok = solve_spectral_fixed(design, n=n, ny=4)
        s = analytic.trochoid_parameter(grid.x_m * 1e6, eps, period)
        exact = analytic.trochoid_current_ratio(s, eps, period)
        errors.append(np.max(np.abs(cur[:, 0] - exact)))
        assert ok
    r1, r2 = errors[1] / errors[0], errors[2] / errors[1]
    assert r1 < 0.1, errors
    # an algebraic method of any order keeps r2 ≈ r1; geometric convergence accelerates
    assert r2 < 0.2 * r1, errors


def test_eggbox_error_falls_geometrically():
    """Spectral convergence: log(error) is linear in N (geometric), not in log N (algebraic)."""
    design = EggBox(height_um=25.0, period_um=150.0)
    ref = solve_spectral_fixed(design, n=40)[0].max()
    ns = np.array([8, 12, 16, 20, 24])
    errs = np.array([abs(solve_spectral_fixed(design, n=int(n))[0].max() - ref) / ref
                     for n in ns])
    assert np.all(np.diff(np.log(errs)) < 0), errs
    slope, _ = np.polyfit(ns, np.log(errs), 1)
    assert math.exp(4 * slope) < 0.25, f"error ratio per +4 modes {math.exp(4 * slope):.3f}"
    resid_geo = np.std(np.log(errs) - np.polyval(np.polyfit(ns, np.log(errs), 1), ns))
    resid_alg = np.std(np.log(errs) - np.polyval(np.polyfit(np.log(ns), np.log(errs), 1),
                                                 np.log(ns)))
    assert resid_geo < resid_alg, (resid_geo, resid_alg)
    assert errs[-1] < 1e-6


def test_small_amplitude_series():
    """H/S = 1/100: i_max/J = 1 + √2β + (√2−1)β² (β = πH/S) within 2e-5."""
    sol = solve_spectral(EggBox(height_um=1.5, period_um=150.0))
    expected = analytic.eggbox_tip_series(0.01)
    assert sol.max_current_ratio == pytest.approx(expected, abs=2e-5)
    # the residual is the third-order term of the series (−0.25773 β³ = −8.0e-6)
    third = -0.25773 * (math.pi / 100) ** 3
    assert sol.max_current_ratio - expected == pytest.approx(third, abs=1e-6)
    assert sol.min_current_ratio == pytest.approx(analytic.eggbox_trough_series(0.01), abs=2e-5)


def test_robin_first_order_attenuation():
    """H/S = 1/300, Λ = 1: (i_max − 1)/(√2β) → 1/(1 + √2Λ) = 0.4142 within 1e-3."""
    period = 150.0
    design = EggBox(height_um=period / 300, period_um=period)
    ell_m = period / (2 * math.pi) * 1e-6
    sol = solve_spectral(design, kinetic_length_m=ell_m)
    beta = math.pi / 300
    expected = analytic.robin_attenuation(1.0)
    assert expected == pytest.approx(0.41421, abs=1e-5)
    assert (sol.max_current_ratio - 1) / (math.sqrt(2) * beta) == pytest.approx(expected, abs=1e-3)
    # the antisymmetric part (tip − trough)/2 has no second-order term: much tighter
    odd = (sol.max_current_ratio - sol.min_current_ratio) / 2 / (math.sqrt(2) * beta)
    assert odd == pytest.approx(expected, abs=2e-5)


@pytest.mark.parametrize(("aspect", "expected"), [(1 / 30, 1.1523), (1 / 9, 1.5331),
                                                  (1 / 6, 1.8179)])
def test_eggbox_primary_maxima(aspect, expected):
    """Field expansion + Padé values: within 0.5 %, maximum at a Li tip."""
    period = 150.0
    sol = solve_spectral(EggBox(height_um=aspect * period, period_um=period))
    assert sol.max_current_ratio == pytest.approx(expected, rel=5e-3)
    assert sol.converged and sol.error_estimate <= 1e-6
    assert abs(sol.flux_residual) < 1e-8
    # Li tips of the product egg-box (f = H − e maximal) at (S/2, 0) and (0, S/2)
    x, y = (v * 1e6 for v in sol.max_location_m)
    tips = [(period / 2, 0.0), (0.0, period / 2), (period / 2, period), (period, period / 2)]
    assert min(math.hypot(x - a, y - b) for a, b in tips) < 1e-3


@pytest.mark.parametrize(("aspect", "expected"), [(1 / 30, 1.0599), (1 / 9, 1.1866),
                                                  (1 / 6, 1.2658)])
def test_eggbox_secondary_maxima_lambda_one(aspect, expected):
    """Field-expansion secondary values at Λ = 2πℓ/S = 1, within 1 %."""
    period = 150.0
    sol = solve_spectral(EggBox(height_um=aspect * period, period_um=period),
                         kinetic_length_m=period / (2 * math.pi) * 1e-6)
    assert sol.max_current_ratio == pytest.approx(expected, rel=1e-2)
    assert abs(sol.flux_residual) < 1e-8


def test_scale_invariance_of_primary():
    """H5S30 … H150S900 (H/S = 1/6): identical primary maxima within 1e-6."""
    maxima = [solve_spectral(EggBox(height_um=h, period_um=s)).max_current_ratio
              for h, s in [(5, 30), (25, 150), (50, 300), (100, 600), (150, 900)]]
    assert (max(maxima) - min(maxima)) / max(maxima) < 1e-6, maxima


def test_invert_gives_identical_extremes():
    """The egg-box is self-complementary: invert is a half-period shift."""
    a = solve_spectral(EggBox(height_um=25.0, period_um=150.0))
    b = solve_spectral(EggBox(height_um=25.0, period_um=150.0, invert=True))
    assert b.max_current_ratio == pytest.approx(a.max_current_ratio, rel=1e-9)
    assert b.min_current_ratio == pytest.approx(a.min_current_ratio, rel=1e-9)
    assert not np.allclose(a.current_ratio, b.current_ratio)  # the pattern did move


def test_charge_conservation_eggbox_both_forms():
    for form in ("product", "sum"):
        design = EggBox(height_um=40.0, period_um=150.0, form=form)
        for ell in (None, 50e-6):
            sol = solve_spectral(design, kinetic_length_m=ell)
            assert abs(sol.flux_residual) < 1e-6
            assert sol.mean_current_ratio == pytest.approx(1 / design.area_ratio(), rel=1e-6)


def test_refuses_sharp_and_steep_surfaces():
    with pytest.raises(UnsupportedSurfaceError, match="FEM"):
        solve_spectral(PyramidArray(height_um=25.0, period_um=150.0))
    with pytest.raises(UnsupportedSurfaceError, match="slope discontinuities"):
        solve_spectral(FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=2.0))
    with pytest.raises(UnsupportedSurfaceError, match="H/S"):
        solve_spectral(EggBox(height_um=250.0, period_um=150.0))


@pytest.mark.parametrize("form", ["product", "sum"])
def test_mirror_symmetric_subspace_matches_full_grid(form):
    """The DCT/DST (even-subspace) operator is the full operator restricted: same solution."""
    from solver.spectral import is_mirror_symmetric

    design = EggBox(height_um=40.0, period_um=150.0, form=form)
    assert is_mirror_symmetric(design)
    for ell in (None, 30e-6):
        full = solve_spectral_fixed(design, n=24, kinetic_length_m=ell, use_symmetry=False)[0]
        half = solve_spectral_fixed(design, n=24, kinetic_length_m=ell, use_symmetry=True)[0]
        np.testing.assert_allclose(half, full, rtol=0, atol=1e-10)


def test_warm_start_changes_cost_not_answer():
    design = EggBox(height_um=50.0, period_um=150.0)
    cold = solve_spectral(design, warm_start=False)
    warm = solve_spectral(design, warm_start=True)
    assert warm.max_current_ratio == pytest.approx(cold.max_current_ratio, rel=1e-9)
    np.testing.assert_allclose(warm.current_ratio, cold.current_ratio, atol=1e-8)
    assert warm.iterations < cold.iterations
