"""Push-pull filling: fast path against the slow reference, exact values, edge cases."""

import numpy as np
import pytest

from paint2vr.lift.fill import push_pull, push_pull_reference


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 5), (16, 16), (19, 33)])
@pytest.mark.parametrize("channels", [0, 1, 4])
def test_fast_matches_reference(shape, channels):
    rng = np.random.default_rng(sum(shape) + channels)
    vshape = shape if channels == 0 else shape + (channels,)
    values = rng.uniform(0, 255, vshape).astype(np.float32)
    weight = (rng.random(shape) < 0.3).astype(np.float32) * rng.uniform(0.2, 1.0, shape).astype(np.float32)
    fast = push_pull(values, weight)
    ref = push_pull_reference(values, weight)
    assert fast.shape == vshape and fast.dtype == np.float32
    np.testing.assert_allclose(fast, ref, rtol=1e-4, atol=1e-2)


def test_known_pixels_kept_exactly_and_constant_filled():
    values = np.full((9, 12, 3), 42.5, np.float32)
    weight = np.zeros((9, 12), np.float32)
    weight[2:5, 3:7] = 1.0
    out = push_pull(values, weight)
    np.testing.assert_array_equal(out[2:5, 3:7], values[2:5, 3:7])
    np.testing.assert_allclose(out, 42.5, rtol=1e-6)  # a constant field fills with itself


def test_no_known_pixel_gives_zero():
    out = push_pull(np.ones((5, 6), np.float32), np.zeros((5, 6), np.float32))
    assert out.shape == (5, 6) and not out.any()
