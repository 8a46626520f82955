"""Atomic outputs: write into a temporary sibling, move it into place when complete.

Job folders and the calibration file are written this way: nothing appears at the destination
unless writing succeeded, and an existing one is replaced only with ``overwrite``.

Safety rules (docs/user-guide.md, "Output folders"):

* Every folder written here carries the marker file ``.templater-job`` (the toolkit and its
  version; the other files are not changed by it). ``overwrite`` replaces only a folder with
  that marker, and never the current directory (or a folder containing it), a mount point or a
  symbolic link: anything else is refused before anything is changed.
* Temporary siblings are named ``.NAME.tmp-PID-HOST-XXXXXXXX`` (and ``.NAME.old-…`` while a
  folder is swapped). A run removes the siblings of its target whose process is gone (same
  host, PID no longer running), i.e. those left by a killed run; a live run's are never touched.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from templater import __version__
from templater.geometry.errors import OutputError, OutputExistsError, TemplaterError

__all__ = ["MARKER", "atomic_output", "check_output", "is_templater_folder",
           "remove_stale_siblings"]

MARKER = ".templater-job"
log = logging.getLogger(__name__)


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _prefix(name: str, kind: str) -> str:
    """Prefix of a temporary sibling: ``.NAME.KIND-PID-HOST-``."""
    return f".{name}.{kind}-{os.getpid()}-{_host_tag()}-"


def is_templater_folder(path: Path) -> bool:
    """True if ``path`` is a folder holding templater's marker file."""
    try:
        record = json.loads((Path(path) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("toolkit") == "templater"


def _marker_text() -> str:
    record = {"toolkit": "templater", "version": __version__,
              "note": "written by templater; 'templater make --overwrite' may replace this folder"}
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _not_replaceable(path: Path) -> str | None:
    """Why the existing folder ``path`` must not be replaced (None: it may be)."""
    if path.is_symlink():
        return "is a symbolic link"
    real = path.resolve()
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents:
        return "is the current directory" if real == cwd else "contains the current directory"
    if os.path.ismount(real):
        return "is a mount point"
    if not is_templater_folder(path):
        return f"was not written by templater (it has no {MARKER} marker)"
    return None


def check_output(path: Path, *, overwrite: bool, folder: bool = True,
                 what: str | None = None) -> None:
    """Refuse an existing output without ``overwrite``, a folder where a file goes (or the
    reverse), an existing folder templater may not replace (see the module docstring) and an
    output whose parent cannot be written. ``what`` names it in messages."""
    path = Path(path)
    what = what or ("output folder" if folder else "output file")
    if path.exists() and path.is_dir() != folder:
        kind = "is not a folder" if folder else "is a folder"
        raise OutputExistsError(f"output path {str(path)!r} exists and {kind}")
    if folder and (path.exists() or path.is_symlink()):
        reason = _not_replaceable(path)
        if reason is not None:
            raise OutputExistsError(
                f"{what} {str(path)!r} already exists and {reason}; --overwrite replaces only "
                f"a job folder templater wrote (never the current directory, a mount point or "
                f"a link); choose another output folder (-o)"
            )
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
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _process_gone(pid: int) -> bool:
    """True only when no process ``pid`` exists (POSIX; elsewhere never claimed)."""
    if os.name != "posix" or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return False
    return False


def remove_stale_siblings(path: Path) -> list[Path]:
    """Remove the temporary siblings of ``path`` left by runs that no longer exist.

    Only names of the form ``.NAME.tmp-PID-HOST-…`` / ``.NAME.old-PID-HOST-…`` with this host and
    a PID that is not running are removed; returns what was removed.
    """
    path = Path(path)
    parent = path.resolve().parent
    pattern = re.compile(rf"^\.{re.escape(path.resolve().name)}\.(?:tmp|old)-(\d+)-"
                         rf"{re.escape(_host_tag())}-[^/]+$")
    removed = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in sorted(entries):
        match = pattern.match(entry.name)
        if match and _process_gone(int(match.group(1))):
            log.info("removing %s, left by a run that no longer exists", entry)
            _remove(entry)
            removed.append(entry)
    return removed


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back during a short critical step (POSIX); they arrive after it."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None:
        yield
        return
    old = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def atomic_output(path: Path, *, overwrite: bool, folder: bool = True,
                  what: str | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` (an empty folder, or an empty file) to write;
    on success it replaces ``path``, on error (or Ctrl-C / SIGTERM) it is removed.

    Checks ``path`` first (:func:`check_output`), then removes stale temporary siblings of
    ``path`` (:func:`remove_stale_siblings`). A folder gets the marker file :data:`MARKER`
    when it is complete. An ``OSError`` while writing becomes an :class:`OutputError` naming
    ``path``.
    """
    path = Path(path)
    what = what or ("output folder" if folder else "output file")
    check_output(path, overwrite=overwrite, folder=folder, what=what)
    remove_stale_siblings(path)
    parent = path.resolve().parent
    name = path.resolve().name
    tmp: Path | None = None
    try:
        with _signals_deferred():  # Ctrl-C / SIGTERM arrives once ``tmp`` is known
            tmp = _make_tmp(path, parent, name, folder, what)
        try:
            yield tmp
            if folder:
                (tmp / MARKER).write_text(_marker_text(), encoding="utf-8")
            check_output(path, overwrite=overwrite, folder=folder, what=what)  # still allowed?
            with _signals_deferred():
                _swap(tmp, path, parent, name, folder)
        except OSError as exc:
            if isinstance(exc, TemplaterError):
                raise
            raise OutputError(f"cannot write {what} {str(path)!r}: "
                              f"{exc.strerror or exc}") from exc
    except BaseException:
        if tmp is not None:
            _remove(tmp)
        raise


def _make_tmp(path: Path, parent: Path, name: str, folder: bool, what: str) -> Path:
    """Create the temporary sibling (an empty folder or file) with the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        if folder:
            tmp = Path(tempfile.mkdtemp(prefix=_prefix(name, "tmp"), dir=parent))
            tmp.chmod(0o777 & ~umask)
        else:
            fd, tmp_name = tempfile.mkstemp(prefix=_prefix(name, "tmp"), dir=parent)
            os.close(fd)
            tmp = Path(tmp_name)
            tmp.chmod(0o666 & ~umask)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {str(path)!r}: {exc.strerror}") from exc
    return tmp


def _swap(tmp: Path, path: Path, parent: Path, name: str, folder: bool) -> None:
    """Move ``tmp`` to ``path``; an existing folder is moved aside first and removed after
    (``os.replace`` cannot replace a non-empty folder), or put back if the move fails."""
    old = None
    if folder and path.exists():
        old = Path(tempfile.mkdtemp(prefix=_prefix(name, "old"), dir=parent))
        try:
            os.replace(path, old / "x")
        except OSError:
            shutil.rmtree(old, ignore_errors=True)
            raise
    try:
        os.replace(tmp, path)
    except OSError:
        if old is not None:
            try:
                os.replace(old / "x", path)
            except OSError:
                log.error("could not restore %s; the previous folder is in %s", path, old)
            else:
                shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
