"""The ``compare`` workflow: several designs side by side (prediction with errors, estimated
print time) and a bar chart of J*/J_flat with error bars."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from templater.fab.mesh import TemplateOptions
from templater.geometry.errors import DesignError
from templater.geometry.registry import design_from_name
from templater.geometry.surfaces import Surface
from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa
from templater.jobs.make import dry_run
from templater.jobs.model import ModelInputs, predict_design
from templater.jobs.outputs import atomic_output
from templater.jobs.presets import load_preset, preset_names

__all__ = ["ComparedDesign", "design_from_spec", "compare_designs", "write_bar_chart"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparedDesign:
    """One design of a comparison (user units: MPa, mA/cm², hours)."""

    design: Surface
    area_ratio: float
    max_current_ratio: float
    max_current_ratio_error: float
    max_excess_pressure_mpa: float
    max_excess_pressure_error_mpa: float
    critical_current_ratio: float
    critical_current_ratio_error: float
    critical_current_ma_cm2: float
    print_time_h: float | None  # default footprint; None when only estimated (pellet scale)
    notes: tuple[str, ...] = ()  # the prediction's notes (source of Π, known biases)

    @property
    def critical_current_error_ma_cm2(self) -> float:
        """Error of J* [mA/cm²] from that of J*/J_flat (J_flat as calibrated)."""
        return self.critical_current_ratio_error * self.critical_current_ma_cm2 / \
            self.critical_current_ratio


def design_from_spec(spec: str) -> Surface:
    """A preset name (``eggbox-H25S150``, ``flat``) or a design name as ``make`` writes it
    (``pyramid-H30S100-r1``, ``eggbox-sum-H25S150-inv``)."""
    if spec in preset_names():
        return load_preset(spec).design
    try:
        return design_from_name(spec)
    except DesignError as exc:
        raise DesignError("compare", "design", "design", spec,
                          "a preset (see `templater list`) or a design name such as "
                          f"pyramid-H30S100-r1; here: {exc.allowed}", "") from None


def compare_designs(designs: Sequence[Surface], *, model: ModelInputs,
                    print_time: bool = True,
                    on_design: Callable[[ComparedDesign], None] | None = None
                    ) -> list[ComparedDesign]:
    """Predict every design (and plan its default job for the print time)."""
    rows = []
    for design in designs:
        pred = predict_design(design, model)
        hours = None
        if print_time:
            plan = dry_run(design, TemplateOptions.for_design(design), out_format="gwl").plan
            hours = None if plan is None else plan.estimate.total_s / 3600.0
        sec = pred.field.secondary
        row = ComparedDesign(
            design=design, area_ratio=pred.field.area_ratio,
            max_current_ratio=pred.max_current_ratio,
            max_current_ratio_error=abs(sec.error_estimate) * pred.max_current_ratio,
            max_excess_pressure_mpa=pa_to_mpa(pred.max_excess_pressure_pa),
            max_excess_pressure_error_mpa=pa_to_mpa(pred.max_excess_pressure_error_pa),
            critical_current_ratio=pred.critical_current_ratio,
            critical_current_ratio_error=pred.critical_current_ratio_error,
            critical_current_ma_cm2=a_m2_to_ma_cm2(pred.critical_current_a_m2),
            print_time_h=hours, notes=pred.notes)
        rows.append(row)
        if on_design is not None:
            on_design(row)
    return rows


def write_bar_chart(rows: Sequence[ComparedDesign], path: Path, *,
                    overwrite: bool = False) -> Path:
    """Bar chart of J*/J_flat with error bars (flat interface at 1), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.design.name for r in rows]
    values = [r.critical_current_ratio for r in rows]
    errors = [0.0 if math.isnan(r.critical_current_ratio_error) else
              r.critical_current_ratio_error for r in rows]
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(rows), 4.0), constrained_layout=True)
    ax.bar(range(len(rows)), values, yerr=errors, capsize=4, color="C0")
    ax.axhline(1.0, color="grey", lw=1.0, ls="--", label="flat interface")
    ax.set_xticks(range(len(rows)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("J* / J_flat (predicted)")
    ax.legend(loc="lower right", fontsize=8)
    with atomic_output(Path(path), overwrite=overwrite, folder=False, what="chart") as tmp:
        fig.savefig(tmp, dpi=110, format="png", metadata={"Software": None})
    plt.close(fig)
    return Path(path)
