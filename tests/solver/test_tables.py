"""Creep pressure-factor tables: lookup rules, interpolation, and one entry recomputed."""

import math
from dataclasses import replace

import numpy as np
import pytest

from solver.creep import solve_creep, solve_creep_dimensionless
from solver.creep_params import CreepParameters
from solver.tables import (
    REFERENCE_PERIOD_UM,
    PressureTable,
    across_plateaus,
    band_excess,
    creep_key,
    entry_estimates,
    generate_table,
    interpolation_error,
    load_tables,
    lookup_pressure_factor,
    plateau_members,
    save_table,
    shape_key,
    table_caveat,
    table_current_ratio_fn,
    table_miss_reason,
    table_options,
)
from templater.geometry.surfaces import ASPECT_MAX, EggBox, FrustumArray, PyramidArray

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


@pytest.mark.parametrize(("form", "n", "level"), [
    *[("product", n, "coarsest") for n in (1.0, 2.0, 3.0, 4.5, 6.56, 9.0, 12.0)],
    ("sum", 6.56, "coarsest"),
    *[pytest.param("product", n, "finest", marks=pytest.mark.slow)
      for n in (1.0, 2.0, 3.0, 4.5, 6.56, 9.0, 12.0)],
    pytest.param("sum", 6.56, "finest", marks=pytest.mark.slow)])
def test_shipped_table_entry_is_recomputed_by_the_solver(form, n, level):
    """One entry of each egg-box table (the product form's n family and the sum form)
    recomputed at the coarsest level (a few seconds; at the finest level, 20 s to minutes,
    with -m slow)."""
    params = replace(POWER_LAW, stress_exponent=n)
    tables = [t for t in load_tables() if t.shape.get("kind") == "eggbox"
              and t.shape.get("form") == form and t.creep == creep_key(params)]
    assert tables, "the egg-box pressure table is missing: run scripts/make_pressure_tables.py"
    table = tables[0]
    i, j = 0, len(table.kinetic_over_period) // 2
    a, k = float(table.aspect[i]), float(table.kinetic_over_period[j])
    design = EggBox(height_um=a * REFERENCE_PERIOD_UM, period_um=REFERENCE_PERIOD_UM, form=form)
    current = table_current_ratio_fn(design, k)  # the generator's field
    if level == "finest":  # the entry itself, or the finest of the levels it extrapolates
        divisions, tabulated = table.divisions, (
            np.asarray(table.provenance["per_level"])[-1, i, j]
            if "per_level" in table.provenance else table.pressure_factor[i, j])
    else:
        divisions = table.provenance["levels"][0]
        tabulated = np.asarray(table.provenance["coarsest"])[i, j]
    res = solve_creep(design, lambda x, y: current(x, y), params, divisions=divisions)
    # same solver and mesh: agreement to the nonlinear solver tolerance
    assert res.pressure_factor == pytest.approx(tabulated, rel=1e-4)
    # and the lookup returns the grid value at a grid point (scipy cubic: to its solve)
    hit = lookup_pressure_factor(design, k * REFERENCE_PERIOD_UM * 1e-6, params)
    assert hit[0] == pytest.approx(table.pressure_factor[i, j], rel=1e-5)  # spline solve


def _anchors() -> list[PressureTable]:
    """The shipped rounded tables solved at the default exponent (not anchored to another
    table), in file order."""
    return [t for t in load_tables() if t.edge_radius_over_s is not None
            and t.creep["stress_exponent"] == POWER_LAW.stress_exponent]


def _rounded_table_and_entry(kind: str, level: str, entry: tuple[int, int, int] = (1, 1, 1)):
    """(tabulated Π, Π recomputed by the solver) at the grid entry ``entry`` (H/S, r/S, ℓ/S
    indices) of the shipped rounded table of ``kind``, at its ``"finest"`` or ``"coarsest"``
    creep level."""
    table = next(t for t in _anchors() if t.shape.get("kind") == kind
                 and not t.shape.get("invert") and t.shape.get("top_fraction", 0.5) == 0.5)
    assert "rounding band" in table.generator
    i, j, k = entry
    a, r, ell = (float(table.aspect[i]), float(table.edge_radius_over_s[j]),
                 float(table.kinetic_over_period[k]))
    cls = PyramidArray if kind == "pyramid" else FrustumArray
    s = REFERENCE_PERIOD_UM
    design = cls(height_um=a * s, period_um=s, edge_radius_um=r * s)
    current = table_current_ratio_fn(design, ell)  # the generator's field
    if level == "finest":
        divisions, tabulated = table.divisions, table.pressure_factor[i, j, k]
    else:
        divisions = table.provenance["levels"][0]
        tabulated = np.asarray(table.provenance["coarsest"])[i, j, k]
    sol = solve_creep_dimensionless(design, current, POWER_LAW,
                                    divisions=divisions, options=table_options(table))
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
    # product egg-boxes have tables at n = 1, 2, 3, 4.5, 6.56, 9 and 12 (a family: every n a
    # design may have), the sum form one
    assert lookup_pressure_factor(egg, lk, replace(POWER_LAW, stress_exponent=2.0)) is not None
    assert "stress_exponent 5.0 (table: 6.56)" in table_miss_reason(
        EggBox(height_um=25.0, period_um=150.0, form="sum"), lk,
        replace(POWER_LAW, stress_exponent=5.0))
    assert table_miss_reason(EggBox(height_um=1.0, period_um=300.0), lk, POWER_LAW).startswith(
        "H/S = 0.003333 is outside the table")
    assert table_miss_reason(
        FrustumArray(height_um=30.0, period_um=100.0, edge_radius_um=1.0, invert=True), lk,
        POWER_LAW) == "H/S = 0.3 is outside the table (0.06667-0.1667)"
    # the inverted frustum's r/S node 0.0067 stands for r = 1 µm at S = 150 µm (0.006667): a
    # point within 1 % beyond an end node is covered, one farther is not
    assert lookup_pressure_factor(
        FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0, invert=True), lk,
        POWER_LAW) is not None
    assert table_miss_reason(
        FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=0.99, invert=True), lk,
        POWER_LAW) == "r/S = 0.0066 is outside the table (0.0067-0.022)"
    assert table_miss_reason(PyramidArray(height_um=30.0, period_um=1000.0, edge_radius_um=1.0),
                             lk, POWER_LAW).startswith("H/S = 0.03 is outside the table")
    assert "r/S = 0.001 is outside" in table_miss_reason(
        PyramidArray(height_um=150.0, period_um=1000.0, edge_radius_um=1.0), lk, POWER_LAW)
    # rounded tables at other n are anchored to the n = 6.56 ones, from n = 3 to 12
    assert table_miss_reason(PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0),
                             lk, replace(POWER_LAW, stress_exponent=2.5)).startswith(
        "creep exponent n = 2.5 is outside the tables (3-12)")
    # between top fractions only where held-out checks measured it (n = 6.56); at n = 5 the
    # pyramid's and the t = 0.5 frustum's families reach n, but no table lies between them
    t03 = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0, top_fraction=0.3)
    assert lookup_pressure_factor(t03, lk, replace(POWER_LAW, stress_exponent=5.0)) is None
    assert table_miss_reason(t03, lk, replace(POWER_LAW, stress_exponent=5.0)) == (
        "top fraction t = 0.3 at creep exponent n = 5: the tables interpolate between top "
        "fractions at n = 6.56 only (at n = 5 they hold t = 0, 0.5)")
    assert "kinetic length / S = 66.67" in table_miss_reason(
        PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0), 1e-2, POWER_LAW)
    assert "transition stress" in table_miss_reason(
        egg, lk, replace(POWER_LAW, transition_stress_pa=0.1e6))


