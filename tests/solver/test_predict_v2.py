"""Model v2 through the public predict(): flat exactly 1, the bound J*/J_flat <= A/A0, and the
Butler-Volmer fixed point J* <-> m(J*)."""

from dataclasses import replace

import pytest

from solver.critical import DendriteConstants
from solver.electrolyte import ElectrolyteOptions
from solver.prediction import critical_ratio, default_constants, predict
from templater.geometry import EggBox, Flat, FrustumArray, PyramidArray
from templater.geometry.units import UM


@pytest.mark.parametrize("criterion", ["fracture", "pressure_margin"])
@pytest.mark.parametrize("kinetics", ["linear", "butler-volmer"])
def test_flat_interface_gives_exactly_one(criterion, kinetics):
    c = replace(default_constants(), criterion=criterion)
    pred = predict(Flat(), constants=c, kinetics=kinetics, primary=False)
    assert pred.critical_current_ratio == 1.0
    assert pred.critical_current_ratio_error == 0.0


@pytest.mark.parametrize("design", [
    EggBox(height_um=10.0, period_um=60.0),
    EggBox(height_um=40.0, period_um=120.0),
    PyramidArray(height_um=25.0, period_um=150.0),
    FrustumArray(height_um=25.0, period_um=150.0),
], ids=lambda d: d.name)
def test_bound_critical_current_at_most_area_ratio(design):
    """m >= 1/(A/A0) and the crack drive at the tips is at least the flat one: J*/J_flat can
    never exceed A/A0 (checked for a strong and a weak crack)."""
    for crack in (2e-6, 60e-6):
        c = replace(default_constants(), crack_size_m=crack)
        pred = predict(design, constants=c, primary=False)
        assert 0.0 < pred.critical_current_ratio <= pred.field.area_ratio
        assert pred.electrolyte.crack_driving_pressure_pa >= \
            pred.electrolyte.flat_crack_driving_pressure_pa


def test_butler_volmer_fixed_point():
    """At J* the Butler-Volmer tip current solves the criterion: m(J*) J* = growth current, and
    the full law raises m over the linearised one at a few mA/cm²."""
    from solver.kinetics import solve_secondary_bv

    design = EggBox(height_um=50.0, period_um=150.0)
    c = replace(default_constants(), flat_critical_current_a_m2=40.0)  # 4 mA/cm²
    linear = predict(design, constants=c, primary=False)
    bv = predict(design, constants=c, primary=False, kinetics="butler-volmer")
    j_star = bv.critical_current_a_m2
    m_at_j = solve_secondary_bv(design, bv.field.materials, j_star).max_current_ratio
    assert bv.max_current_ratio == pytest.approx(m_at_j, rel=1e-5)
    drive = bv.electrolyte.stress.crack_drive(bv.creep_params.stack_pressure_pa,
                                              c.crack_size_m * 1e6)
    again = critical_ratio(m_at_j, bv.excess_pressure_at_flat_ccd_pa, constants=c,
                           creep_exponent=bv.creep_params.stress_exponent, drive=drive)
    assert again == pytest.approx(bv.critical_current_ratio, rel=1e-5)
    assert bv.max_current_ratio > linear.max_current_ratio
    assert bv.critical_current_ratio < linear.critical_current_ratio


def test_invalid_fracture_constants_are_refused():
    """A critical pressure below the flat interface's crack drive means the flat cell cracks
    without current: a clear error, not a number."""
    from templater.geometry.errors import TemplaterError

    c = DendriteConstants(fracture_toughness_pa_m05=0.01e6, crack_size_m=500e-6)
    with pytest.raises(TemplaterError, match="crack without current"):
        predict(EggBox(height_um=25.0, period_um=150.0), constants=c, primary=False)


