"""The ``make`` workflow: a design's job folder (STL, GWL job, recipe, design and prediction).

Order matters to the user: the output folder is checked before the prediction runs, and the GWL
plan (with its print-time estimate) is announced before anything large is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from solver.prediction import Prediction, predict
from templater import __version__
from templater.fab.gwl_format import planned_sizes
from templater.fab.gwl_plan import GwlPlan, plan_gwl
from templater.fab.mesh import TemplateOptions, build_template_mesh
from templater.fab.printer import PrinterProfile
from templater.geometry.surfaces import Surface
from templater.jobs.model import ModelInputs
from templater.jobs.outputs import check_output
from templater.jobs.presets import load_printer
from templater.jobs.writer import JobReport, write_job

__all__ = ["OUTPUT_FORMATS", "DryRun", "MakeReport", "dry_run", "make_job"]

OUTPUT_FORMATS = ("stl", "gwl", "both")


@dataclass(frozen=True, slots=True, kw_only=True)
class DryRun:
    """What ``make`` would write: the GWL plan (None for STL only) and the sizes in bytes."""

    design: Surface
    options: TemplateOptions
    out_format: str
    plan: GwlPlan | None
    stl_bytes: int | None
    gwl_bytes: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeReport:
    """What ``make`` wrote."""

    design: Surface
    options: TemplateOptions
    job: JobReport
    prediction: Prediction | None
    wall_time_s: float


def dry_run(design: Surface, options: TemplateOptions, *, out_format: str = "both",
            profile: PrinterProfile | None = None) -> DryRun:
    """Plan the job without writing anything."""
    plan = plan_gwl(design, options, profile=profile or load_printer())
    sizes = planned_sizes(plan, design, options, version=__version__)
    return DryRun(design=design, options=options, out_format=out_format,
                  plan=plan if out_format != "stl" else None,
                  stl_bytes=sizes.stl_bytes if out_format != "gwl" else None,
                  gwl_bytes=sizes.gwl_bytes if out_format != "stl" else None)


def make_job(design: Surface, out_dir: Path, *, options: TemplateOptions,
             out_format: str = "both", overwrite: bool = False,
             model: ModelInputs | None = None,
             announce: Callable[[GwlPlan], None] | None = None,
             profile: PrinterProfile | None = None) -> MakeReport:
    """Write the job folder of ``design``.

    Parameters
    ----------
    out_format : {"stl", "gwl", "both"}
        STL (+ recipe), the GWL job, or both.
    model : ModelInputs, optional
        Predict the critical current and write ``prediction.json``; None skips the prediction.
    announce : callable, optional
        Called with the GWL plan before any file is written.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    check_output(out_dir, overwrite=overwrite)  # refuse before the prediction runs
    pred = None
    if model is not None:
        pred = predict(design, model.materials, model.creep, model.constants,
                       calibration=model.calibration)
    profile = profile or load_printer()
    mesh = plan = None
    if out_format != "stl":
        mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                                   tolerance_um=options.tolerance_um)  # built once, used twice
        plan = plan_gwl(design, options, profile=profile, mesh=mesh)
        if announce is not None:
            announce(plan)
    job = write_job(design, out_dir, options=options, overwrite=overwrite, version=__version__,
                    mesh=mesh, stl=out_format != "gwl", gwl=plan,
                    recipe=profile if out_format != "gwl" else None, prediction=pred)
    return MakeReport(design=design, options=options, job=job, prediction=pred,
                      wall_time_s=time.perf_counter() - t0)