@pytest.mark.parametrize("form", ["product", "sum"])
def test_eggbox_tables_reach_the_printable_limit(form):
    """Every egg-box table (both forms, the n family) spans H/S from 1/120 to the largest H/S a
    design may have, and the steepest design the parameters allow (H = 280 µm) is a lookup at
    the default kinetic length for every S it may have."""
    tables = [t for t in load_tables() if t.shape.get("kind") == "eggbox"
              and t.shape.get("form") == form and t.creep["slip"] == "noslip"]
    assert len(tables) == (7 if form == "product" else 1)  # n = 1, 2, 3, 4.5, 6.56, 9, 12
    for table in tables:
        assert table.aspect[0] <= 1 / 120 + 1e-12
        assert table.aspect[-1] == pytest.approx(ASPECT_MAX)
    for s_um in (140.0, 280.0, 1000.0):
        design = EggBox(height_um=min(280.0, ASPECT_MAX * s_um), period_um=s_um, form=form)
        assert lookup_pressure_factor(design, 257e-6, POWER_LAW) is not None, s_um


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


def _frustum_like(pyramid: PressureTable, t: float, scale: float,
                  error: float = 0.0) -> PressureTable:
    """The pyramid table's axes as a frustum table at top fraction t: Π times ``scale``, error
    ``error`` times Π."""
    key = shape_key(FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0,
                                 top_fraction=t))
    key.pop("edge_radius_over_s")
    pi = scale * pyramid.pressure_factor
    return replace(pyramid, shape=key, pressure_factor=pi, pressure_factor_error=error * pi)


def _measured_exactly(path) -> None:
    """Record in the frustum table at ``path`` one plateau check on the grid nodes whose solve
    equals the interpolation there: the family's interpolation is then measured (error 0)."""
    from solver.tables import load_table

    load_tables.cache_clear()
    table = load_table(path)
    a, r, k = (float(ax[1]) for ax in (table.aspect, table.edge_radius_over_s,
                                        table.kinetic_over_period))
    d = FrustumArray(height_um=a * 150.0, period_um=150.0, edge_radius_um=r * 150.0)
    members = plateau_members(load_tables(path.parent), d.plateau_family())
    t = 0.5 * (members[0][0] + members[1][0])
    pi, _, tau = across_plateaus(members, t, a, k, r)
    check = {"point": [a, r, t, k], "solved": pi, "solved_error": 0.0, "table": pi,
             "table_error": 0.0, "tau": tau}
    save_table(replace(table, provenance={**table.provenance, "plateau_checks": [check]}), path)
    load_tables.cache_clear()


def test_lookup_between_top_fractions_is_linear_in_t(tmp_path):
    """A frustum between the pyramid table (t = 0) and a frustum table (t = 0.5): ln Π linear
    in t is reproduced exactly, the error is the tables' (interpolated) plus the measured
    interpolation error of the recorded checks, scaled by 4τ(1 − τ); a top fraction outside
    the tables and an inverted frustum miss, and the reason says why."""
    def ln_pi(a, r, k):
        return 2.0 + 0.3 * a - 0.15 * r - 0.05 * k

    pyramid = _rounded(tmp_path, ln_pi)
    frustum = _frustum_like(pyramid, 0.5, np.exp(0.4), error=0.01)
    save_table(replace(pyramid, pressure_factor_error=0.01 * pyramid.pressure_factor),
               tmp_path / "pyramid_test.npz")
    save_table(frustum, tmp_path / "frustum_test.npz")
    load_tables.cache_clear()
    ell = 257e-6
    base = math.exp(ln_pi(math.log(20 / 160), math.log(1 / 160), math.log(257 / 160)))
    try:
        d = FrustumArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0, top_fraction=0.2)
        # no held-out top fraction has measured this family's interpolation: not used
        assert lookup_pressure_factor(d, ell, POWER_LAW, folder=tmp_path) is None
        assert table_miss_reason(d, ell, POWER_LAW, folder=tmp_path) == (
            "top fraction t = 0.2 lies between tables (0-0.5) whose interpolation no held-out "
            "check has measured")
        pi, err, _ = across_plateaus(
            plateau_members(load_tables(tmp_path), d.plateau_family()), 0.2, 20 / 160,
            257 / 160, 1 / 160)
        assert pi == pytest.approx(base * math.exp(0.4 * 0.2 / 0.5), rel=1e-12)
        e0, e1 = (next(t for t in load_tables(tmp_path) if t.shape["kind"] == kind)
                  .interpolate(20 / 160, 257 / 160, 1 / 160)[1]
                  for kind in ("pyramid", "frustum"))
        tables_err = e0 + 0.4 * (e1 - e0)  # the tables' errors, linear in t between them
        assert err == pytest.approx(tables_err, rel=1e-9)
        # a check on the grid nodes that missed by 3 % at τ = 0.5 widens the error at τ = 0.4
        # by 3 % · 0.96; one off the nodes (its miss includes the tables' own interpolation,
        # already in their errors) does not count
        def at(a, r, k):  # the interpolation half-way between the members
            return math.exp(ln_pi(math.log(a), math.log(r), math.log(k)) + 0.2)

        check = {"point": [1 / 6, 0.0067, 0.25, 1.6], "solved": 1.03 * at(1 / 6, 0.0067, 1.6),
                 "solved_error": 0.0, "table": 1.0, "table_error": 0.01, "tau": 0.5}
        off = {**check, "point": [0.1, 0.004, 0.25, 0.5], "solved": 1.2 * at(0.1, 0.004, 0.5)}
        save_table(replace(frustum, provenance={"plateau_checks": [check, off]}),
                   tmp_path / "frustum_test.npz")
        load_tables.cache_clear()
        pi2, err2 = lookup_pressure_factor(d, ell, POWER_LAW, folder=tmp_path)
        assert pi2 == pytest.approx(pi, rel=1e-12)
        assert err2 == pytest.approx(tables_err + pi * 0.03 * 0.96, rel=1e-9)
        assert "top fraction between the tables at t = 0 and 0.5" in table_caveat(
            d, ell, POWER_LAW, folder=tmp_path)
        wide = FrustumArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0,
                            top_fraction=0.7)
        assert lookup_pressure_factor(wide, ell, POWER_LAW, folder=tmp_path) is None
        assert table_miss_reason(wide, ell, POWER_LAW, folder=tmp_path) == \
            "top fraction t = 0.7 is outside the tables (0-0.5)"
        inverted = replace(d, invert=True)
        assert lookup_pressure_factor(inverted, ell, POWER_LAW, folder=tmp_path) is None
        assert "no table for this shape" in table_miss_reason(inverted, ell, POWER_LAW,
                                                              folder=tmp_path)
        assert "r/S = " in table_miss_reason(replace(d, height_um=125.0, period_um=1000.0),
                                             ell, POWER_LAW, folder=tmp_path)
    finally:
        load_tables.cache_clear()


