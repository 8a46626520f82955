"""Independent GWL reader and replayer (docs/printer-guide.md, "Checking a job").

Reads a job file and its includes from disk and replays them into global coordinates; it
shares no code with the writer, so ``templater check`` and the tests compare two independent
views of a job. Supported: comments (``%``, except inside quoted strings), coordinate lines of
3 or 4 finite numbers, ``Write``, ``include PATH`` (``\\`` → ``/``, relative to the including
file), ``MoveStageX/Y``, ``X/Y/ZOffset``, ``AddX/Y/ZOffset``, ``FindInterfaceAt``,
``LaserPower``, ``ScanSpeed``, ``PowerScaling`` and the header commands templater writes.
Variables, loops, conditionals, ``repeat`` and unknown commands are errors: templater writes
literal GWL only. Every error names the file and line.

Global point = stage position + offset + coordinate (z: z offset + coordinate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from templater.geometry.errors import TemplaterError

__all__ = ["GwlError", "GwlFile", "Chunk", "Replay", "read_job"]

_NUMERIC_ARG = {
    "invertzaxis", "piezosettlingtime", "galvoacceleration", "stagevelocity",
    "xoffset", "yoffset", "zoffset", "addxoffset", "addyoffset", "addzoffset",
    "movestagex", "movestagey", "powerscaling", "laserpower", "scanspeed", "findinterfaceat",
}
_NO_ARG = {"galvoscanmode", "continuousmode", "timestampon", "timestampoff", "newstructure"}
_FREE_ARG = {"messageout"}
_PROGRAM = {"var", "local", "set", "for", "while", "if", "elif", "else", "end", "repeat",
            "break", "continue"}
_NONFINITE = {"nan", "inf", "infinity"}
_NUM_CHARS = frozenset("0123456789.+-eE \t")
_STATE = {"xoffset", "yoffset", "zoffset", "addxoffset", "addyoffset", "addzoffset",
          "movestagex", "movestagey", "powerscaling", "laserpower", "scanspeed"}


class GwlError(TemplaterError):
    """A malformed or unsupported GWL line: ``file:line: reason``."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = str(path), line, reason
        super().__init__(f"{path}:{line}: {reason}")


@dataclass(frozen=True, slots=True, eq=False)
class GwlFile:
    """One parsed file: points, polylines and the commands between them.

    Attributes
    ----------
    path : Path
        The file.
    points : (n, 3) float
        Coordinates as written (the 4th column, power, is dropped).
    starts, ends : (m,) int
        Polyline k is ``points[starts[k]:ends[k]]`` (closed by ``Write``).
    poly_lines : (m,) int
        Line number of each polyline's first point.
    ops : list
        ``("cmd", line, name, arg)`` and ``("polys", first, stop)`` in file order.
    """

    path: Path
    points: NDArray[np.float64]
    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    poly_lines: NDArray[np.int64]
    ops: list[tuple]
    seg_lengths: NDArray[np.float64] = field(init=False)
    poly_lengths: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        d = np.diff(self.points, axis=0)
        seg = np.sqrt((d * d).sum(axis=1)) if len(d) else np.zeros(0)
        # segments joining two polylines are jumps, not written
        inside = np.ones(len(seg), dtype=bool)
        if len(self.ends):
            inside[self.ends[:-1] - 1] = False
        if len(self.points) and len(self.ends) and self.ends[-1] < len(self.points):
            inside[self.ends[-1] - 1:] = False
        seg = np.where(inside, seg, 0.0)
        cum = np.r_[0.0, np.cumsum(seg)]
        object.__setattr__(self, "seg_lengths", seg)
        object.__setattr__(self, "poly_lengths", cum[self.ends - 1] - cum[self.starts])


