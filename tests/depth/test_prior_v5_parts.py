"""The parts of the built-in estimator (version 5) on small constructed pictures with known answers."""

import cv2
import numpy as np
import pytest

from paint2vr.depth.frames import frame_box
from paint2vr.depth.horizon import horizon_from_sky, sky_above_horizon
from paint2vr.depth.layout import box_depth, figure_mask, ground_rows
from paint2vr.depth.perspective import find_vanishing_point
from paint2vr.depth.prior import PriorEstimator, PriorOptions
from paint2vr.depth.regions import merge_regions, region_stats, superpixels
from paint2vr.errors import InputError


def corridor(w=320, h=240, vp=(180, 100)):
    """A drawn corridor: floor, ceiling and walls in four tones, ceiling beams and the
    corners converging on ``vp``, a back wall around it."""
    img = np.zeros((h, w, 3), np.uint8)
    cx, cy = vp
    bx0, bx1, by0, by1 = cx - 30, cx + 30, cy - 22, cy + 22           # back wall
    corners = [(0, 0), (w - 1, 0), (w - 1, h - 1), (0, h - 1)]
    back = [(bx0, by0), (bx1, by0), (bx1, by1), (bx0, by1)]
    tones = [(200, 190, 170), (120, 90, 70), (150, 130, 110), (120, 90, 70)]  # ceiling, right, floor, left
    for k in range(4):
        poly = np.array([corners[k], corners[(k + 1) % 4], back[(k + 1) % 4], back[k]], np.int32)
        cv2.fillPoly(img, [poly], tones[k])
    cv2.rectangle(img, (bx0, by0), (bx1, by1), (90, 110, 140), -1)
    for x in np.linspace(0, w, 9):                                    # ceiling beams
        cv2.line(img, (int(cx), int(cy)), (int(x), 0), (60, 45, 35), 3, cv2.LINE_AA)
    cv2.rectangle(img, (bx0, by0), (bx1, by1), (90, 110, 140), -1)
    for c in corners:
        cv2.line(img, (cx, cy), c, (30, 30, 30), 2, cv2.LINE_AA)
    return img


def test_vanishing_point_of_a_drawn_corridor():
    img = corridor()
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    vp = find_vanishing_point(grey)
    assert vp is not None and vp.support > 0.5
    assert abs(vp.x - 180) < 6 and abs(vp.y - 100) < 6


def test_no_vanishing_point_in_noise_or_one_bundle():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (200, 300), dtype=np.uint8)
    assert find_vanishing_point(cv2.GaussianBlur(noise, (0, 0), 2)) is None
    stripes = np.zeros((200, 300), np.uint8)
    for x in range(-200, 300, 25):                                    # parallel diagonal strokes
        cv2.line(stripes, (x, 199), (x + 200, 0), 255, 3)
    vp = find_vanishing_point(stripes)
    assert vp is None or vp.support < 0.5


def test_corridor_reads_as_a_box_room():
    img = corridor()
    d = PriorEstimator().estimate_one(img)
    assert d.extras["box_room"] and not d.sky.any()
    vx, vy = d.extras["vanishing_point"]
    assert abs(vx - 180 / 320) < 0.03 and abs(vy - 100 / 240) < 0.03
    z = d.depth
    # Nearest at the picture's edges, receding towards the back wall on every surface.
    assert z[230, 180] < z[150, 180] < z[125, 180]                    # floor
    assert z[5, 180] < z[50, 180] < z[75, 180]                        # ceiling
    assert z[100, 5] < z[100, 80] < z[100, 140]                       # left wall
    assert z[100, 315] < z[100, 260]                                  # right wall


def test_box_depth_floor_matches_ground_plane():
    h, w, f = 120, 160, 150.0
    box = box_depth(h, w, (80.0, 40.0), 1.6, f, 0.5, 500.0)
    g = ground_rows(h, 40.0, 1.6, f, 0.5, 500.0)
    assert np.allclose(box[100:, 80], g[100:])                        # the floor is the ground
    assert np.allclose(box[119, :], box[119, 80], rtol=0.05)          # walls meet it at the corners
    assert box[0, 80] == pytest.approx(box[119, 80], rel=0.05)        # the ceiling fits the top edge


