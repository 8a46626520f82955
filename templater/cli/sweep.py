"""``templater sweep``: J*/J_flat of every (H, S) of a grid, in parallel, with a resumable cache."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import click

from templater.cli.main import progress_enabled
from templater.cli.options import (
    Number,
    UsageFail,
    apply_options,
    model_from_cli,
    model_options,
    solver_options,
)
from templater.geometry.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.geometry.parameters import PARAMETERS, help_text
from templater.jobs.progress import Progress

__all__ = ["sweep_cmd"]


def _grid_help(name: str, example: str) -> str:
    return (f"{help_text(name, default=False)[:-1]}: start:stop:step (stop included when on "
            f"the grid) or a comma list, e.g. {example}.")


def _design_options(func: Any) -> Any:
    return apply_options([
        click.option("--H", "heights", required=True, metavar="RANGE",
                     help=_grid_help("height_um", "5:75:5")),
        click.option("--S", "periods", required=True, metavar="RANGE",
                     help=_grid_help("period_um", "30:300:10")),
        click.option("--form", "form", type=str,
                     metavar="[" + "|".join(PARAMETERS["form"].choices) + "]",
                     help=help_text("form")),
        click.option("--top-fraction", "top_fraction", type=Number("top_fraction"),
                     help=help_text("top_fraction")),
        click.option("--edge-radius", "edge_radius_um", type=Number("edge_radius_um"),
                     help=help_text("edge_radius_um")),
        click.option("--invert", "invert", is_flag=True, default=None,
                     help="Opposite relief: electrolyte pits instead of peaks (e -> H - e)."),
    ], func)


def _positive_int(flag: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1 or str(value).strip() != str(number):
        raise UsageFail(f"{flag} = {value!r} is not allowed; allowed: an integer >= 1 "
                        "(worker processes)")
    return number


def _hours(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        hours = float(value)
    except ValueError:
        hours = math.nan
    if not (hours > 0 and math.isfinite(hours)):
        raise UsageFail(f"--max-print-hours = {value!r} is not allowed; allowed: (0, inf) h")
    return hours


@click.command("sweep")
@click.argument("kind", metavar="KIND")
@_design_options
@model_options
@solver_options
@click.option("--no-print-time", is_flag=True,
              help="Skip planning each design's default 3 mm job (a few seconds per design).")
@click.option("--max-print-hours", "max_print_hours", metavar="HOURS",
              help="Printable only if the default job's estimated print time is at most this "
                   "(hours); drawn on the map.")
@click.option("--workers", "workers", metavar="N",
              help="Local worker processes (default: the number of cores; 1 = in this "
                   "process).")
@click.option("--scheduler", "scheduler", metavar="ADDRESS",
              help="Run on a Dask cluster: its scheduler address (tcp://host:8786) or "
                   "scheduler file (.json).")
@click.option("--cache", "cache", type=click.Path(path_type=Path), metavar="DIR",
              help="Cache folder of the predictions (default: the user cache folder, "
                   "templater/predictions).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("-o", "--output", "output", type=click.Path(path_type=Path), metavar="DIR",
              help="Output folder (default ./KIND-sweep/, e.g. ./eggbox-sweep/).")
@click.option("--overwrite", is_flag=True, help="Replace an output folder templater wrote.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def sweep_cmd(kind: str, heights: str, periods: str, no_tables: bool, couple: bool,
              no_print_time: bool, max_print_hours: str | None, workers: str | None,
              scheduler: str | None, cache: Path | None, no_cache: bool,
              output: Path | None, overwrite: bool, as_json: bool, **kw: Any) -> None:
    """Predict J*/J_flat of every (H, S) of a grid of one design KIND (eggbox, pyramid,
    frustum) and write sweep.csv, sweep.json and sweep.png.

    \b
    Examples:
      templater sweep eggbox --H 5:75:5 --S 30:300:10 --no-print-time
      templater sweep pyramid --H 10,25 --S 100:200:50 --edge-radius 1
      templater sweep eggbox --H 5:25:5 --S 100:300:50 --scheduler tcp://node1:8786
    """
    from templater.jobs.sweep import (
        SchedulerError,
        SweepSettings,
        check_design_options,
        check_folder,
        default_cache_dir,
        default_folder_name,
        parse_grid,
        run_sweep,
        summary,
        write_sweep,
    )

    options = {name: kw.pop(name) for name in ("form", "top_fraction", "edge_radius_um",
                                                "invert")}
    n_workers = _positive_int("--workers", workers)
    hours = _hours(max_print_hours)
    if n_workers is not None and scheduler is not None:
        raise UsageFail("--workers and --scheduler exclude each other (the cluster's workers "
                        "compute with --scheduler)")
    if cache is not None and no_cache:
        raise UsageFail("--cache and --no-cache exclude each other")
    if hours is not None and no_print_time:
        raise UsageFail("--max-print-hours needs the print times (drop --no-print-time)")
    try:
        design_options = check_design_options(kind, options)
        h_values = parse_grid(heights, "height_um", context=kind)
        s_values = parse_grid(periods, "period_um", context=kind)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc
    model = model_from_cli(kw)
    try:
        settings = SweepSettings(kind=kind, heights_um=h_values, periods_um=s_values,
                                 design_options=design_options, model=model,
                                 use_tables=not no_tables, couple=couple,
                                 print_time=not no_print_time, max_print_hours=hours)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc
    folder = output if output is not None else Path(default_folder_name(kind, design_options))
    cache_dir = None if no_cache else (cache if cache is not None else default_cache_dir())
    try:
        check_folder(folder, overwrite=overwrite)
        result = run_sweep(settings, workers=n_workers or os.cpu_count(), scheduler=scheduler,
                           cache=cache_dir, progress=Progress(progress_enabled()))
        files = write_sweep(result, folder, overwrite=overwrite)
    except (OutputExistsError, OutputError, SchedulerError) as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary(result, folder), indent=2, sort_keys=True))
        return
    click.echo(f"{kind} sweep: {result.designs} designs ({result.computed} computed, "
               f"{result.from_cache} from cache, {result.failed} failed) in "
               f"{result.wall_time_s:.1f} s [{result.runner}]")
    best = result.best
    if best is None:
        click.echo("no printable design succeeded: no optimum")
    else:
        err = best.critical_current_ratio_error
        hours_txt = "" if best.print_time_h is None else f", print {best.print_time_h:.1f} h"
        j_err = ("" if err is None else
                 f" ± {err * best.critical_current_mA_cm2 / best.critical_current_ratio:.1g}")
        click.echo(f"optimum: {best.name}  J*/J_flat = {best.critical_current_ratio:.4f}"
                   f"{'' if err is None else f' ± {err:.1g}'}  (J* "
                   f"{best.critical_current_mA_cm2:.3g}{j_err} mA/cm^2{hours_txt})")
        if result.contenders:
            click.echo(f"{len(result.contenders)} other printable design(s) within the error "
                       "bars (sweep.json, contenders)")
    if result.rejected_cache_entries:
        click.echo(f"{result.rejected_cache_entries} corrupt cache entries recomputed",
                   err=True)
    click.echo(f"wrote {files.folder}/ ({', '.join(files.files)})")
