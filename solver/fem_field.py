"""Finite-element field solver on the 1/8 mirror-symmetric wedge (pyramids, frustums, steep shapes).

Laplace's equation in the electrolyte above one cell, dimensionless in units of S, on the wedge
0 <= y <= x <= S/2 (the mirror planes carry zero-flux conditions), with a uniform current at the
top. Primary: u = 0 on the interface; secondary: u = ℓ ∂u/∂n, i_n/J = u/ℓ. Isoparametric P2
elements (scikit-fem ``MeshTet2``) on a structured mesh whose lines follow the hips, cell edges,
plateau rims and rounded-edge bands, graded towards the Li-convex features, so sharp faces are
meshed exactly and curved ones to second order. The primary current is the element normal
gradient averaged at the interface nodes; linear systems use SuperLU.

Method: docs/theory.md ("Numerical methods"); measured convergence, edge-radius dependence and
timings: docs/benchmarks.md ("FEM field solver").
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from skfem import Basis, ElementTetP2, MeshTet1, MeshTet2
from skfem.quadrature import get_quadrature
from skfem.refdom import RefTri

from solver.fem_p2 import facet_dofs, laplace_stiffness
from solver.grid import length_m, scattered_interpolant
from solver.results import FieldSolution
from solver.spd import SpdSolver
from solver.spectral import ExchangeFactorFn
from templater.geometry.surfaces import Surface

__all__ = [
    "FemConvergenceStudy",
    "solve_fem_field",
    "solve_fem_converged",
]

logger = logging.getLogger(__name__)

_TOP_CLEARANCE = 1.0  # electrolyte above the highest interface point, in units of S
_SMOOTH_WIDTH = 0.02  # ζ grading width (units of S) used where there is no rounded band
_SMOOTH_CORNER_WIDTH = 0.1  # x and x − y grading width (units of S) of smooth shapes
_SHARP_WIDTH = 0.002  # grading width (units of S) at sharp edges (≈ r = 1 µm bands at S = 150 µm)
_BAND_FRACTION = 0.125  # finest spacing target: this fraction of the band half-width
_CAP = 0.2  # spacing stops growing at this fraction of the graded interval


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class FemConvergenceStudy:
    """Result of :func:`solve_fem_converged`.

    Attributes
    ----------
    solution : FieldSolution
        Finest solution (``method="fem"``).
    error_estimate : float
        |max_n − max_{n−1}| / max_n between the last two levels.
    divisions : tuple of int
        Divisions of every level solved.
    maxima : tuple of float
        Maximum current ratio of every level.
    converged : bool
        True if ``error_estimate <= rtol``.
    """

    solution: FieldSolution
    error_estimate: float
    divisions: tuple[int, ...]
    maxima: tuple[float, ...]
    converged: bool


# --- geometry of the wedge ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Grading:
    """Where the mesh is graded (all lengths in units of S)."""

    x_breaks: tuple[float, ...]  # mesh lines x = const that must exist (kinks of f)
    x_features: tuple[tuple[float, float], ...]  # (position, band half-width) along x
    d_features: tuple[tuple[float, float], ...]  # the same along d = x − y (distance to the hip)
    z_width: float  # band half-width seen by the grading towards the interface


def _band_widths(surface: Surface) -> tuple[float, float, float]:
    """Half-widths (units of S) of the rounded bands: cell edge/apex, hip, plateau rim."""
    if surface.edge_radius_um <= 0.0:
        return _SHARP_WIDTH, _SHARP_WIDTH, _SHARP_WIDTH
    s = surface.period_um
    edge, hip, rim = surface.rounding_half_widths_um()
    return edge / s, hip / s, rim / s


def _grading_for(surface: Surface) -> _Grading:
    """Mesh lines and grading targets of a design (see the module docstring).

    Graded towards the Li-convex (singular) features: default orientation, the ridge x = 1/2
    (along d towards the mid-ridge point d = 1/2; the ridge crossing at d = 0 is less exposed);
    ``invert``, the Li apex x = 0 or the frustum top edge x = t/2, and the hips d = 0.
    Li-concave features (current → 0) get mesh lines only.
    """
    if not surface.is_smooth:
        w_edge, w_hip, w_rim = _band_widths(surface)
        t = surface.plateau_fraction
        breaks = (0.0, 0.5 * t, 0.5) if t > 0.0 else (0.0, 0.5)
        if not surface.invert:  # d = 1/2 is the mid-ridge point (S/2, 0), where the maximum sits
            return _Grading(breaks, ((0.5, w_edge),), ((0.5, w_edge),), w_edge)
        if t > 0.0:
            return _Grading(breaks, ((0.5 * t, w_rim),), ((0.0, w_hip),), min(w_rim, w_hip))
        return _Grading(breaks, ((0.0, w_edge),), ((0.0, w_hip),), min(w_edge, w_hip))
    # smooth shapes: mild grading towards the wedge corners, where the averaged gradient has the
    # fewest elements (uniform: +3 % at the 45° corner (0, 0) of the inverted egg-box at n = 8)
    corners = ((0.0, _SMOOTH_CORNER_WIDTH), (0.5, _SMOOTH_CORNER_WIDTH))
    return _Grading((0.0, 0.5), corners, corners, _SMOOTH_WIDTH)


def _share(n: int, weights: NDArray[np.float64]) -> NDArray[np.int64]:
    """Split n divisions in proportion to weights (largest remainder, at least 1 each)."""
    exact = n * weights / weights.sum()
    counts = np.maximum(1, np.floor(exact).astype(np.int64))
    for k in np.argsort(counts - exact):
        if counts.sum() >= n:
            break
        counts[k] += 1
    return counts


def graded_nodes(
    breaks: tuple[float, ...],
    features: tuple[tuple[float, float], ...],
    n: int,
    power: float,
) -> NDArray[np.float64]:
    """1-D nodes on [breaks[0], breaks[-1]] with spacing ∝ min(w + distance, cap)^power.

    ``w`` is the feature's band half-width times ``_BAND_FRACTION``. Every break point is a node;
    the divisions are shared among the segments in proportion to the integral of the density.
    """
    lo, hi = breaks[0], breaks[-1]
    # the rounded band ends in a curvature jump of f: make its edges mesh lines too
    extra = [p + sgn * w for p, w in features for sgn in (-1.0, 1.0)]
    breaks = tuple(sorted({*breaks, *(b for b in extra if lo + 1e-12 < b < hi - 1e-12)}))
    samples = [np.linspace(lo, hi, 4001), np.asarray(breaks, dtype=float)]
    for pos, width in features:
        g = width * np.geomspace(1e-3, (hi - lo) / width, 400)
        samples += [pos + g, pos - g]
    xs = np.unique(np.clip(np.concatenate(samples), lo, hi))
    h = np.ones_like(xs)
    if features:
        d = np.min([_BAND_FRACTION * w + np.abs(xs - p) for p, w in features], axis=0)
        h = np.minimum(d, _CAP * (hi - lo)) ** power
    dens = 1.0 / h
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(xs))])
    cb = np.interp(breaks, xs, cum)
    seg = np.diff(cb)
    counts = _share(n, seg)
    nodes = [np.asarray([lo])]
    for k, c in enumerate(counts):
        targets = cb[k] + seg[k] * np.arange(1, c + 1) / c
        pts = np.interp(targets, cum, xs)
        pts[-1] = breaks[k + 1]
        nodes.append(pts)
    return np.concatenate(nodes)


def _interface_height(surface: Surface, x: NDArray[np.float64], y: NDArray[np.float64]):
    """f = (H − e)/S at dimensionless (x, y) (units of S): the solver frame."""
    s = surface.period_um
    return (surface.height_um - surface.z_um(x * s, y * s)) / s


def _base_mesh(
    xs: NDArray[np.float64], ds: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Triangles of the wedge 0 <= y <= x <= 1/2 from columns x = xs[i] carrying the nodes
    d = x − y in ds (d < x) plus y = 0; neighbouring columns are zipped in order of d, so
    cells are thin along the hip (d → 0) where ds is graded, and along x = const where xs is."""
    bx: list[float] = [0.0]
    by: list[float] = [0.0]
    cols: list[tuple[NDArray[np.int64], NDArray[np.float64]]] = [
        (np.zeros(1, dtype=np.int64), np.zeros(1))
    ]
    gaps = np.diff(ds)
    for x in xs[1:]:
        keep = ds[:-1][ds[:-1] < x - 0.3 * gaps]  # no sliver next to y = 0
        dcol = np.append(keep, x)
        ids = np.arange(len(bx), len(bx) + dcol.size)
        bx += [x] * dcol.size
        by += list(x - dcol)
        cols.append((ids, dcol))
    tris: list[tuple[int, int, int]] = []
    for (a, da), (b, db) in zip(cols[:-1], cols[1:], strict=True):
        p = q = 0
        while p < a.size - 1 or q < b.size - 1:
            if q == b.size - 1 or (p < a.size - 1 and da[p + 1] < db[q + 1]):
                tris.append((a[p], a[p + 1], b[q]))
                p += 1
            else:
                tris.append((a[p], b[q], b[q + 1]))
                q += 1
    return np.asarray(bx), np.asarray(by), np.sort(np.asarray(tris, dtype=np.int64).T, axis=0)


