"""The one parameter system: every physical and printing parameter is declared here once.

A :class:`Parameter` states the name (the field name of the code that holds the value), the CLI
flag, the symbol, the unit of the held value, the CLI unit and scale, the allowed range
(open/closed ends) or choices, and the help text. :func:`check` is the only range validation of
the project: designs, footprint, mesh options, materials, creep, dendrite constants and printer
profiles validate through it, and every error names the flag and gives the value and the range in
the flag's own unit (``--flat-ccd = -1 mA/cm^2``, never ``-10 A/m^2``).

Held units are SI, except the geometry lengths, which the project holds in micrometres (see
:mod:`templater.geometry.units`); ranges are declared in the CLI unit, as the user reads them.

The default values and their sources are data, not code: ``templates/parameters/default.toml``
(one table per parameter, ``value`` in the held unit and a ``source`` citation), loaded once by
:func:`default_set`.
"""

from __future__ import annotations

import math
import numbers
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.resources import data_dir
from templater.geometry.units import CM3_MOL, KJ_MOL, MA_CM2, MPA, MS_CM, UM

__all__ = [
    "Parameter",
    "PARAMETERS",
    "Default",
    "check",
    "from_cli",
    "to_cli",
    "declare",
    "validate_fields",
    "default_set",
    "default_value",
    "help_text",
]

INF = math.inf


