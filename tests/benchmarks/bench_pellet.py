"""Pellet-scale job (10 mm egg-box H25 S150): time and peak memory of ``make``, its dry run,
``check``, and the dry runs that must be refused up front (exit 2).

Each step runs in its own process under GNU ``time -v`` (peak RSS). Targets (issue "Print-
ready jobs"): make < 30 s and < 1.5 GB, dry run < 2 s and < 300 MB, check < 60 s and < 2 GB.

    python tests/benchmarks/bench_pellet.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

EGGBOX = ["eggbox", "--H", "25", "--S", "150", "--size", "10000"]
STEPS = [  # (label, args, target seconds, target GB, expected exit codes)
    ("make 10 mm", ["make", *EGGBOX, "--no-predict", "-o", "{out}"], 30, 1.5, (0,)),
    ("dry run 10 mm", ["make", *EGGBOX, "--dry-run", "-o", "{out}x"], 2, 0.3, (0,)),
    ("check 10 mm", ["check", "{out}"], 60, 2.0, (0,)),  # the job must check clean
    ("dry run pyramid r1 tol 0.01", ["make", "pyramid", "--H", "25", "--S", "150",
                                     "--edge-radius", "1", "--tolerance", "0.01", "--dry-run",
                                     "-o", "{out}x"], 2, 0.3, (0, 2)),
    ("dry run 100 mm", ["make", *EGGBOX[:-1], "100000", "--dry-run", "-o", "{out}x"], 2, 0.3,
     (0, 2)),
    ("dry run H1 S2", ["make", "eggbox", "--H", "1", "--S", "2", "--dry-run", "-o", "{out}x"],
     2, 0.3, (0, 2)),
]


def run(args: list[str]) -> tuple[int, float, float, str]:
    gnu_time = shutil.which("time")  # GNU time (Debian package "time"): -v gives the peak RSS
    if gnu_time is None:
        sys.exit("bench_pellet needs GNU time on PATH (apt-get install time)")
    cmd = [gnu_time, "-v", sys.executable, "-m", "templater.cli", "-q", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    rss = float(re.search(r"Maximum resident set size \(kbytes\): (\d+)", res.stderr)[1]) / 1e6
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", res.stderr)[1]
    secs = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
    return res.returncode, secs, rss, res.stdout.strip().splitlines()[-1] if res.stdout else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="Write the job here (default: a temp folder).")
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    out = opts.keep or tmp / "eggbox"
    ok = True
    print(f"{'step':30s} {'exit':>4s} {'time s':>8s} {'peak GB':>8s}  targets")
    try:
        for label, args, t_max, gb_max, codes in STEPS:
            code, secs, gb, last = run([a.format(out=out) for a in args])
            good = code in codes and secs < t_max and gb < gb_max
            ok &= good
            print(f"{label:30s} {code:4d} {secs:8.1f} {gb:8.2f}  < {t_max} s, < {gb_max} GB"
                  f"{'' if good else '  MISSED'}   {last[:90]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
