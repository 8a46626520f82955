"""The one surface definition: lattice points, gradients, periodicity, areas, rounding, errors."""

import math

import numpy as np
import pytest

from templater.geometry.errors import DesignError
from templater.geometry.surfaces import EggBox, Flat, FrustumArray, PyramidArray

H, S = 25.0, 150.0
ALL = [
    EggBox(height_um=H, period_um=S),
    EggBox(height_um=H, period_um=S, form="sum"),
    PyramidArray(height_um=H, period_um=S),
    FrustumArray(height_um=H, period_um=S),
    PyramidArray(height_um=H, period_um=S, edge_radius_um=3.0),
    FrustumArray(height_um=H, period_um=S, top_fraction=0.3, edge_radius_um=2.0, invert=True),
    EggBox(height_um=H, period_um=S, invert=True),
]


def test_eggbox_product_lattice_points():
    """Peaks at (0,0), (S/2,S/2); troughs (Li tips) at (S/2,0), (0,S/2); saddles at (S/4,S/4)."""
    d = EggBox(height_um=H, period_um=S)
    x = np.array([0, 75, 75, 0, 37.5, 112.5])
    y = np.array([0, 75, 0, 75, 37.5, 37.5])
    np.testing.assert_allclose(d.z_um(x, y), [25, 25, 0, 0, 12.5, 12.5], atol=1e-12)
    np.testing.assert_allclose(d.template_top_um(x, y, 10.0), [10, 10, 35, 35, 22.5, 22.5],
                               atol=1e-12)
    inv = EggBox(height_um=H, period_um=S, invert=True)
    np.testing.assert_allclose(inv.z_um(x, y), d.z_um(x + S / 2, y), atol=1e-12)


def test_eggbox_sum_lattice_points():
    d = EggBox(height_um=H, period_um=S, form="sum")
    np.testing.assert_allclose(d.z_um([0, 75, 75, 0], [0, 75, 0, 75]), [25, 0, 12.5, 12.5],
                               atol=1e-12)


def test_pyramid_and_frustum_lattice_points():
    p = PyramidArray(height_um=H, period_um=S)
    # apex, groove midpoint, groove crossing, hip midpoint, face point
    x, y = np.array([0, 75, 75, 37.5, 37.5]), np.array([0, 0, 75, 37.5, 0])
    np.testing.assert_allclose(p.z_um(x, y), [25, 0, 0, 12.5, 12.5], atol=1e-12)
    f = FrustumArray(height_um=H, period_um=S, top_fraction=0.5)
    # plateau centre, plateau rim, face midpoint, groove
    np.testing.assert_allclose(f.z_um([0, 37.5, 56.25, 75], [0, 10, 0, 30]), [25, 25, 12.5, 0],
                               atol=1e-12)
    np.testing.assert_allclose(FrustumArray(height_um=H, period_um=S, top_fraction=0.0).z_um(x, y),
                               p.z_um(x, y), atol=1e-12)
    inv = PyramidArray(height_um=H, period_um=S, invert=True)
    np.testing.assert_allclose(inv.z_um(x, y), H - p.z_um(x, y), atol=1e-12)


