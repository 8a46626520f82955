"""The GWL parts of a job folder: the GWL job of a plan, and the DeScribe recipe."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import trimesh

from templater.fab.gwl_format import block_text, job_text, recipe_text, sidecar_record
from templater.fab.gwl_plan import GwlPlan
from templater.fab.mesh import TemplateOptions
from templater.fab.printer import PrinterProfile
from templater.fab.stitch import BlockGrid
from templater.geometry.surfaces import Surface

__all__ = ["write_gwl", "write_recipe"]


def write_gwl(folder: Path, plan: GwlPlan, design: Surface, options: TemplateOptions, *,
              version: str) -> int:
    """Write ``NAME_job.gwl``, ``NAME_files\\block_KKK.gwl`` and the sidecar ``NAME_job.json``
    into ``folder``; returns their size in bytes.

    The sidecar records the SHA-256 of ``NAME.stl`` when that file is already in ``folder``.
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
    return size + len(job) + len(side)


def write_recipe(folder: Path, name: str, profile: PrinterProfile, grid: BlockGrid,
                 mesh: trimesh.Trimesh) -> int:
    """Write ``NAME.recipe`` (DeScribe settings for ``NAME.stl``); returns its size in bytes."""
    data = recipe_text(name, profile, grid, mesh).encode("ascii")
    (Path(folder) / f"{name}.recipe").write_bytes(data)
    return len(data)
