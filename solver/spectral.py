"""Pseudo-spectral current-distribution solver for smooth periodic interfaces.

Solves Δu = 0 in the electrolyte z > f(x, y) for u = κ(φ_e − φ_Li)/J, ∂u/∂z → 1 far away,
periodic in x and y, with u = 0 (primary) or u = ℓ ∂u/∂n (secondary, ℓ = κ R_ct) on the
interface; i_n/J = ∂u/∂n. Spatially varying kinetics (``exchange_factor_fn``, e.g. the pressure
coupling of :mod:`solver.coupling`) give u = (ℓ/g) ∂u/∂n. Fourier × Chebyshev on a
terrain-following map with the exact Dirichlet-to-Neumann condition at the top, GMRES
right-preconditioned by the flat-interface operator; the resolution rises until two levels agree
to ``rtol`` (the reported error estimate). Designs with mirror planes are solved on the even
subspace. Lipschitz shapes (pyramids, frustums) and steep ones are refused
(:class:`UnsupportedSurfaceError`) and go to :mod:`solver.fem_field` through
:func:`solver.field.solve_field`.

Method: docs/theory.md ("Numerical methods"); measured accuracy and timings:
docs/benchmarks.md ("Spectral field solver").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import numpy as np
import scipy.fft as sfft
from numpy.typing import NDArray

from solver.grid import InterfaceGrid, periodic_grid
from solver.results import FieldSolution
from templater.geometry.errors import TemplaterError
from templater.geometry.surfaces import Surface

__all__ = [
    "ExchangeFactorFn",
    "UnsupportedSurfaceError",
    "solve_spectral",
    "solve_spectral_fixed",
    "check_supported",
    "chebyshev_points",
    "is_mirror_symmetric",
    "default_nz",
    "trig_interpolation_matrix",
    "MAX_ASPECT_RATIO",
    "RESOLUTION_LADDER",
]

log = logging.getLogger(__name__)

MAX_ASPECT_RATIO = 1.0  # H/S above which the spectral path refuses (cost explodes)
RESOLUTION_LADDER = (8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256)
_KRYLOV_BYTES = 4e8  # memory budget of the GMRES basis

#: Local exchange-current factor g(x_m, y_m) = i0_eff / i0 > 0 at interface points [m].
ExchangeFactorFn = Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]


class UnsupportedSurfaceError(TemplaterError, ValueError):
    """The surface is outside the spectral method's envelope (sharp or too steep)."""