def _wedge_mesh(
    surface: Surface, divisions: int, power: float
) -> tuple[MeshTet2, NDArray[np.float64], float]:
    """Isoparametric P2 mesh of the electrolyte above the wedge, units of S.

    Graded columns in x, nodes graded in d = x − y along each column (:func:`_base_mesh`),
    graded layers in ζ; every kink of f (hip, cell edge, frustum rim x = t/2) is a mesh line.
    Returns the mesh, the reference coordinates (x, y, ζ) of its P2 nodes and the top height.
    """
    g = _grading_for(surface)
    xs = graded_nodes(g.x_breaks, g.x_features, divisions, power)
    ds = graded_nodes((0.0, 0.5), g.d_features, divisions, power)
    zs = graded_nodes((0.0, 1.0), ((0.0, g.z_width),), divisions, power)
    nz = len(zs) - 1
    bx, by, tri = _base_mesh(xs, ds)

    # extrude in ζ; each prism → 3 tetrahedra by the global-index rule (conforming)
    nb = bx.size
    lay = np.arange(nz)[:, None] * nb
    p0, p1, p2 = (tri[k][None, :] + lay for k in range(3))
    q0, q1, q2 = p0 + nb, p1 + nb, p2 + nb
    tets = np.concatenate(
        [np.stack([p0, p1, p2, q2]), np.stack([p0, p1, q1, q2]), np.stack([p0, q0, q1, q2])],
        axis=1,
    ).reshape(4, -1)
    ref = np.stack([np.tile(bx, nz + 1), np.tile(by, nz + 1), np.repeat(zs, nb)])
    m2 = MeshTet2.from_mesh(MeshTet1(ref, tets))
    rx, ry, rz = m2.doflocs
    fx = _interface_height(surface, rx, ry)
    top = float(np.max(_interface_height(surface, bx, by))) + _TOP_CLEARANCE
    phys = np.stack([rx, ry, fx + rz * (top - fx)])
    return dataclasses.replace(m2, doflocs=phys), m2.doflocs.copy(), top