def _strip_comment(text: str) -> str:
    """Cut a ``%`` comment that is not inside a quoted string."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == "%" and not quoted:
            return text[:i]
    return text


def _number(token: str, path: Path, line: int, what: str) -> float:
    bad = not token or not set(token) <= _NUM_CHARS
    value = math.nan
    if not bad:
        try:
            value = float(token)
        except ValueError:
            bad = True
    if bad or not math.isfinite(value):
        raise GwlError(path, line, f"{what}: {token!r} is not a finite number")
    return value


def _parse(path: Path) -> GwlFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GwlError(path, 0, f"cannot read file: {exc.strerror}") from exc
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise GwlError(path, line, "non-ASCII byte") from exc
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    coord_tokens: list[list[str]] = []
    coord_lines: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    poly_lines: list[int] = []
    ops: list[tuple] = []
    pending_start = 0
    for no, line in enumerate(lines, start=1):
        if "%" in line or '"' in line:
            line = _strip_comment(line)
        tokens = line.split()
        if not tokens:
            continue
        head = tokens[0]
        c0 = head[0]
        if c0.isdigit() or c0 in "+-." or head.lower() in _NONFINITE:
            if len(tokens) not in (3, 4):
                raise GwlError(path, no, f"coordinate line needs 3 or 4 numbers, got "
                                         f"{len(tokens)}")
            coord_tokens.append(tokens[:3])
            coord_lines.append(no)
            continue
        if "$" in line:
            raise GwlError(path, no, "variables are not supported: templater writes literal "
                                     "GWL only")
        name = head.lower()
        if name == "write":
            if len(tokens) != 1:
                raise GwlError(path, no, "Write takes no argument")
            if len(coord_tokens) > pending_start:
                starts.append(pending_start)
                ends.append(len(coord_tokens))
                poly_lines.append(coord_lines[pending_start])
                pending_start = len(coord_tokens)
                if ops and ops[-1][0] == "polys" and ops[-1][2] == len(starts) - 1:
                    ops[-1] = ("polys", ops[-1][1], len(starts))
                else:
                    ops.append(("polys", len(starts) - 1, len(starts)))
            continue
        if len(coord_tokens) > pending_start:
            raise GwlError(path, coord_lines[pending_start],
                           f"{len(coord_tokens) - pending_start} point(s) not closed by Write "
                           f"before {head!r} on line {no}")
        if name in _PROGRAM:
            raise GwlError(path, no, f"{head!r} is not supported: templater writes literal GWL "
                                     "only (no variables, loops, conditionals or repeat)")
        if name == "include":
            rest = line.strip()[len(head):].strip()
            if not rest:
                raise GwlError(path, no, "include needs a file path")
            ops.append(("include", no, rest))
        elif name in _NUMERIC_ARG:
            if len(tokens) != 2:
                raise GwlError(path, no, f"{head} takes one number, got {len(tokens) - 1} "
                                         "arguments")
            ops.append(("cmd", no, name, _number(tokens[1], path, no, head)))
        elif name in _NO_ARG:
            if len(tokens) != 1:
                raise GwlError(path, no, f"{head} takes no argument")
            ops.append(("cmd", no, name, None))
        elif name in _FREE_ARG:
            ops.append(("cmd", no, name, line.strip()[len(head):].strip()))
        else:
            raise GwlError(path, no, f"unknown command {head!r}")
    if len(coord_tokens) > pending_start:
        raise GwlError(path, coord_lines[pending_start],
                       f"{len(coord_tokens) - pending_start} point(s) after the last Write are "
                       "never written (missing Write)")
    points = _to_array(coord_tokens, coord_lines, path)
    return GwlFile(path=path, points=points, starts=np.asarray(starts, dtype=np.int64),
                   ends=np.asarray(ends, dtype=np.int64),
                   poly_lines=np.asarray(poly_lines, dtype=np.int64), ops=ops)


def _to_array(tokens: list[list[str]], lines: list[int], path: Path) -> NDArray[np.float64]:
    if not tokens:
        return np.zeros((0, 3))
    flat = [t for row in tokens for t in row]
    ok = set("".join(flat)) <= _NUM_CHARS
    arr = None
    if ok:
        try:
            arr = np.array(flat, dtype=float).reshape(-1, 3)
        except ValueError:
            arr = None
    if arr is None or not np.isfinite(arr).all():
        for row, no in zip(tokens, lines, strict=True):
            for t in row:
                _number(t, path, no, "coordinate")
        raise GwlError(path, lines[0], "malformed coordinates")  # pragma: no cover
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class Chunk:
    """Consecutive polylines of one file replayed with one state.

    ``translation_um`` is added to the file coordinates (stage + offsets); ``placement`` is
    the 1-based number of the top-level include (0: the job file itself); ``field_offset_um``
    is the offset part only (galvo coordinates = offset + coordinate). ``laser_power``,
    ``scan_speed_um_s`` and ``power_scaling`` are the values in effect.
    """

    file: GwlFile
    first: int
    stop: int
    translation_um: NDArray[np.float64]
    field_offset_um: NDArray[np.float64]
    stage_um: NDArray[np.float64]
    placement: int
    laser_power: float
    scan_speed_um_s: float
    power_scaling: float

    @property
    def points_local(self) -> NDArray[np.float64]:
        """Points of the chunk's polylines in file coordinates, (n, 3)."""
        f = self.file
        if self.stop <= self.first:
            return np.zeros((0, 3))
        return f.points[f.starts[self.first]:f.ends[self.stop - 1]]

    def polylines(self) -> list[NDArray[np.float64]]:
        """Polylines in global coordinates, each (n, 3)."""
        f = self.file
        return [f.points[f.starts[k]:f.ends[k]] + self.translation_um
                for k in range(self.first, self.stop)]

    @property
    def write_length_um(self) -> float:
        """Sum of segment lengths within the polylines, µm."""
        return float(self.file.poly_lengths[self.first:self.stop].sum())

    @property
    def segments(self) -> int:
        """Segment count."""
        f = self.file
        return int((f.ends[self.first:self.stop] - f.starts[self.first:self.stop] - 1).sum())


