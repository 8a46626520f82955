"""Electrolyte stress model: small-slope oracles (2-D and 3-D), the flat interface, equilibrium
of the lateral conditions, convergence, and the crack drive it hands to the criterion."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from solver.electrolyte import (
    ElectrolyteOptions,
    flat_lateral_stress_ratio,
    solve_electrolyte,
    solve_electrolyte_converged,
)
from templater import EggBox, Flat, FrustumArray, PyramidArray


@dataclass(frozen=True)
class Ripple:
    """e = (H/2) cos(2πx/S): a 2-D sinusoid (uniform in y), mirror symmetric at x, y = 0, S/2."""

    height_um: float
    period_um: float
    name: str = "ripple"
    is_square_symmetric: bool = False

    def z_um(self, x_um, y_um):
        x = np.asarray(x_um, dtype=float) + 0.0 * np.asarray(y_um, dtype=float)
        return 0.5 * self.height_um * (1.0 + np.cos(2.0 * np.pi * x / self.period_um))


NU = 0.3


@pytest.mark.parametrize("lateral", ["confined", "free"])
def test_flat_interface_is_uniform_and_exact(lateral):
    flat = EggBox(height_um=1e-9, period_um=100.0)
    r = solve_electrolyte(flat, ElectrolyteOptions(poisson_ratio=NU, lateral_condition=lateral,
                                                   divisions=3))
    expected = flat_lateral_stress_ratio(lateral, NU)
    assert np.allclose(r.hoop_stress(1.0), expected, atol=1e-6)
    assert np.allclose(r.crack_stress(1.0, crack_um=30.0), expected, atol=1e-6)
    assert r.stress_concentration() == pytest.approx(1.0, abs=1e-6)


def test_two_dimensional_small_slope_limit():
    """Shallow 2-D sinusoid, laterally confined (plane strain): the valley's hoop stress rises
    over the flat value by (σ_L + p)·2πH/S (classical notch result for a wavy surface)."""
    h, s = 1.5, 120.0
    r = solve_electrolyte(Ripple(h, s), ElectrolyteOptions(poisson_ratio=NU,
                                                           lateral_condition="confined",
                                                           divisions=6))
    sigma_l = flat_lateral_stress_ratio("confined", NU)
    valley = r.hoop_stress(1.0)[(r.x_um > s / 2 - 1e-9)]  # the Li tips lie along x = S/2
    oracle = sigma_l + (sigma_l + 1.0) * 2.0 * math.pi * h / s
    assert valley.max() - sigma_l == pytest.approx(oracle - sigma_l, rel=0.03)


@pytest.mark.parametrize("lateral", ["confined", "free"])
def test_three_dimensional_small_slope_limit(lateral):
    """Shallow product egg-box: the tip is the sum of two diagonal modes of wave number √2 k,
    so its hoop stress rises by √2 (1 + ν) (σ_L + p) πH/S (derivation in docs/theory.md)."""
    h, s = 2.0, 150.0
    r = solve_electrolyte(EggBox(height_um=h, period_um=s),
                          ElectrolyteOptions(poisson_ratio=NU, lateral_condition=lateral,
                                             divisions=4))
    sigma_l = flat_lateral_stress_ratio(lateral, NU)
    rise = math.sqrt(2.0) * (1.0 + NU) * (sigma_l + 1.0) * math.pi * h / s
    assert r.hoop_stress(1.0).max() - sigma_l == pytest.approx(rise, rel=0.02)
    assert r.stress_concentration() == pytest.approx(1.0 + rise / (sigma_l + 1.0), rel=2e-3)


def test_free_condition_has_zero_mean_lateral_force():
    """Free pellet: δ is chosen so the lateral stress integrates to zero over the mirror face;
    the stress far above the contour then tends to the flat value σ_L = 0."""
    r = solve_electrolyte(EggBox(height_um=25.0, period_um=150.0),
                          ElectrolyteOptions(lateral_condition="free", divisions=4))
    top = r.opening_stress_profile(1.0)[:, -1]
    assert np.abs(top).max() < 0.02


def test_convergence_of_the_tip_crack_drive():
    """Crack-averaged stress at the Li tip of the default egg-box: successive refinements
    change it less and less, and the last change is below 1 % of the departure from flat."""
    d = EggBox(height_um=25.0, period_um=150.0)
    values = []
    for n in (3, 4, 5):
        r = solve_electrolyte(d, ElectrolyteOptions(divisions=n), crack_depth_um=20.0)
        values.append(float(np.max(r.drive_pressure(1.0))) - (1.0 + r.flat_ratio))
    d1, d2 = abs(values[1] - values[0]), abs(values[2] - values[1])
    assert d2 < d1
    assert d2 < 0.01 * abs(values[2])


def test_error_estimate_bounds_the_change_to_a_finer_mesh():
    d = EggBox(height_um=25.0, period_um=150.0)
    est = solve_electrolyte_converged(d, ElectrolyteOptions(divisions=4), crack_depth_um=20.0)
    fine = solve_electrolyte(d, ElectrolyteOptions(divisions=5), crack_depth_um=20.0)
    flat = 1.0 + est.flat_ratio
    a = float(np.max(est.drive_pressure(1.0))) - flat
    b = float(np.max(fine.drive_pressure(1.0))) - flat
    assert abs(a - b) / abs(b) <= est.error_estimate


@pytest.mark.parametrize("kind", [PyramidArray, FrustumArray])
def test_rounded_edges_converge_monotonically_and_the_estimate_covers_a_finer_mesh(kind):
    """Pyramid and frustum H25S150 with a 1 µm edge: on the mesh graded towards the rounded
    Li-convex edge the crack drive falls monotonically from 3 to 6 divisions, and the default
    two-level estimate (4 and 3 divisions) covers the distance of the 4-division value from the
    6-division one (with the mirror-plane grading the frustum's drive rose and fell, and the
    estimate did not cover it)."""
    d = kind(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    values = []
    for n in (3, 4, 5, 6):
        r = solve_electrolyte(d, ElectrolyteOptions(divisions=n), crack_depth_um=9.94)
        values.append(float(np.max(r.drive_pressure(1.0))) - (1.0 + r.flat_ratio))
    assert all(b < a for a, b in zip(values, values[1:], strict=False))
    est = solve_electrolyte_converged(d, ElectrolyteOptions(divisions=4), crack_depth_um=9.94)
    assert abs(values[1] - values[3]) / values[3] <= est.error_estimate


@pytest.mark.parametrize(("design", "lateral"), [
    (PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), "confined"),
    (EggBox(height_um=25.0, period_um=150.0), "free"),
])
def test_mirror_reduced_solve_is_the_full_solve(design, lateral, monkeypatch):
    """A mirror-symmetric design and load are solved in the symmetric displacements only: the
    stresses are those of the full system (to round-off), for both lateral conditions; an
    asymmetric excess-pressure load, added to a level factorised for the symmetric stack
    pressure, is solved in full."""
    import solver.electrolyte as electrolyte

    def shape(x, y):  # symmetric under x <-> y
        return np.cos(np.pi * x / 75.0) ** 2 * np.cos(np.pi * y / 75.0) ** 2

    def tilted(x, y):  # not symmetric
        return shape(x, y) * (1 + x / 150.0)

    opts = ElectrolyteOptions(divisions=3, lateral_condition=lateral)
    reduced = solve_electrolyte(design, opts, excess_shape=shape, crack_depth_um=10.0)
    level = electrolyte._Level(design, opts, 10.0)
    assert level.basis is not None
    mixed = level.stress(tilted)
    assert level.basis is None  # refactorised in all the displacements
    monkeypatch.setattr(electrolyte, "_mirror_nodes", lambda *a: None)
    full = solve_electrolyte(design, opts, excess_shape=shape, crack_depth_um=10.0)
    full_tilted = solve_electrolyte(design, opts, excess_shape=tilted, crack_depth_um=10.0)
    for a, b in ((reduced.stack_plane, full.stack_plane),
                 (reduced.excess_plane, full.excess_plane),
                 (mixed.stack_plane, full_tilted.stack_plane),
                 (mixed.excess_plane, full_tilted.excess_plane)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * np.abs(b).max())


@pytest.mark.parametrize("kind", [PyramidArray, FrustumArray])
def test_a_sharp_edge_is_meshed_without_a_band(kind):
    """A sharp pyramid or frustum (no rounding band; predictions round it first) is meshed
    with the plain graded nodes (the plateau edge a node), not a division by its zero band
    width, and its Li tips concentrate the stress above the flat interface's."""
    from solver.band_nodes import band_nodes

    d = kind(height_um=25.0, period_um=150.0)
    nodes = band_nodes(d, 4)
    assert nodes[0] == 0.0 and nodes[-1] == 0.5 and np.all(np.diff(nodes) > 0)
    if d.plateau_fraction > 0:
        assert np.isclose(nodes, 0.25).any()
    r = solve_electrolyte(d, ElectrolyteOptions(divisions=3), crack_depth_um=10.0)
    assert np.max(r.drive_pressure(1.0)) > 1.0 + r.flat_ratio


