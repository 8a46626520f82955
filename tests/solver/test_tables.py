"""Creep pressure-factor tables: lookup rules, interpolation, and one entry recomputed."""

import math
from dataclasses import replace

import numpy as np
import pytest

from solver.creep import solve_creep, solve_creep_dimensionless
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.materials import Materials
from solver.tables import (
    REFERENCE_PERIOD_UM,
    PressureTable,
    creep_key,
    interpolation_error,
    load_tables,
    lookup_pressure_factor,
    save_table,
    shape_key,
    table_miss_reason,
)
from templater.geometry.surfaces import EggBox, FrustumArray, PyramidArray

# the shipped tables are power-law tables (σ_t = 0), whatever the default transition stress is
POWER_LAW = CreepParameters(transition_stress_pa=0.0)


def _synthetic(tmp_path):
    aspects = np.array([1 / 30, 1 / 15, 1 / 9, 1 / 6, 1 / 3])
    lk = np.array([0.25, 0.5, 1.0, 2.0, 4.0])
    # smooth test function of (ln a, ln k): cubic interpolation reproduces it closely
    pi = 2.0 + 0.5 * np.log(aspects)[:, None] - 0.1 * np.log(lk)[None, :]
    table = PressureTable(shape=shape_key(EggBox(height_um=25.0, period_um=150.0)),
                          creep={"stress_exponent": 6.56, "slip": "noslip",
                                 "depth_factor": 1.0, "regularisation": 1e-3},
                          aspect=aspects, kinetic_over_period=lk, pressure_factor=pi,
                          pressure_factor_error=np.full_like(pi, 0.01), divisions=4,
                          generator="test")
    save_table(table, tmp_path / "eggbox_test.npz")
    load_tables.cache_clear()
    return table


def test_lookup_matches_shape_and_creep_options_and_interpolates(tmp_path):
    _synthetic(tmp_path)
    params = POWER_LAW
    d = EggBox(height_um=20.0, period_um=150.0)  # H/S = 0.1333, inside the grid
    ell = 0.7 * d.period_um * 1e-6
    hit = lookup_pressure_factor(d, ell, params, folder=tmp_path)
    assert hit is not None
    expected = 2.0 + 0.5 * np.log(20 / 150) - 0.1 * np.log(0.7)
    assert hit[0] == pytest.approx(expected, abs=2e-3)
    # the inverted egg-box is the same surface shifted: same table
    inv = EggBox(height_um=20.0, period_um=150.0, invert=True)
    assert lookup_pressure_factor(inv, ell, params, folder=tmp_path) == hit
    # outside the grid, other shapes or other creep options: no table
    assert lookup_pressure_factor(EggBox(height_um=80.0, period_um=150.0), ell, params,
                                  folder=tmp_path) is None
    assert lookup_pressure_factor(d, 10 * d.period_um * 1e-6, params, folder=tmp_path) is None
    assert lookup_pressure_factor(EggBox(height_um=20.0, period_um=150.0, form="sum"), ell,
                                  params, folder=tmp_path) is None
    assert lookup_pressure_factor(PyramidArray(height_um=20.0, period_um=150.0), ell, params,
                                  folder=tmp_path) is None
    assert lookup_pressure_factor(d, ell, replace(POWER_LAW, slip="freeslip"),
                                  folder=tmp_path) is None
    assert lookup_pressure_factor(d, ell, replace(POWER_LAW, stress_exponent=5.0),
                                  folder=tmp_path) is None
    # A, Q, T and p_stack enter only through the stress scale: the table still applies
    assert lookup_pressure_factor(d, ell, replace(POWER_LAW, prefactor_s_mpa_n=1e4),
                                  folder=tmp_path) == hit
    load_tables.cache_clear()


def test_shipped_table_entry_is_recomputed_by_the_solver():
    tables = [t for t in load_tables() if t.shape.get("kind") == "eggbox"]
    assert tables, "the egg-box pressure table is missing: run scripts/make_pressure_tables.py"
    table = tables[0]
    i, j = 0, len(table.kinetic_over_period) // 2
    a, k = float(table.aspect[i]), float(table.kinetic_over_period[j])
    design = EggBox(height_um=a * REFERENCE_PERIOD_UM, period_um=REFERENCE_PERIOD_UM)
    secondary = solve_field(design, Materials.from_kinetic_length(k * REFERENCE_PERIOD_UM * 1e-6),
                            mode="secondary")
    res = solve_creep(design, lambda x, y: secondary.current_ratio_at(x * 1e-6, y * 1e-6),
                      POWER_LAW, divisions=table.divisions)
    # same solver and mesh: agreement to the nonlinear solver tolerance
    assert res.pressure_factor == pytest.approx(table.pressure_factor[i, j], rel=1e-4)
    # and the lookup returns the grid value at a grid point (scipy cubic: to its solve)
    hit = lookup_pressure_factor(design, k * REFERENCE_PERIOD_UM * 1e-6, POWER_LAW)
    assert hit[0] == pytest.approx(table.pressure_factor[i, j], rel=1e-5)  # spline solve


