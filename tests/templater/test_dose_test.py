"""Dose test: the job is written, checked, and its sidecar lists every patch's settings."""

import json
import re

import pytest
from click.testing import CliRunner

from templater.cli import main
from templater.fab.check import check_job
from templater.fab.dose_matrix import parse_powers, parse_speeds
from templater.fab.gwl_reader import read_job
from templater.geometry.errors import DesignError

NAME = "pyramid-H5S60"
ARGS = ["dose-test", "pyramid", "--H", "5", "--S", "60", "--base", "2",
        "--powers", "30:50:10", "--speeds", "50000,100000"]


def run(args):
    return CliRunner().invoke(main, args)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("dose") / "d"
    res = run([*ARGS, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "6 patches" in res.output and "estimated print time" in res.output
    return out


def test_dose_test_writes_a_checked_job(folder):
    names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    assert names == ["design.json", f"{NAME}.stl", f"{NAME}_dose_files", f"{NAME}_dose_job.gwl",
                     f"{NAME}_dose_job.json"]
    assert check_job(folder) == []
    res = run(["check", str(folder)])
    assert res.exit_code == 0 and "OK" in res.output


def test_sidecar_lists_every_patch(folder):
    side = json.loads((folder / f"{NAME}_dose_job.json").read_text())
    dose = side["dose_test"]
    assert dose["laser_powers_percent"] == [30, 40, 50]
    assert dose["scan_speeds_um_s"] == [50000, 100000]
    patches = dose["patches"]
    assert len(patches) == 6
    assert {(p["row"], p["column"]) for p in patches} == {(r, c) for r in range(2)
                                                          for c in range(3)}
    pitch, size = dose["pitch_um"], dose["patch_size_um"]
    for p in patches:
        assert p["laser_power_percent"] == dose["laser_powers_percent"][p["column"]]
        assert p["scan_speed_um_s"] == dose["scan_speeds_um_s"][p["row"]]
        assert p["p2_over_v"] == pytest.approx(p["laser_power_percent"] ** 2
                                               / p["scan_speed_um_s"])
        assert p["centre_um"] == pytest.approx([p["column"] * pitch + size / 2,
                                                p["row"] * pitch + size / 2])
    # the job sets each patch's power and speed before its blocks
    replay = read_job(folder / f"{NAME}_dose_job.gwl")
    for p in patches:
        for c in replay.chunks:
            if c.placement in p["placements"]:
                assert c.laser_power == p["laser_power_percent"]
                assert c.scan_speed_um_s == p["scan_speed_um_s"]
    text = (folder / f"{NAME}_dose_job.gwl").read_text()
    assert len(re.findall(r"^LaserPower ", text, re.M)) == 1 + 6
    assert len(re.findall(r"^ScanSpeed ", text, re.M)) == 1 + 6


def test_check_catches_a_wrong_patch_setting(folder, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    job = bad / f"{NAME}_dose_job.gwl"
    text = job.read_bytes().decode("ascii")
    job.write_bytes(text.replace("LaserPower 40.000", "LaserPower 45.000", 1).encode("ascii"))
    problems = check_job(bad)
    assert any("patch 2" in p and "LaserPower 45" in p for p in problems), problems
    assert run(["check", str(bad)]).exit_code == 1


@pytest.mark.parametrize("flag, value, needle", [
    ("--powers", "0:50:10", "laser power"),
    ("--powers", "abc", "--powers"),
    ("--speeds", "50000:200000:50000", "scan speed"),
    ("--gap", "0", "gap"),
])
def test_bad_dose_options_are_usage_errors(tmp_path, flag, value, needle):
    res = run([*ARGS, flag, value, "-o", str(tmp_path / "d")])
    assert res.exit_code == 2, res.output
    assert "Error:" in res.output and needle in res.output
    assert list(tmp_path.iterdir()) == []


def test_parse_values():
    assert parse_powers("20:100:20") == (20, 40, 60, 80, 100)
    assert parse_powers("50, 30,40") == (30, 40, 50)
    assert parse_speeds("20000:100000:20000") == (20000, 40000, 60000, 80000, 100000)
    with pytest.raises(DesignError):
        parse_powers("10:100:1")  # more than 20 values


def test_check_of_a_missing_folder_is_a_usage_error(tmp_path):
    res = run(["check", str(tmp_path / "nothing")])
    assert res.exit_code == 2
    assert "Error:" in res.output and "does not exist" in res.output