def test_the_two_levels_of_the_estimate_differ_laterally():
    """An inverted frustum has the same 4 lateral elements at 2, 3 and 4 divisions (each
    segment between its edges keeps one): the estimate moves up to 5 and 4 divisions, whose
    lateral nodes differ, instead of comparing vertical layers only. An upright frustum keeps
    the default 4 and 3."""
    from solver.electrolyte import _mesh_nodes

    inverted = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0, invert=True)
    assert np.array_equal(_mesh_nodes(inverted, 4), _mesh_nodes(inverted, 3))
    est = solve_electrolyte_converged(inverted, ElectrolyteOptions(divisions=4),
                                      crack_depth_um=9.94)
    assert est.divisions == 5
    assert _mesh_nodes(inverted, 5).size == _mesh_nodes(inverted, 4).size + 1
    upright = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    est = solve_electrolyte_converged(upright, ElectrolyteOptions(divisions=4),
                                      crack_depth_um=9.94)
    assert est.divisions == 4


def test_refinement_to_a_tolerance_stops_when_two_levels_agree():
    """With ``rtol`` the rounded frustum (14 % between 4 and 3 divisions) is refined level by
    level until two agree to 2 % of the departure from flat; the estimate is recomputed from
    independent solves at the last two levels. A smooth egg-box that already agrees stays at
    4 and 3."""
    from solver.electrolyte import solve_electrolyte

    d = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    default = solve_electrolyte_converged(d, ElectrolyteOptions(divisions=4), crack_depth_um=9.94)
    assert default.error_estimate > 0.05
    est = solve_electrolyte_converged(d, ElectrolyteOptions(divisions=4), crack_depth_um=9.94,
                                      rtol=0.02, max_divisions=6)
    assert 4 < est.divisions <= 6 and est.error_estimate <= 0.02
    below = solve_electrolyte_converged(d, ElectrolyteOptions(divisions=est.divisions - 1),
                                        crack_depth_um=9.94)
    assert below.error_estimate > 0.02  # it stopped at the first pair that agrees
    from solver.prediction import _electrolyte_note

    assert _electrolyte_note(est) == ""
    assert "meshes of 4 and 3 divisions differ by 14.1 %" in _electrolyte_note(default)
    fine, coarse = (solve_electrolyte(d, ElectrolyteOptions(divisions=n), crack_depth_um=9.94)
                    for n in (est.divisions, est.divisions - 1))
    a, b = (float(np.max(r.drive_pressure(1.0, 0.0))) for r in (fine, coarse))
    assert est.error_estimate == pytest.approx(abs(a - b) / (a - 1.0 - fine.flat_ratio),
                                               rel=1e-9)
    egg = EggBox(height_um=25.0, period_um=150.0)
    assert solve_electrolyte_converged(egg, ElectrolyteOptions(divisions=4), crack_depth_um=9.94,
                                       rtol=0.02).divisions == 4


