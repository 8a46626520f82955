"""Atomic output folders: write into a temporary sibling, move into place when complete."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from templater.geometry.errors import OutputError, OutputExistsError

__all__ = ["atomic_output_dir", "check_output_dir"]


def check_output_dir(out_dir: Path, *, overwrite: bool) -> None:
    """Refuse an existing folder without ``overwrite`` and a folder that cannot be created."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputExistsError(f"output path {str(out_dir)!r} exists and is not a folder")
    if out_dir.exists() and not overwrite:
        raise OutputExistsError(
            f"output folder {str(out_dir)!r} already exists; pass --overwrite to replace it"
        )
    parent = out_dir.resolve().parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write output folder {str(out_dir)!r}: "
                          f"{str(existing)!r} is not a writable folder")


@contextlib.contextmanager
def atomic_output_dir(out_dir: Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out_dir``, on error it is removed."""
    out_dir = Path(out_dir)
    check_output_dir(out_dir, overwrite=overwrite)
    parent = out_dir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
    except OSError as exc:
        raise OutputError(f"cannot write output folder {str(out_dir)!r}: {exc.strerror}") from exc
    try:
        yield tmp
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.replace(out_dir, old / "x")
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