# --- weak forms -----------------------------------------------------------------------------


def _surface_mass(
    doflocs: NDArray[np.float64], fdofs: NDArray[np.int64], n: int,
    weight: NDArray[np.float64] | None = None,
) -> sp.csr_matrix:
    """Mass matrix of the P2 trace on curved (isoparametric) triangles, exact P2 geometry.

    ``weight``: optional nodal values (length n) of a P2 weight w; the matrix is then
    ∫ w φ_i φ_j dS with w interpolated by the P2 trace (quadrature exact for P2 · P2 · P2 on
    affine facets)."""
    xq, wq = get_quadrature(RefTri, 6)
    xi, eta = xq
    l0, l1, l2 = 1.0 - xi - eta, xi, eta
    phi = np.stack([l0 * (2 * l0 - 1), l1 * (2 * l1 - 1), l2 * (2 * l2 - 1),
                    4 * l0 * l1, 4 * l1 * l2, 4 * l0 * l2])  # (6, nq)
    dxi = np.stack([-(4 * l0 - 1), 4 * l1 - 1, 0 * xi,
                    4 * (l0 - l1), 4 * l2, -4 * l2])
    deta = np.stack([-(4 * l0 - 1), 0 * xi, 4 * l2 - 1,
                     -4 * l1, 4 * l1, 4 * (l0 - l2)])
    pts = doflocs[:, fdofs]  # (3, 6, nf)
    t1 = np.einsum("dkf,kq->dqf", pts, dxi)
    t2 = np.einsum("dkf,kq->dqf", pts, deta)
    jac = np.linalg.norm(np.cross(t1, t2, axis=0), axis=0)  # (nq, nf)
    if weight is not None:
        jac = jac * np.einsum("kq,kf->qf", phi, np.asarray(weight, dtype=float)[fdofs])
    local = np.einsum("iq,jq,q,qf->ijf", phi, phi, wq, jac)
    rows = np.broadcast_to(fdofs[:, None, :], local.shape).ravel()
    cols = np.broadcast_to(fdofs[None, :, :], local.shape).ravel()
    return sp.coo_matrix((local.ravel(), (rows, cols)), shape=(n, n)).tocsr()


