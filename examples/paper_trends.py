"""Reproduce the paper's Fig. 4 trends (Zhang et al. 2024) with the full model, with error bars.

For every design of the paper (egg-box series at constant H/S, constant S = 150 µm, constant
H = 25 µm, and the three topographies at H25S150) this computes, with the default materials and
creep constants:

* m   — maximum local current with kinetics / geometric current (field solver),
* Δp  — maximum excess Li pressure at 1 mA/cm² (creep solver or shipped tables),
* the electrolyte stress above the interface (for the fracture criterion: the crack-driving
  pressure p_Li + σ̄ at the Li tips, for both lateral conditions),
* J*/J_flat with its error estimate for the shipped dendrite constants (or the ones given),

prints them as tables, checks the paper's trends T1-T5 and writes a four-panel PNG.

Run: ``python examples/paper_trends.py [--out paper_trends.png] [--crack-um C]
[--growth-exponent NG] [--lateral confined|free] [--criterion fracture|pressure_margin]
[--cache terms.pkl]``.
"""

from __future__ import annotations

import argparse
import math
import pickle
from dataclasses import replace
from pathlib import Path

from solver.calibration import REFERENCE_CURRENT_A_M2
from solver.creep import solve_creep
from solver.critical import DendriteConstants
from solver.electrolyte import ElectrolyteOptions
from solver.prediction import (
    SHAPE_DIVISIONS,
    critical_ratio,
    critical_ratio_error,
    default_constants,
    electrolyte_stress,
    predict,
    solid_design,
)
from templater import EggBox, FrustumArray, PyramidArray
from templater.geometry.surfaces import Surface

SERIES: dict[str, list[Surface]] = {
    "T1 constant H/S = 1/6 (Fig. 4c)": [EggBox(height_um=h, period_um=s) for h, s in
                                       [(5, 30), (25, 150), (50, 300), (100, 600), (150, 900)]],
    "T2 constant S = 150 um (Fig. 4a)": [EggBox(height_um=h, period_um=150.0)
                                         for h in (5, 25, 50, 75)],
    "T3 constant H = 25 um (Fig. 4b)": [EggBox(height_um=25.0, period_um=s)
                                        for s in (225, 150, 75, 50)],
    "T4 topographies at H25S150 (Fig. 4d)": [
        EggBox(height_um=25.0, period_um=150.0), PyramidArray(height_um=25.0, period_um=150.0),
        FrustumArray(height_um=25.0, period_um=150.0)],
}
LATERAL = ("confined", "free")
CACHE_VERSION = 3  # of the pickled terms (2: electrolyte stresses keep their coarse level; 3:
# refined to 2 %)
CRACK_MAX_UM = 150.0  # the electrolyte column is solved once, tall enough for cracks up to this


def compute_terms(*, use_tables: bool = True, cache: Path | None = None) -> dict[str, dict]:
    """m, Δp_max (1 mA/cm²) with errors, and the electrolyte stress (both lateral conditions)
    of every design, keyed by design name (optionally cached in a pickle file)."""
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, dict) and cached.get("version") == CACHE_VERSION:
            return cached["terms"]
        print(f"  {cache} was written by another version: recomputing", flush=True)
    v1 = replace(default_constants(), criterion="pressure_margin")
    out: dict[str, dict] = {}
    for designs in SERIES.values():
        for d in designs:
            if d.name in out:
                continue
            p = predict(d, constants=v1, use_tables=use_tables)
            sec = p.field.secondary
            shape = p.creep or solve_creep(solid_design(d, sec), sec.current_ratio_at_um,
                                           p.creep_params,
                                           current_density_a_m2=REFERENCE_CURRENT_A_M2,
                                           divisions=SHAPE_DIVISIONS)
            # one column for cracks up to CRACK_MAX_UM, its mesh refined (as predict does)
            # for the shipped crack size
            stress = {lat: electrolyte_stress(d, sec, p.creep_params, shape,
                                              ElectrolyteOptions(lateral_condition=lat),
                                              CRACK_MAX_UM, None,
                                              refine_for_um=v1.crack_size_m * 1e6)
                      for lat in LATERAL}
            out[d.name] = {
                "design": d.name, "area_ratio": p.field.area_ratio,
                "primary_max": p.field.primary.max_current_ratio,
                "m": p.max_current_ratio,
                "m_err": 0.0 if sec.method == "exact" else sec.error_estimate,
                "dp_pa": p.max_excess_pressure_pa,
                "dp_err_pa": p.max_excess_pressure_error_pa,
                "source": p.pressure_source, "n": p.creep_params.stress_exponent,
                "stack_pa": p.creep_params.stack_pressure_pa, "stress": stress,
            }
            print(f"  computed {d.name}", flush=True)
    if cache is not None:  # atomically: an interrupted run leaves no half-written cache
        part = cache.with_name(cache.name + ".part")
        with part.open("wb") as fh:
            pickle.dump({"version": CACHE_VERSION, "terms": out}, fh)
        part.replace(cache)
    return out


