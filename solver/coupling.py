"""Pressure-kinetics coupling (Monroe & Newman): field solver ↔ creep pressure, fixed point.

Off by default. The excess Li pressure Δp raises the local exchange current,
i0_eff = i0 g, g = exp[s (1 − α_a) V̄_Li Δp / (R T)] (hydrostatic approximation, Li side only;
sign ``pressure_sign`` s = +1, the choice that reinforces current focusing at the Li tips), so
the secondary condition becomes u = (L_k/g) ∂u/∂n. The iteration alternates the secondary field
and ``solve_pressure(i_n/J)`` (a caller-supplied callable, e.g. :func:`creep_pressure_solver`)
until the maximum relative change of i_n is below ``tol``. The quarter-cell pressure is extended
to the periodic cell by mirroring (:func:`pressure_interpolant`, a smooth cosine fit by default
so the spectral solver keeps its geometric convergence). The equilibrium-potential shift
V̄_Li Δp/F is not included.

Model and magnitudes: docs/theory.md ("Pressure-kinetics coupling").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.creep_params import CreepParameters
from solver.field import solve_field
from solver.grid import length_um, scattered_interpolant
from solver.materials import GAS_CONSTANT_J_MOL_K, Materials
from solver.results import FieldResult
from templater.geometry.surfaces import Surface

__all__ = [
    "CouplingResult",
    "LI_MOLAR_VOLUME_M3_MOL",
    "couple_field_creep",
    "creep_pressure_solver",
    "exchange_factor",
    "pressure_interpolant",
]

log = logging.getLogger(__name__)

LI_MOLAR_VOLUME_M3_MOL = 13.0e-6  # V̄_Li (6.941 g/mol / 0.534 g/cm³)

#: (x_um, y_um) -> i_n / J on the interface (the creep solver's current input).
CurrentRatioFnUm = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]
#: current_ratio_fn -> (x_um, y_um, excess_pressure_pa) on the quarter-cell interface nodes.
PressureSolver = Callable[
    [CurrentRatioFnUm], tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
]
#: (x_m, y_m) -> excess pressure [Pa] on the full periodic cell.
PressureMapFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


def exchange_factor(
    excess_pressure_pa: ArrayLike,
    materials: Materials,
    *,
    molar_volume_m3_mol: float = LI_MOLAR_VOLUME_M3_MOL,
    pressure_sign: float = 1.0,
) -> NDArray[np.float64]:
    """Monroe-Newman exchange-current factor g = i0_eff / i0 for an excess Li pressure.

    Parameters
    ----------
    excess_pressure_pa : array_like
        Excess interfacial pressure Δp = p − p_stack [Pa].
    materials : Materials
        Supplies α_a and T.
    molar_volume_m3_mol : float, default 13.0e-6
        Partial molar volume of Li V̄_Li [m³/mol].
    pressure_sign : float, default +1
        s in g = exp[s (1 − α_a) V̄ Δp / (R T)] (module docstring: +1 means higher Li pressure
        raises the exchange current).

    Returns
    -------
    ndarray
        g [-], same shape as ``excess_pressure_pa``.
    """
    dp = np.asarray(excess_pressure_pa, dtype=float)
    rt = GAS_CONSTANT_J_MOL_K * materials.temperature_k
    return np.exp(pressure_sign * (1.0 - materials.alpha_a) * molar_volume_m3_mol * dp / rt)


def _fold_um(x_um: NDArray[np.float64], y_um: NDArray[np.float64],
             s_um: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Map points into the quarter cell [0, S/2]² by the mirror planes x, y = 0, S/2."""
    x, y = np.mod(x_um, s_um), np.mod(y_um, s_um)
    return np.minimum(x, s_um - x), np.minimum(y, s_um - y)


