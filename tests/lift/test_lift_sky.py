"""The sky backdrop: exact projection inside the frame, the edges continued around the viewer
without streaks or a seam behind, and a smooth outer ring on the texture."""

import numpy as np
import pytest

from paint2vr.lift.sky import direction_uv, sky_box, smooth_border
from paint2vr.scene import camera_for_image

CAM = camera_for_image(400, 300, 55.0, 1.6)
RECT = (-60.0, -45.0, 460.0, 345.0)  # the texture's extent in pixels: the frame plus margins


def _uv_of_pixel(px, py):
    u0, v0, u1, v1 = RECT
    return np.stack([(px - u0) / (u1 - u0), (py - v0) / (v1 - v0)], -1)


def test_inside_the_frame_is_the_camera_projection():
    rng = np.random.default_rng(0)
    px, py = rng.uniform(-50, 450, 200), rng.uniform(-40, 340, 200)
    f, cx, cy = CAM.focal, CAM.width / 2, CAM.height / 2
    d = np.stack([(px - cx) / f, -(py - cy) / f, -np.ones_like(px)], -1) * rng.uniform(1, 50, (200, 1))
    np.testing.assert_allclose(direction_uv(d, CAM, RECT), _uv_of_pixel(px, py), atol=1e-9)


def test_edges_continue_around_the_viewer_at_the_same_height():
    az = np.radians(np.arange(-179.0, 180.0, 1.0))
    for elevation in (-20.0, 0.0, 10.0):
        e = np.radians(elevation)
        d = np.stack([np.sin(az) * np.cos(e), np.full_like(az, np.sin(e)), -np.cos(az) * np.cos(e)], -1)
        uv = direction_uv(d, CAM, RECT)
        outside = np.abs(az) > np.radians(40)
        assert set(np.round(uv[outside, 0], 9)) <= {0.0, 1.0}
        if elevation == 0.0:  # the eye's horizon: the same row all the way round
            np.testing.assert_allclose(uv[:, 1], _uv_of_pixel(0.0, CAM.height / 2)[1], atol=1e-9)
        assert np.all(np.abs(np.diff(uv[:, 1])) < 0.05)  # no jumps in height anywhere
    up = direction_uv(np.array([[0.3, 10.0, 0.2], [0.0, -10.0, 0.1]]), CAM, RECT)
    assert up[0, 1] == 0.0 and up[1, 1] == 1.0


def test_box_triangles_never_sweep_the_texture():
    pos, faces, uv = sky_box(CAM, RECT, 100.0)
    assert pos.dtype == np.float32 and faces.dtype == np.uint32 and uv.dtype == np.float32
    assert faces.max() < len(pos) and np.isfinite(uv).all() and (uv >= 0).all() and (uv <= 1).all()
    spread = uv[faces, 0].max(axis=1) - uv[faces, 0].min(axis=1)
    # The back seam is split: no triangle spans u = 0 .. 1, except around straight up and
    # straight down, where every corner reads the top (bottom) row, which is one colour.
    at_pole = (uv[faces, 1] == 0).all(axis=1) | (uv[faces, 1] == 1).all(axis=1)
    assert spread[~at_pole].max() < 0.2
    rel = pos - np.asarray(CAM.position, np.float32)
    assert np.abs(rel).max() == pytest.approx(100.0, rel=1e-5)  # a closed box around the eye
    seam = (np.abs(rel[:, 0]) < 1e-3) & (rel[:, 2] > 1e-3)
    assert set(np.round(uv[seam, 0], 6)) == {0.0, 1.0}  # each seam vertex twice, one per side


def test_smooth_border_ring():
    rng = np.random.default_rng(1)
    tex = rng.uniform(0, 255, (120, 200, 3)).astype(np.float32)
    out = smooth_border(tex)
    assert out.shape == tex.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0], out[:, -1])  # the two sides meet behind the viewer
    assert out[0].std(axis=0).max() < 1.0 and out[-1].std(axis=0).max() < 1.0  # poles: one colour
    assert np.abs(np.diff(out[:, 0], axis=0)).max() < 6.0  # no streak down the side
    np.testing.assert_array_equal(out[30:90, 20:180], tex[30:90, 20:180])  # the inside is untouched


def test_wide_blur_close_to_a_direct_gaussian():
    import cv2

    from paint2vr.lift.sky import wide_blur

    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:300, 0:400]
    img = np.stack([128 + 100 * np.sin(xx / 40.0), 128 + 100 * np.cos(yy / 30.0), rng.uniform(0, 255, (300, 400))],
                   -1).astype(np.float32)
    for sigma in (2.0, 12.0, 32.0):
        got = wide_blur(img, sigma)
        want = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        assert got.shape == img.shape and got.dtype == np.float32
        inner = (slice(40, -40), slice(40, -40))
        assert np.abs(got[inner] - want[inner]).mean() < 2.0 and np.abs(got[inner] - want[inner]).max() < 12.0


def test_lifted_backdrop_has_the_smooth_ring_and_ground_below():
    from paint2vr.depth import estimate_depth
    from paint2vr.lift import LiftOptions, lift
    from paint2vr.painting import Painting
    from paint2vr.samples import make_scene

    rgb, _, _ = make_scene("landscape", 240, 160, seed=1)
    painting = Painting.from_array(rgb)
    # The sky box of a scene without the world around it (LiftOptions.world=False).
    scene = lift(painting, estimate_depth(painting), LiftOptions(world=False, margin=0.15))
    sky = [layer for layer in scene.layers if layer.kind == "sky"][0].node.mesh
    tex = sky.texture.astype(int)
    assert np.abs(tex[:, 0] - tex[:, -1]).max() <= 1  # sides meet behind the viewer
    assert np.ptp(tex[0], axis=0).max() <= 1 and np.ptp(tex[-1], axis=0).max() <= 1  # one colour at each pole
    # Below the horizon the backdrop is the painting's ground (green), above it the sky (blue).
    top, bottom = tex[: tex.shape[0] // 4].mean(axis=(0, 1)), tex[-tex.shape[0] // 4:].mean(axis=(0, 1))
    assert top[2] > top[1] and bottom[1] > bottom[2]
