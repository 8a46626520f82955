"""templater: printable templates for contoured Li / solid-electrolyte interfaces.

The library is light to import (no trimesh): the solver imports only the surface definition.
"""

from templater.errors import DesignError, OutputExistsError, TemplaterError
from templater.presets import load_preset, load_printer, preset_names, printer_names
from templater.registry import KINDS, design_from_dict, make_design
from templater.surfaces import SURFACES, EggBox, Flat, FrustumArray, PyramidArray, Surface

__version__ = "0.1.0"

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
    "load_preset",
    "preset_names",
    "load_printer",
    "printer_names",
    "TemplaterError",
    "DesignError",
    "OutputExistsError",
]
