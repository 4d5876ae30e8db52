"""Edits applied to depth: regions keep their relief, pins hold and stop at edges, the horizon
rescales the ground, sky and ground polygons; scene layer edits; the geodesic fast path."""

import numpy as np
import pytest

from paint2vr.depth import estimate_depth
from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.edit import EditsError, apply_depth_edits, apply_scene_edits, parse_edits
from paint2vr.edit.apply import horizon_row, polygon_mask
from paint2vr.edit.spread import (edge_cost, geodesic_distance, geodesic_distance_reference, geodesic_distances, pin_weights,
                                  pin_weights_one_by_one, soft_mask)
from paint2vr.lift import lift
from paint2vr.painting import Painting


def _map(depth, sky=None, extras=None):
    depth = np.asarray(depth, np.float32)
    sky = np.zeros(depth.shape, bool) if sky is None else sky
    return DepthMap(depth=depth, sky=sky, metric=False, model=ModelInfo("test"), extras=extras or {})


def _two_halves(h=60, w=80):
    """A dark left half and a bright right half: one strong vertical edge at w/2."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2] = (40, 60, 50)
    rgb[:, w // 2:] = (220, 210, 190)
    return rgb


def test_polygon_mask_covers_pixel_centres():
    m = polygon_mask(((0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)), (8, 8))
    assert m.sum() == 16 and m[2:6, 2:6].all()


def test_region_median_becomes_its_depth_and_relief_is_kept():
    rng = np.random.default_rng(0)
    d = _map(5 + rng.random((60, 80)) * 3)
    rgb = (rng.random((60, 80, 3)) * 255).astype(np.uint8)
    poly = [[0.2, 0.2], [0.6, 0.2], [0.6, 0.7], [0.2, 0.7]]
    out = apply_depth_edits(d, rgb, parse_edits({"paint2vr_edits": 1, "regions": [{"polygon": poly, "depth": 2.0}]}))
    m = polygon_mask(tuple(map(tuple, poly)), d.shape)
    assert np.median(out.depth[m]) == pytest.approx(2.0, rel=0.01)
    ratio = out.depth[m] / d.depth[m]
    assert ratio.std() / ratio.mean() < 0.02  # one factor: the relief (depth ratios) is kept
    band = np.zeros_like(m)
    ys, xs = np.nonzero(m)
    band[max(ys.min() - 3, 0):ys.max() + 4, max(xs.min() - 3, 0):xs.max() + 4] = True
    outside = ~band
    assert np.array_equal(out.depth[outside], d.depth[outside])


def test_region_scale_pushes_farther():
    d = _map(np.full((40, 40), 4.0))
    rgb = np.full((40, 40, 3), 128, np.uint8)
    e = parse_edits({"paint2vr_edits": 1, "regions": [{"polygon": [[0, 0], [1, 0], [1, 1], [0, 1]], "scale": 1.5}]})
    assert apply_depth_edits(d, rgb, e).depth == pytest.approx(6.0, rel=1e-5)


def test_pin_holds_its_depth_and_stops_at_an_edge():
    rgb = _two_halves()
    d = _map(np.full((60, 80), 10.0))
    e = parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.3, "y": 0.5, "depth": 5.0}]})
    out = apply_depth_edits(d, rgb, e)
    assert out.depth[30, 24] == pytest.approx(5.0)
    left = np.log(out.depth[:, 5:35] / 10).mean() / np.log(0.5)
    right = np.log(out.depth[:, 45:75] / 10).mean() / np.log(0.5)
    assert left > 0.3 and right < 0.1 * left  # spreads over its own half, hardly across the edge


def test_pin_on_sky_makes_it_land():
    sky = np.zeros((20, 20), bool)
    sky[:10] = True
    d = _map(np.where(sky, 200.0, 8.0), sky)
    out = apply_depth_edits(d, np.full((20, 20, 3), 90, np.uint8),
                            parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.2, "depth": 50}]}))
    assert not out.sky[4, 10] and out.depth[4, 10] == pytest.approx(50)


def test_sky_and_not_sky_polygons():
    d = _map(np.full((20, 30), 6.0))
    rgb = np.full((20, 30, 3), 100, np.uint8)
    out = apply_depth_edits(d, rgb, parse_edits({"paint2vr_edits": 1, "sky": [[[0, 0], [1, 0], [1, 0.5], [0, 0.5]]],
                                                 "not_sky": [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]]}))
    assert out.sky[:10, 15:].all() and not out.sky[:10, :15].any() and not out.sky[10:].any()


def test_horizon_moves_the_ground_rows():
    h, w = 100, 120
    rows = np.arange(h, dtype=np.float32)[:, None] + 0.5
    ground = np.where(rows > 40, 300.0 / np.maximum(rows - 40, 1), 300.0)
    d = _map(np.broadcast_to(ground, (h, w)), extras={"horizon_row": 40.0})
    assert horizon_row(d) == 40.0
    out = apply_depth_edits(d, np.full((h, w, 3), 90, np.uint8), parse_edits({"paint2vr_edits": 1, "horizon": 0.2}))
    # A ground plane seen with the horizon at row 20: z = c / (v - 20) (same c at the bottom rows' scale).
    v = 90.5
    assert out.depth[90, 0] == pytest.approx(300.0 / (v - 20), rel=0.01)
    assert out.extras["horizon_row"] == pytest.approx(20.0)


def test_ground_polygon_gets_the_ground_plane():
    d = _map(np.full((100, 100), 3.0), extras={"horizon_row": 30.0})
    out = apply_depth_edits(d, np.full((100, 100, 3), 90, np.uint8),
                            parse_edits({"paint2vr_edits": 1, "ground": [[[0, 0.5], [1, 0.5], [1, 1], [0, 1]]]}))
    assert out.depth[99, 50] < out.depth[60, 50]  # nearer at the bottom
    assert np.all(out.depth[:49] == 3.0)


def test_shape_mismatch_is_refused():
    with pytest.raises(EditsError, match="painting is"):
        apply_depth_edits(_map(np.ones((10, 10))), np.zeros((10, 12, 3), np.uint8),
                          parse_edits({"paint2vr_edits": 1, "horizon": 0.5}))


def test_geodesic_fast_path_matches_dijkstra():
    rng = np.random.default_rng(3)
    cost = 1 + rng.random((37, 53)) * 6
    seeds = np.zeros(cost.shape, bool)
    seeds[3, 4] = seeds[30, 40] = True
    np.testing.assert_allclose(geodesic_distance(cost, seeds), geodesic_distance_reference(cost, seeds), rtol=1e-12)


def test_pins_sweep_together_as_they_would_alone():
    rng = np.random.default_rng(4)
    cost = 1 + np.where(rng.random((41, 57)) < 0.1, 40.0, rng.random((41, 57)))  # a few strong edges
    points = [(0, 0), (20, 30), (40, 56), (5, 50)]
    seeds = np.zeros((len(points),) + cost.shape, bool)
    for i, (y, x) in enumerate(points):
        seeds[i, y, x] = True
    together = geodesic_distances(cost, seeds)
    for i in range(len(points)):
        np.testing.assert_allclose(together[i], geodesic_distance_reference(cost, seeds[i]), rtol=1e-12)
    np.testing.assert_array_equal(pin_weights(cost, points, 20.0), pin_weights_one_by_one(cost, points, 20.0))
    assert pin_weights(cost, [], 20.0).shape == (0,) + cost.shape


def test_edge_cost_and_soft_mask_shapes():
    rgb = _two_halves()
    c = edge_cost(rgb)
    assert c.shape == (60, 80) and c.min() >= 1 and c[:, 39:41].mean() > 10 * c[:, 5:30].mean()
    m = np.zeros((60, 80), bool)
    m[:, :30] = True
    s = soft_mask(m, rgb, 3)
    assert s.shape == (60, 80) and s.min() >= 0 and s.max() <= 1
    with pytest.raises(Exception, match="uint8"):
        edge_cost(rgb.astype(np.float32))


def test_scene_edits_drop_and_merge(sample_rgb_small):
    p = Painting.from_array(sample_rgb_small)
    scene = lift(p, estimate_depth(p))
    names = [l.name for l in scene.layers if l.kind != "sky"]
    assert len(names) >= 3
    e = parse_edits({"paint2vr_edits": 1, "layers": {"drop": [names[-1]], "merge": [[names[0], names[1]]]}})
    apply_scene_edits(scene, e)
    left = [l.name for l in scene.layers if l.kind != "sky"]
    assert names[-1] not in left and names[1] not in left and len(left) == len(names) - 2
    with pytest.raises(EditsError, match="layers.drop: no layer 'nope'"):
        apply_scene_edits(scene, parse_edits({"paint2vr_edits": 1, "layers": {"drop": ["nope"]}}))


def test_horizon_edit_reruns_the_prior_with_the_hint(small_sample, tmp_path):
    """With the built-in estimator, the edits' horizon is its hint: the same depth as a run with
    PriorOptions.horizon set, not a re-scaled copy of the unhinted estimate."""
    import dataclasses
    from paint2vr.depth.stage import stage
    from paint2vr.painting import load_painting
    from paint2vr.pipeline import convert_options, estimate_or_read_depth
    edits = tmp_path / "e.json"
    edits.write_text('{"paint2vr_edits": 1, "horizon": 0.3}')
    painting = load_painting(small_sample)
    options = convert_options({"edits": str(edits)})
    got = estimate_or_read_depth(painting, options)
    hinted = dataclasses.replace(options.depth, prior=dataclasses.replace(options.depth.prior, horizon=0.3))
    want = stage(painting, hinted)
    np.testing.assert_array_equal(got.depth, want.depth)
    plain = estimate_or_read_depth(painting, convert_options({}))
    assert not np.array_equal(got.depth, plain.depth)
