"""Read a user's measured critical currents (CSV) for calibration.

Format: a header row, then one measurement per row. Columns:

* ``ccd_mA_cm2`` (required): measured critical current for dendrites, mA/cm², > 0;
* the design, either ``preset`` (a name from ``templater list``) or ``kind``, ``H_um``, ``S_um``
  plus optional ``form``, ``top_fraction``, ``edge_radius_um``, ``invert`` (true/false);
  a flat cell is ``kind = flat`` (H_um, S_um may be empty).

Lines starting with ``#`` and empty lines are skipped. Every problem is reported with the file,
line number, column and reason.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from templater.geometry.errors import DesignError, TemplaterError
from templater.geometry.registry import make_design
from templater.geometry.surfaces import Surface
from templater.geometry.units import ma_cm2_to_a_m2
from templater.jobs.presets import load_preset

__all__ = ["Measurement", "read_measurements", "MeasurementError"]

_NUMERIC = {"H_um": "height_um", "S_um": "period_um", "top_fraction": "top_fraction",
            "edge_radius_um": "edge_radius_um"}


class MeasurementError(TemplaterError, ValueError):
    """A malformed measurement file (message names file, line, column and reason)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Measurement:
    """One measured design: the design and its critical current [A/m²]."""

    line: int
    design: Surface
    critical_current_a_m2: float


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MeasurementError(f"{path}:{line}: column {column!r}: {text!r} is not a number") \
            from None
    if not math.isfinite(value):
        raise MeasurementError(f"{path}:{line}: column {column!r}: {text!r} is not finite")
    return value


def _delimiter(lines: list[str]) -> str:
    """``,`` unless the header uses ``;`` (spreadsheets in decimal-comma locales) or tabs."""
    header = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    for sep in (",", ";", "\t"):
        if "ccd_mA_cm2" + sep in header or sep + "ccd_mA_cm2" in header:
            return sep
    return ","


def read_measurements(path: Path) -> list[Measurement]:
    """Parse a measurement CSV (see module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise MeasurementError(f"{path}: is a folder, not a CSV file")
    try:
        # utf-8-sig: spreadsheet programs put a byte-order mark before the header
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MeasurementError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise MeasurementError(f"{path}: not UTF-8 text (save the sheet as CSV UTF-8)") from None
    except OSError as exc:
        raise MeasurementError(f"{path}: cannot read: {exc.strerror}") from None
    lines = text.splitlines()  # LF, CRLF or CR
    sep = _delimiter(lines)
    rows = [(i + 1, r) for i, r in enumerate(csv.reader(lines, delimiter=sep))
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if sep == ";":  # decimal-comma locale: 1,5 means 1.5
        rows = [(i, [c.replace(",", ".") for c in r]) for i, r in rows]
    if not rows:
        raise MeasurementError(f"{path}: no header row")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if "ccd_mA_cm2" not in header:
        raise MeasurementError(f"{path}:{header_line}: header lacks the column 'ccd_mA_cm2'")
    if "preset" not in header and not {"kind", "H_um", "S_um"} <= set(header):
        raise MeasurementError(f"{path}:{header_line}: header needs 'preset' or "
                               "'kind', 'H_um', 'S_um'")
    out = []
    for line, raw in rows[1:]:
        if len(raw) != len(header):
            raise MeasurementError(f"{path}:{line}: expected {len(header)} columns "
                                   f"({', '.join(header)}), found {len(raw)}")
        row = {h: c.strip() for h, c in zip(header, raw, strict=True)}
        ccd = _number(path, line, "ccd_mA_cm2", row["ccd_mA_cm2"])
        if ccd <= 0:
            raise MeasurementError(f"{path}:{line}: column 'ccd_mA_cm2': {ccd:g} must be > 0")
        try:
            if row.get("preset"):
                design = load_preset(row["preset"]).design
            else:
                kind = row.get("kind", "")
                params: dict[str, object] = {}
                for col, name in _NUMERIC.items():
                    if row.get(col):
                        if kind == "flat" and col == "H_um":
                            continue
                        params[name] = _number(path, line, col, row[col])
                if row.get("form"):
                    params["form"] = row["form"]
                if row.get("invert"):
                    flag = row["invert"].lower()
                    if flag not in ("true", "false", "1", "0", "yes", "no"):
                        raise MeasurementError(f"{path}:{line}: column 'invert': "
                                               f"{row['invert']!r} is not true/false")
                    params["invert"] = flag in ("true", "1", "yes")
                design = make_design(kind, **params)
        except DesignError as exc:
            raise MeasurementError(f"{path}:{line}: {exc}") from None
        out.append(Measurement(line=line, design=design, critical_current_a_m2=ma_cm2_to_a_m2(ccd)))
    if not out:
        raise MeasurementError(f"{path}: no measurements after the header")
    return out