def _gradient_current(
    surface: Surface,
    mesh: MeshTet2,
    ref: NDArray[np.float64],
    u: NDArray[np.float64],
    dof_i: NDArray[np.int64],
) -> NDArray[np.float64]:
    """∂u/∂n at the interface DOFs: n·∇u of every adjacent element at the node, averaged.

    The normal is the analytic one of the design, evaluated a hair inside each element so that a
    node on a sharp kink takes the normal of that element's own face.
    """
    on_i = np.zeros(mesh.doflocs.shape[1], dtype=bool)
    on_i[dof_i] = True
    elem = ElementTetP2()
    tind = np.nonzero(np.any(ref[2][mesh.t] == 0.0, axis=0))[0]
    nodes = Basis(mesh, elem, elements=tind, quadrature=(elem.doflocs.T, np.full(10, 0.1)))
    grads = nodes.interpolate(u).grad  # (3, nel, 10): ∇u at the element's own P2 nodes
    edofs = nodes.element_dofs
    s = surface.period_um
    cx = mesh.doflocs[0][edofs[:4]].mean(axis=0)
    cy = mesh.doflocs[1][edofs[:4]].mean(axis=0)
    total = np.zeros(on_i.size)
    count = np.zeros(on_i.size)
    for k in range(edofs.shape[0]):
        sel = on_i[edofs[k]]
        dk = edofs[k][sel]
        px, py = mesh.doflocs[0][dk], mesh.doflocs[1][dk]
        px = px + 1e-7 * (cx[sel] - px)
        py = py + 1e-7 * (cy[sel] - py)
        ex, ey = surface.gradient(px * s, py * s)
        norm = np.sqrt(1.0 + ex * ex + ey * ey)  # normal into the electrolyte: (e_x, e_y, 1)
        val = (ex * grads[0, sel, k] + ey * grads[1, sel, k] + grads[2, sel, k]) / norm
        np.add.at(total, dk, val)
        np.add.at(count, dk, 1.0)
    return total[dof_i] / count[dof_i]


