"""Frozen result objects of the field solver (SI units, read-only arrays).

:class:`FieldResult` holds one current distribution (primary or secondary) on one periodic cell;
:class:`FieldPair` holds the primary and secondary results of one design and renders the JSON
object printed by ``templater predict --json``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from solver.grid import length_m
from solver.grid import length_um as m_to_um
from solver.materials import Materials
from templater.geometry.surfaces import Surface

__all__ = ["FieldSolution", "FieldResult", "FieldPair"]


def _num(value: float | None) -> float | None:
    """JSON-safe float (NaN → None)."""
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


def _trig_rows(n: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows evaluating the trigonometric interpolant of n periodic samples at x (radians)."""
    k = np.fft.fftfreq(n, 1.0 / n)
    return np.real(np.exp(1j * np.outer(x, k)) @ np.fft.fft(np.eye(n), axis=0)) / n


def _read_only(obj: object, names: tuple[str, ...]) -> None:
    """Store the named array attributes as read-only float arrays (None stays None)."""
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            arr = np.array(value, dtype=float)
            arr.flags.writeable = False
            object.__setattr__(obj, name, arr)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FieldSolution:
    """Normal current i_n/J on one periodic cell, as returned by both field backends (SI).

    Attributes
    ----------
    design : Surface
        The design solved (FEM: with the edge radius actually used).
    method : {"spectral", "fem"}
        Backend.
    kinetic_length_m : float or None
        ℓ = κ R_ct [m] of the Robin condition (None: primary).
    x_m, y_m : (nx,), (ny,) float
        Map node coordinates [m], x_i = i S/nx (design origin, cell ``[0, S)``).
    current_ratio : (nx, ny) float
        i_n/J at ``(x_m[i], y_m[j])`` (FEM: the nodal values interpolated with the design's
        mirror symmetry; spectral: the collocation values).
    max_current_ratio, min_current_ratio : float
        Extremes (spectral: of the trigonometric interpolant; FEM: nodal).
    max_location_m : tuple of float
        (x, y) of the maximum [m].
    min_location_m : tuple of float or None
        (x, y) of the minimum [m] (spectral only).
    mean_current_ratio : float or None
        Interface-area mean of i_n/J (spectral; FEM: None, use ``flux_ratio`` / A/A0).
    flux_ratio : float
        ∫ i_n dA / (J A0) with the conservative current: 1 up to the solver's error.
    error_estimate : float
        Relative error estimate against a coarser level (NaN: none solved).
    converged : bool
        The solve met its tolerance (False when no estimate was made).
    iterations : int
        GMRES operator applications at the final level (0 for direct FEM solves).
    resolution : tuple of int
        Spectral: (nx, ny, nz + 1); FEM: (divisions,).
    degrees_of_freedom : int
        Unknowns of the final solve.
    solve_time_s : float
        Wall time [s].
    history : tuple of tuple
        Spectral levels: (nx, ny, nz + 1, max, min, iterations, seconds, error_estimate).
    gmres_converged : bool
        Spectral: GMRES met its tolerance at the final level (True for FEM).
    node_x_m, node_y_m, node_current_ratio : (m,) float or None
        FEM: projected interface nodes [m] of the 1/8 wedge and i_n/J there (primary: n·∇u
        averaged over the elements sharing the node; secondary: u/ℓ).
    node_current_ratio_variational : (m,) float or None
        FEM: the conservative current at the same nodes.
    flux_ratio_gradient : float or None
        FEM: ``flux_ratio`` integrated from ``node_current_ratio`` instead.
    """

    design: Surface
    method: str
    kinetic_length_m: float | None
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    current_ratio: NDArray[np.float64]
    max_current_ratio: float
    min_current_ratio: float
    max_location_m: tuple[float, float]
    min_location_m: tuple[float, float] | None = None
    mean_current_ratio: float | None = None
    flux_ratio: float
    error_estimate: float = math.nan
    converged: bool = False
    iterations: int = 0
    resolution: tuple[int, ...]
    degrees_of_freedom: int
    solve_time_s: float
    history: tuple[tuple[float, ...], ...] = ()
    gmres_converged: bool = True
    node_x_m: NDArray[np.float64] | None = None
    node_y_m: NDArray[np.float64] | None = None
    node_current_ratio: NDArray[np.float64] | None = None
    node_current_ratio_variational: NDArray[np.float64] | None = None
    flux_ratio_gradient: float | None = None

    def __post_init__(self) -> None:
        _read_only(self, ("x_m", "y_m", "current_ratio", "node_x_m", "node_y_m",
                          "node_current_ratio", "node_current_ratio_variational"))

    @property
    def flux_residual(self) -> float:
        """Charge conservation ``flux_ratio − 1``."""
        return self.flux_ratio - 1.0

    @property
    def edge_radius_um(self) -> float | None:
        """Edge radius of the design solved, µm (None for shapes without edges)."""
        return None if self.design.is_smooth else self.design.edge_radius_um


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FieldResult:
    """Normal current density on the interface of one periodic cell, SI units.

    Attributes
    ----------
    design : Surface
        The design solved (provenance).
    materials : Materials
        Parameters solved with (the secondary uses their kinetic length).
    mode : {"primary", "secondary"}
        Equipotential interface, or linearised Butler-Volmer (Robin) interface.
    kinetic_length_m : float or None
        ℓ = κ R_ct used [m] (None for primary).
    applied_current_density_a_m2 : float
        Geometric (projected) current density J [A/m²] (default 10 A/m² = 1 mA/cm²).
    x_m, y_m : (nx,), (ny,) float
        Cell coordinates [m] of the map nodes x_i = i S/nx (design origin, cell ``[0, S)``).
    current_density_a_m2 : (nx, ny) float
        Normal current density [A/m²] at ``(x_m[i], y_m[j])`` (nx = ny except for ridge
        surfaces uniform in y, where ny = 4). For FEM results, the nodal values interpolated
        (linearly, with the design's mirror symmetry) onto a 64 × 64 grid.
    max_current_density_a_m2, min_current_density_a_m2 : float
        Extremes [A/m²] (spectral: of the trigonometric interpolant; FEM: nodal, with the
        edge radius ``edge_radius_um`` regularising sharp features).
    mean_current_density_a_m2 : float
        Interface-area average [A/m²], equal to J / area_ratio by charge conservation.
    max_location_m : tuple of float
        (x, y) of the maximum [m].
    area_ratio : float
        Interface area / projected area A/A0 of the design.
    error_estimate : float
        Relative error estimate (difference to a coarser resolution; NaN if unavailable).
    converged : bool
        The solve met its tolerance.
    iterations : int
        GMRES operator applications at the final resolution (0 for direct FEM solves).
    resolution : tuple of int
        Spectral: (nx, ny, nz + 1); FEM: (divisions,).
    degrees_of_freedom : int
        Unknowns of the final solve.
    method : {"spectral", "fem", "exact"}
        How the result was obtained ("exact" for the flat interface).
    solve_time_s : float
        Wall time [s].
    flux_residual : float
        Charge conservation ∫ i_n dA / (J A0) − 1.
    edge_radius_um : float or None
        Edge radius used to regularise sharp features (FEM), None otherwise.
    node_x_m, node_y_m, node_current_density_a_m2 : (m,) float or None
        FEM only: the surface nodes and their values, as computed.
    """

    design: Surface
    materials: Materials
    mode: str
    kinetic_length_m: float | None
    applied_current_density_a_m2: float = 10.0
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    current_density_a_m2: NDArray[np.float64]
    max_current_density_a_m2: float
    min_current_density_a_m2: float
    mean_current_density_a_m2: float
    max_location_m: tuple[float, float]
    area_ratio: float
    error_estimate: float
    converged: bool
    iterations: int
    resolution: tuple[int, ...]
    degrees_of_freedom: int
    method: str
    solve_time_s: float
    flux_residual: float
    edge_radius_um: float | None = None
    node_x_m: NDArray[np.float64] | None = None
    node_y_m: NDArray[np.float64] | None = None
    node_current_density_a_m2: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        _read_only(self, ("x_m", "y_m", "current_density_a_m2", "node_x_m", "node_y_m",
                          "node_current_density_a_m2"))

    @property
    def max_current_ratio(self) -> float:
        """Maximum local current / J."""
        return self.max_current_density_a_m2 / self.applied_current_density_a_m2

    @property
    def min_current_ratio(self) -> float:
        """Minimum local current / J."""
        return self.min_current_density_a_m2 / self.applied_current_density_a_m2

    @property
    def mean_current_ratio(self) -> float:
        """Interface-area mean current / J (= 1 / area_ratio)."""
        return self.mean_current_density_a_m2 / self.applied_current_density_a_m2

    @property
    def current_ratio(self) -> NDArray[np.float64]:
        """Map of i_n / J, (n, n)."""
        return self.current_density_a_m2 / self.applied_current_density_a_m2

    def current_ratio_at(self, x_m: NDArray[np.float64] | float,
                         y_m: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """i_n/J at arbitrary points (x, y) [m] of the periodic interface.

        Spectral and exact results: the trigonometric interpolant of the map (spectrally
        accurate). FEM results: periodic bilinear interpolation of the regular map.
        """
        x, y = np.broadcast_arrays(np.asarray(x_m, float), np.asarray(y_m, float))
        ratio = self.current_ratio
        period = float(self.x_m[1] - self.x_m[0]) * ratio.shape[0]
        tx = (x - float(self.x_m[0])) / period * ratio.shape[0]
        ty = (y - float(self.y_m[0])) / period * ratio.shape[1]
        if self.method == "fem":
            nx, ny = ratio.shape
            i0, j0 = np.floor(tx).astype(int), np.floor(ty).astype(int)
            a, b = tx - i0, ty - j0
            v = lambda i, j: ratio[np.mod(i, nx), np.mod(j, ny)]  # noqa: E731
            return ((1 - a) * (1 - b) * v(i0, j0) + a * (1 - b) * v(i0 + 1, j0)
                    + (1 - a) * b * v(i0, j0 + 1) + a * b * v(i0 + 1, j0 + 1))
        ex = _trig_rows(ratio.shape[0], 2 * np.pi * tx.ravel() / ratio.shape[0])
        ey = _trig_rows(ratio.shape[1], 2 * np.pi * ty.ravel() / ratio.shape[1])
        return np.einsum("ij,jk,ik->i", ex, ratio, ey).reshape(x.shape)

    def current_ratio_at_um(self, x_um: NDArray[np.float64] | float,
                            y_um: NDArray[np.float64] | float) -> NDArray[np.float64]:
        """:meth:`current_ratio_at` for points in µm (the creep solver's units)."""
        return self.current_ratio_at(length_m(np.asarray(x_um, dtype=float)),
                                     length_m(np.asarray(y_um, dtype=float)))

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready summary of this result.

        Keys: ``max_current_ratio``, ``min_current_ratio``, ``mean_current_ratio``,
        ``max_location_um`` ([x, y]), ``max_current_density_a_m2``, ``error_estimate``
        (relative, null if unavailable), ``converged``, ``method``, ``resolution``,
        ``degrees_of_freedom``, ``iterations``, ``flux_residual``, ``solve_time_s``,
        ``kinetic_length_um`` (null for primary), ``edge_radius_um`` (null unless FEM).
        """
        return {
            "max_current_ratio": float(self.max_current_ratio),
            "min_current_ratio": float(self.min_current_ratio),
            "mean_current_ratio": float(self.mean_current_ratio),
            "max_location_um": [float(m_to_um(v)) for v in self.max_location_m],
            "max_current_density_a_m2": float(self.max_current_density_a_m2),
            "error_estimate": _num(self.error_estimate),
            "converged": bool(self.converged),
            "method": self.method,
            "resolution": [int(v) for v in self.resolution],
            "degrees_of_freedom": int(self.degrees_of_freedom),
            "iterations": int(self.iterations),
            "flux_residual": _num(self.flux_residual),
            "solve_time_s": float(self.solve_time_s),
            "kinetic_length_um": (None if self.kinetic_length_m is None
                                  else float(m_to_um(self.kinetic_length_m))),
            "edge_radius_um": _num(self.edge_radius_um),
        }


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FieldPair:
    """Primary and secondary current distributions of one design.

    Attributes
    ----------
    design : Surface
        The design solved.
    materials : Materials
        Parameters of the secondary solve.
    primary, secondary : FieldResult or None
        The two distributions (None if not requested).
    """

    design: Surface
    materials: Materials
    primary: FieldResult | None
    secondary: FieldResult | None

    @property
    def area_ratio(self) -> float:
        """Interface area / projected area A/A0."""
        res = self.primary or self.secondary
        return float(res.area_ratio) if res is not None else float(self.design.area_ratio())

    @property
    def solve_time_s(self) -> float:
        """Total wall time of both solves [s]."""
        return float(sum(r.solve_time_s for r in (self.primary, self.secondary) if r))

    def to_json_dict(self) -> dict[str, Any]:
        """The object printed by ``templater predict --json``.

        Schema (stable keys; later versions may add keys, never remove these)::

            {
              "design": {"kind": str, "H_um": float, "S_um": float, ...design options},
              "area_ratio": float,                       # A/A0
              "materials": {"kappa_s_m", "i0_a_m2", "alpha_a", "alpha_c", "temperature_k",
                            "kinetic_length_m"},
              "applied_current_density_a_m2": float,     # J, default 10 (= 1 mA/cm^2)
              "primary":   {"max_current_ratio": float, "min_current_ratio": float, ...},
              "secondary": {"max_current_ratio": float, "min_current_ratio": float, ...},
              "solve_time_s": float                      # both solves
            }

        ``primary``/``secondary`` hold :meth:`FieldResult.to_json_dict` (all ratios are i/J);
        a mode that was not solved is ``null``.
        """
        res = self.primary or self.secondary
        return {
            "design": self.design.to_dict(),
            "area_ratio": self.area_ratio,
            "materials": self.materials.to_dict(),
            "applied_current_density_a_m2": (float(res.applied_current_density_a_m2)
                                             if res is not None else None),
            "primary": self.primary.to_json_dict() if self.primary else None,
            "secondary": self.secondary.to_json_dict() if self.secondary else None,
            "solve_time_s": self.solve_time_s,
        }