def test_horizon_from_sky_ignores_a_reflection():
    h, w = 100, 120
    sky = np.zeros((h, w), bool)
    sky[:40] = True
    sky[:, 60:70] = True                                              # the sun's glow runs down the water
    hz = horizon_from_sky(sky, 35.0)
    assert 40 <= hz <= 44
    cut = sky_above_horizon(sky, hz)
    assert cut[:40].all() and not cut[int(hz + 6):].any()
    assert horizon_from_sky(np.zeros((h, w), bool), 35.0) == 35.0


def test_horizon_from_sky_follows_a_wide_open_stretch_below_trees():
    h, w = 100, 120
    sky = np.zeros((h, w), bool)
    sky[:15] = True                                                   # tree crowns hide the sky over 60 %
    sky[:60, 72:] = True                                              # open sky down to the far meadow
    assert 60 <= horizon_from_sky(sky, 35.0) <= 64
    narrow = np.zeros((h, w), bool)
    narrow[:15] = True
    narrow[:60, 100:110] = True                                       # a narrow glow does not count
    assert horizon_from_sky(narrow, 10.0) <= 20


def test_horizon_from_sky_is_no_higher_than_the_default_eye_level():
    # Sky is seen only above the horizon, so its lowest reach bounds the horizon from above:
    # a strip of sky over the roofs of a courtyard does not lift the eye level to the roofs.
    h, w = 100, 120
    sky = np.zeros((h, w), bool)
    sky[:12, 30:90] = True
    assert horizon_from_sky(sky, 35.0) == 35.0
    assert 14 <= horizon_from_sky(sky, 5.0) <= 16


def misty_harbour(w=320, h=220, hz=120):
    """A pale misty sky over calm water whose reflection has the sky's colours, a dark
    tower standing on the far shore."""
    y = np.arange(h)[:, None].astype(np.float32)
    sky = np.stack([200 + 0 * y, 205 + 0 * y, 215 - 0.1 * y], -1) * np.ones((1, w, 1))
    img = sky.copy()
    water = img[hz:] * 0.92
    water[:, 140:180] = (225, 222, 215)                               # glow reflected under the sun
    img[hz:] = water
    img[hz - 40:hz, 60:72] = (70, 60, 55)                             # a tower on the far shore
    img[hz - 4:hz + 2, :] = (110, 115, 110)                           # the shore line
    return np.clip(img + np.random.default_rng(1).normal(0, 2, img.shape), 0, 255).astype(np.uint8)


def test_misty_sky_only_above_the_horizon():
    img = misty_harbour()
    d = PriorEstimator().estimate_one(img)
    hz = d.extras["horizon_row"]
    assert 100 < hz < 135
    assert d.sky[:60].mean() > 0.8                                    # the open sky is sky
    assert not d.sky[int(hz + 0.06 * 220):].any()                     # the glow on the water is not
    assert d.depth[210, 60] < d.depth[135, 60]                        # the water recedes


