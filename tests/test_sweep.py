"""`templater sweep`: grids, rows equal to direct predictions, parallel = serial, a killed sweep
resumes to the same CSV, corrupt cache entries are recomputed, failures are rows, the map."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from solver.prediction import predict
from templater.cli import main
from templater.geometry import DesignError, EggBox
from templater.geometry.parameters import PARAMETERS
from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa
from templater.jobs import sweep as sweep_mod
from templater.jobs.compare import compare_designs
from templater.jobs.model import CLI_NAMES, model_inputs
from templater.jobs.outputs import MARKER
from templater.jobs.sweep import (
    CSV_COLUMNS,
    SweepRow,
    SweepSettings,
    _optimum,
    csv_text,
    parse_grid,
    run_sweep,
    write_sweep,
)
from templater.jobs.sweep_cache import CACHE_MARKER
from templater.jobs.sweep_plot import (
    AXES,
    CMAP,
    DPI,
    FIG_SIZE_IN,
    OPTIMUM_COLOR,
    cell_edges,
    color_range,
    pixel_of,
)

# The sweep machinery is tested on egg-boxes covered by the shipped pressure tables (H/S from
# 1/12 to 1/2) with the model's fast criterion where it has a choice (no electrolyte-stress
# solve): ~0.1 s per design. One test runs the default model.
FAST = {"criterion": "pressure_margin"} if "criterion" in CLI_NAMES else {}
FAST_ARGS = [a for k, v in FAST.items() for a in (f"--{k}", v)]
GRID = ["eggbox", "--H", "5:15:5", "--S", "30:60:15", "--no-print-time", *FAST_ARGS]
H_VALUES, S_VALUES = (5.0, 10.0, 15.0), (30.0, 45.0, 60.0)


def settings(heights=H_VALUES, periods=S_VALUES, model=None, **kw) -> SweepSettings:
    return SweepSettings(kind="eggbox", heights_um=tuple(heights), periods_um=tuple(periods),
                         model=model or model_inputs(**FAST),
                         print_time=kw.pop("print_time", False), **kw)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / "sweep.csv").read_text())))


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The grid swept in this process, without a cache, and its folder."""
    out = tmp_path_factory.mktemp("ref") / "sweep"
    result = run_sweep(settings(), workers=1)
    write_sweep(result, out)
    return result, out


@pytest.fixture(scope="module")
def reference(swept) -> Path:
    """The reference folder (sweep.csv, sweep.json, sweep.png)."""
    return swept[1]


# --- grids --------------------------------------------------------------------------------

def test_a_range_includes_its_stop_when_on_the_grid_exactly_as_typed():
    assert parse_grid("5:75:5", "height_um", context="eggbox") == tuple(range(5, 80, 5))
    assert parse_grid("5:74:5", "height_um", context="eggbox")[-1] == 70.0
    # float arithmetic would give 0.30000000000000004 and drop or duplicate the stop
    assert parse_grid("0.1:0.3:0.1", "height_um", context="eggbox") == (0.1, 0.2, 0.3)
    assert parse_grid("2.2:2.8:0.2", "period_um", context="eggbox") == (2.2, 2.4, 2.6, 2.8)
    assert parse_grid("30, 10,10", "period_um", context="eggbox") == (10.0, 30.0)
    assert parse_grid("25", "height_um", context="eggbox") == (25.0,)


@pytest.mark.parametrize("text", ["0:10:5", "100:300:100", "5:75:0", "75:5:5", "5:75", "abc",
                                  "5,,10", "nan", "1:1e9:0.001"])
def test_a_grid_outside_the_parameter_range_or_malformed_names_the_flag(text):
    with pytest.raises(DesignError) as err:
        parse_grid(text, "height_um", context="eggbox")
    assert "(--H)" in str(err.value)