@dataclass(frozen=True, slots=True, eq=False)
class Replay:
    """A replayed job: chunks in global coordinates plus the commands seen.

    Attributes
    ----------
    job_path : Path
        The job file.
    files : dict
        Parsed files by resolved path.
    chunks : list of Chunk
        Polyline runs in replay order.
    commands : list of (file, line, name, argument)
        Commands of the job file itself (lower-case names), in order.
    includes : list of (file, line, target)
        Every include executed.
    find_interface_at_um : list of float
        ``FindInterfaceAt`` values, in order.
    stage_end_um : (2,) float
        Stage position at the end, relative to the start.
    """

    job_path: Path
    files: dict[Path, GwlFile]
    chunks: list[Chunk]
    commands: list[tuple[Path, int, str, Any]]
    includes: list[tuple[Path, int, Path]]
    find_interface_at_um: list[float]
    stage_end_um: NDArray[np.float64]

    def totals(self) -> dict[str, Any]:
        """Polylines, segments, write length (µm), write time at the replayed speeds (s),
        layers (distinct z per placement, summed), placements and global bounds (µm)."""
        polylines = segments = 0
        length = time = 0.0
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        layers: dict[int, set] = {}
        cache: dict[tuple, tuple] = {}
        for c in self.chunks:
            key = (id(c.file), c.first, c.stop)
            if key not in cache:
                pts = c.points_local
                cache[key] = (pts.min(axis=0), pts.max(axis=0),
                              set(np.unique(np.round(pts[:, 2], 6)).tolist()))
            pmin, pmax, zs = cache[key]
            polylines += c.stop - c.first
            segments += c.segments
            length += c.write_length_um
            time += c.write_length_um / c.scan_speed_um_s
            lo = np.minimum(lo, pmin + c.translation_um)
            hi = np.maximum(hi, pmax + c.translation_um)
            layers.setdefault(c.placement, set()).update(
                round(z + float(c.translation_um[2]), 6) for z in zs)
        return {"polylines": polylines, "segments": segments, "write_length_um": length,
                "write_time_s": time, "layers": sum(len(v) for v in layers.values()),
                "placements": len({c.placement for c in self.chunks}),
                "bounds_um": [lo.tolist(), hi.tolist()]}


