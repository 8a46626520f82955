"""Benchmark: `templater make eggbox --H 25 --S 150` (default 3 mm footprint, STL only).

Run: python tests/benchmarks/bench_make.py  (prints wall time, triangle count, STL size).
"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    for args in (["eggbox", "--H", "25", "--S", "150"], ["pyramid", "--H", "25", "--S", "150"],
                 ["frustum", "--H", "25", "--S", "150"]):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "job"
            cmd = [sys.executable, "-m", "templater.cli", "make", *args, "--format", "stl",
                   "-o", str(out)]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode == 2 and "--format" in proc.stderr:
                cmd.remove("--format")
                cmd.remove("stl")
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            proc.check_returncode()
            rec = json.loads((out / "design.json").read_text())
            stl = next(out.glob("*.stl"))
            print(f"{' '.join(args):32s} wall {wall:6.2f} s  triangles "
                  f"{rec['template']['facets']:>9d}  STL {stl.stat().st_size / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