@pytest.mark.parametrize("args,flag", [
    (["eggbox", "--H", "0:10:5", "--S", "30"], "--H"),
    (["eggbox", "--H", "5", "--S", "1"], "--S"),
    (["eggbox", "--H", "5", "--S", "30", "--workers", "0"], "--workers"),
    (["eggbox", "--H", "5", "--S", "30", "--no-print-time", "--max-print-hours", "2"],
     "--max-print-hours"),
    (["eggbox", "--H", "5", "--S", "30", "--max-print-hours", "-1"], "--max-print-hours"),
    (["eggbox", "--H", "5", "--S", "30", "--top-fraction", "0.3"], "top_fraction"),
    (["eggbox", "--H", "5", "--S", "30", "--kappa", "-2"], "--kappa"),
    (["flat", "--H", "5", "--S", "30"], "flat has no H"),
    (["eggbx", "--H", "5", "--S", "30"], "did you mean 'eggbox'"),
])
def test_usage_errors_are_one_line_naming_the_flag_exit_2_and_write_nothing(tmp_path, args,
                                                                             flag):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sweep", *args, "--no-cache", "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith("Error:") and flag in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not out.exists()


# --- rows ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model,heights,periods", [
    (FAST, (5.0, 10.0), (60.0, 30.0)),
    ({}, (10.0,), (60.0,)),  # the default model, whatever its criterion
], ids=["fast", "default"])
def test_each_row_equals_a_direct_prediction_of_its_design_in_h_then_s_order(model, heights,
                                                                              periods):
    inputs = model_inputs(**model)
    result = run_sweep(settings(heights, periods, model=inputs), workers=1)
    assert [(r.H_um, r.S_um) for r in result.rows] == [(h, s) for h in sorted(heights)
                                                        for s in sorted(periods)]
    for row in result.rows:
        p = predict(EggBox(height_um=row.H_um, period_um=row.S_um), inputs.materials,
                    inputs.creep, inputs.constants, primary=False)
        assert row.status == "ok" and row.printable == "yes"
        assert row.critical_current_ratio == p.critical_current_ratio
        assert row.critical_current_ratio_error == p.critical_current_ratio_error
        assert row.max_current_ratio == p.max_current_ratio
        assert row.area_ratio == p.field.area_ratio
        assert row.max_excess_pressure_MPa == pa_to_mpa(p.max_excess_pressure_pa)
        assert row.critical_current_mA_cm2 == a_m2_to_ma_cm2(p.critical_current_a_m2)
        assert row.pressure_source == p.pressure_source == "table"
        assert 0 < row.critical_current_ratio


