"""``templater list``: design kinds, presets and printer profiles."""

from __future__ import annotations

import click

from templater.geometry.surfaces import SURFACES
from templater.jobs.presets import load_preset, preset_names, printer_names

__all__ = ["list_cmd"]


@click.command("list")
def list_cmd() -> None:
    """List design kinds, presets and printer profiles."""
    click.echo("kinds:")
    for kind, cls in SURFACES.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"  {kind:10s} {doc}")
    click.echo("presets:")
    for name in preset_names():
        click.echo(f"  {name:18s} {load_preset(name).provenance}")
    click.echo("printer profiles:")
    for name in printer_names():
        click.echo(f"  {name}")
