"""Calibration inputs from the command line: clear errors, output validated before the fit."""

from click.testing import CliRunner

from templater.cli import main


def run(args):
    return CliRunner().invoke(main, args)


def test_calibration_option_on_a_folder_is_a_usage_error(tmp_path):
    res = run(["predict", "flat", "--calibration", str(tmp_path)])
    assert res.exit_code == 2, res.output
    assert "is a folder" in res.output and "Traceback" not in res.output


def test_calibrate_refuses_a_bad_output_before_fitting(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("kind,H_um,S_um,ccd_mA_cm2\nflat,,,1.0\nflat,,,1.1\nflat,,,1.2\n")
    folder = tmp_path / "out"
    folder.mkdir()
    res = run(["calibrate", str(csv), "-o", str(folder)])
    assert res.exit_code == 2, res.output
    assert "line 2" not in res.output  # refused before any design was predicted


def test_calibrate_reads_a_spreadsheet_export(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_bytes("kind;H_um;S_um;ccd_mA_cm2\r\nflat;;;1,1\r\nflat;;;1,3\r\nflat;;;1,2\r\n"
                    .encode("utf-8-sig"))
    out = tmp_path / "c.toml"
    res = run(["calibrate", str(csv), "-o", str(out), "--fix-growth-exponent"])
    assert res.exit_code == 0, res.output
    assert f"J_flat = {(1.1 * 1.3 * 1.2) ** (1 / 3):.4g}" in res.output and out.exists()
