"""Exception hierarchy: every error names what is wrong and what is allowed."""

from __future__ import annotations

import numbers

__all__ = ["TemplaterError", "DesignError", "OutputExistsError", "OutputError"]


class TemplaterError(Exception):
    """Root of all templater errors."""


class DesignError(TemplaterError, ValueError):
    """A parameter is outside its documented range (or not a number).

    Attributes name the design or parameter group ``kind``, the parameter ``name``, its CLI
    ``flag`` (empty for settings that are no CLI option, e.g. printer-profile keys), the
    offending ``value`` and the ``allowed`` range (text), both in ``unit`` (the flag's unit).
    """

    def __init__(
        self, kind: str, name: str, flag: str, value: object, allowed: str, unit: str
    ) -> None:
        self.kind, self.name, self.flag, self.value = kind, name, flag, value
        self.allowed, self.unit = allowed, unit
        unit_txt = f" {unit}" if unit else ""
        flag_txt = f" (--{flag})" if flag else ""
        super().__init__(
            f"{kind}: {name}{flag_txt} = {_show(value)}{unit_txt} is not allowed; "
            f"allowed: {allowed}{unit_txt}"
        )


def _show(value: object) -> str:
    """Numbers as the user would type them (``-1``, ``0.25``, ``nan``), anything else repr."""
    if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
        return repr(value)
    return f"{float(value):.6g}"


class OutputExistsError(TemplaterError, FileExistsError):
    """The output folder exists and ``overwrite`` was not requested."""


class OutputError(TemplaterError, OSError):
    """The output folder cannot be written."""
