"""The panorama's fast paths against their slow references: the one-pyramid multiband
blend, and the dome's source split on a copy reduced to the exemplar's scale."""

import math

import cv2
import numpy as np

from paint2vr.lift.panorama import _dome_source, _dome_source_reference, multiband_blend, multiband_blend_reference
from paint2vr.samples import make_scene
from paint2vr.scene import camera_for_image


def test_multiband_blend_matches_reference():
    rng = np.random.default_rng(3)
    a = rng.random((96, 160, 3), dtype=np.float32) * 255
    b = rng.random((96, 160, 3), dtype=np.float32) * 255
    mask = np.zeros((96, 160), bool)
    mask[20:70, 40:110] = True
    fast, ref = multiband_blend(a, b, mask), multiband_blend_reference(a, b, mask)
    assert fast.shape == ref.shape and fast.dtype == np.float32
    np.testing.assert_allclose(fast, ref, atol=2e-3)
    assert np.abs(fast[40, 70] - a[40, 70]).max() < 30 and np.abs(fast[5, 5] - b[5, 5]).max() < 30


def test_multiband_blend_local_box_matches_reference():
    # A small mask in a large image: only its neighbourhood is blended (the rest is b).
    rng = np.random.default_rng(5)
    a = cv2.GaussianBlur(rng.random((256, 640, 3), dtype=np.float32) * 255, (0, 0), 2)
    b = cv2.GaussianBlur(rng.random((256, 640, 3), dtype=np.float32) * 255, (0, 0), 2)
    mask = np.zeros((256, 640), bool)
    mask[100:150, 300:380] = True
    fast, ref = multiband_blend(a, b, mask, levels=3), multiband_blend_reference(a, b, mask, levels=3)
    np.testing.assert_allclose(fast, ref, atol=2e-3)
    np.testing.assert_array_equal(fast[:, :100], b[:, :100])
    np.testing.assert_array_equal(multiband_blend(a, b, np.zeros((256, 640), bool)), b)


def test_dome_source_reduced_matches_full_size():
    rgb, _, sky = make_scene("landscape", 960, 640, seed=4)
    cam = camera_for_image(960, 640)
    scale = 512 / (2 * math.pi) / cam.focal  # a 512 px panorama: the exemplar at ~0.1 of the painting
    for s in (sky, np.zeros_like(sky)):  # with sky, and an interior (no sky: the top quarter)
        ex, valid, phis, prof = _dome_source(rgb, s, cam, scale, 16)
        rex, rvalid, rphis, rprof = _dome_source_reference(rgb, s, cam, scale, 16)
        assert ex.shape == rex.shape and (valid is None) == (rvalid is None)
        if valid is not None:
            assert (valid == rvalid).mean() > 0.99
        keep = np.ones(ex.shape[:2], bool) if valid is None else (valid & rvalid)
        # The strokes (high frequencies) agree; the large-scale colour split off differs by a
        # few levels (the wide blur's borders at the two scales), which the profile carries.
        def hp(x):
            return x - cv2.GaussianBlur(x, (0, 0), 2)
        err = np.abs(hp(ex) - hp(rex))[keep].mean()
        assert err < 0.15 * np.abs(hp(rex))[keep].mean(), err
        assert np.abs(ex - rex)[keep].mean() < 8.0
        # The colour profile over elevation: the same curve (sampled at other rows).
        grid = np.linspace(max(phis.min(), rphis.min()), min(phis.max(), rphis.max()), 50)
        for c in range(3):
            assert np.abs(np.interp(grid, phis, prof[:, c]) - np.interp(grid, rphis, rprof[:, c])).max() < 4.0


def test_painting_coords_float32_matches_reference():
    from paint2vr.lift.panorama import painting_coords, painting_coords_reference, pano_angles
    cam = camera_for_image(300, 200)
    theta, phi = pano_angles(512, 256)
    px, py, inside = painting_coords(theta, phi, cam)
    rx, ry, rin = painting_coords_reference(theta, phi, cam)
    assert px.dtype == np.float32 and px.shape == (256, 512)
    np.testing.assert_array_equal(inside, rin)
    near = (np.abs(rx) < 2000) & (np.abs(ry) < 2000)
    np.testing.assert_allclose(px[near], rx[near], atol=2e-3)
    np.testing.assert_allclose(py[near], ry[near], atol=2e-3)


def test_ground_ends_at_a_painted_horizon_below_the_eye():
    # The far band's copied columns carry the painting's horizon: below the eye the ground
    # ends where it meets it (not before HORIZON_MIN_REACH) and the band reaches down to it.
    import pytest

    from paint2vr.lift.panorama import HORIZON_MIN_REACH, horizon_below, horizon_reach
    from paint2vr.scene import camera_for_image

    cam = camera_for_image(200, 100, 55.0, 1.6)
    assert horizon_below(cam, None) == (0.0, 0.0) and horizon_below(cam, 30.0) == (0.0, 0.0)
    centre, edge = horizon_below(cam, 60.0)
    assert centre == pytest.approx(math.atan(-10.0 / cam.focal)) and centre < edge < 0.0
    assert horizon_reach(cam, 0.0, 30.0, 150.0) == 150.0
    r = horizon_reach(cam, 0.0, 60.0, 150.0)
    assert r == pytest.approx(1.6 / math.tan(-edge)) and HORIZON_MIN_REACH < r < 150.0
    assert horizon_reach(cam, 0.0, 99.0, 150.0) == HORIZON_MIN_REACH
