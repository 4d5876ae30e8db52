"""The fast guided filter (coefficients on a subsampled copy) against the exact filter."""

import cv2
import numpy as np

from paint2vr.depth.guided import fast_guided_filter, guided_filter
from paint2vr.samples import make_scene


def _inputs(w=360, h=240):
    rgb = make_scene("landscape", w, h, seed=1)[0]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    small = np.random.default_rng(0).random((12, 18)).astype(np.float32)
    src = cv2.resize(cv2.GaussianBlur(small, (0, 0), 1.5), (w, h), interpolation=cv2.INTER_LINEAR)
    return grey, src


def test_fast_guided_filter_close_to_exact():
    grey, src = _inputs()
    span = float(np.ptp(src))
    for r in (8, 16, 24):
        exact = guided_filter(grey, src, r, 1e-3)
        fast = fast_guided_filter(grey, src, r, 1e-3)
        err = np.abs(fast - exact)
        assert fast.dtype == np.float32 and fast.shape == src.shape
        assert err.max() < 0.05 * span and err.mean() < 0.005 * span, (r, err.max(), err.mean())
        # It still smooths: far closer to the exact filter than to its input.
        assert err.mean() < 0.2 * np.abs(exact - src).mean()


def test_fast_guided_filter_step_one_is_exact_and_channels_match():
    grey, src = _inputs(120, 80)
    np.testing.assert_array_equal(fast_guided_filter(grey, src, 6, 1e-3, step=1), guided_filter(grey, src, 6, 1e-3))
    both = np.dstack([src, 1.0 - src])
    out = fast_guided_filter(grey, both, 16, 1e-3)
    np.testing.assert_allclose(out[..., 0], fast_guided_filter(grey, src, 16, 1e-3), atol=1e-5)
    np.testing.assert_allclose(out[..., 1], fast_guided_filter(grey, 1.0 - src, 16, 1e-3), atol=1e-5)
    # An edge of the guide is kept: a step source along a step guide stays a step.
    g = np.zeros((64, 96), np.float32)
    g[:, 48:] = 1.0
    q = fast_guided_filter(g, g.copy(), 16, 1e-4)
    assert q[:, :44].max() < 0.05 and q[:, 52:].min() > 0.95
