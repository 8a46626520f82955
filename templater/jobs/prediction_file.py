"""``prediction.json`` of a job folder: the prediction without wall times (deterministic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from solver.prediction import Prediction

__all__ = ["prediction_record", "PredictionWriter"]


def _untimed(value: Any) -> Any:
    # wall times would make the file differ from run to run
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "solve_time_s"}
    return value


def prediction_record(prediction: Prediction) -> dict[str, Any]:
    """The ``templater predict --json`` object without ``solve_time_s`` entries."""
    return _untimed(prediction.to_json_dict())


class PredictionWriter:
    """A job-folder writer adding ``prediction.json``."""

    __slots__ = ("prediction",)

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction

    def __call__(self, folder: Path, design: Any, options: Any, mesh: Any) -> dict[str, Any]:
        """Write ``prediction.json`` into ``folder``."""
        text = json.dumps(prediction_record(self.prediction), indent=2, sort_keys=True) + "\n"
        (Path(folder) / "prediction.json").write_text(text, encoding="utf-8")
        return {"critical_current_ratio": self.prediction.critical_current_ratio}
