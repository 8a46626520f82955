"""The ``sweep`` workflow: predict every (H, S) of a grid of one design kind, in parallel, with
a resumable cache, and write ``sweep.csv``, ``sweep.json`` and ``sweep.png``.

Pieces:

* :func:`parse_grid` reads ``--H``/``--S`` values (``start:stop:step`` or comma lists) and checks
  every value through the parameter system.
* :func:`run_sweep` builds the designs (a design whose H/S or options are not allowed for the
  kind is a failed row, with the reason), answers what it can from the cache
  (:mod:`templater.jobs.sweep_cache`) and computes the rest with :func:`compute_design`: in this
  process (``workers=1``), in local worker processes (``concurrent.futures``,
  ``workers=N``), or on a running Dask cluster (``scheduler=ADDRESS``). Results are written to
  the cache as each design finishes, and the rows are ordered by H, then S, whatever finished
  first: the same grid gives the same rows whatever computed them.
* :func:`write_sweep` writes the three files into one folder, atomically
  (:func:`templater.jobs.outputs.atomic_output`, with its ``.templater-job`` marker).

The optimum is the design with the highest J*/J_flat among the successful, printable designs
(H + base within the printer's z range, H/S allowed, print time within ``max_print_hours`` when
given); an exact tie goes to the first in row order (smaller H, then smaller S). The designs
whose error bars overlap the optimum's are reported as ``contenders``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import platform
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from templater import __version__
from templater.fab.mesh import DEFAULT_BASE_UM, TemplateOptions
from templater.fab.printer import PrinterProfile
from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.parameters import PARAMETERS
from templater.geometry.registry import KINDS, make_design, suggest
from templater.geometry.surfaces import ASPECT_MAX, SURFACES, Surface, parameter_specs
from templater.jobs.model import ModelInputs
from templater.jobs.outputs import atomic_output, check_output
from templater.jobs.presets import load_preset, load_printer, preset_names
from templater.jobs.progress import QUIET, Progress
from templater.jobs.sweep_cache import (
    SweepCache,
    cache_key,
    canonical,
    default_cache_dir,
    source_fingerprint,
)

__all__ = ["CSV_COLUMNS", "GRID_MAX_DESIGNS", "SchedulerError", "SweepSettings", "SweepRow",
           "SweepLimits", "SweepResult", "SweepFiles", "parse_grid", "check_design_options",
           "sweep_kinds", "default_folder_name", "compute_design", "run_sweep", "check_folder",
           "write_sweep", "csv_text", "sweep_record", "summary", "default_cache_dir"]

log = logging.getLogger(__name__)

GRID_AXIS_MAX = 10_000  # values per axis
GRID_MAX_DESIGNS = 250_000  # designs per sweep

# the code a cached result depends on (besides the values in its key); see sweep_cache
PREDICTION_SOURCES = ("solver", "templater/geometry")
PRINT_TIME_SOURCES = ("templater/geometry", "templater/fab", "templater/jobs/make.py",
                      "templater/jobs/budget.py", "templater/jobs/presets.py")

PREDICTION_FIELDS = ("area_ratio", "max_current_ratio", "max_current_ratio_error",
                     "max_excess_pressure_MPa", "max_excess_pressure_error_MPa",
                     "critical_current_ratio", "critical_current_ratio_error",
                     "critical_current_mA_cm2", "pressure_source")
PRINT_TIME_FIELDS = ("print_time_h", "note")

CSV_COLUMNS = ("H_um", "S_um", "name", "area_ratio", "max_current_ratio",
               "max_current_ratio_error", "max_excess_pressure_MPa",
               "max_excess_pressure_error_MPa", "critical_current_ratio",
               "critical_current_ratio_error", "critical_current_mA_cm2", "print_time_h",
               "pressure_source", "status", "printable", "reason")

_DESIGN_OPTIONS = ("form", "top_fraction", "edge_radius_um", "invert")


class SchedulerError(TemplaterError):
    """The Dask scheduler given by ``--scheduler`` cannot be used."""


# --- grid -------------------------------------------------------------------------------------

def _grid_error(parameter: str, context: str, text: str, why: str) -> DesignError:
    p = PARAMETERS[parameter]
    return DesignError(context, p.name, p.flag, text,
                       f"start:stop:step (step > 0, stop >= start) or a comma list of numbers, "
                       f"each in {p.allowed}; {why}", p.flag_unit)


def parse_grid(text: str, parameter: str, *, context: str) -> tuple[float, ...]:
    """Grid values of ``parameter`` (``height_um`` or ``period_um``) from ``start:stop:step``
    (the stop included when it lies on the grid) or ``a,b,c`` (or one number), in the flag's
    unit; sorted, without duplicates, each checked against the parameter's range.

    Decimal arithmetic makes ``0.1:0.3:0.1`` give 0.1, 0.2 and 0.3, exactly as typed.
    Raises :class:`DesignError` naming the flag.
    """
    text = str(text).strip()
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3:
                raise _grid_error(parameter, context, text, "a range needs three parts")
            start, stop, step = (Decimal(x.strip()) for x in parts)
            if not all(x.is_finite() for x in (start, stop, step)):
                raise _grid_error(parameter, context, text, "numbers must be finite")
            if step <= 0 or stop < start:
                raise _grid_error(parameter, context, text, "the step must be > 0 and "
                                  "stop >= start")
            span = (stop - start) / step
            count = int(span.to_integral_value(rounding="ROUND_FLOOR"))
            if span - count > Decimal("0.999999999"):  # stop on the grid up to rounding
                count += 1
            if count + 1 > GRID_AXIS_MAX:
                raise _grid_error(parameter, context, text,
                                  f"at most {GRID_AXIS_MAX} values per axis")
            values = [start + i * step for i in range(count + 1)]
        else:
            items = [x.strip() for x in text.split(",")]
            if not items or any(not x for x in items):
                raise _grid_error(parameter, context, text, "empty value")
            values = [Decimal(x) for x in items]
            if len(values) > GRID_AXIS_MAX:
                raise _grid_error(parameter, context, text,
                                  f"at most {GRID_AXIS_MAX} values per axis")
    except InvalidOperation:
        raise _grid_error(parameter, context, text, "not a number") from None
    out = []
    for value in values:
        if not value.is_finite():
            raise _grid_error(parameter, context, text, "numbers must be finite")
        out.append(PARAMETERS[parameter].check(float(value), context=context, cli=True))
    return tuple(sorted(set(out)))


def sweep_kinds() -> tuple[str, ...]:
    """Design kinds with an H and an S (every kind but flat)."""
    return tuple(k for k in KINDS
                 if {"height_um", "period_um"} <= set(parameter_specs(SURFACES[k])))


def check_design_options(kind: str, options: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Validate the fixed design options of a sweep (``form``, ``top_fraction``,
    ``edge_radius_um``, ``invert``; None = default) for ``kind``; sorted (name, value) pairs."""
    kinds = sweep_kinds()
    if kind not in kinds:
        allowed = " | ".join(kinds)
        raise DesignError("sweep", "kind", "kind", kind,
                          allowed + ("; flat has no H" if kind == "flat" else
                                     suggest(kind, KINDS)), "")
    specs = parameter_specs(SURFACES[kind])
    out = []
    for name, value in sorted(options.items()):
        if value is None:
            continue
        if name == "invert":
            if not isinstance(value, bool):
                raise DesignError(kind, "invert", "invert", value, "true or false", "")
            if value:
                out.append((name, True))
            continue
        if name not in _DESIGN_OPTIONS or name not in specs:
            users = [k for k in kinds if name in parameter_specs(SURFACES[k])]
            p = PARAMETERS.get(name)
            flag = p.flag if p is not None else name
            raise DesignError(kind, name, flag, value,
                              f"not an option of {kind} designs (used by: "
                              f"{', '.join(users) or 'none'})", "")
        out.append((name, specs[name].check(value, context=kind, cli=True)))
    return tuple(out)


