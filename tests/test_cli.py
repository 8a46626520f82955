"""CLI: outputs, one-line usage errors with exit status 2, no partial output."""

import json
import os

import pytest
import trimesh
from click.testing import CliRunner

from templater import __version__
from templater.cli import main

SMALL = ["--size", "300", "--no-predict"]


def run(args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, args)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, args)
    finally:
        os.chdir(old)


def test_make_writes_stl_and_design_json(tmp_path):
    res = run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL], cwd=tmp_path)
    assert res.exit_code == 0, res.output
    out = tmp_path / "eggbox-H25S150"
    assert {"design.json", "eggbox-H25S150.stl"} <= {p.name for p in out.iterdir()}
    record = json.loads((out / "design.json").read_text())
    assert record["version"] == __version__
    assert record["design"] == {"kind": "eggbox", "H_um": 25.0, "S_um": 150.0,
                                "form": "product", "invert": False}
    mesh = trimesh.load(out / "eggbox-H25S150.stl")
    assert mesh.is_volume
    assert record["template"]["bounds_um"][1] == pytest.approx([300, 300, 35])
    assert not list(tmp_path.glob(".*tmp*"))


def test_make_preset_and_options(tmp_path):
    res = run(["make", "--preset", "frustum-H25S150", "--footprint", "circle", "--size", "400",
               "--base", "5", "--no-predict", "-o", str(tmp_path / "f")])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "f" / "design.json").read_text())
    assert record["design"]["kind"] == "frustum" and record["design"]["top_fraction"] == 0.5
    assert record["template"]["footprint"] == {"shape": "circle", "size_um": 400.0}
    res = run(["make", "--preset", "eggbox-H25S150", "--H", "30", *SMALL, "-o",
               str(tmp_path / "g")])
    assert res.exit_code == 0
    assert json.loads((tmp_path / "g" / "design.json").read_text())["design"]["H_um"] == 30.0


def test_default_footprint_is_whole_periods_near_3mm(tmp_path):
    res = run(["make", "pyramid", "--H", "25", "--S", "140", "--no-predict", "-o",
               str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    rec = json.loads((tmp_path / "p" / "design.json").read_text())
    assert rec["template"]["footprint"]["size_um"] == pytest.approx(21 * 140)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["make", "eggbox", "--H", "-5", "--S", "150"], "--H"),
        (["make", "eggbox", "--H", "0", "--S", "150"], "(0, 280]"),
        (["make", "eggbox", "--H", "nan", "--S", "150"], "nan"),
        (["make", "eggbox", "--H", "inf", "--S", "150"], "inf"),
        (["make", "eggbox", "--H", "abc", "--S", "150"], "--H = 'abc' is not a number"),
        (["make", "eggbox", "--H", "25", "--S", "1"], "[2, 5000]"),
        (["make", "eggbox", "--H", "25", "--S", "10"], "H/S <= 2"),
        (["make", "eggbox", "--H", "25"], "--S"),
        (["make", "egbox", "--H", "25", "--S", "150"], "did you mean 'eggbox'"),
        (["make", "--preset", "egbox-H25S150"], "did you mean 'eggbox-H25S150'"),
        (["make", "pyramid", "--H", "25", "--S", "150", "--form", "sum"], "--form"),
        (["make", "eggbox", "--H", "25", "--S", "150", "--form", "cos"], "product | sum"),
        (["make", "frustum", "--H", "25", "--S", "150", "--top-fraction", "1"], "[0, 1)"),
        (["make", "pyramid", "--H", "25", "--S", "150", "--edge-radius", "50"], "S/4"),
        (["make", "eggbox", "--H", "25", "--S", "150", "--size", "0"], "--size"),
        (["make", "eggbox", "--H", "25", "--S", "150", "--base", "-1"], "--base"),
        (["make", "eggbox", "--H", "25", "--S", "150", "--tolerance", "0"], "--tolerance"),
        (["make", "eggbox", "--H", "25", "--S", "150", "--footprint", "hexagon"], "hexagon"),
        (["make"], "KIND"),
    ],
)
def test_bad_input_exits_2_with_message_and_no_output(tmp_path, args, needle):
    res = run([*args, "-o", str(tmp_path / "out")] if args[-1] != "make" else args, cwd=tmp_path)
    assert res.exit_code == 2, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite(tmp_path):
    out = tmp_path / "o"
    assert run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL, "-o", str(out)]).exit_code == 0
    (out / "marker").write_text("old")
    res = run(["make", "eggbox", "--H", "20", "--S", "150", *SMALL, "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / "marker").exists()
    res = run(["make", "eggbox", "--H", "20", "--S", "150", *SMALL, "-o", str(out),
               "--overwrite"])
    assert res.exit_code == 0
    assert not (out / "marker").exists()
    assert json.loads((out / "design.json").read_text())["design"]["H_um"] == 20.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_unwritable_folder_is_a_usage_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running with permissions that ignore mode bits")
        res = run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL, "-o",
                   str(locked / "out")])
        assert res.exit_code == 2 and "not a writable folder" in res.output
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_list_version_help():
    res = run(["list"])
    assert res.exit_code == 0
    for word in ("eggbox", "pyramid", "frustum", "flat", "eggbox-H150S900", "nanoscribe"):
        assert word in res.output
    assert __version__ in run(["--version"]).output
    for cmd in ([], ["make"], ["list"]):
        res = run([*cmd, "--help"])
        assert res.exit_code == 0 and "Usage" in res.output
    assert "(0, 280]" in run(["make", "--help"]).output