def test_a_member_with_fewer_rows_serves_only_its_rows(tmp_path):
    """A top-fraction member that stops at a lower H/S (the shipped t = 0.75 table) serves the
    top fractions above the others only up to its last row; beyond, the design misses and the
    reason names the H/S and the top fractions the tables reach there."""
    def ln_pi(a, r, k):
        return 2.0 + 0.3 * a - 0.15 * r - 0.05 * k

    pyramid = _rounded(tmp_path, ln_pi)
    save_table(_frustum_like(pyramid, 0.5, math.exp(0.4)), tmp_path / "frustum_t0.5.npz")
    short = _frustum_like(pyramid, 0.75, math.exp(0.7))
    short = replace(short, aspect=short.aspect[:2], pressure_factor=short.pressure_factor[:2],
                    pressure_factor_error=short.pressure_factor_error[:2])
    # two H/S rows: a held-out point between them measures that interpolation (exact here)
    mid = [math.sqrt(short.aspect[0] * short.aspect[1]), 0.0067, 1.6]
    exact = math.exp(0.7 + ln_pi(*np.log(mid)))
    save_table(replace(short, provenance={"held_out": [{"point": mid, "solved": exact}]}),
               tmp_path / "frustum_t0.75.npz")
    _measured_exactly(tmp_path / "frustum_t0.5.npz")
    ell = 257e-6
    try:
        low = FrustumArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0,
                           top_fraction=0.7)  # H/S 1/8: inside the t = 0.75 table's rows
        base = math.exp(ln_pi(math.log(20 / 160), math.log(1 / 160), math.log(257 / 160)))
        pi, _ = lookup_pressure_factor(low, ell, POWER_LAW, folder=tmp_path)
        assert pi == pytest.approx(base * math.exp(0.4 + 0.3 * 0.2 / 0.25), rel=1e-12)
        steep = replace(low, height_um=40.0)  # H/S 1/4: above the t = 0.75 table's 1/6
        assert lookup_pressure_factor(steep, ell, POWER_LAW, folder=tmp_path) is None
        assert table_miss_reason(steep, ell, POWER_LAW, folder=tmp_path) == (
            "top fraction t = 0.7 at H/S = 0.25 and n = 6.56 is outside the tables that reach "
            "this H/S and n (0-0.5)")
        assert lookup_pressure_factor(replace(steep, top_fraction=0.4), ell, POWER_LAW,
                                      folder=tmp_path) is not None
    finally:
        load_tables.cache_clear()


def test_three_tables_in_t_estimate_the_curvature_between_them(tmp_path):
    """Members at t = 0, 0.25 and 0.5 with ln Π quadratic in t: the lookup at t = 0.1 is the
    chord of ln Π between 0 and 0.25, and its error estimate (second difference over the three
    members, the tables' own errors 0) equals the chord's miss c h² τ(1 − τ) exactly; a design
    on a member is that member's value."""
    def ln_pi(a, r, k):
        return 2.0 + 0.3 * a - 0.15 * r - 0.05 * k

    c = -3.0  # ln Π(t) sags below the chord, as the shipped frustums do
    pyramid = _rounded(tmp_path, ln_pi)
    for t in (0.25, 0.5):
        save_table(_frustum_like(pyramid, t, math.exp(c * t * t)), tmp_path / f"frustum_t{t}.npz")
    _measured_exactly(tmp_path / "frustum_t0.5.npz")
    ell = 257e-6
    base = math.exp(ln_pi(math.log(20 / 160), math.log(1 / 160), math.log(257 / 160)))
    try:
        d = FrustumArray(height_um=20.0, period_um=160.0, edge_radius_um=1.0, top_fraction=0.1)
        pi, err = lookup_pressure_factor(d, ell, POWER_LAW, folder=tmp_path)
        assert pi == pytest.approx(base * math.exp(c * 0.25 * 0.1), rel=1e-12)  # the chord
        miss = abs(math.log(pi / base) - c * 0.1**2)
        assert miss == pytest.approx(abs(c) * 0.25**2 * 0.4 * 0.6, rel=1e-9)
        assert err == pytest.approx(pi * miss, rel=1e-9)
        on = replace(d, top_fraction=0.25)
        assert lookup_pressure_factor(on, ell, POWER_LAW, folder=tmp_path)[0] == \
            pytest.approx(base * math.exp(c * 0.0625), rel=1e-12)
        assert "between the tables at t = 0 and 0.25" in table_caveat(d, ell, POWER_LAW,
                                                                        folder=tmp_path)
    finally:
        load_tables.cache_clear()


def _plateau_table(invert: bool) -> PressureTable:
    """The shipped t = 0.5 frustum table (upright or inverted) recording its family's plateau
    checks."""
    return next(t for t in _anchors() if t.shape.get("kind") == "frustum"
                and t.shape.get("top_fraction") == 0.5 and t.shape.get("invert") == invert)


