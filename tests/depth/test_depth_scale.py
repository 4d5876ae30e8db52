"""The metric scale of relative depth from the model's own ground (paint2vr.depth.scale), on
constructed disparity maps with a known camera: ground plane, sky, objects standing on the
ground, a wall, and maps with no ground at all."""

import math

import numpy as np
import pytest

from paint2vr.depth.fit import RangeHint, _convert_np, fit_depth, scale_extras
from paint2vr.depth.scale import (ScaleOptions, check_scale_options, decide_ground, fit_frame, fit_ground,
                                  ground_stats)
from paint2vr.errors import InputError

H, W = 60, 90
FRAME = fit_frame(H, W, 1, H, 55.0)


def scene(eye=1.6, horizon=0.4, alpha=3.0, beta=0.05, objects=True, wall_z=None, seed=0):
    """(disparity d = alpha / z + beta, true depth (inf: sky), sky) of a flat world seen level
    from ``eye`` m with the horizon at the ``horizon`` fraction of the height."""
    rng = np.random.default_rng(seed)
    y = FRAME.rows[:, None] * np.ones((1, W))
    with np.errstate(divide="ignore"):
        z = np.where(y > horizon, FRAME.focal * eye / (y - horizon), np.inf)
    if wall_z is not None:
        z = np.minimum(z, wall_z)
    if objects:  # upright cards at the depth of their base, covering up to 40 % of some rows
        for _ in range(6):
            base = int(rng.integers(int(max(horizon, 0) * H) + 3, H))
            c0 = int(rng.integers(0, W - 12))
            top = max(0, base - int(rng.integers(5, 25)))
            z[top:base + 1, c0:c0 + int(rng.integers(4, 12))] = z[base, c0]
    sky = ~np.isfinite(z)
    d = alpha / np.where(sky, np.inf, z) + beta
    return d + rng.normal(0, 1e-4 * alpha, d.shape), z, sky


def test_ground_and_sky_recover_the_scale():
    d, z, sky = scene()
    g = fit_ground(d, sky, FRAME)
    assert g.ok and g.info.method == "ground+sky" and g.info.reason == ""
    assert g.a == pytest.approx(3.0, rel=0.02) and g.b == pytest.approx(0.05, abs=2e-3)
    assert g.info.horizon == pytest.approx(0.4, abs=0.01) and g.info.r2 > 0.99
    fit = fit_depth(d, "relative", RangeHint(1.5, 80.0, None), 200.0, ScaleOptions(), FRAME)
    land = ~fit.sky
    assert fit.sky[sky].all() and fit.sky.mean() - sky.mean() < 0.1   # and the farthest ground rows
    zz = _convert_np(d, fit)
    near = land & (z < 100)
    assert np.median(np.abs(zz[near] / z[near] - 1)) < 0.02      # metres, not just an order
    assert fit.sky_depth >= 200.0


def test_high_viewpoint_without_sky_uses_the_models_zero():
    d, z, sky = scene(eye=8.0, horizon=-0.3, beta=0.0)
    assert not sky.any()
    g = fit_ground(d, sky, FRAME, ScaleOptions(eye_height=8.0))
    assert g.ok and g.info.method == "ground+zero"
    assert g.a == pytest.approx(3.0, rel=0.02) and g.info.horizon == pytest.approx(-0.3, abs=0.02)
    # the default eye height scales every distance by 1.6 / 8 but keeps their ratios
    g16 = fit_ground(d, sky, FRAME)
    assert g16.a == pytest.approx(3.0 * 1.6 / 8.0, rel=0.02)


def test_designers_horizon_fixes_an_offset_model():
    d, z, sky = scene(eye=5.0, horizon=-0.2, beta=0.4)   # offset: the model's zero is not infinity
    hinted = fit_ground(d, sky, FRAME, ScaleOptions(eye_height=5.0, horizon=-0.2))
    assert hinted.ok and hinted.info.method == "ground+horizon-hint"
    assert hinted.a == pytest.approx(3.0, rel=0.02) and hinted.b == pytest.approx(0.4, rel=0.02)
    # without the hint the model's zero is taken for infinity: the right slope, a horizon too high
    plain = fit_ground(d, sky, FRAME, ScaleOptions(eye_height=5.0))
    assert plain.ok and plain.info.method == "ground+zero" and plain.info.horizon < -0.5
    assert plain.a == pytest.approx(3.0, rel=0.02) and plain.b == 0.0
    # a negative offset puts the zero crossing below the ground: no ground is left above it
    d, z, sky = scene(eye=5.0, horizon=-0.2, beta=-0.6)
    low = fit_ground(d, sky, FRAME, ScaleOptions(eye_height=5.0))
    assert not low.ok and low.info.method == "range" and low.info.reason


