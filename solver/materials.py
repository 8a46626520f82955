"""Material parameters of the current-distribution problem (SI), validated once.

Defaults (with their sources) come from the default parameter set,
``templates/parameters/default.toml``: κ = 2 mS/cm (0.2 S/m), i0 = 2 mA/cm² (20 A/m²),
α_a = α_c = 0.5, T = 298.15 K. They give R_ct = 12.85 Ω cm² and the kinetic length
L_k = κ R_ct ≈ 257 µm. Ranges, flags and units: :mod:`templater.geometry.parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from templater.geometry.parameters import (
    check,
    declare,
    default_value,
    from_cli,
    validate_fields,
)

__all__ = ["Materials", "FARADAY_C_MOL", "GAS_CONSTANT_J_MOL_K"]

FARADAY_C_MOL = 96485.33212  # CODATA 2018 (exact by SI definition)
GAS_CONSTANT_J_MOL_K = 8.314462618  # CODATA 2018 (exact by SI definition)


@dataclass(frozen=True, slots=True, kw_only=True)
class Materials:
    """Electrolyte conductivity and linearised Butler-Volmer kinetics, SI units.

    Parameters
    ----------
    kappa_s_m : float, default 0.2
        Ionic conductivity κ of the electrolyte [S/m], in (0, 1000] (2 mS/cm = 0.2 S/m).
    i0_a_m2 : float, default 20.0
        Exchange current density i0 [A/m²], in (0, 1e6] (2 mA/cm² = 20 A/m²).
    alpha_a, alpha_c : float, default 0.5
        Anodic and cathodic transfer coefficients [-], each in (0, 1].
    temperature_k : float, default 298.15
        Temperature T [K], in [150, 453.65] (at most the Li melting point).

    Examples
    --------
    >>> round(Materials().kinetic_length_m * 1e6, 1)
    256.9
    """

    kappa_s_m: float = declare("kappa_s_m", default=True)
    i0_a_m2: float = declare("i0_a_m2", default=True)
    alpha_a: float = declare("alpha_a", default=True)
    alpha_c: float = declare("alpha_c", default=True)
    temperature_k: float = declare("temperature_k", default=True)

    def __post_init__(self) -> None:
        validate_fields(self, "materials")

    # --- derived quantities -------------------------------------------------------------------
    @property
    def charge_transfer_resistance_ohm_m2(self) -> float:
        """Linearised Butler-Volmer resistance R_ct = R T / ((α_a + α_c) F i0) [Ω m²]."""
        return (GAS_CONSTANT_J_MOL_K * self.temperature_k
                / ((self.alpha_a + self.alpha_c) * FARADAY_C_MOL * self.i0_a_m2))

    @property
    def kinetic_length_m(self) -> float:
        """Kinetic (Wagner) length L_k = κ R_ct [m] (≈ 257 µm at the defaults)."""
        return self.kappa_s_m * self.charge_transfer_resistance_ohm_m2

    # --- constructors -------------------------------------------------------------------------
    @classmethod
    def from_cli_units(
        cls,
        *,
        kappa_ms_cm: float | None = None,
        i0_ma_cm2: float | None = None,
        alpha_a: float | None = None,
        alpha_c: float | None = None,
        temperature_k: float | None = None,
    ) -> Materials:
        """Build from CLI units (κ in mS/cm, i0 in mA/cm²); ``None`` keeps the default.

        A bad value raises :class:`~templater.geometry.errors.DesignError` naming the flag, with the
        value and the allowed range in the CLI units.
        """
        given = {"kappa_s_m": kappa_ms_cm, "i0_a_m2": i0_ma_cm2, "alpha_a": alpha_a,
                 "alpha_c": alpha_c, "temperature_k": temperature_k}
        return cls(**{name: from_cli(name, value, context="materials")
                      for name, value in given.items() if value is not None})

    @classmethod
    def from_kinetic_length(
        cls, kinetic_length_m: float, *, kappa_s_m: float | None = None,
        temperature_k: float | None = None, alpha_a: float | None = None,
        alpha_c: float | None = None,
    ) -> Materials:
        """Materials whose kinetic length κ R_ct equals ``kinetic_length_m`` [m] (sets i0);
        ``None`` keeps the default of the other parameters."""
        kappa_s_m = default_value("kappa_s_m") if kappa_s_m is None else kappa_s_m
        temperature_k = default_value("temperature_k") if temperature_k is None else temperature_k
        alpha_a = default_value("alpha_a") if alpha_a is None else alpha_a
        alpha_c = default_value("alpha_c") if alpha_c is None else alpha_c
        kinetic_length_m = check("kinetic_length_m", kinetic_length_m, context="materials")
        r_ct = kinetic_length_m / kappa_s_m
        i0 = GAS_CONSTANT_J_MOL_K * temperature_k / ((alpha_a + alpha_c) * FARADAY_C_MOL * r_ct)
        return cls(kappa_s_m=kappa_s_m, i0_a_m2=i0, alpha_a=alpha_a, alpha_c=alpha_c,
                   temperature_k=temperature_k)

    def to_dict(self) -> dict[str, float]:
        """JSON-ready SI parameters plus the derived kinetic length."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["kinetic_length_m"] = self.kinetic_length_m
        return d

