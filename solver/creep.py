"""Creep of plated Li below a contoured interface: excess interfacial pressure.

Creep law: power law (Norton) ε̇_e = A* σ_e^n, optionally with a linear (diffusional) term,
ε̇_e = A1* σ_e + A* σ_e^n with A1 = A σ_t^(n−1) (transition stress σ_t, :class:`CreepParameters`).
Li is an incompressible power-law fluid (inertia-free Stokes flow) filling −D < z < f(x, y),
f = H − e(x, y) (solver frame: z from the Li into the electrolyte). Plated Li enters along the
interface normal at Ω i_n / F (bonded, ``slip="noslip"``, by default; ``"freeslip"`` is the other
bounding case); the far boundary translates rigidly at the stack pressure. One quarter cell is
discretised with isoparametric Taylor-Hood P2/P1 tetrahedra (scikit-fem) and solved by an inexact
Newton method (GMRES preconditioned with a reused sparse LU) with continuation in n. The
power-law problem is homogeneous, Δp = Π·Σ with Σ = (V0/(A* S))^(1/n), so the solver works
dimensionless; the linear term adds the group τ = σ_t/Σ, the law reading ε̇ = τ^(n−1) σ + σ^n in
units of Σ and V0/S, and Π = Π(τ).
Outputs: the excess hydrostatic pressure (it feeds the dendrite criterion), the excess normal
traction, their maxima and Π, with optional grid-convergence estimates
(:func:`richardson_estimate`, :func:`solve_creep_converged`).

Model and method: docs/theory.md ("Li creep", "Numerical methods"); measured convergence and
timings: docs/benchmarks.md ("Creep solver").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from skfem import (
    Basis,
    BilinearForm,
    ElementTetP1,
    ElementTetP2,
    ElementTriP2,
    ElementVector,
    MeshTet,
    MeshTet2,
    MeshTri,
    MeshTri2,
    asm,
)
from skfem.helpers import div
from threadpoolctl import threadpool_limits

from solver.band_nodes import band_nodes
from solver.creep_mirror import MIRROR_TOL, mirror_basis, mirror_dofs, node_mirror
from solver.creep_params import CreepParameters
from solver.sparse_lu import LU, factorize
from templater.geometry.errors import DesignError
from templater.geometry.surfaces import Surface
from templater.geometry.units import UM

__all__ = [
    "CreepOptions",
    "CreepResult",
    "DimensionlessCreep",
    "RichardsonEstimate",
    "mixed_law_stress",
    "first_order_estimate",
    "mesh_vertex_count",
    "richardson_estimate",
    "solve_creep",
    "solve_creep_converged",
    "solve_creep_dimensionless",
    "solve_creep_sequence",
]

logger = logging.getLogger(__name__)

CurrentRatioFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]

_GROWTH = 1.3  # geometric growth of layer thickness away from the interface
_TIP_FLOOR = 1.0 / 16.0  # default tip layers no thinner than this times the uniform first layer
# (thinner ones, at r/S = 0.002 on shallow pyramids, defeat scikit-fem's inverse mapping)
_INTORDER = 5  # 14-point rule with positive weights (the Gram-matrix assembly needs w > 0)
_N_STAGES = (1.0, 2.5, 4.5)  # continuation in n (values >= n are skipped)
_STAGE_TOL = 0.1  # intermediate stages only predict the next one (measured: fewest its)
_STRESS_TOL = 1e-13  # Newton tolerance of the pointwise stress inversion (on ln σ)
_STRESS_MAX_ITER = 60
_FORCING = (1e-5, 0.1)  # bounds of the inexact-Newton forcing term η (relative GMRES residual)
_KRYLOV_MAX = 40  # GMRES iterations before a step falls back to a fresh factorization
_KRYLOV_REFRESH = 25  # a step that needed more GMRES iterations refactorizes at the next one


@dataclass(frozen=True, slots=True)
class _MixedLaw:
    """ε̇ = b1 σ + b2 σ^n in the solver's stress unit k·Σ (logarithms of b1, b2 held).

    :func:`_mixed_law` picks the unit k so that the larger of the two coefficients is 1 and the
    pressures stay O(1) whatever τ = σ_t/Σ is (for τ ≫ 1 they would be O(τ^(1−n)) in Σ)."""

    log_b1: float
    log_b2: float
    unit: float  # k: solver stress unit in Σ


def _mixed_law(n: float, tau: float) -> _MixedLaw | None:
    """The two-mechanism law at exponent n and τ = σ_t/Σ (None: pure power law, τ = 0).

    In units of Σ: ε̇ = a1 σ + σ^n with a1 = τ^(n−1). With σ = k σ' and k = min(1, 1/a1):
    ε̇ = (a1 k) σ' + k^n σ'^n, i.e. ln b1 = ln a1 + ln k and ln b2 = n ln k.
    """
    if tau == 0.0:
        return None
    log_a1 = (n - 1.0) * math.log(tau)
    log_k = min(0.0, -log_a1)
    return _MixedLaw(log_b1=log_a1 + log_k, log_b2=n * log_k, unit=math.exp(log_k))


def mixed_law_stress(
    rate: NDArray[np.float64], n: float, log_b1: float, log_b2: float = 0.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """σ > 0 solving b1 σ + b2 σ^n = ε̇ pointwise, and the slope d ln σ / d ln ε̇.

    Newton's method on F(s) = ln(b1 e^s + b2 e^(ns)) − ln ε̇ in s = ln σ: F is convex (a
    log-sum-exp of affine functions) with slope F' ∈ [1, n], and the start
    s0 = min(ln ε̇ − ln b1, (ln ε̇ − ln b2)/n) (each mechanism alone needs at least the true
    stress) lies right of the root, so the iterates decrease monotonically to it (global,
    quadratic convergence; stops when |Δs| < 1e-13, i.e. σ to ~1e-13 relative).

    Parameters
    ----------
    rate : array
        Equivalent strain rates ε̇ > 0.
    n : float
        Stress exponent, ≥ 1.
    log_b1, log_b2 : float
        ln b1 and ln b2.

    Returns
    -------
    (sigma, slope)
        σ and d ln σ / d ln ε̇ = 1/F'(s) = (b1 σ + b2 σ^n)/(b1 σ + n b2 σ^n) ∈ [1/n, 1].
    """
    log_rate = np.log(rate)
    s = np.minimum(log_rate - log_b1, (log_rate - log_b2) / n)
    for _ in range(_STRESS_MAX_ITER):
        lin, powr = s + log_b1, n * s + log_b2
        share = 0.5 * (1.0 + np.tanh(0.5 * (powr - lin)))  # b2 σ^n / ε̇(σ), overflow-free
        slope = 1.0 + (n - 1.0) * share
        step = (np.logaddexp(lin, powr) - log_rate) / slope
        s = s - step
        if np.all(np.abs(step) <= _STRESS_TOL * np.maximum(1.0, np.abs(s))):
            break
    else:  # pragma: no cover - the monotone iteration always converges
        raise RuntimeError("creep stress inversion did not converge")
    lin, powr = s + log_b1, n * s + log_b2
    share = 0.5 * (1.0 + np.tanh(0.5 * (powr - lin)))
    return np.exp(s), 1.0 / (1.0 + (n - 1.0) * share)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreepOptions:
    """Numerical settings of the creep solver (the physics is in :class:`CreepParameters`).

    Attributes
    ----------
    interface_layer : float, default 1/16
        Thickness of the first element layer at the interface relative to the lateral spacing,
        0.001 to 1 (the no-slip shear layer of the power-law flow needs strong grading).
    lateral_grading : float, default 0.0
        Lateral spacing factor 1 − g at the mirror planes and 1 + g mid-cell, 0 to 0.9. With
        g = 0.8 the focused-current tip pressure converges faster (see the module notes), but
        flat-topped maxima (uniform plating) become erratic, hence the default 0.
    band_grading : bool, default True
        Pyramids and frustums: grade the lateral nodes towards the rounded Li-convex edges (the
        ridges x, y = S/2; inverted designs: the apex or the plateau edge), spacing growing like
        w/8 + distance from a band of half-width w, as the FEM field solver does. Uniform nodes
        miss the rounding band (r = 1 µm at S = 150 µm) and under-estimate Π about threefold
        (docs/benchmarks.md, "Creep solver"). Smooth designs are unaffected.
    tip_layer : float or None, default 1.0
        Rounded designs with ``band_grading``: the first element layer at the interface is
        at most this factor times the local lateral spacing (column by column), so that the
        elements over the rounding band are about as tall as they are wide; None: the
        uniform first layer of ``interface_layer`` only (the elements over the band are then
        needles and Π is over-estimated, docs/benchmarks.md).
    band_elements : int, default 0
        Rounded designs with ``band_grading``: 0 keeps the graded nodes only (one element
        across the band at 3-6 divisions, Π tens of per cent high, docs/benchmarks.md,
        "Rounded tips"); k ≥ 1 adds k uniform elements per band half-width and a geometric
        transition (ratio ``band_growth``) to the graded nodes, 0 to 16.
    band_growth : float, default 2.0
        Growth ratio of that transition, 1.2 to 4.
    tip_floor : float, default 1/16
        The tip layers are no thinner than this times the uniform first layer (0.001 to 1).
        With the band refined a floor above half the band element width decides the first
        layer over the band (at 1/16 and 3 divisions 53 nm at S = 150 µm) and holds Π up by
        up to 40 %; once the floor no longer binds, thinner layers move Π by a few per cent
        (docs/benchmarks.md, "Rounded tips").
    mirror : bool, default True
        Solve the Newton systems in the x ↔ y mirror-symmetric unknowns when the design, its
        current and the mesh have that symmetry (:mod:`solver.creep_mirror`), evaluating half
        of the elements: the same solution, 2-4 times faster. False: always the full system.
    tol : float, default 1e-8
        Newton tolerance on the relative maximum update (final n).
    max_iter : int, default 40
        Newton iterations per continuation stage.
    pressure_tol : float or None, default 1e-6
        Also stop the final Newton stage when the interface pressures changed by less than
        this (relative to their maximum) in two successive iterations; None: ``tol`` only.
        Measured with exact Newton solves: 12 instead of 19 Newton steps at 3 divisions, Π
        changed by 4e-7 (1e-5); the inexact Newton reaches ``tol`` in 12 steps there as well.
    peak_tol : float or None, default 1e-5
        Also stop the final Newton stage when the largest interface pressure (Π, what the
        predictions use) changed by less than this, relative, in two successive full Newton
        steps, while pressures away from it may still move by up to 0.5 % of it; None: the
        other criteria only (docs/benchmarks.md, "Creep solver"). A solve stopped this way is
        ``converged`` although its last update (``step_norm``) may be 1e-2: the step norm is
        then not a measure of convergence.
    """

    interface_layer: float = 1.0 / 16.0
    lateral_grading: float = 0.0
    band_grading: bool = True
    tip_layer: float | None = 1.0
    band_elements: int = 0
    band_growth: float = 2.0
    mirror: bool = True
    tip_floor: float = _TIP_FLOOR
    tol: float = 1e-8
    max_iter: int = 40
    pressure_tol: float | None = 1e-6
    peak_tol: float | None = 1e-5

    def __post_init__(self) -> None:
        if not 0.001 <= self.interface_layer <= 1.0:
            raise DesignError("creep", "interface_layer", "creep-interface-layer",
                              self.interface_layer, "[0.01, 1]", "")
        if not 0.0 <= self.lateral_grading <= 0.9:
            raise DesignError("creep", "lateral_grading", "creep-lateral-grading",
                              self.lateral_grading, "[0, 0.9]", "")
        if not (isinstance(self.band_elements, (int, np.integer))
                and 0 <= self.band_elements <= 16):
            raise DesignError("creep", "band_elements", "creep-band-elements",
                              self.band_elements, "an integer in [0, 16]", "")
        if not 0.001 <= self.tip_floor <= 1.0:
            raise DesignError("creep", "tip_floor", "creep-tip-floor", self.tip_floor,
                              "[0.001, 1]", "")
        for name in ("pressure_tol", "peak_tol"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                raise DesignError("creep", name, f"creep-{name.replace('_', '-')}", value,
                                  "(0, 1) or None", "")
        if not 1.2 <= self.band_growth <= 4.0:
            raise DesignError("creep", "band_growth", "creep-band-growth", self.band_growth,
                              "[1.2, 4]", "")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DimensionlessCreep:
    """Solution of the dimensionless creep problem on the quarter cell (lengths in S).

    Pressures are in units of Σ; positions in units of S. Arrays are read-only.
    """

    x: NDArray[np.float64]  # (m,) interface vertices, in S
    y: NDArray[np.float64]  # (m,)
    pressure: NDArray[np.float64]  # (m,) excess hydrostatic pressure / Σ
    normal_traction: NDArray[np.float64]  # (m,) (−n·σ·n − p_stack) / Σ
    current_ratio: NDArray[np.float64]  # (m,) i_n / J used at the vertices
    outflow_ratio: float  # plated volume flux / (V0 A0) measured at the far boundary
    iterations: int
    converged: bool
    step_norm: float
    dofs: int
    divisions: tuple[int, int]
    layers: int
    transition_ratio: float = 0.0  # τ = σ_t/Σ of the two-mechanism law (0: pure power law)

    def __post_init__(self) -> None:
        for name in ("x", "y", "pressure", "normal_traction", "current_ratio"):
            getattr(self, name).flags.writeable = False


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CreepResult:
    """Excess interfacial pressure of creeping Li on one quarter cell [0, S/2]², SI units.

    Positions are in the surface's coordinates (µm); pressures are excess over p_stack (Pa).
    """

    x_um: NDArray[np.float64]  # (m,) interface vertex positions
    y_um: NDArray[np.float64]  # (m,)
    height_um: NDArray[np.float64]  # (m,) electrolyte height e(x, y) there
    excess_pressure_pa: NDArray[np.float64]  # (m,) p − p_stack (hydrostatic)
    normal_traction_pa: NDArray[np.float64]  # (m,) −n·σ·n − p_stack
    current_ratio: NDArray[np.float64]  # (m,) i_n / J used
    max_excess_pressure_pa: float
    max_location_um: tuple[float, float]
    min_excess_pressure_pa: float
    max_normal_traction_pa: float
    max_traction_location_um: tuple[float, float]
    pressure_factor: float  # Π = max Δp / Σ
    traction_factor: float  # max(−σ_nn − p_stack) / Σ
    stress_scale_pa: float  # Σ
    current_density_a_m2: float
    pressure_factor_error: float  # |Π − Π(divisions − 1)|, nan if not estimated
    outflow_ratio: float
    iterations: int
    converged: bool
    step_norm: float
    dofs: int
    divisions: tuple[int, int]
    solve_time_s: float
    params: CreepParameters = field(repr=False)
    design: Surface = field(repr=False)
    # convergence study (solve_creep with estimate_error=True, solve_creep_converged)
    divisions_sequence: tuple[int, ...] = ()  # lateral divisions of the levels solved
    pressure_factor_sequence: tuple[float, ...] = ()  # Π at those levels
    level_times_s: tuple[float, ...] = ()  # wall time per level
    convergence_order: float = float("nan")  # observed order p (h = 1/divisions), nan if unknown
    extrapolated_pressure_factor: float = float("nan")  # Richardson Π∞ (nan if not available)
    accuracy_met: bool = False  # error estimate <= rtol·Π (solve_creep: rtol = 1 %)
    transition_ratio: float = 0.0  # τ = σ_t/Σ (two-mechanism law; 0: pure power law)
    options: CreepOptions | None = field(default=None, repr=False)  # the mesh options solved

    def __post_init__(self) -> None:
        for name in (
            "x_um",
            "y_um",
            "height_um",
            "excess_pressure_pa",
            "normal_traction_pa",
            "current_ratio",
        ):
            getattr(self, name).flags.writeable = False


def _cells(divisions: int | tuple[int, int]) -> tuple[int, int]:
    """Normalise ``divisions`` to (nx, ny) and validate the range 2 to 32."""
    cells = (divisions, divisions) if np.ndim(divisions) == 0 else tuple(divisions)
    ok = len(cells) == 2 and all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 2 <= c <= 32 for c in cells
    )
    if not ok:
        raise DesignError(
            "creep", "divisions", "creep-divisions", divisions, "[2, 32] or a pair of these", ""
        )
    return int(cells[0]), int(cells[1])


def _lateral_nodes(divisions: int, grading: float) -> NDArray[np.float64]:
    """Nodes on [0, 1/2]; spacing × (1 − grading) at both mirror planes (where the Li tips,
    grooves and electrolyte peaks of every design lie) and × (1 + grading) in the middle."""
    s = np.linspace(0.0, 1.0, divisions + 1)
    return 0.5 * (s - grading * np.sin(2.0 * np.pi * s) / (2.0 * np.pi))


def _levels(
    divisions: int, depth: float, mean_f: float, interface_layer: float
) -> NDArray[np.float64]:
    """Reference vertical nodes s ∈ [0, 1] (1 = interface), graded towards the interface.

    The first layer is ``interface_layer`` times the lateral spacing 1/(2·divisions); the layers
    then grow geometrically with ratio 1 + (_GROWTH − 1)·4/divisions, so that every layer
    (including the deep ones) shrinks in proportion to the lateral spacing under refinement (a
    proper h-family, which Richardson extrapolation needs).
    """
    column = depth + mean_f
    growth = 1.0 + (_GROWTH - 1.0) * 4.0 / divisions
    first = interface_layer * (0.5 / divisions) / column
    n_layers = int(np.ceil(np.log1p((growth - 1.0) / first) / np.log(growth)))
    n_layers = max(n_layers, 2)
    widths = growth ** np.arange(n_layers)
    widths /= widths.sum()
    return np.concatenate([[0.0], np.cumsum(widths[::-1])])  # bottom → interface


class _FirstLayer:
    """First-layer thickness t(x, y) in units of the column (reference s), per column."""

    def __init__(self, xs: NDArray[np.float64], ys: NDArray[np.float64], divisions: int,
                 interface_layer: float, tip_layer: float, column: float,
                 floor: float = _TIP_FLOOR) -> None:
        self.nodes = (xs, ys)
        self.widths = tuple(np.minimum(np.r_[np.diff(v), np.inf], np.r_[np.inf, np.diff(v)])
                            for v in (xs, ys))  # the smaller neighbouring interval per node
        self.cap = interface_layer * (0.5 / divisions) / column
        self.factor = tip_layer / column
        self.floor = floor

    def __call__(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        hx = np.interp(x, self.nodes[0], self.widths[0])
        hy = np.interp(y, self.nodes[1], self.widths[1])
        return np.clip(self.factor * np.minimum(hx, hy), self.floor * self.cap, self.cap)

    def min(self) -> float:
        finest = self.factor * min(w.min() for w in self.widths)
        return float(np.clip(finest, self.floor * self.cap, self.cap))


def _layer_count(first: float, divisions: int) -> int:
    """Layers of a geometric column (growth as in :func:`_levels`) starting at ``first``."""
    growth = 1.0 + (_GROWTH - 1.0) * 4.0 / divisions
    return max(int(np.ceil(np.log1p((growth - 1.0) / first) / np.log(growth))), 2)


def _column_levels(
    sr: NDArray[np.float64], first: NDArray[np.float64], layers: int
) -> NDArray[np.float64]:
    """Map index levels sr ∈ [0, 1] (1 = interface) of each node to a geometric column whose
    first layer is ``first`` (per node) and whose ``layers`` layers fill [0, 1]: the growth g
    solves first·(g^L − 1)/(g − 1) = 1 (bisection on ln g, vectorised)."""
    lo = np.full_like(first, -2.0)
    hi = np.full_like(first, 2.0)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        total = first * np.where(np.abs(mid) < 1e-12, layers,
                                 np.expm1(layers * mid) / np.expm1(np.where(
                                     np.abs(mid) < 1e-12, 1.0, mid)))
        over = total > 1.0
        hi = np.where(over, mid, hi)
        lo = np.where(over, lo, mid)
    lg = 0.5 * (lo + hi)
    kappa = (1.0 - sr) * layers  # layers counted from the interface
    small = np.abs(lg) < 1e-12
    depth = first * np.where(small, kappa, np.expm1(kappa * lg) / np.expm1(np.where(small, 1.0,
                                                                                    lg)))
    return 1.0 - depth


def _surface_mass(
    surface: Surface | None, facets: NDArray[np.int64], xr: NDArray[np.float64],
    yr: NDArray[np.float64], top_nodes: NDArray[np.int64],
) -> sp.csc_matrix:
    """∫ φ_i φ_j dA over boundary triangles ``facets`` (vertex indices) of the P2 nodes
    ``top_nodes`` (in that order), lengths in S: over the interface z = f(x, y) of ``surface``,
    or a plane z = const when ``surface`` is None."""
    used, local = np.unique(facets, return_inverse=True)
    tri = MeshTri2.from_mesh(MeshTri(np.vstack([xr[used], yr[used]]),
                                     local.reshape(facets.shape)))
    basis = Basis(tri, ElementTriP2(), intorder=_INTORDER)
    s = 1.0 if surface is None else surface.period_um

    @BilinearForm
    def _mass(u, v, w):
        if surface is None:
            return u * v
        gx, gy = surface.gradient(w.x[0] * s, w.x[1] * s)
        return u * v * np.sqrt(1.0 + gx**2 + gy**2)

    mass = asm(_mass, basis).tocsr()
    # the triangle mesh's P2 nodes are the interface nodes: match them by (x, y)
    tree = cKDTree(np.column_stack([xr[top_nodes], yr[top_nodes]]))
    dist, order = tree.query(tri.doflocs.T)
    if dist.max() > 1e-9 or np.unique(order).size != top_nodes.size:
        raise RuntimeError("boundary triangles do not match the boundary nodes")
    perm = sp.csr_matrix((np.ones(order.size), (order, np.arange(order.size))),
                         shape=(top_nodes.size, order.size))
    return (perm @ mass @ perm.T).tocsc()


def _mesh_axes(
    surface: Surface, divisions: tuple[int, int], depth: float, interface_layer: float,
    lateral_grading: float, band_grading: bool, tip_layer: float | None, band_elements: int,
    band_growth: float, tip_floor: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], _FirstLayer | None]:
    """(x nodes, y nodes, reference levels, the rounded designs' column-wise first layer or
    None) of the tensor mesh of the quarter cell."""
    h_rel = surface.height_um / surface.period_um
    if band_grading and not surface.is_smooth:
        xs = band_nodes(surface, divisions[0], band_elements, band_growth)
        ys = band_nodes(surface, divisions[1], band_elements, band_growth)
    else:
        xs = _lateral_nodes(divisions[0], lateral_grading)
        ys = _lateral_nodes(divisions[1], lateral_grading)
    if band_grading and not surface.is_smooth and tip_layer is not None:
        # index levels, mapped column by column (the first layer follows the lateral
        # spacing, so that the elements over the rounding band are not needles)
        first = _FirstLayer(xs, ys, max(divisions), interface_layer, tip_layer,
                            depth + 0.5 * h_rel, tip_floor)
        return xs, ys, np.linspace(0.0, 1.0, _layer_count(first.min(), max(divisions)) + 1), \
            first
    return xs, ys, _levels(max(divisions), depth, 0.5 * h_rel, interface_layer), None


def mesh_vertex_count(surface: Surface, divisions: int | tuple[int, int],
                      params: CreepParameters | None = None,
                      options: CreepOptions | None = None) -> int:
    """Vertices of the creep mesh of ``surface`` at ``divisions`` without building it: the
    memory and time of a solve grow with it (a guard before an expensive mesh)."""
    params = CreepParameters() if params is None else params
    o = CreepOptions() if options is None else options
    xs, ys, levels, _ = _mesh_axes(surface, _cells(divisions), params.depth_factor,
                                   o.interface_layer, o.lateral_grading, o.band_grading,
                                   o.tip_layer, o.band_elements, o.band_growth, o.tip_floor)
    return int(xs.size * ys.size * levels.size)


@dataclass(frozen=True)
class _MirrorHalf:
    """The first ``count`` elements (one of each x ↔ y mirror pair; their images follow in the
    same order), the velocity DOFs of their element vectors and the Jacobian CSR slots of
    their element matrices, each followed by those of the images (x and y components swap)."""

    count: int
    dofs: NDArray[np.int64]  # (2 · count · 30,)
    slots: NDArray[np.int64]  # (2 · count · 900,)


def _mirror_order(t: NDArray[np.int64], nodes: NDArray[np.int64]) -> NDArray[np.int64] | None:
    """Element order: one of each mirror pair of the tetrahedra ``t`` (vertices mapped by
    ``nodes``), then their images in the same order; None when an element is its own image
    or an image is not an element."""
    own = np.sort(t, axis=0).T
    image = np.sort(nodes[t], axis=0).T
    index = {tuple(row): i for i, row in enumerate(own.tolist())}
    partner = np.array([index.get(tuple(row), -1) for row in image.tolist()])
    if (partner < 0).any() or (partner == np.arange(partner.size)).any():
        return None
    first = np.flatnonzero(np.arange(partner.size) < partner)
    if 2 * first.size != partner.size:
        return None
    return np.concatenate([first, partner[first]])


def _mirror_half(nodes: NDArray[np.int64], edofs: NDArray[np.int64],
                 keys: NDArray[np.int64], nu: int) -> _MirrorHalf | None:
    """:class:`_MirrorHalf` of elements ordered by :func:`_mirror_order` (``edofs`` (nel, 30)
    in that order); ``keys`` are the sorted row · nu + column keys of the velocity block's CSR
    pattern. None when an image entry is not in the pattern."""
    count = edofs.shape[0] // 2
    mirror_dof = mirror_dofs(nodes)
    own_dofs = edofs[:count]
    image_dofs = mirror_dof[own_dofs]
    slots = []
    for d in (own_dofs, image_dofs):
        k = (np.repeat(d, 30, axis=1).astype(np.int64) * nu + np.tile(d, (1, 30))).ravel()
        pos = np.minimum(np.searchsorted(keys, k), keys.size - 1)
        if not np.array_equal(keys[pos], k):
            return None
        slots.append(pos)
    return _MirrorHalf(count=count, dofs=np.concatenate([own_dofs.ravel(), image_dofs.ravel()]),
                       slots=np.concatenate(slots))


class _Problem:
    """Mesh, bases, boundary frames and constant blocks of one quarter-cell problem."""

    def __init__(
        self,
        surface: Surface,
        divisions: tuple[int, int],
        depth: float,
        slip: str,
        interface_layer: float,
        lateral_grading: float,
        band_grading: bool = False,
        tip_layer: float | None = None,
        band_elements: int = 0,
        band_growth: float = 2.0,
        mirror: bool = True,
        tip_floor: float = _TIP_FLOOR,
    ) -> None:
        period_um = surface.period_um
        h_rel = surface.height_um / period_um
        xs, ys, levels, first = _mesh_axes(surface, divisions, depth, interface_layer,
                                           lateral_grading, band_grading, tip_layer,
                                           band_elements, band_growth, tip_floor)
        rounded = first is not None
        base = MeshTet.init_tensor(xs, ys, levels)
        ref = MeshTet2.from_mesh(base)
        xr, yr, sr = ref.doflocs
        f = h_rel - surface.z_um(xr * period_um, yr * period_um) / period_um
        if rounded:
            # vertices on their columns; edge nodes at the mean of their ends (straight edges in
            # the reference: a column-wise mid-node would bend the flat elements over the band)
            nv = base.p.shape[1]
            s_map = _column_levels(sr[:nv], first(xr[:nv], yr[:nv]), levels.size - 1)
            s_map = np.concatenate([s_map, s_map[base.edges].mean(axis=0)])
        else:
            s_map = sr
        doflocs = np.vstack([xr, yr, -depth + (f + depth) * s_map])
        mesh = replace(ref, doflocs=doflocs)
        self.mesh = mesh
        self.layers = levels.size - 1
        self.n_nodes = doflocs.shape[1]
        self.n_vertices = int(mesh.t.max()) + 1

        self.bu = Basis(mesh, ElementVector(ElementTetP2()), intorder=_INTORDER)
        self.bp = Basis(mesh, ElementTetP1(), intorder=_INTORDER)
        self.nu, self.np_ = self.bu.N, self.bp.N

        @BilinearForm
        def _divergence(u, q, w):
            return -div(u) * q

        self.B = asm(_divergence, self.bu, self.bp).tocsr()

        # weighted symmetric gradients of the 30 local basis functions, components
        # (D11, D22, D33, √2 D12, √2 D13, √2 D23) so that D:D = |Dv|²
        r2 = np.sqrt(0.5)
        dv = []
        for phi in self.bu.basis:
            g = phi[0].grad
            dv.append(
                np.stack(
                    [
                        g[0, 0],
                        g[1, 1],
                        g[2, 2],
                        r2 * (g[0, 1] + g[1, 0]),
                        r2 * (g[0, 2] + g[2, 0]),
                        r2 * (g[1, 2] + g[2, 1]),
                    ]
                )
            )
        # x <-> y mirror of the nodes (None: the mesh or the interface is not symmetric); the
        # elements are ordered one of each mirror pair first, then their images in the same
        # order (a mirror-symmetric state needs the first half only, see _weak_form)
        nodes = node_mirror(xr, yr, sr) if mirror else None
        if nodes is not None and np.abs(f - f[nodes]).max() > MIRROR_TOL * max(h_rel, 1e-3):
            nodes = None
        order = None if nodes is None else _mirror_order(mesh.t, nodes)
        paired = order is not None
        order = order if paired else np.arange(mesh.t.shape[1])
        # element-major (nel, 30, 6, nq): the per-element products below are batched matmuls
        # on contiguous blocks
        self.dv = np.stack(dv).transpose(2, 0, 1, 3)[order]  # a contiguous copy
        self.dx = self.bu.dx[order]  # (nel, nq)
        edofs = self.bu.element_dofs.T[order]  # (nel, 30)
        self.edofs = edofs
        # CSR pattern of the velocity block and, per element entry, its slot in the CSR data:
        # the Jacobian is assembled by one bincount into a fixed pattern
        keys = (np.repeat(edofs, 30, axis=1).astype(np.int64) * self.nu
                + np.tile(edofs, (1, 30))).ravel()
        unique, self.slot = np.unique(keys, return_inverse=True)
        rows = unique // self.nu
        self.k_indices = (unique % self.nu).astype(np.int32)
        self.k_indptr = np.searchsorted(rows, np.arange(self.nu + 1)).astype(np.int32)

        # boundary classification on reference coordinates
        tol = 1e-10
        top = np.abs(sr - 1.0) < tol
        bottom = sr < tol
        xsym = (xr < tol) | (np.abs(xr - 0.5) < tol)
        ysym = (yr < tol) | (np.abs(yr - 0.5) < tol)
        self.top_nodes = np.flatnonzero(top)
        self.top_vertices = np.flatnonzero(top[: self.n_vertices])
        ex, ey = surface.gradient(xr[top] * period_um, yr[top] * period_um)
        ex = np.where(xsym[top], 0.0, ex)
        ey = np.where(ysym[top], 0.0, ey)
        normal = np.stack([ex, ey, np.ones_like(ex)], axis=1)  # into the electrolyte (solver z)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        a = np.array([1.0, 0.0, 0.0]) - normal[:, :1] * normal
        a /= np.linalg.norm(a, axis=1, keepdims=True)
        b = np.cross(normal, a)
        self.normal = normal

        # u = T ũ: at interface nodes ũ = (u_n, u_a, u_b) in the frame (n, a, b)
        frame = np.stack([normal, a, b], axis=2)  # (m, 3 cartesian, 3 local)
        base = 3 * self.top_nodes
        rr = (base[:, None, None] + np.arange(3)[None, :, None]) * np.ones((1, 1, 3), int)
        cc = (base[:, None, None] + np.arange(3)[None, None, :]) * np.ones((1, 3, 1), int)
        other = np.setdiff1d(np.arange(self.nu), (base[:, None] + np.arange(3)).ravel())
        t_u = sp.csr_matrix(
            (
                np.concatenate([frame.ravel(), np.ones(other.size)]),
                (np.concatenate([rr.ravel(), other]), np.concatenate([cc.ravel(), other])),
            ),
            shape=(self.nu, self.nu),
        )
        self.T = t_u
        self.P = sp.block_diag([t_u, sp.identity(self.np_)], format="csr")

        fixed = [base]  # normal component on the interface
        if slip == "noslip":
            fixed += [base + 1, base + 2]
        else:
            fixed += [base[xsym[top]] + 1, base[ysym[top]] + 2]
        off = np.flatnonzero(~top)
        fixed += [3 * off[xsym[off]], 3 * off[ysym[off]] + 1]
        fixed += [3 * np.flatnonzero(bottom), 3 * np.flatnonzero(bottom) + 1]
        self.fixed = np.unique(np.concatenate(fixed))
        self.free = np.setdiff1d(np.arange(self.nu + self.np_), self.fixed)

        # x <-> y mirror: basis of the symmetric free unknowns (None: not symmetric)
        self.mirror_basis = (None if nodes is None
                             else mirror_basis(nodes, self.n_vertices, t_u, self.free))
        self.top_mirror = (None if self.mirror_basis is None
                           else np.searchsorted(self.top_nodes, nodes[self.top_nodes]))
        # at a mirror-symmetric state every element's mirror image contributes the mirrored
        # element vector and matrix: half of the elements suffice (see _weak_form)
        self.half = (_mirror_half(nodes, edofs, unique, self.nu)
                     if self.mirror_basis is not None and paired else None)

        # boundary mass matrices of the interface and the far boundary: scalar P2 on their
        # triangles, parametrised by (x, y) (the interface with the area factor √(1 + |∇e|²));
        # a FacetBasis of the tetrahedra needs scikit-fem's inverse mapping, which fails on
        # the needle elements over narrow rounding bands
        bfacets = mesh.boundary_facets()
        self.bottom_nodes = np.flatnonzero(bottom)
        on = {}
        for name, mask in (("top", top), ("bottom", bottom)):
            on[name] = mesh.facets[:, bfacets[mask[: self.n_vertices][
                mesh.facets[:, bfacets]].all(axis=0)]]
        self.mass_top = _surface_mass(surface, on["top"], xr, yr, self.top_nodes)
        self.mass_bottom = _surface_mass(None, on["bottom"], xr, yr, self.bottom_nodes)

    def boundary_values(self, reaction: NDArray[np.float64]) -> NDArray[np.float64]:
        """Nodal values g on the interface (P2) with ∫_Γ g φ_k dA = reaction_k."""
        return spla.spsolve(self.mass_top, reaction)

    # --- nonlinear operator ------------------------------------------------------------------
    def strain(self, u: NDArray[np.float64],
               elements: slice | None = None) -> NDArray[np.float64]:
        """Symmetric-gradient vector (6, nel, nq) of the cartesian velocity u (on
        ``elements`` only, when given)."""
        dv = self.dv if elements is None else self.dv[elements]
        edofs = self.edofs if elements is None else self.edofs[elements]  # (slices: views)
        nel, _, _, nq = dv.shape
        du = u[edofs][:, None, :] @ dv.reshape(nel, 30, 6 * nq)
        return du.reshape(nel, 6, nq).transpose(1, 0, 2)

    def viscous(
        self,
        u: NDArray[np.float64],
        m: float,
        rate0: float,
        jacobian: bool,
        law: _MixedLaw | None = None,
        symmetric: bool = False,
    ) -> tuple[NDArray[np.float64], sp.csr_matrix | None]:
        """Viscous residual ∫ 2η D(u):D(v) and (optionally) its Newton Jacobian.

        Power law (``law`` None): 2η = (2/3) ε̇^(m−1), m = 1/n. Two-mechanism law: η = σ/(3ε̇)
        with σ(ε̇) from :func:`mixed_law_stress`, and the consistent tangent from implicit
        differentiation, dσ/dε̇ = 1/(b1 + n b2 σ^(n−1)) = (σ/ε̇)·(d ln σ/d ln ε̇).
        ``symmetric``: u is x ↔ y mirror-symmetric, and half of the elements are evaluated.
        """
        half = self.half if symmetric else None
        elements = None if half is None else slice(0, half.count)
        du = self.strain(u, elements)
        dx = self.dx if elements is None else self.dx[elements]
        rate = np.sqrt((2.0 / 3.0) * np.einsum("keq,keq->eq", du, du) + rate0**2)
        if law is None:
            w = (2.0 / 3.0) * rate ** (m - 1.0) * dx  # 2η dx
            coef = ((4.0 / 9.0) * (1.0 - m) * rate ** (m - 3.0) * dx
                    if jacobian and m != 1.0 else None)
        else:
            # residual weight 2η = (2/3) σ/ε̇; tangent: with c_i = D(u):D(v_i) and
            # ∂ε̇/∂u_j = (2/3) c_j/ε̇, the rank-one term is (4/3)(η'/ε̇) c_i c_j with
            # η' = −(σ/ε̇)(1 − β)/(3ε̇), β = d ln σ/d ln ε̇ ∈ [1/n, 1]: negative semi-definite
            # (for the pure power law β = m and it is the term above)
            sigma, beta = mixed_law_stress(rate, 1.0 / m, law.log_b1, law.log_b2)
            secant = sigma / rate  # σ/ε̇ = 3η
            w = (2.0 / 3.0) * secant * dx
            coef = (4.0 / 9.0) * secant * (1.0 - beta) / rate**2 * dx if jacobian else None
        return self._weak_form(du, w, coef, jacobian, half)

    def _weak_form(
        self,
        du: NDArray[np.float64],
        w: NDArray[np.float64],
        coef: NDArray[np.float64] | None,
        jacobian: bool,
        half: _MirrorHalf | None = None,
    ) -> tuple[NDArray[np.float64], sp.csr_matrix | None]:
        """Residual ∫ w D(u):D(v) and the Jacobian ∫ w D(φ_j):D(v_i) − coef c_i c_j (coef ≥ 0
        per quadrature point, None: no rank-one term); with ``half``, ``du``, ``w`` and
        ``coef`` are given on its elements and their mirror images add the mirrored vectors
        and matrices."""
        if half is None:
            dv4, edofs, slot = self.dv, self.edofs.ravel(), self.slot
        else:
            dv4, edofs, slot = self.dv[: half.count], half.dofs, half.slots
        nel, _, _, nq = dv4.shape
        dv = dv4.reshape(nel, 30, 6 * nq)
        stress = (du * w).transpose(1, 0, 2).reshape(nel, 6 * nq, 1)  # w D(u), per element
        res_e = (dv @ stress)[:, :, 0]
        copies = 1 if half is None else 2
        res = np.bincount(edofs, np.tile(res_e.ravel(), copies), minlength=self.nu)
        if not jacobian:
            return res, None
        x = (dv4 * np.sqrt(w)[:, None, None, :]).reshape(nel, 30, 6 * nq)
        ke = x @ x.transpose(0, 2, 1)
        if coef is not None:
            c = np.einsum("eikq,keq->eiq", dv4, du)  # D(φ_i):D(u) per point
            y = c * np.sqrt(coef)[:, None, :]
            ke -= y @ y.transpose(0, 2, 1)
        data = np.bincount(slot, np.tile(ke.ravel(), copies), minlength=self.k_indices.size)
        k = sp.csr_matrix((data, self.k_indices, self.k_indptr), shape=(self.nu, self.nu))
        return res, k

    def residual(
        self,
        w_loc: NDArray[np.float64],
        m: float,
        rate0: float,
        jacobian: bool,
        law: _MixedLaw | None = None,
        symmetric: bool = False,
    ):
        """Residual (and Jacobian) in the rotated unknowns w̃ = (ũ, p); ``symmetric``: the
        state is x ↔ y mirror-symmetric (half of the elements are evaluated)."""
        u = self.T @ w_loc[: self.nu]
        p = w_loc[self.nu :]
        a, k = self.viscous(u, m, rate0, jacobian, law, symmetric)
        r = np.concatenate([self.T.T @ (a + self.B.T @ p), self.B @ u])
        if not jacobian:
            return r, None
        full = sp.bmat([[k, self.B.T], [self.B, None]], format="csr")
        return r, (self.P.T @ full @ self.P).tocsc()


def _krylov(
    matrix: sp.csc_matrix, rhs: NDArray[np.float64], lu: LU, rtol: float
) -> tuple[NDArray[np.float64] | None, int]:
    """x with ‖matrix·x − rhs‖ ≤ rtol‖rhs‖ by GMRES, right-preconditioned with the LU of a
    nearby matrix (None if not reached in _KRYLOV_MAX iterations), and the iterations used.

    GMRES suits the nonsymmetric, indefinite saddle-point systems; right preconditioning keeps
    its residual the true residual of the Newton system, which the forcing term refers to."""
    count = 0

    def tick(_: float) -> None:
        nonlocal count
        count += 1

    op = spla.LinearOperator(matrix.shape, matvec=lambda v: matrix @ lu.solve(v), dtype=float)
    y, info = spla.gmres(op, rhs, rtol=rtol, atol=0.0, restart=_KRYLOV_MAX, maxiter=1,
                         callback=tick, callback_type="pr_norm")
    return (lu.solve(y) if info == 0 else None), count


def _newton(
    prob: _Problem,
    w0: NDArray[np.float64],
    m: float,
    rate0: float,
    tol: float,
    max_iter: int,
    pressure_tol: float | None = None,
    law: _MixedLaw | None = None,
    basis: sp.csc_matrix | None = None,
    peak_tol: float | None = None,
) -> tuple[NDArray[np.float64], int, float, bool]:
    """Damped inexact Newton iteration on the free unknowns; returns (w, iterations, step,
    converged).

    Converged when the relative maximum update is below ``tol``, with ``peak_tol`` when the
    largest interface pressure changed by less than that in two successive full steps, or,
    with ``pressure_tol``, when
    the interface pressures changed by less than ``pressure_tol`` × max|p| in two successive
    iterations (the late Newton steps mostly update the velocity in the nearly rigid,
    regularised region far from the interface, which does not move the interface pressure:
    measured 5.10670 ± 1e-5 over the last 9 of 15 steps). For m = 1 (Newtonian) the problem is
    linear and one exact step solves it (also with the linear term: ε̇ = (b1 + b2) σ).

    The sparse LU costs 50-100 triangular solves, so only the first step factorizes; later steps
    solve J δ = −r by GMRES preconditioned with that stale LU (:func:`_krylov`) to the
    Eisenstat-Walker relative residual η = 0.9 (‖r‖/‖r_prev‖)² within _FORCING (loose while
    far from the solution, tight near it; measured: Newton steps within ±2, Π as with exact
    solves to 1e-7, 4-5 instead of 12-17 factorizations per level).
    A step that GMRES cannot solve in _KRYLOV_MAX iterations is solved by a fresh LU; one that
    needed more than _KRYLOV_REFRESH refactorizes at the next step.
    With ``basis`` Q (orthonormal, symmetric free unknowns) each step solves the Galerkin
    system (Qᵀ J Q) z = −Qᵀ r, δ = Q z: exact when w and J are mirror-symmetric. w0 is then
    projected onto the symmetric states, which every step keeps, and the residual and
    Jacobian are evaluated on half of the elements (:class:`_MirrorHalf`).
    """
    w = w0.copy()
    free = prob.free
    peak_calm = 0
    symmetric = basis is not None and prob.half is not None
    if basis is not None:
        w[free] = basis @ (basis.T @ w[free])
    r, jac = prob.residual(w, m, rate0, True, law, symmetric)
    rnorm = np.linalg.norm(r[free])
    step = np.inf
    calm = 0
    lu: LU | None = None
    eta = _FORCING[0]
    factorizations = krylov = 0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        a = jac[free][:, free].tocsc()
        rhs = -r[free]
        if basis is not None:
            a = (basis.T @ a @ basis).tocsc()
            rhs = basis.T @ rhs
        delta = None
        if lu is not None:
            delta, k = _krylov(a, rhs, lu, eta)
            krylov += k
            if k > _KRYLOV_REFRESH:
                lu = None
        if delta is None:
            lu = factorize(a)
            factorizations += 1
            delta = lu.solve(rhs)
        if basis is not None:
            delta = basis @ delta
        if m == 1.0:
            w = w.copy()
            w[free] += delta
            return w, it, 0.0, True
        alpha = 1.0
        for _ in range(8):
            trial = w.copy()
            trial[free] += alpha * delta
            r_trial, _ = prob.residual(trial, m, rate0, False, law, symmetric)
            if np.linalg.norm(r_trial[free]) <= rnorm * (1.0 - 1e-4 * alpha) or rnorm < 1e-13:
                break
            alpha *= 0.5
        p_old = w[prob.nu + prob.top_vertices]
        p_new = trial[prob.nu + prob.top_vertices]
        change = np.abs(p_new - p_old).max() / max(np.abs(p_new).max(), 1e-300)
        if pressure_tol is not None:
            calm = calm + 1 if change < pressure_tol else 0
        peak_change = abs(p_new.max() - p_old.max()) / max(abs(p_new.max()), 1e-300)
        if peak_tol is not None:  # (counted only once full steps are taken)
            peak_calm = peak_calm + 1 if peak_change < peak_tol and alpha == 1.0 else 0
        w = trial
        scale = max(np.abs(w).max(), 1.0)
        step = alpha * np.abs(delta).max() / scale
        logger.debug("  step %d: alpha %.3g, update %.2e, pressure change %.2e, peak change "
                     "%.2e", it, alpha, step, change, peak_change)
        if step < tol or calm >= 2 or peak_calm >= 2:
            converged = True
            break
        r, jac = prob.residual(w, m, rate0, True, law, symmetric)
        rnorm, rprev = np.linalg.norm(r[free]), rnorm
        eta = min(_FORCING[1], max(_FORCING[0], 0.9 * (rnorm / rprev) ** 2))
    logger.debug("creep Newton m=%.3g: %d steps, %d LU factorizations, %d GMRES iterations",
                 m, it, factorizations, krylov)
    return w, it, step, converged


def solve_creep_dimensionless(
    surface: Surface,
    current_ratio_fn: CurrentRatioFn,
    params: CreepParameters | None = None,
    *,
    divisions: int | tuple[int, int] = 4,
    options: CreepOptions | None = None,
    transition_ratio: float | None = None,
) -> DimensionlessCreep:
    """Solve the dimensionless creep problem (lengths in S, velocity in V0, stress in Σ).

    Parameters
    ----------
    surface : Surface
        Design (µm); must have the mirror symmetries x = 0, x = S/2, y = 0, y = S/2.
    current_ratio_fn : callable
        ``(x_um, y_um) -> i_n / J`` on the interface, vectorised.
    params : CreepParameters, optional
        Only the dimensionless options enter: ``stress_exponent`` n (continuation from n = 1),
        ``slip``, ``depth_factor`` (Li depth D / S below the lowest interface point) and
        ``regularisation`` (ε̇₀ / (V0/S)).
    divisions : int or (int, int), default 4
        Elements along x and y of the quarter cell (one number: both), 2 to 32 each.
    options : CreepOptions, optional
        Mesh grading and Newton settings.
    transition_ratio : float, optional
        τ = σ_t/Σ ≥ 0 of the two-mechanism law ε̇ = τ^(n−1) σ + σ^n (units of Σ and V0/S),
        e.g. :meth:`CreepParameters.transition_ratio`. Default: 0 when
        ``params.transition_stress_pa`` is 0; required otherwise (Σ needs J and S).
    """
    params = CreepParameters() if params is None else params
    if transition_ratio is None:
        if params.transition_stress_pa != 0.0:
            raise DesignError(
                "creep", "transition_ratio", "creep-transition-stress", "not given",
                "sigma_t/Sigma (CreepParameters.transition_ratio) when sigma_t > 0", "",
            )
        transition_ratio = 0.0
    return _solve_level(
        surface,
        current_ratio_fn,
        params,
        CreepOptions() if options is None else options,
        divisions,
        transition_ratio,
    )[0]


def solve_creep_sequence(
    surface: Surface,
    current_ratio_fns: list[CurrentRatioFn],
    params: CreepParameters | None = None,
    *,
    divisions: int | tuple[int, int] = 4,
    options: CreepOptions | None = None,
    transition_ratio: float = 0.0,
) -> list[DimensionlessCreep]:
    """Dimensionless solutions on one mesh for several current distributions, each Newton solve
    warm-started from the previous solution instead of the continuation in n.

    For a table axis along which the solution changes slowly (the kinetic length): the mesh is
    built once and a warm start needs a few Newton steps. Each result equals
    :func:`solve_creep_dimensionless` within the Newton tolerance.
    """
    params = CreepParameters() if params is None else params
    options = CreepOptions() if options is None else options
    out: list[DimensionlessCreep] = []
    prob, w = None, None
    for fn in current_ratio_fns:
        sol, prob, w = _solve_level(surface, fn, params, options, divisions, transition_ratio,
                                    problem=prob, start=w)
        out.append(sol)
    return out


def _solve_level(
    surface: Surface,
    current_ratio_fn: CurrentRatioFn,
    params: CreepParameters,
    options: CreepOptions,
    divisions: int | tuple[int, int],
    transition_ratio: float = 0.0,
    *,
    problem: _Problem | None = None,
    start: NDArray[np.float64] | None = None,
) -> tuple[DimensionlessCreep, _Problem, NDArray[np.float64]]:
    """One level of the dimensionless problem: (solution, problem, rotated unknowns).

    The returned unknowns hold the pressure in the solver's stress unit of the final law
    (Σ for the pure power law). ``problem`` reuses a mesh built for the same surface,
    divisions and options; ``start`` (unknowns returned by a previous call on that problem)
    replaces the continuation in n by one warm-started Newton solve."""
    tau = float(transition_ratio)
    if not (math.isfinite(tau) and tau >= 0.0):
        raise DesignError("creep", "transition_ratio", "creep-transition-stress", tau,
                          "[0, inf)", "")
    cells = _cells(divisions)
    prob = problem or _Problem(
        surface,
        cells,
        params.depth_factor,
        params.slip,
        options.interface_layer,
        options.lateral_grading,
        options.band_grading,
        options.tip_layer,
        options.band_elements,
        options.band_growth,
        options.mirror,
        options.tip_floor,
    )
    period_um = surface.period_um
    xn, yn = prob.mesh.doflocs[0], prob.mesh.doflocs[1]
    top = prob.top_nodes
    ratio = np.asarray(
        current_ratio_fn(xn[top] * period_um, yn[top] * period_um), dtype=float
    ) * np.ones(top.size)
    if not np.all(np.isfinite(ratio)):
        raise DesignError(
            "creep", "current_ratio_fn", "current", "non-finite values", "finite i_n/J", ""
        )
    basis = None
    if prob.mirror_basis is not None:
        mirrored = ratio[prob.top_mirror]
        asymmetry = np.abs(ratio - mirrored).max() / max(np.abs(ratio).max(), 1e-300)
        logger.debug("creep current: mirror asymmetry %.2e", asymmetry)
        if asymmetry <= MIRROR_TOL:
            ratio = 0.5 * (ratio + mirrored)
            basis = prob.mirror_basis

    n_final = params.stress_exponent
    total = 0
    converged = True
    step = np.nan
    stages = [s for s in _N_STAGES if s < n_final] + [n_final]
    w = np.zeros(prob.nu + prob.np_)
    law = None
    unit = 1.0  # solver stress unit in Σ (changes along the continuation with the linear term)
    if start is not None:  # warm start at the final n, in the final law's stress unit
        stages = [n_final]
        w = start.copy()
        final = _mixed_law(n_final, tau)
        unit = 1.0 if final is None else final.unit
    w[3 * top] = -ratio  # ũ_n = u·n = −v_n; other fixed values are zero
    for n in stages:
        last = n == n_final
        law = _mixed_law(n, tau)  # same σ_t along the continuation: a1 = τ^(n−1)
        if law is not None:
            w[prob.nu :] *= unit / law.unit  # pressure unknowns into the new stress unit
            unit = law.unit
        # one BLAS thread: GMRES makes many small BLAS calls, slower when split over threads
        with threadpool_limits(limits=1, user_api="blas"):
            w, its, step, ok = _newton(
                prob,
                w,
                1.0 / n,
                params.regularisation,
                options.tol if last else _STAGE_TOL,
                options.max_iter,
                options.pressure_tol if last else None,
                law,
                basis,
                options.peak_tol if last else None,
            )
        total += its
        logger.debug(
            "creep n=%.3g: %d Newton its, step %.2e", n, its, step
        )
        converged = ok if last else converged
    u = prob.T @ w[: prob.nu]
    p = w[prob.nu :]

    # variationally consistent normal traction: the residual at the rotated normal unknowns of
    # the interface nodes is ∫_Γ (σn)·n_k φ_k dA; a boundary mass solve gives σ_nn at the nodes
    reaction, _ = prob.residual(w, 1.0 / n_final, params.regularisation, False, law)
    sigma_nn = prob.boundary_values(reaction[3 * top])
    if law is not None:  # back to units of Σ
        p = p * unit
        sigma_nn = sigma_nn * unit
    verts = prob.top_vertices
    pos = np.searchsorted(top, verts)  # top nodes are sorted and vertices come first
    traction = -sigma_nn[pos]

    outflow = _bottom_outflow(prob, u)
    sol = DimensionlessCreep(
        x=xn[verts].copy(),
        y=yn[verts].copy(),
        pressure=p[verts].copy(),
        normal_traction=traction,
        current_ratio=ratio[pos].copy(),
        outflow_ratio=outflow,
        iterations=total,
        converged=converged,
        step_norm=float(step),
        dofs=prob.nu + prob.np_,
        divisions=cells,
        layers=prob.layers,
        transition_ratio=tau,
    )
    return sol, prob, w


def _bottom_outflow(prob: _Problem, u: NDArray[np.float64]) -> float:
    """−∫ u_z dA over the far boundary divided by the quarter-cell area (1/4)."""
    uz = u[3 * prob.bottom_nodes + 2]
    return float(-(prob.mass_bottom @ uz).sum() / 0.25)


_GCI_SAFETY = 1.25  # Roache's safety factor of the grid convergence index (three levels)
_ORDER_RANGE = (0.5, 2.0)  # observed orders outside this range are clamped for the error


@dataclass(frozen=True, slots=True)
class RichardsonEstimate:
    """Error estimate of the finest value of a mesh sequence (see :func:`richardson_estimate`)."""

    value: float  # best estimate (Richardson-extrapolated when possible, else the finest value)
    error: float  # estimated absolute error of ``finest`` (conservative, GCI-style)
    finest: float
    order: float  # observed order used (nan if not determined)
    extrapolated: float  # Richardson Π∞ (nan if not determined)


def richardson_estimate(
    divisions: list[int] | tuple[int, ...], values: list[float] | tuple[float, ...]
) -> RichardsonEstimate:
    """Observed order, Richardson extrapolation and a grid-convergence-index error estimate.

    With mesh size h ∝ 1/divisions and the last three values Π₁, Π₂, Π₃ (coarse → fine),
    Π(h) ≈ Π∞ + c h^p. When the differences have one sign (monotone convergence), the observed
    order p solves (Π₁ − Π₂)/(Π₂ − Π₃) = (h₁^p − h₂^p)/(h₂^p − h₃^p); it is clamped to
    [0.5, 2] (orders above 2 are not expected of P2/P1 with the power-law boundary layers and
    would give over-optimistic errors) and the error of the finest value is the grid
    convergence index 1.25 |Π₃ − Π₂| / (r^p − 1), r = h₂/h₃ (Roache). Oscillatory three-level
    sequences get 1.25 max(|Π₁ − Π₂|, |Π₂ − Π₃|) (the exact value lies within the
    oscillation); two-level sequences assume p = 1 (the order measured for the focused current,
    see the module notes), i.e. 1.25 |Π₂ − Π₃| / (r − 1).

    Parameters
    ----------
    divisions : sequence of int
        Increasing lateral divisions of the levels.
    values : sequence of float
        The quantity at those levels.

    Returns
    -------
    RichardsonEstimate
        ``value`` is Π∞ (monotone three-level case) or the finest value; ``error`` estimates
        |finest − exact| and bounds |value − exact| as well.
    """
    if len(divisions) != len(values) or len(values) < 2:
        raise ValueError("need at least two levels with one value each")
    h = 1.0 / np.asarray(divisions, dtype=float)
    v = np.asarray(values, dtype=float)
    finest = float(v[-1])
    r = h[-2] / h[-1]
    if len(v) >= 3:
        d1, d2 = v[-3] - v[-2], v[-2] - v[-1]
        if d1 * d2 > 0.0 and abs(d2) > 0.0:
            target = d1 / d2
            h1, h2, h3 = h[-3:]

            def excess(p: float) -> float:
                return (h1**p - h2**p) / (h2**p - h3**p) - target

            lo, hi = 0.05, 8.0
            if excess(lo) * excess(hi) < 0.0:
                for _ in range(80):
                    mid = 0.5 * (lo + hi)
                    if excess(lo) * excess(mid) <= 0.0:
                        hi = mid
                    else:
                        lo = mid
                order = 0.5 * (lo + hi)
            else:
                order = _ORDER_RANGE[0] if excess(lo) > 0.0 else 8.0
            p = float(np.clip(order, *_ORDER_RANGE))
            gain = r**p - 1.0
            extrapolated = finest - d2 / gain
            error = _GCI_SAFETY * abs(d2) / gain
            return RichardsonEstimate(
                value=float(extrapolated),
                error=float(error),
                finest=finest,
                order=float(order),
                extrapolated=float(extrapolated),
            )
        # oscillatory (or stalled) convergence: the exact value lies within the oscillation
        error = _GCI_SAFETY * max(abs(d1), abs(d2))
    else:
        error = _GCI_SAFETY * abs(v[-2] - v[-1]) / (r - 1.0)
    return RichardsonEstimate(
        value=finest,
        error=float(error),
        finest=finest,
        order=float("nan"),
        extrapolated=float("nan"),
    )


def first_order_estimate(
    divisions: list[int] | tuple[int, ...], values: list[float] | tuple[float, ...]
) -> RichardsonEstimate:
    """Π∞ of a sequence converging at first order in h ∝ 1/divisions, with an error that also
    covers a second-order remainder.

    The egg-box tip pressure converges at about first order over creep levels 5-9, and the
    orders observed from three close levels scatter, so the order is taken as 1, not fitted.
    With the finest three values monotone the value is the Richardson limit of the two finest
    levels, E_L = Π_L − (Π_{L−1} − Π_L) h_L/(h_{L−1} − h_L). A remainder c h² leaves
    E_L − Π∞ = −c h_{L−1} h_L, which is h_L/(h_{L−2} − h_L) times E_L − E_{L−1}, the change of
    the limit from one level coarser. The error is the larger of that and the same measure one
    level coarser (with four or more levels: a limit that stayed put by chance over one step
    is not trusted), times the safety factor 1.25. Otherwise (oscillatory, or fewer than three
    levels): :func:`richardson_estimate` (the finest value, its GCI).
    """
    if len(divisions) != len(values) or len(values) < 2:
        raise ValueError("need at least two levels with one value each")
    v = np.asarray(values, dtype=float)
    h = 1.0 / np.asarray(divisions, dtype=float)
    if len(v) < 3 or (v[-3] - v[-2]) * (v[-2] - v[-1]) <= 0.0:
        return richardson_estimate(divisions, values)

    def limit(i: int) -> float:  # first-order Richardson limit of levels i - 1 and i
        return float(v[i] - (v[i - 1] - v[i]) * h[i] / (h[i - 1] - h[i]))

    def remainder(i: int) -> float:  # the h² remainder of limit(i), from limit(i - 1)
        return abs(limit(i) - limit(i - 1)) * h[i] / (h[i - 2] - h[i])

    error = max(remainder(-1), remainder(-2) if len(v) >= 4 else 0.0)
    last = limit(-1)
    return RichardsonEstimate(value=last, error=float(_GCI_SAFETY * error),
                              finest=float(v[-1]), order=1.0, extrapolated=last)


def _result(
    surface: Surface,
    sol: DimensionlessCreep,
    params: CreepParameters,
    sigma_pa: float,
    current_density_a_m2: float,
    start: float,
    *,
    pressure_factor: float | None = None,
    error: float = float("nan"),
    sequence: tuple[tuple[int, float, float], ...] = (),
    order: float = float("nan"),
    extrapolated: float = float("nan"),
    rtol: float = 0.01,
    met: bool | None = None,
    options: CreepOptions | None = None,
) -> CreepResult:
    """CreepResult (SI) from the finest dimensionless solution and the study summary.

    ``accuracy_met`` is ``met`` when given, else error ≤ rtol·Π."""
    s_um = surface.period_um
    x_um, y_um = sol.x * s_um, sol.y * s_um
    i_p, i_t = int(np.argmax(sol.pressure)), int(np.argmax(sol.normal_traction))
    pi = float(sol.pressure.max()) if pressure_factor is None else float(pressure_factor)
    return CreepResult(
        x_um=x_um,
        y_um=y_um,
        height_um=surface.z_um(x_um, y_um),
        excess_pressure_pa=sol.pressure * sigma_pa,
        normal_traction_pa=sol.normal_traction * sigma_pa,
        current_ratio=sol.current_ratio,
        max_excess_pressure_pa=pi * sigma_pa,
        max_location_um=(float(x_um[i_p]), float(y_um[i_p])),
        min_excess_pressure_pa=float(sol.pressure.min()) * sigma_pa,
        max_normal_traction_pa=float(sol.normal_traction[i_t]) * sigma_pa,
        max_traction_location_um=(float(x_um[i_t]), float(y_um[i_t])),
        pressure_factor=pi,
        traction_factor=float(sol.normal_traction[i_t]),
        stress_scale_pa=sigma_pa,
        current_density_a_m2=float(current_density_a_m2),
        pressure_factor_error=float(error),
        outflow_ratio=sol.outflow_ratio,
        iterations=sol.iterations,
        converged=sol.converged,
        step_norm=sol.step_norm,
        dofs=sol.dofs,
        divisions=sol.divisions,
        solve_time_s=time.perf_counter() - start,
        params=params,
        design=surface,
        options=options,
        divisions_sequence=tuple(int(d) for d, _, _ in sequence),
        pressure_factor_sequence=tuple(float(v) for _, v, _ in sequence),
        level_times_s=tuple(float(t) for _, _, t in sequence),
        convergence_order=float(order),
        extrapolated_pressure_factor=float(extrapolated),
        accuracy_met=(
            bool(np.isfinite(error) and error <= rtol * abs(pi)) if met is None else bool(met)
        ),
        transition_ratio=sol.transition_ratio,
    )


def solve_creep(
    surface: Surface,
    current_ratio_fn: CurrentRatioFn,
    params: CreepParameters | None = None,
    *,
    current_density_a_m2: float = 10.0,
    divisions: int | tuple[int, int] = 4,
    estimate_error: bool = False,
    options: CreepOptions | None = None,
) -> CreepResult:
    """Excess interfacial pressure from creep of plated Li (quarter cell, SI output).

    Parameters
    ----------
    surface : Surface
        Design (µm), e.g. :class:`templater.geometry.surfaces.EggBox`.
    current_ratio_fn : callable
        ``(x_um, y_um) -> i_n / J``: local normal current per geometric current density on the
        interface, vectorised (e.g. ``lambda x, y: 1 / A_ratio + 0 * x`` for uniform plating).
    params : CreepParameters, optional
        Creep constants and options; defaults from the shipped parameter set. With a
        transition stress σ_t > 0 the law has the linear term and Π depends on σ_t/Σ.
    current_density_a_m2 : float, default 10.0
        Geometric current density J [A/m²] (10 A/m² = 1 mA/cm²), > 0.
    divisions : int or (int, int), default 4
        Elements along x and y of the quarter cell (one number: both), 2 to 32 each.
    estimate_error : bool, default False
        Also solve at divisions − 1 and divisions − 2 (when ≥ 2) and report the grid-convergence
        error estimate of Π (:func:`richardson_estimate`: observed order, or first order when
        it cannot be determined). ``pressure_factor`` stays the value at ``divisions``; the
        Richardson value is in ``extrapolated_pressure_factor``. Adds ~40 % to the cost.
    options : CreepOptions, optional
        Mesh grading and Newton settings (defaults: :class:`CreepOptions`).

    Returns
    -------
    CreepResult
        Interface maps (Pa), maxima, Π, Σ and solver diagnostics.
    """
    params = CreepParameters() if params is None else params
    start = time.perf_counter()
    sigma_pa = params.stress_scale_pa(current_density_a_m2, surface.period_um * UM)
    tau = params.transition_stress_pa / sigma_pa  # 0.0 for the pure power law
    options = CreepOptions() if options is None else options
    cells = _cells(divisions)
    sequence: list[tuple[int, float, float]] = []
    if estimate_error:
        for back in (2, 1):
            coarse_cells = tuple(c - back for c in cells)
            if min(coarse_cells) < 2:
                continue
            t0 = time.perf_counter()
            coarse = solve_creep_dimensionless(
                surface, current_ratio_fn, params, divisions=coarse_cells, options=options,
                transition_ratio=tau,
            )
            sequence.append(
                (max(coarse_cells), float(coarse.pressure.max()), time.perf_counter() - t0)
            )
    t0 = time.perf_counter()
    sol = solve_creep_dimensionless(
        surface, current_ratio_fn, params, divisions=cells, options=options,
        transition_ratio=tau,
    )
    sequence.append((max(cells), float(sol.pressure.max()), time.perf_counter() - t0))
    est = None
    if len(sequence) >= 2:
        est = richardson_estimate([d for d, _, _ in sequence], [v for _, v, _ in sequence])
    return _result(
        surface,
        sol,
        params,
        sigma_pa,
        current_density_a_m2,
        start,
        error=est.error if est else float("nan"),
        sequence=tuple(sequence),
        order=est.order if est else float("nan"),
        extrapolated=est.extrapolated if est else float("nan"),
        rtol=0.01,
        options=options,
    )


def solve_creep_converged(
    surface: Surface,
    current_ratio_fn: CurrentRatioFn,
    params: CreepParameters | None = None,
    *,
    rtol: float = 0.01,
    current_density_a_m2: float = 10.0,
    start_divisions: int = 3,
    max_divisions: int = 8,
    time_budget_s: float | None = None,
    criterion: str = "gci",
    extrapolate: bool = False,
    options: CreepOptions | None = None,
    on_level: Callable[[int, float, float], None] | None = None,
    min_levels: int = 2,
) -> CreepResult:
    """Refine the creep mesh until the error estimate of Π meets ``rtol`` (accuracy-driven).

    Solves divisions = ``start_divisions``, +1, … and after each level (from the second)
    computes :func:`richardson_estimate` of Π over the levels so far; stops when the criterion
    is met (``"gci"``: the error estimate ≤ ``rtol``·Π; ``"step"``: the change between the two
    finest levels ≤ ``rtol``·Π, weaker), at
    ``max_divisions``, or when the next level would likely exceed
    ``time_budget_s`` (its cost extrapolated from the last level by the DOF growth,
    ~ (d+1)³/d³ · 1.3). The result holds the finest level's maps and ``accuracy_met``,
    ``divisions_sequence``, ``pressure_factor_sequence``, ``level_times_s``,
    ``convergence_order`` and ``extrapolated_pressure_factor``.

    Parameters
    ----------
    surface, current_ratio_fn, params, current_density_a_m2
        As for :func:`solve_creep`.
    rtol : float, default 0.01
        Target relative error of Π, > 0.
    start_divisions : int, default 3
        First level (≥ 2).
    max_divisions : int, default 8
        Last level allowed (≤ 32).
    time_budget_s : float, optional
        Wall-time budget for the whole study (None: unlimited).
    criterion : {"gci", "step"}, default "gci"
        Stopping rule and meaning of ``accuracy_met`` (``pressure_factor_error`` is the GCI
        estimate either way).
    extrapolate : bool, default False
        Report the Richardson-extrapolated Π (three monotone levels) as ``pressure_factor``
        instead of the finest computed value (both carry the same GCI error estimate). Off by
        default: the coarse levels are pre-asymptotic (measured: the secondary-like current
        2.543, 2.815, 2.893 at 2-4 divisions extrapolates to 2.99, the finer levels give 2.88),
        so the finest value is the more reliable one; Π∞ is always in
        ``extrapolated_pressure_factor``.
    options : CreepOptions, optional
        As for :func:`solve_creep`.
    on_level : callable, optional
        ``on_level(divisions, Π, seconds)`` after each level (progress for the user).
    min_levels : int, default 2
        Levels solved before the criterion may stop the study (band-resolved meshes: two
        levels can agree by accident, their lateral nodes being nearly the same); a time
        budget may still stop it earlier.

    Returns
    -------
    CreepResult
        ``pressure_factor_error`` is the estimated absolute error; ``accuracy_met`` tells
        whether it met ``rtol``.
    """
    if not (np.isfinite(rtol) and rtol > 0.0):
        raise DesignError("creep", "rtol", "creep-rtol", rtol, "> 0", "")
    if not 2 <= start_divisions < max_divisions <= 32:
        raise DesignError(
            "creep",
            "divisions",
            "creep-divisions",
            (start_divisions, max_divisions),
            "2 <= start < max <= 32",
            "",
        )
    if criterion not in ("gci", "step"):
        raise DesignError("creep", "criterion", "creep-criterion", criterion, "gci, step", "")
    if not 2 <= min_levels <= max_divisions - start_divisions + 1:
        raise DesignError("creep", "min_levels", "creep-min-levels", min_levels,
                          f"2 to the {max_divisions - start_divisions + 1} levels solved", "")
    params = CreepParameters() if params is None else params
    start = time.perf_counter()
    sigma_pa = params.stress_scale_pa(current_density_a_m2, surface.period_um * UM)
    tau = params.transition_stress_pa / sigma_pa  # 0.0 for the pure power law
    options = CreepOptions() if options is None else options
    sequence: list[tuple[int, float, float]] = []
    est: RichardsonEstimate | None = None
    met = False
    sol: DimensionlessCreep | None = None
    for d in range(start_divisions, max_divisions + 1):
        if sequence and time_budget_s is not None:
            last = sequence[-1][2]
            forecast = last * 1.3 * (d / (d - 1)) ** 3
            if time.perf_counter() - start + forecast > time_budget_s:
                break
        t0 = time.perf_counter()
        sol = solve_creep_dimensionless(
            surface, current_ratio_fn, params, divisions=d, options=options,
            transition_ratio=tau,
        )
        sequence.append((d, float(sol.pressure.max()), time.perf_counter() - t0))
        logger.info("creep level %d: Π = %.5g (%.1f s)", d, sequence[-1][1], sequence[-1][2])
        if on_level is not None:
            on_level(*sequence[-1])
        if len(sequence) >= 2:
            est = richardson_estimate([q for q, _, _ in sequence], [v for _, v, _ in sequence])
            if len(sequence) < min_levels:
                continue
            if criterion == "gci":
                met = est.error <= rtol * abs(est.finest)
            else:
                met = abs(sequence[-1][1] - sequence[-2][1]) <= rtol * abs(est.finest)
            if met:
                break
    assert sol is not None
    value = None
    if est is not None and extrapolate and np.isfinite(est.extrapolated):
        value = est.extrapolated
    return _result(
        surface,
        sol,
        params,
        sigma_pa,
        current_density_a_m2,
        start,
        pressure_factor=value,
        error=est.error if est else float("nan"),
        sequence=tuple(sequence),
        order=est.order if est else float("nan"),
        extrapolated=est.extrapolated if est else float("nan"),
        met=met,
        options=options,
    )
