"""The ``templater`` command group: version, logging level, and the subcommands."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

import click

from templater import __version__

__all__ = ["main", "progress_enabled"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="templater")
@click.option("-v", "--verbose", count=True,
              help="More log output of templater and solver (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bars (they show only when stderr is a terminal).")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Printable templates (STL and GWL print jobs) for contoured Li / solid-electrolyte
    interfaces, with the predicted critical current for dendrites of every design.

    Geometry is in micrometres. The named contour is the electrolyte surface e(x, y); the
    template printed is its negative (top = base + H - e). Model defaults and their sources:
    docs/theory.md.

    \b
    Examples:
      templater make eggbox --H 25 --S 150
      templater predict --preset pyramid-H25S150
      templater dose-test eggbox --H 25 --S 150
      templater check eggbox-H25S150
      templater list
    """
    _terminate_like_ctrl_c()
    level = logging.WARNING - 10 * min(verbose, 2)
    # our loggers only: third-party INFO (trimesh, ...) stays at the root's WARNING
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("templater", "solver"):
        logging.getLogger(name).setLevel(level)
    ctx.obj = {"progress": not quiet and sys.stderr.isatty()}


def progress_enabled() -> bool:
    """Whether progress bars show: stderr is a terminal and no ``--quiet``."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None and not isinstance(ctx.obj, dict):
        ctx = ctx.parent
    return bool(ctx is not None and ctx.obj.get("progress"))


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: temporary outputs are removed


def _terminate_like_ctrl_c() -> None:
    """Handle SIGTERM like Ctrl-C for the duration of the command (the previous handler is
    restored when the command ends)."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    click.get_current_context().call_on_close(lambda: signal.signal(signal.SIGTERM, previous))
