"""``templater compare``: several designs side by side, with a bar chart of J*/J_flat."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from templater.cli.main import progress_enabled
from templater.cli.options import UsageFail, model_from_cli, model_options
from templater.geometry.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.jobs.progress import Progress

__all__ = ["compare_cmd"]


def _pm(value: float, error: float, fmt: str) -> str:
    return f"{value:{fmt}} ± {'?' if math.isnan(error) else format(error, '.1g')}"


@click.command("compare")
@click.argument("designs", nargs=-1, required=True, metavar="DESIGN...")
@click.option("--png", "png", type=click.Path(path_type=Path),
              help="Write a bar chart of J*/J_flat with error bars to this PNG file.")
@click.option("--overwrite", is_flag=True, help="Replace an existing PNG written earlier.")
@click.option("--no-print-time", is_flag=True,
              help="Skip planning each design's default 3 mm job (faster).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of a table.")
@model_options
def compare_cmd(designs: tuple[str, ...], png: Path | None, overwrite: bool,
                no_print_time: bool, as_json: bool, **kw: Any) -> None:
    """Compare designs side by side: J*/J_flat with its error, m, the excess Li pressure and
    the estimated print time of the default job.

    DESIGN is a preset (see `templater list`) or a design name as `make` writes it, e.g.
    eggbox-H25S150, eggbox-sum-H25S150, pyramid-H30S100-r1, frustum-H25S150-t0.3-inv.
    """
    from templater.jobs.compare import compare_designs, design_from_spec, write_bar_chart

    model = model_from_cli(kw)
    try:
        parsed = [design_from_spec(spec) for spec in designs]
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc
    progress = Progress(progress_enabled())
    try:
        with progress.bar("compare", total=len(parsed), unit="design") as bar:
            rows = compare_designs(parsed, model=model, print_time=not no_print_time,
                                   on_design=lambda _row: bar.update(1))
        if png is not None:
            write_bar_chart(rows, png, overwrite=overwrite)
    except (OutputExistsError, OutputError) as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps([{
            "design": r.design.to_dict(), "name": r.design.name, "area_ratio": r.area_ratio,
            "max_current_ratio": r.max_current_ratio,
            "max_current_ratio_error": r.max_current_ratio_error,
            "max_excess_pressure_MPa": r.max_excess_pressure_mpa,
            "max_excess_pressure_error_MPa": None if math.isnan(
                r.max_excess_pressure_error_mpa) else r.max_excess_pressure_error_mpa,
            "critical_current_ratio": r.critical_current_ratio,
            "critical_current_ratio_error": None if math.isnan(
                r.critical_current_ratio_error) else r.critical_current_ratio_error,
            "critical_current_mA_cm2": r.critical_current_ma_cm2,
            "critical_current_error_mA_cm2": None if math.isnan(
                r.critical_current_error_ma_cm2) else r.critical_current_error_ma_cm2,
            "print_time_h": r.print_time_h, "notes": list(r.notes)} for r in rows],
            indent=2, sort_keys=True))
        return
    width = max(len(r.design.name) for r in rows)
    click.echo(f"{'design':{width}s}  {'A/A0':>7s}  {'m':>15s}  {'dp_max MPa':>15s}  "
               f"{'J*/J_flat':>15s}  {'J* mA/cm^2':>15s}  {'print h':>7s}")
    for r in rows:
        hours = "-" if r.print_time_h is None else f"{r.print_time_h:.1f}"
        j_star = _pm(r.critical_current_ma_cm2, r.critical_current_error_ma_cm2, "#.3g")
        click.echo(f"{r.design.name:{width}s}  {r.area_ratio:7.4f}  "
                   f"{_pm(r.max_current_ratio, r.max_current_ratio_error, '.4f'):>15s}  "
                   f"{_pm(r.max_excess_pressure_mpa, r.max_excess_pressure_error_mpa, '.3f'):>15s}"
                   f"  {_pm(r.critical_current_ratio, r.critical_current_ratio_error, '.3f'):>15s}"
                   f"  {j_star:>15s}  {hours:>7s}")
    for r in rows:
        for note in r.notes:
            click.echo(f"note ({r.design.name}): {note}")
    if png is not None:
        click.echo(f"wrote {png}")
