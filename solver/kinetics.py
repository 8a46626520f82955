"""Nonlinear Butler-Volmer kinetics: the secondary current distribution at a finite current.

The field solvers (:func:`solver.field.solve_field`) use the linearised law i_n = η/R_ct, so
their current ratios do not depend on J. At J of a few mA/cm² (i0 = 2 mA/cm² by default) the
full law is markedly less resistive, which focuses the current more. This module provides

* the plating Butler-Volmer law and its inverse (:func:`bv_current_a_m2`,
  :func:`bv_overpotential_v`);
* the operating-point (differential) kinetic length L_k,eff = κ dη/di at a current
  (:func:`effective_kinetic_length_m`) and the linear solve with it
  (:func:`solve_secondary_operating_point`);
* the full nonlinear secondary distribution (:func:`solve_secondary_bv`), found by iterating the
  existing linear solvers with a local exchange-current factor map g(x, y) (the
  ``exchange_factor_fn`` mechanism of :mod:`solver.coupling`).

Conventions (docs/theory.md, "Current distribution"): η = φ_e − φ_Li is the overpotential the
solvers use (u = κη/J on the interface), positive for plating. For the Li/Li⁺ couple plating is
the cathodic branch, so the plating current is

    i(η) = i0 [exp(α_c F η / RT) − exp(−α_a F η / RT)],

whose slope at η = 0 is the linearised law i = η/R_ct, R_ct = RT / ((α_a + α_c) F i0).

Iteration (default ``update="overpotential"``): with a factor g the linear solvers impose
i = g η/R_ct. Solve k gives i_k and η_k = R_ct i_k/g_k; the next factor is the secant
g_{k+1} = i_BV(η_k + δ_k)/i_lin(η_k + δ_k), the uniform shift δ_k chosen so that
i_BV(η_k + δ_k) carries the applied charge (∫ i dA = J A0). The shift makes the flat interface
exact in one step and removes the mean mode; the shape of η converges with the gain
−s(1 − R_k), s = (dη/di)⁻¹ η/i − 1 at the operating point and R_k = kℓ/(1 + kℓ) the kinetic
response of a mode of wavenumber k, which is small when L_k ≳ S (measured 0.01–0.03 per solve
for egg-boxes at 1–5 mA/cm², 0.03–0.1 for FEM pyramids). Anderson mixing (depth 3) over the
iterates, sampled on the first solve's map grid (FEM: its interface nodes), accelerates it
further. The iteration starts from the uniform factor at the mean interface current J/(A/A0)
(exact on every path). The plain secant at η_k (``"local-overpotential"``, the mean mode with
gain −s: divergent without Anderson mixing for J ≳ 6.6 i0) and the secant at i_k
(``"current"``, gain sR/(1 + s): slow when L_k ≳ S) are kept for comparison. Measured
accuracy, timings and the operating-point comparison: docs/theory.md (Butler-Volmer section).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from solver.field import solve_field
from solver.grid import length_um, scattered_interpolant
from solver.materials import FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K, Materials
from solver.results import FieldResult, FieldSolution
from templater.geometry.surfaces import Surface

__all__ = [
    "BVResult",
    "bv_current_a_m2",
    "bv_overpotential_v",
    "secant_factor",
    "effective_kinetic_length_m",
    "solve_secondary_operating_point",
    "solve_secondary_bv",
]

log = logging.getLogger(__name__)

#: (x_m, y_m) -> local plating current density [A/m²] on the interface.
CurrentFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]

_FEM_QUADRATURE_NODES = 128  # regular grid of the charge integral on the FEM path
_FIELD_DEFAULTS = {name: p.default for name, p in inspect.signature(solve_field).parameters.items()
                   if p.default is not inspect.Parameter.empty}


# --- the Butler-Volmer law ---------------------------------------------------------------------
def _f(materials: Materials) -> float:
    """F / (R T) [1/V]."""
    return FARADAY_C_MOL / (GAS_CONSTANT_J_MOL_K * materials.temperature_k)


def bv_current_a_m2(overpotential_v: ArrayLike, materials: Materials) -> NDArray[np.float64]:
    """Plating current density i(η) = i0 [exp(α_c fη) − exp(−α_a fη)] [A/m²], f = F/RT.

    ``overpotential_v`` is η = φ_e − φ_Li [V] (> 0 plates Li).
    """
    x = _f(materials) * np.asarray(overpotential_v, dtype=float)
    # expm1: no cancellation near η = 0, where the law is the linear one
    return materials.i0_a_m2 * (np.expm1(materials.alpha_c * x) - np.expm1(-materials.alpha_a * x))


def _bv_x(r: NDArray[np.float64], alpha_a: float, alpha_c: float) -> NDArray[np.float64]:
    """Solve exp(α_c x) − exp(−α_a x) = r for x (vectorised, to round-off)."""
    if alpha_a == alpha_c:
        return np.arcsinh(r / 2.0) / alpha_a
    lo = np.where(r > 0, 0.0, -np.log1p(np.abs(r)) / alpha_a)  # h(lo) <= r
    hi = np.where(r > 0, np.log1p(np.abs(r)) / alpha_c, 0.0)  # h(hi) >= r
    x = np.clip(r / (alpha_a + alpha_c), lo, hi)
    for _ in range(200):
        ea, ec = np.exp(-alpha_a * x), np.exp(alpha_c * x)
        h = np.expm1(alpha_c * x) - np.expm1(-alpha_a * x) - r
        lo = np.where(h <= 0, x, lo)
        hi = np.where(h >= 0, x, hi)
        step = h / (alpha_c * ec + alpha_a * ea)
        new = x - step
        outside = (new <= lo) | (new >= hi)
        new = np.where(outside & (hi > lo), 0.5 * (lo + hi), new)
        done = np.abs(new - x) <= 4e-16 * np.maximum(np.abs(x), 1e-300)
        x = new
        if np.all(done | (h == 0)):
            break
    return x


def bv_overpotential_v(current_a_m2: ArrayLike, materials: Materials) -> NDArray[np.float64]:
    """Inverse of :func:`bv_current_a_m2`: η [V] carrying the plating current i [A/m²].

    Closed form for α_a = α_c = α: η = asinh(i / (2 i0)) / (α f); safeguarded Newton otherwise.
    """
    r = np.asarray(current_a_m2, dtype=float) / materials.i0_a_m2
    return _bv_x(r, materials.alpha_a, materials.alpha_c) / _f(materials)


def secant_factor(current_a_m2: ArrayLike, materials: Materials) -> NDArray[np.float64]:
    """g = i / i_lin(η_BV(i)) = R_ct i / η_BV(i) (1 at i = 0; ≥ 1 when α_c ≥ α_a).

    The exchange-current factor that makes the linearised law i = g η/R_ct pass through the
    Butler-Volmer point (η_BV(i), i).
    """
    r = np.asarray(current_a_m2, dtype=float) / materials.i0_a_m2
    x = _bv_x(r, materials.alpha_a, materials.alpha_c)
    a = materials.alpha_a + materials.alpha_c
    safe = np.where(r == 0.0, 1.0, x)
    return np.where(r == 0.0, 1.0, r / (a * safe))


def effective_kinetic_length_m(materials: Materials, current_density_a_m2: float) -> float:
    """Operating-point (differential) kinetic length L_k,eff = κ dη/di at i = J [m].

    dη/di = 1 / (i0 f [α_c exp(α_c fη) + α_a exp(−α_a fη)]) at η = η_BV(J) (found
    numerically). For α_a = α_c: L_k,eff = L_k / sqrt(1 + (J / (2 i0))²), i.e. 1.25× and 1.60×
    shorter than L_k at 3 and 5 mA/cm² for i0 = 2 mA/cm². J → 0 gives L_k = κ R_ct.
    """
    j = float(current_density_a_m2)
    if not math.isfinite(j):
        raise ValueError(f"current_density_a_m2 must be finite, got {current_density_a_m2!r}")
    x = float(_bv_x(np.asarray(j / materials.i0_a_m2), materials.alpha_a, materials.alpha_c))
    didx = materials.i0_a_m2 * (materials.alpha_c * math.exp(materials.alpha_c * x)
                                + materials.alpha_a * math.exp(-materials.alpha_a * x))
    return materials.kappa_s_m / (_f(materials) * didx)


def solve_secondary_operating_point(
    surface: Surface,
    materials: Materials | None = None,
    current_density_a_m2: float = 10.0,
    *,
    operating_current_a_m2: float | None = None,
    **field_kwargs: object,
) -> FieldResult:
    """Linear secondary solve with the operating-point kinetic length L_k,eff.

    ``operating_current_a_m2`` is the current at which dη/di is taken (default J, the applied
    geometric current density); the kinetics are applied as the uniform exchange factor
    L_k/L_k,eff, so the result's ``kinetic_length_m`` stays the reference L_k. Any path of
    :func:`solver.field.solve_field` (uniform factors are exact everywhere).
    """
    materials = Materials() if materials is None else materials
    i_op = current_density_a_m2 if operating_current_a_m2 is None else operating_current_a_m2
    c = materials.kinetic_length_m / effective_kinetic_length_m(materials, i_op)
    return solve_field(surface, materials, mode="secondary",  # type: ignore[return-value]
                       current_density_a_m2=current_density_a_m2,
                       exchange_factor_fn=lambda x, y: np.full(np.shape(x), c),
                       **field_kwargs)


# --- result ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class BVResult:
    """Secondary current distribution with the full Butler-Volmer law at a current density J.

    Attributes
    ----------
    field : FieldResult
        The distribution (``mode="secondary"``, ``kinetic_length_m`` = the reference
        L_k = κ R_ct, ``applied_current_density_a_m2`` = J). Its ``error_estimate`` is the
        discretisation estimate of the last field solve (FEM: the BV solution on the coarse
        mesh) plus the final BV residual; ``converged`` requires both.
    current_density_a_m2 : float
        Applied geometric (projected) current density J [A/m²].
    overpotential_v : (nx, ny) float
        η = φ_e − φ_Li [V] on the map nodes of ``field`` (η_BV of the local current).
    tip_overpotential_v : float
        η at the current maximum [V].
    exchange_factor_range : tuple of float
        (min, max) of the secant factor g = i_BV(η)/i_lin(η) of the last solve on the sample
        points (i0_eff/i0 of the equivalent linear problem).
    operating_point_kinetic_length_m : float
        L_k,eff at i = J (:func:`effective_kinetic_length_m`), for reference.
    iterations : int
        Field solves of the BV iteration (on the reported mesh/resolution).
    field_solves : int
        All field solves (FEM: including the coarse-mesh error estimate).
    converged : bool
        The final BV residual is ≤ ``tol``.
    tol : float
        Tolerance.
    residual_history : tuple of float
        max |i − i_BV(η)| / J on the sample points after every solve (η = R_ct i/g of that
        solve): the nonlinear residual of the boundary condition.
    max_ratio_history : tuple of float
        max i/J after every solve (without ``initial_guess`` the first solve uses the uniform
        factor at the mean interface current J/(A/A0): the operating point at that current).
    update : str
        "overpotential", "local-overpotential" or "current" (module docstring).
    anderson_depth : int
        Anderson mixing depth (0: plain fixed point).
    solve_time_s : float
        Wall time [s].
    """

    field: FieldResult
    current_density_a_m2: float
    overpotential_v: NDArray[np.float64]
    tip_overpotential_v: float
    exchange_factor_range: tuple[float, float]
    operating_point_kinetic_length_m: float
    iterations: int
    field_solves: int
    converged: bool
    tol: float
    residual_history: tuple[float, ...]
    max_ratio_history: tuple[float, ...]
    update: str
    anderson_depth: int
    solve_time_s: float

    def __post_init__(self) -> None:
        arr = np.array(self.overpotential_v, dtype=float)
        arr.flags.writeable = False
        object.__setattr__(self, "overpotential_v", arr)

    @property
    def max_current_ratio(self) -> float:
        """Maximum local current / J (m)."""
        return self.field.max_current_ratio

    @property
    def min_current_ratio(self) -> float:
        """Minimum local current / J."""
        return self.field.min_current_ratio


# --- interpolants and samples ------------------------------------------------------------------
def _fold_wedge(x: NDArray[np.float64], y: NDArray[np.float64],
                s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Map points into the mirror wedge 0 ≤ y ≤ x ≤ S/2 (square symmetry of FEM designs)."""
    x, y = np.mod(x, s), np.mod(y, s)
    x, y = np.minimum(x, s - x), np.minimum(y, s - y)
    return np.maximum(x, y), np.minimum(x, y)


