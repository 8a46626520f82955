"""`check_job` and the GWL reader flag every deliberately broken copy of a good job, with file
and line for malformed GWL and never a traceback."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import templater.fab.check as check_mod
from templater.fab.check import check_job
from templater.fab.gwl_plan import plan_gwl
from templater.fab.gwl_reader import GwlError, read_job
from templater.fab.mesh import TemplateOptions
from templater.geometry.surfaces import EggBox
from templater.jobs.presets import load_printer
from templater.jobs.writer import write_job

PROFILE = dataclasses.replace(load_printer(), block_max_um=60.0)
DESIGN = EggBox(height_um=4.0, period_um=40.0)
NAME = DESIGN.name


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good") / "job"
    options = TemplateOptions.for_design(DESIGN, size_um=120.0, base_um=1.0)
    write_job(DESIGN, folder, options=options, version="test",
              gwl=plan_gwl(DESIGN, options, profile=PROFILE), recipe=PROFILE)
    assert check_job(folder) == []
    return folder


@pytest.fixture
def copy(good, tmp_path):
    dst = tmp_path / "broken"
    shutil.copytree(good, dst)
    return dst


def block(folder: Path, k: int = 1) -> Path:
    return folder / f"{NAME}_files" / f"block_{k:03d}.gwl"


def edit(path: Path, fn) -> None:
    text = path.read_bytes().decode("ascii")
    path.write_bytes(fn(text).encode("ascii"))


def nth_coordinate_line(text: str, n: int) -> int:
    count = 0
    for i, line in enumerate(text.split("\r\n")):
        if re.match(r"^-?\d", line):
            count += 1
            if count == n:
                return i
    raise AssertionError("not enough coordinate lines")


def replace_line(text: str, index: int, new: str) -> str:
    lines = text.split("\r\n")
    lines[index] = new
    return "\r\n".join(lines)


def one(problems: list[str], pattern: str) -> str:
    hits = [p for p in problems if re.search(pattern, p)]
    assert hits, problems
    assert all("\n" not in p and "Traceback" not in p for p in problems)
    return hits[0]


def test_missing_block_file(copy):
    block(copy, 2).unlink()
    msg = one(check_job(copy), r"block_002\.gwl.*file not found")
    assert re.search(rf"{NAME}_job\.gwl:\d+: include", msg)


def test_bad_number_names_file_and_line(copy):
    text = block(copy).read_bytes().decode("ascii")
    i = nth_coordinate_line(text, 10)
    edit(block(copy), lambda t: replace_line(t, i, "1.2.3 4.000 0.500"))
    one(check_job(copy), rf"block_001\.gwl:{i + 1}: .*'1\.2\.3' is not a finite number")


def test_nan_coordinate(copy):
    text = block(copy).read_bytes().decode("ascii")
    i = nth_coordinate_line(text, 3)
    edit(block(copy), lambda t: replace_line(t, i, "nan 0.000 0.500"))
    one(check_job(copy), rf"block_001\.gwl:{i + 1}:")


def test_unknown_command(copy):
    edit(block(copy, 3), lambda t: t.replace("Write\r\n", "Write\r\nFrobnicate 2\r\n", 1))
    one(check_job(copy), r"block_003\.gwl:\d+: unknown command 'Frobnicate'")


def test_variables_are_rejected(copy):
    edit(copy / f"{NAME}_job.gwl", lambda t: t.replace("LaserPower 100.000",
                                                        "LaserPower $solidLaserPower"))
    one(check_job(copy), r"_job\.gwl:\d+: variables are not supported")


def test_loop_is_rejected(copy):
    edit(block(copy), lambda t: t.replace("Write\r\n", "Write\r\nrepeat 3\r\n", 1))
    one(check_job(copy), r"block_001\.gwl:\d+: 'repeat' is not supported")


def test_trailing_points_without_write(copy):
    edit(block(copy, 4), lambda t: t[: t.rstrip("\r\n").rfind("\r\n")] + "\r\n")
    one(check_job(copy), r"block_004\.gwl:\d+: \d+ point\(s\) after the last Write")


def test_point_outside_the_field(copy):
    text = block(copy).read_bytes().decode("ascii")
    i = nth_coordinate_line(text, 5)
    z = text.split("\r\n")[i].split()[2]
    edit(block(copy), lambda t: replace_line(t, i, f"250.000 0.000 {z}"))
    problems = check_job(copy)
    one(problems, r"beyond the usable field radius 190 um")
    one(problems, r"sidecar: write length|segments")


def test_missing_layer_breaks_coverage(copy):
    def drop_slice(text: str) -> str:
        start = text.index("% Slice 3,")
        end = text.index("% Slice 4,")
        return text[:start] + text[end:]

    for k in range(1, 10):
        if block(copy, k).exists():
            edit(block(copy, k), drop_slice)
    problems = check_job(copy)
    one(problems, r"coverage: layer z = 3\.000 um")
    one(problems, r"sidecar: (polylines|layers_written)")


def test_sidecar_totals_mismatch(copy):
    path = copy / f"{NAME}_job.json"
    side = json.loads(path.read_text())
    side["totals"]["write_length_um"] *= 1.01
    side["estimate"]["total_s"] += 5.0
    path.write_text(json.dumps(side))
    problems = check_job(copy)
    one(problems, r"sidecar: write length")
    one(problems, r"sidecar: estimated time")


def test_stage_move_error(copy):
    edit(copy / f"{NAME}_job.gwl", lambda t: t.replace("MoveStageX 40.000", "MoveStageX 41.000", 1))
    problems = check_job(copy)
    one(problems, r"stage ends at")
    one(problems, r"coverage|bounds")


def test_header_out_of_order(copy):
    edit(copy / f"{NAME}_job.gwl",
         lambda t: t.replace("LaserPower 100.000\r\nScanSpeed 100000.000",
                             "ScanSpeed 100000.000\r\nLaserPower 100.000"))
    one(check_job(copy), r"header order")


def test_truncated_stl(copy):
    stl = copy / f"{NAME}.stl"
    stl.write_bytes(stl.read_bytes()[:-50])
    one(check_job(copy), r"\.stl: not a well-formed binary STL")


def test_stl_not_matching_design(copy):
    path = copy / "design.json"
    rec = json.loads(path.read_text())
    rec["design"]["H_um"] = 6.0
    path.write_text(json.dumps(rec))
    problems = check_job(copy)
    one(problems, r"\.stl: bounds .* do not match design\.json")
    one(problems, r"sidecar: design differs")


def test_unreferenced_block_file(copy):
    shutil.copy(block(copy), block(copy, 99))
    one(check_job(copy), r"block_099\.gwl: block file never included")


def test_reader_errors_carry_file_and_line(tmp_path):
    job = tmp_path / "j.gwl"
    job.write_bytes(b"ScanSpeed 1000.000\r\n0.000 0.000 0.000\r\n1.000 0.000 0.000\r\n")
    with pytest.raises(GwlError) as err:
        read_job(job)
    assert err.value.line == 2 and str(err.value).startswith(f"{job}:2: ")
    job.write_bytes(b"ScanSpeed 1000.000\r\ninclude sub\\x.gwl\r\n")
    with pytest.raises(GwlError, match=r"j\.gwl:2: include 'sub\\\\x\.gwl': file not found"):
        read_job(job)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.gwl").write_bytes(b"include ../j.gwl\r\n")
    with pytest.raises(GwlError, match=r"x\.gwl:1: include '\.\./j\.gwl': include cycle"):
        read_job(job)


def test_reader_replays_offsets_and_comments(tmp_path):
    """TipSlicer idiom (MoveStage + AddOffset), tabs, LF endings, quoted % and 4th column."""
    (tmp_path / "b.gwl").write_text("% block\n1\t2\t3\n4 2 3 50\nWrite\n")
    (tmp_path / "j.gwl").write_text(
        'ScanSpeed 2000\nMessageOut "100% done"\nMoveStageX 10\nAddXOffset -10\n'
        "include b.gwl\nXOffset 0\nZOffset 1.5\ninclude b.gwl % again\n")
    r = read_job(tmp_path / "j.gwl")
    lines = [pl for c in r.chunks for pl in c.polylines()]
    assert [pl.tolist() for pl in lines] == [[[1, 2, 3], [4, 2, 3]],
                                             [[11, 2, 4.5], [14, 2, 4.5]]]
    t = r.totals()
    assert t["write_length_um"] == 6.0 and t["segments"] == 2 and t["placements"] == 2
    assert t["write_time_s"] == pytest.approx(6.0 / 2000)


def test_gwl_only_job_is_checked_against_the_rebuilt_template(tmp_path):
    options = TemplateOptions.for_design(DESIGN, size_um=80.0, base_um=1.0)
    job = write_job(DESIGN, tmp_path / "g", options=options, version="test", stl=False,
                    gwl=plan_gwl(DESIGN, options, profile=PROFILE))
    names = sorted(p.name for p in job.files)
    assert names == ["design.json", f"{NAME}_files", f"{NAME}_job.gwl", f"{NAME}_job.json"]
    assert check_job(tmp_path / "g") == []
    edit(block(tmp_path / "g"), lambda t: t.replace("Write\r\n", "Write\r\nBogus\r\n", 1))
    one(check_job(tmp_path / "g"), r"block_001\.gwl:\d+: unknown command 'Bogus'")


def test_stl_only_job_gets_a_recipe(tmp_path):
    options = TemplateOptions.for_design(DESIGN, size_um=80.0, base_um=1.0)
    job = write_job(DESIGN, tmp_path / "s", options=options, version="test", recipe=PROFILE)
    assert sorted(p.name for p in job.files) == ["design.json", f"{NAME}.recipe", f"{NAME}.stl"]
    assert "Splitting.BlockSize = X:40 Y:40" in (tmp_path / "s" / f"{NAME}.recipe").read_text()
    assert check_job(tmp_path / "s") == []


def test_clean_bill_where_section_crossings_fall_on_rounding_half_way_points(tmp_path):
    """Regression: an inverted frustum on a circle, whose STL sections have crossings at
    x.xxxxxx5 µm; rounding used to split them and the checker's section lost whole parts."""
    from templater.geometry.surfaces import FrustumArray

    design = FrustumArray(height_um=6.0, period_um=30.0, top_fraction=0.3, invert=True)
    options = TemplateOptions.for_design(design, shape="circle", size_um=150.0, base_um=2.0)
    profile = dataclasses.replace(load_printer(), block_max_um=70.0)
    write_job(design, tmp_path / "f", options=options, version="test",
              gwl=plan_gwl(design, options, profile=profile), recipe=profile)
    assert check_job(tmp_path / "f") == []


