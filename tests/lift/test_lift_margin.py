"""Margin colour: stretched with growing blur (no mirrored objects), fast vs reference."""

import numpy as np

from paint2vr.lift import fill
from paint2vr.lift.fill import extend_color, extend_color_reference


def _smooth_image(h=60, w=80):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([100 + 60 * np.sin(xx / 9), 80 + yy, 120 + 40 * np.cos((xx + yy) / 13)], -1)


def test_shapes_dtype_and_interior_kept():
    img = _smooth_image().astype(np.uint8)
    out = extend_color(img, 12, 9)
    assert out.shape == (60 + 18, 80 + 24, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[9:-9, 12:-12], img)
    assert extend_color(img, 0, 0).shape == img.shape


def test_not_mirrored_and_blurred_outwards():
    img = np.zeros((40, 40, 3), np.uint8)
    img[10:20, 2:6] = 255  # a bright object near the left edge
    out = extend_color(img, 20, 0).astype(np.float32)
    # A mirror would repeat the object at columns 20 - 6 .. 20 - 2; stretching smears it.
    assert out[10:20, 14:18].max() < 200
    # Blur grows with distance: the far margin varies less along the edge than the near one.
    assert out[:, 0].std() < out[:, 19].std()


def test_fast_matches_reference(monkeypatch):
    monkeypatch.setattr(fill, "MARGIN_GRAIN", 0.0)
    img = _smooth_image()
    a = fill._extend(img, 25, 25, grain=False, exact=False)
    b = extend_color_reference(img, 25, 25)
    # Octave blur levels, interpolated: within a few grey levels of one blur per row.
    assert np.abs(a - b).max() < 5.0 and np.abs(a - b).mean() < 1.0
    np.testing.assert_allclose(extend_color_reference(img, 0, 0), img)
