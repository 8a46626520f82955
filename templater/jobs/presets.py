"""Named design presets (the paper's designs) and printer profiles, loaded from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from templater.fab.printer import PrinterProfile
from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.registry import make_design, suggest
from templater.geometry.surfaces import Surface
from templater.jobs.resources import data_dir

__all__ = [
    "Preset",
    "preset_names",
    "load_preset",
    "printer_names",
    "load_printer",
    "DEFAULT_PRINTER",
]

DEFAULT_PRINTER = "nanoscribe-gt-25x-ips-dill"


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """A named design with its provenance (which figure of the paper)."""

    name: str
    provenance: str
    design: Surface


def _folder(sub: str, root: Path | Traversable | None) -> Traversable:
    return (Path(root) if root is not None else data_dir()) / sub


def _names(sub: str, root: Path | Traversable | None) -> list[str]:
    folder = _folder(sub, root)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def _read(sub: str, name: str, what: str, root: Path | Traversable | None) -> dict[str, Any]:
    names = _names(sub, root)
    if name not in names:
        raise DesignError(what, "name", what, name, " | ".join(names) + suggest(name, names), "")
    try:
        return tomllib.loads((_folder(sub, root) / f"{name}.toml").read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TemplaterError(f"{what} {name!r}: malformed TOML: {exc}") from exc


def preset_names(root: Path | None = None) -> list[str]:
    """Names of the shipped design presets (``templates/designs/*.toml``)."""
    return _names("designs", root)


def load_preset(name: str, root: Path | None = None) -> Preset:
    """Load a design preset by name, e.g. ``eggbox-H25S150``."""
    data = _read("designs", name, "preset", root)
    params = dict(data["design"])
    design = make_design(params.pop("kind"), **params)
    return Preset(name=data.get("name", name), provenance=data.get("provenance", ""),
                  design=design)


def printer_names(root: Path | None = None) -> list[str]:
    """Names of the shipped printer profiles (``templates/printers/*.toml``)."""
    return _names("printers", root)


# printer-profile field → (TOML table, key); the ranges are declared in
# templater.geometry.parameters and checked by PrinterProfile itself
_PRINTER_KEYS: dict[str, tuple[str, str]] = {
    "slice_um": ("slicing", "slice_um"), "anchor_um": ("slicing", "anchor_um"),
    "hatch_um": ("filling", "hatch_um"), "contour_count": ("filling", "contour_count"),
    "hatch_angle_deg": ("filling", "hatch_angle_deg"),
    "hatch_angle_offset_deg": ("filling", "hatch_angle_offset_deg"),
    "fill_mode": ("filling", "mode"),
    "field_diameter_um": ("stitching", "field_diameter_um"),
    "field_z_um": ("stitching", "field_z_um"), "block_max_um": ("stitching", "block_max_um"),
    "block_overlap_um": ("stitching", "block_overlap_um"),
    "shear_angle_deg": ("stitching", "shear_angle_deg"),
    "block_order": ("stitching", "block_order"),
    "field_margin_um": ("stitching", "field_margin_um"),
    "backlash_overshoot_um": ("stitching", "backlash_overshoot_um"),
    "max_points_per_write": ("stitching", "max_points_per_write"),
    "laser_power_percent": ("exposure", "laser_power_percent"),
    "power_scaling": ("exposure", "power_scaling"),
    "scan_speed_um_s": ("exposure", "scan_speed_um_s"),
    "find_interface_at_um": ("exposure", "find_interface_at_um"),
    "galvo_acceleration": ("exposure", "galvo_acceleration"),
    "piezo_settling_time": ("exposure", "piezo_settling_time"),
    "stage_velocity_um_s": ("exposure", "stage_velocity_um_s"),
    "voxel_lateral_um": ("voxel", "lateral_um"), "voxel_axial_um": ("voxel", "axial_um"),
    "voxel_edge_radius_um": ("voxel", "edge_radius_um"),
    "line_overhead_s": ("timing", "line_overhead_s"),
    "layer_overhead_s": ("timing", "layer_overhead_s"),
    "block_overhead_s": ("timing", "block_overhead_s"),
}


def load_printer(name: str = DEFAULT_PRINTER, root: Path | None = None) -> PrinterProfile:
    """Load a printer profile by name (every value checked against its declared range)."""
    d = _read("printers", name, "printer", root)
    try:
        values = {field: d[table][key] for field, (table, key) in _PRINTER_KEYS.items()}
        return PrinterProfile(name=d["name"], description=d["description"], **values)
    except KeyError as exc:
        raise TemplaterError(f"printer profile {name!r}: missing key {exc}") from exc
