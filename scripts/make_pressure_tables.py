"""Generate the creep pressure-factor tables shipped in ``solver/tables/``: Π over H/S × ℓ/S
(egg-boxes) and H/S × r/S × ℓ/S (pyramids, frustums).

Every entry is computed by the project's own solvers: the secondary current distribution
(:func:`solver.solve_field`) feeds the power-law creep solver
(:func:`solver.creep.solve_creep_sequence`, three mesh levels, one mesh per level for all ℓ/S)
at the default creep constants (n = 6.56, bonded interface, D = S, σ_t = 0). Each file records
its provenance (version, levels, time), Π at the coarsest level and held-out points. Run from
the repository root:

    python scripts/make_pressure_tables.py                   # all tables (about 2 h on 2 cores)
    python scripts/make_pressure_tables.py --only eggbox-sum # one table (eggbox, eggbox-sum,
                                                             # pyramid, frustum)

Tests (``tests/solver/test_tables.py``) recompute entries and check the held-out points.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from solver.creep_params import CreepParameters
from solver.tables import TABLE_DIR, generate_table, save_table
from templater import EggBox, FrustumArray, PyramidArray
from templater.geometry.surfaces import Surface

# ℓ/S spans the default L_k = 257 µm over S = 30-900 µm (0.29-8.6) with margin
KINETIC_OVER_PERIOD = [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8]
EGGBOX_ASPECTS = [1 / 60, 1 / 30, 1 / 15, 1 / 9, 1 / 6, 1 / 4, 1 / 3, 1 / 2]
# rounded shapes: H/S × r/S × ℓ/S (r = 1 µm covers S = 45-500 µm), three creep levels each
ROUNDED_ASPECTS = [1 / 15, 1 / 6, 1 / 3]
ROUNDED_RADII = [0.002, 0.0067, 0.022]
ROUNDED_KINETIC = [0.2, 1.6, 12.8]
ROUNDED_HELD_OUT = [(0.1, 0.004, 0.5), (0.25, 0.012, 4.0), (0.125, 0.00625, 1.6)]


@dataclass(frozen=True)
class Spec:
    """One table: shape factory, axes, held-out points and the finest creep level."""

    factory: Callable[..., Surface]
    aspects: list[float]
    kinetic: list[float]
    divisions: int
    radii: list[float] | None = None
    held_out: list[tuple[float, ...]] = field(default_factory=list)


TABLES = {
    "eggbox": Spec(lambda h, s: EggBox(height_um=h, period_um=s), EGGBOX_ASPECTS,
                   KINETIC_OVER_PERIOD, 4),
    "eggbox-sum": Spec(lambda h, s: EggBox(height_um=h, period_um=s, form="sum"),
                       EGGBOX_ASPECTS, KINETIC_OVER_PERIOD, 4,
                       held_out=[(0.08, 0.6), (0.2, 5.0)]),
    "pyramid": Spec(lambda h, s, r: PyramidArray(height_um=h, period_um=s, edge_radius_um=r),
                    ROUNDED_ASPECTS, ROUNDED_KINETIC, 5, ROUNDED_RADII, ROUNDED_HELD_OUT),
    "frustum": Spec(lambda h, s, r: FrustumArray(height_um=h, period_um=s, edge_radius_um=r),
                    ROUNDED_ASPECTS, ROUNDED_KINETIC, 5, ROUNDED_RADII, ROUNDED_HELD_OUT),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TABLES), action="append")
    parser.add_argument("--divisions", type=int, help="finest creep level (default per table)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("skfem").setLevel(logging.WARNING)
    TABLE_DIR.mkdir(exist_ok=True)
    params = CreepParameters(transition_stress_pa=0.0)
    for name in args.only or sorted(TABLES):
        spec = TABLES[name]
        t0 = time.perf_counter()
        table = generate_table(spec.factory, spec.aspects, spec.kinetic, params,
                               divisions=args.divisions or spec.divisions, radii=spec.radii,
                               held_out=spec.held_out)
        stem = name.replace("-", "_")
        path = TABLE_DIR / f"{stem}_n{params.stress_exponent:g}_{params.slip}.npz"
        save_table(table, path)
        logging.info("wrote %s (%d entries, %.0f s)", path, table.pressure_factor.size,
                     time.perf_counter() - t0)


if __name__ == "__main__":
    main()
