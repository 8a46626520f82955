"""The ``templater`` command group: version, logging level, and the subcommands."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from typing import Any

import click

from templater import __version__

__all__ = ["main", "progress_enabled"]

# each command's module is imported when the command runs (or help lists it): ``templater
# predict`` then loads neither trimesh nor the print-job code (1.2 s less start-up)
COMMANDS = {
    "calibrate": "templater.cli.calibrate:calibrate_cmd",
    "check": "templater.cli.check:check_cmd",
    "compare": "templater.cli.compare:compare_cmd",
    "dose-test": "templater.cli.dose_test:dose_test_cmd",
    "list": "templater.cli.listing:list_cmd",
    "make": "templater.cli.make:make_cmd",
    "predict": "templater.cli.predict:predict_cmd",
    "sweep": "templater.cli.sweep:sweep_cmd",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use (the lazy-loading pattern of
    click's documentation, "Advanced Groups and Context")."""

    def __init__(self, *args: Any, lazy_subcommands: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_subcommands:
            return super().get_command(ctx, cmd_name)
        module, name = self.lazy_subcommands[cmd_name].split(":")
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_subcommands[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
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
