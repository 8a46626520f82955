"""Options shared by several commands (design, model) and the usage-error type."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.parameters import PARAMETERS, default_value, help_text
from templater.geometry.registry import KINDS, make_design, suggest
from templater.geometry.surfaces import SURFACES, Surface, parameter_specs
from templater.jobs.model import CLI_NAMES, ModelInputs, model_inputs
from templater.jobs.presets import load_preset, preset_names

__all__ = ["UsageFail", "design_options", "build_design", "design_from_cli", "model_options",
           "model_from_cli", "apply_options", "Number", "solid_options"]

DESIGN_KEYS = ("height_um", "period_um", "form", "top_fraction", "edge_radius_um", "invert")


class UsageFail(click.ClickException):
    """A one-line usage error with exit status 2."""

    exit_code = 2


def _spec_help(kind_field: str, extra: str = "") -> str:
    """Help text from the parameter registry: range, unit, default and the kinds that use it."""
    kinds = [kind for kind, cls in SURFACES.items() if kind_field in parameter_specs(cls)]
    text = help_text(kind_field, default=kind_field not in ("height_um", "period_um"))
    return f"{text[:-1]}{extra} ({', '.join(kinds)})."


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
        click.option("--H", "height_um", type=Number("height_um"),
                     help=_spec_help("height_um", ", H/S <= 2")),
        click.option("--S", "period_um", type=Number("period_um"), help=_spec_help("period_um")),
        click.option("--form", "form", type=str,
                     metavar="[" + "|".join(PARAMETERS["form"].choices) + "]",
                     help=_spec_help("form")),
        click.option("--top-fraction", "top_fraction", type=Number("top_fraction"),
                     help=_spec_help("top_fraction")),
        click.option("--edge-radius", "edge_radius_um", type=Number("edge_radius_um"),
                     help=_spec_help("edge_radius_um")),
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


class Number(click.ParamType):
    """A float option whose unparsable value is a one-line usage error naming the flag, the
    value, and the allowed range and unit of its parameter."""

    name = "float"

    def __init__(self, parameter: str) -> None:
        self.parameter = parameter

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> float:
        """``float(value)``, else a :class:`UsageFail`."""
        if isinstance(value, float):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            p = PARAMETERS[self.parameter]
            unit = f" {p.flag_unit}" if p.flag_unit else ""
            flag = param.opts[0] if param is not None and param.opts else f"--{p.flag}"
            raise UsageFail(f"{flag} = {value!r} is not a number; allowed: {p.allowed}{unit} "
                            f"(a plain number in {p.flag_unit or 'no unit'})") from None


def _model_option(key: str) -> Callable[..., Any]:
    """One model option generated from its parameter declaration (flag, range, unit, default)."""
    p = PARAMETERS[CLI_NAMES[key][0]]
    kind: Any = click.Choice(list(p.choices)) if p.kind == "choice" else Number(p.name)
    return click.option(f"--{p.flag}", key, type=kind, help=help_text(p.name))


def model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Material, creep and dendrite overrides (CLI units), shared by predict/make/calibrate."""
    opts = [_model_option(key) for key in CLI_NAMES]
    opts.append(click.option("--calibration", "calibration", type=click.Path(path_type=Path),
                             help="Calibration TOML written by `templater calibrate`."))
    return apply_options(opts, func)


MODEL_KEYS = (*CLI_NAMES, "calibration")


def model_from_cli(kw: dict[str, Any]) -> ModelInputs:
    """Model inputs from the values of :func:`model_options`, removed from ``kw``."""
    try:
        return model_inputs(**{k: kw.pop(k) for k in MODEL_KEYS})
    except TemplaterError as exc:
        raise UsageFail(str(exc)) from exc


def design_from_cli(kw: dict[str, Any]) -> Surface:
    """The design from the values of :func:`design_options`, removed from ``kw``."""
    return build_design(kw.pop("kind"), kw.pop("preset"), {k: kw.pop(k) for k in DESIGN_KEYS})


def solver_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--no-tables and --couple, shared by ``predict`` and ``sweep``."""
    return apply_options([
        click.option("--no-tables", is_flag=True,
                     help="Solve the creep problem even when a shipped table covers the design."),
        click.option("--couple", is_flag=True,
                     help="Iterate the pressure -> exchange-current coupling (Monroe-Newman; "
                          "slow)."),
    ], func)


def solid_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--base and --tolerance of the template solid, shared by ``make`` and ``dose-test``."""
    return apply_options([
        click.option("--base", "base_um", type=Number("base_um"),
                     default=default_value("base_um"), help=help_text("base_um")),
        click.option("--tolerance", "tolerance_um", type=Number("tolerance_um"),
                     default=default_value("tolerance_um"), help=help_text("tolerance_um")),
    ], func)
