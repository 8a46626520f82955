"""The ``templater`` command group: version, logging level, and the subcommands."""

from __future__ import annotations

import logging

import click

from templater import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="templater")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """Printable templates (STL) for contoured Li / solid-electrolyte interfaces.

    Geometry is in micrometres. The named contour is the electrolyte surface e(x, y); the
    template printed is its negative (top = base + H - e).

    \b
    Examples:
      templater make eggbox --H 25 --S 150
      templater make --preset pyramid-H25S150 --footprint circle
      templater list
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
