"""The shape protocol of :class:`Surface`: what the solvers ask instead of inspecting classes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from templater.geometry.surfaces import EdgeBands, EggBox, Flat, FrustumArray, PyramidArray

SMOOTH = [Flat(period_um=150.0), EggBox(height_um=25.0, period_um=150.0),
          EggBox(height_um=25.0, period_um=150.0, form="sum", invert=True)]
RELIEF = [PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=2.0),
          FrustumArray(height_um=25.0, period_um=150.0, top_fraction=0.4, edge_radius_um=2.0,
                       invert=True)]


def _fillet(r: float, slope_half_jump: float) -> float:
    """Half-width r sin θ of a circular fillet across a symmetric kink of slopes ±tan θ."""
    return r * math.sin(math.atan(slope_half_jump))


def test_flags_of_smooth_shapes():
    assert Flat(period_um=150.0).is_flat
    for design in SMOOTH:
        assert design.is_smooth and design.is_square_symmetric
        assert design.edge_radius_um == 0.0 and design.plateau_fraction == 0.0
        assert design.rounding_half_widths_um() == EdgeBands(0.0, 0.0, 0.0)
        with pytest.raises(ValueError, match="edge_radius_um"):
            design.with_edge_radius(1.0)
    assert not SMOOTH[1].is_flat


def test_flags_of_reliefs():
    pyramid, frustum = RELIEF
    for design in RELIEF:
        assert not design.is_smooth and not design.is_flat and design.is_square_symmetric
        assert design.edge_radius_um == 2.0
    assert pyramid.plateau_fraction == 0.0
    assert frustum.plateau_fraction == frustum.top_fraction == 0.4


@pytest.mark.parametrize("design", RELIEF, ids=["pyramid", "frustum"])
def test_rounding_half_widths_follow_the_fillet_formula(design):
    """Edge: faces of slope ±m meet (θ = atan m); hip: the slope along the hip normal is m/√2 on
    either side, the band measured along x is √2 times wider; rim: plateau (slope 0) meets the
    face (slope m), half the slope jump of an edge."""
    r, m = design.edge_radius_um, design.face_slope
    bands = design.rounding_half_widths_um()
    assert bands.edge_um == pytest.approx(_fillet(r, m), rel=1e-14)
    assert bands.hip_um == pytest.approx(math.sqrt(2.0) * _fillet(r, m / math.sqrt(2.0)),
                                         rel=1e-14)
    rim = 0.5 * _fillet(r, m) if design.plateau_fraction > 0 else 0.0
    assert bands.rim_um == pytest.approx(rim, rel=1e-14)


def test_rounding_bands_are_where_the_surface_is_curved():
    """Across the cell edge x = S/2 (on y = 0) the slope is linear inside the band and constant
    outside: the band ends where the surface stops curving."""
    design = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=4.0)
    w = design.rounding_half_widths_um().edge_um
    x = 75.0 + np.array([-2.0 * w, -1.001 * w, -0.5 * w, 0.0, 0.5 * w, 1.001 * w])
    ex, _ = design.gradient(x, np.zeros_like(x))
    m = design.face_slope
    assert ex[0] == pytest.approx(-m) and ex[1] == pytest.approx(-m)
    assert ex[2] == pytest.approx(-0.5 * m) and ex[3] == pytest.approx(0.0, abs=1e-12)
    assert ex[4] == pytest.approx(0.5 * m) and ex[5] == pytest.approx(m)


def test_with_edge_radius_round_trip():
    for design in RELIEF:
        rounded = design.with_edge_radius(5.0)
        assert type(rounded) is type(design) and rounded.edge_radius_um == 5.0
        assert rounded.with_edge_radius(design.edge_radius_um) == design
        assert rounded.to_dict() == {**design.to_dict(), "edge_radius_um": 5.0}
    with pytest.raises(ValueError):
        RELIEF[0].with_edge_radius(150.0)  # above S/4


def test_shape_key():
    a = EggBox(height_um=25.0, period_um=150.0)
    assert a.shape_key() == EggBox(height_um=25.0, period_um=150.0, invert=True).shape_key()
    assert a.shape_key() == EggBox(height_um=10.0, period_um=300.0).shape_key()  # not H, S
    assert a.shape_key() != EggBox(height_um=25.0, period_um=150.0, form="sum").shape_key()
    assert a.shape_key() == {"kind": "eggbox", "form": "product", "invert": False}
    p = PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.5)
    assert p.shape_key() == {"kind": "pyramid", "invert": False, "edge_radius_over_s": 0.01}
    assert p.shape_key() == PyramidArray(height_um=50.0, period_um=300.0,
                                         edge_radius_um=3.0).shape_key()
    assert p.shape_key() != PyramidArray(height_um=25.0, period_um=150.0, edge_radius_um=1.5,
                                         invert=True).shape_key()  # a pyramid inverts for real
