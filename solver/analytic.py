"""Closed-form references for the current distribution (docs/theory.md, "Verification").

All functions return ratios i_n/J (dimensionless) unless stated; lengths are in consistent units
(any), angles in radians.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SQRT2",
    "EGGBOX_TIP_SERIES",
    "flat_current_ratio",
    "eggbox_tip_series",
    "eggbox_trough_series",
    "robin_attenuation",
    "eggbox_tip_first_order",
    "trochoid_parameter",
    "trochoid_height",
    "trochoid_slope",
    "trochoid_current_ratio",
]

SQRT2 = math.sqrt(2.0)
# i_tip/J = Σ c_n β^n, β = πH/S (c0..c2 exact, c3..c5 from a high-order field expansion)
EGGBOX_TIP_SERIES = (1.0, SQRT2, SQRT2 - 1.0, -0.25773, -0.03979, 0.11555)


def flat_current_ratio() -> float:
    """Flat interface: uniform current i_n/J = 1 for any kinetics."""
    return 1.0


def eggbox_tip_series(aspect_ratio: float, order: int = 2) -> float:
    """Primary product egg-box i_max/J at the Li tip, series in β = πH/S up to ``order`` (≤ 5).

    ``order=2`` is the exact second-order result 1 + √2 β + (√2 − 1) β².
    """
    if not 0 <= order < len(EGGBOX_TIP_SERIES):
        raise ValueError(f"order must be 0..{len(EGGBOX_TIP_SERIES) - 1}, got {order}")
    beta = math.pi * aspect_ratio
    return float(sum(c * beta**n for n, c in enumerate(EGGBOX_TIP_SERIES[: order + 1])))


def eggbox_trough_series(aspect_ratio: float, order: int = 2) -> float:
    """Primary product egg-box i_min/J at the electrolyte peak (odd orders change sign)."""
    if not 0 <= order < len(EGGBOX_TIP_SERIES):
        raise ValueError(f"order must be 0..{len(EGGBOX_TIP_SERIES) - 1}, got {order}")
    beta = -math.pi * aspect_ratio
    return float(sum(c * beta**n for n, c in enumerate(EGGBOX_TIP_SERIES[: order + 1])))


def robin_attenuation(wagner_number: float) -> float:
    """First-order attenuation 1/(1 + √2 Λ) of the egg-box tip perturbation, Λ = 2π ℓ / S."""
    return 1.0 / (1.0 + SQRT2 * wagner_number)


def eggbox_tip_first_order(aspect_ratio: float, kinetic_length_over_period: float = 0.0) -> float:
    """First-order egg-box tip current 1 + √2 β / (1 + √2 Λ), β = πH/S, Λ = 2π ℓ/S."""
    beta = math.pi * aspect_ratio
    return 1.0 + SQRT2 * beta * robin_attenuation(2 * math.pi * kinetic_length_over_period)


# --- exact 2D trochoid (conformal map z = ζ + iε e^{ikζ}) ---------------------------------------
def _check_trochoid(eps_k: float) -> None:
    if not 0.0 <= eps_k < 1.0:
        raise ValueError(f"trochoid needs 0 <= εk < 1, got {eps_k}")


def trochoid_parameter(x: ArrayLike, amplitude: float, period: float) -> NDArray[np.float64]:
    """Curve parameter s of the trochoid x = s − ε sin(ks) at abscissae ``x`` (Newton).

    Parameters
    ----------
    x : array_like
        Abscissae (same length unit as ``amplitude`` and ``period``).
    amplitude : float
        ε; the curve height is ε cos(ks).
    period : float
        S = 2π/k.
    """
    k = 2 * math.pi / period
    eps_k = amplitude * k
    _check_trochoid(eps_k)
    x = np.asarray(x, dtype=float)
    s = x.copy()
    for _ in range(100):
        res = s - amplitude * np.sin(k * s) - x
        step = res / (1.0 - eps_k * np.cos(k * s))
        s = s - step
        if np.max(np.abs(step), initial=0.0) <= 1e-15 * period:
            break
    return s


def trochoid_height(x: ArrayLike, amplitude: float, period: float) -> NDArray[np.float64]:
    """Height ε cos(k s(x)) of the trochoid interface (Li tip, maximum, at x = 0)."""
    k = 2 * math.pi / period
    return amplitude * np.cos(k * trochoid_parameter(x, amplitude, period))


def trochoid_slope(x: ArrayLike, amplitude: float, period: float) -> NDArray[np.float64]:
    """Slope d/dx of :func:`trochoid_height`: −εk sin(ks) / (1 − εk cos(ks))."""
    k = 2 * math.pi / period
    ks = k * trochoid_parameter(x, amplitude, period)
    return -amplitude * k * np.sin(ks) / (1.0 - amplitude * k * np.cos(ks))


def trochoid_current_ratio(s: ArrayLike, amplitude: float, period: float) -> NDArray[np.float64]:
    """Exact primary i_n/J = 1/sqrt(1 − 2εk cos(ks) + (εk)²) at curve parameter ``s``."""
    k = 2 * math.pi / period
    eps_k = amplitude * k
    _check_trochoid(eps_k)
    ks = k * np.asarray(s, dtype=float)
    return 1.0 / np.sqrt(1.0 - 2.0 * eps_k * np.cos(ks) + eps_k**2)
