"""Rounded tables at other creep exponents, anchored to the n = 6.56 tables: each entry is the
anchor's entry times the ratio Π(n)/Π(6.56) on the anchor's coarsest creep level
(``scripts/make_pressure_tables.py --anchored``)."""

import numpy as np
import pytest

from solver.creep import solve_creep_dimensionless
from solver.creep_params import CreepParameters
from solver.prediction import predict
from solver.tables import (
    REFERENCE_PERIOD_UM,
    PressureTable,
    load_tables,
    lookup_pressure_factor,
    table_current_ratio_fn,
    table_options,
)
from templater.geometry import make_design
from templater.geometry.surfaces import FrustumArray, PyramidArray

POWER_LAW = CreepParameters(transition_stress_pa=0.0)


def _anchored() -> list[tuple[PressureTable, PressureTable]]:
    """(anchored table, its anchor) for every shipped anchored table."""
    tables = load_tables()
    by_name = {}
    for t in tables:
        if t.edge_radius_over_s is not None and "anchored_to" not in t.provenance:
            n = t.creep["stress_exponent"]
            by_name[(t.shape.get("kind"), t.shape.get("top_fraction"), t.shape.get("invert"),
                     n)] = t
    out = []
    for t in tables:
        if "anchored_to" in t.provenance:
            key = (t.shape.get("kind"), t.shape.get("top_fraction"), t.shape.get("invert"),
                   POWER_LAW.stress_exponent)
            out.append((t, by_name[key]))
    return out


def test_pyramid_and_frustum_have_anchored_tables():
    found = {(t.shape["kind"], t.creep["stress_exponent"]) for t, _ in _anchored()}
    assert {("pyramid", 4.5), ("frustum", 4.5)} <= found


def test_anchored_entries_are_the_anchor_times_the_coarse_level_ratio():
    """Π(n) = Π_anchor · R with R = Π(n)/Π(6.56) at the coarsest level, and the error the
    anchor's (scaled) plus R's measured error; the ratio checks one level finer set that
    error (3 × the largest change of R, first order)."""
    for table, anchor in _anchored():
        p = table.provenance
        ratio = np.asarray(p["coarsest"]) / np.asarray(anchor.provenance["coarsest"])
        np.testing.assert_allclose(p["ratio"], ratio, rtol=1e-12)
        np.testing.assert_allclose(table.pressure_factor, anchor.pressure_factor * ratio,
                                   rtol=1e-12)
        eps = p["ratio_error"]
        np.testing.assert_allclose(
            table.pressure_factor_error,
            anchor.pressure_factor_error * ratio + table.pressure_factor * eps, rtol=1e-12)
        changes = [abs(c["ratio"][1] / c["ratio"][0] - 1.0) for c in p["ratio_checks"]]
        assert eps == pytest.approx(3.0 * max(changes), rel=1e-12)
        assert table.creep == {**anchor.creep,
                               "stress_exponent": table.creep["stress_exponent"]}
        for axis in ("aspect", "edge_radius_over_s", "kinetic_over_period"):
            np.testing.assert_array_equal(getattr(table, axis), getattr(anchor, axis))


def test_the_ratio_moves_less_than_the_pressure_factor_between_levels():
    """Why anchoring works: where Π itself is not converged (it moves by more than 1 % from
    the coarsest level to the next: up to 11 % at the shallow pyramid), the ratio
    Π(n)/Π(6.56) moves less than Π does, because the two solves' errors largely cancel; and
    it moves by at most 3 % anywhere (where Π has converged, by a few tenths of a per cent
    both ways). The recorded coarse values are the tables' own."""
    seen = 0
    for table, anchor in _anchored():
        checks = table.provenance["ratio_checks"]
        assert len(checks) >= 2
        for c in checks:
            a, r, k = c["point"]
            i = int(np.argmin(abs(anchor.aspect - a)))
            j = int(np.argmin(abs(anchor.edge_radius_over_s - r)))
            m = int(np.argmin(abs(anchor.kinetic_over_period - k)))
            assert c["anchor"][0] == np.asarray(anchor.provenance["coarsest"])[i, j, m]
            assert c["solved"][0] == np.asarray(table.provenance["coarsest"])[i, j, m]
            expected = [x / y for x, y in zip(c["solved"], c["anchor"], strict=True)]
            assert c["ratio"] == pytest.approx(expected, rel=1e-12)
            pi_change = max(abs(v[1] / v[0] - 1.0) for v in (c["solved"], c["anchor"]))
            ratio_change = abs(c["ratio"][1] / c["ratio"][0] - 1.0)
            assert ratio_change <= 0.03, (table.creep, c)
            if pi_change > 0.01:
                seen += 1
                assert ratio_change < pi_change, (table.creep, c)
    assert seen >= 4


def test_anchored_entries_agree_with_solves_at_their_exponent():
    """Grid points solved directly at n = 4.5, at the anchor's levels (as a table made at n
    would hold them): the anchored entry's error plus the solve's own covers the difference."""
    checks = [(table, c) for table, _ in _anchored()
              for c in table.provenance.get("direct_checks", [])]
    assert {t.shape["kind"] for t, _ in checks} == {"pyramid", "frustum"}
    for table, c in checks:
        a, r, k = c["point"]
        assert table.interpolate(a, k, r) == pytest.approx((c["table"], c["table_error"]),
                                                           rel=1e-12)
        assert abs(c["table"] - c["solved"]) <= c["table_error"] + c["solved_error"], c


@pytest.mark.parametrize("kind", ["pyramid", pytest.param("frustum", marks=pytest.mark.slow)])
def test_anchored_coarsest_level_is_recomputed(kind):
    """Spot check of an anchored table's solve at the largest edge radius (seconds): same
    solver, same mesh, same Π(n)."""
    table = next(t for t, _ in _anchored() if t.shape["kind"] == kind)
    i, j, m = 1, 2, 1
    a, r, ell = (float(table.aspect[i]), float(table.edge_radius_over_s[j]),
                 float(table.kinetic_over_period[m]))
    cls = PyramidArray if kind == "pyramid" else FrustumArray
    s = REFERENCE_PERIOD_UM
    design = cls(height_um=a * s, period_um=s, edge_radius_um=r * s)
    params = CreepParameters(transition_stress_pa=0.0,
                             stress_exponent=table.creep["stress_exponent"])
    sol = solve_creep_dimensionless(design, table_current_ratio_fn(design, ell), params,
                                    divisions=table.provenance["levels"][0],
                                    options=table_options(table))
    tabulated = np.asarray(table.provenance["coarsest"])[i, j, m]
    assert sol.pressure.max() == pytest.approx(tabulated, rel=1e-4)


def test_a_rounded_design_at_another_exponent_comes_from_the_tables():
    """n = 5 lies between the anchored n = 4.5 and the default table: Π from the tables (ln Π
    linear in 1/n), in about a second instead of a creep solve, and between its neighbours
    (Π falls with n)."""
    design = make_design("pyramid", height_um=25.0, period_um=150.0)
    pred = predict(design, creep_params=CreepParameters(stress_exponent=5.0), primary=False)
    assert pred.pressure_source == "table"
    solid = design.with_edge_radius(1.0)
    ell = pred.field.secondary.kinetic_length_m
    at = {n: lookup_pressure_factor(solid, ell, CreepParameters(stress_exponent=n,
                                                                  transition_stress_pa=0.0))
          for n in (4.5, 6.56)}
    assert at[6.56][0] < pred.pressure_factor < at[4.5][0]
    assert 0.0 < pred.pressure_factor_error < 0.5 * pred.pressure_factor
