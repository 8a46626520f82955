"""Options shared by several commands (design, model) and the usage-error type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.registry import KINDS, make_design, suggest
from templater.geometry.surfaces import SURFACES, Surface, parameter_specs
from templater.jobs.model import ModelInputs, model_inputs
from templater.jobs.presets import load_preset, preset_names

__all__ = ["UsageFail", "design_options", "build_design", "design_from_cli", "model_options",
           "model_from_cli", "apply_options"]

DESIGN_KEYS = ("height_um", "period_um", "form", "top_fraction", "edge_radius_um", "invert")


class UsageFail(click.ClickException):
    """A one-line usage error with exit status 2."""

    exit_code = 2


def _spec_help(kind_field: str) -> str:
    """Help text from the surface definition: range, unit and the kinds that use it."""
    parts, kinds = "", []
    for kind, cls in SURFACES.items():
        spec = parameter_specs(cls).get(kind_field)
        if spec is None:
            continue
        kinds.append(kind)
        if not parts:
            if "choices" in spec:
                parts = f"{spec['help']}"
            else:
                lo, hi = spec["range"]
                lo_open, hi_open = spec.get("open", (False, False))
                rng = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
                unit = f" {spec['unit']}" if spec["unit"] else ""
                parts = f"{spec['help']}, {rng}{unit}"
    return f"{parts} ({', '.join(kinds)})"


_DESIGN_FLAGS = {
    "height_um": "--H",
    "period_um": "--S",
    "form": "--form",
    "top_fraction": "--top-fraction",
    "edge_radius_um": "--edge-radius",
}


def apply_options(decorators: list[Callable[..., Any]],
                  func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply click option decorators in listed order (first listed = first in --help)."""
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def design_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """KIND argument, --preset and the design parameters, shared by ``make`` and ``predict``."""
    opts = [
        click.argument("kind", required=False, metavar="[KIND]"),
        click.option("--preset", "preset", metavar="NAME",
                     help="Named design from templates/designs (see `templater list`); "
                          "explicit flags override its values."),
        click.option("--H", "height_um", type=float,
                     help="Peak-to-trough height H, (0, 280] um, H/S <= 2."),
        click.option("--S", "period_um", type=float,
                     help="Lateral period S (peak separation), [2, 5000] um."),
        click.option("--form", "form", type=str, help="Egg-box variant: product (default) | sum."),
        click.option("--top-fraction", "top_fraction", type=float,
                     help=_spec_help("top_fraction") + "; default 0.5."),
        click.option("--edge-radius", "edge_radius_um", type=float,
                     help=_spec_help("edge_radius_um") + "; default 0."),
        click.option("--invert", "invert", is_flag=True, default=None,
                     help="Opposite relief: electrolyte pits instead of peaks (e -> H - e)."),
    ]
    return apply_options(opts, func)


