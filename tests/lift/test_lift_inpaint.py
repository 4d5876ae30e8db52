"""Exemplar inpainting of what nearer layers hide: fast search against its loop reference,
and a lifted scene whose hidden background is filled with its own detail and colours."""

import cv2
import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.lift import LiftOptions, inpaint, lift
from paint2vr.painting import Painting


def _background(h, w, seed=0):
    """Green-blue strokes and stripes: detail everywhere, no red."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    stripes = 40 * np.sin(xx / 3.0 + 0.4 * np.sin(yy / 7.0))
    noise = cv2.GaussianBlur(rng.normal(0, 30, (h, w)).astype(np.float32), (0, 0), 1.0)
    g = np.clip(120 + stripes + noise, 0, 255)
    b = np.clip(150 + 0.5 * stripes - noise, 0, 255)
    r = np.clip(30 + 0.1 * noise, 0, 255)
    return np.stack([r, g, b], -1).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1])
def test_search_matches_reference(seed):
    h, w = 18, 22
    img = np.rint(_background(h, w, seed))  # integer values: the fast sums are exact
    own = np.ones((h, w), bool)
    own[4:13, 8:15] = False
    hole = ~own
    own[0, 0] = False  # a pixel of another layer: neither source nor hole
    m = int(hole.sum())
    cand = inpaint.Candidates(m, 9, seed, iterations=3)
    fast = inpaint.nnf_search(img, own, hole, seed, cand=cand)
    ref = inpaint.nnf_search_reference(img, own, hole, cand, seed)
    src = inpaint.source_mask(own)
    assert fast.shape == (m, 2) and src[fast[:, 0], fast[:, 1]].all()
    np.testing.assert_array_equal(fast, ref)


def test_offsets_land_on_the_layer_and_copy_detail():
    h, w = 96, 128
    img = _background(h, w)
    own = np.ones((h, w), bool)
    own[20:90, 50:80] = False
    offset = inpaint.fill_offsets(img, own, ~own, seed=3)
    yy, xx = np.nonzero(~own)
    sy, sx = yy + offset[yy, xx, 0], xx + offset[yy, xx, 1]
    assert own[sy, sx].all() and not offset[own].any()
    filled = img.copy()
    filled[yy, xx] = img[sy, sx]
    grad = _gradient(filled)
    assert grad[~own].mean() > 0.6 * grad[own].mean()


def _gradient(rgb):
    g = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))


def test_hidden_background_keeps_its_detail_and_colours():
    """A red column 3 m away in front of a textured wall 20 m away: the wall's texture behind
    the column (shown to a visitor stepping aside) has the wall's detail, not a blur, and the
    wall's colours, not the column's."""
    h, w = 160, 240
    rgb = _background(h, w)
    depth = np.full((h, w), 20.0, np.float32)
    col = (slice(30, 160), slice(100, 136))
    rgb[col] = (200, 40, 30)
    depth[col] = 3.0
    painting = Painting.from_array(np.clip(rgb, 0, 255).astype(np.uint8))
    dm = DepthMap(depth=depth, sky=np.zeros((h, w), bool), metric=True, model=ModelInfo("truth"))
    scene = lift(painting, dm, LiftOptions(world=False))
    far = [layer for layer in scene.layers if layer.kind == "layer"][-1]
    tex = far.node.mesh.texture
    assert tex.shape[:2] == (h, w)  # the wall fills the frame: its texture is the frame
    behind = np.zeros((h, w), bool)
    behind[col] = True
    behind &= tex[..., 3] > 127
    behind = cv2.erode(behind.view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert behind.sum() > 0.5 * 130 * 36 * 0.6  # most of the column's area is filled
    wall = cv2.erode((depth > 10).view(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grad = _gradient(tex[..., :3].astype(np.float32))
    assert grad[behind].mean() > 0.6 * grad[wall].mean()
    fill_rgb = tex[..., :3][behind].astype(np.float32)
    assert np.percentile(fill_rgb[:, 0], 99) < 80  # no red from the column
    wall_mean = np.asarray(painting.rgb, np.float32)[wall].mean(0)
    assert np.abs(fill_rgb.mean(0) - wall_mean).max() < 15
