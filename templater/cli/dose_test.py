"""``templater dose-test``: a small LaserPower × ScanSpeed matrix of a design, printed first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from templater.cli.options import (
    UsageFail,
    design_from_cli,
    design_options,
    solid_options,
)
from templater.cli.report import gwl_plan_lines
from templater.fab.dose_matrix import (
    DEFAULT_GAP_UM,
    DEFAULT_POWERS,
    DEFAULT_SPEEDS,
    DoseMatrix,
    parse_powers,
    parse_speeds,
)
from templater.geometry.errors import DesignError, OutputError, OutputExistsError, TemplaterError
from templater.jobs.dose_test import dose_test_job

__all__ = ["dose_test_cmd"]


@click.command("dose-test")
@design_options
@click.option("--powers", "powers", default=DEFAULT_POWERS, show_default=True,
              metavar="START:STOP:STEP|P1,P2,..",
              help="LaserPower values (%), one column each (ascending in +x).")
@click.option("--speeds", "speeds", default=DEFAULT_SPEEDS, show_default=True,
              metavar="START:STOP:STEP|V1,V2,..",
              help="ScanSpeed values (um/s), one row each (ascending in +y).")
@click.option("--patch-size", "patch_size_um", type=float,
              help="Side of each square patch, um; default: the whole number of periods one "
                   "block holds (one block per patch).")
@click.option("--gap", "gap_um", type=float, default=DEFAULT_GAP_UM, show_default=True,
              help="Clear gap between neighbouring patches, um.")
@solid_options
@click.option("-o", "--out", "out_dir", type=click.Path(path_type=Path),
              help="Output folder (default ./NAME-dose/).")
@click.option("--overwrite", is_flag=True,
              help="Replace an existing output folder written by templater.")
def dose_test_cmd(powers: str, speeds: str, patch_size_um: float | None, gap_um: float,
                  base_um: float, tolerance_um: float, out_dir: Path | None, overwrite: bool,
                  **kw: Any) -> None:
    """Write a dose test: one small patch of the design at every LaserPower x ScanSpeed.

    Print it before a long job to find the process window in minutes. The folder holds
    NAME.stl (one patch), NAME_dose_job.gwl with NAME_dose_files/, and the sidecar
    NAME_dose_job.json listing every patch's row, column, centre, power, speed and P^2/v.
    `templater check` verifies it.

    KIND is one of flat, eggbox, pyramid, frustum (or use --preset NAME).
    """
    design = design_from_cli(kw)
    out_dir = out_dir or Path(f"{design.name}-dose")
    try:
        power_values, speed_values = parse_powers(powers), parse_speeds(speeds)
    except DesignError as exc:
        raise UsageFail(str(exc)) from exc

    def announce(matrix: DoseMatrix) -> None:
        width = len(matrix.powers) * matrix.pitch_um - matrix.gap_um
        height = len(matrix.speeds) * matrix.pitch_um - matrix.gap_um
        click.echo(f"{design.name}: dose test, {len(matrix.patches)} patches of "
                   f"{matrix.patch_size_um:g} um ({len(matrix.powers)} LaserPower x "
                   f"{len(matrix.speeds)} ScanSpeed), gap {matrix.gap_um:g} um, "
                   f"{width:g} x {height:g} um in all")
        click.echo("LaserPower (%): " + ", ".join(f"{p:g}" for p in matrix.powers))
        click.echo("ScanSpeed (um/s): " + ", ".join(f"{v:g}" for v in matrix.speeds))
        for line in gwl_plan_lines(matrix.job_plan):
            click.echo(line)

    try:
        report = dose_test_job(design, out_dir, powers=power_values, speeds=speed_values,
                               patch_size_um=patch_size_um, gap_um=gap_um, base_um=base_um,
                               tolerance_um=tolerance_um, overwrite=overwrite,
                               announce=announce)
    except (DesignError, OutputExistsError, OutputError) as exc:
        raise UsageFail(str(exc)) from exc
    except TemplaterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"sizes on disk: STL {report.stl_bytes / 1e6:.1f} MB, GWL job "
               f"{report.gwl_bytes / 1e6:.1f} MB")
    click.echo(f"wrote {out_dir}/ ({', '.join(p.name for p in report.files)}) "
               f"in {report.wall_time_s:.1f} s")
