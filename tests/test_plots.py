"""Pictures of a prediction show what the numbers say: the hottest pixel of each map sits at the
prediction's maximum (or at one of its symmetry images)."""

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

from solver.prediction import predict
from templater.cli import main
from templater.geometry import EggBox, PyramidArray
from templater.jobs.plots import MAP_AXES, MAP_DPI, MAP_SIZE_IN, write_prediction_plots


def _pixel_to_um(row, col, period_um):
    """Pixel (row from the top, column) of a map → position in the cell (µm)."""
    height = MAP_SIZE_IN[1] * MAP_DPI
    width = MAP_SIZE_IN[0] * MAP_DPI
    left, bottom, w, h = MAP_AXES
    x = ((col + 0.5) / width - left) / w * period_um
    y = ((height - row - 0.5) / height - bottom) / h * period_um
    return x, y


def _images(x, y, s):
    """Symmetry images of (x, y) in the square-symmetric cell [0, S]²."""
    pts = []
    for a, b in ((x, y), (y, x)):
        for u in (a, s - a):
            for v in (b, s - b):
                pts.append((u % s, v % s))
    return np.array(pts)


def _hottest(png_path, colour):
    img = imread(png_path)[:, :, :3]
    height, width = img.shape[:2]
    left, bottom, w, h = MAP_AXES
    c0, c1 = int(left * width) + 2, int((left + w) * width) - 2
    r0, r1 = int((1 - bottom - h) * height) + 2, int((1 - bottom) * height) - 2
    inner = img[r0:r1, c0:c1]
    dist = np.linalg.norm(inner - np.asarray(colour), axis=2)
    r, c = np.unravel_index(np.argmin(dist), dist.shape)
    return r + r0, c + c0


def _near_a_maximum(pos, max_um, s, tol):
    d = np.abs(_images(*max_um, s) - np.array(pos))
    d = np.minimum(d, s - d)  # periodic
    return float(np.min(np.hypot(d[:, 0], d[:, 1]))) < tol


@pytest.mark.parametrize("design", [EggBox(height_um=25, period_um=150),
                                    PyramidArray(height_um=25, period_um=150)],
                         ids=lambda d: d.name)
def test_current_maps_peak_where_the_prediction_says(design, tmp_path):
    pred = predict(design, creep_divisions=3, use_tables=False)
    out = write_prediction_plots(pred, tmp_path / "plots")
    assert set(out.files) == {"current_primary.png", "current_secondary.png", "pressure.png",
                              "profile.png"}
    s = design.period_um
    yellow = np.array([0xFD, 0xE7, 0x25]) / 255  # top of viridis
    for key, res in (("primary", pred.field.primary), ("secondary", pred.field.secondary)):
        row, col = _hottest(tmp_path / "plots" / f"current_{key}.png", yellow)
        pos = _pixel_to_um(row, col, s)
        max_um = tuple(v / 1e-6 for v in res.max_location_m)
        # within a tenth of a period: the maximum of a pyramid ridge is broad along the ridge
        assert _near_a_maximum(pos, max_um, s, 0.1 * s), (key, pos, max_um)
    # the pressure map's brightest pixel (top of magma) sits at the creep maximum; a rounded
    # pyramid ridge concentrates its pressure peak in the 1 µm rounding band, narrower than a
    # pixel (0.4 µm per pixel would be needed), so only smooth designs are checked by pixel
    if design.is_smooth:
        row, col = _hottest(tmp_path / "plots" / "pressure.png",
                            np.array([0xFC, 0xFD, 0xBF]) / 255)
        pos = _pixel_to_um(row, col, s)
        assert _near_a_maximum(pos, pred.creep.max_location_um, s, 0.1 * s), pos


def test_plot_folder_is_refused_before_predicting_and_tables_give_a_note(tmp_path):
    (tmp_path / "p").mkdir()
    res = CliRunner().invoke(main, ["predict", "eggbox", "--H", "25", "--S", "150", "--plot",
                                    str(tmp_path / "p")])
    assert res.exit_code == 2 and "solve time" not in res.output
    res = CliRunner().invoke(main, ["predict", "eggbox", "--H", "25", "--S", "150", "--plot",
                                    str(tmp_path / "q")])
    assert res.exit_code == 0, res.output
    assert "no pressure map" in res.output and (tmp_path / "q" / "profile.png").exists()
