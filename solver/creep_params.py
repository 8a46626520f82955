"""Validated, frozen parameter set of the Li power-law creep model.

Norton / von Mises creep of Li: ε̇_e = A exp(−Q/RT) σ_e^n with σ_e in MPa, i.e. the deviatoric
stress s = 2ηD with η = (1/3) A*^(−1/n) ε̇_e^(1/n − 1), A* = A exp(−Q/RT), ε̇_e = sqrt((2/3) D:D).

Defaults and sources (the creep constants are to be verified against the papers); the values
are data, ``templates/parameters/default.toml``, with these citations:

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
depth D/S             1.0                          D = S/2 vs S: negligible; 3 S changes Π by
                                                   −0.5 % (egg-box H25S150, measured,
                                                   bench_creep.py)
slip                  "noslip"                     bonded interface; "freeslip" is the other
                                                   bounding case
regularisation        1e-3 (ε̇₀ in units of V0/S)   numerical; 1e-4 changes Π by < 1e-4
====================  ===========================  ==============================================

The problem is homogeneous: Δp = Π · Σ with the stress scale Σ = (V0 / (A* S))^(1/n),
V0 = J Ω / F (plating speed at the geometric current density J), see :meth:`stress_scale_pa`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from solver.materials import FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K
from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, declare, validate_fields
from templater.geometry.units import mpa_to_pa

__all__ = ["CreepParameters", "FARADAY_C_MOL", "GAS_CONSTANT_J_MOL_K", "SLIP_CONDITIONS"]

SLIP_CONDITIONS = PARAMETERS["slip"].choices


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

    prefactor_s_mpa_n: float = declare("prefactor_s_mpa_n", default=True)
    stress_exponent: float = declare("stress_exponent", default=True)
    activation_energy_j_mol: float = declare("activation_energy_j_mol", default=True)
    molar_volume_m3_mol: float = declare("molar_volume_m3_mol", default=True)
    temperature_k: float = declare("temperature_k", default=True)
    stack_pressure_pa: float = declare("stack_pressure_pa", default=True)
    depth_factor: float = declare("depth_factor", default=True)
    slip: str = declare("slip", default=True)
    regularisation: float = declare("regularisation", default=True)

    def __post_init__(self) -> None:
        validate_fields(self, "creep")

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
        return mpa_to_pa(sigma_mpa)
