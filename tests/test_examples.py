"""Examples run and reproduce one number each (scikit-fem's test_examples habit)."""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# trends the shipped defaults do not reproduce (evidence in README and docs/theory.md)
SHIPPED_MISSES = {"T2 interior maximum at S = 150 um": False,
                  "T3 interior maximum at H = 25 um": False}


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_current_maxima_reproduces_the_paper_trends(tmp_path):
    mod = load("current_maxima")
    table = mod.compute()
    const = table["Fig. 2b/2c: H/S = 1/6"]
    # Fig. 2b: scale invariance of the primary maximum (field-expansion value 1.8179)
    for row in const:
        assert row["primary_max"] == pytest.approx(1.8179, abs=5e-4)
    # Fig. 2c, 3c, 3f trends of the maximum with kinetics
    sec = [r["secondary_max"] for r in const]
    assert all(b > a for a, b in zip(sec, sec[1:], strict=False))
    for name in ("Fig. 3c: S = 150 um", "Fig. 3f: H = 25 um"):
        sec = [r["secondary_max"] for r in table[name]]
        assert all(b < a for a, b in zip(sec, sec[1:], strict=False))
    mod.plot(table, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def paper_terms():
    mod = load("paper_trends")
    return mod, mod.compute_terms()


def test_paper_trends_with_the_shipped_defaults(paper_terms, tmp_path):
    """T1-T5 with the shipped defaults (docs/theory.md, "Verification"), the model bound
    J*/J_flat <= A/A0 for every design, and the picture."""
    mod, terms = paper_terms
    from solver.electrolyte import ElectrolyteOptions
    from solver.prediction import default_constants

    lateral = ElectrolyteOptions().lateral_condition
    j = mod.ratios(terms, default_constants(), lateral=lateral)
    checks = mod.trend_checks(j)
    expected = {k: True for k in checks} | SHIPPED_MISSES
    assert checks == expected
    for name, designs in mod.SERIES.items():
        for d, (ratio, err) in zip(designs, j[name], strict=True):
            assert 0.0 < ratio <= terms[d.name]["area_ratio"]
            assert err >= 0.0
    mod.plot(terms, j, tmp_path / "t.png", "test")
    assert (tmp_path / "t.png").stat().st_size > 10_000


def test_paper_trends_error_bars_are_the_predictions(paper_terms):
    """The example solves one electrolyte column for cracks up to 150 um and reads the shipped
    crack size from it: its J*/J_flat and error bar are templater predict's (the error of the
    electrolyte stress at the crack size used, not at the column's deepest crack). The column
    and predict's solve at the crack size may stop at different electrolyte levels (H50S150:
    4 and 5 divisions, 1.8 and 0.3 % apart from the level below), which shows where the error
    of Π no longer dominates: the two error bars agree within 30 % of the larger one."""
    mod, terms = paper_terms
    from solver.electrolyte import ElectrolyteOptions
    from solver.prediction import default_constants, predict

    j = mod.ratios(terms, default_constants(), lateral=ElectrolyteOptions().lateral_condition)
    for name, designs in mod.SERIES.items():
        for d, (ratio, err) in zip(designs, j[name], strict=True):
            p = predict(d)
            assert ratio == pytest.approx(p.critical_current_ratio, abs=0.005)
            assert abs(err - p.critical_current_ratio_error) <= (
                0.3 * max(err, p.critical_current_ratio_error) + 0.001), d.name


def test_calibration_scan_picks_the_shipped_defaults(paper_terms):
    """The shipped crack size, growth exponent and lateral condition are the scan's choice."""
    _, terms = paper_terms
    cal = load("calibrate_defaults")
    best = cal.choose(cal.scan(terms))
    from solver.electrolyte import ElectrolyteOptions
    from solver.prediction import default_constants

    c = default_constants()
    assert c.criterion == "fracture"
    assert c.crack_size_m * 1e6 == pytest.approx(best["crack_um"], rel=1e-3)
    assert c.growth_exponent == best["growth_exponent"]
    assert ElectrolyteOptions().lateral_condition == best["lateral"]
