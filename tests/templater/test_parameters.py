"""The one parameter system: declarations, the default set (data with sources), checks, units."""

import math
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.materials import Materials
from templater.fab.mesh import Footprint, build_template_mesh
from templater.geometry.errors import DesignError
from templater.geometry.parameters import (
    PARAMETERS,
    check,
    default_set,
    default_value,
    from_cli,
    help_text,
    to_cli,
)
from templater.geometry.surfaces import EggBox
from templater.jobs.presets import load_printer

DEFAULT_TOML = Path(__file__).resolve().parents[2] / "templates" / "parameters" / "default.toml"


def test_every_default_has_a_declaration_a_source_and_a_value_in_range():
    data = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8"))
    assert set(data) == set(default_set())
    for name, entry in data.items():
        p = PARAMETERS[name]
        assert entry["source"].strip(), name
        assert entry.get("unit", p.unit) == p.unit, name
        check(name, entry["value"], context="test")


def test_model_defaults_come_from_the_default_set():
    m, c, d = Materials(), CreepParameters(), DendriteConstants()
    for obj in (m, c, d):
        for name in obj.__dataclass_fields__:
            assert getattr(obj, name) == default_value(name), name
    # the exact floats the solver used before (outputs stay byte-identical)
    assert (m.kappa_s_m, m.i0_a_m2, c.stack_pressure_pa, d.pressure_margin_pa) == (
        0.2, 20.0, 7e6, 6.67e6)


@pytest.mark.parametrize(
    ("name", "cli_value", "si_value"),
    [
        ("kappa_s_m", 2.0, 0.2),
        ("i0_a_m2", 2.0, 20.0),
        ("flat_critical_current_a_m2", 1.0, 10.0),
        ("stack_pressure_pa", 7.0, 7e6),
        ("pressure_margin_pa", 6.67, 6.67 * 1e6),
        ("activation_energy_j_mol", 37.0, 37e3),
        ("height_um", 25.0, 25.0),
    ],
)
def test_cli_scale_matches_the_unit_conversion(name, cli_value, si_value):
    assert from_cli(name, cli_value, context="test") == si_value
    assert to_cli(name, si_value) == pytest.approx(cli_value, rel=1e-15)


@pytest.mark.parametrize(
    ("name", "si_value", "text"),
    [
        ("flat_critical_current_a_m2", -10.0, "(--flat-ccd) = -1 mA/cm^2"),
        ("stack_pressure_pa", -1e6, "(--stack-pressure) = -1 MPa"),
        ("activation_energy_j_mol", -1e3, "(--creep-Q) = -1 kJ/mol"),
        ("kappa_s_m", 0.0, "(--kappa) = 0 mS/cm"),
    ],
)
def test_errors_on_si_values_are_reported_in_the_flag_unit(name, si_value, text):
    with pytest.raises(DesignError) as info:
        check(name, si_value, context="test")
    assert text in str(info.value)
    assert info.value.unit == PARAMETERS[name].flag_unit


def test_open_and_closed_ends():
    assert check("top_fraction", 0.0, context="t") == 0.0
    with pytest.raises(DesignError, match=r"\[0, 1\)"):
        check("top_fraction", 1.0, context="t")
    assert check("height_um", 280, context="t") == 280.0
    with pytest.raises(DesignError, match=r"\(0, 280\]"):
        check("height_um", 0.0, context="t")
    for bad in (math.nan, math.inf, "1", True, None):
        with pytest.raises(DesignError):
            check("height_um", bad, context="t")
    with pytest.raises(DesignError, match="noslip | freeslip"):
        check("slip", "partial", context="t")


def test_solver_dataclasses_validate_through_the_registry():
    with pytest.raises(DesignError, match=r"--flat-ccd.*mA/cm\^2"):
        DendriteConstants(flat_critical_current_a_m2=-10.0)
    assert DendriteConstants(growth_exponent=None).growth_exponent is None
    with pytest.raises(DesignError, match=r"--stack-pressure.*MPa"):
        CreepParameters(stack_pressure_pa=-1.0)
    with pytest.raises(DesignError, match=r"--temperature.*\[150, 453.65\] K"):
        Materials(temperature_k=600.0)


def test_footprint_mesh_and_printer_validate_through_the_registry():
    with pytest.raises(DesignError, match=r"--size.*\[10, 100000\] um"):
        Footprint(size_um=5.0)
    with pytest.raises(DesignError, match="--footprint"):
        Footprint(shape="hexagon")
    design = EggBox(height_um=25.0, period_um=150.0)
    with pytest.raises(DesignError, match=r"--base.*\[0.5, 1000\] um"):
        build_template_mesh(design, base_um=0.1)
    with pytest.raises(DesignError, match=r"--tolerance"):
        build_template_mesh(design, tolerance_um=0.0)
    profile = load_printer()
    with pytest.raises(DesignError, match=r"laser_power_percent = 150 % .*\(0, 100\] %"):
        replace(profile, laser_power_percent=150.0)
    with pytest.raises(DesignError, match="contour_count"):
        replace(profile, contour_count=1.5)


def test_help_states_range_unit_and_default_in_the_flag_unit():
    text = help_text("stack_pressure_pa")
    assert "[0, 1000] MPa" in text and "default 7 MPa" in text
    assert "default 1 mA/cm^2" in help_text("flat_critical_current_a_m2")
