"""Surface (µm) → solver frame (SI): the single µm → m conversion boundary of the solver.

The designs in :mod:`templater.geometry.surfaces` give the electrolyte height ``e(x, y)`` in µm. The
solver works in its own frame (docs/theory.md, "Solver frame"): z points from the
Li into the electrolyte and the interface is ``z = f(x, y) = H − e(x, y)`` (metres); the
electrolyte occupies ``z > f``. Peaks of ``f`` are the Li tips (troughs of ``e``).

Origin choices (``origin`` argument of :func:`periodic_grid`):

- ``"surface"`` (default): the design's own origin; cell nodes ``x_i = i S / n``, i = 0 … n−1,
  i.e. ``[0, S)``. Every kind has an electrolyte peak (Li trough) at (0, 0); for the product
  egg-box the Li tips (f = H) are at (S/2, 0) and (0, S/2), grid nodes whenever n is even.
- ``"centered"``: nodes ``x_i = −S/2 + i S / n``, i.e. ``[−S/2, S/2)``, same lattice shifted.

Arrays are indexed ``[i, j]`` ↔ ``(x_m[i], y_m[j])`` (numpy ``indexing="ij"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from templater.geometry.surfaces import Surface
from templater.geometry.units import m_to_um, um_to_m

__all__ = ["InterfaceGrid", "periodic_grid", "length_m", "length_um", "period_m", "height_m",
           "scattered_interpolant"]


def length_m(value_um: ArrayLike) -> NDArray[np.float64] | float:
    """Micrometres → metres (the solver's only µm → m conversion)."""
    out = um_to_m(np.asarray(value_um, dtype=float))
    return float(out) if np.ndim(out) == 0 else out


def length_um(value_m: ArrayLike) -> NDArray[np.float64] | float:
    """Metres → micrometres (for reporting back in design units)."""
    out = m_to_um(np.asarray(value_m, dtype=float))
    return float(out) if np.ndim(out) == 0 else out


def period_m(surface: Surface) -> float:
    """Lateral period S of a design [m]."""
    return float(length_m(surface.period_um))


def height_m(surface: Surface) -> float:
    """Peak-to-trough height H of a design [m]."""
    return float(length_m(surface.height_um))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class InterfaceGrid:
    """The interface ``z = f(x, y)`` sampled on a periodic ``nx × ny`` grid, SI units.

    Attributes
    ----------
    x_m, y_m : (nx,), (ny,) float
        Node coordinates [m] of one cell.
    f_m : (nx, ny) float
        Interface height ``f = H − e`` [m] at ``(x_m[i], y_m[j])``.
    dfdx, dfdy : (nx, ny) float
        Analytic slopes ∂f/∂x, ∂f/∂y [-].
    period_m : float
        Cell size S [m].
    height_m : float
        Design height H [m].
    """

    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    f_m: NDArray[np.float64]
    dfdx: NDArray[np.float64]
    dfdy: NDArray[np.float64]
    period_m: float
    height_m: float

    def __post_init__(self) -> None:
        for a in (self.x_m, self.y_m, self.f_m, self.dfdx, self.dfdy):
            a.flags.writeable = False

    @property
    def shape(self) -> tuple[int, int]:
        """(nx, ny)."""
        return self.f_m.shape  # type: ignore[return-value]

    @property
    def area_factor(self) -> NDArray[np.float64]:
        """Local area per projected area sqrt(1 + |∇f|²), (nx, ny)."""
        return np.sqrt(1.0 + self.dfdx**2 + self.dfdy**2)


def periodic_grid(
    surface: Surface,
    nx: int,
    ny: int | None = None,
    *,
    origin: Literal["surface", "centered"] = "surface",
) -> InterfaceGrid:
    """Sample a design's interface on a periodic grid in the solver frame.

    Parameters
    ----------
    surface : Surface
        Design (electrolyte height ``e`` in µm, period ``S`` in µm).
    nx, ny : int
        Nodes per period along x and y (``ny`` defaults to ``nx``), each ≥ 2.
    origin : {"surface", "centered"}, default "surface"
        Cell ``[0, S)`` in the design's own coordinates, or ``[−S/2, S/2)``.

    Returns
    -------
    InterfaceGrid
        ``f = H − e`` [m] and its slopes on the ``(nx, ny)`` grid.
    """
    ny = nx if ny is None else ny
    if nx < 2 or ny < 2:
        raise ValueError(f"grid needs at least 2 nodes per direction, got ({nx}, {ny})")
    if origin not in ("surface", "centered"):
        raise ValueError(f"origin must be 'surface' or 'centered', got {origin!r}")
    s_um = float(surface.period_um)
    shift = -0.5 * s_um if origin == "centered" else 0.0
    x_um = shift + s_um * np.arange(nx) / nx
    y_um = shift + s_um * np.arange(ny) / ny
    xx, yy = np.meshgrid(x_um, y_um, indexing="ij")
    e_um = np.asarray(surface.z_um(xx, yy), dtype=float)
    ex, ey = surface.gradient(xx, yy)
    h_m = height_m(surface)
    return InterfaceGrid(
        x_m=np.asarray(length_m(x_um)),
        y_m=np.asarray(length_m(y_um)),
        f_m=h_m - np.asarray(length_m(e_um)),
        dfdx=-np.asarray(ex, dtype=float),
        dfdy=-np.asarray(ey, dtype=float),
        period_m=period_m(surface),
        height_m=h_m,
    )


def scattered_interpolant(points: NDArray[np.float64], values: NDArray[np.float64]):
    """Piecewise-linear interpolant of scattered 2-D nodes (Delaunay), with the nearest node
    outside the triangulation (round-off only): ``f(x, y) -> ndarray``."""
    from scipy.interpolate import LinearNDInterpolator, NearestNDInterpolator
    from threadpoolctl import threadpool_limits

    linear, nearest = LinearNDInterpolator(points, values), NearestNDInterpolator(points, values)

    def interpolate(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        # one BLAS thread: scipy fills the barycentric transforms with three small LAPACK calls
        # per triangle, which on a loaded machine with OpenBLAS threads took 4-8 s for 632
        # triangles instead of about 1 ms
        with threadpool_limits(limits=1, user_api="blas"):
            out = np.asarray(linear(x, y), dtype=float)
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = nearest(x[bad], y[bad])
        return out

    return interpolate
