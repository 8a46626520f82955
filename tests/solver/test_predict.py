"""Full prediction chain: field → creep → dendrite criterion, and the JSON the CLI prints."""

import json

import pytest

from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.prediction import predict
from templater.geometry.surfaces import EggBox, Flat


def test_flat_interface_predicts_exactly_flat():
    pred = predict(Flat(), use_tables=False)
    assert pred.critical_current_ratio == 1.0
    assert pred.max_excess_pressure_pa == 0.0
    assert pred.critical_current_a_m2 == pred.constants.flat_critical_current_a_m2


@pytest.fixture(scope="module")
def eggbox_prediction():
    return predict(EggBox(height_um=25.0, period_um=150.0), use_tables=False, creep_divisions=3)


def test_eggbox_chain_is_consistent(eggbox_prediction):
    pred = eggbox_prediction
    c = pred.constants
    n = pred.creep_params.stress_exponent
    # Σ at 1 mA/cm², Π from the solver, and the closed-form criterion for n_g = n
    sigma = CreepParameters().stress_scale_pa(10.0, 150e-6)
    assert pred.max_excess_pressure_pa == pytest.approx(pred.pressure_factor * sigma, rel=1e-12)
    pf = pred.max_excess_pressure_pa * (c.flat_critical_current_a_m2 / 10.0) ** (1 / n)
    ng = c.growth_exponent or n
    if ng == n:
        expected = (pred.max_current_ratio ** (1 / n) + pf / c.pressure_margin_pa) ** (-n)
        assert pred.critical_current_ratio == pytest.approx(expected, rel=1e-12)
    assert pred.critical_current_ratio <= pred.field.area_ratio
    # pressure maximum at a Li tip (electrolyte trough) of the product egg-box
    x, y = pred.max_pressure_location_um
    assert min(abs(x - 75) + abs(y), abs(x) + abs(y - 75)) < 1e-6
    assert pred.max_current_ratio == pred.field.secondary.max_current_ratio


def test_json_has_the_documented_keys(eggbox_prediction):
    d = json.loads(json.dumps(eggbox_prediction.to_json_dict()))
    assert d["design"]["kind"] == "eggbox" and d["design"]["H_um"] == 25.0
    for key in ("area_ratio", "solve_time_s"):
        assert isinstance(d[key], float)
    for mode in ("primary", "secondary"):
        assert {"max_current_ratio", "min_current_ratio"} <= set(d[mode])
    assert d["creep"]["max_excess_pressure_MPa"] > 0
    assert {"critical_current_ratio", "critical_current_mA_cm2"} <= set(d["dendrite"])


def test_flat_ccd_scales_the_critical_current_weakly():
    """J* = J_flat × ratio; the ratio depends on J_flat only through P_f ∝ J_flat^(1/n)."""
    design = EggBox(height_um=5.0, period_um=150.0)
    a = predict(design, constants=DendriteConstants(flat_critical_current_a_m2=10.0),
                use_tables=False, creep_divisions=3)
    b = predict(design, constants=DendriteConstants(flat_critical_current_a_m2=20.0),
                use_tables=False, creep_divisions=3)
    assert b.critical_current_a_m2 > 1.8 * a.critical_current_a_m2
    assert b.critical_current_ratio < a.critical_current_ratio
    assert b.excess_pressure_at_flat_ccd_pa == pytest.approx(
        a.excess_pressure_at_flat_ccd_pa * 2 ** (1 / 6.56), rel=1e-9)


def test_coupling_changes_the_kinetic_current_by_less_than_one_percent():
    pred = predict(EggBox(height_um=25.0, period_um=150.0), use_tables=False, creep_divisions=3,
                   couple=True)
    assert pred.coupling_current_change is not None
    assert 0 < abs(pred.coupling_current_change) < 0.01
    assert pred.to_json_dict()["coupling"]["max_current_relative_change"] == \
        pred.coupling_current_change
