"""The ``templater`` command line: a thin click layer over the library (the only click importer).

Usage errors (bad values, unknown names, refused output folders) print one ``Error:`` line and
exit with status 2.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from templater import __version__
from templater.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.outputs import check_output_dir
from templater.presets import load_preset, preset_names, printer_names
from templater.registry import KINDS, make_design, suggest
from templater.surfaces import SURFACES, Surface, parameter_specs
from templater.units import ma_cm2_to_a_m2, mpa_to_pa

__all__ = ["main"]


class UsageFail(click.ClickException):
    """A one-line usage error with exit status 2."""

    exit_code = 2


def _spec_help(kind_field: str) -> str:
    """Help text from the surface definition: range, unit and the kinds that use it."""
    parts, kinds = "", []
    for kind, cls in SURFACES.items():
        spec = parameter_specs(cls).get(kind_field)
        if spec is None:
            continue
        kinds.append(kind)
        if not parts:
            if "choices" in spec:
                parts = f"{spec['help']}"
            else:
                lo, hi = spec["range"]
                lo_open, hi_open = spec.get("open", (False, False))
                rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
                unit = f" {spec['unit']}" if spec["unit"] else ""
                parts = f"{spec['help']}, {rng}{unit}"
    return f"{parts} ({', '.join(kinds)})"


_DESIGN_FLAGS = {
    "height_um": "--H",
    "period_um": "--S",
    "form": "--form",
    "top_fraction": "--top-fraction",
    "edge_radius_um": "--edge-radius",
}


def _apply(decorators: list[Callable[..., Any]], func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply click option decorators in listed order (first listed = first in --help)."""
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def design_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """KIND argument, --preset and the design parameters, shared by ``make`` and ``predict``."""
    opts = [
        click.argument("kind", required=False, metavar="[KIND]"),
        click.option("--preset", "preset", metavar="NAME",
                     help="Named design from templates/designs (see `templater list`); "
                          "explicit flags override its values."),
        click.option("--H", "height_um", type=float,
                     help="Peak-to-trough height H, (0, 280] um, H/S <= 2."),
        click.option("--S", "period_um", type=float,
                     help="Lateral period S (peak separation), [2, 5000] um."),
        click.option("--form", "form", type=str, help="Egg-box variant: product (default) | sum."),
        click.option("--top-fraction", "top_fraction", type=float,
                     help=_spec_help("top_fraction") + "; default 0.5."),
        click.option("--edge-radius", "edge_radius_um", type=float,
                     help=_spec_help("edge_radius_um") + "; default 0."),
        click.option("--invert", "invert", is_flag=True, default=None,
                     help="Opposite relief: electrolyte pits instead of peaks (e -> H - e)."),
    ]
    return _apply(opts, func)