def test_serial_and_two_worker_processes_write_byte_identical_csv_and_json(tmp_path,
                                                                          reference):
    out = tmp_path / "par"
    res = invoke("sweep", *GRID, "--workers", "2", "--no-cache", "-o", str(out), "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["runner"] == "processes(2)"
    assert summary["computed"] == 9, (out / "sweep.csv").read_text()
    assert (out / "sweep.csv").read_bytes() == (reference / "sweep.csv").read_bytes()
    assert (out / "sweep.json").read_bytes() == (reference / "sweep.json").read_bytes()
    assert (out / MARKER).is_file()


def test_the_best_is_the_highest_ratio_of_the_csv_and_json_agrees(reference):
    rows = read_rows(reference)
    assert [c for c in rows[0]] == list(CSV_COLUMNS)
    assert [(float(r["H_um"]), float(r["S_um"])) for r in rows] == \
        [(h, s) for h in H_VALUES for s in S_VALUES]
    best = max(rows, key=lambda r: float(r["critical_current_ratio"]))
    record = json.loads((reference / "sweep.json").read_text())
    assert record["optimum"]["name"] == best["name"]
    assert record["optimum"]["critical_current_ratio"] == float(best["critical_current_ratio"])
    assert record["counts"] == {"designs": 9, "ok": 9, "failed": 0, "printable": 9}
    assert record["settings"]["H_um"] == list(H_VALUES)


def row(h, s, ratio, err=0.01, printable="yes", status="ok") -> SweepRow:
    return SweepRow(H_um=h, S_um=s, name=f"eggbox-H{h}S{s}", critical_current_ratio=ratio,
                    critical_current_ratio_error=err, printable=printable, status=status)


def test_the_optimum_skips_unprintable_rows_breaks_ties_to_the_first_and_lists_overlaps():
    rows = [row(5, 30, 0.70), row(5, 60, 0.90, printable="no"), row(10, 30, 0.80),
            row(10, 60, 0.80), row(15, 30, 0.785, err=0.006), row(15, 60, 0.95, status="failed"),
            row(20, 30, 0.75, err=None)]
    best, contenders = _optimum(rows)
    assert (best.H_um, best.S_um) == (10, 30)
    # error bars overlap the best's [0.79, 0.81]: 0.80 (tie) and 0.785 + 0.006 = 0.791
    assert [(r.H_um, r.S_um) for r in contenders] == [(10, 60), (15, 30)]
    assert _optimum([row(5, 30, 0.7, printable="unknown")]) == (None, ())


# --- failures -------------------------------------------------------------------------------

def test_a_design_whose_h_over_s_is_not_allowed_is_a_failed_row_and_the_sweep_goes_on():
    result = run_sweep(settings((5.0, 15.0, 65.0), (30.0,)), workers=1)
    failed = [r for r in result.rows if r.status == "failed"]
    assert [(r.H_um, r.S_um) for r in failed] == [(65.0, 30.0)]
    assert "H/S <= 2" in failed[0].reason and "(--H)" in failed[0].reason
    assert failed[0].critical_current_ratio is None and failed[0].printable == "no"
    assert [r.status for r in result.rows[:2]] == ["ok", "ok"]
    assert (result.failed, result.computed) == (1, 2)
    assert ",failed,no,\"eggbox: height_um (--H) = 65 um" in csv_text(result.rows)


def test_a_design_whose_prediction_raises_is_recorded_with_its_reason(monkeypatch):
    real = sweep_mod._prediction_record

    def flaky(design, model, **kw):
        if design.period_um == 45.0:
            raise FloatingPointError("creep solve diverged")
        return real(design, model, **kw)

    monkeypatch.setattr(sweep_mod, "_prediction_record", flaky)
    result = run_sweep(settings((5.0,), (30.0, 45.0, 60.0)), workers=1)
    assert [r.status for r in result.rows] == ["ok", "failed", "ok"]
    assert result.rows[1].reason == "FloatingPointError: creep solve diverged"
    ok = [r for r in result.rows if r.status == "ok"]
    assert result.best.name == max(ok, key=lambda r: r.critical_current_ratio).name


def test_a_result_computed_by_other_templater_code_is_neither_used_nor_cached(monkeypatch,
                                                                             tmp_path):
    real = sweep_mod.compute_design

    def other_code(task):
        out = real(task)
        out["fingerprints"] = {**out["fingerprints"], "prediction": "0" * 64}
        return out

    monkeypatch.setattr(sweep_mod, "compute_design", other_code)
    result = run_sweep(settings((5.0,), (30.0,)), workers=1, cache=tmp_path / "c")
    (r,) = result.rows
    assert r.status == "failed" and "differs from this sweep's" in r.reason
    assert r.critical_current_ratio is None and entries(tmp_path / "c") == []


# --- cache --------------------------------------------------------------------------------

def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.glob("*.json") if not p.name.startswith("."))


def test_a_killed_sweep_resumes_from_its_cache_to_the_same_csv(tmp_path):
    grid = [*GRID[:4], "30:60:3", *GRID[5:]]  # 33 designs: a second or two in all
    expected = csv_text(run_sweep(settings(periods=range(30, 61, 3)), workers=1).rows)
    cache, out = tmp_path / "cache", tmp_path / "out"
    cmd = [sys.executable, "-m", "templater.cli", "-q", "sweep", *grid, "--workers", "1",
           "--cache", str(cache), "-o", str(out)]
    log = tmp_path / "stderr.txt"
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while ((not cache.is_dir() or len(entries(cache)) < 3)
                   and time.monotonic() < deadline):
                assert proc.poll() is None, log.read_text()
                time.sleep(0.002)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait()
    done = entries(cache)
    assert 3 <= len(done) < 33, "the sweep was not killed part-way"
    assert not out.exists()  # outputs appear only when complete
    for entry in done:  # every entry on disk is complete
        assert json.loads(entry.read_text())["what"] == "prediction"
    res = invoke("sweep", *grid, "--workers", "1", "--cache", str(cache), "-o", str(out),
                 "--json")
    summary = json.loads(res.output)
    assert summary["from_cache"] == len(done) and summary["computed"] == 33 - len(done)
    assert (out / "sweep.csv").read_text() == expected
    assert len(entries(cache)) == 33


