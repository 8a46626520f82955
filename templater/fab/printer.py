"""The printer profile: slicing, filling, stitching, exposure and timing settings of one printer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from templater.geometry.errors import TemplaterError
from templater.geometry.parameters import declare, validate_fields

__all__ = ["PrinterProfile"]


def _declare_with(name: str, value: Any) -> Any:
    """Like :func:`declare`, with a fallback ``value`` for profiles that do not set ``name``
    (the shipped profile sets it, with its source, in ``templates/printers/``)."""
    return field(default=value, metadata={"parameter": name, "nullable": False})


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
    field_margin_um: float = _declare_with("field_margin_um", 10.0)
    backlash_overshoot_um: float = _declare_with("backlash_overshoot_um", 20.0)
    max_points_per_write: int = _declare_with("max_points_per_write", 200)
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
        # one z convention: layers start at z = 0 and FindInterfaceAt puts the interface at
        # z = find_interface_at_um, so the first layer lies anchor_um inside the substrate
        if abs(self.anchor_um - self.find_interface_at_um) > 1e-9:
            raise TemplaterError(
                f"printer profile {self.name!r}: anchor_um = {self.anchor_um:g} um must equal "
                f"find_interface_at_um = {self.find_interface_at_um:g} um (layers start at "
                "z = 0; FindInterfaceAt alone sinks the first layer into the substrate)")
        if self.field_margin_um >= 0.5 * self.field_diameter_um:
            raise TemplaterError(
                f"printer profile {self.name!r}: field_margin_um = {self.field_margin_um:g} um "
                f"leaves no usable field (radius {0.5 * self.field_diameter_um:g} um)")

    @property
    def usable_field_radius_um(self) -> float:
        """Field radius less the margin: the farthest any written point may lie from the
        field centre, µm."""
        return 0.5 * self.field_diameter_um - self.field_margin_um

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy of every setting."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