# --- spectral building blocks -----------------------------------------------------------------
def chebyshev_points(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gauss-Lobatto points ``cos(πj/n)``, j = 0 … n, and the differentiation matrix."""
    x = np.cos(np.pi * np.arange(n + 1) / n)
    c = np.ones(n + 1)
    c[0] = c[-1] = 2.0
    c *= (-1.0) ** np.arange(n + 1)
    dx = x[:, None] - x[None, :]
    d = np.outer(c, 1.0 / c) / (dx + np.eye(n + 1))
    d -= np.diag(d.sum(axis=1))
    return x, d


def trig_interpolation_matrix(n: int, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Matrix E (len(x), n): ``E @ v`` evaluates the trigonometric interpolant of ``v``.

    ``v`` holds samples at ``2π j / n``; ``x`` is in radians (period 2π). The Nyquist term of an
    even ``n`` is the symmetric cosine.
    """
    k = np.fft.fftfreq(n, 1.0 / n)
    dft = np.fft.fft(np.eye(n), axis=0)
    return np.real(np.exp(1j * np.outer(np.asarray(x, dtype=float), k)) @ dft) / n


def _interp(values: NDArray[np.float64], xq: NDArray[np.float64],
            yq: NDArray[np.float64]) -> NDArray[np.float64]:
    """Tensor trigonometric interpolation of a periodic (nx, ny) map at xq × yq (radians)."""
    ex = trig_interpolation_matrix(values.shape[0], xq)
    ey = trig_interpolation_matrix(values.shape[1], yq)
    return ex @ values @ ey.T


def _extremum(values: NDArray[np.float64], sign: float) -> tuple[float, float, float]:
    """Refine the extremum of the trigonometric interpolant (sign=+1 max, −1 min).

    Returns (value, x, y) with x, y in radians of the 2π-periodic cell.
    """
    nx, ny = values.shape
    i, j = np.unravel_index(np.argmax(sign * values), values.shape)
    x0, y0 = 2 * np.pi * i / nx, 2 * np.pi * j / ny
    hx, hy = 2 * np.pi / nx, 2 * np.pi / ny
    node = best = float(values[i, j])
    offsets = np.linspace(-1.0, 1.0, 9)
    for _ in range(14):
        xq, yq = x0 + hx * offsets, y0 + hy * offsets
        patch = _interp(values, xq, yq)
        a, b = np.unravel_index(np.argmax(sign * patch), patch.shape)
        if sign * patch[a, b] >= sign * best:
            best, x0, y0 = float(patch[a, b]), float(xq[a]), float(yq[b])
        hx, hy = hx / 4.0, hy / 4.0
    two_pi = 2 * np.pi
    if sign * (best - node) <= 1e-12 * abs(best):  # extremum on the node (symmetric designs)
        x0, y0 = 2 * np.pi * i / nx, 2 * np.pi * j / ny
    x0, y0 = x0 % two_pi, y0 % two_pi
    x0 = 0.0 if two_pi - x0 < 1e-9 else x0  # wrap round-off back into [0, 2π)
    y0 = 0.0 if two_pi - y0 < 1e-9 else y0
    return best, x0, y0


class _MappedLaplace:
    """Discrete operator and flat-interface preconditioner at one resolution (length unit S/2π).

    Fields are (nx, ny, nz + 1) arrays on the full periodic grid (real FFTs in x, y).
    """

    def __init__(self, grid: InterfaceGrid, nz: int, ell: float | None, top: float,
                 ell_local: NDArray[np.float64] | None = None) -> None:
        unit = grid.period_m / (2 * np.pi)
        f = (grid.f_m - grid.f_m.mean()) / unit
        nx, ny = grid.shape
        kx = np.fft.fftfreq(nx, 1.0 / nx)
        ky = np.fft.rfftfreq(ny, 1.0 / ny)
        if nx % 2 == 0:
            kx[nx // 2] = 0.0  # odd derivative of the Nyquist mode is zero
        if ny % 2 == 0:
            ky[-1] = 0.0
        self.ikx = (1j * kx)[:, None, None]
        self.iky = (1j * ky)[None, :, None]
        self._setup(f, np.asarray(grid.dfdx), np.asarray(grid.dfdy), nz, ell, top, kx, ky,
                    ell_local)

    def _setup(self, f, fx, fy, nz: int, ell: float | None, top: float,
               kx: NDArray[np.float64], ky: NDArray[np.float64],
               ell_local: NDArray[np.float64] | None = None) -> None:
        """Metric of the map on the stored nodes and the flat operator per (kx, ky) mode.

        ``ell`` is the (constant) kinetic length of the flat preconditioner; ``ell_local``, if
        given, the local kinetic length ℓ/g on the stored nodes used in the Robin row of the
        true operator (spatially varying exchange current).
        """
        self.nx, self.ny = f.shape
        self.nz1 = nz + 1
        xc, d = chebyshev_points(nz)
        zeta = top * (1.0 - xc) / 2.0
        dz = -(2.0 / top) * d
        self.dzt = np.ascontiguousarray(dz.T)
        g = (1.0 - zeta / top) ** 2
        gp = -2.0 * (1.0 - zeta / top) / top
        z_zeta = 1.0 + f[..., None] * gp
        if z_zeta.min() <= 0.05:
            raise UnsupportedSurfaceError(
                f"terrain-following map folds (min dz/dζ = {z_zeta.min():.3g}); "
                "increase the top height or use the FEM path"
            )
        self.z_phys = zeta + f[..., None] * g  # physical height of every node
        self.zz = 1.0 / z_zeta
        self.zx = -fx[..., None] * g * self.zz
        self.zy = -fy[..., None] * g * self.zz
        self.fx, self.fy = fx, fy
        self.norm = np.sqrt(1.0 + fx**2 + fy**2)
        self.ell = ell
        self.ell_bc = ell if ell_local is None else ell_local  # Robin coefficient per node
        self.row_scale = 1.0 / (1.0 + (ell or 0.0))
        self.kabs = np.sqrt(kx[:, None] ** 2 + ky[None, :] ** 2)
        # flat operator per mode: rows 1..nz-1 Laplacian, row 0 bottom, row nz DtN
        n1 = self.nz1
        m = np.broadcast_to(dz @ dz, (*self.kabs.shape, n1, n1)).copy()
        m[..., np.arange(n1), np.arange(n1)] -= (self.kabs**2)[..., None]
        m[..., 0, :] = 0.0
        if ell is None:
            m[..., 0, 0] = 1.0
        else:
            m[..., 0, :] = -ell * dz[0] * self.row_scale
            m[..., 0, 0] += self.row_scale
        m[..., -1, :] = dz[-1]
        m[..., -1, -1] += self.kabs
        self.minv = np.linalg.inv(m)
        self.rhs = np.zeros((self.nx, self.ny, n1))
        self.rhs[..., -1] = 1.0

    # transforms and derivatives ---------------------------------------------------------------
    def _fft(self, a: NDArray[np.float64]) -> NDArray[np.complex128]:
        return sfft.rfft2(a, axes=(0, 1))

    def _ifft(self, a: NDArray[np.complex128]) -> NDArray[np.float64]:
        return sfft.irfft2(a, s=(self.nx, self.ny), axes=(0, 1))

    def _horizontal(self, u: NDArray[np.float64]):
        """(∂X u, ∂Y u) and a transform of u reusable by :meth:`_dtn`."""
        uh = self._fft(u)
        return self._ifft(self.ikx * uh), self._ifft(self.iky * uh), uh

    def _divergence(self, wx: NDArray[np.float64], wy: NDArray[np.float64]):
        """∂X wx + ∂Y wy."""
        return self._ifft(self.ikx * self._fft(wx) + self.iky * self._fft(wy))

    def _dtn(self, u_top: NDArray[np.float64], uh) -> NDArray[np.float64]:
        """|k| û on the top row, back on the nodes."""
        return sfft.irfft2(self.kabs * uh[..., -1], s=(self.nx, self.ny))

    def _modes(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """Apply the per-mode inverse flat operator to a field, return the field."""
        rh = self._fft(v)
        shape = rh.shape
        pair = rh.view(np.float64).reshape(*shape, 2)
        out = np.ascontiguousarray(np.matmul(self.minv, pair))
        return self._ifft(out.view(np.complex128).reshape(shape))

    def gradients(self, u: NDArray[np.float64]):
        """Physical gradient (∂x u, ∂y u, ∂z u), ∂ζ u and a transform of u."""
        ux, uy, uh = self._horizontal(u)
        uz = u @ self.dzt
        return ux + self.zx * uz, uy + self.zy * uz, self.zz * uz, uz, uh

    def apply(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """Residual rows of the discrete problem for the flattened field ``v``."""
        u = v.reshape(self.nx, self.ny, self.nz1)
        wx, wy, wz, uz, uh = self.gradients(u)
        r = (self._divergence(wx, wy) + self.zx * (wx @ self.dzt) + self.zy * (wy @ self.dzt)
             + self.zz * (wz @ self.dzt))
        if self.ell is None:
            r[..., 0] = u[..., 0]
        else:
            dn = (-self.fx * wx[..., 0] - self.fy * wy[..., 0] + wz[..., 0]) / self.norm
            r[..., 0] = (u[..., 0] - self.ell_bc * dn) * self.row_scale
        r[..., -1] = uz[..., -1] + self._dtn(u[..., -1], uh)
        return r.ravel()

    def precondition(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        """Exact inverse of the flat-interface operator, mode by mode."""
        return self._modes(v.reshape(self.nx, self.ny, self.nz1)).ravel()

    def normal_current(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """i_n/J = ∂u/∂n on the interface, on the stored nodes."""
        wx, wy, wz, _, _ = self.gradients(u)
        return (-self.fx * wx[..., 0] - self.fy * wy[..., 0] + wz[..., 0]) / self.norm

    def full_map(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Values on the stored nodes → the full periodic grid (identity here)."""
        return values


class _MappedLaplaceEven(_MappedLaplace):
    """The same discrete operator restricted to fields even in x and in y.

    For designs with mirror planes x = 0 and y = 0 (egg-boxes, ridges symmetric about a crest)
    the solution is even in x and y: it is stored on the nodes 0 … N/2 of each direction and
    transformed with DCT-I (even fields) and DST-I (odd fields: ∂X u, ζ_x, ...). Same operator
    restricted to the symmetric subspace (identical results), about 4x fewer unknowns.
    """

    def __init__(self, grid: InterfaceGrid, nz: int, ell: float | None, top: float,
                 ell_local: NDArray[np.float64] | None = None) -> None:
        nx, ny = grid.shape
        self.full_nx, self.full_ny = nx, ny
        hx, hy = nx // 2 + 1, ny // 2 + 1
        unit = grid.period_m / (2 * np.pi)
        f = ((grid.f_m - grid.f_m.mean()) / unit)[:hx, :hy]
        kx, ky = np.arange(hx, dtype=float), np.arange(hy, dtype=float)
        kx[-1] = ky[-1] = 0.0  # Nyquist: zero odd derivative, as in the full version
        self.kx = kx[1:-1, None, None]
        self.ky = ky[None, 1:-1, None]
        self._setup(np.ascontiguousarray(f), np.ascontiguousarray(grid.dfdx[:hx, :hy]),
                    np.ascontiguousarray(grid.dfdy[:hx, :hy]), nz, ell, top, kx, ky,
                    None if ell_local is None else np.ascontiguousarray(ell_local[:hx, :hy]))

    def _d_even(self, a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
        """Derivative of a field even along ``axis`` (result odd, zero at both ends)."""
        n = self.full_nx if axis == 0 else self.full_ny
        k = self.kx if axis == 0 else self.ky
        c = sfft.dct(a, type=1, axis=axis)
        c = np.take(c, np.arange(1, c.shape[axis] - 1), axis=axis) * (-2.0 / n) * k
        inner = sfft.dst(c, type=1, axis=axis) / 2.0
        pad = [(0, 0)] * a.ndim
        pad[axis] = (1, 1)
        return np.pad(inner, pad)

    def _d_odd(self, w: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
        """Derivative of a field odd along ``axis`` (zero at both ends; result even)."""
        n = self.full_nx if axis == 0 else self.full_ny
        k = self.kx if axis == 0 else self.ky
        inner = np.take(w, np.arange(1, w.shape[axis] - 1), axis=axis)
        b = sfft.dst(inner, type=1, axis=axis) * (2.0 / n) * k
        pad = [(0, 0)] * w.ndim
        pad[axis] = (1, 1)
        return sfft.dct(np.pad(b, pad), type=1, axis=axis) / 2.0

    def _horizontal(self, u: NDArray[np.float64]):
        return self._d_even(u, 0), self._d_even(u, 1), None

    def _divergence(self, wx: NDArray[np.float64], wy: NDArray[np.float64]):
        return self._d_odd(wx, 0) + self._d_odd(wy, 1)

    def _cos2(self, a: NDArray[np.float64]) -> NDArray[np.float64]:
        return sfft.dct(sfft.dct(a, type=1, axis=0), type=1, axis=1)

    def _dtn(self, u_top: NDArray[np.float64], uh) -> NDArray[np.float64]:
        scale = 1.0 / (self.full_nx * self.full_ny)
        return self._cos2(self.kabs * self._cos2(u_top)) * scale

    def _modes(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        c = self._cos2(v)
        out = np.matmul(self.minv, c[..., None])[..., 0]
        return self._cos2(out) / (self.full_nx * self.full_ny)

    def full_map(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        ix = np.arange(self.full_nx)
        iy = np.arange(self.full_ny)
        ix = np.minimum(ix, self.full_nx - ix)
        iy = np.minimum(iy, self.full_ny - iy)
        return values[np.ix_(ix, iy)]


def is_mirror_symmetric(surface: Surface, samples: int = 7) -> bool:
    """True if e(−x, y) = e(x, y) = e(x, −y) (mirror planes x = 0 and y = 0), tested on a grid."""
    s = float(surface.period_um)
    t = s * (np.arange(samples) + 0.37) / samples
    xx, yy = np.meshgrid(t, t, indexing="ij")
    e = np.asarray(surface.z_um(xx, yy), dtype=float)
    tol = 1e-12 * max(float(surface.height_um), 1e-300)
    return bool(np.all(np.abs(np.asarray(surface.z_um(-xx, yy)) - e) <= tol)
                and np.all(np.abs(np.asarray(surface.z_um(xx, -yy)) - e) <= tol))


def _top_height(grid: InterfaceGrid) -> float:
    """Map top Z in units of S/2π: Z = max(S/2, 1.8 × relief).

    The DtN condition is exact at any height above the interface, so Z only trades Chebyshev
    resolution (small Z: the decaying modes are resolved with fewer points) against map
    compression (dz/dζ ≥ 1 − relief/Z ≥ 0.44: more GMRES iterations). Measured (egg-box,
    Chebyshev error of the maximum with 16 intervals): H/S = 1/6: 1.4e-5 with Z = S, 1e-8 with
    Z = S/2; H/S = 1/3: 1.5e-5 with Z = 2.5 × relief, 6e-8 with 1.8 × relief.
    """
    relief = (grid.f_m.max() - grid.f_m.min()) / grid.period_m
    return 2 * np.pi * max(0.5, 1.8 * relief)


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Inner product without BLAS: threaded BLAS level-1 calls interleaved with FFTs cost a
    scheduler time slice each on a busy 2-core machine (measured 20x slower GMRES)."""
    return float(np.einsum("i,i->", a, b))


def _gmres(matvec, b: NDArray[np.float64], *, rtol: float, restart: int,
           max_iterations: int, accept: float = 100.0,
           stall_window: int = 40) -> tuple[NDArray[np.float64], int, bool]:
    """Restarted GMRES (classical Gram-Schmidt, re-orthogonalised), zero initial guess.

    Stops at ``rtol`` (relative residual), after ``max_iterations`` operator applications, or
    when the residual falls by less than 2x over ``stall_window`` iterations (round-off floor,
    e.g. large kinetic lengths at high resolution). Returns (solution, operator applications,
    converged) with converged = true residual ≤ ``accept`` × ``rtol``. A small dedicated loop:
    scipy's implementation and threaded level-2 BLAS cost more than the operator here.
    """
    x = np.zeros_like(b)
    beta0 = math.sqrt(_dot(b, b))
    if beta0 == 0.0:
        return x, 0, True
    target = rtol * beta0
    its = 0
    r = b.copy()
    stalled = False
    while its < max_iterations and not stalled:
        beta = math.sqrt(_dot(r, r))
        if beta <= target:
            return x, its, True
        m = min(restart, max_iterations - its)
        v = np.zeros((m + 1, b.size))
        h = np.zeros((m + 1, m))
        v[0] = r / beta
        cs, sn = np.zeros(m), np.zeros(m)
        g = np.zeros(m + 1)
        g[0] = beta
        trace = [beta]
        j_done = 0
        for j in range(m):
            w = matvec(v[j])
            its += 1
            basis = v[: j + 1]
            norm_in = math.sqrt(_dot(w, w))
            for _ in range(2):  # classical Gram-Schmidt; repeated only if cancellation was large
                c = np.einsum("ij,j->i", basis, w)
                w -= np.einsum("i,ij->j", c, basis)
                h[: j + 1, j] += c
                h[j + 1, j] = math.sqrt(_dot(w, w))
                if h[j + 1, j] > 0.7 * norm_in:  # "twice is enough" (Kahan-Parlett)
                    break
                norm_in = h[j + 1, j]
            if h[j + 1, j] > 0.0:
                v[j + 1] = w / h[j + 1, j]
            for i in range(j):  # apply previous Givens rotations
                h[i, j], h[i + 1, j] = (cs[i] * h[i, j] + sn[i] * h[i + 1, j],
                                        -sn[i] * h[i, j] + cs[i] * h[i + 1, j])
            den = math.hypot(h[j, j], h[j + 1, j])
            cs[j], sn[j] = h[j, j] / den, h[j + 1, j] / den
            h[j, j], h[j + 1, j] = den, 0.0
            g[j], g[j + 1] = cs[j] * g[j], -sn[j] * g[j]
            j_done = j + 1
            trace.append(abs(g[j + 1]))
            if abs(g[j + 1]) <= target or h[j, j] == 0.0:
                break
            if len(trace) > stall_window and trace[-1] > 0.5 * trace[-1 - stall_window]:
                stalled = True
                break
        yk = np.linalg.solve(np.triu(h[:j_done, :j_done]), g[:j_done])
        for i in range(j_done):
            x += yk[i] * v[i]
        r = b - matvec(x)
        its += 1
        true_res = math.sqrt(_dot(r, r))
        if abs(g[j_done]) <= target and true_res <= accept * target:
            break  # implicit residual converged; the true one is at the round-off floor
        if true_res > 0.5 * beta:
            stalled = True
    residual = math.sqrt(_dot(r, r))
    if stalled:
        log.debug("GMRES stalled at relative residual %.2e after %d its", residual / beta0, its)
    return x, its, bool(residual <= accept * target)


def _chebyshev_interpolation_matrix(n_from: int, n_to: int) -> NDArray[np.float64]:
    """Barycentric interpolation from n_from + 1 to n_to + 1 Gauss-Lobatto points."""
    xf = np.cos(np.pi * np.arange(n_from + 1) / n_from)
    xt = np.cos(np.pi * np.arange(n_to + 1) / n_to)
    w = (-1.0) ** np.arange(n_from + 1)
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = xt[:, None] - xf[None, :]
    exact = np.isclose(diff, 0.0, atol=1e-14)
    diff[exact] = 1.0
    mat = w / diff
    mat /= mat.sum(axis=1, keepdims=True)
    rows = exact.any(axis=1)
    mat[rows] = exact[rows].astype(float)
    return mat


def _prolong(u: NDArray[np.float64], op_from: _MappedLaplace,
             op_to: _MappedLaplace) -> NDArray[np.float64]:
    """Spectral interpolation of a coarse solution onto the nodes of a finer level."""
    full = op_from.full_map(u)
    nxf, nyf = full.shape[:2]
    nxt = getattr(op_to, "full_nx", op_to.nx)
    nyt = getattr(op_to, "full_ny", op_to.ny)
    ex = trig_interpolation_matrix(nxf, 2 * np.pi * np.arange(nxt) / nxt)
    ey = trig_interpolation_matrix(nyf, 2 * np.pi * np.arange(nyt) / nyt)
    ez = _chebyshev_interpolation_matrix(op_from.nz1 - 1, op_to.nz1 - 1)
    out = np.einsum("ai,bj,ck,ijk->abc", ex, ey, ez, full, optimize=True)
    return np.ascontiguousarray(out[: op_to.nx, : op_to.ny])


def _one_level(grid: InterfaceGrid, nz: int, ell: float | None, gmres_rtol: float,
               max_iterations: int, symmetric: bool = False, coarse=None,
               factor: NDArray[np.float64] | None = None):
    """Solve at one resolution.

    ``symmetric``: the design has mirror planes x = 0 and y = 0 (solve on the even subspace).
    ``coarse``: (u, operator) of a coarser level, interpolated as the initial guess.
    ``factor``: exchange-current factor g > 0 on the grid nodes (local kinetic length ℓ/g); the
    flat preconditioner and the initial guess then use the constant ℓ/mean(g).
    Returns (current map, iterations, gmres converged, (u, operator)).
    """
    nx, ny = grid.shape
    even = symmetric and nx % 2 == 0 and ny % 2 == 0
    ell_local = None
    if factor is not None:
        if ell is None:
            raise ValueError("an exchange-current factor needs the secondary (Robin) condition")
        ell_local = ell / factor
        ell = ell / float(np.mean(factor))
    op = (_MappedLaplaceEven if even else _MappedLaplace)(grid, nz, ell, _top_height(grid),
                                                           ell_local)
    size = op.nx * op.ny * op.nz1
    restart = int(max(20, min(200, _KRYLOV_BYTES / (8.0 * size))))

    def matvec(y: NDArray[np.float64]) -> NDArray[np.float64]:
        return op.apply(op.precondition(y))

    # solve for the departure from u0 = z + ℓ (exact for a flat interface) or from the
    # interpolated coarse solution: keeps the unknowns O(S) even when ℓ ≫ S, where u itself is
    # ~ℓ and round-off would floor the residual
    u0 = (op.z_phys + (ell or 0.0)).ravel()
    if coarse is not None and type(coarse[1]) is type(op):
        u_c, op_c = coarse
        u0 = u0 + _prolong(u_c - (op_c.z_phys + (op_c.ell or 0.0)), op_c, op).ravel()
    b = op.rhs.ravel()
    rhs = b - op.apply(u0)
    y, its, ok = _gmres(matvec, rhs, rtol=gmres_rtol * math.sqrt(_dot(b, b))
                        / max(math.sqrt(_dot(rhs, rhs)), 1e-300),
                        restart=restart, max_iterations=max_iterations)
    u = (u0 + op.precondition(y)).reshape(op.nx, op.ny, op.nz1)
    return op.full_map(op.normal_current(u)), its, ok, (u, op)


def check_supported(surface: Surface, max_aspect: float = MAX_ASPECT_RATIO) -> None:
    """Raise :class:`UnsupportedSurfaceError` unless the surface is smooth with H/S ≤ max."""
    if not surface.is_smooth:
        raise UnsupportedSurfaceError(
            f"{surface.name}: the spectral solver needs a smooth (analytic) surface; "
            f"{surface.kind} has slope discontinuities (the maximum would not converge). "
            "Use the FEM path (solve_field picks it automatically)."
        )
    ratio = surface.height_um / surface.period_um
    if ratio > max_aspect:
        raise UnsupportedSurfaceError(
            f"{surface.name}: H/S = {ratio:.3g} exceeds the spectral envelope H/S <= "
            f"{max_aspect:g} (GMRES iterations explode). Use the FEM path (solve_field picks it "
            "automatically)."
        )


def _is_uniform_along(grid: InterfaceGrid, axis: int) -> bool:
    f = np.asarray(grid.f_m)
    slope = grid.dfdy if axis == 1 else grid.dfdx
    scale = max(grid.height_m, 1e-300)
    return bool(np.all(np.abs(np.diff(f, axis=axis)) <= 1e-14 * scale)
                and np.all(np.asarray(slope) == 0.0))


def _factor_map(exchange_factor_fn: ExchangeFactorFn, grid: InterfaceGrid) -> NDArray[np.float64]:
    """Exchange-current factor g on the grid nodes, validated (finite, > 0)."""
    xx, yy = np.meshgrid(np.asarray(grid.x_m), np.asarray(grid.y_m), indexing="ij")
    g = np.array(np.broadcast_to(np.asarray(exchange_factor_fn(xx, yy), dtype=float), xx.shape))
    if not (np.all(np.isfinite(g)) and np.all(g > 0.0)):
        raise ValueError("exchange_factor_fn must return finite values > 0 on the interface "
                         f"(got min {np.nanmin(g):.3g}, max {np.nanmax(g):.3g})")
    return g


def _factor_symmetry(exchange_factor_fn: ExchangeFactorFn, period: float,
                     samples: int = 7) -> tuple[bool, bool, bool]:
    """Symmetries of g sampled on a grid: (mirror planes x = 0 and y = 0, uniform along x,
    uniform along y). ``period`` in metres."""
    t = period * (np.arange(samples) + 0.37) / samples
    xx, yy = np.meshgrid(t, t, indexing="ij")

    def ev(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.broadcast_to(np.asarray(exchange_factor_fn(x, y), dtype=float), x.shape)

    g = ev(xx, yy)
    tol = 1e-12 * max(float(np.max(np.abs(g))), 1e-300)
    mirror = bool(np.all(np.abs(ev(-xx, yy) - g) <= tol) and np.all(np.abs(ev(xx, -yy) - g) <= tol))
    return (mirror, bool(np.all(np.ptp(g, axis=0) <= tol)), bool(np.all(np.ptp(g, axis=1) <= tol)))


def default_nz(n: int) -> int:
    """Chebyshev intervals for N Fourier modes (N/2 + 8)."""
    return n // 2 + 8


def solve_spectral_fixed(
    surface: Surface,
    *,
    n: int,
    ny: int | None = None,
    nz: int | None = None,
    kinetic_length_m: float | None = None,
    gmres_rtol: float = 1e-10,
    max_iterations: int = 2000,
    max_aspect: float = MAX_ASPECT_RATIO,
    use_symmetry: bool = True,
    exchange_factor_fn: ExchangeFactorFn | None = None,
) -> tuple[NDArray[np.float64], InterfaceGrid, int, bool]:
    """One solve at a fixed resolution (no error estimate); for studies and tests.

    ``exchange_factor_fn``: optional local exchange-current factor g(x_m, y_m) > 0 for the
    secondary condition (see :func:`solve_spectral`).

    Returns
    -------
    current_ratio : (n, ny) float
        i_n/J on the grid of ``grid``.
    grid : InterfaceGrid
        The sampled interface.
    iterations : int
        GMRES operator applications.
    gmres_converged : bool
        Whether GMRES met ``gmres_rtol``.
    """
    check_supported(surface, max_aspect)
    grid = periodic_grid(surface, n, ny)
    ell = None if kinetic_length_m is None else kinetic_length_m * 2 * np.pi / grid.period_m
    symmetric = use_symmetry and is_mirror_symmetric(surface)
    factor = None
    if exchange_factor_fn is not None:
        if ell is None:
            raise ValueError("exchange_factor_fn needs kinetic_length_m (secondary condition)")
        factor = _factor_map(exchange_factor_fn, grid)
        symmetric = symmetric and _factor_symmetry(exchange_factor_fn, grid.period_m)[0]
    cur, its, ok, _ = _one_level(grid, nz or default_nz(n), ell, gmres_rtol, max_iterations,
                                 symmetric, factor=factor)
    return cur, grid, its, ok


def solve_spectral(
    surface: Surface,
    *,
    kinetic_length_m: float | None = None,
    rtol: float = 1e-6,
    n: int | None = None,
    max_n: int = 128,
    gmres_rtol: float = 1e-10,
    max_iterations: int = 2000,
    max_aspect: float = MAX_ASPECT_RATIO,
    use_symmetry: bool = True,
    warm_start: bool = True,
    exchange_factor_fn: ExchangeFactorFn | None = None,
) -> FieldSolution:
    """Current distribution on a smooth periodic interface, resolution chosen for ``rtol``.

    Parameters
    ----------
    surface : Surface
        Smooth design (flat or egg-box, or any analytic surface), H/S ≤ ``max_aspect``.
    kinetic_length_m : float or None
        ℓ = κ R_ct [m] for the secondary (Robin) condition; None for primary (u = 0).
    rtol : float, default 1e-6
        Target relative accuracy of the current map (sup norm / maximum).
    n : int or None
        Fixed Fourier resolution (the error estimate then uses one coarser level); None for
        automatic choice along :data:`RESOLUTION_LADDER` up to ``max_n``.
    max_n : int, default 128
        Largest automatic resolution.
    gmres_rtol : float, default 1e-10
        GMRES relative residual tolerance.
    max_iterations : int, default 2000
        GMRES operator applications per level.
    max_aspect : float, default 1.0
        Largest H/S accepted.
    use_symmetry : bool, default True
        Solve on the even subspace when the design has mirror planes x = 0 and y = 0
        (egg-boxes): same discrete solution, ~4x fewer unknowns.
    warm_start : bool, default True
        Start each level from the spectrally interpolated previous level.
    exchange_factor_fn : callable or None
        Spatially varying kinetics (secondary only): ``g(x_m, y_m) -> ndarray`` > 0, the local
        exchange current i0_eff / i0 at interface points (x, y) [m] of the design's cell
        (vectorised, broadcastable). The Robin condition becomes u = (ℓ/g) ∂u/∂n. The flat
        preconditioner and the initial guess use the constant ℓ/mean(g); mirror symmetry
        and the ridge shortcut are used only if g shares them. None: uniform kinetics.

    Returns
    -------
    FieldSolution
        Map, extrema, diagnostics and the error estimate (``method="spectral"``).

    Raises
    ------
    UnsupportedSurfaceError
        For non-smooth surfaces (pyramids, frustums) and H/S above ``max_aspect``.
    ValueError
        ``exchange_factor_fn`` without ``kinetic_length_m``, or a factor that is not > 0.
    """
    check_supported(surface, max_aspect)
    if exchange_factor_fn is not None and kinetic_length_m is None:
        raise ValueError("exchange_factor_fn needs kinetic_length_m (secondary condition)")
    t0 = time.perf_counter()
    aspect = surface.height_um / surface.period_um
    if n is not None:
        coarse = max(4, 2 * round(0.375 * n))
        levels = [coarse, n] if coarse < n else [n]
    else:
        first = (12 if aspect <= 0.05 else 16 if aspect <= 0.12 else 20 if aspect <= 0.2
                 else 32 if aspect <= 0.4 else 40)
        start = RESOLUTION_LADDER.index(first) - (2 if rtol >= 1e-3 else 1 if rtol >= 1e-5 else 0)
        levels = [m for m in RESOLUTION_LADDER[max(start, 0):] if m <= max_n] or [max_n]
    symmetric = use_symmetry and is_mirror_symmetric(surface)
    probe = periodic_grid(surface, 8)
    g_mirror, g_flat_x, g_flat_y = (
        (True, True, True) if exchange_factor_fn is None
        else _factor_symmetry(exchange_factor_fn, probe.period_m))
    symmetric = symmetric and g_mirror
    fixed_ny = 4 if g_flat_y and _is_uniform_along(probe, 1) else None  # ridges: 2D in x
    fixed_nx = 4 if g_flat_x and _is_uniform_along(probe, 0) else None

    history: list[tuple[float, ...]] = []
    state = None
    prev: NDArray[np.float64] | None = None
    error = math.nan
    result = None
    for level, m in enumerate(levels):
        t1 = time.perf_counter()
        nxl, nyl = fixed_nx or m, fixed_ny or m
        grid = periodic_grid(surface, nxl, nyl)
        ell = (None if kinetic_length_m is None
               else kinetic_length_m * 2 * np.pi / grid.period_m)
        factor = None if exchange_factor_fn is None else _factor_map(exchange_factor_fn, grid)
        cur, its, ok, state = _one_level(grid, default_nz(m), ell, gmres_rtol, max_iterations,
                                         symmetric, coarse=state if warm_start else None,
                                         factor=factor)
        vmax, xmax, ymax = _extremum(cur, 1.0)
        vmin, xmin, ymin = _extremum(cur, -1.0)
        if prev is not None:
            xs = 2 * np.pi * np.arange(prev.shape[0]) / prev.shape[0]
            ys = 2 * np.pi * np.arange(prev.shape[1]) / prev.shape[1]
            diff = np.max(np.abs(_interp(cur, xs, ys) - prev))
            error = float(max(diff, abs(vmax - history[-1][3]), abs(vmin - history[-1][4]))
                          / abs(vmax))
        history.append((nxl, nyl, default_nz(m) + 1, vmax, vmin, its, time.perf_counter() - t1,
                        error))
        log.debug("spectral level %dx%dx%d: max %.9f min %.9f its %d err %.2e", nxl, nyl,
                  default_nz(m) + 1, vmax, vmin, its, error)
        result = (cur, grid, its, ok, (vmax, xmax, ymax), (vmin, xmin, ymin))
        if not ok:
            log.warning("GMRES did not converge at %dx%d (%d its): under-resolved or too steep",
                        nxl, nyl, its)
        prev = cur
        if level > 0 and error <= rtol and ok:
            break
    if result is None:  # pragma: no cover - levels is never empty
        raise RuntimeError("no resolution level was solved")
    cur, grid, its, ok, (vmax, xmax, ymax), (vmin, xmin, ymin) = result
    unit = grid.period_m / (2 * np.pi)
    weight = grid.area_factor
    flux = float(np.mean(cur * weight))
    converged = bool(ok and error <= rtol)
    if not converged:
        log.warning("%s: spectral solve not converged to rtol %.1e (estimate %.2e)",
                    surface.name, rtol, error)
    return FieldSolution(
        design=surface, method="spectral", kinetic_length_m=kinetic_length_m,
        x_m=np.array(grid.x_m), y_m=np.array(grid.y_m), current_ratio=np.array(cur),
        max_current_ratio=vmax, min_current_ratio=vmin,
        max_location_m=(xmax * unit + float(grid.x_m[0]), ymax * unit + float(grid.y_m[0])),
        min_location_m=(xmin * unit + float(grid.x_m[0]), ymin * unit + float(grid.y_m[0])),
        mean_current_ratio=float(np.sum(cur * weight) / np.sum(weight)),
        flux_ratio=flux, iterations=its, gmres_converged=bool(ok), converged=converged,
        error_estimate=error, resolution=(grid.shape[0], grid.shape[1], int(history[-1][2])),
        degrees_of_freedom=grid.shape[0] * grid.shape[1] * int(history[-1][2]),
        history=tuple(history), solve_time_s=time.perf_counter() - t0,
    )
