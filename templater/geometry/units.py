"""The only unit conversion constants and functions of the project.

Geometry and the CLI are in micrometres; the solver is SI. Convert here, nowhere else.
"""

from __future__ import annotations

__all__ = ["UM", "MA_CM2", "MS_CM", "MPA", "KJ_MOL", "CM3_MOL", "um_to_m", "m_to_um",
           "a_m2_to_ma_cm2", "ma_cm2_to_a_m2", "ms_cm_to_s_m", "s_m_to_ms_cm", "pa_to_mpa",
           "mpa_to_pa", "kj_mol_to_j_mol", "cm3_mol_to_m3_mol"]

# SI value of one CLI unit (also the ``cli_scale`` of the parameters in
# :mod:`templater.geometry.parameters`)
UM = 1e-6  # metres per micrometre
MA_CM2 = 10.0  # A/m² per mA/cm²
MS_CM = 0.1  # S/m per mS/cm
MPA = 1e6  # Pa per MPa
KJ_MOL = 1e3  # J/mol per kJ/mol
CM3_MOL = 1e-6  # m³/mol per cm³/mol


def um_to_m(value_um):
    """Micrometres to metres."""
    return value_um * UM


def m_to_um(value_m):
    """Metres to micrometres."""
    return value_m / UM


def ma_cm2_to_a_m2(value_ma_cm2):
    """mA/cm² to A/m² (1 mA/cm² = 10 A/m²)."""
    return value_ma_cm2 * MA_CM2


def a_m2_to_ma_cm2(value_a_m2):
    """A/m² to mA/cm²."""
    return value_a_m2 / MA_CM2


def ms_cm_to_s_m(value_ms_cm):
    """mS/cm to S/m (1 mS/cm = 0.1 S/m)."""
    return value_ms_cm * MS_CM


def s_m_to_ms_cm(value_s_m):
    """S/m to mS/cm."""
    return value_s_m / MS_CM


def mpa_to_pa(value_mpa):
    """MPa to Pa."""
    return value_mpa * MPA


def pa_to_mpa(value_pa):
    """Pa to MPa."""
    return value_pa / MPA


def cm3_mol_to_m3_mol(value_cm3_mol):
    """cm³/mol to m³/mol."""
    return value_cm3_mol * CM3_MOL


def kj_mol_to_j_mol(value_kj_mol):
    """kJ/mol to J/mol."""
    return value_kj_mol * KJ_MOL
