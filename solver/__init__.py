"""Field, creep and dendrite solvers for contoured Li / solid-electrolyte interfaces.

Public API: :func:`solve_field` (primary and secondary current on one periodic cell),
:class:`Materials`, :class:`FieldResult` / :class:`FieldPair` (and :class:`FieldSolution`, the
SI result of both field backends); :func:`solve_creep` with :class:`CreepParameters` and
:class:`CreepOptions` (Li creep → interfacial pressure); :func:`predict` (field + creep +
dendrite criterion → J*/J_flat) with :class:`DendriteConstants`; :func:`sweep`.
Every name loads on first use, so importing one light module (e.g. ``solver.materials``) does
not pull in scipy or scikit-fem.
"""

from importlib import import_module
from typing import Any

_LAZY = {
    "solve_field": "solver.field",
    "Materials": "solver.materials",
    "FieldResult": "solver.results",
    "FieldPair": "solver.results",
    "FieldSolution": "solver.results",
    "UnsupportedSurfaceError": "solver.spectral",
    "solve_creep": "solver.creep",
    "CreepResult": "solver.creep",
    "CreepOptions": "solver.creep",
    "CreepParameters": "solver.creep_params",
    "DendriteConstants": "solver.critical",
    "predict": "solver.prediction",
    "Prediction": "solver.prediction",
    "sweep": "solver.sweeps",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'solver' has no attribute {name!r}")
