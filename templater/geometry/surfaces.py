"""The one parametric surface definition shared by the STL writer, the GWL writer and the solver.

Project convention (docs/theory.md, "Geometry"): every design describes the **electrolyte**
surface ``e(x, y)`` in micrometres, ``0 <= e <= H``, periodic with period ``S`` in x and y (what an
SEM of the pressed pellet shows). Li fills the electrolyte troughs; the Li tips are where ``e = 0``.
The printed template is the negative, ``z_T = base + H - e``. ``invert=True`` replaces ``e`` by
``H - e`` (electrolyte pits).

Lattice (not inverted): an electrolyte peak sits at the origin for every kind. Product egg-box:
peaks at (0, 0) and (S/2, S/2), troughs at (S/2, 0) and (0, S/2), saddles at (S/4, S/4). Sum
egg-box: peak at (0, 0), trough at (S/2, S/2), saddles at (S/2, 0). Pyramids and frustums: apex
(plateau centre) at (0, 0), V-grooves along the cell edges x = ±S/2, y = ±S/2.

Edge radius ``r`` (pyramids, frustums): every slope discontinuity (apex, hips, grooves, plateau
rim) is replaced by a C¹ parabolic blend whose horizontal footprint equals that of a circular
fillet of radius ``r`` tangent to both faces (half-width ``r sin θ``, θ the half-angle of the slope
change across that edge). The normal is then continuous, and the surface converges uniformly to the
sharp one as ``r → 0`` (the height change is O(r·m)). The blends are defined here once; the STL,
GWL and solver all evaluate them through :meth:`z_um` and :meth:`gradient`.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, fields, replace
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, Parameter, declare, validate_fields

__all__ = [
    "Surface",
    "EdgeBands",
    "Flat",
    "EggBox",
    "PyramidArray",
    "FrustumArray",
    "SURFACES",
    "param",
    "choice",
    "parameter_specs",
    "template_top_um",
    "H_MAX_UM",
    "S_MIN_UM",
    "S_MAX_UM",
    "ASPECT_MAX",
    "plateau_family_key",
]

H_MAX_UM = PARAMETERS["height_um"].high  # one piezo z field
S_MIN_UM = PARAMETERS["period_um"].low
S_MAX_UM = PARAMETERS["period_um"].high
ASPECT_MAX = 2.0  # H/S


def param(name: str, *, default: bool = False) -> Any:
    """A design field validated as parameter ``name`` of :mod:`templater.geometry.parameters`
    (flag, range, unit and help are declared there; ``default=True`` takes the default from
    the default parameter set)."""
    return declare(name, default=default)


choice = param  # categorical parameters are declared in the same registry


def parameter_specs(cls: type) -> dict[str, Parameter]:
    """Field name → parameter declaration (flag, range or choices, unit, help) of a design."""
    return {f.name: PARAMETERS[f.metadata["parameter"]] for f in fields(cls)
            if "parameter" in f.metadata}


def _validate(obj: Any) -> None:
    """Validate every declared field of a design dataclass; coerce ints to float."""
    if not isinstance(obj.invert, (bool, np.bool_)):
        raise DesignError(obj.kind, "invert", "invert", obj.invert, "true or false", "")
    validate_fields(obj, obj.kind)


def _check_aspect(obj: Any) -> None:
    ratio = obj.height_um / obj.period_um
    if ratio > ASPECT_MAX:
        raise DesignError(
            obj.kind,
            "height_um",
            "H",
            obj.height_um,
            f"H/S <= {ASPECT_MAX:g}, i.e. H <= {ASPECT_MAX * obj.period_um:g} for S = "
            f"{obj.period_um:g}",
            "um",
        )


def _check_edge_radius(obj: Any) -> None:
    limit = obj.period_um / 4.0
    if obj.edge_radius_um > limit:
        raise DesignError(
            obj.kind,
            "edge_radius_um",
            "edge-radius",
            obj.edge_radius_um,
            f"[0, S/4] = [0, {limit:g}] for S = {obj.period_um:g}",
            "um",
        )


def _sabs(s: NDArray[np.float64], w: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """C¹ smooth |s|: parabola (s²/w + w)/2 for |s| < w; returns value and derivative."""
    if w <= 0.0:
        return np.abs(s), np.sign(s)
    inside = np.abs(s) < w
    val = np.where(inside, 0.5 * (s * s / w + w), np.abs(s))
    der = np.where(inside, s / w, np.sign(s))
    return val, der


def _fillet_half_width(r: float, slope_half_jump: float) -> float:
    """Horizontal half-width of a circular fillet of radius r across a symmetric kink."""
    return r * slope_half_jump / math.sqrt(1.0 + slope_half_jump**2)


class EdgeBands(NamedTuple):
    """Horizontal half-widths (µm) of the rounded bands that replace the slope discontinuities."""

    edge_um: float  # cell edges (grooves) and the pyramid apex lines
    hip_um: float  # hips (the diagonals |x| = |y|)
    rim_um: float  # frustum plateau rim (0 without a plateau)


class Surface:
    """Common behaviour of all designs (a mixin over frozen dataclasses).

    Subclasses define ``kind``, ``height_um``, ``period_um``, ``invert`` and ``_e_raw`` (the
    non-inverted electrolyte height and its gradient).
    """

    __slots__ = ()
    kind: ClassVar[str]
    height_um: float
    period_um: float
    invert: bool

    # --- geometry -----------------------------------------------------------------------------
    @property
    def cell_um(self) -> tuple[float, float]:
        """Periodic cell (S, S) in µm."""
        return (self.period_um, self.period_um)

    @property
    def aspect_ratio(self) -> float:
        """H/S."""
        return self.height_um / self.period_um

    @property
    def is_smooth(self) -> bool:
        """True for analytic (C∞) surfaces: flat and egg-box."""
        return True

    # --- shape protocol (what solvers may ask instead of inspecting classes) ---------------------
    @property
    def is_flat(self) -> bool:
        """True if the interface has no relief (e ≡ 0)."""
        return self.height_um == 0.0

    @property
    def is_square_symmetric(self) -> bool:
        """True if e is mirror symmetric about x = 0, y = 0 and x = y (with the period, also
        about x = S/2, y = S/2): the wedge 0 <= y <= x <= S/2 is then a fundamental domain."""
        return False

    @property
    def edge_radius_um(self) -> float:
        """Radius r (µm) of the fillets rounding the slope discontinuities; 0 for smooth shapes
        and for sharp edges."""
        return 0.0

    def with_edge_radius(self, radius_um: float) -> Surface:
        """A copy with edge radius ``radius_um`` (validated); raises ValueError for shapes
        without edges."""
        raise ValueError(
            f"edge_radius_um applies to shapes with edges (pyramids, frustums), not to {self.kind}"
        )

    @property
    def plateau_fraction(self) -> float:
        """Side of the flat top of a relief / S (frustum ``top_fraction``), 0 without plateau."""
        return 0.0

    def rounding_half_widths_um(self) -> EdgeBands:
        """Half-widths (µm) of the rounded bands at the edges, hips and plateau rim (fillet of
        radius r tangent to both faces: r sin θ, θ the half-angle of the slope change); zeros
        for smooth shapes and sharp edges."""
        return EdgeBands(0.0, 0.0, 0.0)

    @property
    def half_period_shift_invert(self) -> bool:
        """True if ``invert`` (e → H − e) equals a half-period shift of the same surface."""
        return False

    def shape_key(self) -> dict[str, Any]:
        """Shape parameters besides H and S: kind and options, with lengths over S
        (``edge_radius_over_s``) and ``invert`` False where it is only a half-period shift.
        Two designs with equal keys and equal H/S are similar (scaled copies)."""
        key = {k: v for k, v in self.to_dict().items() if k not in ("H_um", "S_um")}
        if self.half_period_shift_invert:
            key["invert"] = False
        if "edge_radius_um" in key:
            # a radius is a length: what matters is r/S
            key["edge_radius_over_s"] = round(key.pop("edge_radius_um") / self.period_um, 9)
        return key

    def plateau_family(self) -> tuple[dict[str, Any], float] | None:
        """:func:`plateau_family_key` of this design's :meth:`shape_key`."""
        return plateau_family_key(self.shape_key())

    def _e_raw(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        raise NotImplementedError

    def _eval(
        self, x_um: ArrayLike, y_um: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        x, y = np.broadcast_arrays(np.asarray(x_um, dtype=float), np.asarray(y_um, dtype=float))
        e, ex, ey = self._e_raw(x, y)
        if self.invert:
            return self.height_um - e, -ex, -ey
        return e, ex, ey

    def z_um(self, x_um: ArrayLike, y_um: ArrayLike) -> NDArray[np.float64]:
        """Electrolyte surface height e(x, y) in [0, H] µm (vectorised)."""
        return self._eval(x_um, y_um)[0]

    def gradient(
        self, x_um: ArrayLike, y_um: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Slope (∂e/∂x, ∂e/∂y), dimensionless (µm per µm)."""
        _, ex, ey = self._eval(x_um, y_um)
        return ex, ey

    def normal(self, x_um: ArrayLike, y_um: ArrayLike) -> NDArray[np.float64]:
        """Unit normal of the electrolyte surface pointing out of the electrolyte (into the Li),
        shape (..., 3): (−∂e/∂x, −∂e/∂y, 1)/√(1 + |∇e|²)."""
        ex, ey = self.gradient(x_um, y_um)
        n = np.stack([-ex, -ey, np.ones_like(ex)], axis=-1)
        return n / np.linalg.norm(n, axis=-1, keepdims=True)

    def template_top_um(self, x_um: ArrayLike, y_um: ArrayLike, base_um: float) -> NDArray:
        """Top of the printed template, base + H − e(x, y), µm."""
        return base_um + self.height_um - self.z_um(x_um, y_um)

    # --- integrals ----------------------------------------------------------------------------
    def _cell_quadrature(self, n: int = 2048) -> tuple[float, float]:
        return _cell_quadrature_cached(self, n)

    def _cell_quadrature_uncached(self, n: int) -> tuple[float, float]:
        """Midpoint rule over one cell: (mean height µm, area ratio); ~1e-4 relative for
        kinked surfaces, used for rounded edges where no closed form exists."""
        s = self.period_um
        t = (np.arange(n) + 0.5) / n * s - s / 2
        means = np.zeros(2)
        for row in np.array_split(np.arange(n), 16):
            x, y = np.meshgrid(t, t[row], indexing="xy")
            e, ex, ey = self._eval(x, y)
            means += [e.sum(), np.sqrt(1.0 + ex * ex + ey * ey).sum()]
        means /= n * n
        return float(means[0]), float(means[1])

    def mean_height_um(self) -> float:
        """Cell average of e, µm (template volume per cell = S² (base + H − mean))."""
        return self._cell_quadrature()[0]

    def area_ratio(self) -> float:
        """Interfacial area per projected area, A/A0."""
        return self._cell_quadrature()[1]

    # --- bookkeeping --------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """Short label used for default folders and file names, e.g. ``eggbox-H25S150``.

        Deterministic and distinct for designs of different geometry: every option that differs
        from its default is encoded (``eggbox-sum-H25S150``, ``frustum-H25S150-t0.3``,
        ``pyramid-H25S150-r1``, ``eggbox-H25S150-inv``), so the paper's presets keep their names.
        """
        return _design_name(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready parameters: ``kind``, ``H_um``, ``S_um`` and the kind's options."""
        d: dict[str, Any] = {"kind": self.kind, "H_um": self.height_um, "S_um": self.period_um}
        for key, value in asdict(self).items():  # type: ignore[call-overload]
            if key not in ("height_um", "period_um"):
                d[key] = value
        return d

    def facet_nodes_um(self) -> tuple[float, ...] | None:
        """For polyhedral designs (sharp pyramids/frustums): 1-D node positions in one period
        [0, S] such that a tensor grid with hip-aligned diagonals meshes every facet exactly.
        None for curved surfaces."""
        return None


def _name_number(value: float) -> str:
    """Shortest text that reads back as ``value`` (``25``, ``0.3``, ``1.25``): distinct values
    give distinct names, round values give the familiar ``H25S150``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _field_default(design: Any, field_name: str) -> Any:
    return next(f.default for f in fields(design) if f.name == field_name)


def _design_name(design: Any) -> str:
    """``KIND[-CHOICE…]-H<H>S<S>[-<symbol><value>…][-inv]``: choices (egg-box ``form``) and
    numeric options (``t`` top fraction, ``r`` edge radius) only where they differ from their
    defaults, in field order."""
    choices, numbers = [], []
    for f in fields(design):
        if f.name in ("height_um", "period_um", "invert"):
            continue
        value = getattr(design, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        if isinstance(value, str):
            choices.append(value)
        else:
            spec = PARAMETERS.get(f.metadata.get("parameter", ""))
            symbol = spec.symbol if spec is not None and spec.symbol.isalnum() else f.name
            numbers.append(f"{symbol}{_name_number(value)}")
    parts = [design.kind, *choices,
             f"H{_name_number(design.height_um)}S{_name_number(design.period_um)}", *numbers]
    if design.invert:
        parts.append("inv")
    return "-".join(parts)


@lru_cache(maxsize=64)
def _cell_quadrature_cached(design: Surface, n: int) -> tuple[float, float]:
    """Designs are frozen and hashable: integrate each (design, n) once."""
    return design._cell_quadrature_uncached(n)


def _grid_shape_ok(obj: Any) -> None:
    _validate(obj)
    _check_aspect(obj)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flat(Surface):
    """Flat interface (e = 0). ``period_um`` only sets the size of the solver cell."""

    kind: ClassVar[str] = "flat"
    period_um: float = param("period_um", default=True)  # only the size of the solver cell
    invert: bool = False

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def height_um(self) -> float:  # type: ignore[override]
        """Zero: a flat interface has no relief."""
        return 0.0

    @property
    def name(self) -> str:
        # the relief is e = 0 whatever ``invert``; the period sets the default footprint
        default = _field_default(self, "period_um")
        return "flat" if self.period_um == default else f"flat-S{_name_number(self.period_um)}"

    @property
    def is_square_symmetric(self) -> bool:
        return True

    def _e_raw(self, x, y):
        z = np.zeros_like(x, dtype=float)
        return z, z.copy(), z.copy()

    def mean_height_um(self) -> float:
        return 0.0

    def area_ratio(self) -> float:
        return 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "H_um": 0.0, "S_um": self.period_um, "invert": self.invert}


def _h_field() -> Any:
    return param("height_um")


def _s_field() -> Any:
    return param("period_um")


@dataclass(frozen=True, slots=True, kw_only=True)
class EggBox(Surface):
    """Egg-box contour of the electrolyte surface, µm.

    Product form (default): e = H/2 + (H/2) cos(2πx/S) cos(2πy/S).
    Sum form (``form="sum"``): e = H/4 (2 + cos 2πx/S + cos 2πy/S).
    ``invert`` (e → H − e) equals a half-period shift for both forms.
    """

    kind: ClassVar[str] = "eggbox"
    height_um: float = _h_field()
    period_um: float = _s_field()
    form: str = choice("form", default=True)
    invert: bool = False

    def __post_init__(self) -> None:
        _grid_shape_ok(self)

    @property
    def is_square_symmetric(self) -> bool:
        return True

    @property
    def half_period_shift_invert(self) -> bool:
        return True

    def _e_raw(self, x, y):
        k = 2.0 * np.pi / self.period_um
        h = self.height_um
        cx, cy, sx, sy = np.cos(k * x), np.cos(k * y), np.sin(k * x), np.sin(k * y)
        if self.form == "product":
            return 0.5 * h * (1.0 + cx * cy), -0.5 * h * k * sx * cy, -0.5 * h * k * cx * sy
        return 0.25 * h * (2.0 + cx + cy), -0.25 * h * k * sx, -0.25 * h * k * sy

    def mean_height_um(self) -> float:
        return 0.5 * self.height_um

    def area_ratio(self) -> float:
        """Trapezoidal rule on a periodic grid (spectrally accurate for this analytic integrand)."""
        n = 512
        t = np.arange(n) / n * self.period_um
        x, y = np.meshgrid(t, t, indexing="xy")
        _, ex, ey = self._e_raw(x, y)
        return float(np.mean(np.sqrt(1.0 + ex * ex + ey * ey)))


class _SquareRelief(Surface):
    """Shared machinery of pyramids and frustums: Chebyshev radius ρ = max(|x_c|, |y_c|)."""

    __slots__ = ()
    edge_radius_um: float

    @property
    def is_smooth(self) -> bool:
        return False

    @property
    def is_square_symmetric(self) -> bool:
        return True

    def with_edge_radius(self, radius_um: float) -> Surface:
        return replace(self, edge_radius_um=float(radius_um))  # type: ignore[type-var]

    def rounding_half_widths_um(self) -> EdgeBands:
        r = self.edge_radius_um
        m = self.face_slope
        mh = m / math.sqrt(2.0)
        edge = r * m / math.sqrt(1.0 + m * m)
        hip = math.sqrt(2.0) * r * mh / math.sqrt(1.0 + mh * mh)
        rim = 0.5 * r * m / math.sqrt(1.0 + m * m) if self.plateau_fraction > 0.0 else 0.0
        return EdgeBands(edge, hip, rim)

    @property
    def face_slope(self) -> float:
        """Slope m of the inclined faces (2H/S for pyramids, 2H/(S(1 − t)) for frustums)."""
        raise NotImplementedError

    def _tri(self, x):
        """|x_c| (distance to the nearest apex line), rounded at 0 and at ±S/2; value, d/dx."""
        s = self.period_um
        r = self.edge_radius_um
        w = _fillet_half_width(r, self.face_slope)
        xc = x - s * np.round(x / s)
        a, da = _sabs(xc, w)
        c, dc = _sabs(0.5 * s - a, w)
        return 0.5 * s - c, dc * da

    def _rho(self, x, y):
        """Smoothed Chebyshev radius and its gradient."""
        u, du = self._tri(x)
        v, dv = self._tri(y)
        m = self.face_slope / math.sqrt(2.0)
        w = math.sqrt(2.0) * _fillet_half_width(self.edge_radius_um, m)
        a, da = _sabs(u - v, w)
        return 0.5 * (u + v + a), 0.5 * du * (1.0 + da), 0.5 * dv * (1.0 - da)

    def facet_nodes_um(self) -> tuple[float, ...] | None:
        if self.edge_radius_um > 0:
            return None
        s = self.period_um
        t = self.plateau_fraction
        if t > 0:
            return (0.0, 0.5 * t * s, 0.5 * s, s - 0.5 * t * s, s)
        return (0.0, 0.5 * s, s)


@dataclass(frozen=True, slots=True, kw_only=True)
class PyramidArray(_SquareRelief):
    """Square pyramids whose bases (side S) tile the plane, apex height H, µm.

    In the cell |x|, |y| <= S/2 centred on an apex: e = H (1 − 2 max(|x|, |y|)/S).
    """

    kind: ClassVar[str] = "pyramid"
    height_um: float = _h_field()
    period_um: float = _s_field()
    edge_radius_um: float = param("edge_radius_um", default=True)
    invert: bool = False

    def __post_init__(self) -> None:
        _grid_shape_ok(self)
        _check_edge_radius(self)

    @property
    def face_slope(self) -> float:
        return 2.0 * self.height_um / self.period_um

    def _e_raw(self, x, y):
        rho, rx, ry = self._rho(x, y)
        c = 2.0 * self.height_um / self.period_um
        return self.height_um - c * rho, -c * rx, -c * ry

    def mean_height_um(self) -> float:
        if self.edge_radius_um > 0:
            return self._cell_quadrature()[0]
        h = self.height_um / 3.0
        return self.height_um - h if self.invert else h

    def area_ratio(self) -> float:
        if self.edge_radius_um > 0:
            return self._cell_quadrature()[1]
        return math.sqrt(1.0 + self.face_slope**2)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrustumArray(_SquareRelief):
    """Frustums of square pyramids, base side S (bases tile the plane), top side t·S, height H.

    e = H min(1, (1 − 2 max(|x|, |y|)/S) / (1 − t)); t = 0 is the pyramid.
    """

    kind: ClassVar[str] = "frustum"
    height_um: float = _h_field()
    period_um: float = _s_field()
    top_fraction: float = param("top_fraction", default=True)
    edge_radius_um: float = param("edge_radius_um", default=True)
    invert: bool = False

    def __post_init__(self) -> None:
        _grid_shape_ok(self)
        _check_edge_radius(self)

    @property
    def plateau_fraction(self) -> float:
        return self.top_fraction

    @property
    def face_slope(self) -> float:
        return 2.0 * self.height_um / (self.period_um * (1.0 - self.top_fraction))

    def _e_raw(self, x, y):
        s, t = self.period_um, self.top_fraction
        rho, rx, ry = self._rho(x, y)
        if t > 0:
            m = self.face_slope
            w = 0.5 * self.edge_radius_um * m / math.sqrt(1.0 + m * m)
            a, da = _sabs(rho - 0.5 * t * s, w)
            q = 0.5 * (rho + 0.5 * t * s + a)
            qx, qy = 0.5 * rx * (1.0 + da), 0.5 * ry * (1.0 + da)
        else:
            q, qx, qy = rho, rx, ry
        c = self.face_slope
        return c * (0.5 * s - q), -c * qx, -c * qy

    def mean_height_um(self) -> float:
        if self.edge_radius_um > 0:
            return self._cell_quadrature()[0]
        t = self.top_fraction
        h = self.height_um * (1.0 + t + t * t) / 3.0
        return self.height_um - h if self.invert else h

    def area_ratio(self) -> float:
        if self.edge_radius_um > 0:
            return self._cell_quadrature()[1]
        t = self.top_fraction
        return t * t + (1.0 - t * t) * math.sqrt(1.0 + self.face_slope**2)


def plateau_family_key(key: dict[str, Any]) -> tuple[dict[str, Any], float] | None:
    """(key of the family, t) for a shape key of a square relief with a flat top of side t·S,
    None for other shapes: frustums, and pyramids as the frustums with t = 0 (the same
    surface, rounding included). Designs of one family key differ only in t, along which
    anything computed from the surface varies continuously."""
    if key.get("kind") not in (PyramidArray.kind, FrustumArray.kind):
        return None
    family = {k: v for k, v in key.items() if k != "top_fraction"}
    family["kind"] = FrustumArray.kind
    return family, float(key.get("top_fraction", 0.0))


SURFACES: dict[str, type[Surface]] = {
    cls.kind: cls for cls in (EggBox, PyramidArray, FrustumArray, Flat)
}


def template_top_um(design: Surface, x_um: ArrayLike, y_um: ArrayLike, base_um: float):
    """Top of the printed template, base + H − e(x, y), µm."""
    return design.template_top_um(x_um, y_um, base_um)