@pytest.mark.parametrize("invert", [False, True])
def test_pyramid_is_the_frustum_without_plateau_and_shares_its_family(invert):
    """A rounded pyramid and the rounded frustum with t = 0 are the same surface (heights,
    gradients, rounding bands, mean height, area), so they share a plateau family key;
    frustums of other t belong to it, other shapes and the inverted reliefs' upright
    counterparts do not."""
    from templater.geometry.surfaces import plateau_family_key

    p = PyramidArray(height_um=H, period_um=S, edge_radius_um=2.0, invert=invert)
    f = FrustumArray(height_um=H, period_um=S, edge_radius_um=2.0, top_fraction=0.0,
                     invert=invert)
    x, y = np.meshgrid(np.linspace(-S, S, 241), np.linspace(-S / 2, S, 181))
    np.testing.assert_allclose(f.z_um(x, y), p.z_um(x, y), atol=1e-12)
    for gf, gp in zip(f.gradient(x, y), p.gradient(x, y), strict=True):
        np.testing.assert_allclose(gf, gp, atol=1e-12)
    assert f.rounding_half_widths_um() == p.rounding_half_widths_um()
    assert f.mean_height_um() == pytest.approx(p.mean_height_um(), rel=1e-12)
    assert f.area_ratio() == pytest.approx(p.area_ratio(), rel=1e-12)
    key, t = p.plateau_family()
    assert (key, t) == f.plateau_family() and t == 0.0
    other = FrustumArray(height_um=H, period_um=S, edge_radius_um=2.0, top_fraction=0.3,
                         invert=invert).plateau_family()
    assert other == (key, 0.3)
    assert PyramidArray(height_um=H, period_um=S, edge_radius_um=2.0,
                        invert=not invert).plateau_family()[0] != key
    assert EggBox(height_um=H, period_um=S).plateau_family() is None
    assert plateau_family_key({"kind": "eggbox", "form": "sum", "invert": False}) is None


def test_flat_is_zero():
    d = Flat()
    assert d.height_um == 0.0 and d.area_ratio() == 1.0
    np.testing.assert_array_equal(d.z_um([1.0, 2.0], [3.0, 4.0]), 0.0)


@pytest.mark.parametrize("design", ALL, ids=lambda d: f"{d.name}-{d.to_dict()}")
def test_gradient_matches_finite_differences(design):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-300, 300, 4000), rng.uniform(-300, 300, 4000)
    gx, gy = design.gradient(x, y)
    h = 1e-5
    fx = (design.z_um(x + h, y) - design.z_um(x - h, y)) / (2 * h)
    fy = (design.z_um(x, y + h) - design.z_um(x, y - h)) / (2 * h)
    # sharp edges: finite differences straddling a kink are excluded
    ok = (np.abs(fx - (design.z_um(x + 2 * h, y) - design.z_um(x, y)) / (2 * h)) < 1e-4)
    ok &= (np.abs(fy - (design.z_um(x, y + 2 * h) - design.z_um(x, y)) / (2 * h)) < 1e-4)
    assert ok.mean() > 0.99
    np.testing.assert_allclose(gx[ok], fx[ok], atol=1e-6)
    np.testing.assert_allclose(gy[ok], fy[ok], atol=1e-6)
    n = design.normal(x, y)
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(n[:, 0] / n[:, 2], -gx, atol=1e-12)


@pytest.mark.parametrize("design", ALL, ids=lambda d: d.name)
def test_periodic_and_in_range(design):
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-500, 500, 2000), rng.uniform(-500, 500, 2000)
    e = design.z_um(x, y)
    for dx, dy in [(S, 0), (0, S), (-3 * S, 2 * S)]:
        np.testing.assert_allclose(design.z_um(x + dx, y + dy), e, atol=1e-9)
    assert e.min() >= -1e-12 and e.max() <= H + 1e-12


def test_area_ratios_closed_forms_and_quadrature():
    """docs/theory.md area-ratio table; closed forms agree with the generic cell quadrature."""
    p = PyramidArray(height_um=H, period_um=S)
    assert p.area_ratio() == pytest.approx(math.sqrt(1 + (2 * H / S) ** 2), rel=1e-14)
    assert p.area_ratio() == pytest.approx(1.05409, abs=5e-6)
    assert EggBox(height_um=H, period_um=S).area_ratio() == pytest.approx(1.06585, abs=5e-6)
    assert EggBox(height_um=H, period_um=S, form="sum").area_ratio() == pytest.approx(
        1.03357, abs=5e-6)
    f = FrustumArray(height_um=H, period_um=S)
    assert f.area_ratio() == pytest.approx(1.15139, abs=5e-6)
    for d in (p, f, EggBox(height_um=H, period_um=S)):
        mean, area = d._cell_quadrature(2048)
        assert area == pytest.approx(d.area_ratio(), rel=1e-4)
        assert mean == pytest.approx(d.mean_height_um(), rel=1e-5)
    table = {(5, 150): 1.00274, (25, 225): 1.02991, (50, 150): 1.23932, (75, 150): 1.47945}
    for (h, s), ref in table.items():
        assert EggBox(height_um=h, period_um=s).area_ratio() == pytest.approx(ref, abs=5e-6)


