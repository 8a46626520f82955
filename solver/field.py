"""Public entry point of the field solver: :func:`solve_field`.

Method choice (docs/theory.md): the flat interface has the exact uniform solution; smooth designs
(flat, egg-box) up to H/S = ``spectral_max_aspect`` (default 0.5) use the pseudo-spectral solver
(:mod:`solver.spectral`, ~0.05-0.5 s to 1e-6); pyramids, frustums and steeper designs use the FEM
path (:mod:`solver.fem_field`, P2 on the 1/8 mirror wedge). The primary current is singular at
sharp convex Li edges, so the FEM path always solves the design with an edge radius
r_eff = max(r, r_voxel), r_voxel = 1 µm by default; the radius used is reported.
"""

from __future__ import annotations

import logging
import time
from typing import Literal, overload

import numpy as np

from solver.grid import length_m, length_um, period_m
from solver.materials import Materials
from solver.results import FieldPair, FieldResult, FieldSolution
from solver.spectral import (
    MAX_ASPECT_RATIO,
    ExchangeFactorFn,
    UnsupportedSurfaceError,
    solve_spectral,
)
from templater.geometry.surfaces import Surface

__all__ = ["solve_field", "SPECTRAL_MAX_ASPECT", "VOXEL_RADIUS_UM"]

log = logging.getLogger(__name__)

SPECTRAL_MAX_ASPECT = 0.5  # H/S up to which the automatic choice is spectral
VOXEL_RADIUS_UM = 1.0  # printer voxel-scale edge radius (unconfirmed, ~1 voxel)

Mode = Literal["primary", "secondary"]


@overload
def solve_field(surface: Surface, materials: Materials | None = ..., *,
                mode: Literal["both"] = ..., **kwargs: object) -> FieldPair: ...


@overload
def solve_field(surface: Surface, materials: Materials | None = ..., *,
                mode: Mode, **kwargs: object) -> FieldResult: ...


