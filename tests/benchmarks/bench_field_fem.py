"""Benchmark of the FEM field solver (solver/fem_field.py): accuracy vs resolution and time.

Run from the repository root::

    python tests/benchmarks/bench_field_fem.py            # full tables (a few minutes on 2 cores)
    python tests/benchmarks/bench_field_fem.py --quick    # divisions 8, 12 only

Prints, for the pyramid H25S150 with r = 1 µm (both orientations) and the frustum H25S150
(t = 0.5, r = 1 µm, both orientations): the maximum i_n/J (primary and secondary) against the mesh
divisions, with DOFs, relative change to the previous level and wall time; the dependence of the
maxima on the edge radius r (0.5, 1, 2, 4 µm); and the egg-box cross-check against the spectral
reference 1.8179 (field expansion). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time

from solver.fem_field import solve_fem_field
from templater.geometry.surfaces import EggBox, FrustumArray, PyramidArray

EGGBOX_REFERENCE = 1.817863  # spectral (field expansion: 1.8179)
ELL_DEFAULT_UM = 257.0  # default materials (κ = 2 mS/cm, i0 = 2 mA/cm², α = 0.5/0.5, 298.15 K)
ELL_SHORT_UM = 10.0


def _designs(r: float) -> dict[str, object]:
    return {
        "pyramid (Li ridges)": PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=r),
        "pyramid invert (Li tips)": PyramidArray(
            height_um=25.0, period_um=150.0, edge_radius_um=r, invert=True
        ),
        "frustum t=0.5 (Li ridges)": FrustumArray(
            height_um=25.0, period_um=150.0, edge_radius_um=r
        ),
        "frustum t=0.5 invert (Li tops)": FrustumArray(
            height_um=25.0, period_um=150.0, edge_radius_um=r, invert=True
        ),
    }


def convergence_table(levels: tuple[int, ...]) -> None:
    print("\n== H25S150, r = 1 um: maximum i_n/J vs mesh divisions ==")
    header = f"{'design':32s} {'problem':18s} {'n':>3s} {'DOFs':>7s} {'max':>9s} {'change':>9s}"
    print(header + f" {'location (um)':>18s} {'time s':>7s}")
    for name, design in _designs(1.0).items():
        for label, ell in (("primary", None), (f"secondary l={ELL_SHORT_UM:g}", ELL_SHORT_UM),
                           (f"secondary l={ELL_DEFAULT_UM:g}", ELL_DEFAULT_UM)):
            prev = None
            for n in levels:
                sol = solve_fem_field(design, ell, divisions=n)
                change = "" if prev is None else f"{abs(sol.max_current_ratio / prev - 1):9.2e}"
                loc = f"({sol.max_location_m[0] / 1e-6:.2f}, {sol.max_location_m[1] / 1e-6:.2f})"
                dofs = sol.degrees_of_freedom
                print(f"{name:32s} {label:18s} {n:3d} {dofs:7d} {sol.max_current_ratio:9.5f} "
                      f"{change:>9s} {loc:>18s} {sol.solve_time_s:7.2f}", flush=True)
                prev = sol.max_current_ratio


def radius_table(n: int) -> None:
    print(f"\n== H25S150: maximum i_n/J vs edge radius r (divisions {n}) ==")
    radii = (0.5, 1.0, 2.0, 4.0)
    print(f"{'design':32s} {'problem':18s} " + " ".join(f"{'r=' + format(r, 'g'):>9s}"
                                                         for r in radii))
    for name in _designs(1.0):
        for label, ell in (("primary", None), (f"secondary l={ELL_SHORT_UM:g}", ELL_SHORT_UM)):
            vals = [solve_fem_field(_designs(r)[name], ell, divisions=n).max_current_ratio
                    for r in radii]
            print(f"{name:32s} {label:18s} " + " ".join(f"{v:9.5f}" for v in vals), flush=True)


def eggbox_table(levels: tuple[int, ...]) -> None:
    print("\n== egg-box H25S150 primary vs spectral reference 1.817863 ==")
    print(f"{'n':>3s} {'DOFs':>7s} {'max':>9s} {'rel err':>9s} {'flux-1':>9s} {'time s':>7s}")
    for n in levels:
        t = time.perf_counter()
        sol = solve_fem_field(EggBox(height_um=25.0, period_um=150.0), None, divisions=n)
        t = time.perf_counter() - t
        err = sol.max_current_ratio / EGGBOX_REFERENCE - 1
        print(f"{n:3d} {sol.degrees_of_freedom:7d} {sol.max_current_ratio:9.5f} {err:9.2e} "
              f"{sol.flux_ratio - 1:9.1e} {t:7.2f}", flush=True)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    levels = (8, 12) if quick else (8, 12, 16)
    eggbox_table(levels)
    convergence_table(levels)
    radius_table(8 if quick else 12)


if __name__ == "__main__":
    main(sys.argv[1:])
