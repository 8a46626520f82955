"""(H, S) sweeps of the predicted critical current for one design kind."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from solver.creep_params import CreepParameters
from solver.critical import DendriteConstants
from solver.materials import Materials
from solver.prediction import predict
from templater.geometry.errors import DesignError
from templater.geometry.surfaces import Surface

__all__ = ["SweepResult", "sweep"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SweepResult:
    """Predictions on a grid (rows: heights, columns: periods); NaN where H/S is not allowed."""

    heights_um: NDArray[np.float64]
    periods_um: NDArray[np.float64]
    critical_current_ratio: NDArray[np.float64]
    max_current_ratio: NDArray[np.float64]
    max_excess_pressure_pa: NDArray[np.float64]
    area_ratio: NDArray[np.float64]
    pressure_source: NDArray[np.str_]
    solve_time_s: float

    def __post_init__(self) -> None:
        for name in ("heights_um", "periods_um", "critical_current_ratio", "max_current_ratio",
                     "max_excess_pressure_pa", "area_ratio", "pressure_source"):
            getattr(self, name).flags.writeable = False


def sweep(
    build: Callable[[float, float], Surface],
    heights_um: Sequence[float],
    periods_um: Sequence[float],
    materials: Materials | None = None,
    creep_params: CreepParameters | None = None,
    constants: DendriteConstants | None = None,
    *,
    max_aspect: float = 0.5,
    use_tables: bool = True,
) -> SweepResult:
    """J*/J_flat, m and Δp_max for every (H, S) with H/S ≤ ``max_aspect``.

    ``build(H_um, S_um)`` makes the design, e.g. ``lambda h, s: EggBox(height_um=h,
    period_um=s)``. Only the secondary field is solved (the primary is not needed for J*).
    """
    t0 = time.perf_counter()
    h = np.asarray(heights_um, float)
    s = np.asarray(periods_um, float)
    shape = (len(h), len(s))
    ratio, m, dp, area = (np.full(shape, np.nan) for _ in range(4))
    source = np.full(shape, "", dtype="<U8")
    for i, hh in enumerate(h):
        for j, ss in enumerate(s):
            if hh / ss > max_aspect:
                continue
            try:
                design = build(float(hh), float(ss))
            except DesignError:
                continue
            p = predict(design, materials, creep_params, constants, use_tables=use_tables,
                        primary=False)
            ratio[i, j], m[i, j] = p.critical_current_ratio, p.max_current_ratio
            dp[i, j], area[i, j] = p.max_excess_pressure_pa, p.field.area_ratio
            source[i, j] = p.pressure_source
    return SweepResult(heights_um=h, periods_um=s, critical_current_ratio=ratio,
                       max_current_ratio=m, max_excess_pressure_pa=dp, area_ratio=area,
                       pressure_source=source, solve_time_s=time.perf_counter() - t0)
