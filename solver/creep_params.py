"""Validated, frozen parameter set of the Li creep model (power law, optionally plus a linear term).

Von Mises creep of Li: ε̇_e = A* (σ_t^(n−1) σ_e + σ_e^n), A* = A exp(−Q/RT), σ_e and σ_t in MPa,
i.e. a linear (diffusional) term A1* σ_e with A1 = A σ_t^(n−1) next to the power-law (dislocation)
term; both carry the same Arrhenius factor, so the transition stress σ_t = (A1/A)^(1/(n−1)) does
not depend on temperature. σ_t = 0 (the default) is the pure Norton law. The deviatoric stress is
s = 2ηD with η = σ_e / (3 ε̇_e), ε̇_e = sqrt((2/3) D:D); for σ_t = 0,
η = (1/3) A*^(−1/n) ε̇_e^(1/n − 1).

Defaults and sources (the creep constants are to be verified against the papers); the values
are data, ``templates/parameters/default.toml``, with these citations:

====================  ===========================  ==============================================
parameter             default                      source
====================  ===========================  ==============================================
A                     4.25e4 s⁻¹ MPa⁻ⁿ             found as the reference rate of an Anand-type
                                                   viscoplastic law for Li (S0 = 0.95 MPa;
                                                   Anand and Narayan, J. Electrochem. Soc. 166
                                                   (2019)), read as a Norton constant with σ in
                                                   MPa; not verified as LePage's Norton constant
                                                   (A*(298.15 K) = 1.40e-2 s⁻¹ MPa⁻ⁿ)
n                     6.56                         LePage 2019; Masias et al. 2019
σ_t                   0 (pure power law)           range 0-0.5 MPa: Herbert et al., J. Mater.
                                                   Res. 2018 and 2019 (diffusional flow of Li
                                                   at small scales and low stress)
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

With σ_t = 0 the problem is homogeneous: Δp = Π · Σ with the stress scale Σ = (V0 / (A* S))^(1/n),
V0 = J Ω / F (plating speed at the geometric current density J), see :meth:`stress_scale_pa`.
The linear term adds one dimensionless group, σ_t/Σ (:meth:`transition_ratio`): Δp = Π(σ_t/Σ)·Σ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from solver.materials import FARADAY_C_MOL, GAS_CONSTANT_J_MOL_K
from templater.geometry.errors import DesignError
from templater.geometry.parameters import PARAMETERS, declare, validate_fields
from templater.geometry.units import mpa_to_pa, pa_to_mpa

__all__ = ["CreepParameters", "FARADAY_C_MOL", "GAS_CONSTANT_J_MOL_K", "SLIP_CONDITIONS"]

SLIP_CONDITIONS = PARAMETERS["slip"].choices


@dataclass(frozen=True, slots=True, kw_only=True)
class CreepParameters:
    """Creep constants of Li (power law plus optional linear term) and the creep-problem options
    (SI unless stated).

    Parameters
    ----------
    prefactor_s_mpa_n : float, default 4.25e4
        Norton prefactor A [s⁻¹ MPa⁻ⁿ] (equivalent-stress convention), > 0.
    stress_exponent : float, default 6.56
        Stress exponent n, 1 to 12.
    transition_stress_pa : float, default 0.0
        Transition stress σ_t [Pa], 0 to 0.5e6 (flag ``--creep-transition-stress`` in MPa): the
        linear term A1* σ_e, A1 = A σ_t^(n−1) (σ in MPa), equals the power-law term at σ_e = σ_t.
        0: pure power law. For n = 1 both terms are linear and A1 = A.
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
    transition_stress_pa: float = declare("transition_stress_pa", default=True)

    def __post_init__(self) -> None:
        validate_fields(self, "creep")

    @property
    def rate_constant_s_mpa_n(self) -> float:
        """A* = A exp(−Q/RT) [s⁻¹ MPa⁻ⁿ]."""
        rt = GAS_CONSTANT_J_MOL_K * self.temperature_k
        return self.prefactor_s_mpa_n * math.exp(-self.activation_energy_j_mol / rt)

    @property
    def linear_prefactor_s_mpa(self) -> float:
        """A1 = A σ_t^(n−1) [s⁻¹ MPa⁻¹] of the linear term (0 when σ_t = 0)."""
        if self.transition_stress_pa == 0.0:
            return 0.0
        sigma_t_mpa = pa_to_mpa(self.transition_stress_pa)
        return self.prefactor_s_mpa_n * sigma_t_mpa ** (self.stress_exponent - 1.0)

    def transition_ratio(self, current_density_a_m2: float, period_m: float) -> float:
        """The dimensionless group σ_t / Σ of the two-mechanism law (0 for the pure power law).

        In units of Σ and V0/S the law reads ε̇ = (σ_t/Σ)^(n−1) σ + σ^n. Arguments as for
        :meth:`stress_scale_pa`.
        """
        sigma_pa = self.stress_scale_pa(current_density_a_m2, period_m)
        return self.transition_stress_pa / sigma_pa

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
