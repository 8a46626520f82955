"""Locate the shipped data folder (``templates/`` in the repository, packaged with the wheel)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Traversable:
    """``templates/`` of a source checkout, else the copy installed as ``templater._templates``."""
    source = Path(__file__).resolve().parents[2] / "templates"
    if (source / "designs").is_dir():
        return source
    return resources.files("templater._templates")
