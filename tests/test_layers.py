"""The package layers hold at import time (import-linter checks the static imports in CI)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _loaded_after(statement: str) -> list[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def test_solver_loads_only_the_geometry_layer_of_templater():
    mods = [m for m in _loaded_after("import solver") if m.split(".")[0] == "templater"]
    outside = [m for m in mods if m != "templater" and not m.startswith("templater.geometry")]
    assert outside == [], outside


@pytest.mark.parametrize("statement", ["import templater", "import templater.geometry"])
def test_geometry_is_light(statement):
    mods = _loaded_after(statement)
    heavy = {"trimesh", "shapely", "scipy", "skfem", "click", "matplotlib", "solver"}
    assert heavy.isdisjoint(m.split(".")[0] for m in mods)


def test_the_full_prediction_api_loads_no_fabrication_code():
    mods = _loaded_after("import solver; solver.predict")
    assert not [m for m in mods if m.startswith(("templater.fab", "templater.jobs", "trimesh"))]
