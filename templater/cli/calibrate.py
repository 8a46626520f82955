"""``templater calibrate``: fit the dendrite constants to measured critical currents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from templater.cli.options import UsageFail, model_from_cli, model_options
from templater.geometry.errors import TemplaterError
from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa

__all__ = ["calibrate_cmd"]


def _row_line(row: Any, pred: Any) -> None:
    click.echo(f"line {row.line}: {row.design.name}: m = {pred.max_current_ratio:.4f}, "
               f"dp_max(1 mA/cm^2) = {pa_to_mpa(pred.max_excess_pressure_pa):.3f} MPa, "
               f"measured {a_m2_to_ma_cm2(row.critical_current_a_m2):.3g} mA/cm^2")


@click.command("calibrate")
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option("-o", "--out", "out_path", type=click.Path(path_type=Path),
              default=Path("calibration.toml"), show_default=True,
              help="Calibration TOML to write (use it with --calibration).")
@click.option("--overwrite", is_flag=True, help="Replace an existing calibration file.")
@click.option("--fix-growth-exponent", is_flag=True,
              help="Fit only J_flat and the pressure margin (n_g stays at its current value).")
@click.option("--no-tables", is_flag=True, help="Always solve the creep problem.")
@model_options
def calibrate_cmd(measurements: Path, out_path: Path, overwrite: bool,
                  fix_growth_exponent: bool, no_tables: bool, **kw: Any) -> None:
    """Fit J_flat, the pressure margin and n_g to measured critical currents.

    MEASUREMENTS is a CSV with a header: ccd_mA_cm2 and either preset or kind, H_um, S_um
    (optional form, top_fraction, edge_radius_um, invert). One row per measured cell.
    """
    from templater.jobs.calibrate import CalibrationPredictionError, calibrate

    model = model_from_cli(kw)
    try:
        report = calibrate(measurements, out_path, model=model, overwrite=overwrite,
                           fit_growth_exponent=not fix_growth_exponent,
                           use_tables=not no_tables, on_row=_row_line)
    except CalibrationPredictionError as exc:
        raise click.ClickException(str(exc)) from exc
    except TemplaterError as exc:  # bad measurements, too few cells, refused output
        raise UsageFail(str(exc)) from exc
    fit = report.fit
    c = fit.constants
    click.echo(f"J_flat = {a_m2_to_ma_cm2(c.flat_critical_current_a_m2):.4g} +- "
               f"{a_m2_to_ma_cm2(fit.flat_critical_current_std_a_m2):.2g} mA/cm^2")
    if c.criterion == "fracture":
        click.echo(f"crack size c = {c.crack_size_m * 1e6:.4g} +- "
                   f"{fit.crack_size_std_m * 1e6:.2g} um (K_IC held at "
                   f"{pa_to_mpa(c.fracture_toughness_pa_m05):.3g} MPa m^1/2)")
    else:
        click.echo(f"pressure margin = {pa_to_mpa(c.pressure_margin_pa):.4g} +- "
                   f"{pa_to_mpa(fit.pressure_margin_std_pa):.2g} MPa")
    if fit.growth_exponent_std is not None:
        click.echo(f"growth exponent n_g = {c.growth_exponent:.4g} +- "
                   f"{fit.growth_exponent_std:.2g}")
    status = "converged" if fit.success else f"NOT converged: {fit.message}"
    click.echo(f"rms relative misfit {fit.rms_log_residual:.3g} over {fit.n_measurements} "
               f"measurements ({status})")
    for name in fit.at_bounds:
        click.echo(f"WARNING: {name} is not determined by these measurements (it stopped at "
                   "the bound of its search range); do not rely on its value", err=True)
    click.echo(f"wrote {out_path} (use: templater predict ... --calibration {out_path})")