def solve_field(
    surface: Surface,
    materials: Materials | None = None,
    *,
    mode: Literal["both", "primary", "secondary"] = "both",
    rtol: float = 1e-6,
    current_density_a_m2: float = 10.0,
    method: Literal["auto", "spectral", "fem"] = "auto",
    spectral_max_aspect: float = SPECTRAL_MAX_ASPECT,
    max_n: int = 128,
    edge_radius_um: float | None = None,
    voxel_radius_um: float = VOXEL_RADIUS_UM,
    fem_divisions: int = 12,
    fem_coarse_divisions: int = 8,
    fem_rtol: float = 5e-3,
    fem_early_tol: float = 1e-3,
    map_nodes: int = 64,
    exchange_factor_fn: ExchangeFactorFn | None = None,
) -> FieldPair | FieldResult:
    """Primary and/or secondary current distribution on one periodic cell of a design.

    Parameters
    ----------
    surface : Surface
        The design (electrolyte surface, µm).
    materials : Materials, optional
        Conductivity and kinetics (default: :class:`Materials`). The secondary problem uses the
        kinetic length κ R_ct.
    mode : {"both", "primary", "secondary"}, default "both"
        "both" returns a :class:`FieldPair`, a single mode a :class:`FieldResult`.
    rtol : float, default 1e-6
        Spectral target: relative accuracy of the current map (sup norm / maximum).
    current_density_a_m2 : float, default 10.0
        Applied geometric current density J [A/m²] (10 A/m² = 1 mA/cm²); results are linear in J.
    method : {"auto", "spectral", "fem"}, default "auto"
        Force a method; "spectral" accepts H/S up to 1 for smooth designs.
    spectral_max_aspect : float, default 0.5
        Largest H/S sent to the spectral solver by the automatic choice.
    max_n : int, default 128
        Largest spectral Fourier resolution.
    edge_radius_um : float, optional
        FEM edge radius r_eff [µm] of pyramids/frustums; default max(design r, voxel radius).
    voxel_radius_um : float, default 1.0
        Printer voxel-scale radius r_voxel [µm].
    fem_divisions, fem_coarse_divisions : int, default 12, 8
        FEM mesh divisions of the reported and of the error-estimate solve (the coarse one is
        reported when it has converged already, see ``fem_early_tol``).
    fem_rtol : float, default 5e-3
        FEM convergence criterion on the maximum (relative change between the two meshes).
    fem_early_tol : float, default 1e-3
        Stop at the coarse FEM mesh when it has converged already: the maximum is solved at
        half and three quarters of ``fem_coarse_divisions`` (4 and 6) and at the coarse mesh
        (8). When the two changes have one sign, the second is at most 0.6 times the first,
        and 9 times the larger of the second and half the first (3 for first-order
        convergence from 6 to 8, 3 for safety), relative, is at most this and ``fem_rtol``,
        the coarse value is the result with that error (nearly uniform secondary currents,
        where the fine mesh would cost three times the rest). 0 always solves the fine mesh.
        Primary currents always solve the fine mesh (their maxima converge slowly).
    map_nodes : int, default 64
        Nodes per period of the regular map of FEM (and flat) results.
    exchange_factor_fn : callable, optional
        Spatially varying kinetics for the secondary solve (the primary one ignores it):
        ``g(x_m, y_m) -> ndarray`` > 0, the local exchange current i0_eff/i0 at interface
        points (x, y) [m] of the design's cell, vectorised; the Robin condition becomes
        u = (L_k/g) ∂u/∂n (e.g. the pressure coupling of :mod:`solver.coupling`). The result's
        ``kinetic_length_m`` stays the reference L_k = κ R_ct. Non-uniform factors need the
        spectral path (smooth designs; a flat interface is then solved spectrally too); a
        factor that is uniform on a ``map_nodes``² sample grid, g ≡ c, is applied exactly on
        every path as L_k/c.

    Returns
    -------
    FieldPair or FieldResult

    Raises
    ------
    solver.spectral.UnsupportedSurfaceError
        ``method="spectral"`` on a sharp or too steep design; a non-uniform
        ``exchange_factor_fn`` on a design solved by FEM (pyramids, frustums, steep designs).
    ValueError
        Unknown ``mode`` or ``method``, or non-positive current density.

    Examples
    --------
    >>> from templater.geometry.surfaces import EggBox
    >>> res = solve_field(EggBox(height_um=25, period_um=150), mode="primary")
    >>> round(res.max_current_ratio, 4)
    1.8179
    """
    if mode not in ("both", "primary", "secondary"):
        raise ValueError(f"mode must be 'both', 'primary' or 'secondary', got {mode!r}")
    if method not in ("auto", "spectral", "fem"):
        raise ValueError(f"method must be 'auto', 'spectral' or 'fem', got {method!r}")
    if not (isinstance(current_density_a_m2, (int, float)) and current_density_a_m2 > 0
            and np.isfinite(current_density_a_m2)):
        raise ValueError(f"current_density_a_m2 must be > 0, got {current_density_a_m2!r}")
    materials = Materials() if materials is None else materials
    chosen = _choose_method(surface, method, spectral_max_aspect)
    area_ratio = float(surface.area_ratio())
    modes: tuple[Mode, ...] = ("primary", "secondary") if mode == "both" else (mode,)
    uniform_factor = (None if exchange_factor_fn is None or "secondary" not in modes
                      else _uniform_factor(exchange_factor_fn, surface, map_nodes))
    results: dict[str, FieldResult] = {}
    for m in modes:
        ell_m = materials.kinetic_length_m if m == "secondary" else None
        common = dict(design=surface, materials=materials, mode=m, kinetic_length_m=ell_m,
                      applied_current_density_a_m2=float(current_density_a_m2),
                      area_ratio=area_ratio)
        factor_fn = exchange_factor_fn if m == "secondary" else None
        how = chosen
        if factor_fn is not None and uniform_factor is not None:
            ell_m, factor_fn = ell_m / uniform_factor, None  # type: ignore[operator]
        elif factor_fn is not None and chosen == "exact":
            how = "spectral"  # flat interface with non-uniform kinetics
        elif factor_fn is not None and chosen == "fem":
            raise UnsupportedSurfaceError(
                f"{surface.name}: spatially varying kinetics (exchange_factor_fn) is only "
                "implemented in the spectral solver (smooth designs, H/S <= "
                f"{max(spectral_max_aspect, MAX_ASPECT_RATIO):g}); this design uses FEM"
            )
        if how == "exact":
            results[m] = _flat(common, surface, map_nodes)
        elif how == "spectral":
            results[m] = _spectral(common, surface, ell_m, rtol=rtol, max_n=max_n,
                                   max_aspect=max(spectral_max_aspect, MAX_ASPECT_RATIO),
                                   exchange_factor_fn=factor_fn)
        else:
            r_eff = _edge_radius(surface, edge_radius_um, voxel_radius_um)
            results[m] = _fem(common, surface, ell_m, r_eff, fem_divisions,
                              fem_coarse_divisions, fem_rtol, map_nodes,
                              early_tol=fem_early_tol)
    if mode == "both":
        return FieldPair(design=surface, materials=materials, primary=results["primary"],
                         secondary=results["secondary"])
    return results[mode]


