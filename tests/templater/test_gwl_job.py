"""GWL jobs for every kind: format, header, includes, field limits, geometry, coverage, overlap,
hatch spacing, totals and determinism."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
import trimesh

from templater.fab.check import _sections, check_job, section_polygon
from templater.fab.gwl_format import planned_sizes
from templater.fab.gwl_plan import plan_gwl
from templater.fab.gwl_reader import read_job
from templater.fab.mesh import TemplateOptions, build_template_mesh
from templater.fab.slicer import TopSurface, layer_heights_um
from templater.geometry.surfaces import EggBox, Flat, FrustumArray, PyramidArray
from templater.jobs.presets import load_printer
from templater.jobs.writer import write_job

# small blocks so that a few hundred micrometres give several blocks (and shared interior ones)
PROFILE = dataclasses.replace(load_printer(), block_max_um=60.0)
BASE_UM = 2.0
HATCH = PROFILE.hatch_um

CASES = {
    "eggbox": (EggBox(height_um=5.0, period_um=40.0), 200.0, "square"),
    "pyramid": (PyramidArray(height_um=5.0, period_um=40.0), 120.0, "square"),
    "frustum": (FrustumArray(height_um=5.0, period_um=40.0, top_fraction=0.5), 120.0, "square"),
    "flat": (Flat(period_um=40.0), 120.0, "square"),
    "eggbox-circle": (EggBox(height_um=5.0, period_um=40.0, form="sum"), 130.0, "circle"),
}

HEADER = ["InvertZAxis", "GalvoScanMode", "ContinuousMode", "PiezoSettlingTime",
          "GalvoAcceleration", "StageVelocity", "XOffset", "YOffset", "ZOffset", "PowerScaling",
          "LaserPower", "ScanSpeed", "FindInterfaceAt"]
NUM = r"-?\d+\.\d{3}"
COMMANDS = re.compile(
    rf"^(Write|GalvoScanMode|ContinuousMode|NewStructure|InvertZAxis 1|"
    rf"(PiezoSettlingTime|GalvoAcceleration|StageVelocity|[XYZ]Offset|PowerScaling|LaserPower|"
    rf"ScanSpeed|FindInterfaceAt|MoveStage[XY]) {NUM}|include \S+_files\\block_\d{{3,}}\.gwl|"
    rf'MessageOut "[^"%]*"|{NUM} {NUM} {NUM})$')


def make(folder: Path, key: str) -> Path:
    design, size, shape = CASES[key]
    options = TemplateOptions.for_design(design, shape=shape, size_um=size, base_um=BASE_UM)
    mesh = build_template_mesh(design, footprint=options.footprint, base_um=options.base_um,
                               tolerance_um=options.tolerance_um)
    write_job(design, folder, options=options, version="test", mesh=mesh,
              gwl=plan_gwl(design, options, profile=PROFILE, mesh=mesh), recipe=PROFILE)
    return folder


@pytest.fixture(scope="module", params=sorted(CASES))
def job(request, tmp_path_factory):
    folder = make(tmp_path_factory.mktemp(request.param) / "job", request.param)
    design = CASES[request.param][0]
    side = json.loads((folder / f"{design.name}_job.json").read_text())
    replay = read_job(folder / f"{design.name}_job.gwl")
    mesh = trimesh.load_mesh(folder / f"{design.name}.stl")
    return {"key": request.param, "folder": folder, "name": design.name, "side": side,
            "replay": replay, "mesh": mesh, "design": design}


def gwl_files(job):
    folder = job["folder"]
    return [folder / f"{job['name']}_job.gwl",
            *sorted((folder / f"{job['name']}_files").glob("*.gwl"))]


def test_header_order_and_literal_values(job):
    text = (job["folder"] / f"{job['name']}_job.gwl").read_bytes().decode("ascii")
    lines = [ln for ln in text.split("\r\n") if ln and not ln.startswith("%")]
    body = lines.index("NewStructure")
    assert [ln.split()[0] for ln in lines[:body]] == HEADER
    assert lines[0] == "InvertZAxis 1"
    assert "$" not in text
    values = dict(ln.split(maxsplit=1) for ln in lines[:body] if " " in ln)
    assert values["PowerScaling"] == "1.000"
    assert values["ScanSpeed"] == f"{PROFILE.scan_speed_um_s:.3f}"
    assert float(values["FindInterfaceAt"]) == PROFILE.find_interface_at_um


def test_every_line_is_lexically_valid(job):
    for path in gwl_files(job):
        data = path.read_bytes()
        assert b"\t" not in data and data.endswith(b"\r\n")
        assert data.count(b"\n") == data.count(b"\r\n") == data.count(b"\r")
        text = data.decode("ascii")
        for no, line in enumerate(text.split("\r\n")[:-1], start=1):
            if line.startswith("%"):
                continue
            assert COMMANDS.match(line), f"{path.name}:{no}: {line!r}"
        body = [ln for ln in text.split("\r\n") if ln and not ln.startswith("%")]
        if path.parent.name.endswith("_files"):
            assert body[-1] == "Write"
        assert "-0.000" not in text


def test_includes_resolve_once_per_placement(job):
    side, replay = job["side"], job["replay"]
    counts = {}
    for _, _, target in replay.includes:
        counts[target.name] = counts.get(target.name, 0) + 1
    assert counts == {b["file"].split("\\")[-1]: b["placements"] for b in side["blocks"]}
    assert sum(counts.values()) == len(side["placements"])
    folder = job["folder"] / f"{job['name']}_files"
    assert sorted(p.name for p in folder.iterdir()) == sorted(counts)
    assert np.allclose(replay.stage_end_um, 0.0, atol=1e-9)


def test_points_inside_the_field(job):
    side, replay = job["side"], job["replay"]
    st = side["stitching"]
    span = side["slicing"]["last_layer_z_um"] - side["slicing"]["first_layer_z_um"]
    half = (0.5 * st["pitch_um"] + 0.5 * st["overlap_um"]
            + span * math.tan(math.radians(st["shear_angle_deg"])))
    for c in replay.chunks:
        assert c.placement > 0, "no points in the job file itself"
        local = c.points_local[:, :2] + c.field_offset_um[:2]
        assert np.abs(local).max() <= half + 1e-3
        assert np.sqrt((local**2).sum(axis=1)).max() <= PROFILE.usable_field_radius_um
        z = c.points_local[:, 2]
        assert z.min() >= -1e-9 and z.max() <= PROFILE.field_z_um


def test_replayed_bounds_match_stl(job):
    lo, hi = (np.asarray(b) for b in job["replay"].totals()["bounds_um"])
    slo, shi = job["mesh"].bounds
    assert np.all(lo[:2] >= slo[:2] - 1e-3) and np.all(lo[:2] <= slo[:2] + HATCH / 2 + 1e-3)
    assert np.all(hi[:2] <= shi[:2] + 1e-3) and np.all(hi[:2] >= shi[:2] - HATCH / 2 - 1e-3)
    assert lo[2] == pytest.approx(slo[2], abs=1e-9)  # from z = 0; FindInterfaceAt sinks it
    assert shi[2] - PROFILE.slice_um - 1e-9 <= hi[2] <= shi[2] + 1e-9


def _linestrings(lines):
    ids = np.repeat(np.arange(len(lines)), [len(ln) for ln in lines])
    return shapely.linestrings(np.vstack(lines), indices=ids)


def _layers(replay):
    """z → list of (placement, (n, 2) polyline) in global coordinates."""
    out: dict[float, list] = {}
    for c in replay.chunks:
        for line in c.polylines():
            out.setdefault(round(float(line[0, 2]), 6), []).append((c.placement, line[:, :2]))
    return out


def test_per_layer_coverage_of_the_stl_cross_section(job):
    """Union of written lines buffered by hatch/2 vs the STL section: IoU >= 0.98, nothing
    outside by more than hatch/2 (independent of the checker's raster)."""
    layers = _layers(job["replay"])
    zs = sorted(layers)
    sections = _sections(job["mesh"], zs)
    b = job["mesh"].bounds
    window = shapely.box(b[0, 0] - 2, b[0, 1] - 2, b[1, 0] + 2, b[1, 1] + 2)
    heights = list(layer_heights_um(b[1, 2], slice_um=PROFILE.slice_um))
    # a layer exactly at the top (a tip or saddle point) has nothing to write
    assert zs == pytest.approx(heights[:len(zs)]) and len(zs) >= len(heights) - 1
    for z in zs:
        lines = _linestrings([ln for _, ln in layers[z]])
        written = shapely.union_all(shapely.buffer(lines, HATCH / 2, quad_segs=4))
        section = section_polygon(sections[z], window)
        iou = shapely.intersection(written, section).area / shapely.union(written, section).area
        assert iou >= 0.98, f"z = {z}: IoU {iou:.4f}"
        outside = shapely.difference(shapely.multilinestrings(lines),
                                     shapely.buffer(section, HATCH / 2 + 2e-3))
        assert outside.length < 1e-6, f"z = {z}: {outside.length} um outside"


def test_slicer_agrees_with_stl_sections(job):
    design, side = job["design"], job["side"]
    fp = side["template"]["footprint"]
    options = TemplateOptions.for_design(design, shape=fp["shape"], size_um=fp["size_um"],
                                         base_um=BASE_UM)
    mesh = build_template_mesh(design, footprint=options.footprint, base_um=BASE_UM)
    top = TopSurface(mesh, options.footprint.polygon(options.tolerance_um))
    big = shapely.box(-10, -10, fp["size_um"] + 10, fp["size_um"] + 10)
    patch = top.patch(big.bounds)
    zs = [0.5, 2.3, 4.7, 6.2]
    for z, seg in _sections(job["mesh"], zs).items():
        mine = top.region(patch, big, z)
        ref = section_polygon(seg, big)
        assert shapely.symmetric_difference(mine, ref).area <= 1e-3 * max(ref.area, 1.0)


def test_adjacent_blocks_overlap_by_the_set_overlap(job):
    side, replay = job["side"], job["replay"]
    st = side["stitching"]
    pitch, o = st["pitch_um"], st["overlap_um"]
    tan = math.tan(math.radians(st["shear_angle_deg"]))
    grid = {tuple(p["grid"]): p["index"] for p in side["placements"]}
    layers = _layers(replay)
    sections = _sections(job["mesh"], sorted(layers))
    b = job["mesh"].bounds
    window = shapely.box(b[0, 0] - 2, b[0, 1] - 2, b[1, 0] + 2, b[1, 1] + 2)
    pairs = 0
    for z, items in layers.items():
        cover = {}
        for p, ln in items:
            cover.setdefault(p, []).append(ln)
        cover = {p: shapely.union_all(shapely.buffer(_linestrings(v), HATCH / 2 + 1e-4))
                 for p, v in cover.items()}
        solid = shapely.buffer(section_polygon(sections[z], window), -2 * HATCH)
        for (i, j), a in grid.items():
            for di, dj in ((1, 0), (0, 1)):
                bidx = grid.get((i + di, j + dj))
                if bidx is None or a not in cover or bidx not in cover:
                    continue
                # windows shift by -z*tan(shear) in x and y (against the writing order)
                seam = (i + 1 if di else j + 1) * pitch - z * tan
                lo = (j if di else i) * pitch - z * tan + o
                hi = lo + pitch - 2 * o
                for t in np.arange(lo, hi, 1.0):
                    ends = [(seam - o / 2 + 0.01, t), (seam + o / 2 - 0.01, t)]
                    if not di:
                        ends = [(y, x) for x, y in ends]
                    strip = shapely.LineString(ends)
                    if not solid.covers(strip):
                        continue
                    pairs += 1
                    both = shapely.intersection(cover[a], cover[bidx])
                    assert both.covers(strip), f"z = {z}: seam {seam:.2f} at {t:.1f}"
    if len(side["placements"]) > 1:
        assert pairs > 0


def test_z_non_decreasing_within_each_block(job):
    for path, gfile in job["replay"].files.items():
        if gfile.points.size:
            assert np.all(np.diff(gfile.points[:, 2]) >= 0), path


def test_layer_spacing_and_hatch_spacing(job):
    for gfile in job["replay"].files.values():
        if not gfile.points.size:
            continue
        zs = np.unique(gfile.points[:, 2])
        assert np.allclose(np.diff(zs), PROFILE.slice_um, atol=1e-9)
        two = (gfile.ends - gfile.starts) == 2
        # hatch segments of the busiest layer: offsets along the normal are multiples of h
        p0 = gfile.points[gfile.starts[two]]
        p1 = gfile.points[gfile.starts[two] + 1]
        z0 = np.bincount(np.searchsorted(zs, p0[:, 2])).argmax()
        sel = p0[:, 2] == zs[z0]
        d = p1[sel, :2] - p0[sel, :2]
        d = d[np.linalg.norm(d, axis=1) > 2.0]
        u = d[0] / np.linalg.norm(d[0])
        assert np.allclose(np.abs(d @ np.array([-u[1], u[0]])), 0.0, atol=2e-3), "parallel"
        offsets = np.unique(np.round(p0[sel, :2] @ np.array([-u[1], u[0]]), 2))
        steps = np.diff(offsets)
        assert np.median(steps) == pytest.approx(HATCH, abs=2e-3)
        assert np.all(np.abs(steps / HATCH - np.round(steps / HATCH)) < 0.01)


def test_sidecar_totals_equal_replayed_totals(job):
    side, totals = job["side"], job["replay"].totals()
    st = side["totals"]
    assert st["polylines"] == totals["polylines"]
    assert st["segments"] == totals["segments"]
    assert st["placements"] == totals["placements"] == len(side["placements"])
    assert st["layers_written"] == totals["layers"]
    assert st["write_length_um"] == pytest.approx(totals["write_length_um"], rel=1e-9)
    est = side["estimate"]
    expected = (totals["write_length_um"] / PROFILE.scan_speed_um_s
                + totals["polylines"] * PROFILE.line_overhead_s
                + totals["layers"] * PROFILE.layer_overhead_s
                + totals["placements"] * PROFILE.block_overhead_s)
    assert est["total_s"] == pytest.approx(expected, rel=1e-9)
    assert est["write_s"] + est["lines_s"] + est["layers_s"] + est["blocks_s"] == \
        pytest.approx(est["total_s"], rel=1e-12)


def test_check_gives_a_clean_bill(job):
    assert check_job(job["folder"]) == []


def test_recipe_carries_the_settings(job):
    text = (job["folder"] / f"{job['name']}.recipe").read_text()
    rec = dict(ln.split(" = ", 1) for ln in text.splitlines())
    assert rec["Model.FilePath"] == f"{job['name']}.stl"
    assert float(rec["Slicing.DistanceMax"]) == PROFILE.slice_um
    assert float(rec["Filling.HatchingDistance"]) == PROFILE.hatch_um
    assert int(rec["Filling.SolidContourCount"]) == PROFILE.contour_count
    assert float(rec["Splitting.BlockOverlap"]) == PROFILE.block_overlap_um
    assert float(rec["Splitting.BlockShearAngle"]) == PROFILE.shear_angle_deg
    assert rec["Splitting.BlockSize"].startswith(f"X:{job['side']['stitching']['pitch_um']:g} ")


def test_interior_blocks_are_shared():
    design, size, shape = CASES["eggbox"]
    options = TemplateOptions.for_design(design, shape=shape, size_um=size, base_um=BASE_UM)
    plan = plan_gwl(design, options, profile=PROFILE)
    assert plan.grid.shape == (5, 5)
    assert len(plan.placements) == 25 and len(plan.programs) == 9
    counts = np.bincount(plan.placement_program)[1:]
    assert sorted(counts.tolist()) == [1, 1, 1, 1, 3, 3, 3, 3, 9]


def test_default_profile_blocks_fit_the_field():
    design = EggBox(height_um=25.0, period_um=150.0)
    options = TemplateOptions.for_design(design, size_um=600.0)
    plan = plan_gwl(design, options, profile=load_printer())
    assert plan.grid.pitch_um == 150.0 and plan.grid.shape == (4, 4)
    assert max(p.max_radius_um for p in plan.programs) <= 190.0  # 200 um less the margin
    assert plan.totals.placements == 16 and plan.totals.distinct_blocks == 9


def test_output_is_byte_identical_on_two_runs(tmp_path):
    a = make(tmp_path / "a", "pyramid")
    b = make(tmp_path / "b", "pyramid")
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert fa == fb and len(fa) > 5
    for rel in fa:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_dry_run_plan_matches_written_job(tmp_path):
    design, size, shape = CASES["frustum"]
    options = TemplateOptions.for_design(design, shape=shape, size_um=size, base_um=BASE_UM)
    plan = plan_gwl(design, options, profile=PROFILE)
    sizes = planned_sizes(plan, design, options, version="test")
    job = write_job(design, tmp_path / "j", options=options, version="test", gwl=plan,
                    recipe=PROFILE)
    side = json.loads((tmp_path / "j" / f"{design.name}_job.json").read_text())
    assert side["totals"] == plan.totals.to_record()
    assert side["estimate"] == plan.estimate.to_record()
    assert side["estimate"]["total_s"] == pytest.approx(
        sum(side["estimate"][k] for k in ("write_s", "lines_s", "layers_s", "blocks_s")))
    assert job.facets == plan.stl_facets and job.stl_bytes == sizes.stl_bytes

    def on_disk(suffix: str) -> int:
        return sum(p.stat().st_size for p in (tmp_path / "j").rglob(f"*{suffix}")
                   if p.name != "design.json")

    assert sizes.gwl_bytes == on_disk(".gwl")
    assert job.gwl_bytes == on_disk(".gwl") + on_disk(".json")
    assert job.recipe_bytes == on_disk(".recipe")
    assert job.print_job_bytes == job.gwl_bytes + job.recipe_bytes
