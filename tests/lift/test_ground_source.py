"""The ground tile's sources: all the land the depth calls ground (:func:`ground_mask`,
:func:`ground_exemplar`), drawn by distance (weighted quilting), and the ground's colour
near the visitor (:meth:`Ground.gain`)."""

from __future__ import annotations

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.lift.ground import (GROUND_SLOPE, NEAR_FADE, Ground, exemplar_grid, flatten_light, ground_exemplar, ground_mask,
                                  ground_profile, ground_profile_reference, ground_tile, on_painting)
from paint2vr.lift.synth import quilt_tile
from paint2vr.scene import camera_for_image

W, H = 320, 240
EYE = 1.6
RED, GREEN = (170.0, 60.0, 40.0), (60.0, 150.0, 50.0)


def _two_material_scene(seed: int = 0, card: bool = False):
    """A level ground seen from eye height (disparity linear in the row below the camera's
    horizon, sky above it): red earth on the bottom sixth, green meadow above it; with
    ``card`` an upright object (constant depth) standing in the meadow."""
    cam = camera_for_image(W, H, 55.0, EYE)
    rows = np.arange(H, dtype=np.float64)[:, None] + 0.5
    below = rows - H / 2.0
    depth = np.where(below > 2, EYE * cam.focal / np.maximum(below, 1e-6), 1000.0) * np.ones((1, W))
    sky = np.broadcast_to(below <= 2, (H, W)).copy()
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    earth = np.broadcast_to(rows >= H * 5 / 6, (H, W))
    rgb[:] = GREEN
    rgb[earth] = RED
    rgb += rng.normal(0, 12, rgb.shape)  # brush grain
    rgb[sky] = (150, 180, 220)
    if card:
        r0, r1, c0, c1 = int(H * 0.55), int(H * 0.75), 100, 160
        depth[r0:r1, c0:c1] = depth[r1, c0]
        rgb[r0:r1, c0:c1] = (20, 20, 200)
    return np.clip(rgb, 0, 255).astype(np.uint8), depth.astype(np.float32), sky, cam


def _share(tile: np.ndarray, colour) -> float:
    d = np.abs(tile.astype(np.float32) - np.asarray(colour, np.float32)).sum(axis=-1)
    return float((d < 60).mean())