def _factorize(matrix: sp.spmatrix) -> SpdSolver:
    """Solver of a symmetric positive definite matrix: SuperLU in symmetric mode, no pivoting,
    minimum degree on A + Aᵀ (measured 2-2.5× faster than the default COLAMD at 18k P2 DOFs),
    in single precision refined in double (:mod:`solver.spd`)."""
    return SpdSolver(matrix)


# --- solver ---------------------------------------------------------------------------------


def _check_inputs(
    surface: Surface, kinetic_length_um: float | None, divisions: int, grading: float
) -> None:
    if not surface.is_square_symmetric:
        raise TypeError(
            f"solve_fem_field: {type(surface).__name__} lacks the mirror symmetry of the 1/8 wedge"
        )
    if kinetic_length_um is not None and not (
        math.isfinite(kinetic_length_um) and kinetic_length_um > 0.0
    ):
        raise ValueError(
            f"kinetic_length_um = {kinetic_length_um!r} must be a positive number (or None)"
        )
    if isinstance(divisions, bool) or not isinstance(divisions, int) or not 2 <= divisions <= 64:
        raise ValueError(f"divisions = {divisions!r} must be an integer in [2, 64]")
    if not (math.isfinite(grading) and 0.0 <= grading <= 1.0):
        raise ValueError(f"grading = {grading!r} must lie in [0, 1]")