def _trig_matrix(n: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rows evaluating the trigonometric interpolant of n periodic samples at t (radians)."""
    k = np.fft.fftfreq(n, 1.0 / n)
    return np.real(np.exp(1j * np.outer(t, k)) @ np.fft.fft(np.eye(n), axis=0)) / n


def _trig_fn(values: NDArray[np.float64], x_m: NDArray[np.float64],
             y_m: NDArray[np.float64]) -> CurrentFn:
    """Trigonometric interpolant of a periodic map on the regular grid x_m × y_m.

    The same interpolant as :meth:`FieldResult.current_ratio_at`, evaluated separably on
    tensor grids (the solvers' sample grids) and pointwise otherwise."""
    vals = np.array(values, dtype=float)
    nx, ny = vals.shape
    x0, y0 = float(x_m[0]), float(y_m[0])
    period = float(x_m[1] - x_m[0]) * nx if nx > 1 else float(y_m[1] - y_m[0]) * ny
    w = 2.0 * np.pi / period

    def fn(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if x.ndim == 2 and np.all(x == x[:, :1]) and np.all(y == y[:1, :]):
            ex = _trig_matrix(nx, w * (x[:, 0] - x0))
            ey = _trig_matrix(ny, w * (y[0, :] - y0))
            return ex @ vals @ ey.T
        ex = _trig_matrix(nx, w * (x.ravel() - x0))
        ey = _trig_matrix(ny, w * (y.ravel() - y0))
        return np.sum((ex @ vals) * ey, axis=1).reshape(x.shape)

    return fn


def _nodal_fn(node_x_m: NDArray[np.float64], node_y_m: NDArray[np.float64],
              values: NDArray[np.float64], period_m: float) -> CurrentFn:
    """Piecewise-linear interpolant of FEM wedge nodes, unfolded by the square symmetry
    (exact at the nodes, so the iteration on a fixed mesh is nodal)."""
    s = float(period_m)
    fx, fy = _fold_wedge(np.asarray(node_x_m, float), np.asarray(node_y_m, float), s)
    pts = np.round(np.column_stack([fx, fy]) / s, 12)
    pts, idx = np.unique(pts, axis=0, return_index=True)
    interpolate = scattered_interpolant(pts, np.asarray(values, dtype=float)[idx])

    def fn(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        qx, qy = _fold_wedge(np.asarray(x, float), np.asarray(y, float), s)
        qx, qy = np.broadcast_arrays(qx / s, qy / s)
        return interpolate(qx, qy)

    return fn


@dataclass(frozen=True, slots=True)
class _Rep:
    """Representation points of one solve (FEM nodes or the map grid) and their interpolant."""

    res: FieldResult

    @property
    def fem(self) -> bool:
        return self.res.method == "fem" and self.res.node_x_m is not None

    def points(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.fem:
            return np.asarray(self.res.node_x_m), np.asarray(self.res.node_y_m)
        xx, yy = np.meshgrid(np.asarray(self.res.x_m), np.asarray(self.res.y_m), indexing="ij")
        return xx, yy

    def make(self, values: NDArray[np.float64]) -> CurrentFn:
        """The interpolant of ``values`` given at :meth:`points`."""
        r = self.res
        if self.fem:
            period = float(r.x_m[1] - r.x_m[0]) * r.x_m.size
            return _nodal_fn(np.asarray(r.node_x_m), np.asarray(r.node_y_m), values, period)
        return _trig_fn(np.asarray(values).reshape(r.x_m.size, r.y_m.size), r.x_m, r.y_m)

    def quadrature(self) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                  NDArray[np.float64]]:
        """Points and weights of an interface-area quadrature over the cell (the weights sum
        to A/A0): spectral, the map grid (spectrally accurate); FEM, a regular 128 × 128
        midpoint grid (the nodes are graded, so their plain sum is no area integral)."""
        r = self.res
        if self.fem:
            period = float(r.x_m[1] - r.x_m[0]) * r.x_m.size
            t = period * (np.arange(_FEM_QUADRATURE_NODES) + 0.5) / _FEM_QUADRATURE_NODES
            qx, qy = np.meshgrid(t, t, indexing="ij")
        else:
            qx, qy = self.points()
        ex, ey = r.design.gradient(length_um(qx), length_um(qy))
        w = np.sqrt(1.0 + np.asarray(ex) ** 2 + np.asarray(ey) ** 2)
        return qx, qy, w / w.size

    def current(self) -> CurrentFn:
        """Local current density [A/m²] of the solve at any interface point."""
        r = self.res
        return self.make(np.asarray(r.node_current_density_a_m2 if self.fem
                                    else r.current_density_a_m2))


# --- FEM path ----------------------------------------------------------------------------------
def _fem_result(surface: Surface, materials: Materials, j: float, divisions: int,
                r_eff: float | None, map_nodes: int, factor_fn) -> FieldResult:
    """One secondary FEM solve with a factor map, as a FieldResult at J (no error estimate)."""
    from solver.fem_field import solve_fem_field  # lazy: scikit-fem only on this path

    ell_m = materials.kinetic_length_m
    sol = solve_fem_field(surface, float(length_um(ell_m)), divisions=divisions,
                          edge_radius_um=r_eff, map_nodes=map_nodes,
                          exchange_factor_fn=factor_fn)
    return _to_result(surface, materials, j, sol, r_eff)


def _to_result(surface: Surface, materials: Materials, j: float, sol: FieldSolution,
               r_eff: float | None) -> FieldResult:
    area_ratio = float(surface.area_ratio())
    nodes = sol.node_current_ratio
    return FieldResult(
        design=surface, materials=materials, mode="secondary",
        kinetic_length_m=materials.kinetic_length_m, applied_current_density_a_m2=j,
        area_ratio=area_ratio, x_m=sol.x_m, y_m=sol.y_m,
        current_density_a_m2=j * sol.current_ratio,
        max_current_density_a_m2=j * sol.max_current_ratio,
        min_current_density_a_m2=j * sol.min_current_ratio,
        mean_current_density_a_m2=j * sol.flux_ratio / area_ratio,
        max_location_m=sol.max_location_m, error_estimate=math.nan, converged=False,
        iterations=sol.iterations, resolution=sol.resolution,
        degrees_of_freedom=sol.degrees_of_freedom, method=sol.method,
        solve_time_s=sol.solve_time_s, flux_residual=sol.flux_residual,
        edge_radius_um=r_eff, node_x_m=sol.node_x_m, node_y_m=sol.node_y_m,
        node_current_density_a_m2=None if nodes is None else j * nodes,
    )


# --- the iteration -----------------------------------------------------------------------------
def _charge_shift(eta: NDArray[np.float64], current: NDArray[np.float64],
                  weights: NDArray[np.float64], materials: Materials) -> float:
    """Uniform δ with Σ w i_BV(η + δ) = Σ w i (the charge of the last solve), by Newton.

    The weighted sum is increasing and convex-concave in δ; Newton from 0 with bisection
    safeguards converges to round-off in a few steps."""
    target = float(np.sum(weights * current))
    f = _f(materials)
    aa, ac, i0 = materials.alpha_a, materials.alpha_c, materials.i0_a_m2

    def val(d: float) -> tuple[float, float]:
        x = f * (eta + d)
        return (float(np.sum(weights * bv_current_a_m2(eta + d, materials))) - target,
                float(np.sum(weights * i0 * f * (ac * np.exp(ac * x) + aa * np.exp(-aa * x)))))

    lo, hi = -math.inf, math.inf
    d = 0.0
    for _ in range(100):
        h, dh = val(d)
        if h == 0.0:
            break
        if h > 0:
            hi = d
        else:
            lo = d
        new = d - h / dh
        if not lo < new < hi:
            new = 0.5 * (lo + hi) if math.isfinite(lo) and math.isfinite(hi) else new
        if abs(new - d) <= 1e-15 * max(abs(d), float(np.max(np.abs(eta))), 1e-300):
            d = new
            break
        d = new
    return d


@dataclass(slots=True)
class _Run:
    res: FieldResult
    current: CurrentFn  # the iterate x_k of the final solve (its factor is Φ(x_k))
    residuals: list[float]
    maxima: list[float]
    factor_range: tuple[float, float]
    converged: bool


def _iterate(solve: Callable[[Callable | None, float | None], FieldResult],
             start: CurrentFn | float, materials: Materials, j: float, *, tol: float,
             max_iter: int, update: str, depth: int,
             first: FieldResult | None = None) -> _Run:
    """Fixed point x = T(x) on current functions, Anderson-accelerated (type II).

    ``solve(factor_fn, uniform)``: a linear secondary solve with the factor map (or the
    uniform factor ``uniform``). ``start``: the initial iterate (a function, or a constant
    current). T(x) is the current of the solve with g = Φ(x) ("current" update), or
    i_BV(R_ct T/Φ(x)) ("overpotential" update); Φ(i) = :func:`secant_factor`.
    ``first``: the solve of ``start``, if already done.
    """
    def phi(current: NDArray[np.float64]) -> NDArray[np.float64]:
        return secant_factor(current, materials)

    r_ct = materials.charge_transfer_resistance_ohm_m2
    x_fn: CurrentFn
    if isinstance(start, float):
        x_fn = lambda x, y, c=start: np.full(np.shape(x), c)  # noqa: E731
        res = first or solve(None, float(phi(np.asarray(start))))
    else:
        x_fn = start
        res = first or solve(lambda x, y: phi(x_fn(x, y)), None)
    sx, sy = _Rep(res).points()  # fixed sample points: residuals and Anderson vectors
    t_fns: list[CurrentFn] = []
    f_vecs: list[NDArray[np.float64]] = []
    residuals: list[float] = []
    maxima: list[float] = []
    converged = False
    g_s = np.ones(1)
    for k in range(max_iter):
        if k > 0:
            res = solve(lambda x, y, fn=x_fn: phi(fn(x, y)), None)
        rep = _Rep(res)
        cur_fn = rep.current()
        x_s = np.asarray(x_fn(sx, sy), dtype=float).ravel()
        i_s = np.asarray(cur_fn(sx, sy), dtype=float).ravel()
        g_s = phi(x_s)
        eta_s = r_ct * i_s / g_s
        residuals.append(float(np.max(np.abs(i_s - bv_current_a_m2(eta_s, materials))) / j))
        maxima.append(res.max_current_ratio)
        log.debug("BV iteration %d: max i/J %.9f, residual %.2e", k + 1, maxima[-1],
                  residuals[-1])
        if residuals[-1] <= tol:
            converged = True
            break
        if k == max_iter - 1:
            break
        if update == "current":
            t_fn, t_s = cur_fn, i_s
        else:
            shift = 0.0
            if update == "overpotential":
                qx, qy, qw = rep.quadrature()
                i_q = np.asarray(cur_fn(qx, qy), dtype=float)
                eta_q = r_ct * i_q / phi(np.asarray(x_fn(qx, qy), dtype=float))
                shift = _charge_shift(eta_q.ravel(), i_q.ravel(), qw.ravel(), materials)

            def t_fn(x, y, cur=cur_fn, xf=x_fn, c=shift):
                return bv_current_a_m2(r_ct * cur(x, y) / phi(xf(x, y)) + c, materials)
            t_s = bv_current_a_m2(eta_s + shift, materials)
        t_fns.append(t_fn)
        f_vecs.append((t_s - x_s) / j)
        t_fns, f_vecs = t_fns[-(depth + 1):], f_vecs[-(depth + 1):]
        theta = np.zeros(len(t_fns))
        theta[-1] = 1.0
        if len(f_vecs) > 1:
            df = np.column_stack([f_vecs[i + 1] - f_vecs[i] for i in range(len(f_vecs) - 1)])
            gamma, *_ = np.linalg.lstsq(df, f_vecs[-1], rcond=1e-12)
            for i, gm in enumerate(gamma):
                theta[i + 1] -= gm
                theta[i] += gm
        # the next iterate, sampled on this solve's points (no chain of closures)
        px, py = rep.points()
        x_fn = rep.make(sum(float(w) * np.asarray(f(px, py), dtype=float)
                            for w, f in zip(theta, t_fns, strict=True)))

    return _Run(res=res, current=x_fn, residuals=residuals, maxima=maxima,
                factor_range=(float(np.min(g_s)), float(np.max(g_s))), converged=converged)


def solve_secondary_bv(
    surface: Surface,
    materials: Materials | None = None,
    current_density_a_m2: float = 10.0,
    *,
    tol: float = 1e-6,
    max_iter: int = 30,
    update: Literal["overpotential", "local-overpotential", "current"] = "overpotential",
    anderson_depth: int = 3,
    field_rtol: float | None = None,
    initial_guess: BVResult | FieldResult | None = None,
    **field_kwargs: object,
) -> BVResult:
    """Secondary current distribution with the full Butler-Volmer law at the current J.

    Solves Δu = 0 above the interface with κ ∂φ/∂n = i_BV(η), η = φ_e − φ_Li (module
    docstring), by iterating the linear solvers of :func:`solver.field.solve_field` with a
    local exchange-current factor map g = i_BV(η)/i_lin(η). The method is the one
    ``solve_field`` picks (exact for the flat interface, spectral for smooth designs, FEM for
    pyramids, frustums and steep designs); on the FEM path the BV problem is solved on the
    ``fem_divisions`` mesh and again on the ``fem_coarse_divisions`` mesh for the error
    estimate.

    Parameters
    ----------
    surface : Surface
        The design.
    materials : Materials, optional
        κ, i0, α_a, α_c, T (default :class:`Materials`).
    current_density_a_m2 : float, default 10.0
        Applied geometric (projected) current density J [A/m²] (10 A/m² = 1 mA/cm²), > 0.
    tol : float, default 1e-6
        Stop when the BV residual max |i − i_BV(η)|/J on the sample points is ≤ tol. The
        error of the maximum current ratio is below the residual (measured
        |m_k − m_∞| ≤ 0.9 r_k for egg-boxes at 3–10 mA/cm²).
    max_iter : int, default 30
        Maximum field solves of the iteration.
    update : {"overpotential", "local-overpotential", "current"}, default "overpotential"
        Fixed-point map (module docstring): the secant factor at the overpotential of the last
        solve shifted by a uniform δ that restores the charge, the same without the shift
        (slower; divergent without Anderson mixing for J ≳ 6.6 i0), or the secant factor at
        the current of the last solve (slowest for L_k ≳ S).
    anderson_depth : int, default 3
        Anderson mixing depth (0: plain fixed-point iteration).
    field_rtol : float, optional
        ``rtol`` of the spectral solves (default min(1e-6, tol/10), at least 1e-10).
    initial_guess : BVResult or FieldResult, optional
        A solution of the same design (e.g. at a nearby J, inside a fixed point on J*): the
        iteration starts from its current ratio map instead of the uniform operating point at
        the mean current J/(A/A0). Its method (spectral or FEM) is kept. Measured from 3 to
        3.5 mA/cm² (H25S150): first residual 5e-4 instead of 1e-2, the same 3 solves at
        tol = 1e-6 (one fewer at tol ≳ 1e-5).
    **field_kwargs
        Passed to :func:`solver.field.solve_field` (``method``, ``max_n``, ``fem_divisions``,
        ``fem_coarse_divisions``, ``edge_radius_um``, ``map_nodes``, ...).

    Returns
    -------
    BVResult

    Raises
    ------
    ValueError
        Non-positive J or tol, ``max_iter`` < 1, unknown ``update``, negative depth, an
        ``initial_guess`` of another design.
    """
    j = current_density_a_m2
    if not (isinstance(j, (int, float)) and math.isfinite(j) and j > 0):
        raise ValueError(f"current_density_a_m2 must be > 0, got {j!r}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"max_iter must be >= 1, got {max_iter!r}")
    if update not in ("overpotential", "local-overpotential", "current"):
        raise ValueError("update must be 'overpotential', 'local-overpotential' or 'current', "
                         f"got {update!r}")
    if anderson_depth < 0:
        raise ValueError(f"anderson_depth must be >= 0, got {anderson_depth!r}")
    if "exchange_factor_fn" in field_kwargs or "mode" in field_kwargs:
        raise TypeError("solve_secondary_bv sets mode and exchange_factor_fn itself")
    j = float(j)
    materials = Materials() if materials is None else materials
    t0 = time.perf_counter()
    rtol = max(min(1e-6, tol / 10.0), 1e-10) if field_rtol is None else field_rtol
    opts = dict(_FIELD_DEFAULTS, **field_kwargs)
    solves = 0

    def solve_any(factor_fn, uniform):
        nonlocal solves
        solves += 1
        fn = factor_fn if uniform is None else (lambda x, y: np.full(np.shape(x), uniform))
        return solve_field(surface, materials, mode="secondary", rtol=rtol,
                           current_density_a_m2=j, exchange_factor_fn=fn, **field_kwargs)

    kw = dict(tol=tol, max_iter=max_iter, update=update, depth=anderson_depth)
    guess = initial_guess.field if isinstance(initial_guess, BVResult) else initial_guess
    start: CurrentFn | float = j / float(surface.area_ratio())  # mean interface current
    first: FieldResult | None = None
    if guess is not None and guess.method != "exact":
        if guess.design != surface:
            raise ValueError(f"initial_guess solves {guess.design.name}, not {surface.name}")
        prev = _Rep(guess).current()
        scale = j / guess.applied_current_density_a_m2
        start = lambda x, y: scale * prev(x, y)  # noqa: E731
        method, r_eff = guess.method, guess.edge_radius_um
    else:
        # the first solve is uniform (exact on every path) and tells which path solve_field
        # takes; on the FEM path it is the fine-mesh solve of the first iterate
        g0 = float(secant_factor(start, materials))
        solves += 1
        first = solve_field(surface, materials, mode="secondary", rtol=rtol,
                            current_density_a_m2=j,
                            exchange_factor_fn=lambda x, y: np.full(np.shape(x), g0),
                            **dict(field_kwargs, fem_coarse_divisions=0))
        method, r_eff = first.method, first.edge_radius_um
    if method != "fem":
        run = _iterate(solve_any, start, materials, j, first=first, **kw)
        disc_error, disc_ok = run.res.error_estimate, run.res.converged
        iterations = len(run.maxima)
    else:
        fine_n, coarse_n = int(opts["fem_divisions"]), int(opts["fem_coarse_divisions"])
        n_map = int(opts["map_nodes"])

        def fem_solver(divisions: int):
            def solve_fem(factor_fn, uniform):
                nonlocal solves
                solves += 1
                fn = (factor_fn if uniform is None
                      else (lambda x, y: np.full(np.shape(x), uniform)))
                return _fem_result(surface, materials, j, divisions, r_eff, n_map, fn)
            return solve_fem

        run = _iterate(fem_solver(fine_n), start, materials, j, first=first, **kw)
        iterations = len(run.maxima)
        disc_error, disc_ok = math.nan, False
        if 0 < coarse_n < fine_n:
            rough = _iterate(fem_solver(coarse_n), run.current, materials, j, **kw)
            disc_error = abs(run.res.max_current_ratio - rough.res.max_current_ratio) / abs(
                run.res.max_current_ratio)
            disc_ok = bool(math.isfinite(disc_error) and disc_error <= float(opts["fem_rtol"]))
    final_residual = run.residuals[-1]
    field = replace(run.res, error_estimate=float(disc_error) + final_residual,
                    converged=bool(disc_ok and run.converged),
                    solve_time_s=time.perf_counter() - t0)
    if not run.converged:
        log.warning("%s: Butler-Volmer iteration not converged to %.1e in %d solves "
                    "(residual %.2e)", surface.name, tol, iterations, final_residual)
    eta = bv_overpotential_v(np.asarray(field.current_density_a_m2), materials)
    return BVResult(
        field=field, current_density_a_m2=j, overpotential_v=eta,
        tip_overpotential_v=float(bv_overpotential_v(field.max_current_density_a_m2,
                                                     materials)),
        exchange_factor_range=run.factor_range,
        operating_point_kinetic_length_m=effective_kinetic_length_m(materials, j),
        iterations=iterations, field_solves=solves, converged=run.converged, tol=float(tol),
        residual_history=tuple(run.residuals), max_ratio_history=tuple(run.maxima),
        update=update, anderson_depth=int(anderson_depth),
        solve_time_s=time.perf_counter() - t0,
    )
