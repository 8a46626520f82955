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
from templater.fab.stl_stream import StreamSummary
from templater.geometry.surfaces import Surface
from templater.jobs.progress import QUIET, Progress

__all__ = ["write_gwl", "write_recipe"]


def write_gwl(folder: Path, plan: GwlPlan, design: Surface, options: TemplateOptions, *,
              version: str, progress: Progress = QUIET) -> int:
    """Write ``NAME_job.gwl``, ``NAME_files\\block_KKK.gwl`` and the sidecar ``NAME_job.json``
    into ``folder``; returns their size in bytes.

    The sidecar records the SHA-256 of ``NAME.stl`` when that file is already in ``folder``.
    """
    folder = Path(folder)
    files_dir = folder / f"{plan.name}_files"
    files_dir.mkdir()
    size = 0
    with progress.bar("GWL files", total=len(plan.programs) + 1, unit="file") as bar:
        for prog in plan.programs:
            data = block_text(prog, plan.name).encode("ascii")
            (files_dir / prog.file_name).write_bytes(data)
            size += len(data)
            bar.update(1)
        job = job_text(plan, design, options, version).encode("ascii")
        bar.update(1)
    (folder / f"{plan.name}_job.gwl").write_bytes(job)
    stl = folder / f"{plan.name}.stl"
    sha = _sha256(stl) if stl.exists() else None
    record = sidecar_record(plan, design, options, version, sha)
    side = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("ascii")
    (folder / f"{plan.name}_job.json").write_bytes(side)
    return size + len(job) + len(side)


def _sha256(path: Path, chunk: int = 1 << 22) -> str:
    """SHA-256 of a file read in chunks (pellet-scale STLs are hundreds of MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_recipe(folder: Path, name: str, profile: PrinterProfile, grid: BlockGrid,
                 mesh: trimesh.Trimesh | StreamSummary) -> int:
    """Write ``NAME.recipe`` (DeScribe settings for ``NAME.stl``); returns its size in bytes."""
    data = recipe_text(name, profile, grid, mesh).encode("ascii")
    (Path(folder) / f"{name}.recipe").write_bytes(data)
    return len(data)
