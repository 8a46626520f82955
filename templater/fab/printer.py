"""The printer profile: slicing, filling, stitching, exposure and timing settings of one printer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from templater.geometry.parameters import declare, validate_fields

__all__ = ["PrinterProfile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterProfile:
    """Printer settings for slicing, filling, stitching, exposure and print-time estimates.

    Lengths µm, speeds µm/s, times s, angles degrees, power %. Sources in the TOML file;
    ranges declared in :mod:`templater.geometry.parameters` (checked on construction).
    """

    name: str
    description: str
    slice_um: float = declare("slice_um")
    anchor_um: float = declare("anchor_um")
    hatch_um: float = declare("hatch_um")
    contour_count: int = declare("contour_count")
    hatch_angle_deg: float = declare("hatch_angle_deg")
    hatch_angle_offset_deg: float = declare("hatch_angle_offset_deg")
    fill_mode: str = declare("fill_mode")
    field_diameter_um: float = declare("field_diameter_um")
    field_z_um: float = declare("field_z_um")
    block_max_um: float = declare("block_max_um")
    block_overlap_um: float = declare("block_overlap_um")
    shear_angle_deg: float = declare("shear_angle_deg")
    block_order: str = declare("block_order")
    laser_power_percent: float = declare("laser_power_percent")
    power_scaling: float = declare("power_scaling")
    scan_speed_um_s: float = declare("scan_speed_um_s")
    find_interface_at_um: float = declare("find_interface_at_um")
    galvo_acceleration: float = declare("galvo_acceleration")
    piezo_settling_time: float = declare("piezo_settling_time")
    stage_velocity_um_s: float = declare("stage_velocity_um_s")
    voxel_lateral_um: float = declare("voxel_lateral_um")
    voxel_axial_um: float = declare("voxel_axial_um")
    voxel_edge_radius_um: float = declare("voxel_edge_radius_um")
    line_overhead_s: float = declare("line_overhead_s")
    layer_overhead_s: float = declare("layer_overhead_s")
    block_overhead_s: float = declare("block_overhead_s")

    def __post_init__(self) -> None:
        validate_fields(self, f"printer profile {self.name!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy of every setting."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