def pressure_interpolant(
    x_um: ArrayLike,
    y_um: ArrayLike,
    excess_pressure_pa: ArrayLike,
    period_um: float,
    *,
    method: Literal["cosine", "linear"] = "cosine",
    max_mode: int | None = None,
) -> PressureMapFn:
    """Extend a quarter-cell nodal pressure map to a function on the whole periodic interface.

    Parameters
    ----------
    x_um, y_um : array_like, (m,)
        Interface node positions [µm] in the quarter cell [0, S/2]².
    excess_pressure_pa : array_like, (m,)
        Pressure at the nodes [Pa].
    period_um : float
        Period S [µm].
    method : {"cosine", "linear"}, default "cosine"
        ``"cosine"``: least-squares fit of Σ a_mn cos(2πmx/S) cos(2πny/S), 0 ≤ m, n ≤ M (exact
        interpolation on a tensor grid of M + 1 node columns); ``"linear"``: piecewise linear on
        the Delaunay triangulation of the quarter-cell nodes, the query points folded into the
        quarter cell by the mirror planes. This equals linear interpolation on the nodes
        unfolded to the full cell with a mirror-symmetric triangulation (a Delaunay
        triangulation of the unfolded tensor grid is not mirror symmetric: its diagonals are
        ambiguous). Nearest node outside the triangulation (round-off only).
    max_mode : int, optional
        M for ``"cosine"``; default: one less than the number of distinct node coordinates
        along the less resolved direction, at most (m^(1/2) − 1).

    Returns
    -------
    callable
        ``(x_m, y_m) -> excess pressure [Pa]``, vectorised, periodic and mirror symmetric.
    """
    x = np.asarray(x_um, dtype=float).ravel()
    y = np.asarray(y_um, dtype=float).ravel()
    p = np.asarray(excess_pressure_pa, dtype=float).ravel()
    if not (x.shape == y.shape == p.shape and x.size >= 1):
        raise ValueError("x_um, y_um and excess_pressure_pa must be 1-D arrays of equal length")
    if not np.all(np.isfinite(p)):
        raise ValueError("excess_pressure_pa must be finite")
    s_um = float(period_um)
    x, y = _fold_um(x, y, s_um)
    if method == "cosine":
        k = 2.0 * np.pi / s_um
        if max_mode is None:
            distinct = min(np.unique(np.round(x, 9)).size, np.unique(np.round(y, 9)).size)
            max_mode = max(0, min(distinct - 1, int(np.sqrt(x.size)) - 1))
        modes = np.arange(max_mode + 1)
        design = (np.cos(k * np.outer(x, modes))[:, :, None]
                  * np.cos(k * np.outer(y, modes))[:, None, :]).reshape(x.size, -1)
        coef, *_ = np.linalg.lstsq(design, p, rcond=None)
        coef = coef.reshape(modes.size, modes.size)

        def cosine_map(x_m: NDArray[np.float64], y_m: NDArray[np.float64]) -> NDArray[np.float64]:
            xq, yq = np.broadcast_arrays(np.asarray(length_um(np.asarray(x_m, dtype=float))),
                                         np.asarray(length_um(np.asarray(y_m, dtype=float))))
            cx = np.cos(k * xq[..., None] * modes)
            cy = np.cos(k * yq[..., None] * modes)
            return np.einsum("...m,mn,...n->...", cx, coef, cy)

        return cosine_map
    if method != "linear":
        raise ValueError(f"method must be 'cosine' or 'linear', got {method!r}")
    pts, idx = np.unique(np.round(np.column_stack([x, y]), 9), axis=0, return_index=True)
    interpolate = scattered_interpolant(pts, p[idx])

    def linear_map(x_m: NDArray[np.float64], y_m: NDArray[np.float64]) -> NDArray[np.float64]:
        xq, yq = np.broadcast_arrays(np.asarray(length_um(np.asarray(x_m, dtype=float))),
                                     np.asarray(length_um(np.asarray(y_m, dtype=float))))
        return interpolate(*_fold_um(xq, yq, s_um))

    return linear_map