def test_output_under_a_file_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    res = run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL, "-o",
               str(blocker / "out")])
    assert res.exit_code == 2 and "not a writable folder" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


PROC = os.path.join(os.sep, "proc")


@pytest.mark.skipif(not os.path.isdir(os.path.join(PROC, "self")), reason="needs Linux /proc")
def test_output_in_read_only_filesystem_is_a_usage_error():
    target = os.path.join(PROC, "templater-x")
    res = run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL, "-o", target])
    assert res.exit_code == 2 and "templater-x" in res.output and "Traceback" not in res.output


def test_predict_field_only_json_schema():
    res = run(["predict", "eggbox", "--H", "25", "--S", "150", "--field-only", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["design"] == {"kind": "eggbox", "H_um": 25.0, "S_um": 150.0, "form": "product",
                           "invert": False}
    assert d["area_ratio"] == pytest.approx(1.06585, abs=1e-5)
    assert d["primary"]["max_current_ratio"] == pytest.approx(1.8179, abs=1e-4)
    assert 0 < d["secondary"]["min_current_ratio"] < d["secondary"]["max_current_ratio"]
    assert d["solve_time_s"] > 0


def test_predict_never_prints_a_negative_current():
    """The current into Li is never negative. On a steep frustum (flank slope 10) the FEM
    gradient overshoots below zero at the Li's concave corners; the report says the minimum is
    unresolved instead of printing it as a current (the JSON keeps the raw mesh value)."""
    args = ["predict", "frustum", "--H", "150", "--S", "100", "--top-fraction", "0.7",
            "--field-only"]
    raw = json.loads(run([*args, "--json"]).output)["primary"]["min_current_ratio"]
    assert raw < 0.0
    text = run(args).output
    assert f"(min ~0, not resolved: {raw:.4f} on the mesh at a concave corner)" in text
    assert "(min -" not in text


def test_predict_flat_is_the_flat_critical_current():
    res = run(["predict", "flat", "--flat-ccd", "1.5", "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["dendrite"]["critical_current_ratio"] == 1.0
    assert d["dendrite"]["critical_current_mA_cm2"] == pytest.approx(1.5)
    assert d["creep"]["max_excess_pressure_MPa"] == 0.0


def test_predict_material_overrides_change_the_kinetic_current():
    base = json.loads(run(["predict", "eggbox", "--H", "25", "--S", "150", "--field-only",
                           "--json"]).output)
    fast = json.loads(run(["predict", "eggbox", "--H", "25", "--S", "150", "--field-only",
                           "--json", "--i0", "30", "--kappa", "3"]).output)
    assert fast["materials"]["i0_a_m2"] == pytest.approx(300.0)
    # faster kinetics → current closer to the primary distribution
    assert fast["secondary"]["max_current_ratio"] > base["secondary"]["max_current_ratio"]


@pytest.mark.parametrize("args, needle", [
    (["--kappa", "-1"], "--kappa"),
    (["--i0", "nan"], "--i0"),
    (["--creep-n", "0.5"], "--creep-n"),
    (["--pressure-margin", "0"], "--pressure-margin"),
    (["--calibration", "missing.toml"], "missing.toml"),
])
def test_predict_bad_model_values_exit_2(args, needle, tmp_path):
    res = run(["predict", "eggbox", "--H", "25", "--S", "150", *args], cwd=tmp_path)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output


def test_calibrate_reports_malformed_rows_with_line_and_column(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("kind,H_um,S_um,ccd_mA_cm2\nflat,,,1.0\neggbox,abc,150,1.2\n")
    res = run(["calibrate", str(csv), "-o", str(tmp_path / "c.toml")])
    assert res.exit_code == 2
    assert "m.csv:3: column 'H_um': 'abc' is not a number" in res.output
    assert not (tmp_path / "c.toml").exists()


def test_calibrate_writes_a_calibration_that_predict_uses(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("kind,H_um,S_um,ccd_mA_cm2\n" + "".join(
        f"flat,,{s},{v}\n" for s, v in [(150, 1.1), (150, 1.3), (100, 1.2), (50, 1.2)]))
    out = tmp_path / "c.toml"
    res = run(["calibrate", str(csv), "-o", str(out), "--fix-growth-exponent"])
    assert res.exit_code == 0, res.output
    geometric_mean = (1.1 * 1.3 * 1.2 * 1.2) ** 0.25  # log least squares on flat cells
    assert f"J_flat = {geometric_mean:.4g}" in res.output
    res = run(["predict", "flat", "--calibration", str(out), "--json"])
    d = json.loads(res.output)
    assert d["dendrite"]["critical_current_mA_cm2"] == pytest.approx(geometric_mean, rel=1e-5)
    assert d["dendrite"]["calibration"] == str(out)
    res = run(["calibrate", str(csv), "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_make_writes_a_deterministic_prediction(tmp_path):
    outs = []
    for name in ("a", "b"):
        res = run(["make", "eggbox", "--H", "25", "--S", "150", "--size", "300", "-o",
                   str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        assert "predicted critical current:" in res.output and "x flat" in res.output
        outs.append(tmp_path / name)
    for f in ("prediction.json", "design.json", "eggbox-H25S150.stl", "preview.png"):
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes()
    d = json.loads((outs[0] / "prediction.json").read_text())
    assert 0 < d["dendrite"]["critical_current_ratio"] <= d["area_ratio"]
    res = run(["make", "eggbox", "--H", "25", "--S", "150", *SMALL, "-o",
               str(tmp_path / "c")])
    assert res.exit_code == 0 and not (tmp_path / "c" / "prediction.json").exists()


def test_commands_load_only_their_own_modules():
    """``templater predict`` imports neither trimesh nor the print-job code, and every command
    of the help listing loads (a fresh interpreter: this module imports trimesh itself)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from templater.cli import main\n"
        "res = CliRunner().invoke(main, ['predict', '--help'])\n"
        "assert res.exit_code == 0, res.output\n"
        "print(sorted(m for m in ('trimesh', 'templater.fab.gwl_plan', 'templater.cli.make')"
        " if m in sys.modules))\n"
        "res = CliRunner().invoke(main, ['--help'])\n"
        "assert res.exit_code == 0, res.output\n"
        "print(all(f'templater.cli.{m}' in sys.modules for m in ('make', 'check', 'sweep')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"  # the listing imported the commands' modules
    for name in ("calibrate", "check", "compare", "dose-test", "list", "make", "predict",
                 "sweep"):
        assert run([name, "--help"]).exit_code == 0
