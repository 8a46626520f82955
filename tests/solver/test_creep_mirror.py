"""x <-> y mirror reduction of the creep Newton systems: the basis spans exactly the symmetric
unknowns, and reduced solves reproduce the full ones (or are not used when the problem is not
symmetric)."""

from __future__ import annotations

import numpy as np
import pytest

from solver.creep import CreepOptions, _Problem, solve_creep_dimensionless
from solver.creep_params import CreepParameters
from templater.geometry.surfaces import EggBox, FrustumArray, PyramidArray

FULL = CreepOptions(mirror=False)
K = 2.0 * np.pi / 150.0


def egg_current(x, y):
    return 1.0 - 0.4 * np.cos(K * x) * np.cos(K * y)


def tip_current(x, y):
    """Peaked at the pyramid ridges x, y = S/2 (a focused, symmetric current)."""
    return 1.0 + 0.5 * (np.cos(K * x) ** 8 + np.cos(K * y) ** 8)


@pytest.mark.parametrize("surface", [
    EggBox(height_um=25.0, period_um=150.0),
    PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0),
])
def test_half_of_the_elements_give_the_residual_and_jacobian_of_a_symmetric_state(surface):
    """At a mirror-symmetric state the elements of one half of each mirror pair, with their
    images' contributions mirrored, give the residual and Jacobian of all elements (to
    round-off); at an asymmetric state they do not (the half is really evaluated)."""
    prob = _Problem(surface, (3, 3), 1.0, "noslip", 1 / 16, 0.0, True, 1.0, 1, 2.0)
    assert prob.half is not None
    assert 2 * prob.half.count == prob.dv.shape[0]
    q = prob.mirror_basis
    rng = np.random.default_rng(3)
    w = np.zeros(prob.nu + prob.np_)
    w[prob.free] = q @ rng.standard_normal(q.shape[1])
    for m, jac in ((1.0 / 6.56, True), (1.0, False)):
        r_full, k_full = prob.residual(w, m, 1e-3, jac)
        r_half, k_half = prob.residual(w, m, 1e-3, jac, symmetric=True)
        np.testing.assert_allclose(r_half, r_full, rtol=0, atol=1e-10 * np.abs(r_full).max())
        if jac:
            diff = abs(k_half - k_full).max()
            assert diff <= 1e-10 * abs(k_full).max()
    w[prob.free] += 0.1 * rng.standard_normal(prob.free.size)  # no longer symmetric
    r_full, _ = prob.residual(w, 1.0 / 6.56, 1e-3, False)
    r_half, _ = prob.residual(w, 1.0 / 6.56, 1e-3, False, symmetric=True)
    assert np.abs(r_half - r_full).max() > 1e-3 * np.abs(r_full).max()


@pytest.mark.parametrize("surface, slip", [
    (PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), "noslip"),
    (FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), "freeslip"),
])
def test_basis_is_orthonormal_and_spans_the_mirror_symmetric_unknowns(surface, slip):
    prob = _Problem(surface, (3, 3), 1.0, slip, 1 / 16, 0.0, True, 1.0, 1, 2.0)
    q = prob.mirror_basis
    assert q is not None
    n_free = prob.free.size
    # about half the unknowns: pairs keep one, nodes on the diagonal keep 2 of 3 velocities
    assert 0.5 < q.shape[1] / n_free < 0.56
    gram = (q.T @ q).toarray() if q.shape[1] < 3000 else None
    if gram is not None:
        np.testing.assert_allclose(gram, np.eye(q.shape[1]), atol=1e-12)
    else:
        col = np.sqrt(np.asarray(q.multiply(q).sum(axis=0))).ravel()
        np.testing.assert_allclose(col, 1.0, atol=1e-12)
    # a random reduced vector is a symmetric field: u(y, x, z) = M u(x, y, z), p(y, x) = p(x, y)
    rng = np.random.default_rng(1)
    w = np.zeros(prob.nu + prob.np_)
    w[prob.free] = q @ rng.standard_normal(q.shape[1])
    u = (prob.T @ w[: prob.nu]).reshape(-1, 3)
    x, y, z = prob.mesh.doflocs
    order = np.lexsort((z, y, x))
    mirror = np.lexsort((z, x, y))  # the same nodes sorted by (y, x, z)
    np.testing.assert_allclose(u[order][:, [1, 0, 2]], u[mirror], atol=1e-12)
    p = w[prob.nu:]
    nv = prob.n_vertices
    vo = np.lexsort((z[:nv], y[:nv], x[:nv]))
    vm = np.lexsort((z[:nv], x[:nv], y[:nv]))
    np.testing.assert_allclose(p[vo], p[vm], atol=1e-12)
    # and the fixed unknowns stay fixed: nothing of Q lands outside the free set
    assert q.shape[0] == n_free