def creep_pressure_solver(
    surface: Surface,
    params: CreepParameters | None = None,
    *,
    current_density_a_m2: float = 10.0,
    **creep_kwargs: object,
) -> PressureSolver:
    """A ``solve_pressure`` callable backed by :func:`solver.creep.solve_creep`.

    ``creep_kwargs`` are passed on (e.g. ``divisions=4``). The pressure is the excess
    hydrostatic pressure (the one that feeds the dendrite model).
    """
    from solver.creep import solve_creep  # lazy: scikit-fem only when the creep path is used

    def solve_pressure(current_ratio_fn: CurrentRatioFnUm):
        res = solve_creep(surface, current_ratio_fn, params,
                          current_density_a_m2=current_density_a_m2, **creep_kwargs)
        return res.x_um, res.y_um, res.excess_pressure_pa

    return solve_pressure


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CouplingResult:
    """Field solution with pressure-dependent kinetics, and how much the coupling changed it.

    Attributes
    ----------
    coupled : FieldResult
        Secondary field with i0_eff = i0 g(Δp) from the last pressure map.
    uncoupled : FieldResult
        Secondary field with uniform kinetics (the starting point).
    iterations : int
        Coupled field solves performed (pressure solves = ``iterations``).
    converged : bool
        The last change of i_n was below ``tol``.
    tol : float
        Tolerance on the maximum relative change of i_n between successive fields.
    change_history : tuple of float
        max |i_k − i_{k−1}| / i_{k−1} over the interface, per iteration.
    max_current_relative_change : float
        (max i_n coupled − max i_n uncoupled) / max i_n uncoupled (signed).
    max_local_relative_change : float
        max over the interface of |i_coupled − i_uncoupled| / i_uncoupled.
    max_excess_pressure_pa, min_excess_pressure_pa : float
        Extremes of the last pressure map at its nodes [Pa].
    exchange_factor_range : tuple of float
        (min g, max g) at the pressure nodes.
    x_um, y_um, excess_pressure_pa : (m,) float
        The last pressure map (quarter-cell nodes).
    molar_volume_m3_mol : float
        V̄_Li used [m³/mol].
    pressure_sign : float
        Sign convention s (+1: pressure raises i0).
    solve_time_s : float
        Wall time of all field and pressure solves [s].
    """

    coupled: FieldResult
    uncoupled: FieldResult
    iterations: int
    converged: bool
    tol: float
    change_history: tuple[float, ...]
    max_current_relative_change: float
    max_local_relative_change: float
    max_excess_pressure_pa: float
    min_excess_pressure_pa: float
    exchange_factor_range: tuple[float, float]
    x_um: NDArray[np.float64]
    y_um: NDArray[np.float64]
    excess_pressure_pa: NDArray[np.float64]
    molar_volume_m3_mol: float
    pressure_sign: float
    solve_time_s: float

    def __post_init__(self) -> None:
        for name in ("x_um", "y_um", "excess_pressure_pa"):
            arr = np.array(getattr(self, name), dtype=float)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)