def default_folder_name(kind: str, design_options: Sequence[tuple[str, Any]] = ()) -> str:
    """``KIND[-options]-sweep``: the design name without its ``-H..S..`` part."""
    probe = None
    for h, s in ((1.0, 10.0), (1.0, 100.0), (1.0, 5000.0)):
        try:
            probe = make_design(kind, height_um=h, period_um=s, **dict(design_options))
            break
        except DesignError:
            continue
    if probe is None:
        return f"{kind}-sweep"
    hs = f"-H{probe.name.split('-H', 1)[1].split('S', 1)[0]}S"
    head, tail = probe.name.split(hs, 1)
    tail = tail.split("-", 1)[1] if "-" in tail else ""
    return "-".join(x for x in (head, tail, "sweep") if x)


# --- settings and rows --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class SweepSettings:
    """What a sweep computes (everything that determines its rows); the grid values are
    sorted and duplicates dropped."""

    kind: str
    heights_um: tuple[float, ...]
    periods_um: tuple[float, ...]
    design_options: tuple[tuple[str, Any], ...] = ()
    model: ModelInputs
    use_tables: bool = True
    couple: bool = False
    print_time: bool = True
    max_print_hours: float | None = None

    def __post_init__(self) -> None:
        for name in ("heights_um", "periods_um"):  # rows in ascending H, then S
            object.__setattr__(self, name, tuple(sorted({float(v) for v in getattr(self, name)})))
        if not self.heights_um or not self.periods_um:
            raise DesignError("sweep", "grid", "H", "", "at least one H and one S", "")
        count = len(self.heights_um) * len(self.periods_um)
        if count > GRID_MAX_DESIGNS:
            raise DesignError("sweep", "grid", "H", f"{len(self.heights_um)} x "
                              f"{len(self.periods_um)} = {count} designs",
                              f"at most {GRID_MAX_DESIGNS} designs (--H values x --S values)",
                              "")
        if self.max_print_hours is not None:
            if not (self.max_print_hours > 0 and math.isfinite(self.max_print_hours)):
                raise DesignError("sweep", "max_print_hours", "max-print-hours",
                                  self.max_print_hours, "(0, inf)", "h")
            if not self.print_time:
                raise DesignError("sweep", "max_print_hours", "max-print-hours",
                                  self.max_print_hours,
                                  "only with print times (not with --no-print-time)", "h")

    @property
    def count(self) -> int:
        """Number of designs on the grid."""
        return len(self.heights_um) * len(self.periods_um)


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepRow:
    """One design of a sweep (user units: µm, MPa, mA/cm², hours). ``None``: not computed,
    or unknown (an error estimate the model cannot give)."""

    H_um: float
    S_um: float
    name: str
    area_ratio: float | None = None
    max_current_ratio: float | None = None
    max_current_ratio_error: float | None = None
    max_excess_pressure_MPa: float | None = None
    max_excess_pressure_error_MPa: float | None = None
    critical_current_ratio: float | None = None
    critical_current_ratio_error: float | None = None
    critical_current_mA_cm2: float | None = None
    print_time_h: float | None = None
    pressure_source: str = ""
    status: str = "ok"  # ok | failed
    printable: str = "no"  # yes | no | unknown
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready mapping (keys of :data:`CSV_COLUMNS`)."""
        return {c: getattr(self, c) for c in CSV_COLUMNS}

    @property
    def eligible(self) -> bool:
        """A candidate for the optimum: computed, printable, with a finite J*/J_flat."""
        r = self.critical_current_ratio
        return (self.status == "ok" and self.printable == "yes" and r is not None
                and math.isfinite(r))


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepLimits:
    """The printable limits of the sweep's kind and printer."""

    printer: str
    field_z_um: float
    base_um: float
    aspect_max: float
    max_print_hours: float | None

    @property
    def max_height_um(self) -> float:
        """The highest H whose default template (base + H) fits the printer's z range."""
        return self.field_z_um - self.base_um


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    """The rows (ordered by H, then S), the optimum and how they were obtained."""

    settings: SweepSettings
    rows: tuple[SweepRow, ...]
    best: SweepRow | None
    contenders: tuple[SweepRow, ...]  # eligible designs whose error bar overlaps the best's
    limits: SweepLimits
    presets: tuple[tuple[str, float, float], ...]  # the paper's designs of the kind: name, H, S
    computed: int
    from_cache: int
    failed: int
    rejected_cache_entries: int
    cache_folder: Path | None
    runner: str  # "serial", "processes(N)", "dask(ADDRESS)"
    wall_time_s: float
    fingerprints: Mapping[str, str] = field(default_factory=dict)

    @property
    def designs(self) -> int:
        """Number of designs (rows)."""
        return len(self.rows)


