"""Material parameters of the current-distribution problem (SI), validated once.

Defaults follow ``../shared/spec/physics.md`` §10: κ = 2 mS/cm (0.2 S/m), i0 = 2 mA/cm²
(20 A/m²), α_a = α_c = 0.5, T = 298.15 K. They give R_ct = 12.85 Ω cm² and the kinetic length
L_k = κ R_ct ≈ 257 µm (physics.md §5.1, §5.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from templater.geometry.errors import DesignError
from templater.geometry.units import ma_cm2_to_a_m2, ms_cm_to_s_m

__all__ = ["Materials", "FARADAY_C_MOL", "GAS_CONSTANT_J_MOL_K"]

FARADAY_C_MOL = 96485.33212  # CODATA 2018 (exact by SI definition)
GAS_CONSTANT_J_MOL_K = 8.314462618  # CODATA 2018 (exact by SI definition)


def _spec(flag: str, low: float, high: float, unit: str, help: str, default: float,
          cli_unit: str = "", cli_per_si: float = 1.0) -> Any:
    """Declare a material parameter: CLI flag, open-low/closed-high SI range, units, help."""
    meta = {"flag": flag, "range": (low, high), "unit": unit, "help": help,
            "cli_unit": cli_unit or unit, "cli_per_si": cli_per_si}
    return field(default=default, metadata=meta)


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
        Temperature T [K], in (0, 1000].

    Examples
    --------
    >>> round(Materials().kinetic_length_m * 1e6, 1)
    256.9
    """

    kappa_s_m: float = _spec("kappa", 0.0, 1000.0, "S/m", "ionic conductivity", 0.2,
                             cli_unit="mS/cm", cli_per_si=10.0)
    i0_a_m2: float = _spec("i0", 0.0, 1e6, "A/m^2", "exchange current density", 20.0,
                           cli_unit="mA/cm^2", cli_per_si=0.1)
    alpha_a: float = _spec("alpha-a", 0.0, 1.0, "", "anodic transfer coefficient", 0.5)
    alpha_c: float = _spec("alpha-c", 0.0, 1.0, "", "cathodic transfer coefficient", 0.5)
    temperature_k: float = _spec("temperature", 0.0, 1000.0, "K", "temperature", 298.15)

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, _checked(f.name, f.metadata, getattr(self, f.name)))

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
        meta = {f.name: f.metadata for f in fields(cls)}
        kwargs: dict[str, float] = {}
        for name, value in given.items():
            if value is None:
                continue
            m = meta[name]
            _checked(name, m, value, cli=True)  # error message in CLI units
            if name == "kappa_s_m":
                kwargs[name] = ms_cm_to_s_m(float(value))
            elif name == "i0_a_m2":
                kwargs[name] = ma_cm2_to_a_m2(float(value))
            else:
                kwargs[name] = float(value)
        return cls(**kwargs)

    @classmethod
    def from_kinetic_length(
        cls, kinetic_length_m: float, *, kappa_s_m: float = 0.2, temperature_k: float = 298.15,
        alpha_a: float = 0.5, alpha_c: float = 0.5,
    ) -> Materials:
        """Materials whose kinetic length κ R_ct equals ``kinetic_length_m`` [m] (sets i0)."""
        if not (isinstance(kinetic_length_m, (int, float, np.floating))
                and math.isfinite(kinetic_length_m) and kinetic_length_m > 0.0):
            raise DesignError("materials", "kinetic_length_m", "kinetic-length",
                              kinetic_length_m, "(0, inf)", "m")
        r_ct = kinetic_length_m / kappa_s_m
        i0 = GAS_CONSTANT_J_MOL_K * temperature_k / ((alpha_a + alpha_c) * FARADAY_C_MOL * r_ct)
        return cls(kappa_s_m=kappa_s_m, i0_a_m2=i0, alpha_a=alpha_a, alpha_c=alpha_c,
                   temperature_k=temperature_k)

    def to_dict(self) -> dict[str, float]:
        """JSON-ready SI parameters plus the derived kinetic length."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["kinetic_length_m"] = self.kinetic_length_m
        return d


def _checked(name: str, meta: Any, value: object, *, cli: bool = False) -> float:
    """Validate one parameter against its (low, high] range; return it as float."""
    low, high = meta["range"]
    unit = meta["unit"]
    if cli:
        low, high = low * meta["cli_per_si"], high * meta["cli_per_si"]
        unit = meta["cli_unit"]
    allowed = f"({low:g}, {high:g}]"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise DesignError("materials", name, meta["flag"], value, allowed + " (a number)", unit)
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v) or v <= low or v > high:
        raise DesignError("materials", name, meta["flag"], value, allowed, unit)
    return v