def test_eggbox_area_small_amplitude_series():
    s = 150.0
    for h in (1.0, 3.0, 6.0):
        beta = math.pi * h / s
        series = 1 + beta**2 / 4 - 5 * beta**4 / 128
        assert EggBox(height_um=h, period_um=s).area_ratio() == pytest.approx(series, abs=1e-7)


def test_area_increases_with_aspect_ratio():
    for cls in (EggBox, PyramidArray, FrustumArray):
        areas = [cls(height_um=h, period_um=S).area_ratio() for h in (5, 25, 50, 75, 150)]
        assert np.all(np.diff(areas) > 0)


@pytest.mark.parametrize("cls", [PyramidArray, FrustumArray])
def test_edge_radius_converges_and_smooths(cls):
    sharp = cls(height_um=H, period_um=S)
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-75, 75, 20000), rng.uniform(-75, 75, 20000)
    devs = []
    for r in (4.0, 2.0, 1.0, 0.5):
        devs.append(np.abs(cls(height_um=H, period_um=S, edge_radius_um=r).z_um(x, y)
                           - sharp.z_um(x, y)).max())
    ratios = np.array(devs[:-1]) / np.array(devs[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)  # deviation is O(r)
    # continuous normal: slope jump across hip, groove and apex vanishes for r > 0
    rounded = cls(height_um=H, period_um=S, edge_radius_um=1.0)
    pts = [(30.0, 30.0), (75.0, 20.0), (0.0, 0.0) if cls is PyramidArray else (37.5, 10.0)]
    for px, py in pts:
        for dx, dy in [(1, -1), (1, 0)]:
            d = 1e-7
            ga = np.array(rounded.gradient(px - d * dx, py - d * dy))
            gb = np.array(rounded.gradient(px + d * dx, py + d * dy))
            assert np.abs(ga - gb).max() < 1e-5


@pytest.mark.parametrize(
    "kwargs, flag, text",
    [
        (dict(height_um=-1.0, period_um=150.0), "--H", r"\(0, 280\]"),
        (dict(height_um=0.0, period_um=150.0), "--H", r"\(0, 280\]"),
        (dict(height_um=float("nan"), period_um=150.0), "--H", "nan"),
        (dict(height_um=float("inf"), period_um=150.0), "--H", "inf"),
        (dict(height_um=300.0, period_um=600.0), "--H", r"\(0, 280\]"),
        (dict(height_um="25", period_um=150.0), "--H", "a number"),
        (dict(height_um=True, period_um=150.0), "--H", "a number"),
        (dict(height_um=25.0, period_um=1.0), "--S", r"\[2, 5000\]"),
        (dict(height_um=25.0, period_um=6000.0), "--S", r"\[2, 5000\]"),
        (dict(height_um=25.0, period_um=10.0), "--H", "H/S <= 2"),
        (dict(height_um=25.0, period_um=150.0, form="cosine"), "--form", "product | sum"),
    ],
)
def test_eggbox_bad_values_name_flag_and_range(kwargs, flag, text):
    with pytest.raises(DesignError, match=rf"\({flag}\).*{text}|{text}.*") as info:
        EggBox(**kwargs)
    assert f"({flag})" in str(info.value) and info.value.flag == flag[2:]


def test_kind_specific_bad_values():
    with pytest.raises(DesignError, match=r"--top-fraction.*\[0, 1\)"):
        FrustumArray(height_um=25.0, period_um=150.0, top_fraction=1.0)
    with pytest.raises(DesignError, match=r"--edge-radius.*S/4"):
        PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=40.0)
    with pytest.raises(DesignError, match=r"--edge-radius"):
        PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=-1.0)
    with pytest.raises(DesignError, match="invert"):
        EggBox(height_um=25.0, period_um=150.0, invert="yes")
