"""Creep pressure-factor tables: lookup rules, interpolation, and one entry recomputed."""

from dataclasses import replace

import numpy as np
import pytest

from solver.creep import solve_creep
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.materials import Materials
from solver.tables import (
    REFERENCE_PERIOD_UM,
    PressureTable,
    load_tables,
    lookup_pressure_factor,
    save_table,
    shape_key,
)
from templater.geometry.surfaces import EggBox, PyramidArray

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


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pyramid", "frustum"])
def test_shipped_rounded_table_entry_is_recomputed_by_the_band_graded_solver(kind):
    """The pyramid and frustum tables come from the creep mesh graded to the rounding band
    (about 100 s per entry at 6 divisions: slow)."""
    from templater.geometry.surfaces import FrustumArray

    table = next(t for t in load_tables() if t.shape.get("kind") == kind)
    assert "rounding band" in table.generator
    j = 3
    a, k = float(table.aspect[0]), float(table.kinetic_over_period[j])
    cls = PyramidArray if kind == "pyramid" else FrustumArray
    design = cls(height_um=a * REFERENCE_PERIOD_UM, period_um=REFERENCE_PERIOD_UM,
                 edge_radius_um=table.shape["edge_radius_over_s"] * REFERENCE_PERIOD_UM)
    secondary = solve_field(design, Materials.from_kinetic_length(k * REFERENCE_PERIOD_UM * 1e-6),
                            mode="secondary")
    res = solve_creep(design, secondary.current_ratio_at_um, POWER_LAW,
                      divisions=table.divisions)
    assert res.pressure_factor == pytest.approx(table.pressure_factor[0, j], rel=1e-4)


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
        PyramidArray(height_um=30.0, period_um=100.0, edge_radius_um=1.0), lk, POWER_LAW)
    assert "kinetic length / S = 66.67" in table_miss_reason(
        PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), 1e-2, POWER_LAW)
    assert "transition stress" in table_miss_reason(
        egg, lk, replace(POWER_LAW, transition_stress_pa=0.1e6))
