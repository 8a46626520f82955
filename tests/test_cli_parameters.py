"""Every model flag: a bad value exits 2 with a one-line error in the flag's own unit."""

import pytest
from click.testing import CliRunner

from templater.cli import main

CASES = [
    ("--kappa", "-1", "-1 mS/cm", "(0, 10000] mS/cm"),
    ("--i0", "-1", "-1 mA/cm^2", "(0, 100000] mA/cm^2"),
    ("--alpha-a", "-1", "= -1 is", "(0, 1]"),
    ("--alpha-c", "-1", "= -1 is", "(0, 1]"),
    ("--temperature", "-1", "-1 K", "[150, 453.65] K"),
    ("--creep-A", "-1", "-1 s^-1 MPa^-n", "(0, 1e+15] s^-1 MPa^-n"),
    ("--creep-n", "-1", "= -1 is", "[1, 12]"),
    ("--creep-Q", "-1", "-1 kJ/mol", "[0, 200] kJ/mol"),
    ("--stack-pressure", "-1", "-1 MPa", "[0, 1000] MPa"),
    ("--flat-ccd", "-1", "-1 mA/cm^2", "(0, 1000] mA/cm^2"),
    ("--pressure-margin", "-1", "-1 MPa", "(0, 100] MPa"),
    ("--growth-exponent", "-1", "= -1 is", "[0.5, 20]"),
]


@pytest.mark.parametrize(("flag", "value", "shown", "allowed"), CASES)
def test_bad_model_flag_names_flag_value_and_range_in_cli_unit(flag, value, shown, allowed):
    res = CliRunner().invoke(main, ["predict", "eggbox", "--H", "25", "--S", "150", flag, value])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert f"({flag})" in lines[0] and shown in lines[0] and allowed in lines[0], lines[0]


def test_model_help_is_generated_with_range_unit_and_default():
    out = CliRunner().invoke(main, ["predict", "--help"], terminal_width=400).output
    for flag, *_ in CASES:
        assert f"  {flag} " in out
    assert "[0, 1000] MPa; default 7" in out
    assert "(0, 1000] mA/cm^2; default 1" in out


@pytest.mark.parametrize("args, needle", [
    (["make", "eggbox", "--H", "25um", "--S", "150"], "--H = '25um' is not a number"),
    (["make", "eggbox", "--H", "25", "--S", "150", "--size", "3mm"], "[10, 100000] um"),
    (["predict", "eggbox", "--H", "25", "--S", "150", "--kappa", "2,5"], "(0, 10000] mS/cm"),
])
def test_text_where_a_number_belongs_is_a_one_line_error(args, needle, tmp_path):
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0]