# --- streamed STL, windowed coverage and progress (pellet-scale check) ---------------------------
STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def stl_records(path: Path) -> np.ndarray:
    return np.frombuffer(path.read_bytes()[84:], dtype=STL_RECORD).copy()


def write_records(path: Path, rec: np.ndarray) -> None:
    head = path.read_bytes()[:80]
    path.write_bytes(head + len(rec).to_bytes(4, "little") + rec.tobytes())


@pytest.fixture(params=[1 << 20, 7], ids=["one-chunk", "7-facet-chunks"])
def chunked(request, monkeypatch):
    """Run with the default chunk size and with tiny chunks (chunk boundaries everywhere)."""
    monkeypatch.setattr(check_mod, "_CHUNK", request.param)
    return request.param


def test_streamed_stl_of_a_good_job_is_clean(good, chunked):
    assert check_job(good) == []


def test_stl_with_a_missing_facet_is_not_watertight(copy, chunked):
    stl = copy / f"{NAME}.stl"
    write_records(stl, stl_records(stl)[1:])
    problems = check_job(copy)
    one(problems, r"\.stl: not a closed, consistently wound volume \(watertight=False")
    one(problems, r"\.stl: \d+ facets, design\.json says")


def test_stl_with_a_flipped_facet_is_not_consistently_wound(copy, chunked):
    stl = copy / f"{NAME}.stl"
    rec = stl_records(stl)
    rec["v"][5] = rec["v"][5][::-1].copy()
    write_records(stl, rec)
    one(check_job(copy), r"\.stl: not a closed.*watertight=True, winding=False")