@pytest.mark.parametrize("invert", [False, True])
def test_shipped_plateau_checks_are_covered_by_the_error_estimate(invert):
    """Held-out frustums at top fractions between the pyramid (t = 0) and frustum (t = 0.25,
    0.5, 0.75) tables (inverted: between the t = 0 and 0.5 tables), solved like entries by the
    generator: the recorded interpolation is what the tables give today; the lookup's error
    plus the point's own covers the difference, at the checks off the grid nodes with the
    measured interpolation error as shipped and at those on them with the error measured from
    the other checks (leave one design out)."""
    from solver.tables import plateau_error

    frustum = _plateau_table(invert)
    checks = frustum.provenance["plateau_checks"]
    assert len(checks) >= (3 if invert else 12)
    s = REFERENCE_PERIOD_UM
    for c in checks:
        a, r, t, k = c["point"]
        d = FrustumArray(height_um=a * s, period_um=s, edge_radius_um=r * s, top_fraction=t,
                         invert=invert)
        members = plateau_members(load_tables(), d.plateau_family(), creep_key(POWER_LAW), a,
                                  k)
        # the t = 0.75 table stops at H/S = 1
        assert [m[0] for m in members] == ([0.0, 0.5] if invert else [0.0, 0.25, 0.5] + (
            [0.75] if a <= 1.0 else []))
        pi, err, tau = across_plateaus(members, t, a, k, r)
        assert (pi, err, tau) == pytest.approx((c["table"], c["table_error"], c["tau"]),
                                               rel=1e-9)
        others = [o for o in checks if o["point"][:3] != c["point"][:3]]
        loo = [(t0, replace(m, provenance={**m.provenance, "plateau_checks": others}))
               for t0, m in members]
        measured = plateau_error(loo, t) * 4.0 * tau * (1.0 - tau)  # as the lookup takes it
        assert abs(c["solved"] - pi) <= err + pi * measured + c["solved_error"], c
        hit = lookup_pressure_factor(d, k * s * 1e-6, POWER_LAW)
        assert hit[0] == pytest.approx(pi, rel=1e-12)