def creep_terms(terms: dict[str, dict], transition_stress_pa: float, *, divisions: int = 3,
                flat_ccd_a_m2: float = REFERENCE_CURRENT_A_M2) -> dict[str, dict]:
    """The terms with the two-mechanism creep law: P_f solved at J_flat and the local exponent
    n_eff between J_flat/2 and J_flat (what :func:`solver.prediction.predict` does)."""
    from solver.creep_params import CreepParameters
    from solver.field import solve_field

    if transition_stress_pa == 0.0:
        return terms
    params = CreepParameters(transition_stress_pa=transition_stress_pa)
    out = {}
    designs = {d.name: d for ds in SERIES.values() for d in ds}
    for name, t in terms.items():
        d = designs[name]
        sec = solve_field(d, mode="secondary")
        at = [solve_creep(solid_design(d, sec), sec.current_ratio_at_um, params,
                          current_density_a_m2=j, divisions=divisions).max_excess_pressure_pa
              for j in (flat_ccd_a_m2, 0.5 * flat_ccd_a_m2)]
        slope = math.log(at[0] / at[1]) / math.log(2.0)
        out[name] = dict(t, pf_pa=at[0], n_eff=1.0 / min(max(slope, 1.0 / t["n"]), 1.0),
                         transition_stress_pa=transition_stress_pa)
        print(f"  creep sigma_t {transition_stress_pa / 1e6:g} MPa: {name}", flush=True)
    return out


def ratios(terms: dict[str, dict], constants: DendriteConstants, *,
           lateral: str) -> dict[str, list[tuple[float, float]]]:
    """(J*/J_flat, error) of every design of every series for the given constants."""
    jf = constants.flat_critical_current_a_m2 / REFERENCE_CURRENT_A_M2
    result: dict[str, list[tuple[float, float]]] = {}
    for series, designs in SERIES.items():
        vals = []
        for d in designs:
            t = terms[d.name]
            n = t.get("n_eff", t["n"])
            pf = t.get("pf_pa", t["dp_pa"] * jf ** (1.0 / n))
            pf_err = pf * t["dp_err_pa"] / t["dp_pa"]
            stress = t["stress"][lateral]
            drive = stress.crack_drive(t["stack_pa"], constants.crack_size_m * 1e6)
            kw = {"constants": constants, "creep_exponent": n, "drive": drive}
            r = critical_ratio(t["m"], pf, **kw)
            # the column is solved for cracks up to CRACK_MAX_UM: the error at this crack size
            err = critical_ratio_error(t["m"], t["m_err"], pf, pf_err,
                                       stress_error=stress.drive_error(
                                           constants.crack_size_m * 1e6), **kw)
            vals.append((r, err))
        result[series] = vals
    return result