def couple_field_creep(
    surface: Surface,
    materials: Materials | None,
    creep_params: CreepParameters | None,
    *,
    solve_pressure: PressureSolver,
    tol: float = 1e-4,
    max_iter: int = 10,
    current_density_a_m2: float = 10.0,
    field_rtol: float = 1e-7,
    interpolation: Literal["cosine", "linear"] = "cosine",
    pressure_sign: float = 1.0,
    **field_kwargs: object,
) -> CouplingResult:
    """Secondary current distribution with Monroe-Newman pressure-dependent exchange current.

    Parameters
    ----------
    surface : Surface
        Design (smooth designs: spectral path; see :func:`solver.field.solve_field`).
    materials : Materials or None
        Kinetics (α_a, T, L_k); None for the defaults.
    creep_params : CreepParameters or None
        Supplies the molar volume V̄_Li (``molar_volume_m3_mol``); None for the defaults
        (13.0 cm³/mol).
    solve_pressure : callable
        ``solve_pressure(current_ratio_fn) -> (x_um, y_um, excess_pressure_pa)``:
        ``current_ratio_fn(x_um, y_um)`` gives i_n/J on the interface; the return value is the
        excess pressure [Pa] at interface nodes of the quarter cell [0, S/2]² (µm), e.g.
        :func:`creep_pressure_solver`.
    tol : float, default 1e-4
        Stop when max |i_k − i_{k−1}| / i_{k−1} over the interface is below ``tol``.
    max_iter : int, default 10
        Maximum coupled field solves.
    current_density_a_m2 : float, default 10.0
        Geometric current density J [A/m²] of the field solves (the pressure solver must use
        the same J; i_n/J is passed to it).
    field_rtol : float, default 1e-7
        Accuracy target of every field solve (well below the change being measured).
    interpolation : {"cosine", "linear"}, default "cosine"
        How the quarter-cell pressure nodes are extended (:func:`pressure_interpolant`).
    pressure_sign : float, default +1
        Sign convention s of the module docstring.
    **field_kwargs
        Passed to :func:`solver.field.solve_field` (e.g. ``max_n``).

    Returns
    -------
    CouplingResult

    Raises
    ------
    ValueError
        Non-positive ``tol`` or ``max_iter`` < 1.
    solver.spectral.UnsupportedSurfaceError
        Non-uniform pressure on a design solved by FEM (not implemented there).
    """
    if not (tol > 0.0 and np.isfinite(tol)):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    materials = Materials() if materials is None else materials
    creep_params = CreepParameters() if creep_params is None else creep_params
    vbar = creep_params.molar_volume_m3_mol
    t0 = time.perf_counter()
    common = dict(mode="secondary", rtol=field_rtol, current_density_a_m2=current_density_a_m2,
                  **field_kwargs)
    uncoupled: FieldResult = solve_field(surface, materials, **common)  # type: ignore[arg-type]
    xx, yy = np.meshgrid(np.asarray(uncoupled.x_m), np.asarray(uncoupled.y_m), indexing="ij")
    base = uncoupled.current_ratio_at(xx, yy)

    current, previous = uncoupled, base
    history: list[float] = []
    converged = False
    px = py = pp = np.zeros(1)
    for _ in range(max_iter):
        solved = solve_pressure(current.current_ratio_at_um)
        px, py, pp = (np.asarray(a, dtype=float) for a in solved)
        p_map = pressure_interpolant(px, py, pp, float(surface.period_um), method=interpolation)

        def factor_fn(x_m: NDArray[np.float64], y_m: NDArray[np.float64],
                      p_map: PressureMapFn = p_map) -> NDArray[np.float64]:
            return exchange_factor(p_map(x_m, y_m), materials, molar_volume_m3_mol=vbar,
                                   pressure_sign=pressure_sign)

        current = solve_field(surface, materials, exchange_factor_fn=factor_fn,
                              **common)  # type: ignore[arg-type]
        now = current.current_ratio_at(xx, yy)
        change = float(np.max(np.abs(now - previous) / np.abs(previous)))
        history.append(change)
        log.debug("coupling iteration %d: max relative change of i_n %.3e", len(history), change)
        previous = now
        if change < tol:
            converged = True
            break
    if not converged:
        log.warning("%s: pressure-kinetics coupling not converged to %.1e in %d iterations "
                    "(last change %.2e)", surface.name, tol, max_iter, history[-1])
    g_nodes = exchange_factor(pp, materials, molar_volume_m3_mol=vbar,
                              pressure_sign=pressure_sign)
    return CouplingResult(
        coupled=current, uncoupled=uncoupled, iterations=len(history), converged=converged,
        tol=float(tol), change_history=tuple(history),
        max_current_relative_change=float(
            (current.max_current_ratio - uncoupled.max_current_ratio)
            / uncoupled.max_current_ratio),
        max_local_relative_change=float(np.max(np.abs(previous - base) / np.abs(base))),
        max_excess_pressure_pa=float(np.max(pp)), min_excess_pressure_pa=float(np.min(pp)),
        exchange_factor_range=(float(np.min(g_nodes)), float(np.max(g_nodes))),
        x_um=px, y_um=py, excess_pressure_pa=pp, molar_volume_m3_mol=float(vbar),
        pressure_sign=float(pressure_sign), solve_time_s=time.perf_counter() - t0,
    )