def _rounded_table_and_entry(kind: str, level: str):
    """(tabulated Π, Π recomputed by the solver) at the middle grid entry (1, 1, 1) of the
    shipped rounded table of ``kind``, at its ``"finest"`` or ``"coarsest"`` creep level."""
    table = next(t for t in load_tables() if t.shape.get("kind") == kind
                 and t.edge_radius_over_s is not None)
    assert "rounding band" in table.generator
    i, j, k = 1, 1, 1
    a, r, ell = (float(table.aspect[i]), float(table.edge_radius_over_s[j]),
                 float(table.kinetic_over_period[k]))
    cls = PyramidArray if kind == "pyramid" else FrustumArray
    s = REFERENCE_PERIOD_UM
    design = cls(height_um=a * s, period_um=s, edge_radius_um=r * s)
    field = solve_field(design, Materials.from_kinetic_length(ell * s * 1e-6), mode="secondary")
    if level == "finest":
        divisions, tabulated = table.divisions, table.pressure_factor[i, j, k]
    else:
        divisions = table.provenance["levels"][0]
        tabulated = np.asarray(table.provenance["coarsest"])[i, j, k]
    sol = solve_creep_dimensionless(design, field.current_ratio_at_um, POWER_LAW,
                                    divisions=divisions)
    return tabulated, sol.pressure.max()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pyramid", "frustum"])
def test_shipped_rounded_table_entry_is_recomputed_by_the_band_graded_solver(kind):
    """A grid entry recomputed at the table's finest level (minutes: slow)."""
    tabulated, solved = _rounded_table_and_entry(kind, "finest")
    assert solved == pytest.approx(tabulated, rel=1e-4)


def test_a_design_outside_the_tables_is_told_why():
    """The one-line reason names what differs: shape, creep option, H/S or ℓ/S."""
    from solver.tables import table_miss_reason

    lk = 257e-6
    egg = EggBox(height_um=25.0, period_um=150.0)
    assert table_miss_reason(egg, lk, replace(POWER_LAW, slip="freeslip")) == \
        "creep options differ from the table's: slip freeslip (table: noslip)"
    assert "stress_exponent 5.0 (table: 6.56)" in table_miss_reason(
        egg, lk, replace(POWER_LAW, stress_exponent=5.0))
    assert table_miss_reason(EggBox(height_um=100.0, period_um=150.0), lk, POWER_LAW).startswith(
        "H/S = 0.6667 is outside the table")
    assert "no table for this shape" in table_miss_reason(
        FrustumArray(height_um=30.0, period_um=100.0, edge_radius_um=1.0, invert=True), lk,
        POWER_LAW)
    assert table_miss_reason(PyramidArray(height_um=30.0, period_um=1000.0, edge_radius_um=1.0),
                             lk, POWER_LAW).startswith("H/S = 0.03 is outside the table")
    assert "r/S = 0.001 is outside" in table_miss_reason(
        PyramidArray(height_um=150.0, period_um=1000.0, edge_radius_um=1.0), lk, POWER_LAW)
    assert "kinetic length / S = 66.67" in table_miss_reason(
        PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), 1e-2, POWER_LAW)
    assert "transition stress" in table_miss_reason(
        egg, lk, replace(POWER_LAW, transition_stress_pa=0.1e6))


# --- tables over H/S × r/S × ℓ/S (rounded shapes) ------------------------------------------------
_PYR_KEY = {k: v for k, v in shape_key(PyramidArray(height_um=25.0, period_um=150.0,
                                                    edge_radius_um=1.0)).items()
            if k != "edge_radius_over_s"}


