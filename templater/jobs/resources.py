"""Locate the shipped data folder (``templates/``); the logic lives in :mod:`templater.geometry`."""

from __future__ import annotations

from templater.geometry.resources import data_dir

__all__ = ["data_dir"]
