"""Design names read back into designs; `templater compare` tables and its bar chart."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from templater.cli import main
from templater.geometry import DesignError, EggBox, Flat, FrustumArray, PyramidArray
from templater.geometry.registry import design_from_name

DESIGNS = [
    EggBox(height_um=25, period_um=150), EggBox(height_um=2.5, period_um=33.3, form="sum"),
    EggBox(height_um=25, period_um=150, invert=True),
    PyramidArray(height_um=30, period_um=100, edge_radius_um=1.25),
    FrustumArray(height_um=25, period_um=150, top_fraction=0.3, edge_radius_um=1, invert=True),
    Flat(), Flat(period_um=100),
]


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_a_design_name_reads_back_as_the_same_design(design):
    assert design_from_name(design.name) == design


@pytest.mark.parametrize("name", ["eggbox-H25", "pyramid-H25S150-x1", "eggbox-H25.0S150",
                                  "eggbox-product-H25S150", "eggbox-H500S150"])
def test_names_that_templater_would_not_write_are_refused(name):
    with pytest.raises(DesignError):
        design_from_name(name)


def test_compare_table_json_and_bar_chart(tmp_path):
    png = tmp_path / "c.png"
    res = CliRunner().invoke(main, ["compare", "flat", "eggbox-H25S150", "eggbox-H50S150",
                                    "--no-print-time", "--json", "--png", str(png)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["name"] for r in rows] == ["flat", "eggbox-H25S150", "eggbox-H50S150"]
    assert rows[0]["critical_current_ratio"] == 1.0
    assert rows[0]["critical_current_ratio_error"] == 0.0
    for r in rows[1:]:
        assert 0 < r["critical_current_ratio"] <= r["area_ratio"]
        assert r["critical_current_ratio_error"] > 0
    # the chart shows the three ratios: bar heights in pixels are proportional to them
    img = imread(png)[:, :, :3]
    blue = np.all(np.abs(img - np.array([0x1F, 0x77, 0xB4]) / 255) < 0.02, axis=2)
    cols = np.nonzero(blue.any(axis=0))[0]
    bars = np.split(cols, np.nonzero(np.diff(cols) > 1)[0] + 1)
    assert len(bars) == 3
    side = [b[len(b) // 4] for b in bars]  # off the error bar drawn at the centre
    bottom = max(np.nonzero(blue[:, c])[0].max() for c in side)
    heights = [bottom - np.nonzero(blue[:, c])[0].min() for c in side]
    ratios = [r["critical_current_ratio"] for r in rows]
    np.testing.assert_allclose(np.array(heights) / heights[0], np.array(ratios) / ratios[0],
                               atol=0.01)


def test_compare_refuses_an_unknown_design_in_one_line():
    res = CliRunner().invoke(main, ["compare", "eggbx-H25S150"])
    assert res.exit_code == 2
    assert res.output.startswith("Error:") and "did you mean 'eggbox'" in res.output


def test_compare_prints_the_notes_of_a_design(monkeypatch):
    """An egg-box shallower than the tables (H/S = 1/300) gets its Π from a creep solve: the
    comparison says why below the table and in the JSON (the tabulated egg-box and the
    band-resolved pyramid table print no note). The JSON run renders the rows of the first
    run (the creep solve takes about 20 s)."""
    import templater.jobs.compare as library

    solved = []
    compare_designs = library.compare_designs

    def once(*args, **kwargs):
        if not solved:
            solved.append(compare_designs(*args, **kwargs))
        return solved[0]

    monkeypatch.setattr(library, "compare_designs", once)
    args = ["compare", "eggbox-H25S150", "eggbox-H1S300", "pyramid-H25S150", "--no-print-time"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    notes = [line for line in res.output.splitlines() if line.startswith("note (")]
    assert len(notes) == 1 and notes[0].startswith("note (eggbox-H1S300): ")
    assert "not from the tables" in notes[0]
    rows = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert rows[0]["notes"] == [] and rows[2]["notes"] == []
    assert "not from the tables" in rows[1]["notes"][0]
    assert len(solved) == 1  # the patched library function was the one the CLI called
