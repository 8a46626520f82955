"""Every predicted number carries its estimated error (propagated from m and Π to J*)."""

import json
import math

import pytest

from solver.critical import DendriteConstants, critical_current_ratio
from solver.prediction import _ratio_error, critical_ratio, predict
from templater.geometry import EggBox, Flat

V1 = DendriteConstants(criterion="pressure_margin", pressure_margin_pa=6.67e6,
                       growth_exponent=2.0)


def _ratio_of(m, pf, stress_rel=0.0):
    return critical_current_ratio(m, pf, pressure_margin_pa=6.67e6, growth_exponent=2.0,
                                  creep_exponent=6.56)


def test_flat_interface_is_exact():
    pred = predict(Flat())
    assert pred.critical_current_ratio == 1.0 and pred.critical_current_ratio_error == 0.0
    d = pred.to_json_dict()
    assert d["dendrite"]["critical_current_ratio_error"] == 0.0
    assert d["dendrite"]["criterion"] == "fracture"
    assert d["electrolyte"] is None


def test_error_is_linear_in_small_input_errors():
    """First-order propagation: doubling both input errors doubles the J* error."""
    m, pf = 1.1, 0.9e6
    e1 = _ratio_error(_ratio_of, m, 1e-4, pf, 1e3, 0.0)
    e2 = _ratio_error(_ratio_of, m, 2e-4, pf, 2e3, 0.0)
    assert e1 > 0 and e2 == pytest.approx(2 * e1, rel=1e-3)


def test_unknown_input_error_gives_unknown_output_error():
    assert math.isnan(_ratio_error(_ratio_of, 1.1, float("nan"), 0.9e6, 1e3, 0.0))
    assert math.isnan(_ratio_error(_ratio_of, 1.1, 1e-4, 0.9e6, float("nan"), 0.0))


def test_table_prediction_reports_errors_in_json():
    pred = predict(EggBox(height_um=25, period_um=150), constants=V1)
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


def test_fracture_prediction_reports_the_electrolyte_with_errors():
    """The v2 JSON keys: electrolyte block with its error, criterion name, J* error that
    includes the electrolyte-stress part."""
    pred = predict(EggBox(height_um=25, period_um=150), primary=False)
    d = json.loads(json.dumps(pred.to_json_dict()))
    e, dendrite = d["electrolyte"], d["dendrite"]
    assert dendrite["criterion"] == "fracture"
    for key in ("max_hoop_stress_MPa", "stress_concentration", "lateral_condition",
                "error_estimate", "stress_concentration_error",
                "crack_driving_pressure_error_MPa"):
        assert key in e
    # every electrolyte number with its error: K_t and the drive from the stress error, the
    # drive also from the error of Π
    # K_t is an interface value: its error is the level change at depth 0, not at the crack
    surface = pred.electrolyte.stress.drive_error(0.0)
    assert surface == pytest.approx(abs(
        pred.electrolyte.stress.stress_concentration()
        - pred.electrolyte.stress.coarse.stress_concentration())
        / (pred.electrolyte.stress.stress_concentration() - 1.0), rel=1e-9)
    assert e["interface_error_estimate"] == pytest.approx(surface)
    assert e["stress_concentration_error"] == pytest.approx(
        surface * (e["stress_concentration"] - 1.0))
    assert e["crack_driving_pressure_error_MPa"] >= e["error_estimate"] * (
        e["crack_driving_pressure_MPa"] - e["flat_crack_driving_pressure_MPa"]) * (1 - 1e-12)
    assert e["stress_concentration"] > 1.0
    assert 0.0 <= e["error_estimate"] < 0.2
    err = dendrite["critical_current_ratio_error"]
    assert 0 < err < 0.2 * dendrite["critical_current_ratio"]
    drive = pred.electrolyte.stress.crack_drive(pred.creep_params.stack_pressure_pa,
                                                pred.constants.crack_size_m * 1e6)
    kw = dict(constants=pred.constants, creep_exponent=6.56, drive=drive)
    base = critical_ratio(pred.max_current_ratio, pred.excess_pressure_at_flat_ccd_pa, **kw)
    assert base == pytest.approx(dendrite["critical_current_ratio"], rel=1e-12)
    shifted = critical_ratio(pred.max_current_ratio, pred.excess_pressure_at_flat_ccd_pa,
                             stress_rel=e["error_estimate"], **kw)
    assert err >= abs(shifted - base) * (1 - 1e-9)
    # crack-driving pressure at J*: between the flat value and the critical pressure
    assert e["flat_crack_driving_pressure_MPa"] < e["crack_driving_pressure_MPa"] < \
        e["critical_pressure_MPa"]


def test_a_prediction_off_the_tables_carries_the_reason_as_a_note():
    """The one-line reason is part of the result (printed and in the JSON), not only a
    progress note on a terminal; a table prediction has none."""
    from dataclasses import replace as _replace

    from solver.creep_params import CreepParameters
    from solver.prediction import predict
    from templater.cli.report import prediction_lines
    from templater.geometry.surfaces import EggBox

    d = EggBox(height_um=25.0, period_um=150.0)
    assert predict(d, primary=False).notes == ()
    slip = _replace(CreepParameters(transition_stress_pa=0.0), slip="freeslip")
    pred = predict(d, creep_params=slip, primary=False, creep_divisions=2)
    assert len(pred.notes) == 1
    assert pred.notes[0].startswith("pressure not from the tables: creep options differ from "
                                    "the table's: slip freeslip (table: noslip); free slip: ")
    assert f"  note: {pred.notes[0]}" in prediction_lines(pred)
    assert pred.to_json_dict()["creep"]["notes"] == list(pred.notes)


