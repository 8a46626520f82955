"""Design names (default folders and file names) encode every option that changes the geometry,
deterministically; the paper's presets keep their names."""

import os

import pytest
from click.testing import CliRunner

from templater import EggBox, load_preset
from templater.cli import main
from templater.geometry.registry import design_from_dict, make_design
from templater.geometry.surfaces import Flat, FrustumArray, PyramidArray
from templater.jobs.presets import preset_names


def test_presets_keep_their_names():
    for name in preset_names():
        assert load_preset(name).design.name == name


@pytest.mark.parametrize("design, name", [
    (EggBox(height_um=25, period_um=150), "eggbox-H25S150"),
    (EggBox(height_um=25, period_um=150, form="sum"), "eggbox-sum-H25S150"),
    (EggBox(height_um=25, period_um=150, invert=True), "eggbox-H25S150-inv"),
    (EggBox(height_um=25, period_um=150, form="sum", invert=True), "eggbox-sum-H25S150-inv"),
    (FrustumArray(height_um=25, period_um=150), "frustum-H25S150"),
    (FrustumArray(height_um=25, period_um=150, top_fraction=0.5), "frustum-H25S150"),
    (FrustumArray(height_um=25, period_um=150, top_fraction=0.3), "frustum-H25S150-t0.3"),
    (FrustumArray(height_um=25, period_um=150, top_fraction=0.3, edge_radius_um=1,
                  invert=True), "frustum-H25S150-t0.3-r1-inv"),
    (PyramidArray(height_um=25, period_um=150, edge_radius_um=1), "pyramid-H25S150-r1"),
    (PyramidArray(height_um=25.5, period_um=150, edge_radius_um=0.25), "pyramid-H25.5S150-r0.25"),
    (Flat(), "flat"),
    (Flat(period_um=100), "flat-S100"),
])
def test_names(design, name):
    assert design.name == name


def test_every_geometry_option_gives_a_distinct_name():
    designs = [
        make_design(kind, height_um=h, period_um=s, invert=inv, **extra)
        for kind, extras in [
            ("eggbox", [{"form": "product"}, {"form": "sum"}]),
            ("pyramid", [{"edge_radius_um": r} for r in (0, 1, 1.5, 2)]),
            ("frustum", [{"top_fraction": t, "edge_radius_um": r}
                         for t in (0, 0.3, 0.5, 0.30000001) for r in (0, 1)]),
        ]
        for extra in extras for h in (25, 25.25) for s in (150, 151) for inv in (False, True)
    ]
    names = [d.name for d in designs]
    assert len(set(names)) == len(designs)
    assert all(n == n.strip() and "/" not in n and " " not in n for n in names)
    # deterministic: the same design, rebuilt from its record, has the same name
    assert [design_from_dict(d.to_dict()).name for d in designs] == names

def test_default_folders_and_files_carry_the_name(tmp_path):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        small = ["--H", "25", "--S", "150", "--size", "300", "--no-predict", "--format", "stl"]
        for args, name in [(["eggbox"], "eggbox-H25S150"),
                           (["eggbox", "--form", "sum"], "eggbox-sum-H25S150"),
                           (["eggbox", "--invert"], "eggbox-H25S150-inv"),
                           (["frustum", "--top-fraction", "0.3"], "frustum-H25S150-t0.3"),
                           (["pyramid", "--edge-radius", "1"], "pyramid-H25S150-r1")]:
            res = CliRunner().invoke(main, ["make", *args, *small])
            assert res.exit_code == 0, res.output
            assert (tmp_path / name / f"{name}.stl").is_file()
    finally:
        os.chdir(old)
