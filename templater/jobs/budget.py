"""Cheap size and memory estimates of a job, and the budget that refuses a job up front.

The estimate needs only the nodes of one period (the template is a periodic tensor grid), the
block layout (no slicing) and a few constants measured on the 10 mm egg-box job
(docs/benchmarks.md); it never builds the mesh.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from templater.fab.gwl_plan import block_layout
from templater.fab.mesh import TemplateOptions
from templater.fab.printer import PrinterProfile
from templater.fab.stl_stream import estimate_facets
from templater.geometry.errors import TemplaterError
from templater.geometry.surfaces import Surface

__all__ = ["JobEstimate", "BudgetExceeded", "estimate_job", "check_budget",
           "default_memory_budget", "default_file_budget", "parse_bytes", "STREAM_MIN_FACETS"]

# above this many facets the STL is streamed and the GWL plan sees only the distinct blocks
STREAM_MIN_FACETS = 3_000_000
_BYTES_PER_FACET_MESH = 400  # in-memory build (trimesh + clipping + STL buffer), measured
_BASE_BYTES = 250_000_000  # interpreter, numpy, shapely, trimesh, solver tables
_STRIP_BYTES = 350_000_000  # one strip of the streamed STL
_JOB_BYTES_PER_PLACEMENT = 200  # one placement in NAME_job.gwl
_GWL_BYTES_PER_UM = 0.7  # block-file bytes per µm of written line (hatch + contour)
_WINDOW_BYTES_PER_FACET = 600  # window mesh of the distinct blocks, sliced for the plan
_LAYOUT_MAX_FIELDS = 20  # beyond this footprint size (in fields) the layout is scaled
_PLAN_BYTES_PER_GWL_BYTE = 6  # plan arrays and text per byte of block files


class BudgetExceeded(TemplaterError):
    """A job whose estimated memory or file size exceeds the budget (refused up front)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class JobEstimate:
    """Estimated facets, file sizes (bytes) and peak memory (bytes) of ``make``."""

    nodes_per_period: int
    facets: int
    stl_bytes: int | None
    gwl_bytes: int | None
    placements: int | None
    distinct_blocks: int | None
    layers: int | None
    write_length_um: float | None
    memory_bytes: int
    streamed: bool

    @property
    def file_bytes(self) -> int:
        return (self.stl_bytes or 0) + (self.gwl_bytes or 0)

    def lines(self) -> list[str]:
        """Human-readable summary (MB, GB)."""
        out = [f"estimate: {self.facets:,} facets ({self.nodes_per_period} nodes per period)"]
        if self.placements is not None:
            out.append(f"GWL: ~{self.layers} layers, blocks ~{self.distinct_blocks} distinct / "
                       f"{self.placements} placed, write length "
                       f"~{self.write_length_um / 1e6:.1f} m")
        sizes = [f"STL {_fmt(self.stl_bytes)}" if self.stl_bytes is not None else "",
                 f"GWL job ~{_fmt(self.gwl_bytes)}" if self.gwl_bytes is not None else ""]
        out.append("sizes on disk: " + ", ".join(s for s in sizes if s))
        out.append(f"peak memory ~{_fmt(self.memory_bytes)}")
        return out


