"""Streamed STL and plan (byte-identical to the in-memory path), the cheap estimate, the
memory/file budget refusal (exit 2) and --quiet."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import templater.fab.stl_stream as stl_stream
from templater.cli import main
from templater.fab.gwl_format import block_text, job_text
from templater.fab.gwl_plan import plan_gwl
from templater.fab.mesh import Footprint, TemplateOptions, build_template_mesh, period_nodes_um
from templater.fab.stl import stl_header, write_stl
from templater.fab.stl_stream import TemplateStream, estimate_facets
from templater.geometry.registry import make_design
from templater.jobs.budget import BudgetExceeded, check_budget, estimate_job, parse_bytes
from templater.jobs.make import plan_streamed
from templater.jobs.presets import load_printer

CASES = [("eggbox", {"height_um": 25, "period_um": 150}, "square", 450),
         ("eggbox", {"height_um": 25, "period_um": 150}, "circle", 500),
         ("pyramid", {"height_um": 25, "period_um": 150}, "square", 400),
         ("frustum", {"height_um": 25, "period_um": 150}, "circle", 300)]


@pytest.mark.parametrize(("kind", "kw", "shape", "size"), CASES)
def test_streamed_stl_is_byte_identical(tmp_path: Path, monkeypatch, kind, kw, shape, size):
    monkeypatch.setattr(stl_stream, "_STRIP_VERTICES", 300)  # many strips
    design = make_design(kind, **kw)
    fp = Footprint(shape=shape, size_um=size)
    mesh = build_template_mesh(design, footprint=fp, base_um=10, tolerance_um=0.1)
    write_stl(mesh, tmp_path / "a.stl", version="t")
    stream = TemplateStream(design, footprint=fp, base_um=10, tolerance_um=0.1)
    summary = stream.write_stl(tmp_path / "b.stl", stl_header(mesh, "t"))
    assert (tmp_path / "a.stl").read_bytes() == (tmp_path / "b.stl").read_bytes()
    assert summary.facets == len(mesh.faces)
    assert summary.volume_um3 == pytest.approx(mesh.volume, rel=1e-9)
    nodes = period_nodes_um(design, 0.1, base_um=10)
    est = estimate_facets(len(nodes) - 1, design.period_um, fp)  # a covering-grid bound
    assert 0.4 * len(mesh.faces) <= est <= 3 * len(mesh.faces) + 500


def test_streamed_plan_equals_full_plan():
    design = make_design("eggbox", height_um=25, period_um=150)
    opts = TemplateOptions(footprint=Footprint(shape="square", size_um=1050), base_um=10,
                           tolerance_um=0.1)
    prof = load_printer()
    full = plan_gwl(design, opts, profile=prof)
    stream = TemplateStream(design, footprint=opts.footprint, base_um=10, tolerance_um=0.1)
    part, _ = plan_streamed(design, opts, stream, profile=prof)
    assert [block_text(p, "x") for p in full.programs] == \
        [block_text(p, "x") for p in part.programs]
    assert job_text(full, design, opts, "v") == job_text(part, design, opts, "v")
    assert part.stl_facets == full.stl_facets


def test_estimate_and_budget():
    design = make_design("eggbox", height_um=25, period_um=150)
    opts = TemplateOptions.for_design(design, size_um=10000)
    nodes = period_nodes_um(design, opts.tolerance_um, base_um=opts.base_um)
    est = estimate_job(design, opts, nodes, profile=load_printer())
    assert est.streamed and 1.0e7 < est.facets < 1.3e7
    assert 5e8 < est.stl_bytes < 7e8 and est.memory_bytes < 1.5e9
    check_budget(est, memory_bytes=2 * 10**9, file_bytes=10**10)
    with pytest.raises(BudgetExceeded, match="memory budget"):
        check_budget(est, memory_bytes=10**8)
    with pytest.raises(BudgetExceeded, match="file-size budget"):
        check_budget(est, file_bytes=10**8)
    assert parse_bytes("1.5GB") == 1_500_000_000 and parse_bytes("800M") == 800_000_000
    assert parse_bytes("2") == 2 * 10**9
    with pytest.raises(ValueError):
        parse_bytes("-1G")


@pytest.mark.parametrize("args", [
    ["eggbox", "--H", "25", "--S", "150", "--size", "100000", "--dry-run"],
    ["eggbox", "--H", "1", "--S", "2", "--dry-run"],
    ["eggbox", "--H", "25", "--S", "150", "--size", "10000", "--memory-budget", "100MB"],
])
def test_budget_refusal_exit_2(tmp_path: Path, args):
    res = CliRunner().invoke(main, ["make", *args, "-o", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "job refused" in res.output and "facets" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


def test_quiet_dry_run_is_clean(tmp_path: Path):
    res = CliRunner().invoke(main, ["-q", "make", "eggbox", "--H", "25", "--S", "150",
                                    "--size", "10000", "--dry-run", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "peak memory" in res.output and "STL" in res.output
