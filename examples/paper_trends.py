"""Reproduce the paper's Fig. 3 and Fig. 4 trends (Zhang et al. 2024) with the full model.

For every design of the paper (egg-box series at constant H/S, constant S = 150 µm, constant
H = 25 µm, and the three topographies at H25S150) this computes, at 1 mA/cm² with the default
materials and creep constants:

* m   — maximum local current with kinetics / geometric current (field solver),
* Δp  — maximum excess Li pressure (creep solver or shipped tables),
* J*/J_flat — the predicted critical current relative to a flat interface, for the shipped
  default dendrite constants (or the ones given on the command line),

and prints them as tables (the competing terms side by side) and writes PNG plots.

Run: ``python examples/paper_trends.py [--out paper_trends.png] [--margin-mpa M]
[--growth-exponent NG] [--no-tables]``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from solver.critical import critical_current_ratio
from solver.prediction import default_constants, predict
from templater import EggBox, FrustumArray, PyramidArray
from templater.geometry.surfaces import Surface

SERIES: dict[str, list[Surface]] = {
    "constant H/S = 1/6 (Fig. 2a, 4c)": [EggBox(height_um=h, period_um=s) for h, s in
                                        [(5, 30), (25, 150), (50, 300), (100, 600), (150, 900)]],
    "constant S = 150 um (Fig. 3b-c, 4a)": [EggBox(height_um=h, period_um=150.0)
                                            for h in (5, 25, 50, 75)],
    "constant H = 25 um (Fig. 3e-f, 4b)": [EggBox(height_um=25.0, period_um=s)
                                           for s in (225, 150, 75, 50)],
    "topographies at H25S150 (Fig. 1d, 4d)": [
        EggBox(height_um=25.0, period_um=150.0), PyramidArray(height_um=25.0, period_um=150.0),
        FrustumArray(height_um=25.0, period_um=150.0)],
}


def compute_terms(*, use_tables: bool = True, creep_divisions: int = 4) -> dict[str, list[dict]]:
    """m, Δp_max (1 mA/cm²), area ratio for every design of every series."""
    cache: dict[Surface, dict] = {}
    out: dict[str, list[dict]] = {}
    for name, designs in SERIES.items():
        rows = []
        for d in designs:
            if d not in cache:
                p = predict(d, use_tables=use_tables, creep_divisions=creep_divisions)
                cache[d] = {"design": d.name, "H_um": d.height_um, "S_um": d.period_um,
                            "area_ratio": p.field.area_ratio,
                            "primary_max": p.field.primary.max_current_ratio,
                            "m": p.max_current_ratio,
                            "dp_mpa": p.max_excess_pressure_pa / 1e6,
                            "pi": p.pressure_factor, "pi_err": p.pressure_factor_error,
                            "source": p.pressure_source, "n": p.creep_params.stress_exponent,
                            "time_s": p.solve_time_s}
            rows.append(dict(cache[d]))
        out[name] = rows
    return out


def ratios(terms: dict[str, list[dict]], *, margin_mpa: float, growth_exponent: float | None,
           flat_ccd_ma_cm2: float = 1.0) -> dict[str, list[float]]:
    """J*/J_flat for every design with the given dendrite constants."""
    result = {}
    for name, rows in terms.items():
        vals = []
        for r in rows:
            n = r["n"]
            pf = r["dp_mpa"] * 1e6 * flat_ccd_ma_cm2 ** (1.0 / n)
            vals.append(critical_current_ratio(r["m"], pf, pressure_margin_pa=margin_mpa * 1e6,
                                               growth_exponent=growth_exponent or n,
                                               creep_exponent=n))
        result[name] = vals
    return result


def trend_checks(j: dict[str, list[float]]) -> dict[str, bool]:
    """The paper's qualitative trends (Figs. 2a, 3b, 3e, 4a-d) evaluated on J*/J_flat."""
    keys = list(SERIES)
    size, fixed_s, fixed_h, topo = (j[k] for k in keys)

    def interior(v: list[float]) -> bool:
        i = max(range(len(v)), key=v.__getitem__)
        return 0 < i < len(v) - 1

    return {
        "decreases with size at H/S = 1/6": all(b < a for a, b in zip(size, size[1:],
                                                                       strict=False)),
        "interior maximum at constant S": interior(fixed_s),
        "interior maximum at constant H": interior(fixed_h),
        "egg-box beats pyramid and frustum": topo[0] > max(topo[1:]),
    }


def plot(terms: dict[str, list[dict]], j: dict[str, list[float]], out: Path) -> None:
    """One column per series: m and Δp (top), J*/J_flat (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(17, 7), constrained_layout=True)
    for col, (name, rows) in enumerate(terms.items()):
        labels = [r["design"].replace("eggbox-", "") for r in rows]
        ax = axes[0, col]
        ax.plot(labels, [r["m"] for r in rows], "s-", color="C1", label="max current (kinetics)")
        ax.set_ylabel("i_max / J")
        ax2 = ax.twinx()
        ax2.plot(labels, [r["dp_mpa"] for r in rows], "o--", color="C3", label="max pressure")
        ax2.set_ylabel("max excess pressure at 1 mA/cm^2 [MPa]")
        ax.set_title(name, fontsize=9)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax = axes[1, col]
        ax.plot(labels, j[name], "D-", color="C0")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_ylabel("J* / J_flat")
        ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("paper_trends.png"))
    parser.add_argument("--margin-mpa", type=float, default=None)
    parser.add_argument("--growth-exponent", type=float, default=None)
    parser.add_argument("--no-tables", action="store_true")
    parser.add_argument("--creep-divisions", type=int, default=4)
    args = parser.parse_args()
    c = default_constants()
    if args.margin_mpa is not None:
        c = replace(c, pressure_margin_pa=args.margin_mpa * 1e6)
    if args.growth_exponent is not None:
        c = replace(c, growth_exponent=args.growth_exponent)
    terms = compute_terms(use_tables=not args.no_tables, creep_divisions=args.creep_divisions)
    j = ratios(terms, margin_mpa=c.pressure_margin_pa / 1e6, growth_exponent=c.growth_exponent,
               flat_ccd_ma_cm2=c.flat_critical_current_a_m2 / 10)
    print(f"dendrite constants: margin {c.pressure_margin_pa / 1e6:g} MPa, n_g "
          f"{c.growth_exponent or 'n'}, J_flat {c.flat_critical_current_a_m2 / 10:g} mA/cm^2")
    for name, rows in terms.items():
        print(name)
        print(f"  {'design':18s} {'A/A0':>7s} {'m':>7s} {'dp MPa':>7s} {'Pi':>7s} "
              f"{'J*/Jflat':>8s} {'<=A/A0':>6s} source")
        for r, jj in zip(rows, j[name], strict=True):
            print(f"  {r['design']:18s} {r['area_ratio']:7.4f} {r['m']:7.4f} {r['dp_mpa']:7.3f} "
                  f"{r['pi']:7.3f} {jj:8.4f} {str(jj <= r['area_ratio']):>6s} {r['source']}")
    for trend, ok in trend_checks(j).items():
        print(f"trend: {trend}: {'reproduced' if ok else 'NOT reproduced'}")
    plot(terms, j, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