@pytest.mark.parametrize("invert", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_shipped_plateau_check_coarsest_level_is_recomputed(invert):
    """Spot check of a held-out top fraction at the coarsest creep level the generator solved
    (seconds; the inverted frustum's about 3 min: slow): same solver, same mesh, same Π."""
    frustum = _plateau_table(invert)
    c = next(c for c in frustum.provenance["plateau_checks"]
             if c["point"][2] == (0.2 if invert else 0.25) and c["point"][1] == 0.022
             and c["point"][3] == 1.6)
    a, r, t, k = c["point"]
    s = REFERENCE_PERIOD_UM
    d = FrustumArray(height_um=a * s, period_um=s, edge_radius_um=r * s, top_fraction=t,
                     invert=invert)
    fn = table_current_ratio_fn(d, k)  # the generator's field
    sol = solve_creep_dimensionless(d, fn, POWER_LAW, divisions=c["levels"][0],
                                    options=table_options(frustum))
    assert sol.pressure.max() == pytest.approx(c["coarsest"], rel=1e-4)


def test_extending_a_table_solves_only_its_new_rows(monkeypatch):
    """A table extended by an H/S row takes the earlier rows and held-out solves over (bit for
    bit, no solve), solves the new row as a fresh generation would, and says so in its
    provenance; an earlier table made with other mesh options is refused."""
    import solver.tables as tables

    calls = []
    solve = tables.solve_entries

    def counted(design, *args, **kwargs):
        calls.append(design.height_um)
        return solve(design, *args, **kwargs)

    monkeypatch.setattr(tables, "solve_entries", counted)

    def egg(h, s):
        return EggBox(height_um=h, period_um=s)

    ks, held = [0.8, 3.2], [(0.1, 1.6)]
    small = generate_table(egg, [1 / 15, 1 / 6], ks, POWER_LAW, divisions=2, held_out=held)
    assert len(calls) == 3
    calls.clear()
    grown = generate_table(egg, [1 / 15, 1 / 6, 1 / 3], ks, POWER_LAW, divisions=2,
                           held_out=held, reuse=small)
    assert calls == [pytest.approx(50.0)]  # only H/S = 1/3 at S = 150 µm
    assert np.array_equal(grown.pressure_factor[:2], small.pressure_factor)
    fresh = generate_table(egg, [1 / 3], ks, POWER_LAW, divisions=2)
    assert np.array_equal(grown.pressure_factor[2], fresh.pressure_factor[0])
    assert grown.pressure_factor[2, 0] > grown.pressure_factor[1, 0]  # steeper: more pressure
    reused = grown.provenance["reused"]
    assert reused["aspects"] == pytest.approx([1 / 15, 1 / 6])
    assert reused["held_out"] == [[0.1, 1.6]]
    assert grown.provenance["held_out"][0]["solved"] == small.provenance["held_out"][0]["solved"]
    # a second extension keeps the solve time of every generation the rows came from
    taller = generate_table(egg, [1 / 15, 1 / 6, 1 / 3, 1 / 2], ks, POWER_LAW, divisions=2,
                            held_out=held, reuse=grown)
    assert taller.provenance["reused"]["seconds"] == (grown.provenance["seconds"]
                                                      + small.provenance["seconds"])
    with pytest.raises(ValueError, match="creep options"):
        generate_table(egg, [1 / 15, 1 / 3], ks, replace(POWER_LAW, stress_exponent=5.0),
                       divisions=2, reuse=small)
    with pytest.raises(ValueError, match="mesh options"):
        generate_table(egg, [1 / 15, 1 / 3], ks, POWER_LAW, divisions=2, reuse=small,
                       options=tables.CreepOptions(interface_layer=1 / 8))


def test_generation_cache_resumes_with_the_same_solves(tmp_path, monkeypatch):
    """A cached grid design is the solve itself (bit for bit) and is not solved again; the
    cache keeps each level apart, so other levels of the same design solve only the new ones;
    a change of any input (the height of the design) is a different entry."""
    import solver.tables as tables

    calls = []
    solve = tables.solve_entries

    def counted(*args, **kwargs):
        calls.append(list(args[-1]))
        return solve(*args, **kwargs)

    monkeypatch.setattr(tables, "solve_entries", counted)
    design = EggBox(height_um=25.0, period_um=150.0)
    opts = tables.CreepOptions()
    spent = []
    first = tables.cached_entries(tmp_path, design, [1.6], POWER_LAW, [2, 3], floor=False,
                                  options=opts, spent=spent)
    again = tables.cached_entries(tmp_path, design, [1.6], POWER_LAW, [2, 3], floor=False,
                                  options=opts, spent=spent)
    assert calls == [[2], [3]]  # one solve per level, none the second time
    assert spent[0] > 0.0 and spent[1] == spent[0]  # the cached solve keeps its solve time
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    direct = tables.solve_entries(design, [1.6], POWER_LAW, [2, 3], floor=False, options=opts)
    for a, b in zip(first, direct, strict=True):
        assert np.array_equal(a, b)
    calls.clear()
    kept = []
    finer = tables.cached_entries(tmp_path, design, [1.6], POWER_LAW, [2, 3, 4], floor=False,
                                  options=opts, per_level_out=kept)
    assert calls == [[4]]  # levels 2 and 3 from the cache
    assert np.array_equal(kept[0][:2], np.array([direct[2], first[0]]))
    assert finer[0][0] == kept[0][2, 0]  # the entry is Π at the finest level
    # another height of the same shape (the table's H/S axis) is another entry, and its Π
    # is its own
    other = EggBox(height_um=10.0, period_um=150.0)
    low = tables.cached_entries(tmp_path, other, [1.6], POWER_LAW, [2, 3], floor=False,
                                options=opts)
    assert calls == [[4], [2], [3]]
    assert low[0][0] < first[0][0]  # shallower: less creep pressure
    assert len(list(tmp_path.glob("*.npz"))) == 5
    assert not list(tmp_path.glob("*.part"))


def test_extrapolated_generation_records_every_level_and_extends(tmp_path):
    """With ``extrapolate`` an entry is the first-order limit of its levels, which the table
    records (the cache keeps the levels' solves, which the finest-value entries share); an
    extension takes the recorded levels of its old rows over."""
    import solver.tables as tables
    from solver.creep import first_order_estimate

    def egg(h, s):
        return EggBox(height_um=h, period_um=s)

    ks = [0.8, 3.2]
    small = generate_table(egg, [1 / 6], ks, POWER_LAW, divisions=4, level_count=3,
                           extrapolate=True, cache=tmp_path)
    per_level = np.asarray(small.provenance["per_level"])
    assert small.provenance["levels"] == [2, 3, 4] and per_level.shape == (3, 1, 2)
    assert small.provenance["estimate"] == "first-order limit"
    for j in range(2):
        est = first_order_estimate([2, 3, 4], list(per_level[:, 0, j]))
        assert small.pressure_factor[0, j] == est.value
        assert small.pressure_factor_error[0, j] == est.error
    plain = generate_table(egg, [1 / 6], ks, POWER_LAW, divisions=4, level_count=3,
                           cache=tmp_path)
    assert "per_level" not in plain.provenance
    assert np.array_equal(plain.pressure_factor[0], per_level[-1, 0])  # same solver, levels
    assert len(list(tmp_path.glob("*.npz"))) == 3  # one solve per level, shared
    kept = []
    tables.cached_entries(tmp_path, egg(25.0, 150.0), ks, POWER_LAW, [2, 3, 4], floor=False,
                          options=tables.CreepOptions(), extrapolate=True, per_level_out=kept)
    assert np.array_equal(kept[0], per_level[:, 0])
    grown = generate_table(egg, [1 / 6, 1 / 3], ks, POWER_LAW, divisions=4, level_count=3,
                           extrapolate=True, reuse=small, cache=tmp_path)
    assert np.array_equal(np.asarray(grown.provenance["per_level"])[:, :1], per_level)
    assert grown.pressure_factor[1, 0] > grown.pressure_factor[0, 0]
    with pytest.raises(ValueError, match="estimate"):
        generate_table(egg, [1 / 6, 1 / 3], ks, POWER_LAW, divisions=4, level_count=3,
                       reuse=small)


def test_extending_an_extrapolated_rounded_table_keeps_each_radius_levels(monkeypatch):
    """The per-level record of an extended table with an r/S axis: each old (H/S, r/S) design
    keeps its own levels (synthetic levels distinct per design, level and ℓ/S)."""
    import solver.tables as tables

    def fake(design, ks, params, levels, *, floor, options=None, extrapolate=False,
             per_level_out=None):
        base = design.height_um / design.period_um + 10.0 * design.edge_radius_um
        per_level = np.array([[base + 1.0 / d + 0.01 * j for j in range(len(ks))]
                              for d in levels])
        if per_level_out is not None:
            per_level_out.append(per_level)
        values, errors = tables.entry_estimates(levels, per_level, floor=floor,
                                                extrapolate=extrapolate)
        return values, errors, per_level[0]

    monkeypatch.setattr(tables, "solve_entries", fake)

    def pyr(h, s, r):
        return PyramidArray(height_um=h, period_um=s, edge_radius_um=r)

    ks, radii = [0.8, 3.2], [0.002, 0.0067, 0.022]
    small = generate_table(pyr, [1 / 6], ks, POWER_LAW, divisions=4, radii=radii,
                           level_count=3, extrapolate=True)
    grown = generate_table(pyr, [1 / 6, 1 / 3], ks, POWER_LAW, divisions=4, radii=radii,
                           level_count=3, extrapolate=True, reuse=small)
    old, new = (np.asarray(t.provenance["per_level"]) for t in (small, grown))
    assert old.shape == (3, 1, 3, 2) and new.shape == (3, 2, 3, 2)
    assert np.array_equal(new[:, :1], old)
    assert np.allclose(new[:, 0, :, 0] - 1.0 / np.array([2, 3, 4])[:, None],
                       1 / 6 + 10.0 * np.array(radii) * 150.0)
    assert np.array_equal(grown.pressure_factor[:1], small.pressure_factor)


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
        # one member of its top-fraction family (the pyramid) is no family to interpolate
        assert "no table for this shape" in table_miss_reason(frustum, ell, POWER_LAW,
                                                              folder=tmp_path)
    finally:
        load_tables.cache_clear()


def test_a_point_just_beyond_an_end_node_takes_its_value_and_the_change_as_error(tmp_path):
    """Within 1 % beyond an end node (nodes are two-figure numbers) the lookup takes the end's
    Π and widens its error by Π's change over the same distance back inside: for ln Π linear
    that is the true change, to second order; 2 % beyond is outside."""
    def ln_pi(a, r, k):
        return 2.0 + 0.3 * a - 0.4 * r - 0.05 * k

    table = _rounded(tmp_path, ln_pi)
    load_tables.cache_clear()
    for r in (0.002 / 1.008, 0.022 * 1.008):
        pi, err = table.interpolate(0.1, 1.0, r)
        end = min(max(r, 0.002), 0.022)
        assert pi == pytest.approx(math.exp(ln_pi(*np.log([0.1, end, 1.0]))), rel=1e-12)
        true = math.exp(ln_pi(*np.log([0.1, r, 1.0])))
        assert err == pytest.approx(abs(true - pi), rel=0.01)
    # the other coordinates on end nodes (ℓ/S 0.2, 12.8) stay there
    for k in (0.2, 12.8):
        pi, err = table.interpolate(0.1, k, 0.002 / 1.008)
        true = math.exp(ln_pi(*np.log([0.1, 0.002 / 1.008, k])))
        assert err == pytest.approx(abs(true - pi), rel=0.01)
    assert table.outside(0.1, 1.0, 0.002 / 1.02) == "r/S = 0.001961 is outside the table " \
        "(0.002-0.022)"


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


@pytest.mark.parametrize("kind", ["pyramid", "frustum", "eggbox", "eggbox-sum"])
def test_shipped_tables_held_out_points_are_covered_by_the_error_estimate(kind):
    """The generator solved points off the grid and recorded them: the lookup's error estimate
    plus the solved point's own error covers the difference (every table of the kind: the
    frustums at each top fraction)."""
    key = {"eggbox": ("eggbox", "product"), "eggbox-sum": ("eggbox", "sum")}.get(kind,
                                                                             (kind, None))
    tables = [t for t in load_tables() if t.shape.get("kind") == key[0]
              and t.shape.get("form") == key[1]
              and t.creep["stress_exponent"] == POWER_LAW.stress_exponent]
    assert tables
    for table in tables:
        _check_held_out(table)


def _check_held_out(table: PressureTable) -> None:
    checks = table.provenance["held_out"]
    assert checks, "the table records no held-out points"
    for c in checks:
        assert abs(c["table"] - c["solved"]) <= c["table_error"] + c["solved_error"], c
        # and the recorded lookup is what the shipped table returns today (its error at least
        # the measured band bias of rounded tables, Π·e/(1 + e))
        pi, err = table.interpolate(*c["point"][:1], c["point"][-1], *c["point"][1:-1])
        e = table.band_excess
        assert pi == pytest.approx(c["table"], rel=1e-12)
        assert err == pytest.approx(max(c["table_error"] + pi * table.band_error,
                                        pi * e / (1 + e)), rel=1e-12)


def test_two_point_axis_error_is_measured_at_the_held_out_points(tmp_path):
    """An axis of two points has no second difference: the interpolation error across it is
    the held-out miss, per 4τ(1 − τ). For ln Π quadratic in ln H/S the linear interpolant
    misses by c h² τ(1 − τ) exactly, so one check at mid-cell predicts the miss elsewhere;
    on the axis's nodes it adds nothing, and without a check the table serves no lookup."""
    c = 0.12

    def ln_pi(a, r, k):
        return 1.0 + c * a**2 - 0.1 * r + 0.05 * k

    axes = (np.array([1 / 15, 1 / 6]), np.array([0.002, 0.0067, 0.022]),
            np.array([0.2, 1.6, 12.8]))
    grid = np.meshgrid(*[np.log(ax) for ax in axes], indexing="ij")
    bare = PressureTable(shape=_PYR_KEY, creep=creep_key(POWER_LAW), aspect=axes[0],
                         edge_radius_over_s=axes[1], kinetic_over_period=axes[2],
                         pressure_factor=np.exp(ln_pi(*grid)),
                         pressure_factor_error=np.zeros_like(grid[0]), divisions=5,
                         generator="test")
    mid = math.sqrt(axes[0][0] * axes[0][1])  # τ = 1/2 in ln H/S
    assert math.isnan(bare.interpolate(mid, 1.6, 0.0067)[1])
    save_table(bare, tmp_path / "pyramid_test.npz")
    load_tables.cache_clear()
    d = PyramidArray(height_um=mid * 150.0, period_um=150.0, edge_radius_um=0.0067 * 150.0)
    try:
        assert lookup_pressure_factor(d, 1.6 * 150e-6, POWER_LAW, folder=tmp_path) is None
        assert "no held-out point" in table_miss_reason(d, 1.6 * 150e-6, POWER_LAW,
                                                        folder=tmp_path)
    finally:
        load_tables.cache_clear()

    def exact(a, r, k):
        return math.exp(ln_pi(*np.log([a, r, k])))

    table = replace(bare, provenance={"held_out": [
        {"point": [mid, 0.0067, 1.6], "solved": exact(mid, 0.0067, 1.6)}]})
    h = math.log(axes[0][1] / axes[0][0])
    for tau in (0.25, 0.5, 0.8):
        a = axes[0][0] * math.exp(tau * h)
        pi, err = table.interpolate(a, 0.4, 0.004)  # off the check's other coordinates
        miss = abs(pi - exact(a, 0.004, 0.4))
        assert miss == pytest.approx(c * h**2 * tau * (1 - tau) * pi, rel=0.05)
        assert err == pytest.approx(miss, rel=0.05)
    assert table.interpolate(axes[0][1], 0.4, 0.004)[1] == pytest.approx(0.0, abs=1e-12)


def test_shipped_two_point_axes_errors_cover_each_held_out_point_left_out():
    """For the shipped tables with an axis of two points, the interpolation error measured at
    the other held-out points (each left out in turn) covers the point left out: the measured
    error predicts, it does not only restate."""
    tables = [t for t in load_tables() if any(len(ax) == 2 for ax in t._axes())]
    assert tables
    for table in tables:
        checks = table.provenance["held_out"]
        assert len(checks) >= 2
        for n, c in enumerate(checks):
            others = replace(table, provenance={**table.provenance,
                                                "held_out": checks[:n] + checks[n + 1:]})
            pi, err = others.interpolate(*c["point"][:1], c["point"][-1], *c["point"][1:-1])
            assert abs(pi - c["solved"]) <= err + c["solved_error"], (c, err)


def test_band_excess_widens_the_error_of_a_rounded_lookup(tmp_path):
    """A band check recorded in the provenance (table Π 1.5× the band-resolved Π) raises the
    error of every lookup to at least Π·0.5/1.5, down to the resolved value; the prediction
    names the bias in one line."""
    table = _rounded(tmp_path, lambda a, r, k: 2.0 + 0.3 * a - 0.15 * r - 0.05 * k)
    point = (1 / 6, 0.0067, 1.6)
    pi, err = table.interpolate(point[0], point[2], point[1])
    checked = replace(table, provenance={"band_checks": [
        {"point": list(point), "table": pi, "resolved": pi / 1.5}]})
    assert checked.band_excess == pytest.approx(0.5)
    pi2, err2 = checked.interpolate(point[0], point[2], point[1])
    assert pi2 == pi
    assert err == 0.0  # exact multilinear data
    assert err2 == pytest.approx(pi / 3.0, rel=1e-12)
    assert pi2 - err2 <= pi / 1.5 * (1 + 1e-12)
    save_table(checked, tmp_path / "pyramid_test.npz")
    load_tables.cache_clear()
    try:
        d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
        ell = 1.6 * 150e-6
        assert band_excess(tmp_path) == pytest.approx(0.5)
        assert "biased high (by up to 50 %" in table_caveat(d, ell, POWER_LAW, folder=tmp_path)
        assert table_caveat(EggBox(height_um=25.0, period_um=150.0), ell, POWER_LAW,
                            folder=tmp_path) == ""
    finally:
        load_tables.cache_clear()


def test_band_resolved_table_adds_its_band_step_and_prints_no_bias_note(tmp_path):
    """A table made with the band refined (k = 2 in its provenance) whose check measured a
    4 % step to k = 4: every lookup's error grows by 4 % of Π and reaches down to the k = 4
    value less its step, no bias note is printed, and the off-table floor comes from the
    coarse-band solve the check recorded."""
    from solver.creep import CreepOptions
    from solver.tables import mesh_options

    table = _rounded(tmp_path, lambda a, r, k: 2.0 + 0.3 * a - 0.15 * r - 0.05 * k)
    point = (1 / 6, 0.0067, 1.6)
    pi, err = table.interpolate(point[0], point[2], point[1])
    check = {"point": list(point), "table": pi, "values": [pi, pi / 1.04],
             "resolved": pi / 1.04, "resolved_error": pi - pi / 1.04, "coarse": 1.5 * pi}
    resolved = replace(table, provenance={
        "options": mesh_options(CreepOptions(band_elements=2, tip_layer=0.5)),
        "band_checks": [check]})
    assert resolved.band_error == pytest.approx(0.04)  # the step over the k = 4 value
    # the table holds the k = 2 value; the truth may lie as low as k = 4 less its step, so
    # the error bar must reach that: e = Π/(Π/1.04 − (Π − Π/1.04)) − 1, about 8.3 %
    e = 1.0 / (2.0 / 1.04 - 1.0) - 1.0
    assert resolved.band_excess == pytest.approx(e, rel=1e-12)
    for q in (point, (0.1, 0.004, 0.5), (0.3, 0.02, 10.0)):
        p0, e0 = table.interpolate(q[0], q[2], q[1])
        p1, e1 = resolved.interpolate(q[0], q[2], q[1])
        assert p1 == p0
        assert e0 == pytest.approx(0.0, abs=1e-12)  # exact multilinear data
        assert e1 == pytest.approx(max(0.04 * p0, p0 * e / (1 + e)), rel=1e-12)
        assert p1 - e1 == pytest.approx(p0 * (2.0 / 1.04 - 1.0), rel=1e-12)
    save_table(resolved, tmp_path / "pyramid_test.npz")
    load_tables.cache_clear()
    try:
        d = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
        assert table_caveat(d, 1.6 * 150e-6, POWER_LAW, folder=tmp_path) == ""
        # the coarse solve (1.5 Π) over the resolved value less its error
        assert band_excess(tmp_path) == pytest.approx(1.5 / (2.0 / 1.04 - 1.0) - 1.0,
                                                      rel=1e-12)
    finally:
        load_tables.cache_clear()


@pytest.mark.parametrize("kind", ["pyramid", "frustum"])
def test_shipped_rounded_table_errors_cover_the_band_resolved_checks(kind):
    """Checks with the rounding band refined further (k and 2k elements) are recorded in the
    rounded tables: the two band levels agree within 5 % (the resolved Π and its error are the
    finer value and the step), the table's error bar covers the resolved value, and the
    error floor :func:`band_excess` puts under a coarse-band solve of a design off the tables
    covers that solve's distance from it."""
    tables = [t for t in _anchors() if t.shape.get("kind") == kind]
    assert tables
    for table in tables:  # the frustums at each top fraction
        _check_band_checks(table)


def _check_band_checks(table: PressureTable) -> None:
    resolved_table = table_options(table).band_elements > 0
    checks = table.provenance["band_checks"]
    assert checks
    floor = band_excess()
    for c in checks:
        first, fine = c["values"]
        assert c["resolved"] == fine
        assert c["resolved_error"] == pytest.approx(abs(first - fine), rel=1e-12)
        # measured 0.2-0.9 %, 4.5 % at two pyramid points (k = 2 -> 4 at r = 1 um)
        assert c["resolved_error"] <= 0.05 * fine
        a, r, k = c["point"]
        pi, err = table.interpolate(a, k, r)
        assert pi == pytest.approx(c["table"], rel=1e-12)
        if resolved_table:
            assert abs(pi - c["resolved"]) <= err + c["resolved_error"]
        else:  # a coarse-band table lies above and its error bar reaches down to it
            assert pi > c["resolved"]
            assert pi - err <= c["resolved"] - c["resolved_error"] + 1e-12
        coarse = c["coarse"]  # measured 41-79 % above (less the check's error)
        assert abs(coarse - c["resolved"]) <= coarse * floor / (1 + floor) + c["resolved_error"]


@pytest.mark.parametrize("kind", ["pyramid", "frustum"])
def test_shipped_rounded_table_coarsest_level_is_recomputed(kind):
    """Spot check at the coarsest creep level the generator solved, at the largest edge radius
    (its mesh is the smallest, seconds): same solver, same mesh, same Π."""
    tabulated, solved = _rounded_table_and_entry(kind, "coarsest", (1, 2, 1))
    assert solved == pytest.approx(tabulated, rel=1e-4)


@pytest.mark.slow
def test_shipped_band_check_is_recomputed():
    """The first recorded band check of the pyramid table, its k-element level recomputed with
    the band refined (about a minute): same solver, same mesh, same Π."""
    from solver.creep import CreepOptions, solve_creep_sequence

    table = next(t for t in _anchors() if t.shape.get("kind") == "pyramid"
                 and not t.shape.get("invert"))
    c = table.provenance["band_checks"][0]
    a, r, k = c["point"]
    s = REFERENCE_PERIOD_UM
    d = PyramidArray(height_um=a * s, period_um=s, edge_radius_um=r * s)
    fn = table_current_ratio_fn(d, k)  # the generator's field
    sol = solve_creep_sequence(d, [fn], POWER_LAW, divisions=c["divisions"],
                               options=CreepOptions(band_elements=c["band_elements"][0],
                                                    tip_layer=c["tip_layer"],
                                                    tip_floor=c["tip_floor"]))[0]
    assert sol.pressure.max() == pytest.approx(c["values"][0], rel=1e-4)


def _exponent_family(tmp_path, ln_pi_of_x, exponents=(4.0, 6.0, 8.0)):
    """Product egg-box tables at several n, Π uniform over (H/S, ℓ/S): ln Π = f(1/n), error
    0.01 Π."""
    aspects, lk = np.array([1 / 30, 1 / 6, 1 / 3]), np.array([0.25, 1.0, 4.0])
    for n in exponents:
        pi = np.full((3, 3), math.exp(ln_pi_of_x(1.0 / n)))
        table = PressureTable(shape=shape_key(EggBox(height_um=25.0, period_um=150.0)),
                              creep=creep_key(replace(POWER_LAW, stress_exponent=n)),
                              aspect=aspects, kinetic_over_period=lk, pressure_factor=pi,
                              pressure_factor_error=0.01 * pi, divisions=4, generator="test")
        save_table(table, tmp_path / f"eggbox_n{n:g}.npz")
    load_tables.cache_clear()


def test_lookup_between_creep_exponents_is_linear_in_one_over_n(tmp_path):
    """ln Π linear in 1/n: the lookup at an n between the tables is exact and its error the
    interpolated table error; n outside the family is a miss that names n and the range."""
    _exponent_family(tmp_path, lambda x: 0.5 + 3.0 * x)
    d, ell = EggBox(height_um=25.0, period_um=150.0), 150e-6
    try:
        for n in (4.0, 5.0, 7.3):
            pi, err = lookup_pressure_factor(d, ell, replace(POWER_LAW, stress_exponent=n),
                                             folder=tmp_path)
            assert pi == pytest.approx(math.exp(0.5 + 3.0 / n), rel=1e-12)
            x = [1 / 8, 1 / 6, 1 / 4]  # the tables' errors, linear in 1/n between them
            assert err == pytest.approx(np.interp(1 / n, x, [0.01 * math.exp(0.5 + 3 * v)
                                                             for v in x]), rel=1e-9)
        far = replace(POWER_LAW, stress_exponent=12.0)
        assert lookup_pressure_factor(d, ell, far, folder=tmp_path) is None
        assert table_miss_reason(d, ell, far, folder=tmp_path) == \
            "creep exponent n = 12 is outside the tables (4-8)"
        # another creep option than n still misses
        slip = replace(POWER_LAW, stress_exponent=5.0, slip="freeslip")
        assert lookup_pressure_factor(d, ell, slip, folder=tmp_path) is None
    finally:
        load_tables.cache_clear()


def test_exponent_interpolation_error_covers_curvature_in_one_over_n(tmp_path):
    """ln Π quadratic in 1/n: the linear interpolation misses by c h² t(1 − t), which the
    second-difference estimate (plus the tables' 1 %) covers."""
    _exponent_family(tmp_path, lambda x: 0.5 + 3.0 * x + 20.0 * x * x)
    d, ell = EggBox(height_um=25.0, period_um=150.0), 150e-6
    try:
        n = 5.0
        pi, err = lookup_pressure_factor(d, ell, replace(POWER_LAW, stress_exponent=n),
                                         folder=tmp_path)
        exact = math.exp(0.5 + 3.0 / n + 20.0 / n**2)
        assert abs(pi - exact) > 1e-3 * exact  # far from linear
        assert abs(pi - exact) <= err - 0.01 * pi * 0.99
    finally:
        load_tables.cache_clear()


@pytest.mark.parametrize("form", ["product", "sum"])
def test_default_eggbox_table_is_the_first_order_limit_of_its_levels(form):
    """The egg-box tables at the default creep law (both forms) record Π at each of their
    five creep levels; the entries are their first-order limit with its error (recomputed from
    the record), and at every entry the limit from the four coarser levels alone agrees with
    it within the two errors (the estimate tested on the table's own data, the finest level
    held out)."""
    table = next(t for t in load_tables() if t.shape.get("kind") == "eggbox"
                 and t.shape.get("form") == form and t.creep == creep_key(POWER_LAW))
    levels = table.provenance["levels"]
    per_level = np.asarray(table.provenance["per_level"])
    assert levels == [5, 6, 7, 8, 9] and table.divisions == 9
    assert table.provenance["estimate"] == "first-order limit"
    assert per_level.shape == (5, *table.pressure_factor.shape)
    assert np.array_equal(per_level[0], np.asarray(table.provenance["coarsest"]))
    values, errors = entry_estimates(levels, per_level.reshape(5, -1), floor=False,
                                     extrapolate=True)
    assert np.array_equal(values.reshape(table.pressure_factor.shape), table.pressure_factor)
    assert np.array_equal(errors.reshape(table.pressure_factor.shape),
                          table.pressure_factor_error)
    four, four_err = entry_estimates(levels[:-1], per_level[:-1].reshape(4, -1), floor=False,
                                     extrapolate=True)
    assert np.all(np.abs(four - values) <= four_err + errors)


def test_shipped_exponent_checks_are_covered():
    """Held-out points between the egg-box tables at n = 1, 2, 3, 4.5, 6.56, 9 and 12, solved like
    entries by the generator, at least one between each two neighbours of the family: the
    family lookup's error plus the point's own covers the difference, and the recorded lookup
    is what the shipped tables return today."""
    family = sorted(t.creep["stress_exponent"] for t in load_tables()
                    if t.shape.get("kind") == "eggbox" and t.shape.get("form") == "product")
    assert family == [1.0, 2.0, 3.0, 4.5, 6.56, 9.0, 12.0]
    table = next(t for t in load_tables() if t.shape.get("kind") == "eggbox"
                 and t.shape.get("form") == "product"
                 and t.creep["stress_exponent"] == POWER_LAW.stress_exponent)
    checks = table.provenance["exponent_checks"]
    between = {int(np.searchsorted(family, c["point"][0])) for c in checks}
    assert between == {1, 2, 3, 4, 5, 6}
    for c in checks:
        n, a, k = c["point"]
        assert abs(c["table"] - c["solved"]) <= c["table_error"] + c["solved_error"], c
        d = EggBox(height_um=a * REFERENCE_PERIOD_UM, period_um=REFERENCE_PERIOD_UM)
        hit = lookup_pressure_factor(d, k * REFERENCE_PERIOD_UM * 1e-6,
                                     replace(POWER_LAW, stress_exponent=n))
        assert hit == pytest.approx((c["table"], c["table_error"]), rel=1e-9)


def test_band_check_solves_are_cached_and_are_the_band_refined_solves(tmp_path, monkeypatch):
    """With a cache folder the two band-refined solves of a band check are kept and taken
    over by a second check (an interrupted generation resumes them); each is the solve on the
    mesh with k elements per band half-width, bit for bit (the coarser one recomputed)."""
    import solver.tables as tables
    from solver.creep import CreepOptions, solve_creep_sequence

    calls = []
    solve = tables.solve_entries

    def counted(*args, **kwargs):
        calls.append(kwargs["options"].band_elements)
        return solve(*args, **kwargs)

    monkeypatch.setattr(tables, "solve_entries", counted)
    s = REFERENCE_PERIOD_UM
    design = PyramidArray(height_um=s / 6, period_um=s, edge_radius_um=0.022 * s)
    settings = {"divisions": 2, "elements": (1, 2), "tip_layer": 0.5, "tip_floor": 0.0625}
    spent, spent_again = [], []
    first = tables.band_check(design, 1.6, POWER_LAW, coarse=1.0, cache=tmp_path,
                              spent=spent, **settings)
    again = tables.band_check(design, 1.6, POWER_LAW, coarse=1.0, cache=tmp_path,
                              spent=spent_again, **settings)
    assert calls == [1, 2]
    assert first == again
    assert len(spent) == 2 and min(spent) > 0.0
    assert spent_again == spent  # the solve times as recorded, not the cache reads
    assert len(list(tmp_path.glob("*.npz"))) == 2
    fn = table_current_ratio_fn(design, 1.6)  # the coarser one again, directly (4 s)
    sol = solve_creep_sequence(design, [fn], POWER_LAW, divisions=2, options=CreepOptions(
        band_elements=1, tip_layer=0.5, tip_floor=0.0625))[0]
    assert first["values"][0] == float(sol.pressure.max())
    assert first["values"][1] < first["values"][0]  # the band resolved: Π comes down
    assert first["resolved"] == first["values"][1]
    assert first["resolved_error"] == abs(first["values"][0] - first["values"][1])
