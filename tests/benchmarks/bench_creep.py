"""Benchmark of the creep solver (plain script): egg-box H25S150, Π and Δp_max at 1 mA/cm².

Run from the repository root::

    python tests/benchmarks/bench_creep.py                 # divisions 3 4 5
    python tests/benchmarks/bench_creep.py --divisions 3 4 5 6 --converged

Prints, per resolution (Π = max Δp/Σ, Δp_max [MPa], location of the maximum, maximum excess
normal traction, Newton iterations, DOFs, wall time, change from the previous level), for three
interface currents of the product egg-box:

* ``uniform``: uniform plating per true area, i_n/J = 1/(A/A0);
* ``secondary-like``: (1 − 0.07 cos kx cos ky)/(A/A0), a stand-in for the secondary current of the
  default materials (i_max/J ≈ 0.986, nearly uniform);
* ``focused``: the first-order analytic primary current 1 − √2 k (H/2) cos kx cos ky (tip value
  1.74), with uniform lateral spacing and with ``lateral_grading`` (default 0.8).

Then the Richardson / GCI estimate over the levels (:func:`solver.creep.richardson_estimate`),
and with ``--converged`` the accuracy-driven :func:`solver.creep.solve_creep_converged`
(``--rtol``, ``--start``) for the secondary-like and the focused current, plus no-slip vs
free-slip and D = S vs 3 S at ``--compare-at`` divisions with ``--compare``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from solver.creep import CreepOptions, richardson_estimate, solve_creep, solve_creep_converged
from solver.creep_params import CreepParameters
from templater.geometry.surfaces import EggBox


def first_order_current(design: EggBox):
    """i_n/J = 1 − √2 k (H/2) cos kx cos ky (maximum 1 + √2 πH/S at the Li tips)."""
    k = 2.0 * math.pi / design.period_um
    amp = math.sqrt(2.0) * k * 0.5 * design.height_um
    return lambda x, y: 1.0 - amp * np.cos(k * x) * np.cos(k * y)


def secondary_like_current(design: EggBox):
    """(1 − 0.07 cos kx cos ky)/(A/A0): nearly uniform, maximum at the Li tips."""
    k = 2.0 * math.pi / design.period_um
    area = design.area_ratio()
    return lambda x, y: (1.0 - 0.07 * np.cos(k * x) * np.cos(k * y)) / area


def row(label: str, res, elapsed: float) -> str:
    x, y = res.max_location_um
    return (
        f"{label:<26s} Π={res.pressure_factor:7.4f}  Δp_max={res.max_excess_pressure_pa / 1e6:6.3f}"
        f" MPa at ({x:5.1f},{y:5.1f}) µm  traction_max={res.max_normal_traction_pa / 1e6:6.3f} MPa"
        f"  its={res.iterations:3d}  dofs={res.dofs:6d}  {elapsed:6.1f} s"
    )


def sequence(design, fn, divisions: list[int], grading: float) -> None:
    pis: list[float] = []
    for n in divisions:
        t0 = time.perf_counter()
        res = solve_creep(design, fn, divisions=n, options=CreepOptions(lateral_grading=grading))
        text = row(f"divisions {n}", res, time.perf_counter() - t0)
        if pis:
            text += f"  ΔΠ/Π={abs(res.pressure_factor - pis[-1]) / res.pressure_factor:.2%}"
        print(text, flush=True)
        pis.append(res.pressure_factor)
    if len(pis) >= 2:
        est = richardson_estimate(divisions, pis)
        print(
            f"  estimate: finest Π = {est.finest:.4f} ± {est.error:.4f}"
            f" ({est.error / est.finest:.2%}), observed order {est.order:.2f},"
            f" Richardson Π∞ = {est.extrapolated:.4f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--divisions", type=int, nargs="+", default=[3, 4, 5])
    parser.add_argument("--grading", type=float, default=0.8, help="lateral grading (focused)")
    parser.add_argument("--currents", nargs="+", default=["uniform", "secondary", "focused"])
    parser.add_argument("--converged", action="store_true", help="run solve_creep_converged")
    parser.add_argument("--rtol", type=float, default=0.01)
    parser.add_argument("--start", type=int, default=4)
    parser.add_argument("--max-divisions", type=int, default=7)
    parser.add_argument("--compare", action="store_true", help="slip and depth comparison")
    parser.add_argument("--compare-at", type=int, default=4, help="resolution for slip/depth")
    args = parser.parse_args()

    design = EggBox(height_um=25.0, period_um=150.0)
    area = design.area_ratio()
    currents = {
        "uniform": lambda x, y: np.full_like(x, 1.0 / area),
        "secondary": secondary_like_current(design),
        "focused": first_order_current(design),
    }
    sigma = CreepParameters().stress_scale_pa(10.0, 150e-6)
    print(f"egg-box H25S150 (product), A/A0 = {area:.5f}, Σ(1 mA/cm²) = {sigma / 1e6:.4f} MPa")
    for name in args.currents:
        print(f"-- {name} current, no-slip, n = 6.56, D = S, uniform lateral spacing")
        sequence(design, currents[name], args.divisions, 0.0)
        if name == "focused" and args.grading > 0.0:
            print(f"-- focused current, lateral_grading = {args.grading}")
            sequence(design, currents[name], args.divisions, args.grading)

    if args.converged:
        for name, grading in (("secondary", 0.0), ("focused", args.grading)):
            t0 = time.perf_counter()
            res = solve_creep_converged(
                design,
                currents[name],
                rtol=args.rtol,
                start_divisions=args.start,
                max_divisions=args.max_divisions,
                options=CreepOptions(lateral_grading=grading),
            )
            seq = ", ".join(
                f"{d}: {v:.4f} ({t:.0f} s)"
                for d, v, t in zip(
                    res.divisions_sequence,
                    res.pressure_factor_sequence,
                    res.level_times_s,
                    strict=True,
                )
            )
            print(
                f"-- solve_creep_converged({name}, rtol={args.rtol}, grading={grading}):"
                f" Π = {res.pressure_factor:.4f} ± {res.pressure_factor_error:.4f}"
                f" ({res.pressure_factor_error / res.pressure_factor:.2%}),"
                f" met={res.accuracy_met}, order={res.convergence_order:.2f},"
                f" total {time.perf_counter() - t0:.1f} s; levels {seq}",
                flush=True,
            )

    if args.compare:
        n = args.compare_at
        print(f"-- slip and depth at divisions {n}, focused current")
        for label, params in [
            ("no-slip, D = S", CreepParameters()),
            ("free-slip, D = S", CreepParameters(slip="freeslip")),
            ("no-slip, D = 3 S", CreepParameters(depth_factor=3.0)),
            ("no-slip, ε̇0 = 1e-4 V0/S", CreepParameters(regularisation=1e-4)),
        ]:
            t0 = time.perf_counter()
            res = solve_creep(design, currents["focused"], params, divisions=n)
            print(row(label, res, time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main()
