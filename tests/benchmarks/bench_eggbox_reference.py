"""Fine creep levels for one egg-box against its pressure-table entry (plain script).

Run from the repository root::

    python tests/benchmarks/bench_eggbox_reference.py                   # levels 5-12, ~15 min
    python tests/benchmarks/bench_eggbox_reference.py --levels 5 6 7 8 9  # the table's levels

Solves the creep problem of one egg-box (default H25S150, default materials, its secondary
current, the tables' creep law: n = 6.56, σ_t = 0, bonded) at every level given and prints Π,
the wall time and the peak resident memory per level; then the design's Π from the shipped
table and, for the levels solved, least-squares fits Π_L = Π∞ + c·h^p (h = 1/L) at the orders
p = 0.5, 1 and 2 over the table's levels 5-9 and over all levels: how far the limit depends on
the order assumed, which the levels alone do not decide (docs/benchmarks.md, "Pressure tables").
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from solver.creep import solve_creep
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.materials import Materials
from solver.prediction import REFERENCE_CURRENT_A_M2, solid_design
from solver.tables import lookup_pressure_factor
from templater.geometry import make_design

TABLE_LEVELS = (5, 6, 7, 8, 9)  # the shipped n = 6.56 egg-box table's creep levels


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def order_fit(levels: np.ndarray, values: np.ndarray, order: float) -> tuple[float, float]:
    """(Π∞, rms residual) of the least-squares fit Π = Π∞ + c·(1/L)^order."""
    h = (1.0 / levels) ** order
    basis = np.column_stack([np.ones_like(h), h])
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return float(coef[0]), float(np.sqrt(np.mean((values - basis @ coef) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--H", type=float, default=25.0, help="height [µm]")
    parser.add_argument("--S", type=float, default=150.0, help="period [µm]")
    parser.add_argument("--levels", type=int, nargs="+", default=list(range(5, 13)))
    args = parser.parse_args()
    design = make_design("eggbox", height_um=args.H, period_um=args.S)
    secondary = solve_field(design, Materials(), mode="secondary")
    solid = solid_design(design, secondary)
    params = CreepParameters(transition_stress_pa=0.0)
    print(f"{design.name}: ℓ/S = {secondary.kinetic_length_m * 1e6 / args.S:.4f}, n = "
          f"{params.stress_exponent:g}, {params.slip}")
    print(f"{'level':>5} {'Pi':>10} {'step':>9} {'time [s]':>9} {'peak RSS [GB]':>14}")
    levels, values = [], []
    for level in sorted(args.levels):
        t0 = time.perf_counter()
        result = solve_creep(solid, secondary.current_ratio_at_um, params,
                             current_density_a_m2=REFERENCE_CURRENT_A_M2, divisions=level)
        step = "" if not values else f"{result.pressure_factor / values[-1] - 1:+.2%}"
        levels.append(level)
        values.append(result.pressure_factor)
        print(f"{level:>5} {result.pressure_factor:>10.5f} {step:>9} "
              f"{time.perf_counter() - t0:>9.1f} {peak_rss_gb():>14.2f}", flush=True)
    hit = lookup_pressure_factor(design, secondary.kinetic_length_m, params)
    if hit is not None:
        print(f"table: Pi = {hit[0]:.4f} ± {hit[1]:.4f} ({hit[1] / hit[0]:.1%})")
    lv, pv = np.array(levels, dtype=float), np.array(values)
    spans = [("table levels 5-9", np.isin(lv, TABLE_LEVELS)),
             ("all levels", np.ones(lv.size, dtype=bool))]
    for label, mask in spans:
        if mask.sum() < 3:
            continue
        fits = {p: order_fit(lv[mask], pv[mask], p) for p in (0.5, 1.0, 2.0)}
        text = ", ".join(f"p = {p:g}: {v:.4f} (rms {r:.1e})" for p, (v, r) in fits.items())
        print(f"limit from {label}: {text}")


if __name__ == "__main__":
    main()
