"""``templater predict``: current distribution, Li pressure and critical current of a design."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from templater.cli.main import progress_enabled
from templater.cli.options import (
    UsageFail,
    design_from_cli,
    design_options,
    model_from_cli,
    model_options,
    solver_options,
)
from templater.cli.report import minimum_text, prediction_lines
from templater.geometry.errors import OutputError, OutputExistsError, TemplaterError
from templater.jobs.progress import Progress

__all__ = ["predict_cmd"]


@click.command("predict")
@design_options
@model_options
@click.option("--field-only", is_flag=True,
              help="Only the current distribution (primary and with kinetics), no creep.")
@solver_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (schema: README).")
@click.option("--plot", "plot_dir", type=click.Path(path_type=Path),
              help="Write PNG maps of the currents (and of the Li pressure after a creep "
                   "solve) and a cross-section profile into this folder.")
@click.option("--overwrite", is_flag=True, help="Replace a --plot folder written earlier.")
def predict_cmd(field_only: bool, no_tables: bool, couple: bool, as_json: bool,
                plot_dir: Path | None, overwrite: bool, **kw: Any) -> None:
    """Predict the current distribution, Li pressure and critical current of a design.

    KIND is one of flat, eggbox, pyramid, frustum (or use --preset NAME).
    """
    from solver.field import solve_field  # lazy: the CLI starts without scipy
    from templater.jobs.model import predict_design

    design = design_from_cli(kw)
    model = model_from_cli(kw)
    if plot_dir is not None:  # refuse a bad plot folder before the prediction runs
        from templater.jobs.outputs import check_output

        try:
            check_output(plot_dir, overwrite=overwrite, what="plot folder")
        except (OutputExistsError, OutputError) as exc:
            raise UsageFail(str(exc)) from exc
    t0 = time.perf_counter()
    try:
        if field_only:
            pair = solve_field(design, model.materials)
            data = pair.to_json_dict()
            data["solve_time_s"] = time.perf_counter() - t0
            if as_json:
                click.echo(json.dumps(data, indent=2, sort_keys=True))
                return
            for res, label in ((pair.primary, "primary"), (pair.secondary, "with kinetics")):
                click.echo(f"{design.name} max local current / J ({label}): "
                           f"{res.max_current_ratio:.4f} ({minimum_text(res.min_current_ratio)})")
            click.echo(f"area ratio A/A0 = {pair.area_ratio:.5f}; "
                       f"solve time {data['solve_time_s']:.2f} s")
            return
        progress = Progress(progress_enabled())
        with progress.bar("prediction", total=1, unit="design") as bar:
            pred = predict_design(design, model, use_tables=not no_tables, couple=couple,
                                  notify=progress.note)
            bar.update(1)
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(pred.to_json_dict(), indent=2, sort_keys=True))
    else:
        for line in prediction_lines(pred):
            click.echo(line)
    if plot_dir is not None:
        from templater.jobs.plots import write_prediction_plots

        try:
            plots = write_prediction_plots(pred, plot_dir, overwrite=overwrite)
        except (OutputExistsError, OutputError) as exc:
            raise UsageFail(str(exc)) from exc
        for note in plots.notes:
            click.echo(note, err=True)
        if not as_json:
            click.echo(f"wrote {plot_dir}/ ({', '.join(plots.files)})")
