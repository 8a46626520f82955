"""The only unit conversion constants and functions of the project.

Geometry and the CLI are in micrometres; the solver is SI. Convert here, nowhere else.
"""

from __future__ import annotations

__all__ = ["UM", "um_to_m", "m_to_um", "a_m2_to_ma_cm2", "ma_cm2_to_a_m2",
           "ms_cm_to_s_m", "s_m_to_ms_cm", "pa_to_mpa", "mpa_to_pa", "cm3_mol_to_m3_mol"]

UM = 1e-6  # metres per micrometre


def um_to_m(value_um):
    """Micrometres to metres."""
    return value_um * UM


def m_to_um(value_m):
    """Metres to micrometres."""
    return value_m / UM


def ma_cm2_to_a_m2(value_ma_cm2):
    """mA/cm² to A/m² (1 mA/cm² = 10 A/m²)."""
    return value_ma_cm2 * 10.0


def a_m2_to_ma_cm2(value_a_m2):
    """A/m² to mA/cm²."""
    return value_a_m2 / 10.0


def ms_cm_to_s_m(value_ms_cm):
    """mS/cm to S/m (1 mS/cm = 0.1 S/m)."""
    return value_ms_cm * 0.1


def s_m_to_ms_cm(value_s_m):
    """S/m to mS/cm."""
    return value_s_m * 10.0


def mpa_to_pa(value_mpa):
    """MPa to Pa."""
    return value_mpa * 1e6


def pa_to_mpa(value_pa):
    """Pa to MPa."""
    return value_pa * 1e-6


def cm3_mol_to_m3_mol(value_cm3_mol):
    """cm³/mol to m³/mol."""
    return value_cm3_mol * 1e-6