def test_stl_turned_inside_out_has_negative_volume(copy):
    stl = copy / f"{NAME}.stl"
    rec = stl_records(stl)
    rec["v"] = rec["v"][:, ::-1].copy()
    write_records(stl, rec)
    problems = check_job(copy)
    one(problems, r"\.stl: not a closed.*winding=True, volume=-")
    one(problems, r"\.stl: volume -")


def test_stl_with_a_nan_coordinate(copy):
    stl = copy / f"{NAME}.stl"
    rec = stl_records(stl)
    rec["v"][3, 1, 2] = np.nan
    write_records(stl, rec)
    one(check_job(copy), r"\.stl: cannot be loaded \(non-finite coordinates\)")


@pytest.fixture(scope="module")
def tall(tmp_path_factory):
    """A 3 x 3 block job of a taller egg-box (H 8, S 40 um)."""
    design = EggBox(height_um=8.0, period_um=40.0)
    folder = tmp_path_factory.mktemp("tall") / "job"
    options = TemplateOptions.for_design(design, size_um=120.0, base_um=1.0)
    write_job(design, folder, options=options, version="test",
              gwl=plan_gwl(design, options, profile=PROFILE), recipe=PROFILE)
    return folder, design.name


def test_windowed_coverage_is_clean_and_flags_a_missing_layer(tall, tmp_path, monkeypatch,
                                                              chunked):
    """Force the per-distinct-block windows (as on pellet-scale jobs, where each window slices
    only the STL's triangles of its band): clean, and a layer dropped from one block file is
    found in that block's window."""
    folder, name = tall
    monkeypatch.setattr(check_mod, "FULL_COVERAGE_PLACEMENTS", 0)
    assert check_job(folder) == []
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)

    def drop_slice(text: str) -> str:
        return text[:text.index("% Slice 3,")] + text[text.index("% Slice 4,"):]

    edit(broken / f"{name}_files" / "block_005.gwl", drop_slice)
    one(check_job(broken), r"coverage: layer z = 3\.000 um: IoU .* in window")


