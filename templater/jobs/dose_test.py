"""The ``dose-test`` workflow: a small job printing one patch of a design over a
LaserPower × ScanSpeed grid (plan in :mod:`templater.fab.dose_matrix`).

The folder is written atomically like every job folder: ``design.json`` and ``NAME.stl`` (the
template of one patch), ``NAME_dose_job.gwl`` with ``NAME_dose_files\\block_KKK.gwl``, and the
sidecar ``NAME_dose_job.json`` listing every patch's position and settings. ``templater check``
verifies it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from templater import __version__
from templater.fab.dose_matrix import (
    DEFAULT_GAP_UM,
    DoseMatrix,
    dose_job_text,
    dose_sidecar_record,
    plan_dose_matrix,
)
from templater.fab.gwl_format import block_text
from templater.fab.printer import PrinterProfile
from templater.fab.stl import write_stl
from templater.geometry.surfaces import Surface
from templater.jobs.outputs import atomic_output, check_output
from templater.jobs.presets import load_printer
from templater.jobs.writer import design_record, write_json

__all__ = ["DoseTestReport", "dose_test_job"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseTestReport:
    """What ``dose-test`` wrote: the planned matrix, the folder and its files, sizes (bytes)."""

    matrix: DoseMatrix
    out_dir: Path
    files: tuple[Path, ...]
    stl_bytes: int
    gwl_bytes: int  # job file, block files and sidecar
    wall_time_s: float


def dose_test_job(design: Surface, out_dir: Path, *, powers: tuple[float, ...],
                  speeds: tuple[float, ...], patch_size_um: float | None = None,
                  gap_um: float = DEFAULT_GAP_UM, base_um: float | None = None,
                  tolerance_um: float | None = None, overwrite: bool = False,
                  profile: PrinterProfile | None = None,
                  announce: Callable[[DoseMatrix], None] | None = None) -> DoseTestReport:
    """Plan and write the dose-test folder of ``design``.

    Parameters
    ----------
    powers, speeds : tuple of float
        LaserPower (%) per column, ScanSpeed (µm/s) per row.
    patch_size_um, gap_um, base_um, tolerance_um : float, optional
        Patch footprint side, clear gap between patches, template base and tolerance (µm);
        see :func:`~templater.fab.dose_matrix.plan_dose_matrix`.
    announce : callable, optional
        Called with the planned matrix before anything is written.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    check_output(out_dir, overwrite=overwrite)  # refuse before planning
    matrix = plan_dose_matrix(design, profile=profile or load_printer(), powers=powers,
                              speeds=speeds, patch_size_um=patch_size_um, gap_um=gap_um,
                              base_um=base_um, tolerance_um=tolerance_um)
    if announce is not None:
        announce(matrix)
    name = design.name
    plan = matrix.job_plan
    with atomic_output(out_dir, overwrite=overwrite) as tmp:
        stl = tmp / f"{name}.stl"
        write_stl(matrix.mesh, stl, version=__version__)
        write_json(tmp / "design.json",
                   design_record(design, matrix.options, __version__, matrix.mesh, stl=True))
        files_dir = tmp / f"{plan.name}_files"
        files_dir.mkdir()
        gwl_bytes = 0
        for prog in plan.programs:
            data = block_text(prog, plan.name).encode("ascii")
            (files_dir / prog.file_name).write_bytes(data)
            gwl_bytes += len(data)
        job = dose_job_text(matrix, __version__).encode("ascii")
        (tmp / f"{plan.name}_job.gwl").write_bytes(job)
        sha = hashlib.sha256(stl.read_bytes()).hexdigest()
        side = (json.dumps(dose_sidecar_record(matrix, __version__, sha), indent=2,
                           sort_keys=True) + "\n").encode("ascii")
        (tmp / f"{plan.name}_job.json").write_bytes(side)
        gwl_bytes += len(job) + len(side)
        stl_bytes = stl.stat().st_size
        names = sorted(p.name for p in tmp.iterdir())
    return DoseTestReport(matrix=matrix, out_dir=out_dir,
                          files=tuple(out_dir / n for n in names), stl_bytes=stl_bytes,
                          gwl_bytes=gwl_bytes, wall_time_s=time.perf_counter() - t0)
