"""Write the GWL job files of a plan into a job folder (and the GWL-only job folder)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trimesh

from templater.fab.gwl_format import block_text, job_text, recipe_text, sidecar_record
from templater.fab.gwl_plan import GwlPlan, block_layout, plan_gwl
from templater.fab.mesh import build_template_mesh, period_nodes_um
from templater.fab.printer import PrinterProfile
from templater.geometry.surfaces import Surface
from templater.jobs.job import JobFiles, design_record, write_json
from templater.jobs.outputs import atomic_output_dir
from templater.jobs.presets import load_printer

__all__ = ["write_gwl", "GwlWriter", "RecipeWriter", "write_gwl_job"]


def write_gwl(folder: Path, plan: GwlPlan, design: Surface, options: Any, mesh: trimesh.Trimesh,
              *, version: str, recipe: bool = True) -> dict[str, Any]:
    """Write ``NAME_job.gwl``, ``NAME_files\\block_KKK.gwl``, ``NAME_job.json`` and (with
    ``recipe``) ``NAME.recipe``.

    Returns the summary (see :meth:`GwlPlan.summary`) plus ``gwl_bytes``, the job's size on
    disk (job file, block files, sidecar and recipe).
    """
    folder = Path(folder)
    files_dir = folder / f"{plan.name}_files"
    files_dir.mkdir()
    size = 0
    for prog in plan.programs:
        data = block_text(prog, plan.name).encode("ascii")
        (files_dir / prog.file_name).write_bytes(data)
        size += len(data)
    job = job_text(plan, design, options, version).encode("ascii")
    (folder / f"{plan.name}_job.gwl").write_bytes(job)
    stl = folder / f"{plan.name}.stl"
    sha = hashlib.sha256(stl.read_bytes()).hexdigest() if stl.exists() else None
    record = sidecar_record(plan, design, options, version, sha)
    side = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("ascii")
    (folder / f"{plan.name}_job.json").write_bytes(side)
    size += len(job) + len(side)
    if recipe:
        text = recipe_text(plan.name, plan.profile, plan.grid, mesh).encode("ascii")
        (folder / f"{plan.name}.recipe").write_bytes(text)
        size += len(text)
    return {**plan.summary(), "gwl_bytes": size}


@dataclass(frozen=True, slots=True, kw_only=True)
class GwlWriter:
    """An ``extra`` writer for :func:`templater.jobs.job.write_job`.

    Parameters
    ----------
    version : str
        Toolkit version written into the files.
    profile : PrinterProfile, optional
        Printer settings (default profile when omitted).
    announce : callable, optional
        Called with the plan after slicing and before any GWL file is written (the CLI states
        the estimate there).
    recipe : bool, default True
        Also write ``NAME.recipe``.
    plan : GwlPlan, optional
        A plan already computed by :func:`plan_gwl` for the same design and options (the CLI
        plans first to state the estimate before the STL is written).
    """

    version: str
    profile: PrinterProfile | None = None
    announce: Callable[[GwlPlan], None] | None = None
    recipe: bool = True
    plan: GwlPlan | None = None

    def __call__(self, folder: Path, design: Surface, options: Any,
                 mesh: trimesh.Trimesh) -> dict[str, Any]:
        """Plan and write the GWL job into ``folder``."""
        plan = self.plan
        if plan is None:
            plan = plan_gwl(design, options, profile=self.profile or load_printer(), mesh=mesh)
        elif plan.name != design.name:
            raise ValueError(f"plan for {plan.name!r} given for design {design.name!r}")
        if self.announce is not None:
            self.announce(plan)
        return write_gwl(folder, plan, design, options, mesh, version=self.version,
                         recipe=self.recipe)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeWriter:
    """An ``extra`` writer adding only ``NAME.recipe`` (for STL-only output)."""

    profile: PrinterProfile | None = None

    def __call__(self, folder: Path, design: Surface, options: Any,
                 mesh: trimesh.Trimesh) -> dict[str, Any]:
        """Write the recipe for ``mesh`` into ``folder``."""
        profile = self.profile or load_printer()
        footprint = options.footprint.polygon(options.tolerance_um)
        _, grid = block_layout(design, footprint, float(mesh.bounds[1, 2]), profile)
        data = recipe_text(design.name, profile, grid, mesh).encode("ascii")
        (Path(folder) / f"{design.name}.recipe").write_bytes(data)
        return {"recipe_bytes": len(data)}


def write_gwl_job(design: Surface, out_dir: Path, *, options: Any, overwrite: bool = False,
                  version: str, profile: PrinterProfile | None = None,
                  announce: Callable[[GwlPlan], None] | None = None,
                  plan: GwlPlan | None = None, extra: list[Any] | None = None,
                  mesh: trimesh.Trimesh | None = None) -> JobFiles:
    """GWL-only output (``--format gwl``): ``design.json`` and the GWL job, no STL (and no
    recipe, which would point at the STL). ``mesh`` reuses an already built template mesh.

    ``design.json`` records ``"outputs": ["gwl"]`` so that ``templater check`` rebuilds the
    template mesh from it instead of reading an STL. ``plan`` reuses a :func:`plan_gwl` result;
    ``extra`` writers run afterwards, as in :func:`templater.jobs.job.write_job`.
    """
    nodes = period_nodes_um(design, options.tolerance_um, base_um=options.base_um)
    if mesh is None:
        mesh = build_template_mesh(design, footprint=options.footprint,
                                   base_um=options.base_um, tolerance_um=options.tolerance_um,
                                   nodes_um=nodes)
    writer = GwlWriter(version=version, profile=profile, announce=announce, recipe=False,
                       plan=plan)
    with atomic_output_dir(Path(out_dir), overwrite=overwrite) as tmp:
        record = design_record(design, options, version)
        record["outputs"] = ["gwl"]
        record["template"]["facets"] = len(mesh.faces)
        record["template"]["bounds_um"] = mesh.bounds.tolist()
        write_json(tmp / "design.json", record)
        summary = {"name": design.name, "facets": len(mesh.faces),
                   "nodes_per_period": len(nodes) - 1, **writer(tmp, design, options, mesh)}
        for other in extra or []:
            summary.update(other(tmp, design, options, mesh) or {})
        names = sorted(p.name for p in tmp.iterdir())
    return JobFiles(out_dir=Path(out_dir), files=tuple(Path(out_dir) / n for n in names),
                    summary=summary)
