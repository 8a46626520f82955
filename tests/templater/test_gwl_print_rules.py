"""Print rules replayed from the written job with the independent reader (docs/printer-guide.md,
"Print rules"): at every shared seam the block written later overhangs the block written earlier;
the first layer lies the documented depth below the interface; no zero stage moves; every block
approached moving +x and +y; points per ``Write`` and the field radius within the profile.

The analysis uses only ``templater.fab.gwl_reader`` and the sidecar (never the writer's code); the
helpers below also measure full-size jobs (``measure_job``).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from templater.fab.check import check_job
from templater.fab.gwl_plan import plan_gwl
from templater.fab.gwl_reader import Replay, read_job
from templater.fab.mesh import TemplateOptions, build_template_mesh
from templater.geometry.surfaces import EggBox, Flat, FrustumArray, PyramidArray
from templater.jobs.presets import load_printer
from templater.jobs.writer import write_job

# small blocks so that a few hundred micrometres give a 3 x 3 or larger grid
PROFILE = dataclasses.replace(load_printer(), block_max_um=60.0)
BASE_UM = 3.0

CASES = {
    "eggbox": (EggBox(height_um=5.0, period_um=40.0), 160.0, "square"),
    "pyramid": (PyramidArray(height_um=5.0, period_um=40.0, edge_radius_um=1.0), 120.0, "square"),
    "frustum": (FrustumArray(height_um=5.0, period_um=40.0, top_fraction=0.5), 120.0, "square"),
    "flat": (Flat(period_um=40.0), 120.0, "square"),
    "frustum-circle": (FrustumArray(height_um=5.0, period_um=40.0, top_fraction=0.5), 130.0,
                       "circle"),
}


# --- replay analysis (reader + sidecar only) ---------------------------------------------------


def _placements(replay: Replay) -> dict[int, dict]:
    """Per placement (1-based, writing order): field-centre xy and the chunks written."""
    out: dict[int, dict] = {}
    for c in replay.chunks:
        if c.placement == 0 or c.stop <= c.first:
            continue
        p = out.setdefault(c.placement, {"centre": c.translation_um[:2].copy(), "chunks": []})
        p["chunks"].append(c)
    return out


def _points(chunks) -> np.ndarray:
    """Written points of a placement in global coordinates, (n, 3)."""
    return np.vstack([c.points_local + c.translation_um for c in chunks])


def seam_leans(replay: Replay, side: dict) -> list[dict]:
    """Every shared seam: the two placements, the earlier and the later, and which one overhangs.

    A seam between a lower block A (left, or below) and an upper block B (right, or above) sits at
    s(z) = (max of A + min of B)/2 across it, measured on the base-plate layers (full footprint)
    in a band along the seam's middle half. If s moves towards B with height, A overhangs B.
    Seams clipped by the footprint (overlap width not constant over the layers) are skipped.
    """
    pitch = float(side["stitching"]["pitch_um"])
    base = float(side["template"]["base_um"])
    places = _placements(replay)
    centres = np.array([places[k]["centre"] for k in sorted(places)])
    origin = centres.min(axis=0)
    grid = {tuple(np.round((places[k]["centre"] - origin) / pitch).astype(int).tolist()): k
            for k in places}
    cache: dict[int, np.ndarray] = {}

    def pts(k: int) -> np.ndarray:
        if k not in cache:
            p = _points(places[k]["chunks"])
            cache[k] = p[p[:, 2] <= base + 1e-6]
        return cache[k]

    seams = []
    for (i, j), a in sorted(grid.items()):
        for axis, nb in ((0, (i + 1, j)), (1, (i, j + 1))):
            b = grid.get(nb)
            if b is None:
                continue
            pa, pb = pts(a), pts(b)
            other = 1 - axis
            mid = 0.5 * (places[a]["centre"][other] + places[b]["centre"][other])
            za, zb = np.round(pa[:, 2], 6), np.round(pb[:, 2], 6)
            s, width, zs = [], [], []
            for z in sorted(set(za.tolist()) & set(zb.tolist())):
                qa = pa[(za == z) & (np.abs(pa[:, other] - mid) < 0.25 * pitch)]
                qb = pb[(zb == z) & (np.abs(pb[:, other] - mid) < 0.25 * pitch)]
                if len(qa) and len(qb):
                    hi, lo = qa[:, axis].max(), qb[:, axis].min()
                    s.append(0.5 * (hi + lo))
                    width.append(hi - lo)
                    zs.append(z)
            if len(zs) < 2 or np.ptp(width) > 1e-2 or min(width) <= 0:
                continue  # clipped by the footprint: not a shared straight seam
            slope = float(np.polyfit(zs, s, 1)[0])
            over = a if slope > 1e-6 else b if slope < -1e-6 else 0
            seams.append({"a": a, "b": b, "axis": "xy"[axis], "slope": slope,
                          "earlier": min(a, b), "later": max(a, b), "overhangs": over})
    return seams


def stage_report(replay: Replay) -> dict:
    """Zero moves, x reversals and blocks approached moving -x or -y (job file order)."""
    moves = [(no, name, arg) for path, no, name, arg in replay.commands
             if name in ("movestagex", "movestagey")]
    events = sorted(moves + [(no, "include", None) for path, no, _ in replay.includes
                             if path == replay.job_path], key=lambda e: e[0])
    zero = sum(1 for _, _, arg in moves if arg == 0)
    xs = [arg for _, name, arg in moves if name == "movestagex" and arg]
    reversals = sum(1 for u, v in zip(xs[:-1], xs[1:], strict=True) if (u > 0) != (v > 0))
    last = {"movestagex": 0.0, "movestagey": 0.0}
    against = 0
    for _, name, arg in events:
        if name == "include":
            against += last["movestagex"] < 0 or last["movestagey"] < 0
        elif arg:
            last[name] = arg
    return {"zero_moves": zero, "x_reversals": reversals, "approached_against": against}


def field_report(replay: Replay) -> dict:
    """Most points in one Write and the farthest point from its field centre (µm)."""
    most = max(int((f.ends - f.starts).max()) for f in replay.files.values() if len(f.ends))
    radius = 0.0
    for c in replay.chunks:
        xy = c.points_local[:, :2] + c.field_offset_um[:2]
        if len(xy):
            radius = max(radius, float(np.sqrt((xy * xy).sum(axis=1)).max()))
    return {"max_points_per_write": most, "max_field_radius_um": radius}


def first_layer_below_interface_um(replay: Replay) -> float:
    """Depth of the lowest written layer below the interface set by FindInterfaceAt."""
    z0 = min(float(c.points_local[:, 2].min() + c.translation_um[2]) for c in replay.chunks
             if c.stop > c.first)
    (iface,) = set(replay.find_interface_at_um)
    return iface - z0


def measure_job(folder: Path | str) -> dict:
    """All print-rule numbers of a job folder (used by the tests and for full-size jobs)."""
    folder = Path(folder)
    name = json.loads((folder / "design.json").read_text())["name"]
    side = json.loads((folder / f"{name}_job.json").read_text())
    replay = read_job(folder / f"{name}_job.gwl")
    seams = seam_leans(replay, side)
    wrong = [s for s in seams if s["overhangs"] != s["later"]]
    return {"seams": len(seams), "seams_wrong_lean": len(wrong), **stage_report(replay),
            **field_report(replay),
            "first_layer_below_interface_um": first_layer_below_interface_um(replay),
            "side": side, "replay": replay, "seam_list": seams}


# --- tests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(CASES))
def job(request, tmp_path_factory):
    design, size, shape = CASES[request.param]
    folder = tmp_path_factory.mktemp(request.param) / "job"
    options = TemplateOptions.for_design(design, shape=shape, size_um=size, base_um=BASE_UM)
    mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                               tolerance_um=options.tolerance_um)
    write_job(design, folder, options=options, version="test", mesh=mesh,
              gwl=plan_gwl(design, options, profile=PROFILE, mesh=mesh), recipe=PROFILE)
    return {"key": request.param, "folder": folder, **measure_job(folder)}


def test_later_block_overhangs_earlier_at_every_seam(job):
    side = job["side"]
    nx, ny = side["stitching"]["grid"]
    seams = job["seam_list"]
    if job["key"].endswith("circle"):
        assert len(seams) >= 4  # the seams the footprint does not clip
    else:
        assert len(seams) == (nx - 1) * ny + nx * (ny - 1) and len(seams) >= 12
    for s in seams:
        assert s["overhangs"] == s["later"], s
        # the lean is the shear: tan(30 deg) per um of height
        assert abs(s["slope"]) == pytest.approx(np.tan(np.radians(PROFILE.shear_angle_deg)),
                                                rel=0.05)
    assert "later" in side["stitching"]["seam_rule"]


def test_first_layer_depth_below_interface_is_the_documented_value(job):
    side = job["side"]
    assert job["first_layer_below_interface_um"] == pytest.approx(0.5, abs=1e-6)
    assert side["gwl"]["first_layer_below_interface_um"] == pytest.approx(0.5)
    assert side["gwl"]["interface_z_um"] == PROFILE.find_interface_at_um
    assert side["slicing"]["first_layer_z_um"] == 0.0
    assert side["slicing"]["first_layer_relative_to_interface_um"] == pytest.approx(-0.5)
    assert set(job["replay"].find_interface_at_um) == {PROFILE.find_interface_at_um}


def test_stage_moves_no_zero_moves_and_one_approach_direction(job):
    assert job["zero_moves"] == 0
    assert job["approached_against"] == 0
    assert np.allclose(job["replay"].stage_end_um, 0.0, atol=2e-3)
    assert job["side"]["gwl"]["stage_start_um"] == [0.0, 0.0]
    # within a row the stage only moves +x: reversals come in pairs at row changes and at the
    # return to the start, plus one when the first move is shorter than the overshoot
    nx, ny = job["side"]["stitching"]["grid"]
    assert job["x_reversals"] <= 2 * ny + 1


def test_points_per_write_and_field_radius_within_the_profile(job):
    assert job["max_points_per_write"] <= PROFILE.max_points_per_write
    assert job["max_field_radius_um"] <= PROFILE.usable_field_radius_um + 1e-3
    assert job["side"]["stitching"]["usable_field_radius_um"] == PROFILE.usable_field_radius_um


def test_long_contours_are_split_without_changing_the_line(tmp_path):
    """A large single block (one contour of ~1000 points) is split at the profile's limit."""
    design = EggBox(height_um=3.0, period_um=150.0)
    prof = dataclasses.replace(load_printer(), max_points_per_write=50)
    options = TemplateOptions.for_design(design, size_um=150.0, base_um=1.0)
    plan = plan_gwl(design, options, profile=prof)
    ref = plan_gwl(design, options, profile=dataclasses.replace(prof, max_points_per_write=10**5))
    assert plan.totals.write_length_um == pytest.approx(ref.totals.write_length_um, rel=1e-12)
    assert plan.totals.segments == ref.totals.segments
    assert plan.totals.polylines > ref.totals.polylines
    for prog in plan.programs:
        for _, _, contours, _ in prog.layers:
            assert all(len(c) <= 50 for c in contours)


