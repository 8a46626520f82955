"""The printer profile: slicing, filling, stitching, exposure and timing settings of one printer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PrinterProfile"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PrinterProfile:
    """Printer settings for slicing, filling, stitching, exposure and print-time estimates.

    Lengths µm, speeds µm/s, times s, angles degrees, power %. Sources in the TOML file.
    """

    name: str
    description: str
    slice_um: float
    anchor_um: float
    hatch_um: float
    contour_count: int
    hatch_angle_deg: float
    hatch_angle_offset_deg: float
    fill_mode: str
    field_diameter_um: float
    field_z_um: float
    block_max_um: float
    block_overlap_um: float
    shear_angle_deg: float
    block_order: str
    laser_power_percent: float
    power_scaling: float
    scan_speed_um_s: float
    find_interface_at_um: float
    galvo_acceleration: float
    piezo_settling_time: float
    stage_velocity_um_s: float
    voxel_lateral_um: float
    voxel_axial_um: float
    voxel_edge_radius_um: float
    line_overhead_s: float
    layer_overhead_s: float
    block_overhead_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy of every setting."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