def solve_fem_field(
    surface: Surface,
    kinetic_length_um: float | None,
    *,
    divisions: int = 12,
    edge_radius_um: float | None = None,
    grading: float = 1.0,
    map_nodes: int = 64,
    exchange_factor_fn: ExchangeFactorFn | None = None,
) -> FieldSolution:
    """Primary or secondary current on one periodic cell by P2 finite elements on the 1/8 wedge.

    Parameters
    ----------
    surface : Surface
        Design (electrolyte surface e, µm); flat, egg-box, pyramid or frustum.
    kinetic_length_um : float or None
        Kinetic length ℓ = κ R_ct, µm (Robin condition u = ℓ ∂u/∂n); None solves the primary
        problem (u = 0 on the interface).
    divisions : int, default 12
        Mesh divisions in each of the three directions (x, across the hip, ζ), 2 to 64.
    edge_radius_um : float, optional
        Override of the design's edge radius r, µm (pyramids and frustums only).
    grading : float, default 1.0
        Grading power γ in [0, 1]: the mesh spacing grows like (w + d)^γ with the distance d from
        an edge, apex or interface (w: rounded band half-width); 0 is uniform.
    map_nodes : int, default 64
        Nodes per period of the regular map ``current_ratio`` (the wedge's nodal values
        interpolated linearly with the design's mirror symmetry).
    exchange_factor_fn : callable, optional
        Spatially varying kinetics (secondary only): ``g(x_m, y_m) -> ndarray`` > 0, the local
        exchange current i0_eff/i0, evaluated at the projected interface P2 nodes of the wedge
        [m] and interpolated by the P2 trace; the Robin condition becomes u = (ℓ/g) ∂u/∂n and
        i_n/J = g u/ℓ at the nodes. Only the wedge is sampled, so g is taken to share the
        design's mirror symmetry. None: uniform kinetics.

    Returns
    -------
    FieldSolution
        ``method="fem"``, ``resolution=(divisions,)``; the nodal values are in ``node_*``; no
        error estimate (see :func:`solve_fem_converged`).
    """
    _check_inputs(surface, kinetic_length_um, divisions, grading)
    if exchange_factor_fn is not None and kinetic_length_um is None:
        raise ValueError("exchange_factor_fn needs kinetic_length_um (secondary condition)")
    if edge_radius_um is not None:
        surface = surface.with_edge_radius(float(edge_radius_um))
    start = time.perf_counter()
    s = surface.period_um
    mesh, ref, _ = _wedge_mesh(surface, divisions, grading)
    on_interface = np.all(ref[2][mesh.facets] == 0.0, axis=0)
    on_top = np.all(ref[2][mesh.facets] == 1.0, axis=0)
    facets_i = np.nonzero(on_interface)[0]
    facets_t = np.nonzero(on_top)[0]

    n_dofs = mesh.doflocs.shape[1]  # the P2 nodes (numbered as by a scikit-fem Basis)
    stiff = laplace_stiffness(mesh)
    fd_i = facet_dofs(mesh, facets_i)
    mass_i = _surface_mass(mesh.doflocs, fd_i, n_dofs)
    load = _surface_mass(mesh.doflocs, facet_dofs(mesh, facets_t), n_dofs) @ np.ones(
        n_dofs
    )  # ∂u/∂n = 1 at the top (uniform current J)
    dof_i = np.unique(fd_i)
    area0 = float(load.sum())  # projected wedge area, 1/8 in units of S²

    if kinetic_length_um is None:
        free = np.setdiff1d(np.arange(n_dofs), dof_i)
        u = np.zeros(n_dofs)
        u[free] = _factorize(stiff[free][:, free]).solve(load[free])
        residual = stiff @ u - load
        m_ii = mass_i[dof_i][:, dof_i].tocsc()
        variational = _factorize(m_ii).solve(-residual[dof_i])
        current = _gradient_current(surface, mesh, ref, u, dof_i)
    elif exchange_factor_fn is None:
        ell = kinetic_length_um / s
        u = _factorize(stiff + mass_i / ell).solve(load)
        variational = current = u[dof_i] / ell
    else:
        ell = kinetic_length_um / s
        g = np.ones(n_dofs)
        g[dof_i] = _factor_at(exchange_factor_fn, mesh.doflocs[0, dof_i] * s,
                              mesh.doflocs[1, dof_i] * s)
        mass_g = _surface_mass(mesh.doflocs, fd_i, n_dofs, weight=g)
        u = _factorize(stiff + mass_g / ell).solve(load)
        current = g[dof_i] * u[dof_i] / ell
        # conservative current: L2 projection of the Robin flux (g u/ℓ) onto the P2 trace
        variational = _factorize(mass_i[dof_i][:, dof_i]).solve((mass_g @ u)[dof_i] / ell)
    m_ii = mass_i[dof_i][:, dof_i]
    flux = float(np.sum(m_ii @ variational)) / area0
    flux_gradient = float(np.sum(m_ii @ current)) / area0
    elapsed = time.perf_counter() - start

    x_um = mesh.doflocs[0, dof_i] * s
    y_um = mesh.doflocs[1, dof_i] * s
    k = int(np.argmax(current))
    current = np.asarray(current, dtype=float)
    grid = np.asarray(length_m(s * np.arange(map_nodes) / map_nodes))
    location = np.asarray(length_m(np.asarray((float(x_um[k]), float(y_um[k])))))
    return FieldSolution(
        design=surface,
        method="fem",
        kinetic_length_m=None if kinetic_length_um is None else length_m(kinetic_length_um),
        x_m=grid,
        y_m=grid.copy(),
        current_ratio=_nodal_map(x_um, y_um, current, s, map_nodes),
        max_current_ratio=float(current[k]),
        min_current_ratio=float(np.min(current)),
        max_location_m=(float(location[0]), float(location[1])),
        flux_ratio=flux,
        flux_ratio_gradient=flux_gradient,
        resolution=(divisions,),
        degrees_of_freedom=int(n_dofs),
        solve_time_s=elapsed,
        node_x_m=np.asarray(length_m(x_um)),
        node_y_m=np.asarray(length_m(y_um)),
        node_current_ratio=current,
        node_current_ratio_variational=np.asarray(variational, dtype=float),
    )


