"""CLI for GWL jobs: `make --format/--dry-run` summary lines and `check` exit status."""

from __future__ import annotations

import re

from click.testing import CliRunner

from templater.cli import main

SMALL = ["pyramid", "--H", "5", "--S", "60", "--size", "180", "--base", "2", "--no-predict"]


def run(args):
    return CliRunner().invoke(main, args)


def test_make_writes_stl_and_gwl_and_prints_the_summary(tmp_path):
    out = tmp_path / "p"
    res = run(["make", *SMALL, "-o", str(out)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [".templater-job", "design.json", "preview.png", "pyramid-H5S60.recipe",
                     "pyramid-H5S60.stl", "pyramid-H5S60_files", "pyramid-H5S60_job.gwl",
                     "pyramid-H5S60_job.json"]
    text = res.output
    assert re.search(r"GWL: \d+ layers, blocks \d+ distinct / \d+ placed", text)
    assert re.search(r"write length [\d.]+ m", text)
    assert re.search(r"estimated print time: .*\(write [\d.]+ s \+ lines", text)
    assert re.search(r"sizes on disk: STL [\d.]+ MB, GWL job [\d.]+ MB", text)
    # the estimate is stated before anything is written
    assert text.index("estimated print time") < text.index("wrote ")
    res = run(["check", str(out)])
    assert res.exit_code == 0, res.output
    assert "OK" in res.output


def test_format_choices(tmp_path):
    res = run(["make", *SMALL, "--format", "stl", "-o", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        ".templater-job", "design.json", "preview.png", "pyramid-H5S60.recipe",
        "pyramid-H5S60.stl"]
    assert "GWL:" not in res.output
    res = run(["make", *SMALL, "--format", "gwl", "-o", str(tmp_path / "g")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        ".templater-job", "design.json", "preview.png", "pyramid-H5S60_files",
        "pyramid-H5S60_job.gwl", "pyramid-H5S60_job.json"]
    assert run(["check", str(tmp_path / "g")]).exit_code == 0
    res = run(["make", *SMALL, "--format", "gcode"])
    assert res.exit_code == 2 and "gcode" in res.output


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "d"
    res = run(["make", *SMALL, "--dry-run", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not out.exists()
    assert re.search(r"GWL: \d+ layers, blocks \d+ distinct / \d+ placed", res.output)
    assert "estimated print time" in res.output and "wrote" not in res.output


def test_check_reports_each_problem_on_its_own_line_with_status_1(tmp_path):
    out = tmp_path / "p"
    assert run(["make", *SMALL, "-o", str(out)]).exit_code == 0
    side = out / "pyramid-H5S60_job.json"
    side.write_text(re.sub(r'"polylines": (\d+)', r'"polylines": 1\1', side.read_text()))
    res = run(["check", str(out)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert any(ln.startswith("sidecar: polylines") for ln in lines)
    block = out / "pyramid-H5S60_files" / "block_001.gwl"
    block.write_bytes(block.read_bytes().replace(b"Write\r\n", b"Write\r\nWarp 9\r\n", 1))
    res = run(["check", str(out)])
    assert res.exit_code == 1
    assert re.search(r"block_001\.gwl:\d+: unknown command 'Warp'", res.output)
    assert "Traceback" not in res.output
    res = run(["check", str(tmp_path / "missing")])  # a usage error, not a problem found
    assert res.exit_code == 2 and "Error:" in res.output and "does not exist" in res.output