def read_job(path: Path | str) -> Replay:
    """Read and replay a GWL job file and its includes.

    Raises
    ------
    GwlError
        For a malformed line, an unsupported command, a missing include or an include cycle;
        the message names the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise GwlError(path, 0, "job file not found")
    acc = _Acc()
    state = {"stage": np.zeros(2), "offset": np.zeros(3), "power": math.nan,
             "speed": math.nan, "scaling": 1.0, "placement": 0, "count": 0}
    _run(path, acc, state, stack=[], top=True)
    return Replay(job_path=path, files=acc.files, chunks=acc.chunks, commands=acc.commands,
                  includes=acc.includes, find_interface_at_um=acc.find_interface_at_um,
                  stage_end_um=state["stage"].copy())


@dataclass(slots=True)
class _Acc:
    """What a replay collects while it runs."""

    files: dict[Path, GwlFile] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    commands: list[tuple[Path, int, str, Any]] = field(default_factory=list)
    includes: list[tuple[Path, int, Path]] = field(default_factory=list)
    find_interface_at_um: list[float] = field(default_factory=list)


def _run(path: Path, replay: _Acc, state: dict, stack: list[Path], top: bool) -> None:
    key = path.resolve()
    gfile = replay.files.get(key)
    if gfile is None:
        gfile = _parse(path)
        replay.files[key] = gfile
    stack.append(key)
    for op in gfile.ops:
        if op[0] == "polys":
            speed = state["speed"]
            if not (speed > 0):
                raise GwlError(path, int(gfile.poly_lines[op[1]]),
                               "points written before a positive ScanSpeed was set")
            off = state["offset"]
            trans = np.array([state["stage"][0] + off[0], state["stage"][1] + off[1], off[2]])
            replay.chunks.append(Chunk(gfile, op[1], op[2], trans, off.copy(),
                                       state["stage"].copy(), state["placement"],
                                       state["power"], speed, state["scaling"]))
        elif op[0] == "include":
            _, no, rel = op
            target = (path.parent / rel.replace("\\", "/"))
            if not target.is_file():
                raise GwlError(path, no, f"include {rel!r}: file not found")
            if target.resolve() in stack:
                raise GwlError(path, no, f"include {rel!r}: include cycle")
            replay.includes.append((path, no, target))
            if top:
                state["count"] += 1
                state["placement"] = state["count"]
            _run(target, replay, state, stack, top=False)
            if top:
                state["placement"] = 0
        else:
            _, no, name, arg = op
            if top:
                replay.commands.append((path, no, name, arg))
            _apply(name, arg, state, replay)
    stack.pop()


def _apply(name: str, arg: Any, state: dict, replay: _Acc) -> None:
    axis = {"x": 0, "y": 1, "z": 2}
    if name in ("xoffset", "yoffset", "zoffset"):
        state["offset"] = state["offset"].copy()
        state["offset"][axis[name[0]]] = arg
    elif name in ("addxoffset", "addyoffset", "addzoffset"):
        state["offset"] = state["offset"].copy()
        state["offset"][axis[name[3]]] += arg
    elif name in ("movestagex", "movestagey"):
        state["stage"] = state["stage"].copy()
        state["stage"][axis[name[-1]]] += arg
    elif name == "laserpower":
        state["power"] = arg
    elif name == "scanspeed":
        state["speed"] = arg
    elif name == "powerscaling":
        state["scaling"] = arg
    elif name == "findinterfaceat":
        replay.find_interface_at_um.append(arg)