@dataclass(frozen=True, slots=True)
class Parameter:
    """Declaration of one parameter.

    ``unit`` is the unit of the value held by the code (SI; µm for geometry lengths),
    ``cli_scale`` the held value of one CLI unit (e.g. 10 A/m² per mA/cm²). ``low``/``high``
    are in the CLI unit; ``kind`` is ``number``, ``integer`` or ``choice``. An empty ``flag``
    marks a setting that is no CLI option (printer-profile keys).
    """

    name: str
    flag: str
    symbol: str
    unit: str
    help: str
    cli_unit: str | None = None  # None: same as ``unit``
    cli_scale: float = 1.0
    low: float = -INF
    high: float = INF
    low_open: bool = False
    high_open: bool = False
    kind: str = "number"
    choices: tuple[str, ...] = ()

    @property
    def flag_unit(self) -> str:
        """The unit the user types (the CLI unit)."""
        return self.unit if self.cli_unit is None else self.cli_unit

    @property
    def allowed(self) -> str:
        """Allowed range (CLI unit, without the unit) or choices, e.g. ``(0, 280]``."""
        if self.kind == "choice":
            return " | ".join(self.choices)
        return (f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                f"{')' if self.high_open else ']'}")

    def to_cli(self, value: float) -> float:
        """Held value → CLI unit."""
        return value if self.cli_scale == 1.0 else value / self.cli_scale

    def from_cli(self, value: float) -> float:
        """CLI-unit value → held unit (the same product as the :mod:`units` functions)."""
        return float(value) if self.cli_scale == 1.0 else float(value) * self.cli_scale

    def check(self, value: object, *, context: str, cli: bool = False) -> Any:
        """Validate ``value`` (held unit, or CLI unit if ``cli``); return it in the held unit
        (float, int for ``integer``, str for ``choice``). Raises :class:`DesignError`."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise DesignError(context, self.name, self.flag, value, self.allowed, "")
            return value
        unit = self.flag_unit
        ok_type = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if self.kind == "integer":
            ok_type = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if not ok_type:
            what = " (an integer)" if self.kind == "integer" else " (a number)"
            raise DesignError(context, self.name, self.flag, value, self.allowed + what, unit)
        v = float(value)  # type: ignore[arg-type]
        lo, hi = self.low, self.high
        if not cli and self.cli_scale != 1.0:  # compare in the held unit: bounds × scale
            lo, hi = lo * self.cli_scale, hi * self.cli_scale
        bad = (not math.isfinite(v) or v < lo or v > hi
               or (self.low_open and v == lo) or (self.high_open and v == hi))
        if bad:
            shown = v if cli else self.to_cli(v)
            # a held-unit field name (…_a_m2) next to a CLI-unit value would mislead: the symbol
            label = self.symbol if self.cli_unit is not None and self.symbol else self.name
            raise DesignError(context, label, self.flag, shown, self.allowed, unit)
        if self.kind == "integer":
            return int(value)  # type: ignore[call-overload]
        return self.from_cli(v) if cli else v


def _p(name: str, flag: str, symbol: str, unit: str, low: float, high: float, help: str,
       **kw: Any) -> Parameter:
    return Parameter(name=name, flag=flag, symbol=symbol, unit=unit, low=low, high=high,
                     help=help, **kw)


def _choice(name: str, flag: str, choices: tuple[str, ...], help: str) -> Parameter:
    return Parameter(name=name, flag=flag, symbol="", unit="", help=help, kind="choice",
                     choices=choices)


_DECLARED: tuple[Parameter, ...] = (
    # --- design (templater.geometry.surfaces) -------------------------------------------------
    _p("height_um", "H", "H", "um", 0.0, 280.0, "peak-to-trough height H",
       low_open=True),
    _p("period_um", "S", "S", "um", 2.0, 5000.0, "lateral period S (peak separation)"),
    _choice("form", "form", ("product", "sum"), "egg-box variant"),
    _p("top_fraction", "top-fraction", "t", "", 0.0, 1.0, "top side / base side t",
       high_open=True),
    _p("edge_radius_um", "edge-radius", "r", "um", 0.0, 1250.0,
       "edge radius r rounding apexes, rims, hips and grooves (0 = sharp; at most S/4)"),
    # --- template solid (templater.fab.mesh) --------------------------------------------------
    _choice("shape", "footprint", ("square", "circle"), "footprint shape"),
    _p("size_um", "size", "L", "um", 10.0, 100_000.0,
       "footprint side (square) or diameter (circle)"),
    _p("base_um", "base", "b", "um", 0.5, 1000.0, "solid base-plate thickness"),
    _p("tolerance_um", "tolerance", "tol", "um", 0.001, 10.0,
       "max deviation of curved surfaces from the analytic one"),
    # --- materials (solver.materials) ---------------------------------------------------------
    _p("kappa_s_m", "kappa", "κ", "S/m", 0.0, 10_000.0, "electrolyte ionic conductivity",
       cli_unit="mS/cm", cli_scale=MS_CM, low_open=True),
    _p("i0_a_m2", "i0", "i0", "A/m^2", 0.0, 1e5, "exchange current density",
       cli_unit="mA/cm^2", cli_scale=MA_CM2, low_open=True),
    _p("kinetic_length_m", "", "L_k", "m", 0.0, INF, "kinetic length κ R_ct", cli_unit="um",
       cli_scale=UM, low_open=True, high_open=True),
    _p("alpha_a", "alpha-a", "α_a", "", 0.0, 1.0, "anodic transfer coefficient", low_open=True),
    _p("alpha_c", "alpha-c", "α_c", "", 0.0, 1.0, "cathodic transfer coefficient",
       low_open=True),
    _p("temperature_k", "temperature", "T", "K", 150.0, 453.65,
       "temperature (kinetics and Li creep; at most the Li melting point)"),
    # --- Li creep (solver.creep_params) -------------------------------------------------------
    _p("prefactor_s_mpa_n", "creep-A", "A", "s^-1 MPa^-n", 0.0, 1e15,
       "Li creep prefactor A (von Mises form)", low_open=True),
    _p("stress_exponent", "creep-n", "n", "", 1.0, 12.0, "Li creep stress exponent n"),
    _p("transition_stress_pa", "creep-transition-stress", "σ_t", "Pa", 0.0, 0.5,
       "Li creep transition stress σ_t = (A1/A)^(1/(n-1)) below which the linear (diffusional) "
       "term A1 σ of the creep law dominates (0 = pure power law)", cli_unit="MPa",
       cli_scale=MPA),
    _p("activation_energy_j_mol", "creep-Q", "Q", "J/mol", 0.0, 200.0,
       "Li creep activation energy Q", cli_unit="kJ/mol", cli_scale=KJ_MOL),
    _p("molar_volume_m3_mol", "molar-volume", "Ω", "m^3/mol", 0.0, 100.0,
       "molar volume of Li", cli_unit="cm^3/mol", cli_scale=CM3_MOL, low_open=True),
    _p("stack_pressure_pa", "stack-pressure", "p_stack", "Pa", 0.0, 1000.0, "stack pressure",
       cli_unit="MPa", cli_scale=MPA),
    _p("depth_factor", "creep-depth", "D/S", "S", 0.25, 10.0,
       "depth of the Li creep domain below the interface, in periods"),
    _choice("slip", "slip", ("noslip", "freeslip"),
            "Li/electrolyte interface for creep: bonded (noslip) or free slip"),
    _p("regularisation", "creep-regularisation", "ε̇0", "V0/S", 0.0, 0.1,
       "creep strain-rate regularisation", low_open=True),
    # --- dendrite criterion (solver.critical) -------------------------------------------------
    _p("flat_critical_current_a_m2", "flat-ccd", "J_flat", "A/m^2", 0.0, 1000.0,
       "measured critical current of a flat interface J_flat", cli_unit="mA/cm^2",
       cli_scale=MA_CM2, low_open=True),
    _p("pressure_margin_pa", "pressure-margin", "dP_margin", "Pa", 0.0, 100.0,
       "dendrite pressure margin dP_margin = P_c - p_stack", cli_unit="MPa", cli_scale=MPA,
       low_open=True),
    _p("growth_exponent", "growth-exponent", "n_g", "", 0.5, 20.0, "dendrite growth exponent n_g"),
    _choice("criterion", "criterion", ("fracture", "pressure_margin"),
            "dendrite criterion: K_I of a Li-filled tip crack with the electrolyte stress "
            "(fracture) or the v1 Li pressure margin (pressure_margin)"),
    _p("fracture_toughness_pa_m05", "fracture-toughness", "K_IC", "Pa m^1/2", 0.0, 10.0,
       "fracture toughness K_IC of the solid electrolyte", cli_unit="MPa m^1/2",
       cli_scale=MPA, low_open=True),
    _p("crack_size_m", "crack-size", "c", "m", 0.1, 1000.0,
       "depth c of the Li-filled surface crack at the Li tip", cli_unit="um", cli_scale=UM),
    # --- electrolyte stress (solver.electrolyte) ----------------------------------------------
    _p("poisson_ratio", "poisson-ratio", "ν", "", 0.0, 0.5, "Poisson ratio ν of the electrolyte",
       high_open=True),
    _choice("lateral_condition", "lateral", ("confined", "free"),
            "lateral condition of the pellet: held by its die (confined) or free"),
    _choice("kinetics", "kinetics", ("linear", "butler-volmer"),
            "kinetics of the tip current at J*: linearised or full Butler-Volmer"),
    # --- printer profile (templater.fab.printer; values and sources in templates/printers) ----
    _p("slice_um", "", "", "um", 0.0, 100.0, "slice distance", low_open=True),
    _p("anchor_um", "", "", "um", 0.0, 100.0, "first layer depth inside the substrate"),
    _p("hatch_um", "", "", "um", 0.0, 100.0, "hatching distance", low_open=True),
    Parameter(name="contour_count", flag="", symbol="", unit="", help="solid contour count",
              low=0, high=100, kind="integer"),
    _p("hatch_angle_deg", "", "", "deg", -360.0, 360.0, "hatching angle"),
    _p("hatch_angle_offset_deg", "", "", "deg", -360.0, 360.0, "per-layer hatch rotation"),
    _choice("fill_mode", "", ("solid",), "fill mode"),
    _p("field_diameter_um", "", "", "um", 0.0, INF, "writing field diameter", low_open=True),
    _p("field_z_um", "", "", "um", 0.0, INF, "piezo z range", low_open=True),
    _p("block_max_um", "", "", "um", 0.0, INF, "block size", low_open=True),
    _p("block_overlap_um", "", "", "um", 0.0, INF, "block overlap", high_open=True),
    _p("shear_angle_deg", "", "", "deg", 0.0, 90.0, "block shear angle", high_open=True),
    _choice("block_order", "", ("lexical",), "block order (rows +y, each row +x)"),
    _p("field_margin_um", "", "", "um", 0.0, INF, "margin inside the writing-field radius",
       high_open=True),
    _p("backlash_overshoot_um", "", "", "um", 0.0, 1000.0,
       "stage overshoot before approaching a block position from -x / -y"),
    Parameter(name="max_points_per_write", flag="", symbol="", unit="",
              help="most points in one Write", low=2, high=100_000, kind="integer"),
    _p("laser_power_percent", "", "", "%", 0.0, 100.0, "laser power", low_open=True),
    _p("power_scaling", "", "", "", 0.0, INF, "power scaling", low_open=True,
       high_open=True),
    _p("scan_speed_um_s", "", "", "um/s", 0.0, INF, "scan speed", low_open=True,
       high_open=True),
    _p("find_interface_at_um", "", "", "um", 0.0, INF, "interface finding offset",
       high_open=True),
    _p("galvo_acceleration", "", "", "", 0.0, INF, "galvo acceleration", low_open=True,
       high_open=True),
    _p("piezo_settling_time", "", "", "ms", 0.0, INF, "piezo settling time", high_open=True),
    _p("stage_velocity_um_s", "", "", "um/s", 0.0, INF, "stage velocity", low_open=True,
       high_open=True),
    _p("voxel_lateral_um", "", "", "um", 0.0, INF, "voxel lateral size", low_open=True,
       high_open=True),
    _p("voxel_axial_um", "", "", "um", 0.0, INF, "voxel axial size", low_open=True,
       high_open=True),
    _p("voxel_edge_radius_um", "", "", "um", 0.0, INF, "voxel edge radius", high_open=True),
    _p("line_overhead_s", "", "", "s", 0.0, INF, "time per written polyline", high_open=True),
    _p("layer_overhead_s", "", "", "s", 0.0, INF, "time per layer", high_open=True),
    _p("block_overhead_s", "", "", "s", 0.0, INF, "time per block", high_open=True),
)

PARAMETERS: MappingProxyType[str, Parameter] = MappingProxyType(
    {p.name: p for p in _DECLARED}
)


def check(name: str, value: object, *, context: str, cli: bool = False) -> Any:
    """Validate parameter ``name`` (held unit, or CLI unit if ``cli``); return the held value.

    The error (:class:`DesignError`) names ``context`` (a design kind or parameter group), the
    flag, and gives the value and the allowed range in the flag's unit.
    """
    return PARAMETERS[name].check(value, context=context, cli=cli)


def from_cli(name: str, value: object, *, context: str) -> Any:
    """Validate a CLI-unit value and return it in the held unit."""
    return check(name, value, context=context, cli=True)


def to_cli(name: str, value: float) -> float:
    """A held value of parameter ``name`` in its CLI unit."""
    return PARAMETERS[name].to_cli(value)


def declare(name: str, *, default: bool = False, nullable: bool = False) -> Any:
    """A dataclass field validated as parameter ``name`` by :func:`validate_fields`.

    ``default=True`` takes the default from the default parameter set; ``nullable`` lets
    ``None`` through (e.g. n_g = None means n_g = n).
    """
    meta = {"parameter": name, "nullable": nullable}
    if not default:
        return field(default=MISSING, metadata=meta)
    return field(default=default_value(name), metadata=meta)


def validate_fields(obj: Any, context: str) -> None:
    """Check every :func:`declare`-d field of a (frozen) dataclass; store the coerced value."""
    for f in fields(obj):
        name = f.metadata.get("parameter")
        if name is None:
            continue
        value = getattr(obj, f.name)
        if value is None and f.metadata.get("nullable"):
            continue
        object.__setattr__(obj, f.name, check(name, value, context=context))


@dataclass(frozen=True, slots=True)
class Default:
    """One entry of a parameter set: the value (held unit) and its source."""

    value: Any
    source: str


@lru_cache(maxsize=1)
def default_set() -> MappingProxyType[str, Default]:
    """The default parameter set, ``templates/parameters/default.toml`` (read once)."""
    text = (data_dir() / "parameters" / "default.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    out: dict[str, Default] = {}
    for name, entry in data.items():
        if name not in PARAMETERS:
            raise TemplaterError(f"default parameter set: unknown parameter {name!r}")
        if "value" not in entry or not entry.get("source"):
            raise TemplaterError(f"default parameter set: {name!r} needs value and source")
        if entry.get("unit", PARAMETERS[name].unit) != PARAMETERS[name].unit:
            raise TemplaterError(f"default parameter set: {name!r} must be given in "
                                 f"{PARAMETERS[name].unit!r}, not {entry['unit']!r}")
        value = check(name, entry["value"], context="default parameter set")
        out[name] = Default(value=value, source=str(entry["source"]))
    return MappingProxyType(out)


def default_value(name: str) -> Any:
    """Default of parameter ``name`` (held unit) from the default parameter set."""
    return default_set()[name].value


def help_text(name: str, *, default: bool = True) -> str:
    """CLI help: description, range and unit, default in the CLI unit (the sources are in the
    parameter set and the theory manual, too long for a help line)."""
    p = PARAMETERS[name]
    unit = f" {p.flag_unit}" if p.flag_unit else ""
    text = f"{p.help[:1].upper()}{p.help[1:]}, {p.allowed}{unit}"
    entry = default_set().get(name)
    if default and entry is not None:
        shown = entry.value if p.kind == "choice" else f"{p.to_cli(entry.value):.6g}{unit}"
        text += f"; default {shown}"
    return text + "."
