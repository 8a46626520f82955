"""Map design kinds to classes and build designs from mappings, with "did you mean" hints."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from templater.geometry.errors import DesignError
from templater.geometry.surfaces import SURFACES, Surface

__all__ = ["KINDS", "design_class", "make_design", "design_from_dict", "design_from_name",
           "suggest"]

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


_NUMBER = r"(\d+(?:\.\d*)?(?:e[-+]?\d+)?)"
_NAME = re.compile(rf"^(?P<kind>[a-z]+)(?P<choices>(?:-[a-z]+)*?)-H{_NUMBER}S{_NUMBER}"
                   rf"(?P<options>(?:-[a-z]+{_NUMBER})*)(?P<inv>-inv)?$")
_OPTION_SYMBOLS = {"t": "top_fraction", "r": "edge_radius_um"}


def design_from_name(name: str) -> Surface:
    """The design a name such as ``eggbox-sum-H25S150`` or ``pyramid-H25S150-r1-inv`` stands
    for (the inverse of ``Surface.name``); the name must read back exactly."""
    if name == "flat" or re.fullmatch(rf"flat-S{_NUMBER}", name):
        design = make_design("flat", **({"period_um": float(name[6:])} if name != "flat" else {}))
    else:
        m = _NAME.match(name)
        if m is None:
            raise DesignError("design", "name", "design", name,
                              "KIND[-FORM]-H<H>S<S>[-t<t>][-r<r>][-inv], e.g. eggbox-H25S150 "
                              "or pyramid-H25S150-r1", "")
        params: dict[str, Any] = {"height_um": float(m[3]), "period_um": float(m[4])}
        for choice in filter(None, m["choices"].split("-")):
            params["form"] = choice
        for symbol, value in re.findall(rf"-([a-z]+){_NUMBER}", m["options"]):
            if symbol not in _OPTION_SYMBOLS:
                raise DesignError("design", "name", "design", name,
                                  "options -t<top fraction>, -r<edge radius>", "")
            params[_OPTION_SYMBOLS[symbol]] = float(value)
        if m["inv"]:
            params["invert"] = True
        design = make_design(m["kind"], **params)
    if design.name != name:
        raise DesignError("design", "name", "design", name,
                          f"a name as templater writes it ({design.name!r} for that design)", "")
    return design
