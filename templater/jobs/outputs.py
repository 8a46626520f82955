"""Atomic outputs: write into a temporary sibling, move it into place when complete.

Job folders and the calibration file are written this way: nothing appears at the destination
unless writing succeeded, and an existing one is replaced only with ``overwrite``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from templater.geometry.errors import OutputError, OutputExistsError, TemplaterError

__all__ = ["atomic_output", "check_output"]


def check_output(path: Path, *, overwrite: bool, folder: bool = True,
                 what: str | None = None) -> None:
    """Refuse an existing output without ``overwrite``, a folder where a file goes (or the
    reverse) and an output whose parent cannot be written. ``what`` names it in messages."""
    path = Path(path)
    what = what or ("output folder" if folder else "output file")
    if path.exists() and path.is_dir() != folder:
        kind = "is not a folder" if folder else "is a folder"
        raise OutputExistsError(f"output path {str(path)!r} exists and {kind}")
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{what} {str(path)!r} already exists; pass --overwrite to replace it"
        )
    existing = path.resolve().parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {str(path)!r}: "
                          f"{str(existing)!r} is not a writable folder")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path: Path, *, overwrite: bool, folder: bool = True,
                  what: str | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` (an empty folder, or an empty file) to write;
    on success it replaces ``path``, on error it is removed.

    Checks ``path`` first (:func:`check_output`); an ``OSError`` while writing becomes an
    :class:`OutputError` naming ``path``.
    """
    path = Path(path)
    what = what or ("output folder" if folder else "output file")
    check_output(path, overwrite=overwrite, folder=folder, what=what)
    parent = path.resolve().parent
    umask = os.umask(0)
    os.umask(umask)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if folder:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=parent))
            tmp.chmod(0o777 & ~umask)
        else:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=parent)
            os.close(fd)
            tmp = Path(name)
            tmp.chmod(0o666 & ~umask)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {str(path)!r}: {exc.strerror}") from exc
    try:
        try:
            yield tmp
            old = None
            if folder and path.exists():  # os.replace cannot replace a non-empty folder
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=parent))
                os.replace(path, old / "x")
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            if isinstance(exc, TemplaterError):
                raise
            raise OutputError(f"cannot write {what} {str(path)!r}: "
                              f"{exc.strerror or exc}") from exc
    except BaseException:
        _remove(tmp)
        raise

