"""Materials: defaults, derived kinetic length, validation naming the CLI flag."""

import dataclasses
import math

import pytest

from solver.materials import FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K, Materials
from templater.geometry.errors import DesignError


def test_defaults_give_documented_kinetic_length():
    """docs/theory.md: R_ct = 12.85 Ω cm², L_k ≈ 257 µm at κ = 2 mS/cm, i0 = 2 mA/cm²."""
    m = Materials()
    assert (m.kappa_s_m, m.i0_a_m2, m.alpha_a, m.alpha_c, m.temperature_k) == (
        0.2, 20.0, 0.5, 0.5, 298.15)
    r_ct = GAS_CONSTANT_J_MOL_K * 298.15 / (1.0 * FARADAY_C_MOL * 20.0)
    assert m.charge_transfer_resistance_ohm_m2 == pytest.approx(r_ct, rel=1e-14)
    assert m.charge_transfer_resistance_ohm_m2 * 1e4 == pytest.approx(12.85, abs=5e-3)
    assert m.kinetic_length_m * 1e6 == pytest.approx(256.9, abs=0.05)


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Materials().kappa_s_m = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"kappa_s_m": 0.0}, "kappa"),
        ({"kappa_s_m": -0.2}, "kappa"),
        ({"i0_a_m2": float("nan")}, "i0"),
        ({"i0_a_m2": "20"}, "i0"),
        ({"alpha_a": 0.0}, "alpha-a"),
        ({"alpha_c": 1.5}, "alpha-c"),
        ({"temperature_k": -1.0}, "temperature"),
        ({"temperature_k": float("inf")}, "temperature"),
    ],
)
def test_bad_values_raise_design_error_naming_flag(kwargs, flag):
    with pytest.raises(DesignError) as info:
        Materials(**kwargs)
    err = info.value
    assert err.flag == flag and err.kind == "materials"
    assert f"--{flag}" in str(err)


def test_cli_units_conversion_and_error_in_cli_units():
    m = Materials.from_cli_units(kappa_ms_cm=3.0, i0_ma_cm2=0.5, alpha_a=0.3, temperature_k=310)
    assert m.kappa_s_m == pytest.approx(0.3)
    assert m.i0_a_m2 == pytest.approx(5.0)
    assert (m.alpha_a, m.alpha_c, m.temperature_k) == (0.3, 0.5, 310.0)
    assert Materials.from_cli_units() == Materials()
    with pytest.raises(DesignError, match=r"--kappa.*mS/cm") as info:
        Materials.from_cli_units(kappa_ms_cm=-1.0)
    assert info.value.unit == "mS/cm"
    with pytest.raises(DesignError, match=r"--i0.*mA/cm\^2"):
        Materials.from_cli_units(i0_ma_cm2=0.0)


def test_from_kinetic_length_round_trip():
    m = Materials.from_kinetic_length(23.87e-6)
    assert m.kinetic_length_m == pytest.approx(23.87e-6, rel=1e-12)
    assert m.kappa_s_m == 0.2
    with pytest.raises(DesignError):
        Materials.from_kinetic_length(-1.0)
    assert math.isfinite(m.to_dict()["kinetic_length_m"])
