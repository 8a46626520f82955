"""Stitching: split the footprint into square writing-field blocks aligned with the period.

Block pitch a: the largest whole number of periods that fits, or S/n when one period does not
fit (then n × n phases repeat). A block fits when its sheared, overlapped content stays inside
the usable circular field (the field diameter D less a margin m on each side):
a + overlap + Δz·tan θ ≤ (D − 2m)/√2 (the block diagonal inside the field, the Strudel.jl rule),
and a ≤ ``block_max_um``.

Writing order ("lexical", DeScribe's name for it): rows from bottom to top (+y), every row from
left to right (+x). Seam rule: at every shared seam the block written **later** overhangs the
block written **earlier** (dip-in writing: the beam comes from above, so a later block must never
be written underneath cured resin of an earlier one). With this order the shear leans against the
writing direction: at height z a block's window is its nominal square grown by overlap/2 on each
side and shifted by −z·tan θ in x and in y, so the window of the later (right or upper) block
grows over its earlier (left or lower) neighbour with height. Windows of the outermost
row/column reach to infinity on their outer side so the sheared windows still cover the
footprint edge. The field centre (stage position) of a block is its nominal centre shifted by
the shear at mid-height; block files use coordinates relative to it. Blocks with the same period
phase, the same outer sides and the same footprint clip are identical and share one file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import shapely

from templater.geometry.errors import TemplaterError

__all__ = ["StitchSettings", "Block", "BlockGrid", "choose_pitch_um", "plan_blocks"]

_FAR_UM = 1.0e7  # "infinity" for the outer sides of edge windows
_NM = 1000  # centres are kept in integer nanometres so stage moves sum to zero exactly


@dataclass(frozen=True, slots=True, kw_only=True)
class StitchSettings:
    """Writing-field and block settings (µm, degrees)."""

    field_diameter_um: float
    block_max_um: float
    overlap_um: float
    shear_angle_deg: float
    order: str = "lexical"
    field_margin_um: float = 0.0

    #: writing direction of rows (x) and of the row sequence (y); the shear leans against it
    WRITE_DIRECTION: ClassVar[tuple[int, int]] = (1, 1)

    def __post_init__(self) -> None:
        if self.order != "lexical":
            raise TemplaterError(f"block order {self.order!r} is not supported; allowed: lexical")
        if not 0.0 <= self.field_margin_um < 0.5 * self.field_diameter_um:
            raise TemplaterError(f"field margin {self.field_margin_um!r} um outside "
                                 f"[0, {0.5 * self.field_diameter_um:g})")
        if not 0.0 <= self.shear_angle_deg < 80.0:
            raise TemplaterError(f"shear angle {self.shear_angle_deg!r} deg outside [0, 80)")
        if not self.overlap_um >= 0.0:
            raise TemplaterError(f"block overlap {self.overlap_um!r} um must be >= 0")

    @property
    def shear_tan(self) -> float:
        """tan θ: lateral shift of block boundaries per µm of height."""
        return math.tan(math.radians(self.shear_angle_deg))

    @property
    def shear_direction(self) -> tuple[int, int]:
        """Signs of the window shift per µm of height in x and y (against the writing order)."""
        return (-self.WRITE_DIRECTION[0], -self.WRITE_DIRECTION[1])

    @property
    def usable_radius_um(self) -> float:
        """Field radius less the margin: no written point lies farther from the field centre."""
        return 0.5 * self.field_diameter_um - self.field_margin_um


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One placement of a block.

    Attributes
    ----------
    index : int
        Placement number in writing order, 1-based.
    grid : (int, int)
        Column i and row j.
    nominal_um : (x0, y0, x1, y1)
        The unsheared, non-overlapped square at z = 0, µm.
    centre_nm : (int, int)
        Field centre (stage position) in integer nanometres.
    outer : (bool, bool, bool, bool)
        Left, bottom, right and top sides reach to infinity.
    key : tuple
        Equal keys mean identical content (one shared block file).
    """

    index: int
    grid: tuple[int, int]
    nominal_um: tuple[float, float, float, float]
    centre_nm: tuple[int, int]
    outer: tuple[bool, bool, bool, bool]
    key: tuple

    @property
    def centre_um(self) -> tuple[float, float]:
        """Field centre, µm."""
        return (self.centre_nm[0] / _NM, self.centre_nm[1] / _NM)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockGrid:
    """The block layout of a footprint."""

    pitch_um: float
    phases: int
    shape: tuple[int, int]
    settings: StitchSettings
    z_range_um: tuple[float, float]
    blocks: tuple[Block, ...]

    def window(self, block: Block, z_um: float) -> shapely.Polygon:
        """The block's window at height ``z_um`` (global µm)."""
        x0, y0, x1, y1 = block.nominal_um
        h = 0.5 * self.settings.overlap_um
        sx, sy = self.settings.shear_direction
        dx = sx * z_um * self.settings.shear_tan
        dy = sy * z_um * self.settings.shear_tan
        left, bottom, right, top = block.outer
        return shapely.box(-_FAR_UM if left else x0 - h + dx, -_FAR_UM if bottom else y0 - h + dy,
                           _FAR_UM if right else x1 + h + dx, _FAR_UM if top else y1 + h + dy)

    def hull(self, block: Block) -> shapely.Polygon:
        """Bounding box of the block's windows over all layer heights."""
        a = self.window(block, self.z_range_um[0]).bounds
        b = self.window(block, self.z_range_um[1]).bounds
        return shapely.box(min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def choose_pitch_um(period_um: float, z_span_um: float,
                    settings: StitchSettings) -> tuple[float, int]:
    """Block pitch (µm) and the number of phases per period (1 when a ≥ S).

    Raises
    ------
    TemplaterError
        If no block fits the field with this overlap, shear and height.
    """
    a_max = min(settings.block_max_um,
                2.0 * settings.usable_radius_um / math.sqrt(2.0) - settings.overlap_um
                - z_span_um * settings.shear_tan)
    if a_max < 1.0:
        raise TemplaterError(
            f"no block fits the {settings.field_diameter_um:g} um field (margin "
            f"{settings.field_margin_um:g} um) with overlap "
            f"{settings.overlap_um:g} um and shear {settings.shear_angle_deg:g} deg over "
            f"{z_span_um:g} um of height; reduce the shear angle or the overlap")
    if period_um <= a_max:
        return math.floor(a_max / period_um + 1e-9) * period_um, 1
    n = math.ceil(period_um / a_max - 1e-9)
    return period_um / n, n


def plan_blocks(footprint: shapely.Polygon, *, period_um: float, z_range_um: tuple[float, float],
                settings: StitchSettings) -> BlockGrid:
    """Blocks covering ``footprint`` (whose bounding box starts at the lattice origin).

    Parameters
    ----------
    footprint : shapely.Polygon
        Printed area, µm.
    period_um : float
        Lattice period S, µm; block boundaries lie on multiples of the pitch from x = y = 0.
    z_range_um : (float, float)
        Lowest and highest layer heights, µm.
    settings : StitchSettings
        Field, block size, overlap, shear and order.
    """
    z0, z1 = z_range_um
    pitch, phases = choose_pitch_um(period_um, z1 - z0, settings)
    bx0, by0, bx1, by1 = footprint.bounds
    nx = max(1, math.ceil(bx1 / pitch - 1e-9))
    ny = max(1, math.ceil(by1 / pitch - 1e-9))
    zc = 0.5 * (z0 + z1)
    shift_x = settings.shear_direction[0] * zc * settings.shear_tan
    shift_y = settings.shear_direction[1] * zc * settings.shear_tan
    is_box = bool(shapely.equals(footprint, footprint.envelope))
    grid = BlockGrid(pitch_um=pitch, phases=phases, shape=(nx, ny), settings=settings,
                     z_range_um=z_range_um, blocks=())
    blocks: list[Block] = []
    for j in range(ny):  # rows bottom to top, each row left to right (lexical)
        for i in range(nx):
            nominal = (i * pitch, j * pitch, (i + 1) * pitch, (j + 1) * pitch)
            outer = (i == 0, j == 0, i == nx - 1, j == ny - 1)
            cx = round((0.5 * (nominal[0] + nominal[2]) + shift_x) * _NM)
            cy = round((0.5 * (nominal[1] + nominal[3]) + shift_y) * _NM)
            probe = Block(index=0, grid=(i, j), nominal_um=nominal, centre_nm=(cx, cy),
                          outer=outer, key=())
            hull = grid.hull(probe)
            clip = shapely.intersection(footprint, hull)
            if clip.is_empty or clip.area <= 0:
                continue
            if shapely.contains(footprint, hull):
                cut: tuple = ("inside",)
            elif is_box:
                b = np.round(np.asarray(clip.bounds) - [cx / _NM, cy / _NM] * 2, 6)
                cut = ("box", *b.tolist())
            else:
                cut = ("cut", i, j)
            key = (i % phases, j % phases, outer, cut)
            blocks.append(Block(index=len(blocks) + 1, grid=(i, j), nominal_um=nominal,
                                centre_nm=(cx, cy), outer=outer, key=key))
    if not blocks:
        raise TemplaterError("the footprint is empty: nothing to write")
    return BlockGrid(pitch_um=pitch, phases=phases, shape=(nx, ny), settings=settings,
                     z_range_um=z_range_um, blocks=tuple(blocks))