def _fmt(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def default_memory_budget() -> int:
    """Half of the machine's physical memory (bytes)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 4 * 10**9


def default_file_budget(out_dir: Path) -> int | None:
    """Free space on the output folder's file system, at most 5 GB (bytes); None when the
    file system reports no free space (e.g. a pseudo file system: the write reports it)."""
    probe = Path(out_dir).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = 20 * 10**9
    return min(free, 5 * 10**9) if free > 0 else None


def parse_bytes(text: str) -> int:
    """``"1.5GB"``, ``"800MB"``, ``"2G"``, ``"500M"`` or a plain number of GB → bytes."""
    t = text.strip().upper().removesuffix("B")
    scale = 10**9
    if t.endswith("G"):
        t = t[:-1]
    elif t.endswith("M"):
        t, scale = t[:-1], 10**6
    elif t.endswith("K"):
        t, scale = t[:-1], 10**3
    value = float(t)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"budget must be positive, got {text!r}")
    return int(value * scale)


def estimate_job(design: Surface, options: TemplateOptions, nodes_um: np.ndarray, *,
                 out_format: str = "both", profile: PrinterProfile,
                 file_budget: int | None = None) -> JobEstimate:
    """Estimate ``make``'s facets, file sizes and peak memory from one period's nodes.

    With ``file_budget``, an STL over it skips the (slower) block layout.
    """
    fp = options.footprint
    n = len(nodes_um) - 1
    facets = estimate_facets(n, design.period_um, fp)
    streamed = facets > STREAM_MIN_FACETS
    stl = out_format != "gwl"
    gwl = out_format != "stl"
    placements = distinct = layers = None
    length = None
    gwl_bytes = None
    mem_gwl = 0
    if stl and file_budget is not None and 84 + 50 * facets > file_budget:
        gwl = False  # refused anyway: no need to lay out the blocks
    if gwl:
        g = np.linspace(0.0, design.period_um, 65)
        xg, yg = np.meshgrid(g, g, indexing="ij")
        top = design.template_top_um(xg, yg, options.base_um)
        limit = _LAYOUT_MAX_FIELDS * profile.field_diameter_um
        small = fp if fp.size_um <= limit else type(fp)(
            shape=fp.shape, size_um=design.period_um * math.ceil(limit / design.period_um))
        heights, grid = block_layout(design, small.polygon(options.tolerance_um),
                                     float(top.max()), profile)
        placements = round(len(grid.blocks) * fp.area_um2 / small.area_um2)
        distinct = len({b.key for b in grid.blocks})
        layers = len(heights)
        # solid fill: every layer's area written at the hatch pitch (+ contours, ~10 %)
        frac = np.array([np.mean(top >= z) if z > 0 else 1.0 for z in heights])
        length = float(fp.area_um2 * frac.sum() / profile.hatch_um * 1.1)
        per_block = length / max(placements, 1)
        gwl_bytes = int(placements * _JOB_BYTES_PER_PLACEMENT
                        + distinct * per_block * _GWL_BYTES_PER_UM)
        mem_gwl = _PLAN_BYTES_PER_GWL_BYTE * gwl_bytes
        if streamed:  # the plan slices the triangles under each distinct block
            span = (grid.pitch_um + 2 * profile.block_overlap_um) / design.period_um
            window = distinct * 2 * (span * n + 2) ** 2
            mem_gwl += int(min(window, facets) * _WINDOW_BYTES_PER_FACET)
    if streamed:
        mem = _BASE_BYTES + _STRIP_BYTES + mem_gwl
    else:
        mem = _BASE_BYTES + facets * _BYTES_PER_FACET_MESH + mem_gwl
    return JobEstimate(nodes_per_period=n, facets=facets,
                       stl_bytes=84 + 50 * facets if stl else None, gwl_bytes=gwl_bytes,
                       placements=placements, distinct_blocks=distinct, layers=layers,
                       write_length_um=length, memory_bytes=int(mem), streamed=streamed)


def check_budget(est: JobEstimate, *, memory_bytes: int | None = None,
                 file_bytes: int | None = None) -> None:
    """Raise :class:`BudgetExceeded` (with the estimate) when ``est`` exceeds a budget."""
    over = []
    if memory_bytes is not None and est.memory_bytes > memory_bytes:
        over.append(f"peak memory ~{_fmt(est.memory_bytes)} exceeds the memory budget "
                    f"{_fmt(memory_bytes)} (--memory-budget)")
    if file_bytes is not None and est.file_bytes > file_bytes:
        over.append(f"files ~{_fmt(est.file_bytes)} exceed the file-size budget "
                    f"{_fmt(file_bytes)} (--file-budget)")
    if over:
        raise BudgetExceeded("job refused: " + "; ".join(over) + ". " + " | ".join(est.lines())
                             + ". Use a coarser --tolerance, a smaller --size or a larger "
                             "budget.")
