"""Benchmark: `templater sweep` serial against local worker processes, from its cache, and cold
(outside the pressure tables) on a local Dask cluster.

    python tests/benchmarks/bench_sweep.py [--n 30] [--cold 10] [--skip-serial]
                                           [--model-args "--criterion pressure_margin"]

1. an n x n egg-box sweep covered by the shipped pressure tables (H 10..39 um, S 80..370 um for
   n = 30; no print times), with --workers 1 and --workers 2: times, their ratio, byte-identical
   CSVs;
2. the same sweep again, answered from the cache filled by step 1 (target < 2 s);
3. ``--cold N`` egg-boxes outside the tables (H = 60 um, S = 40, 45, ... um: a creep solve of
   tens of seconds each) on a LocalCluster of 2 worker processes (``--cold 0`` skips it).

Each step runs the CLI in its own process; printed: wall time, the sweep's own wall time (the
rest is start-up and writing), the peak RSS of the largest process (``wait4``) and the peak sum
of the RSS of the process tree (sampled every 0.2 s with psutil).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil


def run(args: list[str]) -> dict:
    """Run ``templater -q ARGS --json``; wall time, peak RSS (largest process, tree sum)."""
    cmd = [sys.executable, "-m", "templater.cli", "-q", *args, "--json"]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak_tree = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            try:
                root = psutil.Process(proc.pid)
                while not stop.is_set():
                    total = 0
                    for p in [root, *root.children(recursive=True)]:
                        try:
                            total += p.memory_info().rss
                        except psutil.Error:
                            pass
                    peak_tree = max(peak_tree, total)
                    stop.wait(0.2)
            except psutil.Error:
                pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # wait4: the largest RSS of the process and its reaped descendants (kB on Linux)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr}")
    summary = json.loads(stdout)
    return {"wall": wall, "sweep": summary["wall_time_s"], "largest_gb": usage.ru_maxrss / 1e6,
            "tree_gb": peak_tree / 1e9, "summary": summary}


def line(label: str, r: dict, note: str = "") -> None:
    s = r["summary"]
    print(f"{label:34s} {r['wall']:8.1f} {r['sweep']:8.1f} {r['largest_gb']:8.2f} "
          f"{r['tree_gb']:8.2f}  {s['designs']:4d} designs: {s['computed']} computed, "
          f"{s['from_cache']} cached, {s['failed']} failed {note}", flush=True)
    if s["failed"]:
        with open(Path(s["output"]) / "sweep.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["status"] == "failed":
                    print(f"    failed {row['name']}: {row['reason']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30,
                    help="grid size n x n (default 30; 0 skips steps 1 and 2)")
    ap.add_argument("--cold", type=int, default=10,
                    help="designs outside the tables on a local cluster (0: skip)")
    ap.add_argument("--skip-serial", action="store_true", help="no --workers 1 run")
    ap.add_argument("--model-args", default="",
                    help="model options for every sweep, e.g. '--criterion pressure_margin'")
    opts = ap.parse_args()
    model = opts.model_args.split()
    tmp = Path(tempfile.mkdtemp())
    n = opts.n
    grid = ["eggbox", "--H", f"10:{10 + n - 1}:1", "--S", f"80:{80 + 10 * (n - 1)}:10",
            "--no-print-time", *model]
    print(f"machine: {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; model options: "
          f"{opts.model_args or 'defaults'}")
    print(f"{'step':34s} {'wall s':>8s} {'sweep s':>8s} {'max GB':>8s} {'tree GB':>8s}")
    try:
        serial = None
        if n > 0 and not opts.skip_serial:
            serial = run(["sweep", *grid, "--workers", "1", "--no-cache", "-o",
                          str(tmp / "serial")])
            line(f"{n}x{n} egg-box, --workers 1", serial)
        cache = tmp / "cache"
        par = None if n <= 0 else run(["sweep", *grid, "--workers", "2", "--cache",
                                       str(cache), "-o", str(tmp / "par")])
        note = ""
        if serial is not None and par is not None:
            same = ((tmp / "serial" / "sweep.csv").read_bytes()
                    == (tmp / "par" / "sweep.csv").read_bytes())
            note = (f"(serial/parallel {serial['sweep'] / par['sweep']:.2f}x, CSV "
                    f"{'identical' if same else 'DIFFERENT'})")
        if par is not None:
            line(f"{n}x{n} egg-box, --workers 2", par, note)
            again = run(["sweep", *grid, "--cache", str(cache), "-o", str(tmp / "again")])
            same = ((tmp / "par" / "sweep.csv").read_bytes()
                    == (tmp / "again" / "sweep.csv").read_bytes())
            line(f"{n}x{n} egg-box, from the cache", again,
                 f"(CSV {'identical' if same else 'DIFFERENT'}; target < 2 s: "
                 f"{'met' if again['wall'] < 2 else 'MISSED'} by the whole process)")
        if opts.cold > 0:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster:
                stop = 40 + 5 * (opts.cold - 1)
                cold = run(["sweep", "eggbox", "--H", "60", "--S", f"40:{stop}:5",
                            "--no-print-time", *model, "--scheduler", cluster.scheduler_address,
                            "--no-cache", "-o", str(tmp / "cold")])
            per = cold["sweep"] / max(cold["summary"]["computed"], 1)
            line(f"{opts.cold} off-table, LocalCluster(2)", cold,
                 f"({per:.1f} s per design on 2 workers; memory: the client only)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
