"""``prediction.json`` of a job folder: the prediction without wall times (deterministic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from solver.prediction import Prediction

__all__ = ["prediction_record", "write_prediction"]


def _untimed(value: Any) -> Any:
    # wall times would make the file differ from run to run
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "solve_time_s"}
    return value


def prediction_record(prediction: Prediction) -> dict[str, Any]:
    """The ``templater predict --json`` object without ``solve_time_s`` entries."""
    return _untimed(prediction.to_json_dict())


def write_prediction(folder: Path, prediction: Prediction) -> int:
    """Write ``prediction.json`` into ``folder``; returns its size in bytes."""
    data = (json.dumps(prediction_record(prediction), indent=2, sort_keys=True)
            + "\n").encode("utf-8")
    (Path(folder) / "prediction.json").write_bytes(data)
    return len(data)
