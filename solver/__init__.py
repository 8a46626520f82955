"""Field (current distribution) solver for contoured Li / solid-electrolyte interfaces.

Public API: :func:`solve_field` (primary and secondary current on one periodic cell),
:class:`Materials` (SI parameters), :class:`FieldResult` / :class:`FieldPair` (results).
"""

from solver.field import solve_field
from solver.materials import Materials
from solver.results import FieldPair, FieldResult
from solver.spectral import UnsupportedSurfaceError

__all__ = [
    "solve_field",
    "Materials",
    "FieldResult",
    "FieldPair",
    "UnsupportedSurfaceError",
]
