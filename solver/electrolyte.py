"""Linear-elastic stress in the solid electrolyte above one periodic cell: the hoop stress at the
Li tips that opens a Li-filled crack.

The electrolyte fills f(x, y) < z < f_max + T above the interface (solver frame: z from the Li
into the electrolyte, f = H − e), T = max(S, 2c) for a crack depth c. It is loaded on the
interface by the Li pressure, p_stack plus the excess pressure of the creeping Li (the pressure
pushes along −n, n the outward normal of the electrolyte), and held by a frictionless platen at
the top (u_z = 0; the perturbation of the contour decays as exp(−2πz/S), so T ≥ S places the
platen where it no longer matters). The mirror planes x, y = 0, S/2 of the square-symmetric cell
carry u·n = 0 (x, y = 0) or a uniform lateral displacement δ (x, y = S/2): the lateral condition
of the pellet fixes δ,

* ``"confined"``: δ = 0 (a pellet held by the die it was pressed in; zero mean lateral strain,
  flat lateral stress σ_L = −ν/(1 − ν)·p);
* ``"free"``: δ such that the mean lateral stress is zero (σ_L = 0).

Quarter cell, isoparametric P2 tetrahedra (scikit-fem), one factorisation for all load cases
(linear elasticity: the stack-pressure and excess-pressure states are superposed). The stress is
projected onto continuous P2 and read along the vertical line above every interface vertex, where
a crack along the stack axis would run. Stresses from traction loads are independent of Young's
modulus; only ν enters. Equations, verification and defaults: docs/theory.md ("Electrolyte
stress").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from skfem import MeshTet, MeshTet2
from skfem.quadrature import get_quadrature
from skfem.refdom import RefTri

from solver.band_nodes import band_nodes
from solver.creep_mirror import MIRROR_TOL, mirror_basis, mirror_dofs, node_mirror
from solver.critical import CrackDrive
from solver.fem_p2 import assemble, facet_dofs, p2_gradients, quadrature
from solver.spd import SpdSolver
from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, declare, validate_fields
from templater.geometry.surfaces import Surface

__all__ = [
    "LATERAL_CONDITIONS",
    "ElectrolyteOptions",
    "ElectrolyteStress",
    "flat_lateral_stress_ratio",
    "solve_electrolyte",
    "solve_electrolyte_converged",
]

LATERAL_CONDITIONS = PARAMETERS["lateral_condition"].choices

PressureShapeFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]

_INTORDER = 4
_FIRST_LAYER = 0.25  # first electrolyte layer, in mean lateral spacings (crack averages need it)
_VERTICES = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
# the order-4 rule, then the four vertices of the reference tetrahedron with zero weight: one
# evaluation gives the stiffness and the displacement gradient at each element's vertices
_QUADRATURE = (np.hstack([quadrature(_INTORDER)[0], _VERTICES]),
               np.concatenate([quadrature(_INTORDER)[1], np.zeros(4)]))


def flat_lateral_stress_ratio(lateral: str, poisson_ratio: float) -> float:
    """σ_L / p of a flat interface under the pressure p (tension positive): 0 for a free pellet,
    −ν/(1 − ν) for a laterally confined one."""
    if lateral == "free":
        return 0.0
    if lateral == "confined":
        return -poisson_ratio / (1.0 - poisson_ratio)
    raise ValueError(f"lateral condition must be one of {LATERAL_CONDITIONS}, got {lateral!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ElectrolyteOptions:
    """Settings of the electrolyte stress model.

    Parameters
    ----------
    poisson_ratio : float
        ν of the electrolyte (default from the parameter set).
    lateral_condition : {"confined", "free"}
        Lateral condition of the pellet (see module docstring).
    divisions : int, default 4
        Lateral divisions of the quarter cell (vertical layers follow), 2 to 32.
    """

    poisson_ratio: float = declare("poisson_ratio", default=True)
    lateral_condition: str = declare("lateral_condition", default=True)
    divisions: int = 4

    def __post_init__(self) -> None:
        validate_fields(self, "electrolyte")
        if not (isinstance(self.divisions, int) and 2 <= self.divisions <= 32):
            raise DesignError("electrolyte", "divisions", "divisions", self.divisions,
                              "[2, 32]", "")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ElectrolyteStress:
    """Crack-opening (hoop) stress in the electrolyte above the interface vertices of a quarter
    cell, per unit load, for the two superposed load cases (dimensionless: stress / load).

    ``*_profile`` arrays have shape (m, k): m interface vertices, k points up the vertical line
    above each (``depth_um``, 0 at the interface). The in-plane stress tensor is stored as
    (σ_xx, σ_yy, σ_xy) in the last axis of ``stack_plane`` and ``excess_plane`` (m, k, 3).
    """

    design: Surface = field(repr=False)
    options: ElectrolyteOptions
    x_um: NDArray[np.float64]
    y_um: NDArray[np.float64]
    depth_um: NDArray[np.float64]  # (m, k)
    stack_plane: NDArray[np.float64]  # (m, k, 3) per unit stack pressure
    excess_plane: NDArray[np.float64] | None  # (m, k, 3) per unit max excess pressure
    excess_shape: NDArray[np.float64] | None  # (m,) Δp / Δp_max at the vertices
    crack_depth_um: float
    flat_ratio: float  # σ_L / p of the flat interface
    dofs: int
    divisions: int
    solve_time_s: float
    error_estimate: float = float("nan")  # relative, from the previous level (NaN unknown)
    coarse: ElectrolyteStress | None = field(default=None, repr=False)  # the previous level

    def __post_init__(self) -> None:
        for name in ("x_um", "y_um", "depth_um", "stack_plane", "excess_plane", "excess_shape"):
            value = getattr(self, name)
            if value is not None:
                value.flags.writeable = False

    def _plane(self, stack_pa: float, excess_max_pa: float) -> NDArray[np.float64]:
        plane = stack_pa * self.stack_plane
        if self.excess_plane is not None and excess_max_pa != 0.0:
            plane = plane + excess_max_pa * self.excess_plane
        return plane

    def opening_stress_profile(self, stack_pa: float,
                               excess_max_pa: float = 0.0) -> NDArray[np.float64]:
        """(m, k) normal stress [Pa] (tension positive) on the vertical plane that the
        stack-pressure state's largest in-plane principal stress at the interface opens (the
        crack plane is set by the geometry, so the two load states superpose)."""
        ref = self.stack_plane[:, 0]
        theta = 0.5 * np.arctan2(2.0 * ref[:, 2], ref[:, 0] - ref[:, 1])
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        plane = self._plane(stack_pa, excess_max_pa)
        return c * c * plane[..., 0] + s * s * plane[..., 1] + 2.0 * c * s * plane[..., 2]

    def hoop_stress(self, stack_pa: float, excess_max_pa: float = 0.0) -> NDArray[np.float64]:
        """(m,) crack-opening (hoop) stress at the interface [Pa]."""
        return self.opening_stress_profile(stack_pa, excess_max_pa)[:, 0]

    def crack_stress(self, stack_pa: float, excess_max_pa: float = 0.0,
                     crack_um: float | None = None) -> NDArray[np.float64]:
        """(m,) opening stress averaged over the crack depth c below each vertex [Pa]
        (default c: the depth the model was solved for; at most the column height)."""
        profile = self.opening_stress_profile(stack_pa, excess_max_pa)
        c = self.crack_depth_um if crack_um is None else float(crack_um)
        if c <= 0.0:
            return profile[:, 0]
        out = np.zeros(profile.shape[0])
        for i in range(profile.shape[0]):
            d = self.depth_um[i]
            c_i = min(c, float(d[-1]))
            inside = d < c_i
            dd = np.append(d[inside], c_i)
            vv = np.append(profile[i, inside], np.interp(c_i, d, profile[i]))
            out[i] = np.trapezoid(vv, dd) / c_i
        return out

    def li_pressure(self, stack_pa: float, excess_max_pa: float = 0.0) -> NDArray[np.float64]:
        """(m,) Li pressure at the vertices [Pa]."""
        if self.excess_shape is None:
            return np.full(self.x_um.shape, float(stack_pa))
        return stack_pa + excess_max_pa * self.excess_shape

    def drive_pressure(self, stack_pa: float, excess_max_pa: float = 0.0,
                       crack_um: float | None = None) -> NDArray[np.float64]:
        """(m,) crack-driving pressure p_Li + σ̄ (K_I = Y √(πc) · this) [Pa]."""
        return (self.li_pressure(stack_pa, excess_max_pa)
                + self.crack_stress(stack_pa, excess_max_pa, crack_um))

    def crack_drive(self, stack_pa: float, crack_um: float | None = None) -> CrackDrive:
        """The design's crack-driving pressure as a function of the maximum excess pressure."""
        base = 1.0 + self.crack_stress(1.0, 0.0, crack_um)
        if self.excess_shape is None:
            slope = np.zeros_like(base)
        else:
            slope = self.excess_shape + self.crack_stress(0.0, 1.0, crack_um)
        return CrackDrive(stack_pa=float(stack_pa), base=base, slope=slope,
                          flat=1.0 + self.flat_ratio)

    def drive_error(self, crack_um: float | None = None) -> float:
        """Relative change, from the previous level (:attr:`coarse`) to this one, of the
        largest crack-driving pressure per unit stack pressure less the flat interface's, for
        cracks of depth ``crack_um`` (default: the solved depth, i.e. :attr:`error_estimate`).
        A column solved for deep cracks serves shallower ones; their error is this one, not
        the deep crack's (the departure from flat fades with depth)."""
        if self.coarse is None:  # only the recorded estimate, at the solved depth
            same = crack_um is None or float(crack_um) == self.crack_depth_um
            return self.error_estimate if same else float("nan")
        a = float(np.max(self.drive_pressure(1.0, 0.0, crack_um)))
        b = float(np.max(self.coarse.drive_pressure(1.0, 0.0, crack_um)))
        return abs(a - b) / max(abs(a - 1.0 - self.flat_ratio), 1e-12)

    def flat_drive_pressure(self, stack_pa: float) -> float:
        """Crack-driving pressure of the flat interface, p (1 + σ_L/p) [Pa]."""
        return stack_pa * (1.0 + self.flat_ratio)

    def stress_concentration(self) -> float:
        """K_t = (σ_tt,max + p)/(σ_L + p) of the stack-pressure state: 1 for a flat interface;
        1 + 2πH/S for a shallow 2-D sinusoid of peak-to-valley height H."""
        return float((np.max(self.hoop_stress(1.0)) + 1.0) / (self.flat_ratio + 1.0))


