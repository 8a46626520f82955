"""Benchmark: `templater make eggbox --H 25 --S 150` with STL + GWL output.

Runs the command line in a subprocess (so import and start-up count) for the default 3 mm
footprint and for a 10 mm footprint (67 periods, 10.05 mm), then prints wall time, sizes on
disk, distinct/placed blocks, write length and the estimated print time from the sidecar.
Targets for the default: under 10 s and under 50 MB for the GWL job on a 2-core machine.

Usage: python tests/benchmarks/bench_gwl.py [--skip-10mm]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [("default 3 mm", []), ("10 mm", ["--size", "10050"])]
NAME = "eggbox-H25S150"


def size_of(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        elif p.exists():
            total += p.stat().st_size
    return total


def run(label: str, extra: list[str], root: Path) -> None:
    out = root / label.replace(" ", "_")
    cmd = [sys.executable, "-c", "from templater.cli import main; main()", "make", "eggbox",
           "--H", "25", "--S", "150", *extra, "-o", str(out)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        print(f"{label}: failed ({res.returncode})\n{res.stdout}{res.stderr}")
        return
    side = json.loads((out / f"{NAME}_job.json").read_text())
    gwl = size_of([out / f"{NAME}_job.gwl", out / f"{NAME}_files", out / f"{NAME}_job.json",
                   out / f"{NAME}.recipe"])
    stl = size_of([out / f"{NAME}.stl"])
    tot, est = side["totals"], side["estimate"]
    print(f"== {label}: templater make eggbox --H 25 --S 150 {' '.join(extra)}")
    print(f"wall time            {wall:8.2f} s   (target < 10 s for the default)")
    print(f"GWL job on disk      {gwl / 1e6:8.2f} MB  (target < 50 MB)")
    print(f"STL on disk          {stl / 1e6:8.2f} MB")
    print(f"blocks               {tot['distinct_blocks']} distinct / {tot['placements']} placed "
          f"(pitch {side['stitching']['pitch_um']:g} um)")
    print(f"layers               {side['slicing']['layers']}")
    print(f"write length         {tot['write_length_um'] / 1e6:8.2f} m "
          f"({tot['polylines']} polylines)")
    print(f"estimated print time {est['total_s'] / 3600:8.2f} h = write {est['write_s']:.0f} s "
          f"+ lines {est['lines_s']:.0f} s + layers {est['layers_s']:.0f} s "
          f"+ blocks {est['blocks_s']:.0f} s")
    print("CLI output:")
    print("  " + res.stdout.strip().replace("\n", "\n  "))
    shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    cases = CASES[:1] if "--skip-10mm" in sys.argv else CASES
    with tempfile.TemporaryDirectory(prefix="bench_gwl_") as tmp:
        for label, extra in cases:
            run(label, extra, Path(tmp))


if __name__ == "__main__":
    main()
