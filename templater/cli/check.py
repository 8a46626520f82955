"""``templater check``: re-check a job folder independently of the writer."""

from __future__ import annotations

from pathlib import Path

import click

from templater.cli.main import progress_enabled
from templater.cli.options import UsageFail
from templater.fab.check import check_job
from templater.geometry.errors import TemplaterError

__all__ = ["check_cmd"]


@click.command("check")
@click.argument("folder", type=click.Path(path_type=Path))
def check_cmd(folder: Path) -> None:
    """Check a job folder independently of the writer (exit 0 clean, 1 problems, 2 usage
    error such as a missing folder).

    Re-reads NAME.stl (watertight, matching design.json) and replays the GWL job: includes,
    header, field limits, bounds and per-layer coverage against the STL's cross-sections,
    write length and print time against NAME_job.json. A dose-test folder (NAME_dose_job.json)
    is checked patch by patch: settings, position, and the first patch against NAME.stl. Each
    problem is printed on its own line. Progress bars on stderr (a terminal, no --quiet).
    """
    if not folder.is_dir():  # a usage error (exit 2), not a problem found in a job (exit 1)
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageFail(f"job folder {str(folder)!r} {what}")
    try:
        problems = check_job(folder, progress=progress_enabled())
    except TemplaterError as exc:
        problems = [str(exc)]
    for line in problems:
        click.echo(line)
    if problems:
        raise SystemExit(1)
    gwl = any(folder.glob("*_job.gwl"))
    click.echo(f"{folder}: OK" + ("" if gwl else " (no GWL job in the folder: the STL and "
                                         "design.json were checked)"))
