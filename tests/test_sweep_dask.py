"""`templater sweep` on real Dask clusters on localhost: a LocalCluster of worker processes, and
a scheduler and a worker started as subprocesses; both give the serial rows and CSV bytes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from templater.cli import main
from templater.jobs.model import CLI_NAMES, model_inputs
from templater.jobs.sweep import SweepSettings, csv_text, run_sweep

distributed = pytest.importorskip("distributed")

# egg-boxes covered by the shipped pressure tables, with the model's fast criterion where it has
# a choice (no electrolyte-stress solve): ~0.1 s each
FAST = {"criterion": "pressure_margin"} if "criterion" in CLI_NAMES else {}
H_VALUES, S_VALUES = (5.0, 10.0), (30.0, 45.0, 60.0)
GRID = ["eggbox", "--H", "5,10", "--S", "30:60:15", "--no-print-time",
        *[a for k, v in FAST.items() for a in (f"--{k}", v)]]


def settings() -> SweepSettings:
    return SweepSettings(kind="eggbox", heights_um=H_VALUES, periods_um=S_VALUES,
                         model=model_inputs(**FAST), print_time=False)


@pytest.fixture(scope="module")
def serial():
    """The grid swept in this process (the reference)."""
    return run_sweep(settings(), workers=1)


def test_a_local_cluster_of_worker_processes_gives_the_serial_rows(serial):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        result = run_sweep(settings(), scheduler=cluster.scheduler_address)
        workers = {w for w in cluster.scheduler.workers}
    assert len(workers) == 2
    assert result.runner.startswith("dask(tcp://127.0.0.1:")
    assert result.computed == len(serial.rows) and result.failed == 0
    assert result.rows == serial.rows
    assert csv_text(result.rows) == csv_text(serial.rows)


def _wait_for(path: Path, procs: list[subprocess.Popen], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        for proc in procs:
            assert proc.poll() is None, f"{proc.args} exited with {proc.returncode}"
        time.sleep(0.05)
    assert path.exists(), f"{path} did not appear"


def test_a_scheduler_and_a_worker_started_as_subprocesses_give_the_serial_csv(tmp_path,
                                                                               serial):
    scheduler_file = tmp_path / "scheduler.json"
    procs: list[subprocess.Popen] = []
    logs = [(tmp_path / f"{name}.log").open("wb") for name in ("scheduler", "worker")]
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
             "--port", "0", "--dashboard-address", ":0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            stdout=logs[0], stderr=subprocess.STDOUT))
        _wait_for(scheduler_file, procs)
        address = json.loads(scheduler_file.read_text())["address"]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=logs[1], stderr=subprocess.STDOUT))
        # no waiting for the worker: the scheduler holds the designs until it connects
        out, cache = tmp_path / "out", tmp_path / "cache"
        res = CliRunner().invoke(main, ["sweep", *GRID, "--scheduler", address, "--cache",
                                        str(cache), "-o", str(out), "--json"])
        assert res.exit_code == 0, res.output
        summary = json.loads(res.output)
        assert summary["runner"] == f"dask({address})"
        assert (summary["computed"], summary["failed"]) == (6, 0)
        assert (out / "sweep.csv").read_text() == csv_text(serial.rows)
        # the scheduler file works as --scheduler too; the designs swept before come from
        # the cache, the new column S = 75 is computed on the cluster
        wider = [*GRID[:4], "30:75:15", *GRID[5:]]
        again = CliRunner().invoke(main, ["sweep", *wider, "--scheduler", str(scheduler_file),
                                          "--cache", str(cache), "-o", str(out), "--overwrite",
                                          "--json"])
        assert again.exit_code == 0, again.output
        summary = json.loads(again.output)
        assert (summary["computed"], summary["from_cache"]) == (2, 6)
        lines = (out / "sweep.csv").read_text().splitlines()
        assert [line for line in lines if ",75.0," not in line] == \
            csv_text(serial.rows).splitlines()
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def test_an_unreachable_scheduler_is_a_usage_error_naming_the_flag(tmp_path):
    res = CliRunner().invoke(main, ["sweep", *GRID, "--scheduler", str(tmp_path / "no.json"),
                                    "--no-cache", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.output.startswith("Error:") and "--scheduler" in res.output
    assert not (tmp_path / "o").exists()
