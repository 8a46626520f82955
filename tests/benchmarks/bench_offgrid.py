"""Benchmark (issue 11): predict a fixed list of 20 designs off the table grid points and compare
the excess-pressure factor Π and J*/J_flat with converged references.

Run: python tests/benchmarks/bench_offgrid.py [--limit N] [--reference-divisions D]
     [--references refs.json]

The list covers every kind, several H/S, edge radii and two non-default materials. For each
design it prints the wall time of `solver.prediction.predict` (default options: tables where they
apply), where Π came from, its own error estimate, and the error against a reference: Π from the
accuracy-driven creep solve refined to ``--reference-divisions`` (graded meshes for rounded
designs). References take minutes each; they are cached in ``--references`` (JSON keyed by the
design name and materials) so that a second run times only the predictions. Peak memory at the
end.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from solver.creep import solve_creep_converged
from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.materials import Materials
from solver.prediction import predict, solid_design
from templater import EggBox, FrustumArray, PyramidArray

SLOW_KINETICS = Materials(i0_a_m2=10.0)  # i0 = 1 mA/cm², kinetic length 514 µm
DRY_ELECTROLYTE = Materials(kappa_s_m=0.1)  # κ = 1 mS/cm, kinetic length 128 µm
DESIGNS = [
    (EggBox(height_um=7.0, period_um=95.0), None),
    (EggBox(height_um=18.0, period_um=130.0), None),
    (EggBox(height_um=33.0, period_um=140.0), None),
    (EggBox(height_um=52.0, period_um=170.0), None),
    (EggBox(height_um=40.0, period_um=70.0), None),
    (EggBox(height_um=12.0, period_um=260.0), None),
    (EggBox(height_um=20.0, period_um=110.0, form="sum"), None),
    (EggBox(height_um=22.0, period_um=150.0), SLOW_KINETICS),
    (EggBox(height_um=30.0, period_um=120.0), DRY_ELECTROLYTE),
    (PyramidArray(height_um=30.0, period_um=100.0), None),
    (PyramidArray(height_um=20.0, period_um=160.0), None),
    (PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=3.0), None),
    (PyramidArray(height_um=40.0, period_um=150.0, edge_radius_um=2.0), None),
    (PyramidArray(height_um=25.0, period_um=150.0), DRY_ELECTROLYTE),
    (FrustumArray(height_um=30.0, period_um=100.0), None),
    (FrustumArray(height_um=20.0, period_um=160.0), None),
    (FrustumArray(height_um=25.0, period_um=150.0, edge_radius_um=3.0), None),
    (FrustumArray(height_um=25.0, period_um=150.0, top_fraction=0.3), None),
    (FrustumArray(height_um=25.0, period_um=150.0), SLOW_KINETICS),
    (FrustumArray(height_um=25.0, period_um=150.0, invert=True), None),
]


def _key(design, materials: Materials | None) -> str:
    m = materials or Materials()
    return f"{design.name} kappa={m.kappa_s_m:g} i0={m.i0_a_m2:g}"


def reference(design, materials: Materials | None, divisions: int) -> dict:
    """Π from the creep solve refined up to ``divisions`` (1 % step criterion, no time limit)."""
    secondary = solve_field(design, materials or Materials(), mode="secondary")
    solid = solid_design(design, secondary)
    t0 = time.perf_counter()
    res = solve_creep_converged(solid, secondary.current_ratio_at_um, CreepParameters(),
                                rtol=0.01, criterion="step", start_divisions=3,
                                max_divisions=divisions, time_budget_s=None)
    return {"pressure_factor": res.pressure_factor, "error": res.pressure_factor_error,
            "divisions": list(res.divisions_sequence), "time_s": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=len(DESIGNS))
    parser.add_argument("--reference-divisions", type=int, default=6)
    parser.add_argument("--references", type=Path, default=Path("offgrid_references.json"))
    args = parser.parse_args()
    refs = json.loads(args.references.read_text()) if args.references.exists() else {}
    print(f"{'design':42s} {'time':>7s} {'source':7s} {'Pi':>8s} {'est.':>6s} {'ref Pi':>8s} "
          f"{'ref est.':>8s} {'error':>7s} {'covered':>7s} {'J*/J_flat':>18s}")
    covered = 0
    for design, materials in DESIGNS[:args.limit]:
        key = _key(design, materials)
        t0 = time.perf_counter()
        p = predict(design, materials, primary=False)
        wall = time.perf_counter() - t0
        if key not in refs:
            refs[key] = reference(design, materials, args.reference_divisions)
            args.references.write_text(json.dumps(refs, indent=1, sort_keys=True))
        ref, ref_err = refs[key]["pressure_factor"], refs[key]["error"]
        est = p.pressure_factor_error / p.pressure_factor
        err = p.pressure_factor / ref - 1.0
        # the prediction's error bar and the reference's overlap: the estimate covers the miss
        ok = abs(p.pressure_factor - ref) <= p.pressure_factor_error + ref_err
        covered += ok
        print(f"{key:42s} {wall:6.2f}s {p.pressure_source:7s} {p.pressure_factor:8.3f} "
              f"{est:6.1%} {ref:8.3f} {ref_err / ref:8.1%} {err:+7.1%} {'yes' if ok else 'NO':>7s} "
              f"{p.critical_current_ratio:8.4f} +- {p.critical_current_ratio_error:.4f}",
              flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"error estimate covers the reference in {covered} of {min(args.limit, len(DESIGNS))}; "
          f"peak memory {peak:.0f} MB; references in {args.references}")


if __name__ == "__main__":
    main()
