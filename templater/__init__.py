"""templater: printable templates for contoured Li / solid-electrolyte interfaces.

Layers: :mod:`templater.geometry` (the one surface definition, parameters, units, errors),
:mod:`solver` (field, creep, dendrite prediction), :mod:`templater.fab` (mesh, STL, GWL),
:mod:`templater.jobs` (presets, printer profiles, job folders, workflows) and
:mod:`templater.cli`. Importing ``templater`` loads only the geometry layer; the preset and
printer functions below load :mod:`templater.jobs` on first use.
"""

from importlib import import_module
from typing import Any

__version__ = "0.1.0"
from templater.geometry import (
    KINDS,
    SURFACES,
    DesignError,
    EggBox,
    Flat,
    FrustumArray,
    OutputExistsError,
    PyramidArray,
    Surface,
    TemplaterError,
    design_from_dict,
    make_design,
)

_LAZY = {name: "templater.jobs.presets"
         for name in ("load_preset", "preset_names", "load_printer", "printer_names")}

__all__ = [
    "__version__",
    "Surface",
    "Flat",
    "EggBox",
    "PyramidArray",
    "FrustumArray",
    "SURFACES",
    "KINDS",
    "make_design",
    "design_from_dict",
    "TemplaterError",
    "DesignError",
    "OutputExistsError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'templater' has no attribute {name!r}")