def build_design(kind: str | None, preset: str | None, values: dict[str, Any]) -> Surface:
    """Design from a preset and/or a kind plus explicit flag values (usage errors on misuse)."""
    params: dict[str, Any] = {}
    if preset is not None:
        try:
            base = load_preset(preset).design
        except DesignError as exc:
            names = preset_names()
            raise UsageFail(f"unknown preset {preset!r}{suggest(preset, names)}; "
                            "`templater list` shows the presets") from exc
        if kind is not None and kind != base.kind:
            raise UsageFail(f"preset {preset!r} is a {base.kind} design, not {kind!r}")
        kind = base.kind
        params = {k: v for k, v in base.to_dict().items() if k not in ("kind", "H_um", "S_um")}
        if kind != "flat":
            params["height_um"] = base.height_um
        params["period_um"] = base.period_um
    if kind is None:
        raise UsageFail(f"give a design KIND ({' | '.join(KINDS)}) or --preset NAME")
    if kind not in SURFACES:
        raise UsageFail(f"unknown design kind {kind!r}{suggest(kind, KINDS)}; "
                        f"allowed: {' | '.join(KINDS)}")
    specs = parameter_specs(SURFACES[kind])
    for name, value in values.items():
        if value is None:
            continue
        if name != "invert" and name not in specs:
            raise UsageFail(f"{_DESIGN_FLAGS[name]} does not apply to {kind} designs")
        params[name] = value
    required = {f.name for f in dataclasses.fields(SURFACES[kind])
                if f.default is dataclasses.MISSING}
    missing = [f for f in ("height_um", "period_um") if f in required and f not in params]
    if missing:
        raise UsageFail(f"{kind} needs " + " and ".join(_DESIGN_FLAGS[m] for m in missing)
                        + " (micrometres), or --preset NAME")
    try:
        return make_design(kind, **params)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="templater")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Printable templates (STL) for contoured Li / solid-electrolyte interfaces.

    Geometry is in micrometres. The named contour is the electrolyte surface e(x, y); the
    template printed is its negative (top = base + H - e).

    \b
    Examples:
      templater make eggbox --H 25 --S 150
      templater make --preset pyramid-H25S150 --footprint circle
      templater list
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Material, creep and dendrite overrides (CLI units), shared by predict/make/calibrate."""
    opts = [
        click.option("--kappa", "kappa_ms_cm", type=float,
                     help="Electrolyte conductivity, mS/cm (default 2)."),
        click.option("--i0", "i0_ma_cm2", type=float,
                     help="Exchange current density, mA/cm^2 (default 2)."),
        click.option("--alpha-a", "alpha_a", type=float, help="Anodic transfer coefficient "
                     "(default 0.5)."),
        click.option("--alpha-c", "alpha_c", type=float, help="Cathodic transfer coefficient "
                     "(default 0.5)."),
        click.option("--temperature", "temperature_k", type=float,
                     help="Temperature, K (default 298.15)."),
        click.option("--creep-A", "creep_a", type=float,
                     help="Li creep prefactor A, s^-1 MPa^-n (default 4.25e4, LePage 2019)."),
        click.option("--creep-n", "creep_n", type=float,
                     help="Li creep stress exponent n (default 6.56)."),
        click.option("--creep-Q", "creep_q_kj_mol", type=float,
                     help="Li creep activation energy, kJ/mol (default 37)."),
        click.option("--stack-pressure", "stack_pressure_mpa", type=float,
                     help="Stack pressure, MPa (default 7)."),
        click.option("--slip", "slip", type=click.Choice(["noslip", "freeslip"]),
                     help="Li/electrolyte interface for creep: bonded (default) or free slip."),
        click.option("--flat-ccd", "flat_ccd_ma_cm2", type=float,
                     help="Measured critical current of a flat interface J_flat, mA/cm^2 "
                          "(default 1.0, a placeholder)."),
        click.option("--pressure-margin", "pressure_margin_mpa", type=float,
                     help="Dendrite pressure margin dP_margin = P_c - p_stack, MPa (default "
                          "6.67, calibrated by examples/calibrate_defaults.py)."),
        click.option("--growth-exponent", "growth_exponent", type=float,
                     help="Dendrite growth exponent n_g (default 2, calibrated by "
                          "examples/calibrate_defaults.py)."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path),
                     help="Calibration TOML written by `templater calibrate`."),
    ]
    return _apply(opts, func)


def model_inputs(kw: dict[str, Any]) -> tuple[Any, Any, Any, str]:
    """(Materials, CreepParameters, DendriteConstants, calibration label) from CLI values."""
    from dataclasses import replace

    from solver.calibration import load_calibration
    from solver.creep_params import CreepParameters
    from solver.materials import Materials
    from solver.prediction import default_constants

    try:
        materials = Materials.from_cli_units(
            kappa_ms_cm=kw.get("kappa_ms_cm"), i0_ma_cm2=kw.get("i0_ma_cm2"),
            alpha_a=kw.get("alpha_a"), alpha_c=kw.get("alpha_c"),
            temperature_k=kw.get("temperature_k"))
        creep: dict[str, Any] = {}
        if kw.get("creep_a") is not None:
            creep["prefactor_s_mpa_n"] = kw["creep_a"]
        if kw.get("creep_n") is not None:
            creep["stress_exponent"] = kw["creep_n"]
        if kw.get("creep_q_kj_mol") is not None:
            creep["activation_energy_j_mol"] = kw["creep_q_kj_mol"] * 1e3
        if kw.get("stack_pressure_mpa") is not None:
            creep["stack_pressure_pa"] = mpa_to_pa(kw["stack_pressure_mpa"])
        if kw.get("slip") is not None:
            creep["slip"] = kw["slip"]
        if kw.get("temperature_k") is not None:
            creep["temperature_k"] = kw["temperature_k"]
        params = CreepParameters(**creep)
        label = "default"
        constants = default_constants()
        if kw.get("calibration") is not None:
            constants = load_calibration(kw["calibration"])
            label = str(kw["calibration"])
        over: dict[str, Any] = {}
        if kw.get("flat_ccd_ma_cm2") is not None:
            over["flat_critical_current_a_m2"] = ma_cm2_to_a_m2(kw["flat_ccd_ma_cm2"])
        if kw.get("pressure_margin_mpa") is not None:
            over["pressure_margin_pa"] = mpa_to_pa(kw["pressure_margin_mpa"])
        if kw.get("growth_exponent") is not None:
            over["growth_exponent"] = kw["growth_exponent"]
        if over:
            constants = replace(constants, **over)
            label = f"{label} + overrides" if label != "default" else "default + overrides"
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise UsageFail(str(exc)) from exc
    return materials, params, constants, label


def prediction_lines(pred: Any) -> list[str]:
    """Human-readable summary of a :class:`solver.prediction.Prediction`."""
    f = pred.field
    lines = [f"{pred.design.name}: area ratio A/A0 = {f.area_ratio:.5f}"]
    for label, res in (("primary", f.primary), ("with kinetics", f.secondary)):
        if res is None:
            continue
        extra = f", edge radius {res.edge_radius_um:g} um" if res.edge_radius_um else ""
        err = res.error_estimate
        err_txt = f", est. error {err:.1e}" if err == err else ""
        lines.append(f"  max local current / J ({label}): {res.max_current_ratio:.4f} "
                     f"(min {res.min_current_ratio:.4f}; {res.method}{err_txt}{extra})")
    lines.append(f"  max excess Li pressure at 1 mA/cm^2: {pred.max_excess_pressure_pa / 1e6:.3f} "
                 f"MPa (Pi = {pred.pressure_factor:.4g}, {pred.pressure_source})")
    c = pred.constants
    lines.append(f"  predicted critical current: {pred.critical_current_a_m2 / 10:.3g} mA/cm^2 "
                 f"({pred.critical_current_ratio:.3g} x flat; calibration: {pred.calibration}; "
                 f"J_flat {c.flat_critical_current_a_m2 / 10:.3g} mA/cm^2)")
    if pred.coupling_current_change is not None:
        lines.append(f"  pressure-kinetics coupling changed the max current by "
                     f"{100 * pred.coupling_current_change:+.3f} %")
    lines.append(f"  solve time {pred.solve_time_s:.2f} s")
    return lines


@main.command("make")
@design_options
@click.option("--size", "size_um", type=float,
              help="Footprint side (square) or diameter (circle), [10, 100000] um; default: the "
                   "whole number of periods closest to 3000 um.")
@click.option("--footprint", "footprint", type=click.Choice(["square", "circle"]),
              default="square", show_default=True, help="Footprint shape.")
@click.option("--base", "base_um", type=float, default=10.0, show_default=True,
              help="Solid base-plate thickness, [0.5, 1000] um.")
@click.option("--tolerance", "tolerance_um", type=float, default=0.1, show_default=True,
              help="Max deviation of curved surfaces from the analytic one, [0.001, 10] um.")
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder (default ./<kind>-H<H>S<S>/).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--no-predict", is_flag=True,
              help="Skip the predicted critical current (prediction.json).")
@click.option("--format", "out_format", type=click.Choice(["stl", "gwl", "both"]),
              default="both", show_default=True,
              help="Write the STL (+ DeScribe recipe), the GWL job, or both.")
@click.option("--dry-run", is_flag=True,
              help="Plan the job and print the summary (layers, blocks, write length, "
                   "estimated print time, sizes); write nothing.")
@model_options
def make_cmd(kind: str | None, preset: str | None, height_um: float | None,
             period_um: float | None, form: str | None, top_fraction: float | None,
             edge_radius_um: float | None, invert: bool | None, size_um: float | None,
             footprint: str, base_um: float, tolerance_um: float, out_dir: Path | None,
             overwrite: bool, no_predict: bool, out_format: str = "both",
             dry_run: bool = False, **model: Any) -> None:
    """Write the template of a design: NAME.stl, design.json, prediction.json and the GWL
    print job.

    The GWL job (NAME_job.gwl, NAME_files/, NAME_job.json) is sliced, hatched and stitched
    for the printer profile; NAME.recipe carries the same settings for DeScribe.

    KIND is one of flat, eggbox, pyramid, frustum (or use --preset NAME).
    """
    from templater.job import TemplateOptions

    design = build_design(kind, preset, {
        "height_um": height_um, "period_um": period_um, "form": form,
        "top_fraction": top_fraction, "edge_radius_um": edge_radius_um, "invert": invert,
    })
    out_dir = out_dir or Path(design.name)
    t0 = time.perf_counter()
    if dry_run:
        try:
            options = TemplateOptions.for_design(design, shape=footprint, size_um=size_um,
                                                 base_um=base_um, tolerance_um=tolerance_um)
            _make_dry_run(design, options, out_format)
        except DesignError as exc:
            raise UsageFail(str(exc)) from exc
        except TemplaterError as exc:
            raise click.ClickException(str(exc)) from exc
        return
    extra = []
    pred = None
    try:  # refuse a bad output folder before spending time on the prediction
        check_output_dir(out_dir, overwrite=overwrite)
    except (OutputExistsError, OutputError) as exc:
        raise UsageFail(str(exc)) from exc
    if not no_predict:
        from solver.prediction import predict, prediction_writer

        materials, params, constants, label = model_inputs(model)
        try:
            pred = predict(design, materials, params, constants, calibration=label)
        except TemplaterError as exc:
            raise click.ClickException(str(exc)) from exc
        extra.append(prediction_writer(pred))
    try:
        options = TemplateOptions.for_design(design, shape=footprint, size_um=size_um,
                                             base_um=base_um, tolerance_um=tolerance_um)
        job = _make_outputs(design, out_dir, options, overwrite=overwrite,
                            out_format=out_format, extra=extra)
    except (DesignError, OutputExistsError, OutputError) as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    s = job.summary
    fp = options.footprint
    click.echo(f"{design.name}: {fp.shape} footprint {fp.size_um:g} um, base {base_um:g} um, "
               f"area ratio A/A0 = {design.area_ratio():.5f}")
    if "stl_bytes" in s:
        click.echo(f"STL: {s['facets']} facets, {s['stl_bytes'] / 1e6:.1f} MB")
    if "gwl_bytes" in s:
        stl = f"STL {s['stl_bytes'] / 1e6:.1f} MB, " if "stl_bytes" in s else ""
        click.echo(f"sizes on disk: {stl}GWL job {s['gwl_bytes'] / 1e6:.1f} MB")
    if pred is not None:
        click.echo(f"predicted critical current: {pred.critical_current_a_m2 / 10:.3g} mA/cm^2 "
                   f"({pred.critical_current_ratio:.3g} x flat; calibration: {pred.calibration})")
    click.echo(f"wrote {out_dir}/ ({', '.join(p.name for p in job.files)}) "
               f"in {time.perf_counter() - t0:.1f} s")


def _gwl_lines(plan: Any) -> list[str]:
    """Summary lines of a planned GWL job (layers, blocks, write length, estimated time)."""
    from templater.gwl_writer import format_duration

    t, e = plan.totals, plan.estimate
    return [
        f"GWL: {len(plan.layer_heights_um)} layers, blocks {t['distinct_blocks']} distinct / "
        f"{t['placements']} placed (pitch {plan.grid.pitch_um:g} um), write length "
        f"{t['write_length_um'] / 1e6:.1f} m in {t['polylines']} lines",
        f"estimated print time: {format_duration(e['total_s'])} (write {e['write_s']:.0f} s "
        f"+ lines {e['lines_s']:.0f} s + layers {e['layers_s']:.0f} s + blocks "
        f"{e['blocks_s']:.0f} s)",
    ]


def _make_dry_run(design: Surface, options: Any, out_format: str) -> None:
    """``make --dry-run``: plan (no files) and print the summary."""
    from templater.gwl_writer import plan_gwl, planned_sizes

    plan = plan_gwl(design, options)
    sizes = planned_sizes(plan, design, options, version=__version__)
    click.echo(f"{design.name}: dry run, nothing written")
    if out_format != "stl":
        for line in _gwl_lines(plan):
            click.echo(line)
    stl = f"STL {sizes['stl'] / 1e6:.1f} MB" if out_format != "gwl" else ""
    gwl = f"GWL job ~{sizes['gwl'] / 1e6:.1f} MB" if out_format != "stl" else ""
    click.echo("sizes on disk: " + ", ".join(x for x in (stl, gwl) if x))


def _make_outputs(design: Surface, out_dir: Path, options: Any, *, overwrite: bool,
                  out_format: str, extra: list[Any]) -> Any:
    """Write the chosen outputs; the GWL estimate is printed before anything is written."""
    from templater.gwl_writer import GwlWriter, RecipeWriter, plan_gwl, write_gwl_job
    from templater.job import write_job
    from templater.mesh import build_template_mesh

    if out_format == "stl":
        return write_job(design, out_dir, options=options, overwrite=overwrite,
                         version=__version__, extra=[*extra, RecipeWriter()])
    mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                               tolerance_um=options.tolerance_um)  # built once, used twice
    plan = plan_gwl(design, options, mesh=mesh)
    for line in _gwl_lines(plan):
        click.echo(line)
    if out_format == "gwl":
        return write_gwl_job(design, out_dir, options=options, overwrite=overwrite,
                             version=__version__, plan=plan, extra=extra, mesh=mesh)
    return write_job(design, out_dir, options=options, overwrite=overwrite, version=__version__,
                     extra=[*extra, GwlWriter(version=__version__, plan=plan)], mesh=mesh)


@main.command("check")
@click.argument("folder", type=click.Path(path_type=Path))
def check_cmd(folder: Path) -> None:
    """Check a job folder independently of the writer (exit 0 clean, 1 problems).

    Re-reads NAME.stl (watertight, matching design.json) and replays the GWL job: includes,
    header, field limits, bounds and per-layer coverage against the STL's cross-sections,
    write length and print time against NAME_job.json. Each problem is printed on its own line.
    """
    from templater.check import check_job

    try:
        problems = check_job(folder)
    except TemplaterError as exc:
        problems = [str(exc)]
    for line in problems:
        click.echo(line)
    if problems:
        raise SystemExit(1)
    click.echo(f"{folder}: OK")


@main.command("predict")
@design_options
@model_options
@click.option("--field-only", is_flag=True,
              help="Only the current distribution (primary and with kinetics), no creep.")
@click.option("--no-tables", is_flag=True,
              help="Solve the creep problem even when a shipped table covers the design.")
@click.option("--couple", is_flag=True,
              help="Iterate the pressure -> exchange-current coupling (Monroe-Newman; slow).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema: README).")
def predict_cmd(kind: str | None, preset: str | None, height_um: float | None,
                period_um: float | None, form: str | None, top_fraction: float | None,
                edge_radius_um: float | None, invert: bool | None, field_only: bool,
                no_tables: bool, couple: bool, as_json: bool, **model: Any) -> None:
    """Predict the current distribution, Li pressure and critical current of a design.

    KIND is one of flat, eggbox, pyramid, frustum (or use --preset NAME).
    """
    import json

    from solver.field import solve_field
    from solver.prediction import predict

    design = build_design(kind, preset, {
        "height_um": height_um, "period_um": period_um, "form": form,
        "top_fraction": top_fraction, "edge_radius_um": edge_radius_um, "invert": invert,
    })
    materials, params, constants, label = model_inputs(model)
    t0 = time.perf_counter()
    try:
        if field_only:
            pair = solve_field(design, materials)
            data = pair.to_json_dict()
            data["solve_time_s"] = time.perf_counter() - t0
            if as_json:
                click.echo(json.dumps(data, indent=2, sort_keys=True))
                return
            for res, label_ in ((pair.primary, "primary"), (pair.secondary, "with kinetics")):
                click.echo(f"{design.name} max local current / J ({label_}): "
                           f"{res.max_current_ratio:.4f} (min {res.min_current_ratio:.4f})")
            click.echo(f"area ratio A/A0 = {pair.area_ratio:.5f}; "
                       f"solve time {data['solve_time_s']:.2f} s")
            return
        pred = predict(design, materials, params, constants, calibration=label,
                       use_tables=not no_tables, couple=couple)
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(pred.to_json_dict(), indent=2, sort_keys=True))
    else:
        for line in prediction_lines(pred):
            click.echo(line)


@main.command("calibrate")
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path),
              default=Path("calibration.toml"), show_default=True,
              help="Calibration TOML to write (use it with --calibration).")
@click.option("--overwrite", is_flag=True, help="Replace an existing calibration file.")
@click.option("--fix-growth-exponent", is_flag=True,
              help="Fit only J_flat and the pressure margin (n_g stays at its current value).")
@click.option("--no-tables", is_flag=True, help="Always solve the creep problem.")
@model_options
def calibrate_cmd(measurements: Path, out_path: Path, overwrite: bool,
                  fix_growth_exponent: bool, no_tables: bool, **model: Any) -> None:
    """Fit J_flat, the pressure margin and n_g to measured critical currents.

    MEASUREMENTS is a CSV with a header: ccd_mA_cm2 and either preset or kind, H_um, S_um
    (optional form, top_fraction, edge_radius_um, invert). One row per measured cell.
    """
    from solver.calibration import fit_dendrite_constants, write_calibration
    from solver.prediction import predict
    from templater.measurements import read_measurements

    if out_path.exists() and not overwrite:
        raise UsageFail(f"calibration file {str(out_path)!r} already exists; pass --overwrite "
                        "to replace it")
    materials, params, constants, label = model_inputs(model)
    try:
        rows = read_measurements(measurements)
    except TemplaterError as exc:
        raise UsageFail(str(exc)) from exc
    m_values, p_values, measured = [], [], []
    for row in rows:
        try:
            pred = predict(row.design, materials, params, constants,
                           use_tables=not no_tables)
        except TemplaterError as exc:
            raise click.ClickException(f"{measurements}:{row.line}: {exc}") from exc
        m_values.append(pred.max_current_ratio)
        p_values.append(pred.max_excess_pressure_pa)
        measured.append(row.critical_current_a_m2)
        click.echo(f"line {row.line}: {row.design.name}: m = {pred.max_current_ratio:.4f}, "
                   f"dp_max(1 mA/cm^2) = {pred.max_excess_pressure_pa / 1e6:.3f} MPa, "
                   f"measured {row.critical_current_a_m2 / 10:.3g} mA/cm^2")
    try:
        fit = fit_dendrite_constants(m_values, p_values, measured,
                                     creep_exponent=params.stress_exponent,
                                     fit_growth_exponent=not fix_growth_exponent,
                                     initial=constants)
    except TemplaterError as exc:
        raise UsageFail(str(exc)) from exc
    c = fit.constants
    click.echo(f"J_flat = {c.flat_critical_current_a_m2 / 10:.4g} +- "
               f"{fit.flat_critical_current_std_a_m2 / 10:.2g} mA/cm^2")
    click.echo(f"pressure margin = {c.pressure_margin_pa / 1e6:.4g} +- "
               f"{fit.pressure_margin_std_pa / 1e6:.2g} MPa")
    if fit.growth_exponent_std is not None:
        click.echo(f"growth exponent n_g = {c.growth_exponent:.4g} +- "
                   f"{fit.growth_exponent_std:.2g}")
    click.echo(f"rms relative misfit {fit.rms_log_residual:.3g} over {fit.n_measurements} "
               f"measurements ({'converged' if fit.success else 'NOT converged'})")
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    try:
        write_calibration(fit, tmp, source=str(measurements))
        tmp.replace(out_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageFail(f"cannot write {str(out_path)!r}: {exc.strerror}") from exc
    click.echo(f"wrote {out_path} (use: templater predict ... --calibration {out_path})")


@main.command("list")
def list_cmd() -> None:
    """List design kinds, presets and printer profiles."""
    click.echo("kinds:")
    for kind, cls in SURFACES.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"  {kind:10s} {doc}")
    click.echo("presets:")
    for name in preset_names():
        click.echo(f"  {name:18s} {load_preset(name).provenance}")
    click.echo("printer profiles:")
    for name in printer_names():
        click.echo(f"  {name}")


if __name__ == "__main__":
    main()