def test_check_flags_each_broken_print_rule(tmp_path):
    """``templater check`` reports zero moves, a -x approach, a FindInterfaceAt that disagrees
    with the sidecar, and too many points per Write."""
    design, size, shape = CASES["eggbox"]
    good = tmp_path / "good"
    options = TemplateOptions.for_design(design, shape=shape, size_um=size, base_um=1.0)
    write_job(design, good, options=options, version="test",
              gwl=plan_gwl(design, options, profile=PROFILE), recipe=PROFILE)
    assert check_job(good) == []
    job = f"{design.name}_job.gwl"

    def broken(name: str, fn) -> list[str]:
        folder = tmp_path / name
        shutil.copytree(good, folder)
        path = folder / job
        path.write_bytes(fn(path.read_bytes().decode("ascii")).encode("ascii"))
        return check_job(folder)

    probs = broken("zero", lambda t: t.replace("FindInterfaceAt 0.500\r\ninclude",
                                               "MoveStageY 0.000\r\nFindInterfaceAt 0.500\r\n"
                                               "include", 1))
    assert any(re.search(r"_job\.gwl:\d+: zero stage move", p) for p in probs), probs
    # move the overshoot's return before the overshoot: the block is approached moving -x
    probs = broken("against", lambda t: re.sub(r"(MoveStageX -[\d.]+)\r\n(MoveStageX [\d.]+)",
                                               r"\2\r\n\1", t, count=1))
    assert any("approached moving -x or -y" in p for p in probs), probs
    probs = broken("iface", lambda t: t.replace("FindInterfaceAt 0.500", "FindInterfaceAt 1.000"))
    assert any("sidecar says the interface is at z = 0.5" in p for p in probs), probs
    assert any("below the interface" in p for p in probs), probs
    side = good / f"{design.name}_job.json"
    rec = json.loads(side.read_text())
    rec["printer"]["max_points_per_write"] = 3
    side.write_text(json.dumps(rec))
    assert any("points in one Write, the profile allows 3" in p for p in check_job(good))
