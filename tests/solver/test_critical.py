"""Dendrite criterion and calibration: closed form, model bound, recovery of known constants."""

import math

import numpy as np
import pytest

from solver.calibration import (
    fit_dendrite_constants,
    load_calibration,
    model_critical_currents,
    write_calibration,
)
from solver.critical import (
    CrackDrive,
    DendriteConstants,
    critical_current_ratio,
    fracture_critical_current_ratio,
)
from templater.geometry.errors import DesignError

N = 6.56


def test_flat_interface_gives_exactly_one():
    assert critical_current_ratio(1.0, 0.0, pressure_margin_pa=4.6e6, growth_exponent=N,
                                  creep_exponent=N) == 1.0
    assert critical_current_ratio(1.0, 0.0, pressure_margin_pa=4.6e6, growth_exponent=1.0,
                                  creep_exponent=N) == 1.0


@pytest.mark.parametrize("m, pf", [(0.8, 0.1e6), (1.3, 0.5e6), (2.0, 2e6), (0.95, 4e6)])
def test_root_solves_the_criterion_and_matches_closed_form(m, pf):
    margin = 4.6e6
    closed = critical_current_ratio(m, pf, pressure_margin_pa=margin, growth_exponent=N,
                                    creep_exponent=N)
    assert closed == pytest.approx((m ** (1 / N) + pf / margin) ** (-N), rel=1e-14)
    # the general root finder (n_g = n + tiny) agrees with the closed form
    near = critical_current_ratio(m, pf, pressure_margin_pa=margin,
                                  growth_exponent=N * (1 + 1e-9), creep_exponent=N)
    assert near == pytest.approx(closed, rel=1e-6)
    for ng in (1.0, 3.0, 10.0):
        x = critical_current_ratio(m, pf, pressure_margin_pa=margin, growth_exponent=ng,
                                   creep_exponent=N)
        lhs = m * x
        rhs = (1 - pf * x ** (1 / N) / margin) ** ng
        assert lhs == pytest.approx(rhs, rel=1e-10)


def test_model_bound_ratio_at_most_area_ratio():
    rng = np.random.default_rng(0)
    for _ in range(200):
        area = 1 + rng.uniform(0, 1)
        m = rng.uniform(1 / area, 3)
        x = critical_current_ratio(m, rng.uniform(0, 5e6), pressure_margin_pa=rng.uniform(1e5, 2e7),
                                   growth_exponent=rng.uniform(0.5, 10), creep_exponent=N)
        assert x <= area + 1e-12


def test_more_pressure_or_current_lowers_the_critical_current():
    base = dict(pressure_margin_pa=4.6e6, growth_exponent=N, creep_exponent=N)
    assert critical_current_ratio(1.2, 1e6, **base) < critical_current_ratio(1.2, 0.5e6, **base)
    assert critical_current_ratio(1.4, 1e6, **base) < critical_current_ratio(1.2, 1e6, **base)


def test_bad_constants_name_the_flag():
    with pytest.raises(DesignError, match="--flat-ccd"):
        DendriteConstants(flat_critical_current_a_m2=-1.0)
    with pytest.raises(DesignError, match="--pressure-margin"):
        DendriteConstants(pressure_margin_pa=float("nan"))
    with pytest.raises(DesignError, match="--growth-exponent"):
        DendriteConstants(growth_exponent=0.1)


