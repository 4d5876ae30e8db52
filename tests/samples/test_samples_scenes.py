import hashlib

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.samples import KINDS, SKY_DEPTH, make_scene, write_sample
from paint2vr.scene import camera_for_image


@pytest.mark.parametrize("kind", KINDS)
def test_scene_shapes_and_determinism(kind):
    a = make_scene(kind, 96, 64, seed=3)
    b = make_scene(kind, 96, 64, seed=3)
    rgb, depth, sky = a
    assert rgb.shape == (64, 96, 3) and rgb.dtype == np.uint8
    assert depth.shape == (64, 96) and depth.dtype == np.float32 and sky.dtype == bool
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert np.isfinite(depth).all() and (depth > 0).all()
    assert (depth[sky] == SKY_DEPTH).all()
    assert not np.array_equal(make_scene(kind, 96, 64, seed=4)[0], rgb)
    if kind == "no_sky":
        assert not sky.any()
    else:
        assert sky[0].mean() > 0.2 and not sky[-1].any()


def test_ground_follows_camera_geometry():
    rgb, depth, sky = make_scene("coast", 300, 200, seed=0)
    f = camera_for_image(300, 200).focal
    # bottom row is ground: depth * (row - horizon) = eye * f gives one horizon for all columns
    col = depth[-1]
    hz = 199.5 - 1.6 * f / col
    assert np.ptp(hz[col == np.median(col)]) < 1e-3
    # lower rows are nearer along an open ground column
    assert depth[-1, 150] < depth[-20, 150]


def test_aerial_perspective_far_is_paler():
    rgb, depth, sky = make_scene("landscape", 320, 200, seed=1)
    land = ~sky
    near = land & (depth < 10)
    far = land & (depth > 60)
    sat = rgb.max(2).astype(int) - rgb.min(2)
    assert sat[far].mean() < sat[near].mean()


def test_bad_input():
    with pytest.raises(InputError, match="unknown scene kind"):
        make_scene("moon", 64, 64)
    with pytest.raises(InputError):
        make_scene("landscape", 4, 64)


def test_write_sample_byte_identical(tmp_path):
    a = write_sample(tmp_path / "a")
    b = write_sample(tmp_path / "b")
    for k in a:
        assert hashlib.sha256(a[k].read_bytes()).digest() == hashlib.sha256(b[k].read_bytes()).digest()
    from PIL import Image
    assert Image.open(a["painting"]).size == (1024, 683)
