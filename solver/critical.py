"""Dendrite growth criterion → geometric current density for dendrite growth J*.

Normalised crack-growth closure (Ning et al., Nature 2023, 618, 287 as used by the paper; a
reconstruction): the current needed to grow a Li-filled crack at the Li tip falls as the local
interfacial pressure P rises,

    i_g(P) / i_g(p_stack) = ((P_c − P) / (P_c − p_stack))^n_g = (1 − Δp / dP_margin)^n_g .

A design with maximum local current i_max = m·J (linear in J) and maximum excess pressure
Δp_max(J) = P_f (J / J_flat)^(1/n) (power-law creep homogeneity, P_f = Δp_max at J = J_flat)
grows a dendrite at the geometric current J* solving

    m J* = J_flat (1 − Δp_max(J*) / dP_margin)^n_g .

The left side increases and the right side decreases with J, so the root is unique. For
n_g = n it is closed form, J*/J_flat = (m^(1/n) + P_f/dP_margin)^(−n). J_flat (the flat-interface
critical current), dP_margin and n_g are the model's free constants (calibration inputs): their
defaults are documented on :class:`DendriteConstants`.

Model bound: m ≥ 1/(A/A0) (the maximum is at least the mean) and Δp ≥ 0 at the tip, so
J*/J_flat ≤ A/A0 for every design and every choice of constants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from templater.geometry.parameters import declare, validate_fields

__all__ = ["CrackDrive", "DendriteConstants", "critical_current_ratio",
           "fracture_critical_current_ratio", "CRACK_GEOMETRY_FACTOR"]

CRACK_GEOMETRY_FACTOR = 1.12  # Y of a shallow edge crack (K_I = Y σ √(πc))


@dataclass(frozen=True, slots=True, kw_only=True)
class DendriteConstants:
    """Free constants of the dendrite criterion (SI); defaults and their sources are in the
    default parameter set (``templates/parameters/default.toml``).

    Parameters
    ----------
    flat_critical_current_a_m2 : float, default 10.0 (= 1.0 mA/cm²)
        J_flat, the critical current of a flat interface; a placeholder [U] until the user's own
        flat-cell measurement is given (``--flat-ccd``) or fitted (``templater calibrate``).
        Range (0, 10000] A/m².
    pressure_margin_pa : float, default 6.67e6
        dP_margin = P_c − p_stack, the excess pressure at which a tip crack grows without
        current. The default is chosen by ``examples/calibrate_defaults.py`` (a scan over the
        plausible range 0.5-100 MPa: P_c = K_IC/(Y sqrt(π c)) with K_IC 0.2-1 MPa m^1/2 and tip
        cracks c = 1-200 µm); 6.67 MPa is P_c = 13.7 MPa, e.g. K_IC = 0.23 MPa m^1/2 and
        c ≈ 70 µm. A first a-priori estimate was 4.6 MPa (c = 100 µm).
    growth_exponent : float or None, default 2.0
        n_g, range [0.5, 20]; None means n_g = n, the creep stress exponent (extrusion
        argument). The default 2 (between the linear alternative 1 and n) is
        chosen by the same scan.
    """

    flat_critical_current_a_m2: float = declare("flat_critical_current_a_m2", default=True)
    pressure_margin_pa: float = declare("pressure_margin_pa", default=True)
    growth_exponent: float | None = declare("growth_exponent", default=True, nullable=True)
    criterion: str = declare("criterion", default=True)
    fracture_toughness_pa_m05: float = declare("fracture_toughness_pa_m05", default=True)
    crack_size_m: float = declare("crack_size_m", default=True)

    def __post_init__(self) -> None:
        validate_fields(self, "dendrite")

    @property
    def critical_pressure_pa(self) -> float:
        """P_c = K_IC / (Y √(π c)): the crack-driving pressure p_Li + σ̄ that grows the tip
        crack without current (fracture criterion)."""
        return self.fracture_toughness_pa_m05 / (
            CRACK_GEOMETRY_FACTOR * math.sqrt(math.pi * self.crack_size_m))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CrackDrive:
    """Crack-driving pressure of a design, P(Δp) = max_i (p_stack·base_i + Δp·slope_i) over the
    interface points i, Δp the maximum excess Li pressure; the flat interface has
    p_stack·flat (see :mod:`solver.electrolyte`)."""

    stack_pa: float
    base: np.ndarray  # (p_Li + σ̄)/p_stack at zero current
    slope: np.ndarray  # d(p_Li + σ̄)/dΔp_max
    flat: float  # (p + σ_L)/p of the flat interface

    def at(self, excess_pa: float) -> float:
        """P_drive [Pa] at the maximum excess pressure ``excess_pa``."""
        return float(np.max(self.stack_pa * self.base + excess_pa * self.slope))

    @property
    def flat_pa(self) -> float:
        return self.stack_pa * self.flat

    @classmethod
    def flat_interface(cls, stack_pa: float, flat: float) -> CrackDrive:
        one = np.array([flat])
        return cls(stack_pa=stack_pa, base=one, slope=np.zeros(1), flat=flat)


def critical_current_ratio(
    max_current_ratio: float,
    excess_pressure_at_flat_ccd_pa: float,
    *,
    pressure_margin_pa: float,
    growth_exponent: float,
    creep_exponent: float,
) -> float:
    """J*/J_flat for a design (see module docstring).

    Parameters
    ----------
    max_current_ratio : float
        m = i_max / J (with kinetics), > 0.
    excess_pressure_at_flat_ccd_pa : float
        P_f = Δp_max at J = J_flat [Pa], ≥ 0.
    pressure_margin_pa : float
        dP_margin [Pa], > 0.
    growth_exponent : float
        n_g.
    creep_exponent : float
        n (Δp ∝ J^(1/n)).
    """
    m, pf, margin = float(max_current_ratio), float(excess_pressure_at_flat_ccd_pa), \
        float(pressure_margin_pa)
    n, ng = float(creep_exponent), float(growth_exponent)
    if not (m > 0 and pf >= 0 and margin > 0 and n > 0 and ng > 0):
        raise ValueError(f"invalid criterion inputs m={m}, P_f={pf}, margin={margin}, "
                         f"n={n}, n_g={ng}")
    u = pf / margin
    if abs(ng - n) <= 1e-12 * n:
        return (m ** (1.0 / n) + u) ** (-n)
    if u == 0.0:
        return 1.0 / m

    def residual(log_x: float) -> float:
        x = math.exp(log_x)
        return math.log(m * x) - ng * math.log1p(-u * x ** (1.0 / n))

    from scipy.optimize import brentq  # lazy: scipy only when the root is needed

    # root lies below both x = 1/m (no pressure) and x_max where the pressure alone suffices
    hi = min(math.log(1.0 / m), n * math.log(1.0 / u)) - 1e-14
    lo = hi - 1.0
    while residual(lo) > 0:
        lo -= 2.0 * (hi - lo)
    return math.exp(brentq(residual, lo, hi, xtol=1e-15, rtol=1e-14))


def fracture_critical_current_ratio(
    max_current_ratio: float,
    excess_pressure_at_flat_ccd_pa: float,
    drive: CrackDrive,
    *,
    critical_pressure_pa: float,
    growth_exponent: float,
    creep_exponent: float,
) -> float:
    """J*/J_flat with the fracture criterion:

        m J* = J_flat ((P_c − P(Δp_max(J*))) / (P_c − P_flat))^n_g ,
        Δp_max(J) = P_f (J/J_flat)^(1/n),

    P(Δp) the crack-driving pressure of the design (:class:`CrackDrive`), P_flat that of the
    flat interface. 0 when the design's stack pressure alone already reaches P_c.
    """
    m, pf = float(max_current_ratio), float(excess_pressure_at_flat_ccd_pa)
    pc, n, ng = float(critical_pressure_pa), float(creep_exponent), float(growth_exponent)
    margin = pc - drive.flat_pa
    if not (m > 0 and pf >= 0 and n > 0 and ng > 0 and margin > 0):
        raise ValueError(f"invalid criterion inputs m={m}, P_f={pf}, P_c={pc}, "
                         f"P_flat={drive.flat_pa}, n={n}, n_g={ng}")
    if drive.at(0.0) >= pc:
        return 0.0

    def residual(log_x: float) -> float:
        rest = pc - drive.at(pf * math.exp(log_x / n))
        if rest <= 0.0:  # past the point where the pressure alone cracks: +∞ continuously
            return 1e300
        return math.log(m) + log_x - ng * math.log(rest / margin)

    from scipy.optimize import brentq  # lazy: scipy only when the root is needed

    # the residual increases with x: bracket from below 1/m
    lo = math.log(1.0 / m)
    while residual(lo) > 0.0:
        lo -= 1.0
        if lo < -700.0:
            return 0.0
    hi = lo + 1.0
    while residual(hi) < 0.0:
        lo, hi = hi, hi + 1.0
    return math.exp(brentq(residual, lo, hi, xtol=1e-15, rtol=1e-14))
