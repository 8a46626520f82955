"""Map design kinds to classes and build designs from mappings, with "did you mean" hints."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from templater.geometry.errors import DesignError
from templater.geometry.surfaces import SURFACES, Surface

__all__ = ["KINDS", "design_class", "make_design", "design_from_dict", "suggest"]

KINDS: tuple[str, ...] = tuple(SURFACES)
_ALIASES = {"H_um": "height_um", "S_um": "period_um"}


def suggest(word: str, options: list[str] | tuple[str, ...]) -> str:
    """' (did you mean …?)' for the closest options, or ''."""
    close = difflib.get_close_matches(str(word), list(options), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def design_class(kind: str) -> type[Surface]:
    """The design class of ``kind`` (flat, eggbox, pyramid, frustum)."""
    try:
        return SURFACES[kind]
    except KeyError:
        raise DesignError("design", "kind", "kind", kind, " | ".join(KINDS) + suggest(kind, KINDS),
                          "") from None


def make_design(kind: str, **params: Any) -> Surface:
    """Build a validated design; unknown parameter names are errors."""
    cls = design_class(kind)
    names = [f.name for f in fields(cls)]
    for key in params:
        if key not in names:
            raise DesignError(kind, key, key.replace("_", "-"), params[key],
                              "one of the parameters " + ", ".join(names) + suggest(key, names),
                              "")
    return cls(**params)


def design_from_dict(data: Mapping[str, Any]) -> Surface:
    """Inverse of ``Surface.to_dict()`` (also accepts field names ``height_um``, ``period_um``)."""
    params = {_ALIASES.get(k, k): v for k, v in data.items() if k != "kind"}
    if data.get("kind") == "flat":
        params.pop("height_um", None)
    return make_design(str(data.get("kind")), **params)