@pytest.mark.parametrize("ray", [1, -1])
def test_section_raster_needs_segments_on_the_ray_side_only(ray):
    """Two squares side by side; the window sees only the one on the side away from the ray,
    the other one's segments are dropped: the raster equals the one from all segments."""
    def square(x0, y0, s):
        p = np.array([[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s]])
        return np.stack([p, np.roll(p, -1, axis=0)], axis=1)

    left, right = square(0.0, 0.0, 10.0), square(20.0, 2.0, 10.0)
    segs = np.concatenate([left, right])
    # window over the square on the ray's side, segments of the other square dropped
    x0, y0, pix, shape = (18.1, -1.05, 0.25, (60, 60)) if ray > 0 else (-3.1, -1.05, 0.25,
                                                                          (60, 60))
    kept = right if ray > 0 else left
    ref = check_mod._section_raster(segs, x0, y0, pix, shape)
    assert ref.any() and np.array_equal(check_mod._section_raster(kept, x0, y0, pix, shape, ray),
                                        ref)
    # a window cutting through a square: parity from the ray side
    wx0 = 25.05 if ray > 0 else 4.05
    full = check_mod._section_raster(segs, wx0, y0, pix, shape)
    part = segs[segs[:, :, 0].max(axis=1) >= wx0] if ray > 0 \
        else segs[segs[:, :, 0].min(axis=1) <= wx0 + shape[1] * pix]
    assert full.any() and np.array_equal(
        check_mod._section_raster(part, wx0, y0, pix, shape, ray), full)


def test_slice_points_of_shared_edges_are_identical(good):
    """Both facets of an edge give bit-identical section points: every point occurs an even
    number of times (closed polygons, nothing to weld)."""
    rec = stl_records(good / f"{NAME}.stl")
    tri = rec["v"].astype(np.float64)
    for seg in check_mod._slice(tri, [0.0, 1.0, 2.5, 4.0]).values():
        assert len(seg)
        _, counts = np.unique(seg.reshape(-1, 2), axis=0, return_counts=True)
        assert np.all(counts % 2 == 0)


def test_progress_only_on_a_terminal(good, capsys, monkeypatch):
    assert check_job(good, progress=True) == []
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert check_job(good, progress=False) == []
    assert capsys.readouterr().err == ""
    assert check_job(good, progress=True) == []
    err = capsys.readouterr().err
    assert "check STL" in err and "check coverage" in err