def test_calibration_recovers_known_constants_from_noisy_synthetic_data(tmp_path):
    rng = np.random.default_rng(42)
    truth = DendriteConstants(flat_critical_current_a_m2=8.0, pressure_margin_pa=2.5e6,
                              growth_exponent=4.0, criterion="pressure_margin")
    m = rng.uniform(0.8, 1.6, 14)
    p1 = rng.uniform(0.1e6, 1.5e6, 14)
    clean = model_critical_currents(m, p1, truth, creep_exponent=N)
    noisy = clean * np.exp(rng.normal(0, 0.02, len(clean)))
    fit = fit_dendrite_constants(m, p1, noisy, creep_exponent=N,
                                 initial=DendriteConstants(flat_critical_current_a_m2=5.0,
                                                           pressure_margin_pa=5e6,
                                                           growth_exponent=6.0,
                                                           criterion="pressure_margin"))
    assert fit.success
    c = fit.constants
    for est, std, true in [
        (c.flat_critical_current_a_m2, fit.flat_critical_current_std_a_m2, 8.0),
        (c.pressure_margin_pa, fit.pressure_margin_std_pa, 2.5e6),
        (c.growth_exponent, fit.growth_exponent_std, 4.0),
    ]:
        assert std > 0 and math.isfinite(std)
        assert abs(est - true) <= 3 * std, (est, std, true)
    assert fit.rms_log_residual == pytest.approx(0.02, rel=0.5)
    path = tmp_path / "cal.toml"
    write_calibration(fit, path, source="synthetic.csv")
    back = load_calibration(path)
    assert back.flat_critical_current_a_m2 == pytest.approx(c.flat_critical_current_a_m2, rel=1e-5)
    assert back.pressure_margin_pa == pytest.approx(c.pressure_margin_pa, rel=1e-5)


def test_a_constant_the_data_cannot_determine_is_reported_at_its_bound():
    """Currents that follow J_flat/m exactly carry no pressure penalty: the best margin is
    infinite, so the fit stops at the search bound and must not claim success."""
    rng = np.random.default_rng(7)
    m = rng.uniform(0.8, 1.6, 10)
    p1 = rng.uniform(0.1e6, 1.5e6, 10)
    fit = fit_dendrite_constants(m, p1, 12.0 / m, creep_exponent=N, fit_growth_exponent=False,
                                 initial=DendriteConstants(criterion="pressure_margin"))
    assert fit.at_bounds == ("pressure_margin",)
    assert not fit.success and "pressure_margin" in fit.message
    # the residual penalty at the bound (Δp ≪ dP_margin) shifts J_flat by a few per cent only
    assert fit.constants.flat_critical_current_a_m2 == pytest.approx(12.0, rel=0.03)


# --- fracture criterion -------------------------------------------------------------------------
STACK = 7e6
FLAT = 1.0 - 0.3 / 0.7  # confined pellet, ν = 0.3
PC = 25e6


def _drive(rng):
    k = int(rng.integers(1, 6))
    base = FLAT + rng.uniform(0.0, 0.5, k)  # every point at or above the flat drive
    return CrackDrive(stack_pa=STACK, base=base, slope=rng.uniform(0.0, 1.2, k), flat=FLAT)


def test_fracture_flat_drive_gives_the_current_bound():
    flat = CrackDrive.flat_interface(STACK, FLAT)
    for m in (0.8, 1.0, 1.7):
        x = fracture_critical_current_ratio(m, 0.0, flat, critical_pressure_pa=PC,
                                            growth_exponent=2.0, creep_exponent=N)
        assert x == pytest.approx(1.0 / m, rel=1e-12)


def test_fracture_root_solves_the_criterion_and_respects_the_bound():
    rng = np.random.default_rng(3)
    for _ in range(100):
        drive = _drive(rng)
        m, pf, ng = rng.uniform(0.7, 2.0), rng.uniform(0.0, 3e6), rng.uniform(0.5, 8.0)
        x = fracture_critical_current_ratio(m, pf, drive, critical_pressure_pa=PC,
                                            growth_exponent=ng, creep_exponent=N)
        rest = (PC - drive.at(pf * x ** (1 / N))) / (PC - drive.flat_pa)
        assert m * x == pytest.approx(rest ** ng, rel=1e-9)
        assert x <= 1.0 / m + 1e-12  # drive >= flat: never above the current-only bound


