"""``templater make``: write a design's job folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from templater.cli.main import progress_enabled
from templater.cli.options import (
    Number,
    UsageFail,
    design_from_cli,
    design_options,
    model_from_cli,
    model_options,
    solid_options,
)
from templater.cli.report import critical_current_line, gwl_plan_lines
from templater.fab.gwl_plan import GwlPlan
from templater.fab.mesh import FOOTPRINT_SHAPES, TemplateOptions
from templater.geometry.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.geometry.parameters import default_value, help_text
from templater.jobs.budget import (
    BudgetExceeded,
    default_file_budget,
    default_memory_budget,
    parse_bytes,
)
from templater.jobs.make import OUTPUT_FORMATS, dry_run, make_job
from templater.jobs.progress import Progress

__all__ = ["make_cmd"]


@click.command("make")
@design_options
@click.option("--size", "size_um", type=Number("size_um"),
              help=help_text("size_um", default=False)[:-1] + "; default: the whole number of "
                   f"periods closest to {default_value('size_um'):g} um.")
@click.option("--footprint", "footprint", type=click.Choice(FOOTPRINT_SHAPES),
              default="square", show_default=True, help="Footprint shape.")
@solid_options
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder (default ./NAME/, the design's name, e.g. eggbox-H25S150 or "
                   "pyramid-H25S150-r1).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
@click.option("--no-predict", is_flag=True,
              help="Skip the predicted critical current (prediction.json).")
@click.option("--format", "out_format", type=click.Choice(OUTPUT_FORMATS),
              default="both", show_default=True,
              help="Write the STL (+ DeScribe recipe), the GWL job, or both.")
@click.option("--dry-run", "is_dry_run", is_flag=True,
              help="Plan the job and print the summary (layers, blocks, write length, "
                   "estimated print time, sizes); write nothing.")
@click.option("--memory-budget", "memory_budget", metavar="SIZE",
              help="Refuse (exit 2) a job whose estimated peak memory exceeds SIZE (e.g. 1.5GB, "
                   "800MB; a plain number is GB); default: half of the machine's memory.")
@click.option("--file-budget", "file_budget", metavar="SIZE",
              help="Refuse (exit 2) a job whose files would exceed SIZE; default: the free "
                   "space of the output folder's disk, at most 5GB.")
@model_options
def make_cmd(size_um: float | None, footprint: str, base_um: float, tolerance_um: float,
             out_dir: Path | None, overwrite: bool, no_predict: bool, out_format: str,
             is_dry_run: bool, memory_budget: str | None, file_budget: str | None,
             **kw: Any) -> None:
    """Write the template of a design: NAME.stl, design.json, prediction.json, the GWL
    print job and preview.png.

    The GWL job (NAME_job.gwl, NAME_files/, NAME_job.json) is sliced, hatched and stitched
    for the printer profile; NAME.recipe carries the same settings for DeScribe. preview.png
    shows the template surface, one GWL layer of one block and the block layout.

    KIND is one of flat, eggbox, pyramid, frustum (or use --preset NAME).
    """
    design = design_from_cli(kw)
    out_dir = out_dir or Path(design.name)
    try:
        options = TemplateOptions.for_design(design, shape=footprint, size_um=size_um,
                                             base_um=base_um, tolerance_um=tolerance_um)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc
    try:
        mem = parse_bytes(memory_budget) if memory_budget else default_memory_budget()
        files = parse_bytes(file_budget) if file_budget else default_file_budget(out_dir)
    except ValueError as exc:
        raise UsageFail(f"invalid budget: {exc}") from exc
    progress = Progress(progress_enabled())
    if is_dry_run:
        try:
            plan = dry_run(design, options, out_format=out_format, memory_budget=mem,
                           file_budget=files)
        except (BudgetExceeded, DesignError) as exc:
            raise UsageFail(str(exc)) from exc
        except TemplaterError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"{design.name}: dry run, nothing written")
        if plan.plan is not None:
            for line in gwl_plan_lines(plan.plan):
                click.echo(line)
        elif plan.estimate is not None and plan.estimate.streamed:
            for line in plan.estimate.lines()[:-2]:
                click.echo(line)
        if plan.estimate is not None:
            click.echo(plan.estimate.lines()[-1])
        sizes = [f"STL {plan.stl_bytes / 1e6:.1f} MB" if plan.stl_bytes is not None else "",
                 f"GWL job ~{plan.gwl_bytes / 1e6:.1f} MB" if plan.gwl_bytes is not None else ""]
        click.echo("sizes on disk: " + ", ".join(x for x in sizes if x))
        return
    model = None if no_predict else model_from_cli(kw)

    def announce(gwl_plan: GwlPlan) -> None:
        for line in gwl_plan_lines(gwl_plan):
            click.echo(line)

    try:
        report = make_job(design, out_dir, options=options, out_format=out_format,
                          overwrite=overwrite, model=model, announce=announce,
                          memory_budget=mem, file_budget=files, progress=progress)
    except (DesignError, OutputExistsError, OutputError, BudgetExceeded) as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    job = report.job
    fp = options.footprint
    click.echo(f"{design.name}: {fp.shape} footprint {fp.size_um:g} um, base {base_um:g} um, "
               f"area ratio A/A0 = {design.area_ratio():.5f}")
    if job.stl_bytes is not None:
        click.echo(f"STL: {job.facets} facets, {job.stl_bytes / 1e6:.1f} MB")
    if job.print_job_bytes is not None:
        stl = f"STL {job.stl_bytes / 1e6:.1f} MB, " if job.stl_bytes is not None else ""
        click.echo(f"sizes on disk: {stl}GWL job {job.print_job_bytes / 1e6:.1f} MB")
    if report.prediction is not None:
        click.echo(critical_current_line(report.prediction))
        for note in report.prediction.notes:
            click.echo(f"note: {note}")
    if job.preview is not None:
        click.echo(job.preview.summary())
    click.echo(f"wrote {out_dir}/ ({', '.join(p.name for p in job.files)}) "
               f"in {report.wall_time_s:.1f} s")
