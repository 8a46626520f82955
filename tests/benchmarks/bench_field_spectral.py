"""Benchmark of the spectral field solver (solver/spectral.py) and of solve_field on egg-boxes.

Run from the repository root::

    python tests/benchmarks/bench_field_spectral.py          # all tables (~1 min on 2 cores)
    python tests/benchmarks/bench_field_spectral.py --quick  # H25S150 timings only

Prints:

1. egg-box H25S150, primary + secondary (default materials), through ``solve_field`` at
   rtol 1e-3 (0.1 %) and 1e-6: maxima, final resolution, error estimate, time per design
   (best of 3);
2. error of the primary maximum against resolution N (Chebyshev N/2 + 9 points), relative to a
   reference at N = 64, with GMRES iterations and time per solve;
3. the steeper egg-boxes of the paper's series (H/S = 1/3, 1/2) through ``solve_field``.
"""

from __future__ import annotations

import sys
import time

from solver import Materials, solve_field
from solver.spectral import default_nz, solve_spectral_fixed
from templater.geometry.surfaces import EggBox


def _best_of(fn, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def design_timings(design: EggBox, materials: Materials) -> None:
    print(f"\n{design.name}: solve_field(mode='both'), default materials "
          f"(ℓ = {materials.kinetic_length_m * 1e6:.1f} µm), best of 3")
    print(f"{'rtol':>7} {'primary max':>12} {'res':>10} {'err est':>9} "
          f"{'secondary max':>14} {'res':>10} {'err est':>9} {'time/design':>12}")
    for rtol in (1e-3, 1e-6):
        pair, dt = _best_of(lambda rtol=rtol: solve_field(design, materials, rtol=rtol))
        p, s = pair.primary, pair.secondary
        print(f"{rtol:7.0e} {p.max_current_ratio:12.7f} {'x'.join(map(str, p.resolution)):>10} "
              f"{p.error_estimate:9.1e} {s.max_current_ratio:14.7f} "
              f"{'x'.join(map(str, s.resolution)):>10} {s.error_estimate:9.1e} {dt:11.3f}s")


def error_table(design: EggBox, ell_m: float | None, label: str) -> None:
    ref = solve_spectral_fixed(design, n=64, kinetic_length_m=ell_m)[0].max()
    print(f"\n{design.name} {label}: error of the maximum vs resolution (reference N = 64: "
          f"{ref:.9f})")
    print(f"{'N x N x (Nz+1)':>16} {'max i/J':>13} {'rel error':>10} {'GMRES its':>10} "
          f"{'time':>8}")
    for n in (8, 12, 16, 20, 24, 32, 40, 48):
        (cur, _, its, ok), dt = _best_of(
            lambda n=n: solve_spectral_fixed(design, n=n, kinetic_length_m=ell_m), repeat=2)
        flag = "" if ok else "  (GMRES not converged)"
        print(f"{f'{n}x{n}x{default_nz(n) + 1}':>16} {cur.max():13.9f} "
              f"{abs(cur.max() - ref) / ref:10.1e} {its:10d} {dt:7.3f}s{flag}")


def steep_series(materials: Materials) -> None:
    print("\nsteeper egg-boxes (S = 150 µm), solve_field rtol 1e-6, primary + secondary")
    print(f"{'design':>16} {'primary max':>12} {'res':>10} {'secondary max':>14} "
          f"{'res':>10} {'time':>8}")
    for h in (50.0, 75.0):
        design = EggBox(height_um=h, period_um=150.0)
        pair, dt = _best_of(lambda design=design: solve_field(design, materials), repeat=1)
        p, s = pair.primary, pair.secondary
        print(f"{design.name:>16} {p.max_current_ratio:12.7f} "
              f"{'x'.join(map(str, p.resolution)):>10} {s.max_current_ratio:14.7f} "
              f"{'x'.join(map(str, s.resolution)):>10} {dt:7.2f}s")


def main(argv: list[str]) -> None:
    materials = Materials()
    design = EggBox(height_um=25.0, period_um=150.0)
    design_timings(design, materials)
    if "--quick" in argv:
        return
    error_table(design, None, "primary")
    error_table(design, materials.kinetic_length_m, "secondary (default materials)")
    steep_series(materials)


if __name__ == "__main__":
    main(sys.argv[1:])