def test_framed_picture_is_cropped():
    from paint2vr.samples import make_scene
    rng = np.random.default_rng(2)
    pic = make_scene("landscape", 260, 180, seed=1)[0]
    framed = np.zeros((220, 300, 3), np.uint8)
    framed[:] = (95, 70, 30)                                          # a gilded frame, with grain
    framed = np.clip(framed + rng.normal(0, 6, framed.shape), 0, 255).astype(np.uint8)
    framed[20:200, 20:280] = pic
    lab = cv2.cvtColor(framed.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    t, b, l, r = frame_box(lab[..., 0])
    assert abs(t - 20) <= 2 and abs(b - 200) <= 2 and abs(l - 20) <= 2 and abs(r - 280) <= 2
    d = PriorEstimator().estimate_one(framed)
    ft, fb, fl, fr = d.extras["frame_box"]
    assert abs(ft - 20 / 220) < 0.02 and abs(fr - 280 / 300) < 0.02
    # The frame carries no depth of its own: it repeats the picture's edge.
    assert np.allclose(d.depth[2:10, 150], d.depth[24, 150], rtol=0.1)


def test_unframed_painting_is_not_cropped():
    from paint2vr.samples import make_scene
    rgb = make_scene("landscape", 320, 213, seed=0)[0]
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
    assert frame_box(lab[..., 0]) == (0, 213, 0, 320)


def test_high_viewpoint_ground_rises_to_the_top():
    # A townscape seen from above: no sky, the horizon above the top edge (a hint): the
    # ground recedes all the way up and nothing is sky.
    rng = np.random.default_rng(3)
    img = np.clip(rng.normal(130, 25, (200, 300, 3)), 0, 255).astype(np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 1.5)
    d = PriorEstimator(PriorOptions(horizon=-0.2)).estimate_one(img)
    assert not d.sky.any()
    assert d.extras["horizon_row"] == pytest.approx(-0.2 * 200, abs=1)
    col = np.median(d.depth, axis=1)
    assert col[5] > col[100] > col[195]
    assert col[5] < 80.0                                              # still ground, not the far limit
    # Without the hint the default horizon (35 % down) leaves the top third at the far limit.
    d0 = PriorEstimator().estimate_one(img)
    assert np.median(d0.depth[:40]) > np.median(d.depth[:40])


def test_occluder_standing_on_the_floor_is_nearer_than_the_floor_behind():
    # A column standing near on a floor that recedes to a horizon; its top is higher in the
    # picture than floor points it hides, yet nearer (the against-vertical case).
    h, w = 240, 320
    y = np.arange(h)[:, None]
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (170, 200, 235)                                          # sky
    img[y[:, 0] >= 90] = (150, 140, 110)                              # floor below the horizon
    for r in range(100, h, 12):
        img[r] = (120, 110, 85)                                       # joints
    img[40:220, 140:170] = (230, 225, 215)                            # a white column, foot at row 220
    d = PriorEstimator().estimate_one(img)
    top = np.median(d.depth[60:80, 148:162])
    floor_behind = np.median(d.depth[120:140, 40:100])
    assert top < floor_behind
    assert np.median(d.depth[200:215, 148:162]) == pytest.approx(top, rel=0.2)  # one upright card


def test_merge_regions_finds_two_things():
    img = np.zeros((60, 80, 3), np.float32)
    img[:, :40] = (40.0, 20.0, 10.0)
    img[:, 40:] = (70.0, -10.0, 30.0)
    img += np.random.default_rng(0).normal(0, 1.0, img.shape).astype(np.float32)
    sp = superpixels(img, 6)
    assert sp.max() > 20
    merged = merge_regions(sp, img, np.zeros((60, 80)), 9.0, 10)
    assert merged.max() == 1
    reg = region_stats(merged, img, np.zeros((60, 80)))
    assert sorted(reg.left.tolist())[0] == 0 and abs(sorted(reg.left.tolist())[1] - 40) <= 1 and (reg.bottom >= 50).all()


def test_hint_options_are_checked():
    with pytest.raises(InputError):
        PriorEstimator(PriorOptions(horizon=7.0))
    with pytest.raises(InputError):
        PriorEstimator(PriorOptions(vanishing_point=(0.5,)))
    with pytest.raises(InputError):
        PriorEstimator(PriorOptions(fov_deg=0.0))
    d = PriorEstimator(PriorOptions(vanishing_point=(0.56, 0.42))).estimate_one(corridor())
    assert d.extras["vanishing_point"] == pytest.approx((0.56, 0.42), abs=1e-6)
    assert d.extras["horizon_row"] == pytest.approx(0.42 * 240, abs=0.5)
    d = PriorEstimator(PriorOptions(horizon=0.6, vanishing_point=(0.56, 0.42))).estimate_one(corridor())
    assert d.extras["horizon_row"] == pytest.approx(0.6 * 240, abs=0.5)


def test_merge_rounds_match_the_one_at_a_time_reference():
    from paint2vr.depth.imageops import grad
    from paint2vr.depth.regions import merge_regions_reference
    from paint2vr.samples import make_scene
    for kind, seed in (("landscape", 0), ("tall_trees", 1)):
        rgb = make_scene(kind, 200, 140, seed=seed)[0]
        lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2Lab)
        sp = superpixels(lab, 5)
        g = grad(lab[..., 0])
        fast = merge_regions(sp, lab, g, 9.0, 60)
        ref = merge_regions_reference(sp, lab, g, 9.0, 60)
        assert abs(fast.max() - ref.max()) <= 0.15 * ref.max() + 2
        # Each fast region lies mostly inside one reference region.
        joint = np.zeros((fast.max() + 1, ref.max() + 1))
        np.add.at(joint, (fast.ravel(), ref.ravel()), 1)
        assert joint.max(axis=1).sum() / fast.size > 0.9


