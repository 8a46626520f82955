"""Validated, frozen parameter set of the Li power-law creep model (physics.md §6.1, §10).

Norton / von Mises creep of Li: ε̇_e = A exp(−Q/RT) σ_e^n with σ_e in MPa, i.e. the deviatoric
stress s = 2ηD with η = (1/3) A*^(−1/n) ε̇_e^(1/n − 1), A* = A exp(−Q/RT), ε̇_e = sqrt((2/3) D:D).

Defaults and sources (all marked "verify" in physics.md §6.1 until checked against the papers):

====================  ===========================  ==============================================
parameter             default                      source
====================  ===========================  ==============================================
A                     4.25e4 s⁻¹ MPa⁻ⁿ             LePage et al., J. Electrochem. Soc. 166 (2019)
                                                   A89 (A*(298.15 K) = 1.40e-2 s⁻¹ MPa⁻ⁿ)
n                     6.56                         LePage 2019; Masias et al. 2019
Q                     37 kJ/mol                    LePage 2019
Ω (molar volume)      13.0 cm³/mol                 6.941 g/mol / 0.534 g/cm³
T                     298.15 K                     room temperature (not stated in the paper)
p_stack               7 MPa                        the paper (Zhang et al., EES 17 (2024) 1448)
depth D/S             1.0                          solver.md §9.4 (D = S/2 vs S: negligible);
                                                   physics.md's 3 S changes Π by −0.5 %
                                                   (egg-box H25S150, measured, bench_creep.py)
slip                  "noslip"                     bonded interface (solver.md §9.1); "freeslip"
                                                   is the other bounding case
regularisation        1e-3 (ε̇₀ in units of V0/S)   physics.md §6.2; 1e-4 changes Π by < 1e-4
====================  ===========================  ==============================================

The problem is homogeneous: Δp = Π · Σ with the stress scale Σ = (V0 / (A* S))^(1/n),
V0 = J Ω / F (plating speed at the geometric current density J), see :meth:`stress_scale_pa`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from solver.materials import FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K
from templater.geometry.errors import DesignError

__all__ = ["CreepParameters", "FARADAY_C_MOL", "GAS_CONSTANT_J_MOL_K", "SLIP_CONDITIONS"]

SLIP_CONDITIONS = ("noslip", "freeslip")

# name: (flag, low, high, low_open, unit)
_RANGES: dict[str, tuple[str, float, float, bool, str]] = {
    "prefactor_s_mpa_n": ("creep-A", 0.0, 1e15, True, "s^-1 MPa^-n"),
    "stress_exponent": ("creep-n", 1.0, 12.0, False, ""),
    "activation_energy_j_mol": ("creep-Q", 0.0, 2e5, False, "J/mol"),
    "molar_volume_m3_mol": ("molar-volume", 0.0, 1e-4, True, "m^3/mol"),
    "temperature_k": ("temperature", 150.0, 453.65, False, "K"),
    "stack_pressure_pa": ("stack-pressure", 0.0, 1e9, False, "Pa"),
    "depth_factor": ("creep-depth", 0.25, 10.0, False, "S"),
    "regularisation": ("creep-regularisation", 0.0, 0.1, True, "V0/S"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CreepParameters:
    """Power-law creep constants of Li and the creep-problem options (SI unless stated).

    Parameters
    ----------
    prefactor_s_mpa_n : float, default 4.25e4
        Norton prefactor A [s⁻¹ MPa⁻ⁿ] (equivalent-stress convention), > 0.
    stress_exponent : float, default 6.56
        Stress exponent n, 1 to 12.
    activation_energy_j_mol : float, default 37e3
        Activation energy Q [J/mol], 0 to 2e5.
    molar_volume_m3_mol : float, default 13.0e-6
        Molar volume Ω of Li [m³/mol], (0, 1e-4].
    temperature_k : float, default 298.15
        Temperature T [K], 150 to 453.65 (Li melting point).
    stack_pressure_pa : float, default 7e6
        Stack pressure p_stack [Pa], 0 to 1e9.
    depth_factor : float, default 1.0
        Depth D of the Li domain below the interface's lowest point, in periods S, 0.25 to 10.
    slip : {"noslip", "freeslip"}, default "noslip"
        Interface condition: bonded (u = −v_n n) or free slip (u·n = −v_n, zero shear).
    regularisation : float, default 1e-3
        ε̇₀ in units of V0/S; ε̇_e is replaced by sqrt(ε̇_e² + ε̇₀²); (0, 0.1].
    """

    prefactor_s_mpa_n: float = 4.25e4
    stress_exponent: float = 6.56
    activation_energy_j_mol: float = 37e3
    molar_volume_m3_mol: float = 13.0e-6
    temperature_k: float = 298.15
    stack_pressure_pa: float = 7e6
    depth_factor: float = 1.0
    slip: str = "noslip"
    regularisation: float = 1e-3

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "slip":
                if value not in SLIP_CONDITIONS:
                    raise DesignError(
                        "creep", "slip", "slip", value, " | ".join(SLIP_CONDITIONS), ""
                    )
                continue
            flag, low, high, low_open, unit = _RANGES[f.name]
            allowed = f"{'(' if low_open else '['}{low:g}, {high:g}]"
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise DesignError("creep", f.name, flag, value, allowed + " (a number)", unit)
            v = float(value)
            if not math.isfinite(v) or v < low or v > high or (low_open and v == low):
                raise DesignError("creep", f.name, flag, value, allowed, unit)
            object.__setattr__(self, f.name, v)

    @property
    def rate_constant_s_mpa_n(self) -> float:
        """A* = A exp(−Q/RT) [s⁻¹ MPa⁻ⁿ]."""
        rt = GAS_CONSTANT_J_MOL_K * self.temperature_k
        return self.prefactor_s_mpa_n * math.exp(-self.activation_energy_j_mol / rt)

    def plating_speed_m_s(self, current_density_a_m2: float) -> float:
        """V0 = J Ω / F [m/s] for the geometric current density J [A/m²]."""
        return current_density_a_m2 * self.molar_volume_m3_mol / FARADAY_C_MOL

    def stress_scale_pa(self, current_density_a_m2: float, period_m: float) -> float:
        """Stress scale Σ = (V0 / (A* S))^(1/n) [Pa].

        Parameters
        ----------
        current_density_a_m2 : float
            Geometric current density J [A/m²], > 0.
        period_m : float
            Period S [m], > 0.
        """
        if not current_density_a_m2 > 0.0:
            raise DesignError(
                "creep",
                "current_density_a_m2",
                "current",
                current_density_a_m2,
                "(0, inf)",
                "A/m^2",
            )
        if not period_m > 0.0:
            raise DesignError("creep", "period_m", "S", period_m, "(0, inf)", "m")
        rate_s = self.plating_speed_m_s(current_density_a_m2) / period_m
        sigma_mpa = (rate_s / self.rate_constant_s_mpa_n) ** (1.0 / self.stress_exponent)
        return sigma_mpa * 1e6