# --- mesh ------------------------------------------------------------------------------------
def _lateral_nodes(divisions: int, grading: float = 0.6) -> NDArray[np.float64]:
    """Nodes on [0, 1/2], finer at both mirror planes (where tips and edges of every shape lie)."""
    s = np.linspace(0.0, 1.0, divisions + 1)
    return 0.5 * (s - grading * np.sin(2.0 * np.pi * s) / (2.0 * np.pi))


def _mesh_nodes(surface: Surface, divisions: int) -> NDArray[np.float64]:
    """Lateral nodes of the mesh: graded towards the rounded Li-convex edge for pyramids and
    frustums (:func:`solver.band_nodes.band_nodes`, which gives every segment between edges
    at least one element, so two levels can share their nodes), else towards the mirror
    planes."""
    rounded = not getattr(surface, "is_smooth", True)  # (test surfaces may not say)
    return band_nodes(surface, divisions) if rounded else _lateral_nodes(divisions)


def _levels(divisions: int, first: float) -> NDArray[np.float64]:
    """Reference vertical nodes s ∈ [0, 1] (0 = interface): a first layer of ``first`` (in
    column lengths), then layers growing by 1 + 1.2/divisions (an h-family under refinement)."""
    growth = 1.0 + 1.2 / divisions
    n_layers = max(2, int(np.ceil(np.log1p((growth - 1.0) / first) / np.log(growth))))
    widths = growth ** np.arange(n_layers)
    return np.concatenate([[0.0], np.cumsum(widths / widths.sum())])