def test_a_wall_above_the_ground_is_left_out():
    d, z, sky = scene(horizon=0.2, wall_z=6.0)       # an interior: floor up to a wall at 6 m
    g = fit_ground(d, sky, FRAME, ScaleOptions(horizon=0.2))
    assert g.ok and g.a == pytest.approx(3.0, rel=0.03)
    assert g.info.span < 0.65                          # the wall's rows are not on the line


@pytest.mark.parametrize("case", ["flat", "exactly_flat", "upside_down", "noise", "tiny"])
def test_no_ground_falls_back_to_the_range(case):
    rng = np.random.default_rng(1)
    d, z, sky = scene()
    d = {"flat": np.full((H, W), 0.7) + rng.normal(0, 1e-3, (H, W)), "upside_down": d[::-1],
         "exactly_flat": np.full((H, W), 0.7),
         "noise": rng.random((H, W)), "tiny": d[-3:]}[case]
    frame = fit_frame(3, W, 1, 3, 55.0) if case == "tiny" else FRAME
    g = fit_ground(d, np.zeros(d.shape, bool), frame)
    assert not g.ok and g.info.method == "range" and g.info.reason.startswith(("no ground", "horizon"))
    fit = fit_depth(d, "relative", RangeHint(1.5, 80.0, None), 200.0, ScaleOptions(), frame)
    ref = fit_depth(d, "relative", RangeHint(1.5, 80.0, None), 200.0)     # the range mapping
    assert (fit.a, fit.b, fit.const, fit.near, fit.far) == (ref.a, ref.b, ref.const, ref.near, ref.far)
    assert fit.scale.method == "range" and fit.scale.reason == g.info.reason
    assert scale_extras(fit)["scale"]["method"] == "range" and "eye_height" not in scale_extras(fit)


def test_method_range_and_extras():
    d, z, sky = scene()
    fit = fit_depth(d, "relative", RangeHint(1.5, 80.0, None), 200.0, ScaleOptions(method="range"), FRAME)
    assert fit.scale.method == "range" and fit.scale.reason == "method 'range'"
    good = fit_depth(d, "relative", RangeHint(1.5, 80.0, None), 200.0, ScaleOptions(eye_height=2.0), FRAME)
    ex = scale_extras(good)
    assert ex["scale"]["method"] == "ground+sky" and ex["eye_height"] == 2.0 and ex["fov_deg"] == 55.0
    assert math.isfinite(ex["scale"]["r2"]) and ex["scale"]["rows"] > 20


def test_decide_ground_rejections():
    o = ScaleOptions()
    ok = (0.5, -0.1, 0.99, 0.5, 30, 0.45)
    assert decide_ground(ok, 0.0, 1.4, o).ok
    assert "poorly" in decide_ground((0.5, -0.1, 0.5, 0.5, 30, 0.45), 0.0, 1.4, o).info.reason
    assert "spans" in decide_ground((0.5, -0.1, 0.99, 0.05, 30, 0.45), 0.0, 1.4, o).info.reason
    assert "rise" in decide_ground((-0.5, 0.4, 0.99, 0.5, 30, 0.45), 0.0, 1.4, o).info.reason
    assert "too few" in decide_ground((math.nan,) * 6, math.nan, 1.4, o).info.reason
    steep = decide_ground((0.01, 0.5, 0.99, 0.5, 30, 0.45), 0.0, 1.4, o)   # horizon 50 heights up
    assert not steep.ok and "implausible" in steep.info.reason


def test_ground_stats_checks_shapes_and_options_are_checked():
    with pytest.raises(InputError):
        ground_stats(np.ones((4, 5)), np.zeros((4, 4), bool), FRAME, 0.25)
    for bad in (dict(eye_height=0), dict(fov_deg=200), dict(method="magic"), dict(near=5, far=1),
                dict(horizon=1.5), dict(ground_quantile=2)):
        with pytest.raises(InputError):
            check_scale_options(ScaleOptions(**bad))
    check_scale_options(ScaleOptions(horizon=-0.5, eye_height=12))