def trend_checks(j: dict[str, list[tuple[float, float]]]) -> dict[str, bool]:
    """The paper's trends T1-T5 evaluated on J*/J_flat (values with their errors)."""
    size, fixed_s, fixed_h, topo = (j[k] for k in SERIES)

    def interior(v: list[tuple[float, float]]) -> bool:
        i = max(range(len(v)), key=lambda k: v[k][0])
        return 0 < i < len(v) - 1

    eggs = [v for k in list(SERIES)[:3] for v in j[k]]
    best = max(r for r, _ in eggs)
    egg, others = topo[0], topo[1:]
    return {
        "T1 J* falls with size at H/S = 1/6": all(b[0] < a[0] for a, b in
                                                  zip(size, size[1:], strict=False)),
        "T2 interior maximum at S = 150 um": interior(fixed_s),
        "T3 interior maximum at H = 25 um": interior(fixed_h),
        "T4 egg-box above pyramid and frustum beyond the errors": all(
            egg[0] - egg[1] > o[0] + o[1] for o in others),
        "T5 best egg-box beats flat, at most 1.5": 1.0 < best <= 1.5,
    }


def plot(terms: dict[str, dict], j: dict[str, list[tuple[float, float]]], out: Path,
         title: str) -> None:
    """Four panels (one per series): J*/J_flat with error bars, flat at 1."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(17, 4.4), constrained_layout=True)
    for ax, (name, designs) in zip(axes, SERIES.items(), strict=True):
        labels = [d.name.replace("eggbox-", "") for d in designs]
        vals = [v for v, _ in j[name]]
        errs = [e if math.isfinite(e) else 0.0 for _, e in j[name]]
        ax.errorbar(range(len(labels)), vals, yerr=errs, fmt="D-", color="C0", capsize=4)
        ax.axhline(1.0, color="grey", lw=0.8, ls="--", label="flat")
        ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("J* / J_flat")
    fig.suptitle(title, fontsize=9)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)


def table(terms: dict[str, dict], j: dict[str, list[tuple[float, float]]],
          lateral: str) -> list[str]:
    """Text table: one block per series."""
    lines = []
    for name, designs in SERIES.items():
        lines.append(name)
        lines.append(f"  {'design':18s} {'A/A0':>7s} {'m':>7s} {'dp MPa':>7s} {'Kt':>6s} "
                     f"{'J*/Jflat':>16s} {'<=A/A0':>6s} source")
        for d, (r, e) in zip(designs, j[name], strict=True):
            t = terms[d.name]
            kt = t["stress"][lateral].stress_concentration()
            lines.append(f"  {d.name:18s} {t['area_ratio']:7.4f} {t['m']:7.4f} "
                         f"{t['dp_pa'] / 1e6:7.3f} {kt:6.2f} {r:8.4f} +- {e:5.3f} "
                         f"{str(r <= t['area_ratio']):>6s} {t['source']}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("paper_trends.png"))
    parser.add_argument("--crack-um", type=float, default=None)
    parser.add_argument("--growth-exponent", type=float, default=None)
    parser.add_argument("--lateral", choices=LATERAL, default=None)
    parser.add_argument("--criterion", choices=("fracture", "pressure_margin"), default=None)
    parser.add_argument("--no-tables", action="store_true")
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    c = default_constants()
    if args.crack_um is not None:
        c = replace(c, crack_size_m=args.crack_um * 1e-6)
    if args.growth_exponent is not None:
        c = replace(c, growth_exponent=args.growth_exponent)
    if args.criterion is not None:
        c = replace(c, criterion=args.criterion)
    lateral = args.lateral or ElectrolyteOptions().lateral_condition
    terms = compute_terms(use_tables=not args.no_tables, cache=args.cache)
    j = ratios(terms, c, lateral=lateral)
    title = (f"criterion {c.criterion}, crack {c.crack_size_m * 1e6:g} um, K_IC "
             f"{c.fracture_toughness_pa_m05 / 1e6:g} MPa m^1/2, n_g {c.growth_exponent or 'n'}, "
             f"lateral {lateral}, J_flat {c.flat_critical_current_a_m2 / 10:g} mA/cm^2")
    print(title)
    for line in table(terms, j, lateral):
        print(line)
    for trend, ok in trend_checks(j).items():
        print(f"{trend}: {'reproduced' if ok else 'NOT reproduced'}")
    plot(terms, j, args.out, title)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
