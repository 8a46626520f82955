"""The ``make`` workflow: a design's job folder (STL, GWL job, recipe, design, prediction and
``preview.png``).

Order matters to the user: the output folder is checked and the job's size and memory are
estimated (and refused when over budget) before the prediction runs, and the GWL plan (with its
print-time estimate) is announced before anything large is written.

Pellet-scale jobs (more than ``STREAM_MIN_FACETS`` facets) never build the whole mesh: the STL is
streamed strip by strip, and the GWL plan slices only the triangles under the distinct blocks
(each distinct block is planned once from its first placement, so this gives the same plan).
The preview is drawn from the surface function and the plan, never from the mesh, so it stays
cheap for a pellet. A dry run writes nothing, the preview included.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from templater import __version__
from templater.fab.gwl_format import planned_sizes
from templater.fab.gwl_plan import GwlPlan, block_layout, plan_gwl
from templater.fab.mesh import TemplateOptions, build_template_mesh, period_nodes_um
from templater.fab.printer import PrinterProfile
from templater.fab.stl_stream import StreamSummary, TemplateStream
from templater.geometry.surfaces import Surface
from templater.jobs.budget import JobEstimate, check_budget, estimate_job
from templater.jobs.model import ModelInputs
from templater.jobs.outputs import check_output
from templater.jobs.presets import load_printer
from templater.jobs.progress import QUIET, Progress
from templater.jobs.writer import JobReport, write_job

if TYPE_CHECKING:
    from solver.prediction import Prediction

__all__ = ["OUTPUT_FORMATS", "DryRun", "MakeReport", "dry_run", "make_job", "estimate",
           "plan_streamed"]

OUTPUT_FORMATS = ("stl", "gwl", "both")


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun:
    """What ``make`` would write: the GWL plan (None for STL only or for a pellet-scale job,
    which is only estimated) and the sizes in bytes, with the cheap estimate."""

    design: Surface
    options: TemplateOptions
    out_format: str
    plan: GwlPlan | None
    stl_bytes: int | None
    gwl_bytes: int | None
    estimate: JobEstimate | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeReport:
    """What ``make`` wrote."""

    design: Surface
    options: TemplateOptions
    job: JobReport
    prediction: Prediction | None
    wall_time_s: float


def estimate(design: Surface, options: TemplateOptions, *, out_format: str = "both",
             profile: PrinterProfile | None = None, memory_budget: int | None = None,
             file_budget: int | None = None) -> JobEstimate:
    """The cheap estimate of a job; raises ``BudgetExceeded`` when over a budget."""
    nodes = period_nodes_um(design, options.tolerance_um, base_um=options.base_um)
    est = estimate_job(design, options, nodes, out_format=out_format,
                       profile=profile or load_printer(), file_budget=file_budget)
    check_budget(est, memory_bytes=memory_budget, file_bytes=file_budget)
    return est


def dry_run(design: Surface, options: TemplateOptions, *, out_format: str = "both",
            profile: PrinterProfile | None = None, memory_budget: int | None = None,
            file_budget: int | None = None) -> DryRun:
    """Plan the job without writing anything (a pellet-scale job is only estimated)."""
    profile = profile or load_printer()
    est = estimate(design, options, out_format=out_format, profile=profile,
                   memory_budget=memory_budget, file_budget=file_budget)
    if est.streamed:
        return DryRun(design=design, options=options, out_format=out_format, plan=None,
                      stl_bytes=est.stl_bytes, gwl_bytes=est.gwl_bytes, estimate=est)
    plan = plan_gwl(design, options, profile=profile)
    sizes = planned_sizes(plan, design, options, version=__version__)
    return DryRun(design=design, options=options, out_format=out_format,
                  plan=plan if out_format != "stl" else None,
                  stl_bytes=sizes.stl_bytes if out_format != "gwl" else None,
                  gwl_bytes=sizes.gwl_bytes if out_format != "stl" else None, estimate=est)


def plan_streamed(design: Surface, options: TemplateOptions, stream: TemplateStream, *,
                  profile: PrinterProfile, progress: Progress = QUIET
                  ) -> tuple[GwlPlan, StreamSummary]:
    """The GWL plan of a streamed template, slicing only the triangles under the first
    placement of each distinct block (plus the highest vertex, which fixes the layers)."""
    with progress.bar("survey mesh", unit="facet", unit_scale=True) as bar:
        summary, top, (tx, ty) = stream.survey(progress=bar.update)
    footprint = options.footprint.polygon(options.tolerance_um)
    _, grid = block_layout(design, footprint, top, profile)
    first = {}
    for block in grid.blocks:
        first.setdefault(block.key, block)
    windows = [grid.hull(b).intersection(footprint.envelope).bounds for b in first.values()]
    windows.append((tx, ty, tx, ty))
    with progress.bar("block meshes", total=1, unit="pass") as bar:
        mesh, _ = stream.window_mesh(windows)
        bar.update(1)
    with progress.bar("GWL plan", total=1, unit="plan") as bar:
        plan = plan_gwl(design, options, profile=profile, mesh=mesh)
        bar.update(1)
    return dataclasses.replace(plan, stl_facets=summary.facets), summary


def make_job(design: Surface, out_dir: Path, *, options: TemplateOptions,
             out_format: str = "both", overwrite: bool = False,
             model: ModelInputs | None = None,
             announce: Callable[[GwlPlan], None] | None = None,
             profile: PrinterProfile | None = None,
             memory_budget: int | None = None, file_budget: int | None = None,
             progress: Progress = QUIET) -> MakeReport:
    """Write the job folder of ``design``.

    Parameters
    ----------
    out_format : {"stl", "gwl", "both"}
        STL (+ recipe), the GWL job, or both.
    model : ModelInputs, optional
        Predict the critical current and write ``prediction.json``; None skips the prediction.
    announce : callable, optional
        Called with the GWL plan before any file is written.
    memory_budget, file_budget : int, optional
        Refuse the job up front (``BudgetExceeded``) when its estimated peak memory or file
        size exceeds these (bytes).
    progress : Progress
        Progress bars on stderr (silent by default).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    check_output(out_dir, overwrite=overwrite)  # refuse before the prediction runs
    profile = profile or load_printer()
    est = estimate(design, options, out_format=out_format, profile=profile,
                   memory_budget=memory_budget, file_budget=file_budget)
    pred = None
    if model is not None:
        from templater.jobs.model import predict_design  # the solver loads on first use

        with progress.bar("prediction", total=1, unit="solve") as bar:
            pred = predict_design(design, model, notify=progress.note)
            bar.update(1)
    mesh = plan = stream = summary = None
    if est.streamed:
        stream = TemplateStream(design, footprint=options.footprint, base_um=options.base_um,
                                tolerance_um=options.tolerance_um)
        if out_format != "stl":
            plan, summary = plan_streamed(design, options, stream, profile=profile,
                                          progress=progress)
    elif out_format != "stl":
        with progress.bar("mesh", total=1, unit="mesh") as bar:
            mesh = build_template_mesh(design, footprint=options.footprint,
                                       base_um=options.base_um,
                                       tolerance_um=options.tolerance_um)  # built once, used twice
            bar.update(1)
        with progress.bar("GWL plan", total=1, unit="plan") as bar:
            plan = plan_gwl(design, options, profile=profile, mesh=mesh)
            bar.update(1)
    if plan is not None and announce is not None:
        announce(plan)
    job = write_job(design, out_dir, options=options, overwrite=overwrite, version=__version__,
                    mesh=mesh, stl=out_format != "gwl", gwl=plan,
                    recipe=profile if out_format != "gwl" else None, prediction=pred,
                    stream=stream, summary=summary, preview=True, progress=progress)
    return MakeReport(design=design, options=options, job=job, prediction=pred,
                      wall_time_s=time.perf_counter() - t0)
