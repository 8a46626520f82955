"""Free-slip creep of an egg-box: Π against the creep mesh's first element layer.

Reproduces the free-slip layer study of docs/benchmarks.md ("Free slip and the first element
layer"): for each first-layer thickness (in lateral spacings, ``CreepOptions.interface_layer``)
and number of divisions it prints Π (the largest excess interface pressure over Σ), where it
lies, the largest normal traction, and with ``--line`` the interface pressure along y = 0.

    python scripts/free_slip_layers.py                          # H25S150, n = 6.56
    python scripts/free_slip_layers.py --n 1 --line             # Newtonian: the layers agree
    python scripts/free_slip_layers.py --layers 1 --divisions 6,8,10 --line

The secondary current of the default materials drives the creep; one solve at 8 divisions
takes 10-30 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from solver.creep import CreepOptions, solve_creep_dimensionless
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.prediction import solid_design
from templater.geometry.surfaces import EggBox


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=float, default=25.0, help="H in µm (default 25)")
    parser.add_argument("--period", type=float, default=150.0, help="S in µm (default 150)")
    parser.add_argument("--n", type=float, default=6.56,
                        help="creep stress exponent (default 6.56)")
    parser.add_argument("--layers", type=_floats, default=[1 / 16, 1.0],
                        help="first-layer thicknesses in lateral spacings (default 0.0625,1)")
    parser.add_argument("--divisions", type=lambda t: [int(v) for v in t.split(",")],
                        default=[4, 5, 6, 7, 8], help="creep mesh divisions (default 4-8)")
    parser.add_argument("--line", action="store_true",
                        help="also print the interface pressure along y = 0")
    args = parser.parse_args()

    design = EggBox(height_um=args.height, period_um=args.period)
    secondary = solve_field(design, mode="secondary", fem_early_tol=0.0)  # as recorded
    solid = solid_design(design, secondary)
    params = CreepParameters(slip="freeslip", stress_exponent=args.n)
    s = args.period
    for layer in args.layers:
        for k in args.divisions:
            t0 = time.perf_counter()
            sol = solve_creep_dimensionless(solid, secondary.current_ratio_at_um, params,
                                            divisions=k,
                                            options=CreepOptions(interface_layer=layer))
            i, j = int(np.argmax(sol.pressure)), int(np.argmax(sol.normal_traction))
            print(f"layer {layer:g}  {k:2d} div  Π {sol.pressure[i]:.4f} at "
                  f"({sol.x[i] * s:.1f}, {sol.y[i] * s:.1f}) µm  max traction "
                  f"{sol.normal_traction[j]:.4f}  {time.perf_counter() - t0:.1f} s", flush=True)
            if args.line:
                on = np.flatnonzero(np.abs(sol.y) < 1e-9)
                on = on[np.argsort(sol.x[on])]
                print("   y = 0:", "  ".join(f"{sol.x[m] * s:.1f}: {sol.pressure[m]:.3f}"
                                             for m in on))


if __name__ == "__main__":
    main()
