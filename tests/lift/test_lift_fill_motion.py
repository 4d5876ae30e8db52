"""The hidden fill sized for sideways motion (``LiftOptions.fill_motion``, :func:`fill_band`)
and the farthest layer's stretched triangles cut before the backdrop (:func:`show_behind`)."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.errors import OptionError
from paint2vr.lift import LiftOptions, lift
from paint2vr.painting import Painting
from paint2vr.render import render_scene

stage = sys.modules["paint2vr.lift.stage"]  # paint2vr.lift.stage is also the stage function's name


def test_fill_band_exact_values():
    # focal 500 px, 2 m aside: an occluder at 4 m before a wall at 20 m reveals 500 * 2 * 0.2 px.
    assert stage.fill_band(4.0, 20.0, 500.0, 2.0) == pytest.approx(200.0 + 3.0)
    np.testing.assert_allclose(stage.fill_band(np.array([4.0, 10.0, 20.0, 30.0]), 20.0, 500.0, 1.0),
                               [103.0, 28.0, 3.0, 3.0])  # farther occluders reveal less; none behind


def _column_scene(w=320, h=200, z_col=6.0, z_wall=20.0):
    """A red column 120 px wide at ``z_col`` before a textured wall at ``z_wall``."""
    rng = np.random.default_rng(0)
    rgb = (rng.integers(0, 60, (h // 4, w // 4, 3)).repeat(4, 0).repeat(4, 1) + [40, 120, 60]).astype(np.float64)
    depth = np.full((h, w), z_wall, np.float32)
    col = (slice(20, 180), slice(100, 220))
    rgb[col] = (200, 40, 30)
    depth[col] = z_col
    p = Painting.from_array(np.clip(rgb, 0, 255).astype(np.uint8))
    return p, DepthMap(depth=depth, sky=np.zeros((h, w), bool), metric=True, model=ModelInfo("truth")), col


def _filled_share(scene, col):
    far = [layer for layer in scene.layers if layer.kind == "layer"][-1]
    alpha = far.node.mesh.texture[..., 3] > 127
    return float(alpha[col].mean())


def test_fill_width_follows_head_motion():
    p, d, col = _column_scene()
    base = LiftOptions(world=False, max_layers=2)
    shares = [_filled_share(lift(p, d, dataclasses.replace(base, fill_motion=m)), col) for m in (0.5, 1.0, 2.0)]
    # 0.5 m reveals about 2 * (f * 0.5 * (1/6 - 1/20) + 3) of the column's 120 px, 2 m all of it.
    assert shares[0] < 0.6 and shares[0] < shares[1] < shares[2]
    assert shares[2] > 0.95
    # walkable_radius is the floor: a larger one widens the fill though fill_motion is small.
    wide = lift(p, d, dataclasses.replace(base, fill_motion=0.0, walkable_radius=2.0))
    assert _filled_share(wide, col) > 0.95


def test_fill_motion_bad_input():
    p, d, _ = _column_scene(w=64, h=40)
    for bad in (-1.0, 11.0):
        with pytest.raises(OptionError):
            lift(p, d, LiftOptions(world=False, fill_motion=bad))


def _ramp_scene(w=320, h=200):
    """One wall, its left half at 2 m and right half at 6 m, the step smoothed over 16 px
    (steps under max_jump: a rubber sheet, not a cut), textured."""
    xx = np.arange(w, dtype=np.float64)[None, :].repeat(h, 0)
    t = np.clip((xx - w / 2 + 8) / 16.0, 0, 1)
    disp = (1 - t) / 2.0 + t / 6.0
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 80, (h // 4, w // 4, 3)).repeat(4, 0).repeat(4, 1) + np.where(
        (t < 0.5)[..., None], [150, 90, 40], [60, 100, 160])
    p = Painting.from_array(np.clip(rgb, 0, 255).astype(np.uint8))
    return p, DepthMap(depth=(1 / disp).astype(np.float32), sky=np.zeros((h, w), bool), metric=True,
                       model=ModelInfo("truth"))


def test_farthest_layer_is_cut_before_the_backdrop():
    p, d = _ramp_scene()
    o = LiftOptions(n_layers=1)
    on = lift(p, d, o)
    off = lift(p, d, dataclasses.replace(o, max_stretch=None))
    f_on = [layer for layer in on.layers if layer.kind == "layer"][-1].node.mesh.faces
    f_off = [layer for layer in off.layers if layer.kind == "layer"][-1].node.mesh.faces
    assert len(f_on) < len(f_off)  # the ramp's sheet is cut from the one (farthest) layer
    # Without the world there is nothing behind it: the sheet stays.
    nw = lift(p, d, dataclasses.replace(o, world=False))
    nw_off = lift(p, d, dataclasses.replace(o, world=False, max_stretch=None))
    assert len([x for x in nw.layers if x.kind == "layer"][-1].node.mesh.faces) == \
        len([x for x in nw_off.layers if x.kind == "layer"][-1].node.mesh.faces)
    # The start view stays the painting: the window shows what the sheet covered.
    a, cov_a = render_scene(off, width=320)
    b, cov_b = render_scene(on, width=320)
    assert cov_a.all() and cov_b.all()
    mse = ((a.astype(np.float64) - b) ** 2).mean()
    assert 10 * np.log10(255.0 ** 2 / max(mse, 1e-12)) > 30.0
    # Stepping aside, the backdrop shows in the cut: no hole.
    _, cov = render_scene(on, width=320, eye_offset=(1.0, 0, 0))
    assert cov.all()


def test_show_behind_paints_the_gone_pixels_and_a_band():
    p, d = _ramp_scene(64, 40)
    gone = np.zeros((40, 64), bool)
    gone[10:30, 30:34] = True
    tex = stage._texture_raster(p, d, stage._working_geometry(p, d, lift_camera(p), LiftOptions()), np.zeros(0),
                                LiftOptions())
    sg = stage.frame_raster(64, 40, 1.0, 0.0)
    window = np.zeros((40, 64, 3), np.uint8)
    out = stage.show_behind(window, sg, gone, tex, band=3.0)
    np.testing.assert_array_equal(out[gone], p.rgb[gone])
    ring = np.zeros_like(gone)
    ring[10:30, 27:37] = True
    ring &= ~gone
    assert (out[ring].max(axis=1) > 0).all()  # the band is coloured
    assert not out[:5].any() and not out[:, :20].any()  # far from it, the window is unchanged
    assert stage.show_behind(window, sg, np.zeros_like(gone), tex, 3.0) is window


def lift_camera(p):
    from paint2vr.scene import camera_for_image
    return camera_for_image(p.width, p.height, 55.0, 1.6)