@pytest.mark.parametrize("surface, current, params, options", [
    (EggBox(height_um=25.0, period_um=150.0), egg_current, CreepParameters(), CreepOptions()),
    (EggBox(height_um=30.0, period_um=100.0, form="sum"), egg_current,
     CreepParameters(slip="freeslip"), CreepOptions()),
    (PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), tip_current,
     CreepParameters(), CreepOptions()),
    (PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0, invert=True),
     egg_current, CreepParameters(), CreepOptions()),
    (FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), tip_current,
     CreepParameters(transition_stress_pa=0.0, stress_exponent=4.0), CreepOptions()),
])
def test_mirror_reduced_solve_equals_the_full_solve(surface, current, params, options):
    reduced = solve_creep_dimensionless(surface, current, params, divisions=2, options=options)
    full = solve_creep_dimensionless(surface, current, params, divisions=2,
                                     options=CreepOptions(band_elements=options.band_elements,
                                                          mirror=False))
    np.testing.assert_allclose(reduced.pressure, full.pressure, rtol=0,
                               atol=1e-6 * np.abs(full.pressure).max())
    np.testing.assert_allclose(reduced.normal_traction, full.normal_traction, rtol=0,
                               atol=1e-6 * np.abs(full.normal_traction).max())


def test_mixed_law_reduced_solve_equals_the_full_solve():
    surface = EggBox(height_um=25.0, period_um=150.0)
    params = CreepParameters(transition_stress_pa=1e5)
    reduced = solve_creep_dimensionless(surface, egg_current, params, divisions=2,
                                        transition_ratio=0.7)
    full = solve_creep_dimensionless(surface, egg_current, params, divisions=2, options=FULL,
                                     transition_ratio=0.7)
    assert reduced.pressure.max() == pytest.approx(full.pressure.max(), rel=1e-6)


def test_asymmetric_current_is_solved_in_full():
    """A current that is not mirror-symmetric must not be symmetrised: the result equals the
    full solve and is itself asymmetric."""
    surface = EggBox(height_um=25.0, period_um=150.0)

    def lopsided(x, y):
        return 1.0 - 0.4 * np.cos(K * x)

    reduced = solve_creep_dimensionless(surface, lopsided, divisions=2)
    full = solve_creep_dimensionless(surface, lopsided, divisions=2, options=FULL)
    np.testing.assert_allclose(reduced.pressure, full.pressure, rtol=0, atol=1e-9)
    at = {(round(a, 9), round(b, 9)): p for a, b, p in zip(reduced.x, reduced.y,
                                                            reduced.pressure, strict=True)}
    gap = max(abs(p - at[(round(b, 9), round(a, 9))]) for (a, b), p in at.items())
    assert gap > 1e-3 * np.abs(reduced.pressure).max()


def test_unequal_divisions_are_solved_in_full():
    prob = _Problem(EggBox(height_um=25.0, period_um=150.0), (2, 3), 1.0, "noslip", 1 / 16, 0.0,
                    True, 1.0)
    assert prob.mirror_basis is None