def portrait(h=300, w=220):
    """A sitter before a landscape with no sky in view: a dark-green background with some
    texture, a wide dress rising from the bottom edge to the shoulders and a head on them."""
    rng = np.random.default_rng(5)
    img = np.clip(rng.normal(0, 6, (h, w, 3)) + np.array([70, 90, 60]), 0, 255).astype(np.uint8)
    body = np.array([[0, h], [0, 250], [40, 190], [75, 150], [145, 150], [180, 190], [w, 250], [w, h]], np.int32)
    cv2.fillPoly(img, [body], (40, 30, 25))                           # dress and shoulders
    cv2.rectangle(img, (98, 120), (122, 152), (200, 150, 110), -1)    # neck
    cv2.ellipse(img, (110, 90), (30, 40), 0, 0, 360, (215, 165, 120), -1)  # face
    return img


def test_a_sitter_is_nearer_than_the_landscape_beside_her_head():
    img = portrait()
    d = PriorEstimator().estimate_one(img)
    assert not d.sky.any() and d.extras["vanishing_point"] is None
    face = np.median(d.depth[75:105, 95:125])
    beside = np.median(d.depth[75:105, 5:40])                         # background at the same rows
    below = np.median(d.depth[160:200, 5:15])                         # background lower down, by the arm
    assert face < beside and face < below
    # Her head is not placed far by aerial perspective: it stands with her, near.
    assert face < 10.0


def test_figure_mask_follows_what_rests_on_the_bottom():
    labels = np.zeros((40, 40), np.int32)                             # 0: background
    labels[25:, :] = 1                                                # 1: a wide base on the bottom edge
    labels[15:25, 15:25] = 2                                          # 2: resting on it
    labels[8:15, 17:23] = 3                                           # 3: resting on 2
    labels[5:9, 30:35] = 4                                            # 4: floating in the background
    lab = np.zeros((40, 40, 3), np.float32)
    reg = region_stats(labels, lab, np.zeros((40, 40), np.float32))
    fig = figure_mask(reg, np.zeros(reg.n, bool))
    assert fig.tolist() == [False, True, True, True, False]


def test_confidence_is_higher_where_the_cues_agree():
    # A level sea line under an open sky, plain water below: every cue agrees.
    h, w = 200, 300
    coast = np.zeros((h, w, 3), np.uint8)
    coast[:90] = (150, 185, 230)
    coast[90:] = (40, 80, 110)
    rng = np.random.default_rng(1)
    coast = np.clip(coast + rng.normal(0, 3, coast.shape), 0, 255).astype(np.uint8)
    sure = PriorEstimator().estimate_one(coast).extras
    unsure = PriorEstimator().estimate_one(portrait()).extras        # no sky, no lines, a figure
    for e in (sure, unsure):
        assert 0.0 <= e["confidence"] <= 1.0
        assert set(e["confidence_cues"]) == {"horizon", "sky", "land"}
    assert sure["confidence"] > unsure["confidence"] + 0.2
    assert unsure["confidence_cues"]["horizon"] < sure["confidence_cues"]["horizon"]
    # A designer's horizon is sure evidence.
    hinted = PriorEstimator(PriorOptions(horizon=0.4)).estimate_one(portrait()).extras
    assert hinted["confidence_cues"]["horizon"] == 1.0 and hinted["confidence"] > unsure["confidence"]