def test_the_excess_shape_may_arrive_after_the_levels_are_chosen():
    """The refinement chooses its levels from the stack-pressure state alone and solves the
    excess pressure on the finest: a shape still being computed in another thread (a Future)
    gives the same stresses, level and estimate as the shape itself, and those are the
    independent solve's at that level."""
    import threading
    from concurrent.futures import Future

    from solver.electrolyte import solve_electrolyte

    def shape(x, y):
        return np.cos(np.pi * x / 75.0) ** 2 * np.cos(np.pi * y / 75.0) ** 2

    d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    opts = ElectrolyteOptions(divisions=4)
    now = solve_electrolyte_converged(d, opts, excess_shape=shape, crack_depth_um=9.94,
                                      rtol=0.02)
    later: Future = Future()
    threading.Timer(0.2, later.set_result, args=(shape,)).start()
    waited = solve_electrolyte_converged(d, opts, excess_shape=later, crack_depth_um=9.94,
                                         rtol=0.02)
    alone = solve_electrolyte(d, ElectrolyteOptions(divisions=now.divisions),
                              excess_shape=shape, crack_depth_um=9.94)
    assert waited.divisions == now.divisions == alone.divisions > 4
    assert waited.error_estimate == now.error_estimate
    for r in (waited, alone):
        np.testing.assert_array_equal(r.excess_plane, now.excess_plane)
        np.testing.assert_array_equal(r.stack_plane, now.stack_plane)


def test_crack_drive_superposes_stack_and_excess_pressure():
    """The drive handed to the criterion equals a direct evaluation of p_Li + σ̄ for the
    combined load (linear elasticity)."""
    d = EggBox(height_um=25.0, period_um=150.0)

    def shape(x_um, y_um):
        k = 2.0 * np.pi / 150.0
        return 0.5 * (1.0 - np.cos(k * x_um) * np.cos(k * y_um))

    r = solve_electrolyte(d, ElectrolyteOptions(divisions=3), excess_shape=shape,
                          crack_depth_um=10.0)
    drive = r.crack_drive(7e6)
    for dp in (0.0, 1e6, 3e6):
        assert drive.at(dp) == pytest.approx(float(np.max(r.drive_pressure(7e6, dp))), rel=1e-12)


def test_sharper_topographies_concentrate_more():
    """At the same H and S the rounded pyramid's grooves concentrate the stack-pressure hoop
    stress more than the smooth egg-box's tips."""
    egg = solve_electrolyte(EggBox(height_um=25.0, period_um=150.0),
                            ElectrolyteOptions(divisions=4))
    pyr = solve_electrolyte(PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0),
                            ElectrolyteOptions(divisions=4))
    assert pyr.stress_concentration() > egg.stress_concentration() > 1.0


def test_flat_design_class_is_refused_by_nothing():
    """The flat design class is handled by the criterion without a solve; the model accepts it
    and returns the flat state."""
    r = solve_electrolyte(Flat(period_um=100.0), ElectrolyteOptions(divisions=2))
    assert np.allclose(r.hoop_stress(1.0), flat_lateral_stress_ratio("confined", 0.3),
                       atol=1e-9)