def _rounded(tmp_path, ln_pi):
    axes = (np.array([1 / 15, 1 / 6, 1 / 3]), np.array([0.002, 0.0067, 0.022]),
            np.array([0.2, 1.6, 12.8]))
    grid = np.meshgrid(*np.log(axes), indexing="ij")
    table = PressureTable(shape=_PYR_KEY, creep=creep_key(POWER_LAW), aspect=axes[0],
                          edge_radius_over_s=axes[1], kinetic_over_period=axes[2],
                          pressure_factor=np.exp(ln_pi(*grid)),
                          pressure_factor_error=np.zeros_like(grid[0]), divisions=5,
                          generator="test")
    save_table(table, tmp_path / "pyramid_test.npz")
    load_tables.cache_clear()
    return table


def test_rounded_table_has_a_radius_axis_and_exact_multilinear_data(tmp_path):
    """ln Π linear in the log coordinates: the lookup is exact and its interpolation error 0;
    the radius is a coordinate, the other shape options must match."""
    def ln_pi(a, r, k):
        return 2.0 + 0.3 * a - 0.15 * r - 0.05 * k

    _rounded(tmp_path, ln_pi)
    d = PyramidArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0)
    ell = 1.6 * 257e-6 / 1.6
    try:
        pi, err = lookup_pressure_factor(d, ell, POWER_LAW, folder=tmp_path)
        want = math.exp(ln_pi(math.log(20 / 160), math.log(1 / 160), math.log(257 / 160)))
        assert pi == pytest.approx(want, rel=1e-12)
        assert err == pytest.approx(0.0, abs=1e-12)
        # r/S outside the axis, another top fraction: no table, and the reason names it
        sharp = PyramidArray(height_um=125.0, period_um=1000.0, edge_radius_um=1.0)  # r/S 1e-3
        assert lookup_pressure_factor(sharp, ell, POWER_LAW, folder=tmp_path) is None
        assert "r/S = " in table_miss_reason(sharp, ell, POWER_LAW, folder=tmp_path)
        frustum = FrustumArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0)
        assert lookup_pressure_factor(frustum, ell, POWER_LAW, folder=tmp_path) is None
    finally:
        load_tables.cache_clear()


@pytest.mark.parametrize("c", [(0.4, 0.2, 0.1), (0.4, -0.2, 0.1)])
def test_interpolation_error_estimate_is_exact_for_quadratic_data(tmp_path, c):
    """Multilinear interpolation of a quadratic (in each log coordinate) misses by
    Σ c_d h_d² t_d(1 − t_d): the second-difference estimate Σ |c_d| h_d² t_d(1 − t_d) is that
    when the curvatures have one sign, and bounds it otherwise."""
    def ln_pi(a, r, k):
        return 1.0 + c[0] * a**2 + c[1] * r**2 + c[2] * k**2

    table = _rounded(tmp_path, ln_pi)
    point = (0.1, 0.004, 0.5)
    pi, err = table.interpolate(point[0], point[2], point[1])
    q = np.log(point)
    miss = abs(math.log(pi) - ln_pi(*q))
    assert miss > 1e-3  # the data are far from multilinear at this point
    estimate = interpolation_error(tuple(np.log(ax) for ax in table._axes()),
                                   np.log(table.pressure_factor), q)
    if min(c) > 0:
        assert estimate == pytest.approx(miss, rel=1e-9)
    else:
        assert estimate > miss
    assert err == pytest.approx(pi * estimate, rel=1e-12)
    load_tables.cache_clear()


@pytest.mark.parametrize("kind", ["pyramid", "frustum", "eggbox-sum"])
def test_shipped_tables_held_out_points_are_covered_by_the_error_estimate(kind):
    """The generator solved points off the grid and recorded them: the lookup's error estimate
    plus the solved point's own error covers the difference."""
    key = {"eggbox-sum": ("eggbox", "sum")}.get(kind, (kind, None))
    table = next(t for t in load_tables() if t.shape.get("kind") == key[0]
                 and t.shape.get("form") == key[1])
    checks = table.provenance["held_out"]
    assert checks, "the table records no held-out points"
    for c in checks:
        assert abs(c["table"] - c["solved"]) <= c["table_error"] + c["solved_error"], c
        # and the recorded lookup is what the shipped table returns today
        assert table.interpolate(*c["point"][:1], c["point"][-1], *c["point"][1:-1]) == \
            pytest.approx((c["table"], c["table_error"]), rel=1e-12)


@pytest.mark.parametrize("kind", ["pyramid", "frustum"])
def test_shipped_rounded_table_coarsest_level_is_recomputed(kind):
    """Spot check at the coarsest creep level the generator solved (seconds): same solver,
    same mesh, same Π."""
    tabulated, solved = _rounded_table_and_entry(kind, "coarsest")
    assert solved == pytest.approx(tabulated, rel=1e-4)