def test_ground_mask_keeps_the_ground_and_drops_an_upright_card():
    rgb, depth, sky, cam = _two_material_scene(card=True)
    m = ground_mask(depth, sky, cam, EYE)
    assert m.shape == (H, W) and m.dtype == bool
    assert m[int(H * 0.9), 20] and m[int(H * 0.6), 250]  # earth and meadow are ground
    assert not m[int(H * 0.65), 120:140].any()  # the card's face is not
    assert not m[: H // 2].any()  # nor the sky
    assert GROUND_SLOPE[0] < 1.0 < GROUND_SLOPE[1]


def test_ground_exemplar_reaches_the_meadow_and_weights_the_near_octave_most():
    rgb, depth, sky, cam = _two_material_scene()
    ex, valid, weight, res, near_z = ground_exemplar(rgb, depth, sky, cam, 0.0)
    assert ex.dtype == np.float32 and ex.shape[:2] == valid.shape == weight.shape
    assert near_z == pytest.approx(EYE * cam.focal / (H / 2.0))
    assert res > 0 and valid.mean() > 0.5
    bottom, top = ex[-5:][valid[-5:]], ex[:5][valid[:5]]
    assert np.abs(bottom.mean(axis=0) - RED).max() < 25  # the bottom rows are the earth
    assert np.abs(top.mean(axis=0) - GREEN).max() < 25  # the far rows the meadow
    assert (weight[~valid] == 0).all()
    # Each octave of distance weighs half the one before, whatever its texels: the exemplar's
    # nearest tenth (in the first octave) outweighs its farthest (many far octaves, stretched rows).
    k = len(weight) // 10
    assert weight[-k:].sum() > weight[:k].sum() > 0


def test_ground_tile_is_the_near_material_and_the_far_colour_comes_from_the_profile():
    """The bottom strip (the nearest ground) is red earth, the meadow beyond green: the tile is
    the earth the visitor stands on, and the vertex gains turn it green in the distance."""
    rgb, depth, sky, cam = _two_material_scene()
    gr = ground_tile(rgb, depth, sky, cam, 0.0, 128, seed=0)
    assert gr.tile.shape == (128, 128, 3) and gr.tile.dtype == np.uint8
    # The stored tile may be brightened (own_gain undoes it); compare in shown colours.
    from paint2vr.color import linear_to_srgb, srgb_to_linear
    lin = srgb_to_linear(gr.tile / 255.0)
    shown = linear_to_srgb(lin * gr.own_gain) * 255.0
    red, green = _share(shown, RED), _share(shown, GREEN)
    assert red > 0.8 and green < 0.05, (red, green)
    far = linear_to_srgb(lin.reshape(-1, 3).mean(axis=0) * gr.gain(gr.profile_d[-1])) * 255.0
    assert far[1] > far[0], far  # the meadow's green at the far end of the painted ground


def test_ground_tile_leaves_out_an_upright_card_and_a_robe_on_the_near_ground():
    rgb, depth, sky, cam = _two_material_scene(card=True)
    rgb[int(H * 0.9):, 140:190] = (20, 20, 200)  # a blue robe lying on the earth
    gr = ground_tile(rgb, depth, sky, cam, 0.0, 128, seed=0)
    from paint2vr.color import linear_to_srgb, srgb_to_linear
    shown = linear_to_srgb(srgb_to_linear(gr.tile / 255.0) * gr.own_gain) * 255.0
    assert _share(shown, (20, 20, 200)) < 0.02


def test_ground_tile_bad_input_all_sky_and_no_ground():
    rgb, depth, sky, cam = _two_material_scene()
    gr = ground_tile(rgb, depth, np.ones_like(sky), cam, 0.0, 64, seed=0)  # no land at all
    assert gr.tile.shape == (64, 64, 3)
    flat = np.full_like(depth, 7.0)  # all upright: nothing is ground, the bottom rows are used
    gr = ground_tile(rgb, flat, np.zeros_like(sky), cam, 0.0, 64, seed=0)
    assert gr.tile.shape == (64, 64, 3) and np.isfinite(gr.tile_m) and gr.tile_m > 0


def test_ground_gain_fades_to_the_tiles_own_colour_near_the_visitor():
    own = np.array([0.5, 0.6, 0.7])
    gr = Ground(y=0.0, tile=np.zeros((4, 4, 3), np.uint8), tile_m=1.0, near_z=4.0,
                profile_d=np.array([4.0, 8.0]), profile_gain=np.array([[0.2, 0.3, 0.4], [0.1, 0.1, 0.1]]),
                own_gain=own)
    g = gr.gain(np.array([0.0, 4.0 * NEAR_FADE, 3.0, 4.0, 6.0, 20.0]))
    np.testing.assert_allclose(g[0], own)
    np.testing.assert_allclose(g[1], own)
    t = (3.0 - 4.0 * NEAR_FADE) / (4.0 * (1 - NEAR_FADE))
    np.testing.assert_allclose(g[2], own + ([0.2, 0.3, 0.4] - own) * t)
    np.testing.assert_allclose(g[3], [0.2, 0.3, 0.4])
    np.testing.assert_allclose(g[4], [0.15, 0.2, 0.25])
    np.testing.assert_allclose(g[5], [0.1, 0.1, 0.1])
    empty = Ground(y=0.0, tile=np.zeros((4, 4, 3), np.uint8), tile_m=1.0, near_z=4.0,
                   profile_d=np.zeros(0), profile_gain=np.zeros((0, 3)))
    np.testing.assert_allclose(empty.gain(np.array([1.0, 2.0])), np.ones((2, 3)))


def test_quilt_tile_weight_draws_blocks_where_it_is_heavy():
    rng = np.random.default_rng(0)
    ex = np.zeros((40, 80, 3), np.float32)
    ex[:, :40] = 50 + rng.normal(0, 3, (40, 40, 3))
    ex[:, 40:] = 200 + rng.normal(0, 3, (40, 40, 3))
    weight = np.zeros((40, 80))
    weight[:, 75:] = 1.0  # anchors at the right edge: candidates within two blocks, all right
    tile = quilt_tile(ex, 3, 3, 10, 3, seed=2, weight=weight)
    assert tile.min() > 150
    none = quilt_tile(ex, 3, 3, 10, 3, seed=2)
    np.testing.assert_array_equal(none, quilt_tile(ex, 3, 3, 10, 3, seed=2, weight=None))
    left = np.zeros_like(weight)
    left[:, :6] = 1.0  # block centres at x = 5: the first column of starts
    assert quilt_tile(ex, 3, 3, 10, 3, seed=2, weight=left).max() < 100


def test_ground_exemplar_rows_keep_the_painted_touch_and_the_near_ground_leads():
    """Exemplar texels are as tall as wide in the picture (no streaks along the view), and a
    flat far expanse (a frozen pond) bigger than the near ground does not take the tile over."""
    rgb, depth, sky, cam = _two_material_scene()
    ex, valid, weight, res, near_z = ground_exemplar(rgb, depth, sky, cam, 0.0)
    ground_rows = H - (H // 2 + 3)  # the plane's rows below the camera's horizon
    assert ex.shape[0] <= ground_rows * ex.shape[1] / W + 2
    flat = rgb.copy()
    meadow = (np.abs(flat.astype(np.int16) - np.asarray(GREEN, np.int16)).sum(-1) < 90) & ~sky
    flat[meadow] = np.asarray(GREEN, np.uint8)  # no grain: its overlaps match best
    from paint2vr.color import linear_to_srgb, srgb_to_linear
    # Over a few seeds (one tile's draw can go either way: 16 patches of a 128 px tile).
    red = green = 0.0
    for seed in range(4):
        gr = ground_tile(flat, depth, sky, cam, 0.0, 128, seed=seed)
        shown = linear_to_srgb(srgb_to_linear(gr.tile / 255.0) * gr.own_gain) * 255.0
        red, green = red + _share(shown, RED), green + _share(shown, GREEN)
    assert red > green, (red, green)


def test_ground_beside_the_frame_takes_the_painting_edge_colour():
    from paint2vr.lift.ground import EDGE_SPAN, _edge_faded_gain, edge_profiles
    rgb, depth, sky, cam = _two_material_scene()
    rgb[:, :8] = (200, 40, 40)  # a red left edge
    d = np.array([5.0, 10.0, 20.0])
    e = edge_profiles(rgb, sky, cam, 0.0, np.array([120.0, 120.0, 120.0]), d)
    assert e.shape == (2, 3, 3) and (e[0, :, 0] > e[1, :, 0]).all() and (e[0, :, 1] < e[1, :, 1]).all()
    red, green = [[1.0, 0.0, 0.0]] * 2, [[0.0, 1.0, 0.0]] * 2
    gr = Ground(y=0.0, tile=np.zeros((4, 4, 3), np.uint8), tile_m=1.0, near_z=4.0,
                profile_d=np.array([4.0, 8.0]), profile_gain=np.array([[0.2, 0.3, 0.4], [0.1, 0.1, 0.1]]),
                edge_gain=np.array([red, green]))
    h = 0.5
    g = _edge_faded_gain(gr, np.array([-h, h, h + EDGE_SPAN + 0.1, 0.0, -h]), np.array([20.0, 20.0, 20.0, 20.0, 1.0]), h)
    np.testing.assert_allclose(g[0], [1.0, 0.0, 0.0])  # at the left edge: its colour
    np.testing.assert_allclose(g[1], [0.0, 1.0, 0.0])  # at the right edge
    np.testing.assert_allclose(g[2], [0.1, 0.1, 0.1])  # beyond the fade: the ground's own
    np.testing.assert_allclose(g[3], [0.1, 0.1, 0.1])  # inside the view (under the layers)
    np.testing.assert_allclose(g[4], gr.gain(np.array([1.0]))[0])  # nearer than the bottom edge


def test_flatten_light_keeps_detail_hue_and_a_share_of_the_light():
    # Left half in shadow (grey 60), right half lit (160), each with a fine checker (x 0.9 /
    # 1.1) in a reddish hue; a strip of invalid sky (255) along the top must not count.
    h, w, block = 64, 128, 16
    yy, xx = np.mgrid[0:h, 0:w]
    grey = np.where(xx < w // 2, 60.0, 160.0) * np.where((yy + xx) % 2 == 0, 1.1, 0.9)
    ex = (grey[..., None] * np.asarray([1.3, 0.9, 0.7])).astype(np.float32)
    valid = np.ones((h, w), bool)
    valid[:8] = False
    ex[:8] = 255.0
    np.testing.assert_array_equal(flatten_light(ex, valid, block, 1.0), ex)
    out = flatten_light(ex, valid, block, 0.4)
    assert out.shape == ex.shape and out.dtype == np.float32
    # Away from the light's edge the lit half is (160 / 60) ** 0.4 times the shadowed one, not
    # 160 / 60; hue (channel ratios) and the checker's relative contrast stay.
    far_l, far_r = out[32:, 4:20].mean(), out[32:, -20:-4].mean()
    assert abs(far_r / far_l - (160.0 / 60.0) ** 0.4) < 0.08
    np.testing.assert_allclose(out[40, 8] / out[40, 8, 0], ex[40, 8] / ex[40, 8, 0], rtol=1e-5)
    assert abs(out[40, 8, 0] / out[40, 9, 0] - ex[40, 8, 0] / ex[40, 9, 0]) < 0.02
    with_sky = flatten_light(ex, np.ones((h, w), bool), block, 0.4)
    assert not np.allclose(with_sky[32:], out[32:])  # the invalid sky was left out of the mean


def test_exemplar_grid_rows_step_down_the_ground_far_first():
    rgb, depth, sky, cam = _two_material_scene()
    mask = ground_mask(depth, sky, cam, EYE)
    rows, step, res, near_z = exemplar_grid(rgb.shape, cam, 0.0, mask)
    assert rows.dtype == np.float32 and (np.diff(rows) > 0).all()  # far (upper) rows first
    assert np.allclose(np.diff(rows), step) and rows[-1] == pytest.approx(H - step / 2.0)
    assert rows[0] > H / 2.0 and step == pytest.approx(W / round(W / step))
    ex, valid, weight, res2, near_z2 = ground_exemplar(rgb, depth, sky, cam, 0.0, mask=mask)
    assert ex.shape[:2] == (len(rows), round(W / step)) and (res2, near_z2) == (res, near_z)
    none = exemplar_grid(rgb.shape, cam, 0.0, np.zeros_like(mask))  # no ground: below the centre row
    assert none[0][0] > H / 2.0 and none[1] == step
    coarse = exemplar_grid(rgb.shape, cam, 0.0, mask, max_side=20)  # under 16 rows: the bottom sixteenth
    assert len(coarse[0]) == 16 and coarse[0][0] >= H * 15 / 16


def test_on_painting_lays_texels_back_where_they_were_sampled():
    rows = np.array([100.5, 110.5, 120.5], np.float32)
    tex = np.zeros((3, 8), bool)
    tex[1, 2] = True
    out = on_painting(tex, (130, 80), rows, 10.0)
    assert out.shape == (130, 80) and out.dtype == bool
    ys, xs = np.nonzero(out)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (105, 114, 20, 29)  # a tie goes to the lower row
    assert not on_painting(np.ones((3, 8), bool), (130, 80), rows, 10.0)[:95].any()  # above the rows
    with pytest.raises(InputError, match="row per texel row"):
        on_painting(tex, (130, 80), rows[:2], 10.0)
    # Round trip: the exemplar's own sampling of a painting-sized mask comes back.
    rgb, depth, sky, cam = _two_material_scene(card=True)
    mask = ground_mask(depth, sky, cam, EYE)
    r, step, _, _ = exemplar_grid(rgb.shape, cam, 0.0, mask)
    _, valid, _, _, _ = ground_exemplar(rgb, depth, sky, cam, 0.0, mask=mask)
    back = on_painting(valid, rgb.shape, r, step)
    rs = np.clip(r.astype(int), 0, H - 1)
    cs = np.clip(((np.arange(valid.shape[1]) + 0.5) * step).astype(int), 0, W - 1)
    assert (back[rs][:, cs] == valid).all()


def test_ground_profile_keep_leaves_out_what_stands_on_the_ground():
    rgb, depth, sky, cam = _two_material_scene()
    robe = np.zeros((H, W), bool)
    robe[int(H * 0.85):, : W // 2] = True
    rgb = rgb.copy()
    rgb[robe] = (20, 20, 200)
    mean = np.array([170.0, 60.0, 40.0])
    d0, g0 = ground_profile(rgb, depth, sky, cam, 0.0, mean)
    d1, g1 = ground_profile(rgb, depth, sky, cam, 0.0, mean, ~robe)
    rd, rg = ground_profile_reference(rgb, depth, sky, cam, 0.0, mean, ~robe)
    np.testing.assert_allclose(d1, rd, rtol=1e-12)
    np.testing.assert_allclose(g1, rg, rtol=1e-4, atol=1e-6)
    near = np.argmin(d1)
    assert g0[np.argmin(d0), 2] > 1.5 and abs(g1[near, 2] - 1.0) < 0.3  # no robe blue in the near ground
