"""Generate the creep pressure-factor tables shipped in ``solver/tables/`` (Π over H/S × ℓ/S).

Every entry is computed by the project's own solvers: the secondary current distribution
(:func:`solver.solve_field`) feeds the power-law creep solver (:func:`solver.creep.solve_creep`)
at the default creep constants (n = 6.56, bonded interface, D = S, σ_t = 0). Run from the
repository root:

    python scripts/make_pressure_tables.py                 # all tables (tens of minutes)
    python scripts/make_pressure_tables.py --only eggbox   # one shape

A test (``tests/solver/test_tables.py``) recomputes one entry and compares.
"""

from __future__ import annotations

import argparse
import logging
import time

from solver.creep_params import CreepParameters
from solver.tables import TABLE_DIR, generate_table, save_table
from templater import EggBox, FrustumArray, PyramidArray

# ℓ/S spans the default L_k = 257 µm over S = 30-900 µm (0.29-8.6) with margin
KINETIC_OVER_PERIOD = [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8]
TABLES = {
    "eggbox": (lambda h, s: EggBox(height_um=h, period_um=s),
               [1 / 60, 1 / 30, 1 / 15, 1 / 9, 1 / 6, 1 / 4, 1 / 3, 1 / 2]),
    "pyramid": (lambda h, s: PyramidArray(height_um=h, period_um=s, edge_radius_um=1.0),
                [1 / 6]),
    "frustum": (lambda h, s: FrustumArray(height_um=h, period_um=s, edge_radius_um=1.0),
                [1 / 6]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TABLES), action="append")
    parser.add_argument("--divisions", type=int, default=4)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    TABLE_DIR.mkdir(exist_ok=True)
    params = CreepParameters()
    for name in args.only or sorted(TABLES):
        factory, aspects = TABLES[name]
        t0 = time.perf_counter()
        table = generate_table(factory, aspects, KINETIC_OVER_PERIOD, params,
                               divisions=args.divisions)
        # a table with a transition stress holds one σ_t/Σ (solver.tables): its own file name
        mixed = (f"_st{params.transition_stress_pa / 1e6:g}MPa"
                 if params.transition_stress_pa else "")
        path = TABLE_DIR / f"{name}_n{params.stress_exponent:g}_{params.slip}{mixed}.npz"
        save_table(table, path)
        logging.info("wrote %s (%d entries, %.0f s)", path, table.pressure_factor.size,
                     time.perf_counter() - t0)


if __name__ == "__main__":
    main()