def test_fracture_more_stress_lowers_the_critical_current():
    low = CrackDrive(stack_pa=STACK, base=np.array([FLAT + 0.1]), slope=np.array([0.9]),
                     flat=FLAT)
    high = CrackDrive(stack_pa=STACK, base=np.array([FLAT + 0.3]), slope=np.array([0.9]),
                      flat=FLAT)
    kw = dict(critical_pressure_pa=PC, growth_exponent=1.0, creep_exponent=N)
    assert (fracture_critical_current_ratio(1.1, 1e6, high, **kw)
            < fracture_critical_current_ratio(1.1, 1e6, low, **kw))


def test_fracture_zero_when_the_stack_pressure_alone_cracks():
    drive = CrackDrive(stack_pa=STACK, base=np.array([PC / STACK + 0.01]), slope=np.zeros(1),
                       flat=FLAT)
    assert fracture_critical_current_ratio(1.0, 1e6, drive, critical_pressure_pa=PC,
                                           growth_exponent=1.0, creep_exponent=N) == 0.0


def test_critical_pressure_is_toughness_over_root_pi_c():
    c = DendriteConstants(fracture_toughness_pa_m05=0.5e6, crack_size_m=25e-6)
    assert c.critical_pressure_pa == pytest.approx(0.5e6 / (1.12 * math.sqrt(math.pi * 25e-6)))


def test_calibration_recovers_the_fracture_constants_from_noisy_synthetic_data(tmp_path):
    """Eight egg-boxes with their real electrolyte stress (coarse mesh, a smooth excess-pressure
    shape): J* from known constants plus 2 % noise; the fit recovers J_flat, c and n_g within
    three standard errors and the calibration file reads back."""
    from solver.electrolyte import ElectrolyteOptions, solve_electrolyte
    from templater import EggBox

    def shape(x_um, y_um, s_um):
        k = 2.0 * np.pi / s_um
        return 0.5 * (1.0 - np.cos(k * x_um) * np.cos(k * y_um))

    designs = [(h, s) for h in (5.0, 15.0, 30.0, 45.0) for s in (100.0, 150.0)]
    stresses = [solve_electrolyte(EggBox(height_um=h, period_um=s),
                                  ElectrolyteOptions(divisions=3),
                                  excess_shape=lambda x, y, s=s: shape(x, y, s),
                                  crack_depth_um=80.0) for h, s in designs]
    rng = np.random.default_rng(11)
    m = np.array([1.0 - 0.004 * h + 0.001 * (150 - s) / 10 for h, s in designs])
    p1 = np.array([0.4e6 + 0.02e6 * h for h, _ in designs])
    truth = DendriteConstants(flat_critical_current_a_m2=15.0, crack_size_m=30e-6,
                              growth_exponent=2.0, criterion="fracture")
    clean = model_critical_currents(m, p1, truth, creep_exponent=N, stresses=stresses,
                                    stack_pressure_pa=STACK)
    noisy = clean * np.exp(rng.normal(0, 0.02, len(clean)))
    start = DendriteConstants(flat_critical_current_a_m2=10.0, crack_size_m=15e-6,
                              growth_exponent=1.0, criterion="fracture")
    fit = fit_dendrite_constants(m, p1, noisy, creep_exponent=N, initial=start,
                                 stresses=stresses, stack_pressure_pa=STACK)
    assert fit.success, fit.message
    c = fit.constants
    for est, std, true in [
        (c.flat_critical_current_a_m2, fit.flat_critical_current_std_a_m2, 15.0),
        (c.crack_size_m, fit.crack_size_std_m, 30e-6),
        (c.growth_exponent, fit.growth_exponent_std, 2.0),
    ]:
        assert std > 0 and math.isfinite(std)
        assert abs(est - true) <= 3 * std, (est, std, true)
    path = tmp_path / "cal.toml"
    write_calibration(fit, path, source="synthetic.csv")
    back = load_calibration(path)
    assert back.criterion == "fracture"
    assert back.crack_size_m == pytest.approx(c.crack_size_m, rel=1e-5)
