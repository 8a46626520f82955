"""The resumable cache of a design sweep: one small JSON file per computed result.

An entry is found by a SHA-256 key of everything that determines its result (:func:`cache_key`):
the design (every dataclass field), the materials, creep parameters and dendrite constants (every
dataclass field, read generically so that new fields are included without a code change), the
model options, the toolkit version and a fingerprint of the source files and tables of the code
that computes it (:func:`source_fingerprint`), so that a development checkout whose version
number did not change never serves a result of older code.

Entry file ``KEY.json``::

    {"format": 1, "toolkit": "templater", "what": "prediction", "key": KEY, "label": NAME,
     "version": VERSION, "result": {...}, "checksum": SHA-256 of {key, what, result}}

An entry is trusted only when it parses, its ``key`` is the file's key, its ``what`` is the
expected kind and the checksum of its content matches; anything else (truncated, edited,
another kind, another format) is reported as a miss, recomputed and overwritten. Entries are
written to a temporary sibling ``.KEY.json.tmp-PID-HOST-XXXXXXXX`` and moved into place
(``os.replace``), so a killed sweep leaves complete entries or none; the leftovers of a run that
no longer exists are removed when the cache is opened.

The cache folder carries the marker ``.templater-cache``; a folder that is not empty and has no
marker is refused (it was not written by templater), so ``--cache`` never writes into a folder
of other files.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import logging
import math
import os
import re
import socket
import tempfile
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from templater import __version__
from templater.geometry.errors import OutputError

__all__ = ["CACHE_FORMAT", "CACHE_MARKER", "SweepCache", "cache_key", "canonical",
           "default_cache_dir", "source_fingerprint"]

CACHE_FORMAT = 1
CACHE_MARKER = ".templater-cache"
log = logging.getLogger(__name__)

_KEY = re.compile(r"^[0-9a-f]{64}$")


def default_cache_dir() -> Path:
    """``<user cache dir>/templater/predictions`` (platformdirs: ``~/.cache`` on Linux,
    ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows)."""
    import platformdirs

    return platformdirs.user_cache_path("templater", appauthor=False) / "predictions"


def canonical(value: Any) -> Any:
    """A JSON-ready, deterministic form of ``value``: dataclasses by their fields (plus the
    class name and a ``kind`` class attribute when there is one), mappings with string keys,
    sequences as lists, floats as floats (NaN and infinities as strings), numpy values as
    Python values, anything else by ``repr``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"__class__": type(value).__name__}
        kind = getattr(type(value), "kind", None)
        if isinstance(kind, str):
            out["__kind__"] = kind
        for f in dataclasses.fields(value):
            out[f.name] = canonical(getattr(value, f.name))
        return out
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=repr)
    if isinstance(value, Path):
        return str(value)
    tolist = getattr(value, "tolist", None)  # numpy scalars and arrays
    if callable(tolist):
        return canonical(tolist())
    return repr(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def cache_key(what: str, payload: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``payload``, the kind of result ``what``, the
    cache format and the toolkit version."""
    record = {"what": what, "format": CACHE_FORMAT, "templater": __version__,
              "payload": canonical(payload)}
    return hashlib.sha256(_dumps(record).encode("ascii")).hexdigest()


@lru_cache(maxsize=16)
def source_fingerprint(roots: tuple[str, ...]) -> str:
    """SHA-256 of the files under ``roots`` (package folders or single files, given relative to
    the folder holding the ``templater`` and ``solver`` packages): sources and data, not
    ``__pycache__``. Computed once per process."""
    base = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for root in roots:
        path = base / root
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
        for file in files:
            digest.update(file.relative_to(base).as_posix().encode("utf-8") + b"\0")
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _checksum(key: str, what: str, result: Any) -> str:
    return hashlib.sha256(_dumps({"key": key, "what": what, "result": result})
                          .encode("ascii")).hexdigest()


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _process_gone(pid: int) -> bool:
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


class SweepCache:
    """A cache folder of sweep results (see the module docstring); ``None`` folder: disabled."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = None if folder is None else Path(folder)
        self.rejected = 0  # entries found but not trusted (corrupt, mismatching)
        if self.folder is not None:
            self._open()

    @property
    def enabled(self) -> bool:
        """Whether results are read and written."""
        return self.folder is not None

    def _open(self) -> None:
        folder = self.folder
        assert folder is not None
        marker = folder / CACHE_MARKER
        try:
            if folder.exists() and not folder.is_dir():
                raise OutputError(f"cache folder {str(folder)!r} exists and is not a folder "
                                  "(--cache)")
            if folder.is_dir() and not marker.exists() and any(folder.iterdir()):
                raise OutputError(
                    f"cache folder {str(folder)!r} is not empty and was not written by templater "
                    f"(it has no {CACHE_MARKER} marker); choose an empty or new folder (--cache)")
            folder.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                self._write_text(marker, _dumps({"toolkit": "templater", "what": "sweep cache",
                                                 "format": CACHE_FORMAT}) + "\n")
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot use cache folder {str(folder)!r} (--cache): "
                              f"{exc.strerror or exc}") from exc
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Remove temporary entries of runs on this host that no longer exist."""
        assert self.folder is not None
        pattern = re.compile(rf"^\.[0-9a-f]{{64}}\.json\.tmp-(\d+)-{re.escape(_host_tag())}-")
        for entry in self.folder.iterdir():
            match = pattern.match(entry.name)
            if match and _process_gone(int(match.group(1))):
                entry.unlink(missing_ok=True)

    def path(self, key: str) -> Path:
        """The entry file of ``key``."""
        assert self.folder is not None and _KEY.match(key)
        return self.folder / f"{key}.json"

    def get(self, key: str, what: str, fields: Iterable[str]) -> dict[str, Any] | None:
        """The trusted result of ``key`` (a dict with at least ``fields``), or None."""
        if self.folder is None:
            return None
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._reject(path, f"unreadable ({exc})")
        try:
            entry = json.loads(text)
        except ValueError:
            return self._reject(path, "not valid JSON")
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
            return self._reject(path, "unknown format")
        result = entry.get("result")
        if entry.get("key") != key or entry.get("what") != what or not isinstance(result, dict):
            return self._reject(path, "another key or kind of result")
        try:
            good = entry.get("checksum") == _checksum(key, what, result)
        except (TypeError, ValueError):
            good = False
        if not good:
            return self._reject(path, "checksum mismatch")
        missing = [f for f in fields if f not in result]
        if missing:
            return self._reject(path, f"missing {', '.join(missing)}")
        return result

    def _reject(self, path: Path, why: str) -> None:
        self.rejected += 1
        log.warning("cache entry %s %s: not trusted, recomputing", path, why)
        return None

    def put(self, key: str, what: str, label: str, result: Mapping[str, Any]) -> None:
        """Write the entry of ``key`` atomically (replacing a corrupt one)."""
        if self.folder is None:
            return
        result = canonical(dict(result))
        entry = {"format": CACHE_FORMAT, "toolkit": "templater", "what": what, "key": key,
                 "label": label, "version": __version__, "result": result,
                 "checksum": _checksum(key, what, result)}
        self._write_text(self.path(key), json.dumps(entry, indent=1, sort_keys=True,
                                                    allow_nan=False) + "\n")

    def _write_text(self, path: Path, text: str) -> None:
        prefix = f".{path.name}.tmp-{os.getpid()}-{_host_tag()}-"
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise OutputError(f"cannot write cache entry {str(path)!r}: "
                              f"{exc.strerror or exc}") from exc
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
