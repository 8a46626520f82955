"""The picture of a job folder: ``preview.png``, written by ``templater make``.

Three panels, titled with the design's name:

1. **Template surface**: the template top z_T = base + H − e(x, y) over :data:`PERIODS` ×
   :data:`PERIODS` periods from the footprint's origin, sampled from the design's surface
   function (the one definition the STL and the GWL are built from; no mesh is read, so a
   pellet-scale job costs what a small one costs), with a colour bar in µm. Viridis: the brightest
   pixels are the template's highest points (the Li tips, e = 0), the darkest its lowest (the
   electrolyte peaks, e = H).
2. **One GWL layer of one block**, as written: the contour polylines and hatch segments of one
   layer of a :class:`~templater.fab.gwl_plan.BlockProgram` (the very arrays ``block_text``
   writes to ``NAME_files\\block_KKK.gwl``) in block-local µm, with the usable writing field and
   a zoom showing the individual lines. The block is the distinct block placed most often (the
   typical block; the lowest number on a tie), the layer the one nearest mid-relief
   (base + H/2). Without a GWL job (``--format stl``) the panel says so.
3. **Block layout** over the footprint: the nominal square of every placement (outlined in
   black, filled by distinct block file), the footprint (red), the writing order (arrows in the
   margin: each row +x, rows +y; placement numbers when there are few), the stage start at
   x = y = 0.

The layout is fixed (:data:`PREVIEW_SIZE_IN`, :data:`PREVIEW_DPI` and the ``*_AXES``
rectangles, figure fractions) and each panel's data limits are returned in
:class:`PreviewInfo`, so a pixel converts back to a position (the tests do this). The figure is
drawn on its own Agg canvas (no pyplot, no global backend switch) with matplotlib's default
style, and saved without the ``Software`` metadata: the same job gives byte-identical PNGs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from templater.fab.gwl_plan import BlockProgram, GwlPlan
from templater.fab.mesh import TemplateOptions
from templater.fab.stitch import BlockGrid
from templater.geometry.surfaces import Surface

__all__ = ["PREVIEW_NAME", "PREVIEW_SIZE_IN", "PREVIEW_DPI", "SURFACE_AXES", "LAYER_AXES",
           "ZOOM_AXES", "LAYOUT_AXES", "PERIODS", "SURFACE_SAMPLES", "PreviewInfo",
           "preview_layer", "write_preview"]

PREVIEW_NAME = "preview.png"
PREVIEW_SIZE_IN = (17.0, 6.0)  # figure size, inches
PREVIEW_DPI = 100
_B, _H = 0.2, 0.6  # panel bottom and height (figure fractions)
_W = _H * PREVIEW_SIZE_IN[1] / PREVIEW_SIZE_IN[0]  # panel width: square in pixels
SURFACE_AXES = (0.045, _B, _W, _H)  # left, bottom, width, height (figure fractions)
LAYER_AXES = (0.36, _B, _W, _H)
ZOOM_AXES = (LAYER_AXES[0] + _W + 0.018, _B + _H / 2, _W / 2, _H / 2)
LAYOUT_AXES = (0.765, _B, _W, _H)
PERIODS = 2  # periods shown along x and y by the surface panel
SURFACE_SAMPLES = 200  # samples per period along x and y
_ZOOM_LINES = 16  # the zoom window is this many hatch spacings wide
_NUMBERED = 36  # every placement is numbered up to this many placements

_CONTOUR = "tab:red"
_HATCH = "tab:blue"
_FOOTPRINT = "red"

# light fills of the distinct block files (ColorBrewer Set3), cycled
_PALETTE = np.array([[141, 211, 199], [255, 255, 179], [190, 186, 218], [251, 128, 114],
                     [128, 177, 211], [253, 180, 98], [179, 222, 105], [252, 205, 229],
                     [217, 217, 217], [188, 128, 189], [204, 235, 197], [255, 237, 111]]) / 255

Extent = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax (µm)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreviewInfo:
    """What the preview shows: the layer drawn (None without a GWL job) and each panel's data
    limits (xmin, xmax, ymin, ymax in µm; the layer panel in block-local µm)."""

    file_name: str
    block_file: str | None
    slice_index: int | None
    z_um: float | None
    placements: int | None
    surface_extent_um: Extent
    layer_extent_um: Extent | None
    zoom_extent_um: Extent | None
    layout_extent_um: Extent | None

    def summary(self) -> str:
        """One line for the report of ``make``."""
        parts = ["template surface"]
        if self.block_file is not None:
            parts.append(f"{self.block_file} slice {self.slice_index} (z = {self.z_um:.3f} um)")
        if self.placements is not None:
            parts.append(f"layout of {_count(self.placements, 'block')}")
        return f"{self.file_name}: " + ", ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def preview_layer(plan: GwlPlan, options: TemplateOptions, height_um: float
                  ) -> tuple[BlockProgram, tuple]:
    """The block and layer the preview draws: the distinct block placed most often (lowest
    number on a tie) and its written layer nearest mid-relief, z = base + H/2 (lowest index on a
    tie). The layer is ``(index, z_um, contours, hatches)`` as in ``BlockProgram.layers``."""
    count = np.bincount(plan.placement_program, minlength=len(plan.programs) + 1)[1:]
    count[[not p.layers for p in plan.programs]] = -1  # a block with nothing to write
    prog = plan.programs[int(np.argmax(count))]  # argmax: the first (lowest number) on a tie
    target = options.base_um + 0.5 * height_um
    layer = min(prog.layers, key=lambda lay: (abs(lay[1] - target), lay[0]))
    return prog, layer


def _square(lo_x: float, hi_x: float, lo_y: float, hi_y: float, pad: float) -> Extent:
    """A square extent (equal µm per pixel in x and y on a square panel) around a box."""
    half = 0.5 * max(hi_x - lo_x, hi_y - lo_y) * (1.0 + pad)
    cx, cy = 0.5 * (lo_x + hi_x), 0.5 * (lo_y + hi_y)
    return (cx - half, cx + half, cy - half, cy + half)


def _limits(ax, extent: Extent) -> None:
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])


def _surface(fig, design: Surface, options: TemplateOptions) -> Extent:
    s = design.period_um
    size = PERIODS * s
    n = PERIODS * SURFACE_SAMPLES
    t = (np.arange(n) + 0.5) / n * size
    x, y = np.meshgrid(t, t, indexing="xy")
    h = design.height_um
    top = options.base_um + h - design.z_um(x, y)
    ax = fig.add_axes(SURFACE_AXES)
    cax = fig.add_axes((SURFACE_AXES[0] + _W + 0.006, SURFACE_AXES[1], 0.008, _H))
    lo, hi = options.base_um, options.base_um + h
    if hi - lo < 1e-9:  # flat: a constant image
        lo, hi = lo - 0.5, hi + 0.5
    extent = (0.0, size, 0.0, size)
    image = ax.imshow(top, origin="lower", extent=extent, aspect="auto", cmap="viridis",
                      vmin=lo, vmax=hi, interpolation="nearest")
    fig.colorbar(image, cax=cax, label="template top z [µm]")
    _limits(ax, extent)
    ax.set(xlabel="x [µm]", ylabel="y [µm]")
    ax.set_title(f"template surface z = base + H − e(x, y)\n{PERIODS} × {PERIODS} periods "
                 f"(S = {s:g} µm, H = {h:g} µm)", fontsize=10)
    return extent


def _segments(contours: tuple[NDArray[np.float64], ...]) -> list[NDArray[np.float64]]:
    return [np.asarray(c, dtype=float) for c in contours]


def _layer(fig, plan: GwlPlan, options: TemplateOptions, design: Surface
           ) -> tuple[BlockProgram, tuple, Extent, Extent]:
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Circle, Rectangle

    prog, (k, z, contours, hatches) = preview_layer(plan, options, design.height_um)
    placed = plan.placement_program.count(prog.number)
    ax = fig.add_axes(LAYER_AXES)
    zax = fig.add_axes(ZOOM_AXES)
    radius = plan.grid.settings.usable_radius_um
    (x0, y0, _), (x1, y1, _) = prog.bounds_local_um
    reach = max(radius, abs(x0), abs(x1), abs(y0), abs(y1))
    extent = _square(-reach, reach, -reach, reach, 0.06)
    allpts = np.vstack([*contours, hatches.reshape(-1, 2)])
    if contours:  # zoom on the outermost contour, at its point nearest the field centre
        ring = np.asarray(contours[0])
        centre = ring[int(np.argmin((ring * ring).sum(axis=1)))]
    else:
        centre = allpts[int(np.argmin((allpts * allpts).sum(axis=1)))]
    half = 0.5 * _ZOOM_LINES * plan.profile.hatch_um
    zoom = (float(centre[0]) - half, float(centre[0]) + half,
            float(centre[1]) - half, float(centre[1]) + half)
    for target, lw_h, lw_c in ((ax, 0.3, 0.8), (zax, 0.8, 1.2)):
        if len(hatches):
            target.add_collection(LineCollection(list(hatches), colors=_HATCH, linewidths=lw_h,
                                                 label=f"{len(hatches)} hatch lines"))
        if contours:
            target.add_collection(LineCollection(_segments(contours), colors=_CONTOUR,
                                                 linewidths=lw_c,
                                                 label=f"{len(contours)} contours"))
    ax.add_patch(Circle((0.0, 0.0), radius, fill=False, ls="--", lw=0.8, color="0.5",
                        label=f"usable field (r = {radius:g} µm)"))
    ax.plot([0.0], [0.0], marker="+", color="k", ms=8, mew=1.0, ls="none")
    ax.add_patch(Rectangle((zoom[0], zoom[2]), 2 * half, 2 * half, fill=False, lw=1.0,
                           color="k"))
    _limits(ax, extent)
    ax.set(xlabel="x − x_field [µm] (block-local)", ylabel="y − y_field [µm]")
    ax.set_title(f"GWL layer as written: {prog.file_name}, slice {k}, z = {z:.3f} µm\n"
                 f"(used by {placed} of {len(plan.placement_program)} placements)",
                 fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8,
              frameon=False)
    _limits(zax, zoom)
    zax.set_aspect("equal")
    zax.tick_params(labelsize=7)
    zax.set_title(f"zoom, {2 * half:g} µm wide", fontsize=8)
    fig.text(ZOOM_AXES[0], ZOOM_AXES[1] - 0.07,
             f"{len(contours)} contour polylines (red)\n{len(hatches)} hatch segments (blue)\n"
             f"hatch spacing {plan.profile.hatch_um:g} µm\nfield centre +, zoom □",
             fontsize=8, va="top", ha="left")
    return prog, (k, z), extent, zoom


def _no_layer(fig, why: str) -> None:
    ax = fig.add_axes(LAYER_AXES)
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"{why}:\nno layer to show", ha="center", va="center", fontsize=11,
            transform=ax.transAxes)


def _layout(fig, grid: BlockGrid, options: TemplateOptions, placement_program: tuple[int, ...]
            ) -> Extent:
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Circle, Rectangle

    ax = fig.add_axes(LAYOUT_AXES)
    pitch = grid.pitch_um
    nx, ny = grid.shape
    size = options.footprint.size_um
    span = max(size, nx * pitch, ny * pitch)
    extent = _square(0.0, span, 0.0, span, 0.12)
    blocks = grid.blocks
    boxes = np.array([b.nominal_um for b in blocks], dtype=float)
    polys = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [2, 3]], boxes[:, [0, 3]]],
                     axis=1)
    palette = _PALETTE
    if placement_program:
        faces = palette[(np.asarray(placement_program) - 1) % len(palette)]
    else:
        faces = np.tile(palette[8], (len(blocks), 1))
    if options.footprint.shape == "square":
        ax.add_patch(Rectangle((0.0, 0.0), size, size, fill=False, color=_FOOTPRINT, lw=1.2,
                               zorder=3, label=f"footprint {size:g} µm"))
    else:
        ax.add_patch(Circle((size / 2, size / 2), size / 2, fill=False, color=_FOOTPRINT,
                            lw=1.2, zorder=3, label=f"footprint ⌀ {size:g} µm"))
    ax.add_collection(PolyCollection(list(polys), facecolors=faces, edgecolors="k",
                                     linewidths=1.0 if max(nx, ny) <= 24 else 0.3, zorder=2))
    # writing order, in the margin: each row left to right (+x), rows bottom to top (+y)
    arrow = {"arrowstyle": "-|>", "color": "tab:blue", "lw": 1.5, "mutation_scale": 12}
    margin = -extent[0]
    if nx > 1:
        ax.annotate("", xy=(nx * pitch, -0.5 * margin), xytext=(0.1 * span, -0.5 * margin),
                    arrowprops=arrow, zorder=4)
    if ny > 1:
        ax.annotate("", xy=(-0.5 * margin, ny * pitch), xytext=(-0.5 * margin, 0.1 * span),
                    arrowprops=arrow, zorder=4)
    numbered = blocks if len(blocks) <= _NUMBERED else (blocks[0], blocks[-1])
    fontsize = 8 if max(nx, ny) <= 6 else 7
    for b in numbered:
        bx0, by0, bx1, by1 = b.nominal_um
        ax.text(0.5 * (bx0 + bx1), 0.5 * (by0 + by1) - 0.05 * (by1 - by0), str(b.index),
                ha="center", va="top", fontsize=fontsize, zorder=5)
    ax.plot([0.0], [0.0], marker="*", color="k", ms=11, ls="none", zorder=6,
            label="stage start (x = y = 0)")
    _limits(ax, extent)
    distinct = len(set(placement_program)) if placement_program else None
    files = f", {_count(distinct, 'block file')}" if distinct is not None else ""
    ax.set(xlabel="x [µm]", ylabel="y [µm]")
    source = "" if placement_program else " (the recipe's)"
    ax.set_title(f"block layout{source}: {_count(len(blocks), 'block')}{files}, "
                 f"pitch {pitch:g} µm\n"
                 "writing order: rows bottom to top, each row left to right", fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8,
              frameon=False)
    return extent


def write_preview(path: Path, design: Surface, options: TemplateOptions, *,
                  plan: GwlPlan | None = None, grid: BlockGrid | None = None) -> PreviewInfo:
    """Draw ``preview.png`` of a job at ``path`` (see the module docstring).

    Parameters
    ----------
    plan : GwlPlan, optional
        The GWL plan written to the job: its block grid and one layer of one block are drawn.
    grid : BlockGrid, optional
        The block layout when there is no plan (e.g. the recipe's, for ``--format stl``).
    """
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = plan.grid if plan is not None else grid
    layer = zoom = layout = None
    with matplotlib.style.context("default"):
        fig = Figure(figsize=PREVIEW_SIZE_IN, dpi=PREVIEW_DPI)
        FigureCanvasAgg(fig)
        fig.suptitle(f"{design.name}: {options.footprint.shape} footprint "
                     f"{options.footprint.size_um:g} µm, base {options.base_um:g} µm",
                     fontsize=13, y=0.975)
        surface = _surface(fig, design, options)
        prog = k_z = None
        if plan is not None and any(p.layers for p in plan.programs):
            prog, k_z, layer, zoom = _layer(fig, plan, options, design)
        else:
            _no_layer(fig, "no GWL job written (--format stl)" if plan is None
                      else "the GWL job writes no layer")
        if grid is not None:
            order = plan.placement_program if plan is not None else ()
            layout = _layout(fig, grid, options, order)
        fig.savefig(path, dpi=PREVIEW_DPI, format="png", metadata={"Software": None})
    return PreviewInfo(file_name=Path(path).name,
                       block_file=prog.file_name if prog is not None else None,
                       slice_index=k_z[0] if k_z is not None else None,
                       z_um=k_z[1] if k_z is not None else None,
                       placements=len(grid.blocks) if grid is not None else None,
                       surface_extent_um=surface, layer_extent_um=layer, zoom_extent_um=zoom,
                       layout_extent_um=layout)