# --- one design (runs in a worker) ------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class _Task:
    index: int
    design: Surface
    model: ModelInputs
    use_tables: bool
    couple: bool
    prediction: bool  # compute the prediction (not in the cache)
    print_time: bool  # plan the default job for its print time (not in the cache)


def _num(value: Any) -> float | None:
    """A finite Python float, or None (NaN, infinities, None, a missing attribute)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _predict(design: Surface, model: ModelInputs, **options: Any) -> Any:
    """:func:`solver.prediction.predict` of ``design`` with every input of ``model``."""
    from templater.jobs.model import predict_design

    return predict_design(design, model, **options)


def _prediction_record(design: Surface, model: ModelInputs, *, use_tables: bool,
                       couple: bool) -> dict[str, Any]:
    from templater.geometry.units import a_m2_to_ma_cm2, pa_to_mpa

    pred = _predict(design, model, use_tables=use_tables, couple=couple, primary=False)
    # only the documented attributes of Prediction are read (the model grows other keys)
    m = float(pred.max_current_ratio)
    sec = pred.field.secondary
    sec_err = getattr(sec, "error_estimate", None)
    dp_err = getattr(pred, "max_excess_pressure_error_pa", None)
    ratio_err = getattr(pred, "critical_current_ratio_error", None)
    return {
        "area_ratio": _num(pred.field.area_ratio),
        "max_current_ratio": _num(m),
        "max_current_ratio_error": None if sec_err is None else _num(abs(float(sec_err)) * m),
        "max_excess_pressure_MPa": _num(pa_to_mpa(float(pred.max_excess_pressure_pa))),
        "max_excess_pressure_error_MPa": None if dp_err is None else _num(pa_to_mpa(
            float(dp_err))),
        "critical_current_ratio": _num(pred.critical_current_ratio),
        "critical_current_ratio_error": _num(ratio_err),
        "critical_current_mA_cm2": _num(a_m2_to_ma_cm2(float(pred.critical_current_a_m2))),
        "pressure_source": str(pred.pressure_source),
        "solve_time_s": _num(getattr(pred, "solve_time_s", None)),
    }


def _print_time_record(design: Surface) -> dict[str, Any]:
    """The print time of the design's default job, as ``templater compare`` plans it."""
    from templater.jobs.make import dry_run

    plan = dry_run(design, TemplateOptions.for_design(design), out_format="gwl").plan
    if plan is None:
        return {"print_time_h": None,
                "note": "print time not planned: pellet-scale default job (only estimated)"}
    return {"print_time_h": _num(plan.estimate.total_s / 3600.0), "note": ""}