def _choose_method(surface: Surface, method: str, spectral_max_aspect: float) -> str:
    if surface.is_flat:
        return "exact"
    if method != "auto":
        return method
    if surface.is_smooth and surface.height_um / surface.period_um <= spectral_max_aspect:
        return "spectral"
    return "fem"


def _uniform_factor(exchange_factor_fn: ExchangeFactorFn, surface: Surface,
                    n: int) -> float | None:
    """The constant c if g ≡ c on an n × n sample grid of the cell (validated > 0), else None."""
    x = np.asarray(length_m(float(surface.period_um) * np.arange(n) / n))
    xx, yy = np.meshgrid(x, x, indexing="ij")
    g = np.broadcast_to(np.asarray(exchange_factor_fn(xx, yy), dtype=float), xx.shape)
    if not (np.all(np.isfinite(g)) and np.all(g > 0.0)):
        raise ValueError("exchange_factor_fn must return finite values > 0 on the interface")
    return float(g.flat[0]) if np.all(g == g.flat[0]) else None


def _edge_radius(surface: Surface, edge_radius_um: float | None,
                 voxel_radius_um: float) -> float | None:
    """r_eff for sharp designs (None for smooth designs, which have no edges)."""
    if surface.is_smooth:
        return None
    if edge_radius_um is not None:
        return float(edge_radius_um)
    return max(float(surface.edge_radius_um), float(voxel_radius_um))


def _flat(common: dict, surface: Surface, n: int) -> FieldResult:
    """Exact uniform solution of the flat interface (any kinetics)."""
    t0 = time.perf_counter()
    j = common["applied_current_density_a_m2"]
    s_m = period_m(surface)
    x = s_m * np.arange(n) / n
    return FieldResult(
        **common, x_m=x, y_m=x.copy(), current_density_a_m2=np.full((n, n), j),
        max_current_density_a_m2=j, min_current_density_a_m2=j, mean_current_density_a_m2=j,
        max_location_m=(0.0, 0.0), error_estimate=0.0, converged=True, iterations=0,
        resolution=(n, n, 1), degrees_of_freedom=0, method="exact",
        solve_time_s=time.perf_counter() - t0, flux_residual=0.0,
    )


def _spectral(common: dict, surface: Surface, ell_m: float | None, *, rtol: float, max_n: int,
              max_aspect: float,
              exchange_factor_fn: ExchangeFactorFn | None = None) -> FieldResult:
    sol = solve_spectral(surface, kinetic_length_m=ell_m, rtol=rtol, max_n=max_n,
                         max_aspect=max_aspect, exchange_factor_fn=exchange_factor_fn)
    return _result(common, sol, mean_ratio=sol.mean_current_ratio,
                   solve_time_s=sol.solve_time_s, error=sol.error_estimate,
                   converged=sol.converged)


