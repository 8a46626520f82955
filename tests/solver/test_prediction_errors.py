"""Every predicted number carries its estimated error (propagated from m and Π to J*)."""

import json
import math

import pytest

from solver.critical import critical_current_ratio
from solver.prediction import CRITERION, _ratio_error, predict
from templater.geometry import EggBox, Flat


def _ratio_of(m, pf):
    return critical_current_ratio(m, pf, pressure_margin_pa=6.67e6, growth_exponent=2.0,
                                  creep_exponent=6.56)


def test_flat_interface_is_exact():
    pred = predict(Flat())
    assert pred.critical_current_ratio == 1.0 and pred.critical_current_ratio_error == 0.0
    d = pred.to_json_dict()
    assert d["dendrite"]["critical_current_ratio_error"] == 0.0
    assert d["dendrite"]["criterion"] == CRITERION


def test_error_is_linear_in_small_input_errors():
    """First-order propagation: doubling both input errors doubles the J* error."""
    m, pf = 1.1, 0.9e6
    e1 = _ratio_error(_ratio_of, m, 1e-4, pf, 1e3)
    e2 = _ratio_error(_ratio_of, m, 2e-4, pf, 2e3)
    assert e1 > 0 and e2 == pytest.approx(2 * e1, rel=1e-3)


def test_unknown_input_error_gives_unknown_output_error():
    assert math.isnan(_ratio_error(_ratio_of, 1.1, float("nan"), 0.9e6, 1e3))
    assert math.isnan(_ratio_error(_ratio_of, 1.1, 1e-4, 0.9e6, float("nan")))


def test_table_prediction_reports_errors_in_json():
    pred = predict(EggBox(height_um=25, period_um=150))
    d = json.loads(json.dumps(pred.to_json_dict()))
    creep, dendrite = d["creep"], d["dendrite"]
    rel_pi = creep["pressure_factor_error"] / creep["pressure_factor"]
    assert creep["max_excess_pressure_error_MPa"] == pytest.approx(
        rel_pi * creep["max_excess_pressure_MPa"])
    err = dendrite["critical_current_ratio_error"]
    assert 0 < err < 0.1 * dendrite["critical_current_ratio"]
    # the J* error is at least the part the pressure error alone causes
    pf = pred.excess_pressure_at_flat_ccd_pa
    alone = abs(_ratio_of(pred.max_current_ratio, pf * (1 + rel_pi))
                - _ratio_of(pred.max_current_ratio, pf))
    assert err >= alone * (1 - 1e-9)