def _stiffness(grads: NDArray[np.float64], dx: NDArray[np.float64], edofs: NDArray[np.int64],
               n_dofs: int, lam: float, mu: float) -> sp.csr_matrix:
    """Isotropic elastic stiffness (E = 1) of the vector P2 field from the scalar basis
    gradients ``grads`` (nel, 10, 3, nq) and the weights ``dx`` (nel, nq): with
    a_kcld = ∫ ∂_c φ_k ∂_d φ_l, K[(k, c), (l, d)] = λ a_kcld + μ a_kdlc + μ δ_cd Σ_a a_kala
    (one batched product per element). ``edofs`` (nel, 30): global DOFs of (k, c)."""
    nel, nb, dim, _ = grads.shape
    g = grads.reshape(nel, nb * dim, -1)
    a = np.matmul(g * dx[:, None, :], g.transpose(0, 2, 1)).reshape(nel, nb, dim, nb, dim)
    local = lam * a + mu * a.transpose(0, 1, 4, 3, 2)
    trace = np.einsum("ekala->ekl", a)
    for c in range(dim):
        local[:, :, c, :, c] += mu * trace
    return assemble(local.reshape(nel, nb * dim, nb * dim), edofs, n_dofs)


def n_vertices_of(mesh: MeshTet2) -> int:
    """Number of tetrahedron vertices (the P2 mesh also stores its edge nodes)."""
    return int(mesh.t.max()) + 1