def test_a_corrupt_or_tampered_cache_entry_is_recomputed_and_overwritten(tmp_path):
    cache = tmp_path / "cache"
    first = run_sweep(settings((5.0,), (30.0, 60.0, 45.0)), workers=1, cache=cache)
    assert (first.computed, first.from_cache) == (3, 0)
    files = entries(cache)
    assert len(files) == 3
    files[0].write_text(files[0].read_text()[:100])  # truncated: not JSON
    record = json.loads(files[1].read_text())
    record["result"]["critical_current_ratio"] = 2.0  # edited: checksum mismatch
    files[1].write_text(json.dumps(record))
    files[2].write_text(files[1].read_text())  # another entry's content: key mismatch
    again = run_sweep(settings((5.0,), (30.0, 60.0, 45.0)), workers=1, cache=cache)
    assert (again.computed, again.from_cache, again.rejected_cache_entries) == (3, 0, 3)
    assert again.rows == first.rows
    third = run_sweep(settings((5.0,), (30.0, 60.0, 45.0)), workers=1, cache=cache)
    assert (third.computed, third.from_cache, third.rejected_cache_entries) == (0, 3, 0)
    assert third.rows == first.rows


def test_another_temperature_is_another_cache_entry(tmp_path):
    cache = tmp_path / "cache"
    run_sweep(settings((5.0,), (30.0,)), workers=1, cache=cache)
    warmer = settings((5.0,), (30.0,), model=model_inputs(temperature_k=320.0, **FAST))
    other = run_sweep(warmer, workers=1, cache=cache)
    assert (other.computed, other.from_cache) == (1, 0)
    assert len(entries(cache)) == 2


def test_the_cache_key_changes_with_every_field_of_every_model_input():
    """Every dataclass field of the model inputs (materials, creep, dendrite constants, and any
    the model gains) changes the key: a changed parameter can never be served from the cache."""
    base = settings((5.0,), (30.0,))
    design = EggBox(height_um=5.0, period_um=30.0)
    key = sweep_mod._prediction_key(design, base, "sources")
    changed, fields_seen = 0, 0
    for group in dataclasses.fields(base.model):
        value = getattr(base.model, group.name)
        if not dataclasses.is_dataclass(value):
            continue
        for f in dataclasses.fields(value):
            fields_seen += 1
            old = getattr(value, f.name)
            param = PARAMETERS.get(f.metadata.get("parameter", f.name))
            if isinstance(old, str):
                candidates = [c for c in (param.choices if param else ()) if c != old]
            elif isinstance(old, (int, float)) and not isinstance(old, bool):
                candidates = [v for v in (old * 1.001, old * 0.999, old + 1e-3) if v != old]
            else:
                candidates = []
            for new in candidates:
                try:
                    model = dataclasses.replace(base.model,
                                                **{group.name: dataclasses.replace(
                                                    value, **{f.name: new})})
                except (DesignError, ValueError, TypeError):
                    continue
                other = dataclasses.replace(base, model=model)
                assert sweep_mod._prediction_key(design, other, "sources") != key, f.name
                changed += 1
                break
    assert changed >= 0.8 * fields_seen and changed >= 15
    assert sweep_mod._prediction_key(design, base, "other sources") != key


