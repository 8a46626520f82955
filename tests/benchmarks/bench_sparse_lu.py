"""Sparse LU of the creep solver's first Newton system: nested-dissection ordering against
SuperLU's minimum-degree ordering (time, nonzeros of the factors, one triangular solve).

Run: python tests/benchmarks/bench_sparse_lu.py [--inverted]
(``--inverted`` adds the inverted frustum H25S150, r = 3.3 µm, band-resolved level 2: about a
minute per ordering and 3 GB.)
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import solver.creep as creep
import solver.sparse_lu as sparse_lu
from solver.creep import CreepOptions, CreepParameters, solve_creep_dimensionless
from solver.tables import BAND_RESOLVED_OPTIONS, table_current_ratio_fn
from templater import EggBox, FrustumArray, PyramidArray


class _First(Exception):
    """Carries the first matrix the creep solver factorizes."""


def _first_system(design, divisions: int, options: CreepOptions):
    def grab(matrix):
        raise _First(matrix)

    real = creep.factorize
    creep.factorize = grab
    try:
        solve_creep_dimensionless(design, table_current_ratio_fn(design, 1.6), CreepParameters(),
                                  divisions=divisions, options=options)
    except _First as first:
        return first.args[0]
    finally:
        creep.factorize = real
    raise RuntimeError("the solve factorized nothing")


def _measure(matrix, threshold: int) -> tuple[float, int, float]:
    sparse_lu.NESTED_DISSECTION_MIN = threshold
    sparse_lu._ORDERINGS.clear()
    t0 = time.perf_counter()
    lu = sparse_lu.factorize(matrix)
    took = time.perf_counter() - t0
    inner = lu.lu if isinstance(lu, sparse_lu.OrderedLU) else lu
    rhs = np.ones(matrix.shape[0])
    t0 = time.perf_counter()
    for _ in range(5):
        lu.solve(rhs)
    return took, inner.L.nnz + inner.U.nnz, (time.perf_counter() - t0) / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inverted", action="store_true")
    args = parser.parse_args()
    egg = EggBox(height_um=25.0, period_um=150.0)
    pyramid = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.0)
    cases = [(f"egg-box H25S150, {d} divisions", egg, d, CreepOptions()) for d in (4, 6, 8)]
    cases += [(f"pyramid H25S150 r = 1 um, band-resolved level {d}", pyramid, d,
               BAND_RESOLVED_OPTIONS) for d in (2, 3, 4)]
    if args.inverted:
        inverted = FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=3.3, invert=True)
        cases.append(("inverted frustum H25S150 r = 3.3 um, band-resolved level 2", inverted, 2,
                      BAND_RESOLVED_OPTIONS))
    default = sparse_lu.NESTED_DISSECTION_MIN
    print("| system | unknowns | nested dissection: LU, factors, solve | minimum degree: LU, "
          "factors, solve |")
    print("| --- | --- | --- | --- |")
    for name, design, divisions, options in cases:
        matrix = _first_system(design, divisions, options)
        cells = []
        for threshold in (0, 10 ** 12):
            took, fill, solve = _measure(matrix, threshold)
            cells.append(f"{took:.2f} s, {fill / 1e6:.1f} M, {solve * 1e3:.0f} ms")
        print(f"| {name} | {matrix.shape[0]} | {cells[0]} | {cells[1]} |", flush=True)
    sparse_lu.NESTED_DISSECTION_MIN = default
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"peak memory {peak:.2f} GB")


if __name__ == "__main__":
    main()