def _result(common: dict, sol: FieldSolution, *, mean_ratio: float | None,
            solve_time_s: float, error: float, converged: bool,
            edge_radius_um: float | None = None) -> FieldResult:
    """FieldResult (current densities at J) from a backend's FieldSolution.

    ``mean_ratio`` None: the mean is J · flux / (A/A0) (FEM, conservative flux)."""
    j = common["applied_current_density_a_m2"]
    mean = (j * sol.flux_ratio / common["area_ratio"] if mean_ratio is None
            else j * mean_ratio)
    nodes = sol.node_current_ratio
    return FieldResult(
        **common, x_m=sol.x_m, y_m=sol.y_m, current_density_a_m2=j * sol.current_ratio,
        max_current_density_a_m2=j * sol.max_current_ratio,
        min_current_density_a_m2=j * sol.min_current_ratio,
        mean_current_density_a_m2=mean, max_location_m=sol.max_location_m,
        error_estimate=error, converged=converged, iterations=sol.iterations,
        resolution=sol.resolution, degrees_of_freedom=sol.degrees_of_freedom,
        method=sol.method, solve_time_s=solve_time_s, flux_residual=sol.flux_residual,
        edge_radius_um=edge_radius_um, node_x_m=sol.node_x_m, node_y_m=sol.node_y_m,
        node_current_density_a_m2=None if nodes is None else j * nodes,
    )


_EARLY_SAFETY = 3.0  # on top of the first-order factor (docs/benchmarks.md, FEM field solver)
_EARLY_RATIO = 0.6  # the second change at most this times the first (1/2 at first order)


def _fem(common: dict, surface: Surface, ell_m: float | None, r_eff: float | None,
         divisions: int, coarse: int, fem_rtol: float, n_map: int, *,
         early_tol: float = 0.0) -> FieldResult:
    from solver.fem_field import solve_fem_field  # lazy: scikit-fem is imported only here

    ell_um = None if ell_m is None else float(length_um(ell_m))
    t0 = time.perf_counter()

    def level(n: int):
        return solve_fem_field(surface, ell_um, divisions=n, edge_radius_um=r_eff,
                               map_nodes=n_map)

    early = (coarse // 2, (3 * coarse) // 4)
    # secondary currents only: a primary maximum at a rounded edge moves by 0.1-5 % per level
    # (docs/benchmarks.md), so its 4- and 6-division solves could never stop it early
    if ell_m is not None and early_tol > 0.0 and 4 <= early[0] < early[1] < coarse < divisions:
        m0, m1 = (level(n).max_current_ratio for n in early)
        rough = level(coarse)
        first, last = m1 - m0, rough.max_current_ratio - m1
        # converging at first order or faster, the second change is at most half the first
        # (h ∝ 1/n, 4 → 6 → 8) and the coarse value's error at most 3 times the second change;
        # the changes must keep their sign (a turn-around makes a small change by accident),
        # the error counts at least half the first change (a ratio far below 1/2 is chance
        # too), and a factor 3 more covers the slower approach measured at the 1e-5 level
        scale = early[1] / (coarse - early[1])
        bound = _EARLY_SAFETY * scale * max(abs(last), 0.5 * abs(first)) / abs(
            rough.max_current_ratio)
        if (first * last >= 0.0 and abs(last) <= _EARLY_RATIO * abs(first)
                and bound <= min(early_tol, fem_rtol)):
            log.debug("%s: FEM maximum converged at %d divisions (changes %.2e, %.2e)",
                      surface.name, coarse, first, last)
            return _result(common, rough, mean_ratio=None,
                           solve_time_s=time.perf_counter() - t0, error=float(bound),
                           converged=True, edge_radius_um=r_eff)
    else:
        rough = level(coarse) if 0 < coarse < divisions else None
    fine = level(divisions)
    error = float("nan")
    if rough is not None:
        error = abs(fine.max_current_ratio - rough.max_current_ratio) / fine.max_current_ratio
    if not np.isfinite(error) or error > fem_rtol:
        # not a warning: the estimate travels with the result (error_estimate, converged) and
        # every report prints it next to the value
        log.info("%s: FEM maximum changed by %.2e between %d and %d divisions (rtol %.1e)",
                 surface.name, error, coarse, divisions, fem_rtol)
    return _result(common, fine, mean_ratio=None, solve_time_s=time.perf_counter() - t0,
                   error=error, converged=bool(np.isfinite(error) and error <= fem_rtol),
                   edge_radius_um=r_eff)