def test_a_folder_of_other_files_is_refused_as_cache_and_as_output(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    res = CliRunner().invoke(main, ["sweep", *GRID, "--cache", str(mine), "-o",
                                    str(tmp_path / "o")])
    assert res.exit_code == 2 and CACHE_MARKER in res.output
    res = CliRunner().invoke(main, ["sweep", *GRID, "--no-cache", "-o", str(mine),
                                    "--overwrite"])
    assert res.exit_code == 2 and "was not written by templater" in res.output
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


# --- print time ----------------------------------------------------------------------------

def test_the_print_time_is_the_default_jobs_as_compare_plans_it_and_limits_the_optimum(
        tmp_path):
    design = EggBox(height_um=5.0, period_um=150.0)
    limited = settings((5.0,), (150.0,), print_time=True, max_print_hours=1.0)
    result = run_sweep(limited, workers=1, cache=tmp_path / "c")
    (row_,) = result.rows
    (compared,) = compare_designs([design], model=model_inputs())
    assert row_.print_time_h == compared.print_time_h > 1.0
    assert row_.printable == "no" and "--max-print-hours 1 h" in row_.reason
    assert result.best is None
    again = run_sweep(settings((5.0,), (150.0,), print_time=True), workers=1,
                      cache=tmp_path / "c")  # both parts from the cache, limit lifted
    assert (again.from_cache, again.computed) == (1, 0)
    assert again.best.print_time_h == compared.print_time_h


def test_a_template_higher_than_the_printers_z_range_is_not_printable():
    result = run_sweep(settings((275.0,), (600.0,)), workers=1)  # H/S 0.46: in the tables
    (r,) = result.rows
    assert r.status == "ok" and r.printable == "no"
    assert "z range 280 um" in r.reason and result.best is None


# --- the map --------------------------------------------------------------------------------

def test_the_map_encodes_each_ratio_and_marks_the_optimum_where_the_csv_best_is(swept):
    result, folder = swept
    rows = read_rows(folder)
    img = imread(folder / "sweep.png")[:, :, :3]
    assert img.shape[:2] == (FIG_SIZE_IN[1] * DPI, FIG_SIZE_IN[0] * DPI)
    lo, hi = color_range(result)
    lut = matplotlib.colormaps[CMAP](np.linspace(0, 1, 256))[:, :3]
    s_edges, h_edges = cell_edges(S_VALUES), cell_edges(H_VALUES)
    seen = []
    for k, r in enumerate(rows):
        i, j = divmod(k, len(S_VALUES))
        # a point inside the cell, off the markers drawn at its centre
        h = h_edges[i] + 0.2 * (h_edges[i + 1] - h_edges[i])
        s = s_edges[j] + 0.2 * (s_edges[j + 1] - s_edges[j])
        y, x = (int(round(v)) for v in pixel_of(result, h, s))
        colour = img[y, x]
        index = int(np.argmin(np.sum((lut - colour) ** 2, axis=1)))
        seen.append(lo + index / 255 * (hi - lo))
        assert math.isclose(seen[-1], float(r["critical_current_ratio"]),
                            abs_tol=(hi - lo) / 255 + 1e-12)
    best = max(range(len(rows)), key=lambda k: float(rows[k]["critical_current_ratio"]))
    assert int(np.argmax(seen)) == best
    y, x = (int(round(v)) for v in pixel_of(result, float(rows[best]["H_um"]),
                                            float(rows[best]["S_um"])))
    red = np.array([int(OPTIMUM_COLOR[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    window = img[y - 2:y + 3, x - 2:x + 3]
    assert np.all(np.abs(window - red) < 0.05)
    # inside the map, the star is drawn nowhere else (the legend repeats it outside)
    top, left = (1 - AXES[1] - AXES[3]) * img.shape[0], AXES[0] * img.shape[1]
    box = img[int(top):int((1 - AXES[1]) * img.shape[0]),
              int(left):int((AXES[0] + AXES[2]) * img.shape[1])]
    ys, xs = np.nonzero(np.all(np.abs(box - red) < 0.05, axis=2))
    assert abs(ys.mean() + int(top) - y) < 3 and abs(xs.mean() + int(left) - x) < 3


def test_the_legend_names_a_printable_limit_only_where_its_line_crosses_the_map(
        swept, tmp_path, monkeypatch):
    """The z-range line (H = 270 um) and the H/S = 2 line lie far above this small grid and are
    not drawn, so the legend does not list them; limits moved into the map are drawn and
    listed."""
    from matplotlib.figure import Figure

    from templater.jobs.sweep_plot import write_sweep_map

    labels: list[list[str]] = []
    legend = Figure.legend

    def spy(self, *args, **kwargs):
        labels.append([h.get_label() for h in kwargs.get("handles", [])])
        return legend(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "legend", spy)
    result = swept[0]
    write_sweep_map(result, tmp_path / "far.png")
    assert not any("z range" in s or "kind's limit" in s for s in labels[-1])
    lim = result.limits
    near = dataclasses.replace(result, limits=dataclasses.replace(
        lim, aspect_max=0.3, field_z_um=lim.base_um + 10.0))
    write_sweep_map(near, tmp_path / "near.png")
    assert any("z range" in s for s in labels[-1])
    assert any("H/S = 0.3 (kind's limit)" in s for s in labels[-1])
    # a print-time limit without print times (this sweep skipped them) draws no contour
    assert all(r.print_time_h is None for r in result.rows)
    timed = dataclasses.replace(result, limits=dataclasses.replace(lim, max_print_hours=2.0))
    write_sweep_map(timed, tmp_path / "timed.png")
    assert not any("print time" in s for s in labels[-1])
