"""Write a design's output folder: STL + ``design.json`` (later issues add GWL and predictions)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trimesh

from templater.fab.mesh import (
    TemplateOptions,
    build_template_mesh,
    period_nodes_um,
)
from templater.fab.stl import write_stl
from templater.geometry.surfaces import Surface
from templater.jobs.outputs import atomic_output_dir

__all__ = ["JobFiles", "write_job", "design_record", "write_json"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobFiles:
    """What was written: folder, files and a summary for the CLI."""

    out_dir: Path
    files: tuple[Path, ...]
    summary: dict[str, Any] = field(default_factory=dict)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Deterministic JSON (sorted keys, fixed indentation, trailing newline)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def design_record(design: Surface, options: TemplateOptions, version: str) -> dict[str, Any]:
    """The content of ``design.json``: design, template options, toolkit version."""
    return {
        "toolkit": "templater",
        "version": version,
        "name": design.name,
        "design": design.to_dict(),
        "area_ratio": design.area_ratio(),
        "template": {
            "base_um": options.base_um,
            "tolerance_um": options.tolerance_um,
            "footprint": {"shape": options.footprint.shape,
                          "size_um": options.footprint.size_um},
            "top_um": "base_um + H_um - e(x, y)",
            "units": "um",
        },
    }


def write_job(
    design: Surface,
    out_dir: Path,
    *,
    options: TemplateOptions | None = None,
    overwrite: bool = False,
    version: str,
    extra: list[Any] | None = None,
    mesh: trimesh.Trimesh | None = None,
) -> JobFiles:
    """Write ``NAME.stl`` and ``design.json`` (plus ``extra`` writers) into ``out_dir``.

    ``mesh`` reuses a template mesh already built for ``options`` (e.g. for GWL planning).

    ``extra`` holds callables ``writer(folder: Path, design, options, mesh) -> dict`` that add
    files; their dicts are merged into the summary. Nothing appears at ``out_dir`` unless every
    writer succeeded.
    """
    options = options or TemplateOptions.for_design(design)
    nodes = period_nodes_um(design, options.tolerance_um, base_um=options.base_um)
    if mesh is None:
        mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                                   tolerance_um=options.tolerance_um, nodes_um=nodes)
    summary: dict[str, Any] = {"name": design.name, "facets": len(mesh.faces),
                               "nodes_per_period": len(nodes) - 1}
    with atomic_output_dir(Path(out_dir), overwrite=overwrite) as tmp:
        stl_path = tmp / f"{design.name}.stl"
        write_stl(mesh, stl_path, version=version)
        record = design_record(design, options, version)
        record["template"]["facets"] = len(mesh.faces)
        record["template"]["bounds_um"] = mesh.bounds.tolist()
        record["template"]["volume_um3"] = float(mesh.volume)
        write_json(tmp / "design.json", record)
        for writer in extra or []:
            summary.update(writer(tmp, design, options, mesh) or {})
        names = sorted(p.name for p in tmp.iterdir())
    files = tuple(Path(out_dir) / n for n in names)
    summary["stl_bytes"] = (Path(out_dir) / f"{design.name}.stl").stat().st_size
    return JobFiles(out_dir=Path(out_dir), files=files, summary=summary)
