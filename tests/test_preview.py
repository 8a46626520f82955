"""``make`` writes ``preview.png``: the picture shows what the job holds (read back pixel by
pixel), is byte-identical run to run and between the in-memory and the streamed path, and is
written atomically with the rest of the folder."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.image import imread

import templater.jobs.budget as budget
import templater.jobs.writer as writer
from templater.cli import main
from templater.fab.mesh import TemplateOptions
from templater.geometry import EggBox, PyramidArray
from templater.jobs.make import make_job
from templater.jobs.preview import (
    LAYER_AXES,
    LAYOUT_AXES,
    PREVIEW_DPI,
    PREVIEW_NAME,
    PREVIEW_SIZE_IN,
    SURFACE_AXES,
    preview_layer,
)

EGGBOX = EggBox(height_um=25, period_um=150)
WIDTH, HEIGHT = (round(v * PREVIEW_DPI) for v in PREVIEW_SIZE_IN)
VIRIDIS_TOP = np.array([0xFD, 0xE7, 0x25]) / 255
VIRIDIS_BOTTOM = np.array([0x44, 0x01, 0x54]) / 255


def _make(design, out, *, size_um=450.0, **kw):
    options = TemplateOptions.for_design(design, size_um=size_um)
    return make_job(design, out, options=options, **kw)


@pytest.fixture(scope="module")
def eggbox_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("preview") / "job"
    return _make(EGGBOX, out), out


def _image(path):
    img = imread(path)
    assert img.shape[:2] == (HEIGHT, WIDTH)
    return img[:, :, :3]


def _box(axes):
    """Pixel columns and rows of an axes rectangle's interior (2 px in from the frame)."""
    left, bottom, w, h = axes
    c0, c1 = int(left * WIDTH) + 2, int((left + w) * WIDTH) - 2
    r0, r1 = int((1 - bottom - h) * HEIGHT) + 2, int((1 - bottom) * HEIGHT) - 2
    return c0, c1, r0, r1


def _to_um(row, col, axes, extent):
    """Pixel (row from the top, column) → data position (µm) of a panel."""
    left, bottom, w, h = axes
    x0, x1, y0, y1 = extent
    x = x0 + ((col + 0.5) / WIDTH - left) / w * (x1 - x0)
    y = y0 + ((HEIGHT - row - 0.5) / HEIGHT - bottom) / h * (y1 - y0)
    return x, y


def _to_px(x, y, axes, extent):
    """Data position (µm) → pixel (row, column) of a panel."""
    left, bottom, w, h = axes
    x0, x1, y0, y1 = extent
    col = ((x - x0) / (x1 - x0) * w + left) * WIDTH - 0.5
    row = HEIGHT - ((y - y0) / (y1 - y0) * h + bottom) * HEIGHT - 0.5
    return np.rint(row).astype(int), np.rint(col).astype(int)


def _nearest(img, axes, colour):
    c0, c1, r0, r1 = _box(axes)
    dist = np.linalg.norm(img[r0:r1, c0:c1] - colour, axis=2)
    r, c = np.unravel_index(np.argmin(dist), dist.shape)
    return r + r0, c + c0


def _runs(line):
    """Number of runs of True in a 1-D boolean array."""
    line = np.asarray(line, dtype=int)
    return int(np.count_nonzero(np.diff(np.r_[0, line]) == 1))


def test_make_lists_the_preview_and_dry_run_writes_none(tmp_path):
    args = ["make", "eggbox", "--H", "25", "--S", "150", "--size", "300", "--no-predict"]
    res = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert re.search(r"^preview\.png: template surface, block_\d{3}\.gwl slice \d+ "
                     r"\(z = [\d.]+ um\), layout of 4 blocks$", res.output, re.M)
    assert "preview.png" in res.output.splitlines()[-1]  # the "wrote DIR/ (...)" line
    assert (tmp_path / "a" / PREVIEW_NAME).is_file()
    res = CliRunner().invoke(main, [*args, "--dry-run", "-o", str(tmp_path / "d")])
    assert res.exit_code == 0 and "preview" not in res.output
    assert not (tmp_path / "d").exists()


def test_preview_is_a_registered_output(eggbox_job):
    report, out = eggbox_job
    assert out / PREVIEW_NAME in report.job.files
    assert report.job.preview.file_name == PREVIEW_NAME
    assert (out / ".templater-job").is_file()


@pytest.mark.parametrize("design", [EGGBOX, PyramidArray(height_um=25, period_um=150)],
                         ids=lambda d: d.name)
def test_surface_panel_extremes_sit_at_the_design_extremes(design, eggbox_job, tmp_path):
    report = eggbox_job[0] if design == EGGBOX else _make(design, tmp_path / "p",
                                                          size_um=300.0, out_format="stl")
    out = report.job.out_dir
    img = _image(out / PREVIEW_NAME)
    extent = report.job.preview.surface_extent_um
    assert extent == (0.0, 2 * design.period_um, 0.0, 2 * design.period_um)
    h = design.height_um
    # brightest: the template's highest point, where the electrolyte e = 0 (a Li tip)
    x, y = _to_um(*_nearest(img, SURFACE_AXES, VIRIDIS_TOP), SURFACE_AXES, extent)
    assert design.z_um(x, y) < 0.03 * h, (x, y)
    # darkest: the template's lowest point, an electrolyte peak (e = H)
    x, y = _to_um(*_nearest(img, SURFACE_AXES, VIRIDIS_BOTTOM), SURFACE_AXES, extent)
    assert design.z_um(x, y) > 0.97 * h, (x, y)