def _factor_at(exchange_factor_fn: ExchangeFactorFn, x_um: NDArray[np.float64],
               y_um: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exchange-current factor at interface nodes given in µm, validated (finite, > 0)."""
    x_m, y_m = np.asarray(length_m(x_um)), np.asarray(length_m(y_um))
    g = np.array(np.broadcast_to(np.asarray(exchange_factor_fn(x_m, y_m), dtype=float),
                                 x_m.shape))
    if not (np.all(np.isfinite(g)) and np.all(g > 0.0)):
        raise ValueError("exchange_factor_fn must return finite values > 0 on the interface "
                         f"(got min {np.nanmin(g):.3g}, max {np.nanmax(g):.3g})")
    return g


def _fold(x: NDArray[np.float64], y: NDArray[np.float64],
          s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Map points into the mirror wedge 0 ≤ y ≤ x ≤ S/2 (D4 symmetry about the origin)."""
    x, y = np.mod(x, s), np.mod(y, s)
    x, y = np.minimum(x, s - x), np.minimum(y, s - y)
    return np.maximum(x, y), np.minimum(x, y)


def _nodal_map(x_um: NDArray[np.float64], y_um: NDArray[np.float64],
               values: NDArray[np.float64], s_um: float, n: int) -> NDArray[np.float64]:
    """Interpolate the wedge's nodal values onto the regular n × n cell grid (µm)."""
    fx, fy = _fold(np.asarray(x_um, float), np.asarray(y_um, float), s_um)
    pts = np.round(np.column_stack([fx, fy]), 9)
    pts, idx = np.unique(pts, axis=0, return_index=True)
    g = s_um * np.arange(n) / n
    qx, qy = _fold(*np.meshgrid(g, g, indexing="ij"), s_um)
    return scattered_interpolant(pts, np.asarray(values, float)[idx])(qx, qy)


def solve_fem_converged(
    surface: Surface,
    kinetic_length_um: float | None,
    *,
    rtol: float = 0.005,
    edge_radius_um: float | None = None,
    divisions: tuple[int, ...] = (8, 12, 16, 20),
    grading: float = 1.0,
) -> FemConvergenceStudy:
    """Refine until two successive maxima agree within ``rtol``.

    Parameters
    ----------
    surface : Surface
        Design, µm.
    kinetic_length_um : float or None
        Kinetic length ℓ, µm; None for the primary problem.
    rtol : float, default 0.005
        Relative tolerance on the change of the maximum between successive levels.
    edge_radius_um : float, optional
        Edge radius override, µm (pyramids and frustums).
    divisions : tuple of int, default (8, 12, 16, 20)
        Increasing mesh levels; the study stops at the first level that meets ``rtol``.
    grading : float, default 1.0
        Grading power, see :func:`solve_fem_field`.

    Returns
    -------
    FemConvergenceStudy
        The finest solution (carrying the study's error estimate and convergence flag), the
        error estimate (relative change to the previous level), the levels and their maxima;
        ``converged`` is False if the last level still misses ``rtol``.
    """
    if len(divisions) < 2 or any(b <= a for a, b in zip(divisions, divisions[1:], strict=False)):
        raise ValueError(f"divisions = {divisions!r} must be at least two increasing levels")
    if not (math.isfinite(rtol) and rtol > 0.0):
        raise ValueError(f"rtol = {rtol!r} must be a positive number")
    def level(n: int) -> FieldSolution:
        return solve_fem_field(
            surface, kinetic_length_um, divisions=n, edge_radius_um=edge_radius_um,
            grading=grading,
        )

    sol = level(divisions[0])
    maxima = [sol.max_current_ratio]
    err = math.inf
    for n in divisions[1:]:
        sol = level(n)
        maxima.append(sol.max_current_ratio)
        err = abs(maxima[-1] - maxima[-2]) / abs(maxima[-1])
        logger.debug("divisions %d: max %.6f, change %.2e", n, maxima[-1], err)
        if err <= rtol:
            break
    done = divisions[: len(maxima)]
    sol = dataclasses.replace(sol, error_estimate=err, converged=err <= rtol)
    return FemConvergenceStudy(
        solution=sol,
        error_estimate=err,
        divisions=tuple(done),
        maxima=tuple(maxima),
        converged=err <= rtol,
    )