def build_design(kind: str | None, preset: str | None, values: dict[str, Any]) -> Surface:
    """Design from a preset and/or a kind plus explicit flag values (usage errors on misuse)."""
    params: dict[str, Any] = {}
    if preset is not None:
        try:
            base = load_preset(preset).design
        except DesignError as exc:
            names = preset_names()
            raise UsageFail(f"unknown preset {preset!r}{suggest(preset, names)}; "
                            "`templater list` shows the presets") from exc
        if kind is not None and kind != base.kind:
            raise UsageFail(f"preset {preset!r} is a {base.kind} design, not {kind!r}")
        kind = base.kind
        params = {k: v for k, v in base.to_dict().items() if k not in ("kind", "H_um", "S_um")}
        if kind != "flat":
            params["height_um"] = base.height_um
        params["period_um"] = base.period_um
    if kind is None:
        raise UsageFail(f"give a design KIND ({' | '.join(KINDS)}) or --preset NAME")
    if kind not in SURFACES:
        raise UsageFail(f"unknown design kind {kind!r}{suggest(kind, KINDS)}; "
                        f"allowed: {' | '.join(KINDS)}")
    specs = parameter_specs(SURFACES[kind])
    for name, value in values.items():
        if value is None:
            continue
        if name != "invert" and name not in specs:
            raise UsageFail(f"{_DESIGN_FLAGS[name]} does not apply to {kind} designs")
        params[name] = value
    required = {f.name for f in dataclasses.fields(SURFACES[kind])
                if f.default is dataclasses.MISSING}
    missing = [f for f in ("height_um", "period_um") if f in required and f not in params]
    if missing:
        raise UsageFail(f"{kind} needs " + " and ".join(_DESIGN_FLAGS[m] for m in missing)
                        + " (micrometres), or --preset NAME")
    try:
        return make_design(kind, **params)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Material, creep and dendrite overrides (CLI units), shared by predict/make/calibrate."""
    opts = [
        click.option("--kappa", "kappa_ms_cm", type=float,
                     help="Electrolyte conductivity, mS/cm (default 2)."),
        click.option("--i0", "i0_ma_cm2", type=float,
                     help="Exchange current density, mA/cm^2 (default 2)."),
        click.option("--alpha-a", "alpha_a", type=float, help="Anodic transfer coefficient "
                     "(default 0.5)."),
        click.option("--alpha-c", "alpha_c", type=float, help="Cathodic transfer coefficient "
                     "(default 0.5)."),
        click.option("--temperature", "temperature_k", type=float,
                     help="Temperature, K (default 298.15)."),
        click.option("--creep-A", "creep_a", type=float,
                     help="Li creep prefactor A, s^-1 MPa^-n (default 4.25e4, LePage 2019)."),
        click.option("--creep-n", "creep_n", type=float,
                     help="Li creep stress exponent n (default 6.56)."),
        click.option("--creep-Q", "creep_q_kj_mol", type=float,
                     help="Li creep activation energy, kJ/mol (default 37)."),
        click.option("--stack-pressure", "stack_pressure_mpa", type=float,
                     help="Stack pressure, MPa (default 7)."),
        click.option("--slip", "slip", type=click.Choice(["noslip", "freeslip"]),
                     help="Li/electrolyte interface for creep: bonded (default) or free slip."),
        click.option("--flat-ccd", "flat_ccd_ma_cm2", type=float,
                     help="Measured critical current of a flat interface J_flat, mA/cm^2 "
                          "(default 1.0, a placeholder)."),
        click.option("--pressure-margin", "pressure_margin_mpa", type=float,
                     help="Dendrite pressure margin dP_margin = P_c - p_stack, MPa (default "
                          "6.67, calibrated by examples/calibrate_defaults.py)."),
        click.option("--growth-exponent", "growth_exponent", type=float,
                     help="Dendrite growth exponent n_g (default 2, calibrated by "
                          "examples/calibrate_defaults.py)."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path),
                     help="Calibration TOML written by `templater calibrate`."),
    ]
    return apply_options(opts, func)


MODEL_KEYS = ("kappa_ms_cm", "i0_ma_cm2", "alpha_a", "alpha_c", "temperature_k", "creep_a",
              "creep_n", "creep_q_kj_mol", "stack_pressure_mpa", "slip", "flat_ccd_ma_cm2",
              "pressure_margin_mpa", "growth_exponent", "calibration")


def model_from_cli(kw: dict[str, Any]) -> ModelInputs:
    """Model inputs from the values of :func:`model_options`, removed from ``kw``."""
    try:
        return model_inputs(**{k: kw.pop(k) for k in MODEL_KEYS})
    except TemplaterError as exc:
        raise UsageFail(str(exc)) from exc


def design_from_cli(kw: dict[str, Any]) -> Surface:
    """The design from the values of :func:`design_options`, removed from ``kw``."""
    return build_design(kw.pop("kind"), kw.pop("preset"), {k: kw.pop(k) for k in DESIGN_KEYS})
