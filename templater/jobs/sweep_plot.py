"""``sweep.png``: the map of J*/J_flat over (S, H) with the printable limits, the paper's designs
and the optimum.

The figure has a fixed layout (:data:`FIG_SIZE_IN`, :data:`DPI`, :data:`AXES`) and the axes span
the grid's cells exactly (:func:`map_extent`), so a pixel converts back to (H, S)
(:func:`pixel_of`); the colour scale runs linearly from the lowest to the highest J*/J_flat of
the grid (:func:`color_range`) with the ``viridis`` colour map. The tests read the picture back:
each cell's colour gives its ratio, and the optimum's marker sits on the best row's pixel.

Drawn: each design as a cell (grey: failed; hatched: computed but not printable), the line
H = z range − base (printer), the line H = (H/S)_max · S, the ``--max-print-hours`` contour of
the print time (magenta; when the grid has at least 2 × 2 known print times), the paper's
designs of the kind (white circles) and the optimum (red star).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from templater.jobs.sweep import SweepResult

__all__ = ["FIG_SIZE_IN", "DPI", "AXES", "CMAP", "OPTIMUM_COLOR", "cell_edges", "map_extent",
           "color_range", "pixel_of", "write_sweep_map"]

FIG_SIZE_IN = (8.0, 5.0)
DPI = 100
AXES = (0.08, 0.11, 0.56, 0.78)  # left, bottom, width, height (figure fractions)
CAX = (0.66, 0.11, 0.022, 0.78)
CMAP = "viridis"
OPTIMUM_COLOR = "#ff0000"
FAILED_COLOR = "#d0d0d0"
PRINT_TIME_COLOR = "#ff00ff"


def cell_edges(values: Sequence[float]) -> NDArray[np.float64]:
    """Cell edges around grid values: midpoints between neighbours, the outer cells as wide as
    their inner half but not below 0 (one value: ±5 %, at least ±0.5)."""
    v = np.asarray(values, float)
    if len(v) == 1:
        half = max(0.05 * abs(v[0]), 0.5)
        return np.array([v[0] - half, v[0] + half])
    mids = 0.5 * (v[1:] + v[:-1])
    first = v[0] - (mids[0] - v[0])
    if v[0] > 0:  # H and S are positive: the first cell starts at 0 at the lowest
        first = max(first, 0.0)
    return np.concatenate(([first], mids, [v[-1] + (v[-1] - mids[-1])]))


def map_extent(result: SweepResult) -> tuple[float, float, float, float]:
    """(S_min, S_max, H_min, H_max) of the axes: the outer cell edges."""
    s = cell_edges(result.settings.periods_um)
    h = cell_edges(result.settings.heights_um)
    return float(s[0]), float(s[-1]), float(h[0]), float(h[-1])


def color_range(result: SweepResult) -> tuple[float, float]:
    """(lowest, highest) J*/J_flat of the successful rows (the ends of the colour scale)."""
    vals = [r.critical_current_ratio for r in result.rows
            if r.status == "ok" and r.critical_current_ratio is not None]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.01, hi + 0.01
    return lo, hi


def pixel_of(result: SweepResult, h_um: float, s_um: float) -> tuple[float, float]:
    """(row, column) of the point (S, H) in ``sweep.png`` (row 0 at the top)."""
    x0, x1, y0, y1 = map_extent(result)
    width, height = FIG_SIZE_IN[0] * DPI, FIG_SIZE_IN[1] * DPI
    fx = AXES[0] + AXES[2] * (s_um - x0) / (x1 - x0)
    fy = AXES[1] + AXES[3] * (h_um - y0) / (y1 - y0)
    return (1.0 - fy) * height, fx * width


def _grid(result: SweepResult, attr: str) -> NDArray[np.float64]:
    nh, ns = len(result.settings.heights_um), len(result.settings.periods_um)
    out = np.full((nh, ns), np.nan)
    for k, row in enumerate(result.rows):
        value = getattr(row, attr)
        if row.status == "ok" and value is not None:
            out[k // ns, k % ns] = value
    return out


def write_sweep_map(result: SweepResult, path: Path) -> Path:
    """Draw the map (see the module docstring) into the PNG file ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    s_edges = cell_edges(result.settings.periods_um)
    h_edges = cell_edges(result.settings.heights_um)
    x0, x1, y0, y1 = map_extent(result)
    ratio = _grid(result, "critical_current_ratio")
    lo, hi = color_range(result)
    lim = result.limits

    fig = plt.figure(figsize=FIG_SIZE_IN, dpi=DPI)
    ax = fig.add_axes(AXES)
    cax = fig.add_axes(CAX)
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad=FAILED_COLOR)
    mesh = ax.pcolormesh(s_edges, h_edges, np.ma.masked_invalid(ratio), cmap=cmap, vmin=lo,
                         vmax=hi, shading="flat", antialiased=False, linewidth=0)
    fig.colorbar(mesh, cax=cax, label="J* / J_flat (predicted)")
    handles: list = []

    # computed but not printable: hatched
    ns = len(result.settings.periods_um)
    hatched = False
    for k, row in enumerate(result.rows):
        if row.status == "ok" and row.printable != "yes":
            i, j = divmod(k, ns)
            ax.add_patch(Rectangle((s_edges[j], h_edges[i]), s_edges[j + 1] - s_edges[j],
                                   h_edges[i + 1] - h_edges[i], fill=False, hatch="///",
                                   edgecolor=(1.0, 1.0, 1.0, 0.8), linewidth=0.0))
            hatched = True
    if hatched:
        handles.append(Patch(facecolor="0.5", hatch="///", edgecolor="white",
                             label="not printable (or unknown)"))
    if any(r.status == "failed" for r in result.rows):
        handles.append(Patch(facecolor=FAILED_COLOR, label="failed (see sweep.csv)"))

    # printable limits
    z_label = (f"H = {lim.max_height_um:g} um: z range {lim.field_z_um:g} - base "
               f"{lim.base_um:g}")
    # each limit in the legend only when its line crosses the map
    if y0 <= lim.max_height_um <= y1:
        ax.axhline(lim.max_height_um, color="black", lw=1.2, ls="--")
        handles.append(Line2D([], [], color="black", lw=1.2, ls="--", label=z_label))
    if lim.aspect_max * x0 <= y1 and lim.aspect_max * x1 >= y0:
        ax.plot([x0, x1], [lim.aspect_max * x0, lim.aspect_max * x1], color="black", lw=1.2,
                ls=":")
        handles.append(Line2D([], [], color="black", lw=1.2, ls=":",
                              label=f"H/S = {lim.aspect_max:g} (kind's limit)"))
    if lim.max_print_hours is not None:
        hours = _grid(result, "print_time_h")
        known = np.isfinite(hours)
        drawn = False
        if hours.shape[0] >= 2 and hours.shape[1] >= 2 and known.sum() >= 4:
            s_mid = np.asarray(result.settings.periods_um, float)
            h_mid = np.asarray(result.settings.heights_um, float)
            contour = ax.contour(s_mid, h_mid, np.ma.masked_invalid(hours),
                                 levels=[lim.max_print_hours], colors=PRINT_TIME_COLOR,
                                 linewidths=1.5)
            drawn = any(len(path.vertices) for path in contour.get_paths())
        if drawn:
            handles.append(Line2D([], [], color=PRINT_TIME_COLOR, lw=1.5,
                                  label=f"print time = {lim.max_print_hours:g} h"))

    # the paper's designs of this kind
    inside = [(n, h, s) for n, h, s in result.presets if x0 <= s <= x1 and y0 <= h <= y1]
    if inside:
        ax.scatter([s for _, _, s in inside], [h for _, h, _ in inside], s=36,
                   facecolor="white", edgecolor="black", linewidth=0.8, zorder=4)
        for name, h, s in inside:
            ax.annotate(name.split("-", 1)[-1], (s, h), xytext=(4, 4),
                        textcoords="offset points", fontsize=6, color="white", zorder=4)
        handles.append(Line2D([], [], ls="", marker="o", markerfacecolor="white",
                              markeredgecolor="black", label="paper's designs"))

    best = result.best
    if best is not None:
        ax.plot([best.S_um], [best.H_um], ls="", marker="*", markersize=16,
                markerfacecolor=OPTIMUM_COLOR, markeredgecolor="black", markeredgewidth=0.6,
                zorder=5)
        err = best.critical_current_ratio_error
        err_txt = "" if err is None else f" ± {err:.1g}"
        handles.append(Line2D([], [], ls="", marker="*", markersize=10,
                              markerfacecolor=OPTIMUM_COLOR, markeredgecolor="black",
                              label=f"optimum {best.name}\nJ*/J_flat = "
                                    f"{best.critical_current_ratio:.3f}{err_txt}"))

    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("S (um)")
    ax.set_ylabel("H (um)")
    opts = ", ".join(f"{k}={v}" for k, v in result.settings.design_options)
    ax.set_title(f"{result.settings.kind}{f' ({opts})' if opts else ''}: predicted J*/J_flat",
                 fontsize=10)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.74, AXES[1] + AXES[3]),
               fontsize=7, frameon=False, borderaxespad=0.0)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    plt.close(fig)
    return Path(path)
