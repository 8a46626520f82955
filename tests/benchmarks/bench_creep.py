"""Benchmark of the creep solver (plain script): egg-box H25S150, Π and Δp_max at 1 mA/cm².

Run from the repository root::

    /tmp/venv/bin/python tests/benchmarks/bench_creep.py            # divisions 3 4 5
    /tmp/venv/bin/python tests/benchmarks/bench_creep.py --divisions 3 4 5 6

Prints, for uniform plating per true area (i_n/J = 1/(A/A0)) and for the first-order analytic
primary current of the product egg-box (physics.md §5.3, a stand-in until the field solver is
wired in): Π = max Δp/Σ, Δp_max [MPa], the location of the maximum, the maximum excess normal
traction, Newton iterations, DOFs and wall time, per resolution; then no-slip vs free-slip and the
domain depth D = S vs 3 S at one resolution, and the focused current with lateral grading.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from solver.creep import solve_creep
from solver.creep_params import CreepParameters
from templater.surfaces import EggBox


def first_order_current(design: EggBox):
    """i_n/J = 1 − √2 k (H/2) cos kx cos ky (maximum 1 + √2 πH/S at the Li tips)."""
    k = 2.0 * math.pi / design.period_um
    amp = math.sqrt(2.0) * k * 0.5 * design.height_um
    return lambda x, y: 1.0 - amp * np.cos(k * x) * np.cos(k * y)


def row(label: str, res, elapsed: float) -> str:
    x, y = res.max_location_um
    return (
        f"{label:<34s} Π={res.pressure_factor:7.4f}  Δp_max={res.max_excess_pressure_pa / 1e6:6.3f}"
        f" MPa at ({x:5.1f},{y:5.1f}) µm  traction_max={res.max_normal_traction_pa / 1e6:6.3f} MPa"
        f"  its={res.iterations:3d}  dofs={res.dofs:6d}  {elapsed:6.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--divisions", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--compare-at", type=int, default=4, help="resolution for slip/depth")
    args = parser.parse_args()

    design = EggBox(height_um=25.0, period_um=150.0)
    area = design.area_ratio()
    currents = {
        "uniform": lambda x, y: np.full_like(x, 1.0 / area),
        "first-order primary": first_order_current(design),
    }
    sigma = CreepParameters().stress_scale_pa(10.0, 150e-6)
    print(f"egg-box H25S150 (product), A/A0 = {area:.5f}, Σ(1 mA/cm²) = {sigma / 1e6:.4f} MPa")
    for name, fn in currents.items():
        print(f"-- {name} current, no-slip, n = 6.56, D = S")
        previous = None
        for n in args.divisions:
            t0 = time.perf_counter()
            res = solve_creep(design, fn, divisions=n)
            text = row(f"divisions {n}", res, time.perf_counter() - t0)
            if previous is not None:
                text += f"  ΔΠ/Π={abs(res.pressure_factor - previous) / res.pressure_factor:.2%}"
            print(text, flush=True)
            previous = res.pressure_factor

    print("-- first-order primary current, lateral_grading = 0.8 (tip spacing 0.2x)")
    previous = None
    for n in args.divisions:
        t0 = time.perf_counter()
        res = solve_creep(design, currents["first-order primary"], divisions=n, lateral_grading=0.8)
        text = row(f"divisions {n}", res, time.perf_counter() - t0)
        if previous is not None:
            text += f"  ΔΠ/Π={abs(res.pressure_factor - previous) / res.pressure_factor:.2%}"
        print(text, flush=True)
        previous = res.pressure_factor

    n = args.compare_at
    print(f"-- slip and depth at divisions {n}, first-order primary current")
    for label, params in [
        ("no-slip, D = S", CreepParameters()),
        ("free-slip, D = S", CreepParameters(slip="freeslip")),
        ("no-slip, D = 3 S", CreepParameters(depth_factor=3.0)),
        ("no-slip, D = S, ε̇0 = 1e-4 V0/S", CreepParameters(regularisation=1e-4)),
    ]:
        t0 = time.perf_counter()
        res = solve_creep(design, currents["first-order primary"], params, divisions=n)
        print(row(label, res, time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