def _traction_load(doflocs: NDArray[np.float64], fdofs: NDArray[np.int64],
                   shape: PressureShapeFn | None, s_um: float) -> NDArray[np.float64]:
    """Load vector of the pressure p n pushing on the interface, ∫ −p n·φ dA, on the curved
    P2 facets (n the outward normal of the electrolyte, pointing down into the Li). Vector
    DOFs are interleaved by node (3 k + component)."""
    xq, wq = get_quadrature(RefTri, 6)
    xi, eta = xq
    l0, l1, l2 = 1.0 - xi - eta, xi, eta
    phi = np.stack([l0 * (2 * l0 - 1), l1 * (2 * l1 - 1), l2 * (2 * l2 - 1),
                    4 * l0 * l1, 4 * l1 * l2, 4 * l0 * l2])  # (6, nq)
    dxi = np.stack([-(4 * l0 - 1), 4 * l1 - 1, 0 * xi, 4 * (l0 - l1), 4 * l2, -4 * l2])
    deta = np.stack([-(4 * l0 - 1), 0 * xi, 4 * l2 - 1, -4 * l1, 4 * l1, 4 * (l0 - l2)])
    pts = doflocs[:, fdofs]  # (3, 6, nf)
    area = np.cross(np.einsum("dkf,kq->dqf", pts, dxi), np.einsum("dkf,kq->dqf", pts, deta),
                    axis=0)  # (3, nq, nf): n dA / dξ dη, up to orientation
    area *= -np.sign(area[2])[None]  # outward from the electrolyte: downward
    if shape is None:
        p = np.ones(area.shape[1:])
    else:
        xyz = np.einsum("dkf,kq->dqf", pts, phi)
        p = np.asarray(shape(xyz[0] * s_um, xyz[1] * s_um), dtype=float)
    local = -np.einsum("kq,q,qf,dqf->kdf", phi, wq, p, area)  # (6, 3, nf)
    out = np.zeros(3 * doflocs.shape[1])
    idx = 3 * fdofs[:, None, :] + np.arange(3)[None, :, None]
    np.add.at(out, idx.ravel(), local.ravel())
    return out


