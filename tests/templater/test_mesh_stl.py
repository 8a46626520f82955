"""Template solid and STL: re-read with numpy-stl and trimesh, compare with the analytic surface."""

import math

import numpy as np
import pytest
import trimesh
from stl import mesh as stl_mesh

from templater.fab.mesh import (
    Footprint,
    build_template_mesh,
    interpolation_deviation_um,
    period_nodes_um,
    template_volume_um3,
)
from templater.fab.stl import write_stl
from templater.geometry.surfaces import EggBox, Flat, FrustumArray, PyramidArray

BASE = 10.0
DESIGNS = [
    EggBox(height_um=25.0, period_um=150.0),
    EggBox(height_um=5.0, period_um=30.0, form="sum"),
    EggBox(height_um=100.0, period_um=60.0),
    PyramidArray(height_um=25.0, period_um=150.0),
    FrustumArray(height_um=25.0, period_um=150.0),
    FrustumArray(height_um=25.0, period_um=150.0, invert=True),
    PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=4.0),
    Flat(period_um=150.0),
]


def _top_z_at(vectors: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Highest STL surface above each (x, y): barycentric hit test over all facets."""
    p0, p1, p2 = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    out = np.full(len(x), -np.inf)
    d = ((p1[:, 1] - p2[:, 1]) * (p0[:, 0] - p2[:, 0])
         + (p2[:, 0] - p1[:, 0]) * (p0[:, 1] - p2[:, 1]))
    ok = np.abs(d) > 1e-12
    p0, p1, p2, d = p0[ok], p1[ok], p2[ok], d[ok]
    for i, (px, py) in enumerate(zip(x, y, strict=True)):
        a = ((p1[:, 1] - p2[:, 1]) * (px - p2[:, 0]) + (p2[:, 0] - p1[:, 0]) * (py - p2[:, 1])) / d
        b = ((p2[:, 1] - p0[:, 1]) * (px - p2[:, 0]) + (p0[:, 0] - p2[:, 0]) * (py - p2[:, 1])) / d
        c = 1 - a - b
        hit = (a >= -1e-7) & (b >= -1e-7) & (c >= -1e-7)
        if hit.any():
            out[i] = (a * p0[:, 2] + b * p1[:, 2] + c * p2[:, 2])[hit].max()
    return out


@pytest.fixture(scope="module", params=DESIGNS, ids=lambda d: f"{d.name}-{d.to_dict()}")
def written(request, tmp_path_factory):
    design = request.param
    fp = Footprint(size_um=2 * design.period_um)
    mesh = build_template_mesh(design, footprint=fp, base_um=BASE)
    path = tmp_path_factory.mktemp("stl") / "t.stl"
    n = write_stl(mesh, path, version="test")
    return design, fp, mesh, path, n


def test_stl_reads_back_watertight_with_exact_bounds_and_volume(written):
    design, fp, mesh, path, n = written
    data = path.read_bytes()
    assert len(data) == 84 + 50 * n
    assert not data[:5].lower().startswith(b"solid") and b"units=um" in data[:80]
    assert design.kind.encode() in data[:80]
    tm = trimesh.load(path, file_type="stl")
    assert tm.is_watertight and tm.is_winding_consistent and tm.is_volume
    top = BASE + design.height_um - (design.z_um(0, 0) * 0 + 0)
    lo, hi = tm.bounds
    np.testing.assert_allclose(lo, [0, 0, 0], atol=1e-3)
    zmax = BASE + design.height_um - float(np.min(design.z_um(*np.meshgrid(
        np.linspace(0, design.period_um, 301), np.linspace(0, design.period_um, 301)))))
    np.testing.assert_allclose(hi, [fp.size_um, fp.size_um, zmax], atol=1e-3)
    assert top >= zmax - 1e-9
    volume = template_volume_um3(design, fp, BASE)
    assert tm.volume == pytest.approx(volume, rel=1e-3)


def test_top_surface_matches_analytic_at_lattice_points_and_within_tolerance(written):
    design, fp, mesh, path, _ = written
    vec = stl_mesh.Mesh.from_file(str(path)).vectors.astype(float)
    s = design.period_um
    lattice = np.array([(0, 0), (s / 2, 0), (0, s / 2), (s / 2, s / 2), (s / 4, s / 4),
                        (s, s / 2), (3 * s / 4, s / 4)], dtype=float) + s / 2
    z = _top_z_at(vec, lattice[:, 0], lattice[:, 1])
    expected = design.template_top_um(lattice[:, 0], lattice[:, 1], BASE)
    np.testing.assert_allclose(z, expected, atol=2e-5)  # float32 STL at ~40 µm
    rng = np.random.default_rng(3)
    pts = rng.uniform(0.05 * s, 1.95 * s, size=(150, 2))
    z = _top_z_at(vec, pts[:, 0], pts[:, 1])
    dev = np.abs(z - design.template_top_um(pts[:, 0], pts[:, 1], BASE))
    assert dev.max() <= 0.1 + 1e-4


def test_sharp_facets_are_exact():
    for design in (PyramidArray(height_um=25.0, period_um=150.0),
                   FrustumArray(height_um=40.0, period_um=100.0, top_fraction=0.3)):
        nodes = period_nodes_um(design, 0.1)
        assert interpolation_deviation_um(design, nodes)[0] < 1e-12
        assert len(nodes) <= 5


def test_tolerance_is_honoured_and_refines():
    design = EggBox(height_um=25.0, period_um=150.0)
    coarse, fine = period_nodes_um(design, 1.0), period_nodes_um(design, 0.01)
    assert len(fine) > 2 * len(coarse)
    assert interpolation_deviation_um(design, fine)[0] <= 0.01
    assert interpolation_deviation_um(design, coarse)[0] <= 1.0


@pytest.mark.parametrize("design", [EggBox(height_um=25.0, period_um=150.0),
                                    PyramidArray(height_um=25.0, period_um=150.0)],
                         ids=lambda d: d.name)
@pytest.mark.parametrize("fp", [Footprint(shape="circle", size_um=400.0),
                                Footprint(shape="square", size_um=390.0)],
                         ids=lambda f: f.shape)
def test_clipped_footprints_are_watertight_with_quadrature_volume(design, fp):
    mesh = build_template_mesh(design, footprint=fp, base_um=BASE)
    assert mesh.is_watertight and mesh.is_volume
    # independent volume: midpoint quadrature of base + H - e over the footprint
    n = 1600
    t = (np.arange(n) + 0.5) / n * fp.size_um
    x, y = np.meshgrid(t, t)
    inside = np.ones_like(x, bool) if fp.shape == "square" else \
        (x - fp.size_um / 2) ** 2 + (y - fp.size_um / 2) ** 2 <= (fp.size_um / 2) ** 2
    volume = (design.template_top_um(x, y, BASE) * inside).sum() * (fp.size_um / n) ** 2
    assert mesh.volume == pytest.approx(volume, rel=2e-3 if fp.shape == "circle" else 2e-4)
    lo, hi = mesh.bounds
    np.testing.assert_allclose(lo[:2], 0, atol=1e-6)
    np.testing.assert_allclose(hi[:2], fp.size_um, atol=1e-6)
    if fp.shape == "circle":
        r = np.hypot(mesh.vertices[:, 0] - 200, mesh.vertices[:, 1] - 200)
        assert r.max() <= 200 + 1e-6 and math.isclose(r.max(), 200, abs_tol=1e-5)


def test_stl_is_byte_identical_on_two_runs(tmp_path):
    design = EggBox(height_um=25.0, period_um=150.0)
    paths = []
    for i in range(2):
        mesh = build_template_mesh(design, footprint=Footprint(size_um=300.0))
        paths.append(tmp_path / f"{i}.stl")
        write_stl(mesh, paths[-1], version="test")
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_mirror_quarter_scan_of_the_deviation_equals_the_full_scan():
    """Rounded reliefs and their hip-split mesh mirror about x = S/2 and y = S/2: the quarter
    scan used for symmetric nodes must give the full scan's deviation and volume bias."""
    from templater.fab.mesh import interpolation_deviation_um
    from templater.geometry import FrustumArray

    design = FrustumArray(height_um=25.0, period_um=150.0, top_fraction=0.3,
                          edge_radius_um=2.0, invert=True)
    nodes = np.unique(np.concatenate([np.linspace(0.0, 22.5, 9), np.linspace(22.5, 75.0, 21),
                                      np.linspace(75.0, 127.5, 21),
                                      np.linspace(127.5, 150.0, 9)]))
    quarter = interpolation_deviation_um(design, nodes)
    skewed = nodes.copy()
    skewed[1:-1] += 1e-7  # breaks the mirror test: full scan
    full = interpolation_deviation_um(design, skewed)
    np.testing.assert_allclose(quarter, full, rtol=1e-4)
