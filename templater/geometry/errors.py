"""Exception hierarchy: every error names what is wrong and what is allowed."""

from __future__ import annotations

__all__ = ["TemplaterError", "DesignError", "OutputExistsError", "OutputError"]


class TemplaterError(Exception):
    """Root of all templater errors."""


class DesignError(TemplaterError, ValueError):
    """A design parameter is outside its documented range (or not a number).

    Attributes name the design ``kind``, the parameter ``name``, its CLI ``flag``, the
    offending ``value``, the ``allowed`` range (text) and the ``unit``.
    """

    def __init__(
        self, kind: str, name: str, flag: str, value: object, allowed: str, unit: str
    ) -> None:
        self.kind, self.name, self.flag, self.value = kind, name, flag, value
        self.allowed, self.unit = allowed, unit
        unit_txt = f" {unit}" if unit else ""
        super().__init__(
            f"{kind}: {name} (--{flag}) = {value!r}{unit_txt} is not allowed; "
            f"allowed: {allowed}{unit_txt}"
        )


class OutputExistsError(TemplaterError, FileExistsError):
    """The output folder exists and ``overwrite`` was not requested."""


class OutputError(TemplaterError, OSError):
    """The output folder cannot be written."""