@pytest.mark.parametrize("jf_ma_cm2", [1.0, 2.0])
def test_two_mechanism_creep_uses_the_pressure_at_the_flat_critical_current(jf_ma_cm2,
                                                                            monkeypatch):
    """With a transition stress Δp(J) is no power law: P_f is Δp at J_flat itself and the
    local exponent between J_flat/2 and J_flat, both on the mesh the Π levels ended on (5
    divisions for this design, after 4), lies between 1/n and 1 and fixes J*:
    P_f (J*/J_flat)^(1/n_eff) against the critical drive. When J_flat is the reference
    current (1 mA/cm²) the Π solve is P_f's: one more solve, at J_flat/2."""
    import math

    import solver.prediction as prediction
    from solver.creep_params import CreepParameters

    solves = []
    solve = prediction.solve_creep

    def spy(*args, **kwargs):
        result = solve(*args, **kwargs)
        solves.append((kwargs["current_density_a_m2"], kwargs["divisions"],
                       result.max_excess_pressure_pa))
        return result

    monkeypatch.setattr(prediction, "solve_creep", spy)
    design = EggBox(height_um=25.0, period_um=150.0)
    params = CreepParameters(transition_stress_pa=0.3e6)
    c = replace(default_constants(), flat_critical_current_a_m2=10.0 * jf_ma_cm2)
    pred = predict(design, creep_params=params, constants=c, primary=False)
    level = pred.creep.divisions
    assert level[0] > 4  # the levels refined (the first is 4)
    jf = c.flat_critical_current_a_m2
    at_jf = [(j, d) for j, d, _ in solves]
    if jf_ma_cm2 == 1.0:
        assert at_jf == [(0.5 * jf, level)]
        pf = pred.creep.max_excess_pressure_pa
    else:
        assert at_jf == [(jf, level), (0.5 * jf, level)]
        pf = solves[0][2]
    assert pred.excess_pressure_at_flat_ccd_pa == pf
    slope = math.log(pf / solves[-1][2]) / math.log(2.0)
    assert 1.0 / params.stress_exponent < slope <= 1.0
    drive = pred.electrolyte.stress.crack_drive(params.stack_pressure_pa)
    ratio = critical_ratio(pred.max_current_ratio, pf, constants=c,
                           creep_exponent=1.0 / slope, drive=drive)
    assert pred.critical_current_ratio == pytest.approx(ratio, rel=1e-9)
    assert 0.0 < pred.critical_current_ratio <= pred.field.area_ratio


def test_electrolyte_started_before_the_field_is_the_one_solved_after_it():
    """The electrolyte levels start before the field, on the design rounded as a default
    field solve rounds it: that design is the field's, and the stress equals one solved
    afterwards from the field and the excess-pressure shape."""
    from solver.prediction import electrolyte_stress, solid_design

    design = PyramidArray(height_um=25.0, period_um=150.0)
    pred = predict(design, primary=False)
    secondary = pred.field.secondary
    assert solid_design(design) == solid_design(design, secondary)
    after = electrolyte_stress(design, secondary, pred.creep_params, pred.creep,
                               ElectrolyteOptions(), pred.constants.crack_size_m / UM, None)
    early = pred.electrolyte.stress
    assert early.divisions == after.divisions
    assert early.stress_concentration() == pytest.approx(after.stress_concentration(),
                                                         rel=1e-12)
    assert early.error_estimate == pytest.approx(after.error_estimate, rel=1e-12)


def test_an_error_before_the_electrolyte_stress_releases_its_threads(monkeypatch):
    """The electrolyte thread waits for the excess-pressure shape; an error on the way there
    must not leave it waiting (a hung interpreter at exit)."""
    import threading

    import solver.prediction as prediction
    from templater.geometry.errors import TemplaterError

    def fail(*args, **kwargs):
        raise TemplaterError("no pressure")

    monkeypatch.setattr(prediction, "_pressure", fail)
    with pytest.raises(TemplaterError, match="no pressure"):
        predict(PyramidArray(height_um=25.0, period_um=150.0), primary=False)
    for thread in threading.enumerate():
        if thread.name.startswith("electrolyte"):
            thread.join(timeout=60.0)
            assert not thread.is_alive()


def test_a_failed_shape_solve_is_reported_not_waited_for(monkeypatch):
    """The coarse shape solve may fail before it needs the field (in its mesh): the error
    reaches the caller once the field is handed over, instead of a wait that never ends."""
    import solver.prediction as prediction
    from templater.geometry.errors import TemplaterError

    def fail(*args, **kwargs):
        raise TemplaterError("no shape")

    monkeypatch.setattr(prediction, "solve_creep", fail)
    with pytest.raises(TemplaterError, match="no shape"):
        predict(PyramidArray(height_um=25.0, period_um=150.0), primary=False)
