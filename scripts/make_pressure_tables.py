"""Generate the creep pressure-factor tables shipped in ``solver/tables/``: Π over H/S × ℓ/S
(egg-boxes) and H/S × r/S × ℓ/S (pyramids, frustums).

Every entry is computed by the project's own solvers: the secondary current distribution
(:func:`solver.solve_field`) feeds the power-law creep solver
(:func:`solver.creep.solve_creep_sequence`, one mesh per level for all ℓ/S) at the default creep
constants (n = 6.56, bonded interface, D = S, σ_t = 0), and the product egg-box also at n = 1, 2,
3, 4.5, 9 and 12 (a family, interpolated in 1/n); the pyramid and frustum (t = 0.5) tables also at
n = 3, 4.5, 9 and 12, anchored to their n = 6.56 tables (``--anchored``: each entry the anchor's
times Π(n)/Π(6.56) solved on the anchor's coarsest level). An entry is Π at the finest of three
levels; the default egg-box table (product form, n = 6.56) has five, 5-9, and its entries are their
first-order limit (:func:`solver.creep.first_order_estimate`). Pyramids and frustums are solved
with the rounding band resolved (``ROUNDED_OPTIONS``); frustums at top fractions 0.25, 0.5 and 0.75
(with the pyramid, t = 0, a family interpolated in t; the t = 0.75 table up to H/S = 1), and
inverted pyramids and frustums (t = 0.5; a second family).
Each file records its provenance (version, levels, creep mesh options, time), Π at the coarsest
level (at every level for an extrapolated table) and held-out points; the rounded tables also their
band checks (the band refined further, and the coarse-band Π of a prediction off the tables), the
n = 6.56 egg-box table the held-out exponent points, the t = 0.5 frustum tables (upright and
inverted) the held-out top fractions of their families. Run from the repository root:

    python scripts/make_pressure_tables.py                   # all tables (about 8 h on 2 cores,
                                                             # 2.3 h of it the default egg-box
                                                             # table at levels 5-9) and about 8
                                                             # more for the inverted frustum
                                                             # table (with --resume DIR: it
                                                             # took three sessions)
    python scripts/make_pressure_tables.py --only eggbox-sum # one table (eggbox, eggbox-sum,
                                                             # pyramid, frustum, frustum-t0.25,
                                                             # frustum-t0.75, pyramid-inverted,
                                                             # frustum-inverted;
                                                             # a rounded one with its band
                                                             # checks)
    python scripts/make_pressure_tables.py --band-checks     # only the rounded tables' band
                                                             # checks (--resume DIR keeps
                                                             # their solves too)
    python scripts/make_pressure_tables.py --only pyramid --coarse-band  # as the shipped
                                                             # pyramid table: levels 3-5
    python scripts/make_pressure_tables.py --only eggbox --stress-exponent 4.5   # the n family
    python scripts/make_pressure_tables.py --exponent-checks # held-out points between them
    python scripts/make_pressure_tables.py --anchored        # pyramid, frustum at n = 3, 4.5, 9, 12
                                                             # (about 45 min per table and n
                                                             # on 2 cores; remake them after
                                                             # their n = 6.56 anchors)
    python scripts/make_pressure_tables.py --plateau-checks  # held-out frustum top fractions
    python scripts/make_pressure_tables.py --plateau-checks --only frustum-inverted  # inverted
    python scripts/make_pressure_tables.py --only eggbox --slip freeslip  # free-slip interface

Tests (``tests/solver/test_tables.py``) recompute entries and check the held-out points.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from solver.creep import CreepOptions
from solver.creep_params import CreepParameters
from solver.tables import (
    BAND_CHECK_DIVISIONS,
    BAND_CHECK_ELEMENTS,
    BAND_CHECK_TIP_FLOOR,
    BAND_CHECK_TIP_LAYER,
    BAND_RESOLVED_OPTIONS,
    REFERENCE_PERIOD_UM,
    TABLE_DIR,
    across_plateaus,
    band_check,
    cached_entries,
    coarse_band_pressure_factor,
    creep_key,
    generate_table,
    load_table,
    load_tables,
    lookup_pressure_factor,
    plateau_members,
    save_table,
    shape_key,
    solve_entries,
    table_current_ratio_fn,
)
from templater import EggBox, FrustumArray, PyramidArray
from templater.geometry.surfaces import Surface
from templater.geometry.units import um_to_m

# ℓ/S spans the default L_k = 257 µm over S = 30-900 µm (0.29-8.6) with margin
KINETIC_OVER_PERIOD = [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8]
# egg-boxes from H/S = 1/120 up to the printable limit 2 (ASPECT_MAX), solved at S = 140 µm so
# that H = 2 S stays within H's range (Π does not depend on S itself)
EGGBOX_ASPECTS = [1 / 120, 1 / 60, 1 / 30, 1 / 15, 1 / 9, 1 / 6, 1 / 4, 1 / 3, 1 / 2, 3 / 4, 1,
                  3 / 2, 2]
EGGBOX_PERIOD_UM = 140.0
# rounded shapes: H/S × r/S × ℓ/S (r = 1 µm covers S = 45-500 µm), three creep levels each
# (the rounded tables stay at S = 150 µm: the field rounds edges to at least 1 µm, so r/S is
# not scale-free; H ≤ 280 µm then allows H/S ≤ 1.87, steeper rounded designs solve directly)
ROUNDED_ASPECTS = [1 / 15, 1 / 6, 1 / 3, 2 / 3, 1, 3 / 2]
ROUNDED_RADII = [0.002, 0.0067, 0.022]
ROUNDED_KINETIC = [0.2, 1.6, 12.8]
ROUNDED_HELD_OUT = [(0.1, 0.004, 0.5), (0.25, 0.012, 4.0), (0.125, 0.00625, 1.6),
                    (0.8, 0.01, 0.8)]
INVERTED_FRUSTUM_RADII = ROUNDED_RADII[1:]  # r/S 0.0067 and 0.022 (see TABLES)
# the rounding band refined: 2 elements per band half-width, first layers half as thick, down
# to 1/64 of the uniform first layer, levels 2-4 (the band checks refine further: 0.2-4.5 %
# laterally; thinner first layers move Π by 2-4 %, docs/benchmarks.md "Rounded tips")
ROUNDED_OPTIONS = BAND_RESOLVED_OPTIONS  # (predictions off the tables use it too)


@dataclass(frozen=True)
class Spec:
    """One table: shape factory, axes, held-out points and the finest creep level."""

    factory: Callable[..., Surface]
    aspects: list[float]
    kinetic: list[float]
    divisions: int
    radii: list[float] | None = None
    held_out: list[tuple[float, ...]] = field(default_factory=list)
    options: CreepOptions = field(default_factory=CreepOptions)
    period: float = REFERENCE_PERIOD_UM  # S of the solves (µm)
    levels: int = 3  # creep levels up to ``divisions``
    extrapolate: bool = False  # entries: the first-order limit of the levels (else the finest)


TABLES = {
    # levels 5-9, entries extrapolated to their first-order limit (the shipped n = 6.56
    # tables of both forms; the other exponents' tables were made at levels 5-7, entries the
    # finest values)
    "eggbox": Spec(lambda h, s: EggBox(height_um=h, period_um=s), EGGBOX_ASPECTS,
                   KINETIC_OVER_PERIOD, 9, held_out=[(0.08, 0.6), (0.2, 5.0), (0.14, 0.3),
                                                     (0.6, 0.3), (1.25, 2.4)],
                   period=EGGBOX_PERIOD_UM, levels=5, extrapolate=True),
    "eggbox-sum": Spec(lambda h, s: EggBox(height_um=h, period_um=s, form="sum"),
                       EGGBOX_ASPECTS, KINETIC_OVER_PERIOD, 9,
                       held_out=[(0.08, 0.6), (0.2, 5.0), (1.25, 2.4)],
                       period=EGGBOX_PERIOD_UM, levels=5, extrapolate=True),
    "pyramid": Spec(lambda h, s, r: PyramidArray(height_um=h, period_um=s, edge_radius_um=r),
                    ROUNDED_ASPECTS, ROUNDED_KINETIC, 4, ROUNDED_RADII, ROUNDED_HELD_OUT,
                    ROUNDED_OPTIONS),
    "frustum": Spec(lambda h, s, r: FrustumArray(height_um=h, period_um=s, edge_radius_um=r),
                    ROUNDED_ASPECTS, ROUNDED_KINETIC, 4, ROUNDED_RADII, ROUNDED_HELD_OUT,
                    ROUNDED_OPTIONS),
    # a third member of the top-fraction family (pyramid t = 0, frustum t = 0.5): Π(t) lies
    # 0.5-9.6 % below ln Π linear between those two (plateau checks, docs/benchmarks.md)
    "frustum-t0.25": Spec(lambda h, s, r: FrustumArray(height_um=h, period_um=s,
                                                       edge_radius_um=r, top_fraction=0.25),
                          ROUNDED_ASPECTS, ROUNDED_KINETIC, 4, ROUNDED_RADII, ROUNDED_HELD_OUT,
                          ROUNDED_OPTIONS),
    # top fractions above 0.5; rows up to H/S = 1 (face slope 8: steeper flanks are not meshed
    # well enough by the creep solver, and such designs solve directly)
    "frustum-t0.75": Spec(lambda h, s, r: FrustumArray(height_um=h, period_um=s,
                                                       edge_radius_um=r, top_fraction=0.75),
                          ROUNDED_ASPECTS[:5], ROUNDED_KINETIC, 4, ROUNDED_RADII,
                          ROUNDED_HELD_OUT, ROUNDED_OPTIONS),
    # inverted pyramids (pits; the Li-convex features are the apex and the four hips), all
    # rows (each design took 8-25 min on a shared machine up to H/S = 1/3, 2-13 min above;
    # the rows from 2/3 were added with --extend)
    "pyramid-inverted": Spec(lambda h, s, r: PyramidArray(height_um=h, period_um=s,
                                                          edge_radius_um=r, invert=True),
                             ROUNDED_ASPECTS, ROUNDED_KINETIC, 4, ROUNDED_RADII,
                             ROUNDED_HELD_OUT, ROUNDED_OPTIONS),
    # inverted frustums (the Li-convex features are the plateau edges and the hips), rows up
    # to H/S = 1/6 to begin with (extend with --extend); with the inverted pyramid (t = 0)
    # they make a second top-fraction family. Radii from r/S = 0.0067 (r = 1 µm at S up to
    # 150 µm): the band is refined on both sides of the plateau edge, so a design's mesh has
    # 1.5-3 times the vertices of an upright one; (1/6, 0.022) took 26 min, the sharpest
    # (1/15, 0.002) more than an hour for its first level alone (about 6 CPU-hours a design,
    # 25-30 for the table with r/S 0.002); generated from 1 to 2 December 2026 with --resume.
    # With two nodes on H/S and r/S, the held-out points measure the interpolation error
    "frustum-inverted": Spec(lambda h, s, r: FrustumArray(height_um=h, period_um=s,
                                                          edge_radius_um=r, invert=True),
                             ROUNDED_ASPECTS[:2], ROUNDED_KINETIC, 4, INVERTED_FRUSTUM_RADII,
                             [(0.1, 0.012, 0.5), (0.125, 0.01, 1.6)], ROUNDED_OPTIONS),
}


# band checks (r/S = 0.0067 is r = 1 µm at S = 150 µm): the rounding band resolved
BAND_CHECKS = {"pyramid": [(1 / 15, 0.0067, 1.6), (1 / 6, 0.0067, 1.6), (1 / 3, 0.0067, 1.6),
                           (1 / 6, 0.002, 1.6)],
               "frustum": [(1 / 6, 0.0067, 1.6), (1 / 6, 0.002, 1.6)],
               "frustum-t0.25": [(1 / 6, 0.0067, 1.6)],
               "frustum-t0.75": [(1 / 6, 0.0067, 1.6)],
               "pyramid-inverted": [(1 / 6, 0.0067, 1.6)],
               "frustum-inverted": [(1 / 6, 0.0067, 1.6)]}


def add_band_checks(name: str, params: CreepParameters,
                    reuse: list[dict] | None = None, cache: Path | None = None) -> None:
    """Solve the band checks of a rounded table with the rounding band resolved and record
    them (with the table's lookup there and the coarse-band Π of a prediction off the tables)
    in the table file's provenance; the entries are kept. Band-resolved values of ``reuse``
    (earlier checks, e.g. of the file before it was regenerated) at the same point and
    settings are taken over instead of solved again; ``cache`` keeps (and resumes) the
    band-refined solves like the entries'."""
    spec = TABLES[name]
    path = table_path(name, params)
    load_tables.cache_clear()  # tables written earlier in this run
    table = load_table(path)
    settings = {"band_elements": list(BAND_CHECK_ELEMENTS), "divisions": BAND_CHECK_DIVISIONS,
                "tip_layer": BAND_CHECK_TIP_LAYER, "tip_floor": BAND_CHECK_TIP_FLOOR}
    earlier = reuse or table.provenance.get("band_checks", [])
    known = {tuple(c["point"]): c for c in earlier
             if all(c.get(key) == value for key, value in settings.items())}
    coarse = {tuple(c["point"]): c["coarse"] for c in earlier if "coarse" in c}
    checks = []
    for a, r, k in BAND_CHECKS[name]:
        s = REFERENCE_PERIOD_UM
        design = spec.factory(a * s, s, r * s)
        old = known.get((a, r, k))
        if old is None:
            spent: list[float] = []
            check = band_check(design, k, params, coarse=coarse.get((a, r, k)), cache=cache,
                               spent=spent)
            seconds = round(math.fsum(spent))  # its solves' (a cached one's as recorded)
        else:
            t0 = time.perf_counter()
            check = {key: old[key] for key in (*settings, "values", "resolved",
                                               "resolved_error")}
            check["coarse"] = coarse.get((a, r, k)) or coarse_band_pressure_factor(
                design, table_current_ratio_fn(design, k), params)
            seconds = round(time.perf_counter() - t0) + old.get("seconds", 0)
        pi, _ = table.interpolate(a, k, r)
        checks.append({"point": [a, r, k], "table": pi, **check, "seconds": seconds})
        logging.info("band check %s %s: Pi %s -> resolved %.4g, coarse band %.4g, table %.4g "
                     "(%.0f s)", name, (a, r, k), check["values"], check["resolved"],
                     check["coarse"], pi, checks[-1]["seconds"])
    provenance = {**table.provenance, "band_checks": checks}
    save_table(replace(table, provenance=provenance), path)
    logging.info("wrote %s", path)


# product egg-box tables at these further creep exponents (a family: lookups interpolate in
# 1/n between them), and held-out (n, H/S, ℓ/S) points that check that interpolation
EGGBOX_EXPONENTS = [1.0, 2.0, 3.0, 4.5, 9.0, 12.0]  # n = 1 (Newtonian) is the smallest allowed
# ... made with the earlier egg-box recipe: levels 5-7, the entry Π at the finest (the default
# n's table has levels 5-9 and their first-order limit; the others are not redone yet)
EGGBOX_FAMILY_RECIPE = {"divisions": 7, "levels": 3, "extrapolate": False}
EXPONENT_CHECKS = [(5.5, 1 / 6, 1.6), (8.0, 1 / 15, 6.4), (5.5, 1.0, 0.8), (10.5, 1 / 3, 0.8),
                   (11.0, 1 / 15, 6.4), (3.7, 1 / 6, 0.4), (3.5, 2 / 3, 3.2),
                   (1.5, 1 / 6, 1.6), (2.5, 1 / 3, 0.8), (1.25, 1.0, 6.4)]


# the checks' own levels: the family's members but the default one were made at levels 5-7
EXPONENT_CHECK_LEVELS = [5, 6, 7]


def add_exponent_checks(params: CreepParameters, divisions: int | None = None,
                        reuse: list[dict] | None = None) -> None:
    """Solve the held-out exponent points like the family's entries (``divisions``: the
    finest of three levels, default ``EXPONENT_CHECK_LEVELS``) and record them, with the
    family lookup there, in the provenance of the product egg-box table at ``params``' n.
    Solves recorded at the same point and levels in ``reuse`` (default: the file's own
    checks) are taken over; the lookups are redone (after a member of the family changed)."""
    spec = TABLES["eggbox"]
    path = TABLE_DIR / f"eggbox_n{params.stress_exponent:g}_{params.slip}.npz"
    key = shape_key(spec.factory(25.0, spec.period))
    load_tables.cache_clear()  # tables written earlier in this run
    table = next(t for t in load_tables(TABLE_DIR) if t.matches(key)
                 and t.creep["stress_exponent"] == params.stress_exponent)
    levels = (EXPONENT_CHECK_LEVELS if divisions is None else
              [d for d in (divisions - 2, divisions - 1, divisions) if d >= 2])
    earlier = reuse if reuse is not None else table.provenance.get("exponent_checks", [])
    known = {tuple(c["point"]): c for c in earlier
             if c.get("levels", EXPONENT_CHECK_LEVELS) == levels}
    checks = []
    for n, a, k in EXPONENT_CHECKS:
        at_n = replace(params, stress_exponent=n)
        s = spec.period
        design = spec.factory(a * s, s)
        old = known.get((n, a, k))
        if old is None:
            value, error, _ = solve_entries(design, [k], at_n, levels, floor=False)
        else:
            value, error = [old["solved"]], [old["solved_error"]]
        pi, est = lookup_pressure_factor(design, um_to_m(k * s), at_n)
        checks.append({"point": [n, a, k], "solved": float(value[0]),
                       "solved_error": float(error[0]), "levels": levels, "table": pi,
                       "table_error": est})
        logging.info("exponent check %s: solved %.4g +- %.2g, tables %.4g +- %.2g", (n, a, k),
                     value[0], error[0], pi, est)
    save_table(replace(table, provenance={**table.provenance, "exponent_checks": checks}), path)
    logging.info("wrote %s", path)


# held-out frustums at other top fractions t, (H/S, r/S, t, ℓ/S values): lookups interpolate in t
# between the pyramid table (t = 0) and the frustum tables (t = 0.25, 0.5, 0.75); the checks on the
# tables' (H/S, r/S, ℓ/S) nodes strictly between two members measure that interpolation
PLATEAU_CHECKS = [
    *[(a, r, t, [0.5, 1.6, 4.0]) for a, r, t in (
        (1 / 15, 0.002, 0.25), (1 / 6, 0.0067, 0.25), (1.0, 0.0067, 0.25), (0.8, 0.01, 0.2),
        (1 / 6, 0.0067, 0.1), (1 / 6, 0.0067, 0.4), (1 / 3, 0.022, 0.25), (0.125, 0.004, 0.35))],
    *[(a, r, t, ROUNDED_KINETIC) for a, r, t in (
        (1 / 15, 0.0067, 0.1), (2 / 3, 0.022, 0.15), (1.0, 0.0067, 0.35), (1 / 3, 0.0067, 0.1),
        (1 / 3, 0.002, 0.4), (1 / 6, 0.022, 0.2), (1.5, 0.002, 0.4), (2 / 3, 0.002, 0.3),
        (1 / 6, 0.0067, 0.6), (1 / 3, 0.002, 0.65), (2 / 3, 0.022, 0.7))],
]
# the same for inverted reliefs, between the inverted pyramid (t = 0) and frustum (t = 0.5) tables
INVERTED_PLATEAU_CHECKS = [(a, r, t, ROUNDED_KINETIC) for a, r, t in (
    (1 / 6, 0.0067, 0.25), (1 / 6, 0.022, 0.2), (1 / 15, 0.022, 0.35))]
# per family, named by the table that records its checks: the checks, the tables they
# interpolate, and whether the reliefs are inverted
PLATEAU_FAMILIES = {
    "frustum": (PLATEAU_CHECKS, ("pyramid", "frustum", "frustum-t0.25", "frustum-t0.75"), False),
    "frustum-inverted": (INVERTED_PLATEAU_CHECKS, ("pyramid-inverted", "frustum-inverted"),
                         True),
}


def add_plateau_checks(params: CreepParameters, cache: Path | None,
                       reuse: list[dict] | None = None, family: str = "frustum") -> None:
    """Solve the held-out top fractions of a plateau family (a key of ``PLATEAU_FAMILIES``)
    like rounded table entries and record them, with the interpolation between the family's
    tables there, in the provenance (``plateau_checks``) of the table named ``family``. Solves
    recorded in ``reuse`` (default: the file's own checks) at the same point and levels are
    taken over instead of solved again."""
    spec = TABLES[family]
    path = table_path(family, params)
    load_tables.cache_clear()  # tables written earlier in this run
    table = load_table(path)
    levels = [d for d in (spec.divisions - 2, spec.divisions - 1, spec.divisions) if d >= 2]
    known = {tuple(c["point"]): c for c in (reuse if reuse is not None else
                                            table.provenance.get("plateau_checks", []))
             if c.get("levels") == levels}
    s = spec.period
    checks = []
    checks_at, _, invert = PLATEAU_FAMILIES[family]
    for a, r, t, ks in checks_at:
        design = FrustumArray(height_um=a * s, period_um=s, edge_radius_um=r * s,
                              top_fraction=t, invert=invert)
        old = [known.get((a, r, t, k)) for k in ks]
        if all(old):
            values, errors, coarse = ([c[key] for c in old]
                                      for key in ("solved", "solved_error", "coarsest"))
        else:
            values, errors, coarse = cached_entries(cache, design, ks, params, levels,
                                                    floor=False, options=spec.options)
        members = plateau_members(load_tables(TABLE_DIR), design.plateau_family(),
                                  creep_key(params, None), a, ks[0])
        for k, value, error, first in zip(ks, values, errors, coarse, strict=True):
            pi, est, tau = across_plateaus(members, t, a, k, r)
            checks.append({"point": [a, r, t, k], "solved": float(value),
                           "solved_error": float(error), "coarsest": float(first),
                           "levels": levels, "table": pi, "table_error": est, "tau": tau})
            logging.info("plateau check %s: solved %.4g +- %.2g, tables %.4g +- %.2g",
                         (a, r, t, k), value, error, pi, est)
    save_table(replace(table, provenance={**table.provenance, "plateau_checks": checks}), path)
    logging.info("wrote %s", path)


# rounded tables at other creep exponents, anchored to the n = 6.56 table (--anchored): an
# entry is the n = 6.56 entry times the ratio Π(n)/Π(6.56) on the table's coarsest band-resolved
# level, where the discretisation errors of the two largely cancel (pyramid H25S150, ℓ/S = 1.6,
# n = 5: Π moves by 4.5 % from level 2 to 3, the ratio by 0.5 %; docs/benchmarks.md)
ANCHORED_TABLES = ("pyramid", "frustum")
ANCHORED_EXPONENTS = [3.0, 4.5, 9.0, 12.0]
SETTLED_MOVE = 0.02  # the anchor's level move below which R's change does not scale with it
RATIO_CHECK_SAFETY = 3.0  # the level-2 ratio's error: 3 × its change to level 3 (first order,
# an estimate: the changes need not shrink steadily, docs/benchmarks.md)
# ratio checks besides the anchor's band checks (H/S, r/S, ℓ/S): a steep design with a focused
# current, where the band checks (H/S ≤ 1/3, ℓ/S = 1.6) do not reach, and the grid designs
# whose Π moves most between the anchor's levels (a review)
RATIO_CHECKS = {"pyramid": [(2 / 3, 0.0067, 0.2), (1 / 15, 0.002, 1.6)],
                "frustum": [(2 / 3, 0.0067, 0.2), (1 / 15, 0.022, 1.6), (1 / 6, 0.022, 12.8)]}
# grid points solved at the exponent directly, at the anchor's levels (as its entries were): the
# check that the anchored entry and its error agree with what a table made at n would hold
DIRECT_CHECKS = {4.5: [(1 / 6, 0.0067, 1.6)]}
# held-out exponents (n, H/S, r/S, ℓ/S) on a grid node between the anchored table and its
# anchor: Π there is the anchor's entry times the ratio solved at n, against the lookup's
# interpolation in 1/n (whose second difference over the family the lookup's error includes)
ANCHORED_EXPONENT_CHECKS = {3.0: [(3.75, 1 / 6, 0.0067, 1.6)], 4.5: [(5.5, 1 / 6, 0.0067, 1.6)],
                            9.0: [(7.5, 1 / 6, 0.0067, 1.6)],
                            12.0: [(10.5, 1 / 6, 0.0067, 1.6)]}


def direct_checks(name: str, params: CreepParameters, cache: Path | None,
                  spent: list[float] | None = None) -> list[dict]:
    """Π at ``DIRECT_CHECKS`` points of the rounded table ``name`` at ``params``' n, solved
    like the anchor's entries (its levels and mesh options): value and error."""
    spec = TABLES[name]
    out = []
    for a, r, k in DIRECT_CHECKS.get(params.stress_exponent, []):
        s = spec.period
        levels = [d for d in (spec.divisions - 2, spec.divisions - 1, spec.divisions) if d >= 2]
        per_level: list = []
        values, errors, _ = cached_entries(cache, spec.factory(a * s, s, r * s), [k], params,
                                           levels, floor=False, options=spec.options,
                                           spent=spent, per_level_out=per_level)
        out.append({"point": [a, r, k], "levels": levels, "solved": float(values[0]),
                    "solved_error": float(errors[0]),
                    "per_level": [float(v) for v in per_level[0][:, 0]]})
    return out


def _grid_node(table, aspect: float, radius: float, kinetic: float) -> tuple[int, int, int]:
    """Indices of a grid node (H/S, r/S, ℓ/S) of a rounded table; an error off the grid."""
    axes = (table.aspect, table.edge_radius_over_s, table.kinetic_over_period)
    index = tuple(int(np.argmin(abs(ax - q))) for ax, q in zip(axes, (aspect, radius, kinetic),
                                                                strict=True))
    if not all(np.isclose(ax[i], q) for ax, i, q in zip(axes, index, (aspect, radius, kinetic),
                                                          strict=True)):
        raise ValueError(f"({aspect:g}, {radius:g}, {kinetic:g}) is not a node of the table")
    return index


def ratio_error_model(checks: list[dict], moves: np.ndarray, base) -> dict:
    """R's error at the coarsest level, per entry: ``RATIO_CHECK_SAFETY`` × max(a, κ·m), m the
    anchor's own move from its coarsest level to its entry there (how unsettled the mesh is at
    that design). Where m is at least ``SETTLED_MOVE`` R moves roughly in proportion (the
    shallowest, sharpest pyramid: R 11 % with m 30 %): κ is the largest change of R over m
    there; below it the change does not scale with m (Π may swing and come back), and a is the
    largest change there. Every check lies within max(a, κ·m) by construction; the safety
    factor turns the change from level 2 to 3 into the error left at level 2 (first order)."""
    points = []
    for c in checks:
        i, j, m = _grid_node(base, *c["point"])
        points.append((float(moves[i, j, m]), abs(c["ratio"][1] / c["ratio"][0] - 1.0)))
    unsettled = [change / move for move, change in points if move >= SETTLED_MOVE]
    settled = [change for move, change in points if move < SETTLED_MOVE]
    if not unsettled or not settled:
        raise SystemExit("--anchored: the ratio checks need points with the anchor's level move "
                         f"both below and above {SETTLED_MOVE:g} to model R's error")
    return {"safety": RATIO_CHECK_SAFETY, "floor": max(settled), "per_move": max(unsettled),
            "settled_move": SETTLED_MOVE}


def model_ratio_error(model: dict, moves: np.ndarray) -> np.ndarray:
    """:func:`ratio_error_model`'s error at the anchor's moves ``moves``."""
    return model["safety"] * np.maximum(model["floor"], model["per_move"] * moves)


def _cell_max(table, values: np.ndarray, aspect: float, radius: float,
              kinetic: float) -> float:
    """The largest of ``values`` (H/S × r/S × ℓ/S) at the corners of the grid cell around a
    point (an off-grid point's ratio error: its cell's least favourable corner)."""
    def around(axis: np.ndarray, q: float) -> slice:
        k = int(np.clip(np.searchsorted(axis, q), 1, axis.size - 1))
        return slice(k - 1, k + 1)

    axes = (table.aspect, table.edge_radius_over_s, table.kinetic_over_period)
    cell = values[tuple(around(ax, q) for ax, q in zip(axes, (aspect, radius, kinetic),
                                                      strict=True))]
    return float(cell.max())


def _prior_anchored(path: Path, base, anchor_name: str, level: int) -> dict | None:
    """What an earlier anchored table at ``path`` solved (the coarsest level's Π(n), the
    ratio checks' pairs, the held-out and exponent ratios, the direct checks), for
    ``--extend``; None if there is no such table. The values are the solves' own, so the
    table made from them is the one a fresh run makes."""
    if not path.exists():
        return None
    prior = load_table(path).provenance
    anchored_to = base.provenance.get("anchored_to")  # (None: base is the anchor itself)
    coarsest, ratio = (np.asarray(prior.get(k, []), dtype=float) for k in ("coarsest", "ratio"))
    anchor_coarsest = np.asarray(base.provenance["coarsest"], dtype=float)
    if (prior.get("levels") != [level] or prior.get("options") != base.provenance["options"]
            or anchored_to is not None or prior.get("anchored_to") != anchor_name
            or coarsest.shape != anchor_coarsest.shape
            or not np.allclose(coarsest / ratio, anchor_coarsest, rtol=1e-12, atol=0.0)):
        raise SystemExit(f"--extend: {path} was not anchored to today's {anchor_name} (other "
                         "axes, levels, mesh options or anchor values): make it afresh "
                         "(--resume DIR keeps the solves)")
    return {"coarsest": coarsest,
            "checks": {tuple(c["point"]): (c["solved"][1], c["anchor"][1])
                       for c in prior["ratio_checks"]},
            "held_out": {tuple(c["point"]): c["ratio"] for c in prior["held_out"]},
            "exponent": {tuple(c["point"]): c["ratio"]
                         for c in prior.get("exponent_checks", [])},
            "direct": prior.get("direct_checks"), "seconds": prior.get("seconds")}


def make_anchored(name: str, params: CreepParameters, cache: Path | None, *,
                  extend: bool = False) -> None:
    """Write the rounded table ``name`` at ``params``' exponent n, anchored to the shipped
    table at the default n: each entry Π(6.56) · R, R = Π(n)/Π(6.56) on the coarsest level
    of the shipped table's creep levels (its recorded ``coarsest`` values; Π(n) solved on
    the same mesh with the same currents). The ratio's error is measured at the shipped
    table's band-check points one level finer and at ``RATIO_CHECKS`` (``ratio_checks``: R
    there, solved, against R at the coarsest level), modelled per entry by
    :func:`ratio_error_model` and added, relative, to the anchor's error. Held-out points: R
    solved there (both exponents, coarsest level) times the anchor table's held-out solve,
    against the lookup. ``extend``: take what the table being replaced solved from it."""
    if name not in ANCHORED_TABLES:
        raise SystemExit(f"--anchored: {name} is not one of {', '.join(ANCHORED_TABLES)}")
    spec = TABLES[name]
    anchor = replace(params, stress_exponent=CreepParameters().stress_exponent)
    base = load_table(table_path(name, anchor))
    level = int(base.provenance["levels"][0])
    coarse = np.asarray(base.provenance["coarsest"], dtype=float)
    prior = (_prior_anchored(table_path(name, params), base, table_path(name, anchor).name,
                             level) if extend else None)
    s = spec.period
    ks = [float(k) for k in base.kinetic_over_period]
    spent: list[float] = []
    t0 = time.perf_counter()

    def at_coarsest(a: float, r: float, k: list[float], p: CreepParameters) -> np.ndarray:
        return cached_entries(cache, spec.factory(a * s, s, r * s), k, p, [level],
                              floor=False, options=spec.options, spent=spent)[0]

    if prior is not None:
        solved = prior["coarsest"]
    else:
        solved = np.empty_like(coarse)
        for i, a in enumerate(base.aspect):
            for j, r in enumerate(base.edge_radius_over_s):
                solved[i, j] = at_coarsest(a, r, ks, params)
                logging.info("%s n = %g: H/S %.4g, r/S %.4g: ratio %s", name,
                             params.stress_exponent, a, r, np.round(solved[i, j] / coarse[i, j], 4))
    ratio = solved / coarse
    checks = []
    known = {tuple(c["point"]): c["values"][0] for c in base.provenance["band_checks"]
             if c["divisions"] == level + 1}  # a check's first band level is the table's mesh
    for a, r, k in [*known, *RATIO_CHECKS[name]]:
        design = spec.factory(a * s, s, r * s)
        i, j, m = _grid_node(base, a, r, k)
        if prior is not None and (a, r, k) in prior["checks"]:
            fine, at_anchor = prior["checks"][(a, r, k)]
        else:
            fine = cached_entries(cache, design, [k], params, [level + 1], floor=False,
                                  options=spec.options, spent=spent)[0][0]
            at_anchor = known.get((a, r, k))
            if at_anchor is None:
                at_anchor = cached_entries(cache, design, [k], anchor, [level + 1],
                                           floor=False, options=spec.options, spent=spent)[0][0]
        pair_n, pair_anchor = [solved[i, j, m], fine], [coarse[i, j, m], at_anchor]
        checks.append({"point": [a, r, k], "levels": [level, level + 1],
                       "solved": [float(v) for v in pair_n],
                       "anchor": [float(v) for v in pair_anchor],
                       "ratio": [float(x / y) for x, y in zip(pair_n, pair_anchor,
                                                              strict=True)]})
        logging.info("ratio check %s: %s", (a, r, k), np.round(checks[-1]["ratio"], 5))
    moves = np.abs(base.pressure_factor / coarse - 1.0)
    model = ratio_error_model(checks, moves, base)
    eps = model_ratio_error(model, moves)
    pi = base.pressure_factor * ratio
    err = base.pressure_factor_error * ratio + pi * eps
    table = replace(base, creep=creep_key(params), pressure_factor=pi,
                    pressure_factor_error=err,
                    generator="scripts/make_pressure_tables.py --anchored")
    held = []
    for c in base.provenance["held_out"]:
        a, r, k = c["point"]
        if prior is not None and (a, r, k) in prior["held_out"]:
            q = prior["held_out"][(a, r, k)]
        else:
            at = [at_coarsest(a, r, [k], p)[0] for p in (params, anchor)]
            q = at[0] / at[1]
        e = _cell_max(base, eps, a, r, k)
        look, look_err = table.interpolate(a, k, r)  # as a prediction gets it
        held.append({"point": [a, r, k], "ratio": float(q),
                     "solved": float(c["solved"] * q),
                     "solved_error": float(c["solved_error"] * q + c["solved"] * q * e),
                     "table": look, "table_error": look_err})
        logging.info("held-out %s: solved %.4g, table %.4g +- %.2g", (a, r, k),
                     held[-1]["solved"], look, look_err)
    direct = (prior["direct"] if prior is not None and prior["direct"] is not None
              else direct_checks(name, params, cache, spent))
    for c in direct:
        a, r, k = c["point"]
        c["table"], c["table_error"] = table.interpolate(a, k, r)
        logging.info("direct check %s: solved %.4g +- %.2g, table %.4g +- %.2g", (a, r, k),
                     c["solved"], c["solved_error"], c["table"], c["table_error"])
    from importlib.metadata import version

    provenance = {"version": version("templater"), "anchored_to": table_path(name, anchor).name,
                  "levels": [level], "options": base.provenance["options"],
                  "coarsest": solved.tolist(), "ratio": ratio.tolist(),
                  "ratio_error": eps.tolist(), "ratio_error_model": model,
                  "ratio_checks": checks, "held_out": held, "direct_checks": direct,
                  "band_checks": base.provenance["band_checks"],
                  "reference_period_um": s, "current_density_a_m2":
                      base.provenance.get("current_density_a_m2"),
                  "seconds": round(math.fsum(spent)) if math.isfinite(math.fsum(spent))
                  else None}
    if prior is not None and provenance["seconds"] is not None:  # the earlier table's solves
        provenance["seconds"] = (None if prior["seconds"] is None
                                 else prior["seconds"] + provenance["seconds"])
    table = replace(table, provenance=provenance)
    path = table_path(name, params)
    save_table(table, path)
    checks_n = ANCHORED_EXPONENT_CHECKS.get(params.stress_exponent, [])
    if checks_n:  # held-out exponents between n and the anchor
        load_tables.cache_clear()  # the table just written joins the family
        exponent = []
        for n_check, a, r, k in checks_n:
            at_n = replace(params, stress_exponent=n_check)
            design = spec.factory(a * s, s, r * s)
            i, j, m = _grid_node(base, a, r, k)
            if prior is not None and (n_check, a, r, k) in prior["exponent"]:
                q = prior["exponent"][(n_check, a, r, k)]
            else:
                q = at_coarsest(a, r, [k], at_n)[0] / coarse[i, j, m]
            value = float(base.pressure_factor[i, j, m] * q)
            look, look_err = lookup_pressure_factor(design, um_to_m(k * s), at_n)
            exponent.append({"point": [n_check, a, r, k], "ratio": float(q), "solved": value,
                             "solved_error": float(base.pressure_factor_error[i, j, m] * q
                                                   + value * eps[i, j, m]),
                             "table": look, "table_error": look_err})
            logging.info("exponent check %s: solved %.4g, tables %.4g +- %.2g",
                         (n_check, a, r, k), value, look, look_err)
        table = replace(table, provenance={**provenance, "exponent_checks": exponent})
        save_table(table, path)
    logging.info("wrote %s (ratio error %.2g-%.2g %%, %.0f s)", path, 100 * eps.min(),
                 100 * eps.max(), time.perf_counter() - t0)


def refresh_anchored(name: str, params: CreepParameters, cache: Path | None) -> None:
    """Derive every anchored table of ``name`` at ``ANCHORED_EXPONENTS`` again from the solves
    it records (a check it does not record is solved, kept in ``cache``): a held-out
    exponent's lookup interpolates across the whole exponent family, so it changes when a
    member is added or remade."""
    load_tables.cache_clear()
    for n in ANCHORED_EXPONENTS:
        at = replace(params, stress_exponent=n)
        if table_path(name, at).exists():
            make_anchored(name, at, cache, extend=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TABLES), action="append")
    parser.add_argument("--divisions", type=int, help="finest creep level (default per table)")
    parser.add_argument("--band-checks", action="store_true",
                        help="only add the band checks to the existing rounded tables")
    parser.add_argument("--stress-exponent", type=float,
                        help="creep exponent n of the tables (default: the shipped 6.56); "
                             f"the product egg-box family also has n = {EGGBOX_EXPONENTS}")
    parser.add_argument("--slip", choices=("noslip", "freeslip"),
                        help="interface condition of the tables (default: the bonded noslip)")
    parser.add_argument("--exponent-checks", action="store_true",
                        help="only add the held-out exponent checks to the egg-box table")
    parser.add_argument("--plateau-checks", action="store_true",
                        help="only add the held-out top fractions to the frustum tables "
                             "(upright; with --only frustum-inverted, inverted)")
    parser.add_argument("--anchored", action="store_true",
                        help="the rounded tables (pyramid, frustum; or --only) at "
                             f"--stress-exponent (default {ANCHORED_EXPONENTS}), anchored to "
                             "the shipped n = 6.56 tables")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="keep every grid design's solves (and the band checks') in DIR "
                             "and reuse those found there (an interrupted run continues; clear "
                             "DIR after changing the solver)")
    parser.add_argument("--extend", action="store_true",
                        help="take the rows (H/S) and held-out points the shipped table already "
                             "has from it and solve only the new ones (same axes otherwise, "
                             "levels and mesh options); with --anchored, every solve the "
                             "shipped anchored table records")
    parser.add_argument("--coarse-band", action="store_true",
                        help="rounded tables with the default creep mesh (one element across "
                             "the rounding band) at levels 3-5 (the shipped pyramid table)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("skfem").setLevel(logging.WARNING)
    TABLE_DIR.mkdir(exist_ok=True)
    params = CreepParameters(transition_stress_pa=0.0)
    if args.stress_exponent is not None:
        params = replace(params, stress_exponent=args.stress_exponent)
    if args.slip is not None:
        params = replace(params, slip=args.slip)
    if args.exponent_checks:
        add_exponent_checks(params, args.divisions)
        return
    if args.anchored:
        exponents = ([args.stress_exponent] if args.stress_exponent is not None
                     else ANCHORED_EXPONENTS)
        for name in args.only or ANCHORED_TABLES:
            for n in exponents:
                make_anchored(name, replace(params, stress_exponent=n), args.resume,
                              extend=args.extend)
            refresh_anchored(name, params, args.resume)
        return
    if args.plateau_checks:
        for family in [n for n in args.only or ["frustum"] if n in PLATEAU_FAMILIES]:
            add_plateau_checks(params, args.resume, family=family)
        return
    if args.band_checks:
        for name in args.only or sorted(BAND_CHECKS):
            add_band_checks(name, params, cache=args.resume)
        return
    if args.coarse_band:
        for name in BAND_CHECKS:
            TABLES[name] = replace(TABLES[name], divisions=5, options=CreepOptions())
    for name in args.only or sorted(TABLES):
        make(name, params, args.divisions, args.resume, extend=args.extend)
    if args.only is None and args.stress_exponent is None and args.slip is None:  # all shipped
        for n in EGGBOX_EXPONENTS:
            make("eggbox", replace(params, stress_exponent=n), args.divisions, args.resume)
        add_exponent_checks(params, args.divisions)
        for family in PLATEAU_FAMILIES:
            add_plateau_checks(params, args.resume, family=family)
        for name in ANCHORED_TABLES:  # after their anchors
            for n in ANCHORED_EXPONENTS:
                make_anchored(name, replace(params, stress_exponent=n), args.resume)
            refresh_anchored(name, params, args.resume)


def table_path(name: str, params: CreepParameters) -> Path:
    """The file of table ``name`` (a key of ``TABLES``) at ``params``' n and slip."""
    stem = name.replace("-", "_")
    return TABLE_DIR / f"{stem}_n{params.stress_exponent:g}_{params.slip}.npz"


def make(name: str, params: CreepParameters, divisions: int | None,
         cache: Path | None = None, *, extend: bool = False) -> None:
    """Generate and write one table of ``TABLES`` at ``params`` (``extend``: reuse the rows of
    the table file it replaces)."""
    spec = TABLES[name]
    if name == "eggbox" and params.stress_exponent != CreepParameters().stress_exponent:
        spec = replace(spec, **EGGBOX_FAMILY_RECIPE)
    path = table_path(name, params)
    reuse = None
    if extend:
        if not path.exists():
            raise SystemExit(f"--extend: {path} does not exist")
        reuse = load_table(path)
    t0 = time.perf_counter()
    table = generate_table(spec.factory, spec.aspects, spec.kinetic, params,
                           divisions=divisions or spec.divisions, radii=spec.radii,
                           held_out=spec.held_out, options=spec.options, cache=cache,
                           period_um=spec.period, reuse=reuse, level_count=spec.levels,
                           extrapolate=spec.extrapolate)
    earlier = []  # band checks of the file being replaced (their solves can be reused)
    if name in BAND_CHECKS and path.exists():
        earlier = load_table(path).provenance.get("band_checks", [])
    # the plateau checks that interpolate this table (recorded in its family's frustum table)
    family = next((f for f, (_, members, _) in PLATEAU_FAMILIES.items() if name in members),
                  None)
    # the held-out exponent points the default egg-box table records (their lookups change
    # with any member of the family)
    default_n = replace(params, stress_exponent=CreepParameters().stress_exponent)
    exponent = []
    if name == "eggbox" and table_path(name, default_n).exists():
        exponent = load_table(table_path(name, default_n)).provenance.get("exponent_checks", [])
    plateau = []
    if family is not None and table_path(family, params).exists():
        plateau = load_table(table_path(family, params)).provenance.get("plateau_checks", [])
    save_table(table, path)
    logging.info("wrote %s (%d entries, %.0f s)", path, table.pressure_factor.size,
                 time.perf_counter() - t0)
    if name in BAND_CHECKS:
        add_band_checks(name, params, reuse=earlier, cache=cache)
    if plateau:  # recomputes their interpolation
        add_plateau_checks(params, cache, reuse=plateau, family=family)
    if exponent:  # likewise
        add_exponent_checks(default_n, reuse=exponent)


if __name__ == "__main__":
    main()