def _edges(img, rows, cols):
    """Outline pixels (black block edges or the red footprint): a dark green channel."""
    return img[rows, cols, 1] < 0.35


def test_layout_panel_shows_every_block(eggbox_job):
    report, _ = eggbox_job
    plan = report.job.plan
    img = _image(report.job.out_dir / PREVIEW_NAME)
    extent = report.job.preview.layout_extent_um
    c0, c1, r0, r1 = _box(LAYOUT_AXES)
    pitch = plan.grid.pitch_um
    nx, ny = plan.grid.shape
    assert (nx, ny) == (3, 3) and len(plan.placements) == 9
    # along a pixel row through the first row of blocks: nx outlined squares (nx + 1 edges)
    row, _ = _to_px(0.0, 0.25 * pitch, LAYOUT_AXES, extent)
    assert _runs(_edges(img, row, slice(c0, c1))) - 1 == nx
    # and up a pixel column through the first column
    _, col = _to_px(0.25 * pitch, 0.0, LAYOUT_AXES, extent)
    assert _runs(_edges(img, slice(r0, r1), col)) - 1 == ny
    # every placement is filled: the centre of each block is not background
    for block in plan.placements:
        x0, y0, x1, y1 = block.nominal_um
        r, c = _to_px(x0 + 0.3 * (x1 - x0), y0 + 0.8 * (y1 - y0), LAYOUT_AXES, extent)
        assert not np.all(img[r, c] > 0.97), block.index


def _slice_points(path, k):
    """Points of slice ``k`` of a block file, read back from the GWL text."""
    text = path.read_text(encoding="ascii")
    part = text.split(f"% Slice {k}, ", 1)[1].split("% Slice", 1)[0]
    pts = [tuple(map(float, line.split()[:2])) for line in part.splitlines()[1:]
           if line and line[0] in "-0123456789"]
    return np.array(pts)


def test_layer_panel_draws_the_layer_written_to_the_gwl(eggbox_job):
    report, out = eggbox_job
    plan, info = report.job.plan, report.job.preview
    prog, (k, z, contours, hatches) = preview_layer(plan, report.options, EGGBOX.height_um)
    assert (info.block_file, info.slice_index, info.z_um) == (prog.file_name, k, z)
    counts = [plan.placement_program.count(p.number) for p in plan.programs]
    assert counts[prog.number - 1] == max(counts)
    pts = _slice_points(out / f"{EGGBOX.name}_files" / prog.file_name, k)
    assert len(pts) == sum(len(c) for c in contours) + 2 * len(hatches)
    img = _image(out / PREVIEW_NAME)
    extent = info.layer_extent_um
    rows, cols = _to_px(pts[:, 0], pts[:, 1], LAYER_AXES, extent)
    inked = ~np.all(img[rows, cols] > 0.9, axis=1)
    assert inked.mean() > 0.98  # every written point lands on a drawn line
    # and nothing but this layer is drawn in colour: the coloured pixels span its bounding box
    c0, c1, r0, r1 = _box(LAYER_AXES)
    panel = img[r0:r1, c0:c1]
    colour = np.ptp(panel, axis=2) > 0.25
    rr, cc = np.nonzero(colour)
    (x_lo, y_hi), (x_hi, y_lo) = (_to_um(r0 + rr.min(), c0 + cc.min(), LAYER_AXES, extent),
                                  _to_um(r0 + rr.max(), c0 + cc.max(), LAYER_AXES, extent))
    px = (extent[1] - extent[0]) / (LAYER_AXES[2] * WIDTH)  # µm per pixel
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    assert np.allclose([x_lo, y_lo, x_hi, y_hi], [*lo, *hi], atol=3 * px)


def test_preview_is_byte_identical_run_to_run_and_when_streamed(eggbox_job, tmp_path,
                                                                monkeypatch):
    report, out = eggbox_job
    again = _make(EGGBOX, tmp_path / "again")
    assert (tmp_path / "again" / PREVIEW_NAME).read_bytes() == (out / PREVIEW_NAME).read_bytes()
    assert again.job.preview == report.job.preview
    monkeypatch.setattr(budget, "STREAM_MIN_FACETS", 0)  # the pellet path on a small job
    streamed = _make(EGGBOX, tmp_path / "streamed")
    assert streamed.job.facets == report.job.facets
    assert (tmp_path / "streamed" / PREVIEW_NAME).read_bytes() == \
        (out / PREVIEW_NAME).read_bytes()


def test_stl_only_job_shows_the_recipe_blocks_and_no_layer(tmp_path):
    report = _make(EGGBOX, tmp_path / "s", out_format="stl")
    info = report.job.preview
    assert info.block_file is None and info.layer_extent_um is None and info.placements == 9
    img = _image(tmp_path / "s" / PREVIEW_NAME)
    c0, c1, r0, r1 = _box(LAYER_AXES)
    assert not np.any(np.ptp(img[r0:r1, c0:c1], axis=2) > 0.25)  # no coloured line
    row, _ = _to_px(0.0, 0.25 * 150.0, LAYOUT_AXES, info.layout_extent_um)
    assert _runs(_edges(img, row, slice(*_box(LAYOUT_AXES)[:2]))) - 1 == 3


def test_a_failed_preview_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no picture")

    monkeypatch.setattr(writer, "write_preview", broken)
    with pytest.raises(RuntimeError, match="no picture"):
        _make(EGGBOX, tmp_path / "job", size_um=300.0)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary sibling
