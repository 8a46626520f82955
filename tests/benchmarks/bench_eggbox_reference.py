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
``--table-spread`` (no solve) applies the same order range to every entry of the shipped table:
the error of a least-squares limit (order 1) that covers orders 0.5-2, the scatter about the
line and dropping the finest level, against the shipped errors.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from scipy import stats

from solver.creep import solve_creep
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.grid import length_um
from solver.materials import Materials
from solver.prediction import REFERENCE_CURRENT_A_M2, solid_design
from solver.tables import TABLE_DIR, load_table, lookup_pressure_factor
from templater.geometry import make_design

TABLE_LEVELS = (5, 6, 7, 8, 9)  # the shipped n = 6.56 egg-box table's creep levels
ORDERS = (0.5, 2.0)  # the range of convergence orders the spread allows besides 1
SAFETY = 1.25  # as the shipped estimate (solver.creep.first_order_estimate)


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def _line(levels: np.ndarray, values: np.ndarray, order: float):
    """Least-squares fit Π = Π∞ + c·(1/L)^order: (coefficients, basis)."""
    h = (1.0 / levels) ** order
    basis = np.column_stack([np.ones_like(h), h])
    coef, *_ = np.linalg.lstsq(basis, values, rcond=None)
    return coef, basis


def order_fit(levels: np.ndarray, values: np.ndarray, order: float) -> tuple[float, float]:
    """(Π∞, rms residual) of the least-squares fit Π = Π∞ + c·(1/L)^order."""
    coef, basis = _line(levels, values, order)
    return float(coef[0]), float(np.sqrt(np.mean((values - basis @ coef) ** 2)))


def intercept_error(levels: np.ndarray, values: np.ndarray) -> float:
    """95 % half-width of the order-1 least-squares limit from the scatter about the line."""
    coef, basis = _line(levels, values, 1.0)
    dof = levels.size - 2
    scatter = np.sqrt(np.sum((values - basis @ coef) ** 2) / dof)
    return float(stats.t.ppf(0.975, dof) * scatter * np.sqrt(np.linalg.inv(basis.T @ basis)[0, 0]))


def table_spread() -> None:
    """Relative errors over the shipped default egg-box table if each entry were the order-1
    least-squares limit of its recorded levels with an error covering orders 0.5-2."""
    table = load_table(TABLE_DIR / "eggbox_n6.56_noslip.npz")
    levels = np.asarray(table.provenance["levels"], dtype=float)
    per_level = np.asarray(table.provenance["per_level"])
    rel = []
    for values in per_level.reshape(levels.size, -1).T:
        limit = order_fit(levels, values, 1.0)[0]
        parts = [abs(order_fit(levels, values, p)[0] - limit) for p in ORDERS]
        parts += [intercept_error(levels, values),
                  abs(order_fit(levels[:-1], values[:-1], 1.0)[0] - limit)]
        rel.append(SAFETY * max(parts) / limit)
    shipped = (table.pressure_factor_error / table.pressure_factor).ravel()
    for label, v in (("order-range least squares", np.array(rel)), ("shipped", shipped)):
        print(f"{label:>26}: {np.min(v):.2%} / {np.median(v):.2%} / {np.max(v):.2%} "
              f"(min / median / max), {np.mean(v <= 0.02):.0%} within 2 %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--H", type=float, default=25.0, help="height [µm]")
    parser.add_argument("--S", type=float, default=150.0, help="period [µm]")
    parser.add_argument("--levels", type=int, nargs="+", default=list(range(5, 13)))
    parser.add_argument("--table-spread", action="store_true",
                        help="only the order-range errors over the shipped table (no solve)")
    args = parser.parse_args()
    if args.table_spread:
        table_spread()
        return
    design = make_design("eggbox", height_um=args.H, period_um=args.S)
    secondary = solve_field(design, Materials(), mode="secondary")
    solid = solid_design(design, secondary)
    params = CreepParameters(transition_stress_pa=0.0)
    print(f"{design.name}: ℓ/S = {length_um(secondary.kinetic_length_m) / args.S:.4f}, n = "
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
        if mask.sum() < 3 or (label == "all levels" and spans[0][1].all()):
            continue
        fits = {p: order_fit(lv[mask], pv[mask], p) for p in (0.5, 1.0, 2.0)}
        text = ", ".join(f"p = {p:g}: {v:.4f} (rms {r:.1e})" for p, (v, r) in fits.items())
        print(f"limit from {label}: {text}")


if __name__ == "__main__":
    main()
