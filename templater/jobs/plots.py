"""Pictures of one prediction: maps over the unit cell of the primary and the secondary current
density and of the excess Li pressure (when a creep solve ran), and a cross-section profile.

Every map uses the same fixed layout (:data:`MAP_AXES`, :data:`MAP_SIZE_IN`, :data:`MAP_DPI`) so
that a pixel converts back to a position in the cell: the tests read the hottest pixel back and
find it at the prediction's ``max_location_um``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solver.prediction import Prediction
from solver.results import FieldResult
from templater.jobs.outputs import atomic_output

__all__ = ["MAP_AXES", "MAP_SIZE_IN", "MAP_DPI", "MAP_SAMPLES", "PlotFiles",
           "write_prediction_plots"]

MAP_SIZE_IN = (5.0, 4.0)  # figure size, inches
MAP_DPI = 100
MAP_AXES = (0.12, 0.12, 0.62, 0.78)  # left, bottom, width, height (figure fractions)
MAP_SAMPLES = 200  # samples per period along x and y


@dataclass(frozen=True, slots=True, kw_only=True)
class PlotFiles:
    """What was written, and why a picture is missing (``notes``)."""

    folder: Path
    files: tuple[str, ...]
    notes: tuple[str, ...]


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=MAP_SIZE_IN, dpi=MAP_DPI)
    ax = fig.add_axes(MAP_AXES)
    cax = fig.add_axes((MAP_AXES[0] + MAP_AXES[2] + 0.03, MAP_AXES[1], 0.04, MAP_AXES[3]))
    return plt, fig, ax, cax


def _save(plt, fig, path: Path) -> None:
    fig.savefig(path, dpi=MAP_DPI, format="png", metadata={"Software": None})
    plt.close(fig)


def _current_map(result: FieldResult, period_um: float, title: str, path: Path) -> None:
    t = (np.arange(MAP_SAMPLES) + 0.5) / MAP_SAMPLES * period_um
    x, y = np.meshgrid(t, t, indexing="xy")
    ratio = result.current_ratio_at_um(x, y)
    plt, fig, ax, cax = _figure()
    image = ax.imshow(ratio, origin="lower", extent=(0.0, period_um, 0.0, period_um),
                      aspect="auto", cmap="viridis", interpolation="nearest")
    fig.colorbar(image, cax=cax, label="local current / J")
    mx, my = (v / 1e-6 for v in result.max_location_m)
    ax.plot([mx], [my], marker="+", color="red", ms=10, mew=1.5)
    ax.set(xlabel="x [um]", ylabel="y [um]", title=title)
    _save(plt, fig, path)


def _pressure_map(pred: Prediction, path: Path) -> None:
    creep = pred.creep
    plt, fig, ax, cax = _figure()
    s = pred.design.period_um
    # the creep solve covers the quarter cell [0, S/2]²: mirror it onto the whole cell
    xs, ys, ps = creep.x_um, creep.y_um, creep.excess_pressure_pa / 1e6
    x = np.concatenate([xs, s - xs, xs, s - xs])
    y = np.concatenate([ys, ys, s - ys, s - ys])
    p = np.tile(ps, 4)
    from matplotlib.tri import LinearTriInterpolator, Triangulation

    t = (np.arange(MAP_SAMPLES) + 0.5) / MAP_SAMPLES * s
    gx, gy = np.meshgrid(t, t, indexing="xy")
    field = LinearTriInterpolator(Triangulation(x, y), p)(gx, gy)
    image = ax.imshow(np.ma.filled(field, np.nan), origin="lower", extent=(0.0, s, 0.0, s),
                      aspect="auto", cmap="magma", interpolation="nearest")
    fig.colorbar(image, cax=cax, label="excess Li pressure at 1 mA/cm^2 [MPa]")
    mx, my = creep.max_location_um
    ax.plot([mx], [my], marker="+", color="cyan", ms=10, mew=1.5)
    ax.set(xlim=(0.0, s), ylim=(0.0, s), xlabel="x [um]", ylabel="y [um]",
           title=f"{pred.design.name}: excess Li pressure")
    _save(plt, fig, path)


def _profile(pred: Prediction, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = pred.design.period_um
    x = np.linspace(0.0, s, 401)
    y = np.zeros_like(x)
    fig, ax = plt.subplots(figsize=(6.0, 3.5), dpi=MAP_DPI, constrained_layout=True)
    ax.fill_between(x, 0.0, pred.design.z_um(x, y), color="0.8", label="electrolyte e(x, 0)")
    ax.set(xlabel="x [um] (y = 0)", ylabel="height [um]", xlim=(0.0, s))
    ax2 = ax.twinx()
    for res, label, style in ((pred.field.primary, "primary", "--"),
                              (pred.field.secondary, "with kinetics", "-")):
        if res is not None:
            ax2.plot(x, res.current_ratio_at_um(x, y), style, label=f"current / J ({label})")
    ax2.set_ylabel("local current / J")
    ax2.legend(loc="upper right", fontsize=8)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"{pred.design.name}: cross-section at y = 0")
    fig.savefig(path, dpi=MAP_DPI, format="png", metadata={"Software": None})
    plt.close(fig)


def write_prediction_plots(pred: Prediction, folder: Path, *,
                           overwrite: bool = False) -> PlotFiles:
    """Write the maps and the profile into ``folder`` (atomically, as a job folder)."""
    s = pred.design.period_um
    notes = []
    with atomic_output(Path(folder), overwrite=overwrite, what="plot folder") as tmp:
        for res, key in ((pred.field.primary, "primary"), (pred.field.secondary, "secondary")):
            if res is not None:
                _current_map(res, s, f"{pred.design.name}: {key} current",
                             tmp / f"current_{key}.png")
        if pred.creep is not None:
            _pressure_map(pred, tmp / "pressure.png")
        elif pred.design.height_um > 0:
            notes.append("no pressure map: the pressure came from the shipped tables, which "
                         "hold only its maximum (use --no-tables to solve the creep problem)")
        _profile(pred, tmp / "profile.png")
        files = tuple(sorted(p.name for p in tmp.iterdir() if not p.name.startswith(".")))
    return PlotFiles(folder=Path(folder), files=files, notes=tuple(notes))
