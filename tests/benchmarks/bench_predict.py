"""Benchmark: full prediction (field + creep + dendrite) and a 30 x 30 egg-box sweep.

Run: python tests/benchmarks/bench_predict.py [--skip-cold] [--n 30]
Prints time per design from the shipped tables and from a cold creep solve, the pressure
factor error estimate, and the sweep time (targets: < 1 s tabulated, < 60 s cold, sweep < 2 min).
"""

import argparse
import time

import numpy as np

from solver.prediction import predict
from solver.sweeps import sweep
from templater import EggBox, FrustumArray, PyramidArray


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    designs = [EggBox(height_um=25.0, period_um=150.0),
               PyramidArray(height_um=25.0, period_um=150.0),
               FrustumArray(height_um=25.0, period_um=150.0)]
    for d in designs:
        modes = [True] if args.skip_cold else [True, False]
        for tables in modes:
            t0 = time.perf_counter()
            p = predict(d, use_tables=tables)
            wall = time.perf_counter() - t0
            err = p.pressure_factor_error / p.pressure_factor
            print(f"{d.name:18s} {'tables' if tables else 'cold  '} {wall:7.2f} s  "
                  f"source {p.pressure_source:6s} Pi {p.pressure_factor:.4f} "
                  f"(est. rel. error {err:.2%})  dp_max {p.max_excess_pressure_pa / 1e6:.3f} MPa"
                  f"  m {p.max_current_ratio:.4f}  J*/J_flat {p.critical_current_ratio:.4f}")
    heights = np.geomspace(5.0, 75.0, args.n)
    periods = np.geomspace(50.0, 300.0, args.n)
    res = sweep(lambda h, s: EggBox(height_um=h, period_um=s), heights, periods)
    ok = np.isfinite(res.critical_current_ratio)
    from_tables = int((res.pressure_source == "table").sum())
    print(f"sweep {args.n}x{args.n} egg-box (H 5-75 um, S 50-300 um, H/S <= 0.5): "
          f"{ok.sum()} designs in {res.solve_time_s:.1f} s ({from_tables} from tables); "
          f"J*/J_flat {np.nanmin(res.critical_current_ratio):.3f}-"
          f"{np.nanmax(res.critical_current_ratio):.3f}")


if __name__ == "__main__":
    main()
