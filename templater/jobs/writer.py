"""The job folder writer: one atomic folder for every output (STL, GWL job, recipe, prediction).

:func:`write_job` always writes ``design.json`` and adds the requested parts: ``NAME.stl``, the
GWL job of a plan (``NAME_job.gwl``, ``NAME_files\\``, ``NAME_job.json``), ``NAME.recipe``,
``prediction.json`` and ``preview.png`` (:mod:`templater.jobs.preview`). Nothing appears at the
destination unless every part was written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trimesh

from solver.prediction import Prediction
from templater.fab.gwl_plan import GwlPlan, block_layout
from templater.fab.mesh import TemplateOptions, build_template_mesh, period_nodes_um
from templater.fab.printer import PrinterProfile
from templater.fab.stl import stl_header_for, write_stl
from templater.fab.stl_stream import StreamSummary, TemplateStream
from templater.geometry.surfaces import Surface
from templater.jobs.gwl_job import write_gwl, write_recipe
from templater.jobs.outputs import atomic_output
from templater.jobs.prediction_file import write_prediction
from templater.jobs.preview import PREVIEW_NAME, PreviewInfo, write_preview
from templater.jobs.progress import QUIET, Progress

__all__ = ["JobReport", "write_job", "design_record", "write_json"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobReport:
    """What :func:`write_job` wrote: folder, files, template and part sizes (bytes; None for a
    part not written)."""

    out_dir: Path
    files: tuple[Path, ...]
    name: str
    facets: int
    nodes_per_period: int
    stl_bytes: int | None = None
    gwl_bytes: int | None = None  # job file, block files and sidecar
    recipe_bytes: int | None = None
    prediction_bytes: int | None = None
    plan: GwlPlan | None = None
    preview: PreviewInfo | None = None  # what ``preview.png`` shows, when written

    @property
    def print_job_bytes(self) -> int | None:
        """The GWL job with its recipe, if any (None without a GWL job)."""
        if self.gwl_bytes is None:
            return None
        return self.gwl_bytes + (self.recipe_bytes or 0)


def _facets(mesh: trimesh.Trimesh | StreamSummary) -> int:
    return mesh.facets if isinstance(mesh, StreamSummary) else len(mesh.faces)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Deterministic JSON (sorted keys, fixed indentation, trailing newline)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def design_record(design: Surface, options: TemplateOptions, version: str,
                  mesh: trimesh.Trimesh | StreamSummary, *, stl: bool) -> dict[str, Any]:
    """The content of ``design.json``: design, template options and mesh, toolkit version.

    Without the STL (``stl`` false) it records ``"outputs": ["gwl"]`` so that ``templater
    check`` rebuilds the template mesh instead of reading an STL; with it, the mesh volume.
    ``mesh`` may be the :class:`StreamSummary` of a streamed STL (facets, bounds, volume).
    """
    if isinstance(mesh, StreamSummary):
        facets, bounds, volume = mesh.facets, mesh.bounds, mesh.volume_um3
    else:
        facets, bounds = len(mesh.faces), mesh.bounds
        volume = float(mesh.volume) if stl else None
    template: dict[str, Any] = {
        "base_um": options.base_um,
        "tolerance_um": options.tolerance_um,
        "footprint": {"shape": options.footprint.shape, "size_um": options.footprint.size_um},
        "top_um": "base_um + H_um - e(x, y)",
        "units": "um",
        "facets": facets,
        "bounds_um": bounds.tolist(),
    }
    record: dict[str, Any] = {
        "toolkit": "templater",
        "version": version,
        "name": design.name,
        "design": design.to_dict(),
        "area_ratio": design.area_ratio(),
        "template": template,
    }
    if stl:
        template["volume_um3"] = float(volume)
    else:
        record["outputs"] = ["gwl"]
    return record


def write_job(design: Surface, out_dir: Path, *, options: TemplateOptions | None = None,
              version: str, overwrite: bool = False, mesh: trimesh.Trimesh | None = None,
              stl: bool = True, gwl: GwlPlan | None = None,
              recipe: PrinterProfile | None = None,
              prediction: Prediction | None = None,
              stream: TemplateStream | None = None,
              summary: StreamSummary | None = None,
              preview: bool = False,
              progress: Progress = QUIET) -> JobReport:
    """Write the job folder of ``design`` atomically.

    Parameters
    ----------
    options : TemplateOptions, optional
        Footprint, base and tolerance (the defaults of the design when omitted).
    mesh : trimesh.Trimesh, optional
        The template mesh already built for ``options`` (e.g. for GWL planning).
    stl : bool, default True
        Write ``NAME.stl``.
    gwl : GwlPlan, optional
        Write the GWL job of this plan (from :func:`~templater.fab.gwl_plan.plan_gwl`).
    recipe : PrinterProfile, optional
        Write ``NAME.recipe`` for these printer settings (with the plan's blocks when ``gwl``
        was planned for the same profile).
    prediction : Prediction, optional
        Write ``prediction.json``.
    stream : TemplateStream, optional
        Write the STL strip by strip from this stream instead of building ``mesh`` (pellet-scale
        jobs); ``summary`` is its survey (facets, bounds, volume) when the STL is not written.
    preview : bool, default False
        Write ``preview.png``: the template surface, one layer of the GWL plan and the block
        layout (of the plan, else of the recipe). Drawn last, inside the atomic folder.
    progress : Progress
        Progress bars on stderr (silent by default).
    """
    options = options or TemplateOptions.for_design(design)
    if gwl is not None and gwl.name != design.name:
        raise ValueError(f"plan for {gwl.name!r} given for design {design.name!r}")
    if stream is not None:
        nodes = stream.nodes
    else:
        nodes = period_nodes_um(design, options.tolerance_um, base_um=options.base_um)
    if mesh is None and stream is None:
        mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                                   tolerance_um=options.tolerance_um, nodes_um=nodes)
    out_dir = Path(out_dir)
    stl_bytes = gwl_bytes = recipe_bytes = prediction_bytes = None
    grid = gwl.grid if gwl is not None else None
    shown = None
    with atomic_output(out_dir, overwrite=overwrite) as tmp:
        if stl and stream is not None:  # first: the GWL sidecar records the STL's checksum
            header = stl_header_for(design, options.base_um, version)
            with progress.bar("STL", total=summary.facets if summary else None, unit="facet",
                              unit_scale=True) as bar:
                summary = stream.write_stl(tmp / f"{design.name}.stl", header,
                                           progress=bar.update)
            stl_bytes = (tmp / f"{design.name}.stl").stat().st_size
        elif stl:
            write_stl(mesh, tmp / f"{design.name}.stl", version=version)
            stl_bytes = (tmp / f"{design.name}.stl").stat().st_size
        if stream is not None:
            if summary is None:
                summary = stream.survey()[0]
            mesh = summary
        write_json(tmp / "design.json", design_record(design, options, version, mesh, stl=stl))
        if gwl is not None:
            gwl_bytes = write_gwl(tmp, gwl, design, options, version=version, progress=progress)
        if recipe is not None:
            if gwl is not None and gwl.profile == recipe:
                grid = gwl.grid
            else:
                footprint = options.footprint.polygon(options.tolerance_um)
                _, grid = block_layout(design, footprint, float(mesh.bounds[1, 2]), recipe)
            recipe_bytes = write_recipe(tmp, design.name, recipe, grid, mesh)
        if prediction is not None:
            prediction_bytes = write_prediction(tmp, prediction)
        if preview:
            with progress.bar("preview", total=1, unit="file") as bar:
                shown = write_preview(tmp / PREVIEW_NAME, design, options, plan=gwl, grid=grid)
                bar.update(1)
        names = sorted(p.name for p in tmp.iterdir())
    return JobReport(out_dir=out_dir, files=tuple(out_dir / n for n in names), name=design.name,
                     facets=_facets(mesh), nodes_per_period=len(nodes) - 1,
                     stl_bytes=stl_bytes, gwl_bytes=gwl_bytes, recipe_bytes=recipe_bytes,
                     prediction_bytes=prediction_bytes, plan=gwl, preview=shown)