def _mirror_nodes(surface: Surface, xr: NDArray[np.float64], yr: NDArray[np.float64],
                  sr: NDArray[np.float64]) -> NDArray[np.int64] | None:
    """The x ↔ y mirror image of every node, or None when the mesh or the interface is not
    mirror-symmetric."""
    nodes = node_mirror(xr, yr, sr)
    if nodes is None:
        return None
    s_um = surface.period_um
    e = surface.z_um(xr * s_um, yr * s_um)
    if np.abs(e - e[nodes]).max() > MIRROR_TOL * max(surface.height_um, 1e-3 * s_um):
        return None
    return nodes


def _symmetrised(load: NDArray[np.float64], nodes: NDArray[np.int64]) -> bool:
    """Whether ``load`` is x ↔ y mirror-symmetric; if so (within 1e-9), make it exactly so, in
    place."""
    m = np.empty_like(load)
    m[mirror_dofs(nodes)] = load
    if np.abs(load - m).max() > MIRROR_TOL * max(np.abs(load).max(), 1e-300):
        return False
    load[:] = 0.5 * (load + m)
    return True


class _Level:
    """One electrolyte mesh level: the mesh, the factorised stiffness and the stack-pressure
    state. A further load (the excess Li pressure) reuses the factorisation, so the levels can
    be chosen from the stack-pressure state alone while the excess-pressure shape is solved."""

    def __init__(self, surface: Surface, options: ElectrolyteOptions,
                 crack_depth_um: float) -> None:
        t0 = time.perf_counter()
        if options.lateral_condition == "free" and not surface.is_square_symmetric:
            # one lateral displacement for x and y: the free condition needs square symmetry
            raise DesignError("electrolyte", "design", "design", surface.name,
                              "square-symmetric designs (lateral condition free)", "")
        self.surface, self.options, self.crack_depth_um = surface, options, float(crack_depth_um)
        s_um = self.s_um = surface.period_um
        h_um = surface.height_um
        n = options.divisions
        # lengths in periods S from here on (the isoparametric inverse map works to an
        # absolute tolerance: O(1) coordinates); pyramids and frustums: nodes graded towards
        # the rounded Li-convex edge, where the crack-driving stress peaks (with the
        # sine-graded nodes the frustum's drive rose and fell between 3 and 8 divisions, and
        # the two-level error under-estimated the change; docs/benchmarks.md, "Full
        # prediction and sweeps")
        xs = _mesh_nodes(surface, n)
        f_max = (h_um - float(np.min(surface.z_um(xs[:, None] * s_um, xs[None, :] * s_um)))) / s_um
        top = f_max + max(1.0, 2.0 * crack_depth_um / s_um)
        # first layer: a fraction of the mean lateral spacing, over the mean column length
        self.levels = _levels(n, _FIRST_LAYER * (0.5 / n) / (top - f_max + 0.5 * h_um / s_um))
        ref = MeshTet2.from_mesh(MeshTet.init_tensor(xs, xs, self.levels))
        xr, yr, sr = ref.doflocs
        f = (h_um - surface.z_um(xr * s_um, yr * s_um)) / s_um
        mesh = self.mesh = replace(ref, doflocs=np.vstack([xr, yr, f + (top - f) * sr]))

        nu = options.poisson_ratio
        self.lam = nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
        self.mu = 1.0 / (2.0 * (1.0 + nu))
        grads, dx = p2_gradients(mesh, *_QUADRATURE)  # at the quadrature points, then vertices
        self.g_vertex = grads[..., -4:]  # (nel, 10, 3, 4)
        self.nodes = mesh.dofs.element_dofs.T  # (nel, 10) P2 nodes of each element
        n_dofs = self.n_dofs = 3 * mesh.doflocs.shape[1]  # interleaved by node: 3 k + component
        edofs = (3 * self.nodes[:, :, None] + np.arange(3)).reshape(self.nodes.shape[0], -1)
        stiffness = _stiffness(grads[..., :-4], dx[:, :-4], edofs, n_dofs, self.lam, self.mu)

        tol = 1e-9
        bfacets = mesh.boundary_facets()
        on_interface = (sr[: n_vertices_of(mesh)][mesh.facets[:, bfacets]] < 1e-12).all(axis=0)
        self.fdofs = facet_dofs(mesh, bfacets[on_interface])
        stack_load = _traction_load(mesh.doflocs, self.fdofs, None, s_um)

        nodes_x, nodes_y, nodes_z = mesh.doflocs
        x0 = 3 * np.flatnonzero(np.abs(nodes_x) < tol)
        x1 = 3 * np.flatnonzero(np.abs(nodes_x - 0.5) < tol)
        y0 = 3 * np.flatnonzero(np.abs(nodes_y) < tol) + 1
        y1 = 3 * np.flatnonzero(np.abs(nodes_y - 0.5) < tol) + 1
        ztop = 3 * np.flatnonzero(np.abs(nodes_z - top) < tol) + 2
        fixed = np.unique(np.concatenate([x0, x1, y0, y1, ztop]))
        self.lateral = np.concatenate([x1, y1])
        self.free = np.setdiff1d(np.arange(n_dofs), fixed)
        self.stiffness = stiffness
        self.mirror_nodes = (xr, yr, sr)
        self.image = _mirror_nodes(surface, xr, yr, sr)
        self._factorize(stack_load)
        self.u_delta, self.f_delta = None, 0.0
        if options.lateral_condition == "free":  # δ from zero mean lateral force
            u_delta = np.zeros(n_dofs)
            u_delta[self.lateral] = 1.0
            u_delta[self.free] = self._solve_free(
                -(stiffness[self.free][:, self.lateral] @ u_delta[self.lateral]))
            self.u_delta = u_delta
            self.f_delta = float(np.sum(stiffness[self.lateral] @ u_delta))
        self.stack = self._solve(stack_load)
        self.seconds = time.perf_counter() - t0

    def _factorize(self, load: NDArray[np.float64] | None) -> None:
        """Factorise the stiffness: in the x ↔ y mirror-symmetric unknowns when the design
        and ``load`` are symmetric (the same solution; the LU, nearly all of the time, gets
        3-4 times cheaper), else (``load`` None) in all of them."""
        k_free = self.stiffness[self.free][:, self.free]
        self.basis = None
        if load is not None and self.image is not None and _symmetrised(load, self.image):
            self.basis = mirror_basis(self.image, 0, sp.identity(3 * self.image.size,
                                                                  format="csr"), self.free)
            k_free = self.basis.T @ k_free @ self.basis
        # SPD: symmetric minimum-degree ordering, factorised in single precision and refined
        # in double (1.4-1.6 times faster than a double-precision LU at 5-6 divisions)
        self.lu = SpdSolver(k_free)

    def _solve_free(self, rhs: NDArray[np.float64]) -> NDArray[np.float64]:
        b = self.basis
        return self.lu.solve(rhs) if b is None else b @ self.lu.solve(b.T @ rhs)

    def _solve(self, load: NDArray[np.float64]) -> NDArray[np.float64]:
        u = np.zeros(self.n_dofs)
        u[self.free] = self._solve_free(load[self.free])  # δ = 0 (confined)
        if self.u_delta is not None:
            lateral = self.lateral
            u = u - (float(np.sum(self.stiffness[lateral] @ u - load[lateral]))
                     / self.f_delta) * self.u_delta
        return u

    def _excess(self, shape: PressureShapeFn) -> NDArray[np.float64]:
        """Displacement of the excess-pressure load (a load that breaks the mirror symmetry
        the factorisation uses is solved with a full one)."""
        load = _traction_load(self.mesh.doflocs, self.fdofs, shape, self.s_um)
        if self.basis is not None and not _symmetrised(load, self.image):
            self._factorize(None)
        return self._solve(load)

    @cached_property
    def _columns(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """(vertex indices (m, k) of the vertical lines, interface first; vertex share
        counts)."""
        n_vertices = n_vertices_of(self.mesh)
        share = np.bincount(self.mesh.t.ravel(), minlength=n_vertices).astype(float)
        xr, yr, sr = (c[:n_vertices] for c in self.mirror_nodes)
        order = np.lexsort((sr, np.round(yr, 9), np.round(xr, 9)))
        return order.reshape(-1, self.levels.size), share

    @cached_property
    def _stack_plane(self) -> NDArray[np.float64]:
        """The stack-pressure state's stress plane (the same for every excess load)."""
        return self._plane(self.stack)

    def _plane(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """(σ_xx, σ_yy, σ_xy) of the displacement ``u`` on the vertical lines, (m, k, 3): at
        the element vertices, averaged over the elements sharing each vertex."""
        columns, share = self._columns
        mesh, lam, mu = self.mesh, self.lam, self.mu
        u_el = u.reshape(-1, 3)[self.nodes]  # (nel, 10, 3)
        grad = np.einsum("ekc,ekjq->cjeq", u_el, self.g_vertex)  # (3, 3, nel, 4): ∂u_c/∂x_j
        exx, eyy, ezz = grad[0, 0], grad[1, 1], grad[2, 2]
        trace = exx + eyy + ezz
        comps = (lam * trace + 2.0 * mu * exx, lam * trace + 2.0 * mu * eyy,
                 mu * (grad[0, 1] + grad[1, 0]))
        nodal = [np.bincount(mesh.t.ravel(), weights=c.T.ravel(), minlength=share.size)
                 / share for c in comps]
        return np.stack([v[columns] for v in nodal], axis=-1)

    def stress(self, excess_shape: PressureShapeFn | None = None) -> ElectrolyteStress:
        """The stress planes of this level, with the excess-pressure state when a shape is
        given (the stack-pressure plane is evaluated once per level). ``solve_time_s`` is the
        level's solve time plus this call's."""
        t0 = time.perf_counter()
        s_um = self.s_um
        columns, _ = self._columns
        excess_plane = shape_vals = None
        vx, vy = (c[columns[:, 0]] for c in self.mirror_nodes[:2])
        if excess_shape is not None:
            excess_plane = self._plane(self._excess(excess_shape))
            shape_vals = np.asarray(excess_shape(vx * s_um, vy * s_um), dtype=float)
        depth = self.mesh.doflocs[2][columns]
        depth = (depth - depth[:, :1]) * s_um
        return ElectrolyteStress(
            design=self.surface, options=self.options, x_um=vx * s_um, y_um=vy * s_um,
            depth_um=depth, stack_plane=self._stack_plane, excess_plane=excess_plane,
            excess_shape=shape_vals, crack_depth_um=self.crack_depth_um,
            flat_ratio=flat_lateral_stress_ratio(self.options.lateral_condition,
                                                 self.options.poisson_ratio),
            dofs=int(self.n_dofs), divisions=self.options.divisions,
            solve_time_s=self.seconds + time.perf_counter() - t0,
        )


def solve_electrolyte(
    surface: Surface,
    options: ElectrolyteOptions | None = None,
    *,
    excess_shape: PressureShapeFn | None = None,
    crack_depth_um: float = 0.0,
) -> ElectrolyteStress:
    """Solve the electrolyte stress of one design for unit stack pressure and (optionally) the
    excess Li pressure shape ``excess_shape(x_um, y_um)`` (normalised to 1 at its maximum).

    Parameters
    ----------
    surface : Surface
        Design (µm) with mirror planes x, y = 0, S/2 (every kind of the registry); the free
        lateral condition also needs square symmetry.
    options : ElectrolyteOptions, optional
        ν, lateral condition, mesh divisions.
    excess_shape : callable, optional
        Excess Li pressure over its maximum, a function of the interface position [µm].
    crack_depth_um : float, default 0
        Depth c over which the crack-opening stress is averaged; the column reaches max(S, 2c)
        above the highest Li tip.
    """
    return _Level(surface, options or ElectrolyteOptions(), crack_depth_um).stress(excess_shape)


def solve_electrolyte_converged(
    surface: Surface,
    options: ElectrolyteOptions | None = None,
    *,
    excess_shape: PressureShapeFn | Future | None = None,
    crack_depth_um: float = 0.0,
    coarse_divisions: int | None = None,
    rtol: float | None = None,
    max_divisions: int = 6,
    rtol_crack_um: float | None = None,
    coarse_beside: bool = False,
) -> ElectrolyteStress:
    """Solve at ``options.divisions`` and one level coarser and attach the relative change of
    the largest crack-driving stress per unit stack pressure (its departure from the flat
    interface) as the error estimate. When the two levels would have the same lateral nodes
    (an inverted frustum at 2-4 divisions has 4 lateral elements at each), both move up until
    they differ: an estimate from the vertical layers alone under-stated the change to finer
    meshes (2.9 % against 8.9 %). ``rtol``: while the estimate (for cracks of depth
    ``rtol_crack_um``, default the solved depth) exceeds it, refine by one level (the finer
    level becomes the coarse one) up to ``max_divisions`` (rounded edges need 5-6,
    docs/benchmarks.md). The levels are chosen from the stack-pressure state alone; the
    excess-pressure state is solved on the finest one, so ``excess_shape`` may also be a
    :class:`~concurrent.futures.Future` of the shape, still being solved meanwhile.
    ``coarse_beside``: solve the first coarse level in a thread beside the fine one (worth it
    for the rounded designs' larger levels; a smooth design's small ones lose to the
    threads' contention for the GIL)."""
    options = options or ElectrolyteOptions()

    def next_level(d: int) -> int:  # the next level whose lateral nodes differ from d's
        while d < 32 and np.array_equal(_mesh_nodes(surface, d + 1), _mesh_nodes(surface, d)):
            d += 1
        return min(d + 1, 32)

    if coarse_divisions is None:
        while (options.divisions < 32 and np.array_equal(
                _mesh_nodes(surface, options.divisions),
                _mesh_nodes(surface, max(2, options.divisions - 1)))):
            options = replace(options, divisions=options.divisions + 1)
    coarse = coarse_divisions or max(2, options.divisions - 1)
    rough_options = replace(options, divisions=coarse)
    if coarse_beside:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="electrolyte-coarse")
        rough_future = pool.submit(solve_electrolyte, surface, rough_options,
                                   crack_depth_um=crack_depth_um)
        pool.shutdown(wait=False)  # the thread ends with its one task
        level = _Level(surface, options, crack_depth_um)
        rough = rough_future.result()
    else:
        level = _Level(surface, options, crack_depth_um)
        rough = solve_electrolyte(surface, rough_options, crack_depth_um=crack_depth_um)
    fine = replace(level.stress(), coarse=rough)
    spent = rough.solve_time_s + fine.solve_time_s  # every level's solve and evaluation
    while rtol is not None and fine.drive_error(rtol_crack_um) > rtol and \
            next_level(fine.divisions) <= max_divisions:
        level = _Level(surface, replace(options, divisions=next_level(fine.divisions)),
                       crack_depth_um)
        fine = replace(level.stress(), coarse=replace(fine, coarse=None))
        spent += fine.solve_time_s
    shape = excess_shape.result() if isinstance(excess_shape, Future) else excess_shape
    if shape is not None:
        fine = replace(level.stress(shape), coarse=fine.coarse)
        spent += fine.solve_time_s - level.seconds
    return replace(fine, error_estimate=fine.drive_error(), solve_time_s=spent)
