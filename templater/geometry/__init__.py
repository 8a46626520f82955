"""The geometry layer: the one parametric surface definition, design registry, units, errors.

Imports nothing else of the project; every other layer builds on it.
"""

from templater.geometry.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.geometry.registry import KINDS, design_class, design_from_dict, make_design
from templater.geometry.surfaces import (
    SURFACES,
    EggBox,
    Flat,
    FrustumArray,
    PyramidArray,
    Surface,
)

__all__ = [
    "Surface",
    "Flat",
    "EggBox",
    "PyramidArray",
    "FrustumArray",
    "SURFACES",
    "KINDS",
    "design_class",
    "make_design",
    "design_from_dict",
    "TemplaterError",
    "DesignError",
    "OutputError",
    "OutputExistsError",
]
