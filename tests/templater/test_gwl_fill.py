"""Units of the GWL writer: layer heights, contour + hatch fill, block pitch."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from templater.fab.hatch import fill_region, hatch_angle_deg
from templater.fab.slicer import layer_heights_um
from templater.fab.stitch import StitchSettings, choose_pitch_um

SETTINGS = StitchSettings(field_diameter_um=400.0, block_max_um=280.0, overlap_um=5.0,
                          shear_angle_deg=30.0)


def test_layer_heights_start_at_the_stl_bottom():
    """One z offset only: layers from z = 0; FindInterfaceAt sinks them into the substrate."""
    z = layer_heights_um(35.0, slice_um=1.0)
    assert z[0] == 0.0 and z[-1] == 35.0 and len(z) == 36
    assert np.allclose(np.diff(z), 1.0)
    assert layer_heights_um(34.9, slice_um=1.0)[-1] == 34.0


def test_fill_square_contours_hatch_alternation_and_coverage():
    region = shapely.box(-5.0, -5.0, 5.0, 5.0)
    fill = fill_region(region, hatch_um=0.5, contour_count=2, angle_deg=0.0)
    assert len(fill.contours) == 2
    assert shapely.Polygon(fill.contours[0]).bounds == pytest.approx((-4.75, -4.75, 4.75, 4.75))
    assert shapely.Polygon(fill.contours[1]).bounds == pytest.approx((-4.25, -4.25, 4.25, 4.25))
    h = fill.hatches
    assert np.allclose(h[:, 0, 1], h[:, 1, 1])  # horizontal
    assert np.allclose(np.diff(h[:, 0, 1]), 0.5)  # spacing, bottom to top
    direction = np.sign(h[:, 1, 0] - h[:, 0, 0])
    assert np.all(direction[1:] == -direction[:-1])  # meander
    lines = [shapely.LineString(c) for c in (*fill.contours, *h)]
    cover = shapely.union_all(shapely.buffer(lines, 0.25))
    iou = shapely.intersection(cover, region).area / shapely.union(cover, region).area
    assert iou > 0.99


def test_hatch_angle_rotates_per_layer():
    assert [hatch_angle_deg(k, angle_deg=0.0, offset_deg=90.0) for k in range(3)] == [0, 90, 0]
    assert hatch_angle_deg(7, angle_deg=10.0, offset_deg=30.0) == pytest.approx(40.0)
    fill = fill_region(shapely.box(0, 0, 4, 4), hatch_um=0.5, contour_count=1, angle_deg=90.0)
    assert np.allclose(fill.hatches[:, 0, 0], fill.hatches[:, 1, 0])  # vertical


def test_narrow_feature_between_hatch_lines_gets_a_centre_line():
    """Without contours, a strip between two hatch lattice lines would stay unwritten."""
    strip = shapely.box(-5.0, 0.25 - 0.45, 5.0, 0.25 + 0.45)
    fill = fill_region(strip, hatch_um=0.5, contour_count=0, angle_deg=0.0)
    assert len(fill.hatches) == 1 and fill.hatches[0, 0, 1] == pytest.approx(0.25)
    cover = shapely.buffer(shapely.LineString(fill.hatches[0]), 0.25)
    assert shapely.intersection(strip, cover).area > 0.5 * strip.area


def test_block_pitch_whole_periods_or_period_fractions():
    assert choose_pitch_um(150.0, 35.5, SETTINGS) == (150.0, 1)
    assert choose_pitch_um(40.0, 35.5, SETTINGS) == (240.0, 1)
    pitch, phases = choose_pitch_um(600.0, 110.5, SETTINGS)
    assert phases == 3 and pitch == pytest.approx(200.0)
    a_max = 400 / np.sqrt(2) - 5.0 - 110.5 * np.tan(np.radians(30.0))
    assert pitch <= a_max
