"""Benchmark: full prediction (field + creep + electrolyte + criterion) of the three topographies
at H25S150 for each criterion and kinetics option, and a small egg-box sweep.

Run: python tests/benchmarks/bench_predict.py [--skip-cold] [--n 10] [--sweep-criterion C]
     [--repeat 5]
Prints wall time per design (from the shipped Π tables, with the primary field as `templater
predict` reports it and without as sweeps do, and from a cold creep solve), the error estimates,
J*/J_flat, and the sweep time; peak memory (max RSS) at the end.
"""

import argparse
import resource
import time
from dataclasses import replace

import numpy as np

from solver.prediction import default_constants, predict
from solver.sweeps import sweep
from templater import EggBox, FrustumArray, PyramidArray


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--sweep-criterion", choices=("fracture", "pressure_margin"),
                        default="fracture")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time each case this many times after a warm-up prediction of "
                             "each design and print the median (and the fastest)")
    args = parser.parse_args()
    designs = [EggBox(height_um=25.0, period_um=150.0),
               PyramidArray(height_um=25.0, period_um=150.0),
               FrustumArray(height_um=25.0, period_um=150.0)]
    # (criterion, kinetics, from the tables, with the primary field as `templater predict`)
    cases = [("fracture", "linear", True, True), ("fracture", "linear", True, False),
             ("fracture", "butler-volmer", True, False),
             ("pressure_margin", "linear", True, False)]
    if not args.skip_cold:
        cases.append(("fracture", "linear", False, False))
    if args.repeat > 1:
        for d in designs:  # loads the tables, fills the caches
            predict(d)
    for d in designs:
        for criterion, kinetics, tables, primary in cases:
            c = replace(default_constants(), criterion=criterion)
            walls = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                p = predict(d, constants=c, use_tables=tables, kinetics=kinetics,
                            primary=primary)
                walls.append(time.perf_counter() - t0)
            wall = float(np.median(walls))
            fastest = f" (min {min(walls):.2f})" if args.repeat > 1 else ""
            err = p.pressure_factor_error / p.pressure_factor
            e = p.electrolyte
            el = (f"  K_t {e.stress_concentration:.3f} +- {e.stress_concentration_error:.3f}"
                  f" (drive err {e.error_estimate:.1%})" if e is not None else "")
            print(f"{d.name:16s} {criterion:15s} {kinetics:13s} "
                  f"{'tables' if tables else 'cold  '} {'primary' if primary else '       '} "
                  f"{wall:6.2f} s{fastest}  Pi {p.pressure_factor:.3f}"
                  f" ({err:.1%})  m {p.max_current_ratio:.4f}{el}  J*/J_flat "
                  f"{p.critical_current_ratio:.4f} +- {p.critical_current_ratio_error:.4f}")
    heights = np.geomspace(5.0, 75.0, args.n)
    periods = np.geomspace(50.0, 300.0, args.n)
    c = replace(default_constants(), criterion=args.sweep_criterion)
    res = sweep(lambda h, s: EggBox(height_um=h, period_um=s), heights, periods, constants=c)
    ok = np.isfinite(res.critical_current_ratio)
    print(f"sweep {args.n}x{args.n} egg-box ({args.sweep_criterion}; H 5-75 um, S 50-300 um, "
          f"H/S <= 0.5): {ok.sum()} designs in {res.solve_time_s:.1f} s "
          f"({res.solve_time_s / max(ok.sum(), 1):.2f} s each); J*/J_flat "
          f"{np.nanmin(res.critical_current_ratio):.3f}-"
          f"{np.nanmax(res.critical_current_ratio):.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