def _short(value: float) -> str:
    """A number in its shortest exact form (25, 25.5), as in design names."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TemplaterError) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def compute_design(task: _Task) -> dict[str, Any]:
    """Compute what ``task`` asks for (runs in a worker process or on a Dask worker). Errors
    are returned, not raised: ``{"index", "templater", "fingerprints", "prediction" or
    "prediction_error", "print_time"}``."""
    out: dict[str, Any] = {
        "index": task.index, "templater": __version__,
        "fingerprints": {"prediction": source_fingerprint(PREDICTION_SOURCES),
                         "print_time": source_fingerprint(PRINT_TIME_SOURCES)},
    }
    if task.prediction:
        try:
            out["prediction"] = _prediction_record(task.design, task.model,
                                                   use_tables=task.use_tables,
                                                   couple=task.couple)
        except Exception as exc:  # a failing design is a row with its reason
            log.debug("%s: prediction failed", task.design.name, exc_info=True)
            out["prediction_error"] = _reason(exc)
    if task.print_time:
        try:
            out["print_time"] = _print_time_record(task.design)
        except TemplaterError as exc:  # e.g. a template higher than the z range: deterministic
            out["print_time"] = {"print_time_h": None,
                                 "note": f"print time not planned: {_reason(exc)}"}
        except Exception as exc:
            log.debug("%s: print time failed", task.design.name, exc_info=True)
            out["print_time"] = {"print_time_h": None,
                                 "note": f"print time not planned: {_reason(exc)}",
                                 "transient": True}
    return out


# --- runners --------------------------------------------------------------------------------

def _failure(task: _Task, why: str) -> dict[str, Any]:
    return {"index": task.index, "runner_error": why}


def _run_serial(tasks: Sequence[_Task]) -> Iterator[tuple[_Task, dict[str, Any]]]:
    for task in tasks:
        yield task, compute_design(task)


_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextlib.contextmanager
def _one_thread_each() -> Iterator[None]:
    """Processes started inside run one BLAS/OpenMP thread each (unless the user set these
    variables): N workers on N cores do not oversubscribe them (measured: 11 % faster with two
    workers on two cores; the numbers are the same)."""
    unset = [name for name in _THREAD_VARIABLES if name not in os.environ]
    for name in unset:
        os.environ[name] = "1"
    try:
        yield
    finally:
        for name in unset:
            os.environ.pop(name, None)


def _run_processes(tasks: Sequence[_Task], workers: int
                   ) -> Iterator[tuple[_Task, dict[str, Any]]]:
    """Local worker processes (spawned: no state shared with this process; they start while
    the designs are submitted)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("spawn"))
    finished = False
    try:
        with _one_thread_each():
            futures = {pool.submit(compute_design, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # e.g. a worker process killed (BrokenProcessPool)
                result = _failure(task, f"worker failed: {_reason(exc)}")
            yield task, result
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # interrupted: stop the workers now, not after their current design
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=10)


def _dask_client(scheduler: str):
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise SchedulerError(f"--scheduler needs dask.distributed ({exc}); "
                             "pip install 'dask[distributed]'") from exc
    path = Path(scheduler)
    try:
        if scheduler.endswith(".json") and path.is_file():
            return Client(scheduler_file=str(path), set_as_default=False, timeout="20s")
        return Client(scheduler, set_as_default=False, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise SchedulerError(f"--scheduler {scheduler!r}: cannot connect to a Dask scheduler "
                             f"({_reason(exc)}); give its address, e.g. tcp://host:8786, or "
                             "its scheduler file (.json)") from None


def _run_dask(tasks: Sequence[_Task], scheduler: str | Any
              ) -> Iterator[tuple[_Task, dict[str, Any]]]:
    """On a running Dask cluster: ``scheduler`` is an address, a scheduler file, or a
    ``distributed.Client``."""
    from distributed import as_completed

    own = isinstance(scheduler, str)
    client = _dask_client(scheduler) if own else scheduler
    futures = []
    try:
        run = uuid.uuid4().hex[:8]
        futures = [client.submit(compute_design, task, pure=False,
                                 key=f"templater-sweep-{task.design.name}-{run}")
                   for task in tasks]
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for future in as_completed(futures, loop=client.loop):
            task = by_key[future.key]
            try:
                result = future.result()
            except Exception as exc:  # a killed worker, a lost connection
                result = _failure(task, f"dask worker failed: {_reason(exc)}")
            future.release()
            yield task, result
    finally:
        for future in futures:
            if not future.done():
                future.cancel()
        if own:
            client.close()


# --- the sweep ------------------------------------------------------------------------------

def _model_fields(model: ModelInputs) -> dict[str, Any]:
    """Every input of ``model`` but the calibration label (materials, creep parameters,
    dendrite constants and whatever the model gains), read generically."""
    return {f.name: getattr(model, f.name) for f in fields(model) if f.name != "calibration"}


def _prediction_key(design: Surface, settings: SweepSettings, fingerprint: str) -> str:
    payload = {
        "design": design, "name": design.name, "model": _model_fields(settings.model),
        "options": {"use_tables": settings.use_tables, "couple": settings.couple,
                    "primary": False, "creep_divisions": 0},
        "sources": fingerprint,
    }
    return cache_key("prediction", payload)


def _print_time_key(design: Surface, profile: PrinterProfile, fingerprint: str) -> str:
    payload = {"design": design, "name": design.name,
               "template": TemplateOptions.for_design(design), "printer": profile,
               "format": "gwl", "sources": fingerprint}
    return cache_key("print_time", payload)


def _presets_of(kind: str) -> tuple[tuple[str, float, float], ...]:
    out = []
    for name in preset_names():
        design = load_preset(name).design
        if design.kind == kind:
            out.append((name, float(design.height_um), float(design.period_um)))
    return tuple(out)


def _printable(h_um: float, s_um: float, print_time: Mapping[str, Any] | None,
               limits: SweepLimits) -> tuple[str, str]:
    """("yes" | "no" | "unknown", why not)."""
    if h_um > limits.max_height_um:
        return "no", (f"H + base = {h_um + limits.base_um:g} um exceeds the printer's z range "
                      f"{limits.field_z_um:g} um")
    if h_um / s_um > limits.aspect_max:
        return "no", f"H/S = {h_um / s_um:g} > {limits.aspect_max:g}"
    if limits.max_print_hours is not None:
        hours = None if print_time is None else print_time.get("print_time_h")
        if hours is None:
            note = "" if print_time is None else print_time.get("note", "")
            return "unknown", (note or "print time unknown") + " (--max-print-hours)"
        if hours > limits.max_print_hours:
            return "no", (f"print time {hours:.3g} h exceeds --max-print-hours "
                          f"{limits.max_print_hours:g} h")
    return "yes", ""


def _row(h_um: float, s_um: float, name: str, prediction: Mapping[str, Any] | None,
         print_time: Mapping[str, Any] | None, error: str, limits: SweepLimits) -> SweepRow:
    values: dict[str, Any] = {}
    if prediction is not None:
        values = {k: prediction.get(k) for k in PREDICTION_FIELDS}
        values["pressure_source"] = str(values["pressure_source"] or "")
    hours = None if print_time is None else print_time.get("print_time_h")
    if error or prediction is None:
        return SweepRow(H_um=h_um, S_um=s_um, name=name, print_time_h=hours, status="failed",
                        printable="no", reason=error or "not computed", **values)
    printable, why = _printable(h_um, s_um, print_time, limits)
    if not why and print_time is not None and print_time.get("note"):
        why = str(print_time["note"])
    return SweepRow(H_um=h_um, S_um=s_um, name=name, print_time_h=hours, status="ok",
                    printable=printable, reason=why, **values)


def _optimum(rows: Sequence[SweepRow]) -> tuple[SweepRow | None, tuple[SweepRow, ...]]:
    """Highest J*/J_flat among eligible rows; ties to the first row; overlapping error bars."""
    best = None
    for row in rows:  # rows are in (H, S) order: strict > keeps the first of a tie
        if row.eligible and (best is None or row.critical_current_ratio
                             > best.critical_current_ratio):
            best = row
    if best is None:
        return None, ()
    low = best.critical_current_ratio - (best.critical_current_ratio_error or 0.0)
    contenders = tuple(r for r in rows if r.eligible and r is not best
                       and r.critical_current_ratio + (r.critical_current_ratio_error or 0.0)
                       >= low)
    return best, contenders


def run_sweep(settings: SweepSettings, *, workers: int | None = None,
              scheduler: str | Any | None = None, cache: Path | None = None,
              progress: Progress = QUIET,
              on_row: Callable[[SweepRow], None] | None = None) -> SweepResult:
    """Predict every design of the grid (see the module docstring).

    Parameters
    ----------
    settings : SweepSettings
        Kind, grid, design options, model inputs and options.
    workers : int, optional
        Local worker processes (default ``os.cpu_count()``; 1 = in this process).
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``), scheduler file, or client; replaces
        the local workers.
    cache : Path, optional
        Cache folder (None: no cache). See :mod:`templater.jobs.sweep_cache`.
    progress : Progress
        Progress bar on stderr (designs done, from cache, failed, time left).
    """
    import sys

    from tqdm import tqdm

    t0 = time.perf_counter()
    store = SweepCache(cache)
    profile = load_printer()
    limits = SweepLimits(printer=profile.name, field_z_um=float(profile.field_z_um),
                         base_um=float(DEFAULT_BASE_UM), aspect_max=float(ASPECT_MAX),
                         max_print_hours=settings.max_print_hours)
    fps = {"prediction": source_fingerprint(PREDICTION_SOURCES),
           "print_time": source_fingerprint(PRINT_TIME_SOURCES)}
    options = dict(settings.design_options)

    grid = [(h, s) for h in settings.heights_um for s in settings.periods_um]
    names: list[str] = []
    errors: list[str] = [""] * len(grid)
    predictions: list[dict[str, Any] | None] = [None] * len(grid)
    times: list[dict[str, Any] | None] = [None] * len(grid)
    keys: list[tuple[str, str | None] | None] = [None] * len(grid)
    tasks: list[_Task] = []
    from_cache = 0
    for i, (h, s) in enumerate(grid):
        try:
            design = make_design(settings.kind, height_um=h, period_um=s, **options)
        except DesignError as exc:
            names.append(f"{settings.kind}-H{_short(h)}S{_short(s)}")
            errors[i] = _reason(exc)
            continue
        names.append(design.name)
        pkey = _prediction_key(design, settings, fps["prediction"])
        tkey = (_print_time_key(design, profile, fps["print_time"])
                if settings.print_time else None)
        keys[i] = (pkey, tkey)
        predictions[i] = store.get(pkey, "prediction", PREDICTION_FIELDS)
        if tkey is not None:
            times[i] = store.get(tkey, "print_time", PRINT_TIME_FIELDS)
        need_p = predictions[i] is None
        need_t = tkey is not None and times[i] is None
        if need_p or need_t:
            tasks.append(_Task(index=i, design=design, model=settings.model,
                               use_tables=settings.use_tables, couple=settings.couple,
                               prediction=need_p, print_time=need_t))
        else:
            from_cache += 1

    failed = sum(1 for e in errors if e)
    computed = 0
    if scheduler is not None:
        runner = f"dask({scheduler if isinstance(scheduler, str) else 'client'})"
        results = _run_dask(tasks, scheduler) if tasks else _run_serial(())
    else:
        n = min(max(1, int(workers or os.cpu_count() or 1)), max(1, len(tasks)))
        runner = "serial" if n == 1 else f"processes({n})"
        results = _run_serial(tasks) if n == 1 else _run_processes(tasks, n)

    with tqdm(desc="sweep", total=len(grid), initial=len(grid) - len(tasks), unit="design",
              file=sys.stderr, disable=not progress.enabled, leave=False,
              dynamic_ncols=True) as bar, contextlib.closing(results):
        bar.set_postfix_str(f"from cache {from_cache}, failed {failed}")
        for task, result in results:
            i = task.index
            pkey, tkey = keys[i]  # type: ignore[misc]
            why = result.get("runner_error", "")
            if not why and (result.get("templater") != __version__
                            or result.get("fingerprints") != fps):
                theirs = (result.get("fingerprints") or {}).get("prediction") or "?"
                why = (f"the worker's templater code differs from this sweep's (version "
                       f"{result.get('templater')} vs {__version__}, model sources "
                       f"{theirs[:12]} vs {fps['prediction'][:12]}); run the same templater "
                       "on the workers (result not used)")
            if why:
                errors[i] = why
            else:
                if task.prediction:
                    if "prediction" in result:
                        predictions[i] = result["prediction"]
                        store.put(pkey, "prediction", task.design.name, result["prediction"])
                    else:
                        errors[i] = result.get("prediction_error") or "prediction failed"
                if task.print_time and "print_time" in result:
                    record = dict(result["print_time"])
                    transient = record.pop("transient", False)
                    times[i] = record
                    if not transient and tkey is not None:
                        store.put(tkey, "print_time", task.design.name, record)
            if errors[i]:
                failed += 1
            elif task.prediction:
                computed += 1
            else:
                from_cache += 1  # only the print time was missing
            bar.set_postfix_str(f"from cache {from_cache}, failed {failed}", refresh=False)
            bar.update(1)

    rows = []
    for i, (h, s) in enumerate(grid):
        row = _row(h, s, names[i], predictions[i], times[i], errors[i], limits)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    best, contenders = _optimum(rows)
    return SweepResult(settings=settings, rows=tuple(rows), best=best, contenders=contenders,
                       limits=limits, presets=_presets_of(settings.kind), computed=computed,
                       from_cache=from_cache, failed=failed,
                       rejected_cache_entries=store.rejected, cache_folder=store.folder,
                       runner=runner, wall_time_s=time.perf_counter() - t0, fingerprints=fps)


# --- outputs --------------------------------------------------------------------------------

def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_text(rows: Sequence[SweepRow]) -> str:
    """``sweep.csv``: a header and one line per row; floats in ``repr`` (shortest exact) form,
    empty cells for values not computed or unknown."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_value(getattr(row, c)) for c in CSV_COLUMNS])
    return buf.getvalue()


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: canonical(getattr(obj, f.name)) for f in fields(obj)}


def _versions(result: SweepResult) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {"templater": __version__, "python": platform.python_version()}
    for dist in ("numpy", "scipy", "scikit-fem", "shapely", "trimesh", "matplotlib"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    out["model_sources_sha256"] = result.fingerprints.get("prediction")
    out["print_time_sources_sha256"] = result.fingerprints.get("print_time")
    return out


def _best_dict(row: SweepRow | None) -> dict[str, Any] | None:
    return None if row is None else row.to_dict()


def sweep_record(result: SweepResult) -> dict[str, Any]:
    """``sweep.json``: settings, versions, limits, the optimum, its contenders and the rows
    (no wall times and no cache counts: the same sweep gives the same file)."""
    s = result.settings
    lim = result.limits
    settings = {
        "kind": s.kind, "design_options": dict(s.design_options),
        "H_um": list(s.heights_um), "S_um": list(s.periods_um),
        "model": {name: (_fields(value) if is_dataclass(value) else canonical(value))
                  for name, value in _model_fields(s.model).items()},
        "calibration": s.model.calibration,
        "use_tables": s.use_tables, "couple": s.couple, "print_time": s.print_time,
        "max_print_hours": s.max_print_hours,
        "print_time_job": "default job of each design: 3 mm square footprint, base "
                          f"{lim.base_um:g} um, GWL plan as `templater compare`",
    }
    limits = {"printer": lim.printer, "field_z_um": lim.field_z_um, "base_um": lim.base_um,
              "max_H_um": lim.max_height_um, "aspect_max": lim.aspect_max,
              "max_print_hours": lim.max_print_hours}
    rows = result.rows
    return {
        "settings": settings, "versions": _versions(result), "limits": limits,
        "counts": {"designs": len(rows), "ok": sum(r.status == "ok" for r in rows),
                   "failed": sum(r.status == "failed" for r in rows),
                   "printable": sum(r.eligible for r in rows)},
        "optimum": _best_dict(result.best),
        "optimum_rule": "highest critical_current_ratio among rows with status ok and "
                        "printable yes; an exact tie goes to the first row (smaller H, then "
                        "smaller S); contenders: those rows whose ratio + error reaches the "
                        "optimum's ratio - error",
        "contenders": [r.name for r in result.contenders],
        "presets": [{"name": n, "H_um": h, "S_um": v} for n, h, v in result.presets],
        "rows": [r.to_dict() for r in rows],
    }


def summary(result: SweepResult, folder: Path | None = None) -> dict[str, Any]:
    """The ``--json`` summary object."""
    best = result.best
    best_obj = None
    if best is not None:
        best_obj = {"name": best.name, "H_um": best.H_um, "S_um": best.S_um,
                    "critical_current_ratio": best.critical_current_ratio,
                    "critical_current_ratio_error": best.critical_current_ratio_error,
                    "critical_current_mA_cm2": best.critical_current_mA_cm2,
                    "max_current_ratio": best.max_current_ratio,
                    "max_excess_pressure_MPa": best.max_excess_pressure_MPa,
                    "area_ratio": best.area_ratio, "print_time_h": best.print_time_h,
                    "contenders": [r.name for r in result.contenders]}
    return {"designs": result.designs, "computed": result.computed,
            "from_cache": result.from_cache, "failed": result.failed, "best": best_obj,
            "wall_time_s": result.wall_time_s, "runner": result.runner,
            "cache": None if result.cache_folder is None else str(result.cache_folder),
            "rejected_cache_entries": result.rejected_cache_entries,
            "output": None if folder is None else str(folder)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepFiles:
    """What :func:`write_sweep` wrote."""

    folder: Path
    files: tuple[str, ...]


def write_sweep(result: SweepResult, folder: Path, *, overwrite: bool = False) -> SweepFiles:
    """Write ``sweep.csv``, ``sweep.json`` and ``sweep.png`` into ``folder``, atomically."""
    from templater.jobs.sweep_plot import write_sweep_map

    folder = Path(folder)
    with atomic_output(folder, overwrite=overwrite, what="sweep folder") as tmp:
        (tmp / "sweep.csv").write_text(csv_text(result.rows), encoding="utf-8")
        (tmp / "sweep.json").write_text(
            json.dumps(sweep_record(result), indent=2, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8")
        write_sweep_map(result, tmp / "sweep.png")
    return SweepFiles(folder=folder, files=("sweep.csv", "sweep.json", "sweep.png"))


def check_folder(folder: Path, *, overwrite: bool) -> None:
    """Refuse an output folder ``write_sweep`` could not write, before the sweep runs."""
    check_output(Path(folder), overwrite=overwrite, what="sweep folder")