def test_free_slip_error_includes_the_interface_layer_spread():
    """Free-slip Π depends on the first element layer at the interface: the prediction adds to
    its error the difference to an independent solve with elements as thick as wide, which is
    not small (tens of per cent at H25S150), and says so."""
    from dataclasses import replace as _replace

    from solver.creep import CreepOptions, solve_creep, solve_creep_dimensionless
    from solver.creep_params import CreepParameters
    from solver.field import solve_field
    from solver.prediction import FREE_SLIP_CHECK_LAYER, _free_slip_spread, solid_design

    d = EggBox(height_um=25.0, period_um=150.0)
    params = _replace(CreepParameters(transition_stress_pa=0.0), slip="freeslip")
    pred = predict(d, creep_params=params, primary=False, creep_divisions=3)
    secondary = solve_field(d, mode="secondary")
    solid = solid_design(d, secondary)
    thin = solve_creep(solid, secondary.current_ratio_at_um, params, divisions=3)
    thick = solve_creep_dimensionless(solid, secondary.current_ratio_at_um, params,
                                      divisions=3,
                                      options=CreepOptions(interface_layer=FREE_SLIP_CHECK_LAYER))
    spread = abs(thin.pressure_factor - thick.pressure.max())
    assert pred.pressure_factor == pytest.approx(thin.pressure_factor, rel=1e-9)
    assert spread > 0.05 * thin.pressure_factor
    assert f"{thick.pressure.max():.4g} with elements as thick as wide" in pred.notes[0]
    # one fixed mesh has no error estimate of its own: the sum stays unknown
    assert math.isnan(pred.pressure_factor_error)
    assert _free_slip_spread(solid, secondary.current_ratio_at_um, params, thin, None) == (
        pytest.approx(spread, rel=1e-9), pytest.approx(thick.pressure.max(), rel=1e-9))


def test_a_rounded_design_off_the_tables_is_solved_with_the_band_resolved(monkeypatch):
    """A rounded design off the tables (top fraction 0.9) is solved on the rounded tables'
    band-resolved mesh at every one of their levels 2-4 (none skipped when two agree): Π is
    the level-4 solve, the first level is a direct solve on that mesh (bit for bit), and the
    error is the levels' own plus the band step the tables measured."""
    import solver.prediction as prediction
    from solver.creep import solve_creep_dimensionless
    from solver.field import solve_field
    from solver.materials import Materials
    from solver.tables import BAND_RESOLVED_OPTIONS, band_resolved_error
    from templater.geometry import FrustumArray

    calls = []
    converged = prediction.solve_creep_converged

    def spy(*args, **kwargs):
        calls.append(kwargs)
        res = converged(*args, **kwargs)
        calls.append(res)
        return res

    monkeypatch.setattr(prediction, "solve_creep_converged", spy)
    design = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=3.3, top_fraction=0.9)
    pred = predict(design, primary=False)
    kwargs, res = calls
    assert kwargs["options"] == BAND_RESOLVED_OPTIONS
    assert res.divisions_sequence == (2, 3, 4)
    assert pred.pressure_source == "solver"
    assert pred.pressure_factor == res.pressure_factor == res.pressure_factor_sequence[-1]
    step = band_resolved_error(design)
    assert 0.0 < step < 0.1  # the frustum tables' band checks: under a few per cent
    assert pred.pressure_factor_error == pytest.approx(
        res.pressure_factor_error + step * pred.pressure_factor, rel=1e-12)
    assert "band-resolved creep meshes 2-4" in pred.notes[0]
    assert "biased high" not in pred.notes[0]
    field = solve_field(prediction.solid_design(design), Materials(), mode="secondary")
    first = solve_creep_dimensionless(prediction.solid_design(design, field),
                                      field.current_ratio_at_um, divisions=2,
                                      options=BAND_RESOLVED_OPTIONS)
    assert float(first.pressure.max()) == res.pressure_factor_sequence[0]


def test_the_band_resolved_mesh_is_counted_before_it_is_built():
    """The vertex count that decides whether a rounded design off the tables can be solved
    with the band resolved is the mesh's own; the inverted frustum's (about 9 400 vertices at
    level 4) is over the budget and gets the coarse band, a pyramid's is not."""
    from solver.creep import _Problem, mesh_vertex_count
    from solver.creep_params import CreepParameters
    from solver.prediction import _band_resolved_plan
    from solver.tables import BAND_RESOLVED_OPTIONS as o
    from solver.tables import OFF_TABLE_BAND_LEVELS
    from templater.geometry import FrustumArray, PyramidArray

    params = CreepParameters()
    pyramid = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    built = _Problem(pyramid, (3, 3), params.depth_factor, params.slip, o.interface_layer,
                     o.lateral_grading, o.band_grading, o.tip_layer, o.band_elements,
                     o.band_growth, o.mirror, o.tip_floor)
    assert mesh_vertex_count(pyramid, 3, params, o) == built.n_vertices
    assert _band_resolved_plan(pyramid, params) == OFF_TABLE_BAND_LEVELS
    inverted = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0, invert=True)
    assert mesh_vertex_count(inverted, 4, params, o) > 3 * mesh_vertex_count(pyramid, 4,
                                                                              params, o)
    assert _band_resolved_plan(inverted, params) is None
    # the count need not grow with the level (the band nodes dominate): every level counts
    flat_top = FrustumArray(height_um=10.0, period_um=150.0, edge_radius_um=2.0,
                            top_fraction=0.25)
    counts = [mesh_vertex_count(flat_top, d, params, o) for d in (2, 3, 4)]
    assert counts[1] > max(counts[0], counts[2])
    assert (_band_resolved_plan(flat_top, params) is None) == (max(counts) > 3000)
