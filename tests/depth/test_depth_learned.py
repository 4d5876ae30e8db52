"""The learned path with a model whose output has real structure: the tiny Depth Anything
trained on synthetic scenes (scripts/train_tiny_depth.py, cached), loaded through
get_estimator(folder) as real checkpoints are. Random weights could not show a depth that
comes out inverted or squashed; this model can."""

import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from paint2vr.depth import get_estimator  # noqa: E402
from paint2vr.depth import prior as prior_mod  # noqa: E402
from paint2vr.depth.scale import ScaleOptions  # noqa: E402
from paint2vr.depth.transformers_backend import TransformersEstimator, TransformersOptions  # noqa: E402
from paint2vr.samples import make_scene  # noqa: E402

SIZE = (231, 147)


def _est(folder, **scale):
    side = scale.pop("prior_side", 0)
    return TransformersEstimator(folder, options=TransformersOptions(device="cpu", prior_side=side,
                                                                     scale=ScaleOptions(**scale)))


def _ground(gt, sky):
    """Ground pixels of a synthetic scene: the farthest land of each row (objects stand nearer)."""
    g = np.where(sky, 0, gt)
    return (g >= 0.999 * g.max(1, keepdims=True)) & ~sky


def _row_ratio(depth, gt, ground, y):
    v = int(y * gt.shape[0])
    m = ground[v]
    return float(np.median(depth[v][m]) / np.median(gt[v][m]))


@pytest.mark.parametrize("kind,seed", [("landscape", 55), ("winter", 56)])
def test_orientation_sky_and_metres_from_the_models_own_ground(trained_model, kind, seed):
    rgb, gt, sky = make_scene(kind, *SIZE, seed)
    d = get_estimator(str(trained_model), device="cpu").estimate([rgb])[0]
    assert d.extras["scale"]["method"] == "ground+sky" and d.extras["eye_height"] == 1.6
    ground = _ground(gt, sky)
    rows = [np.median(d.depth[int(y * SIZE[1])][ground[int(y * SIZE[1])]]) for y in (0.6, 0.75, 0.9)]
    assert rows[0] > rows[1] > rows[2]                      # lower is nearer: not inverted
    assert (d.sky & sky).sum() > 0.8 * sky.sum()            # the sky is found ...
    assert d.depth[d.sky].min() > d.depth[~d.sky].max()     # ... and is farthest
    for y in (0.6, 0.75, 0.9):                              # metres: the ground where it truly is
        assert 0.75 < _row_ratio(d.depth, gt, ground, y) < 1.25, y


def test_the_old_prior_range_is_far_off_where_the_ground_is_right(trained_model):
    rgb, gt, sky = make_scene("landscape", *SIZE, 55)
    ground = _ground(gt, sky)
    new = _est(trained_model).estimate([rgb])[0]
    old = _est(trained_model, method="range").estimate([rgb])[0]
    assert old.extras["scale"]["method"] == "range"
    err = [abs(np.log(_row_ratio(x.depth, gt, ground, 0.75))) for x in (new, old)]
    assert err[0] < 0.25 < err[1]


def test_high_viewpoint_is_not_squashed(trained_model):
    """A street seen from 8 m, the horizon above the top edge (no sky): the ground's depth
    ratios come from the model's ground, and the designer's eye height gives the metres."""
    rgb, gt, sky = make_scene("landscape", *SIZE, 50, eye_height=8.0, horizon=-0.1)
    assert not sky.any()
    ground = _ground(gt, sky)
    plain = _est(trained_model).estimate([rgb])[0]
    hinted = _est(trained_model, eye_height=8.0).estimate([rgb])[0]
    for d in (plain, hinted):
        assert d.extras["scale"]["method"] == "ground+zero"    # its far band was not taken for sky
        assert not d.sky.any()
        r = [_row_ratio(d.depth, gt, ground, y) for y in (0.3, 0.6, 0.9)]
        assert max(r) / min(r) < 1.25                          # far/near ratios as true: not squashed
    assert 0.7 < _row_ratio(hinted.depth, gt, ground, 0.6) < 1.4   # metres from the hinted eye
    ratio = _row_ratio(hinted.depth, gt, ground, 0.6) / _row_ratio(plain.depth, gt, ground, 0.6)
    assert ratio == pytest.approx(8.0 / 1.6, rel=0.02)           # the eye height scales it all
    assert hinted.extras["eye_height"] == 8.0


@pytest.mark.parametrize("case", ["upside_down", "sideways"])
def test_no_ground_falls_back_to_the_prior_range(trained_model, case, caplog):
    rgb = make_scene("landscape", *SIZE, 57)[0]
    rgb = np.ascontiguousarray(rgb[::-1] if case == "upside_down" else np.rot90(rgb))
    caplog.set_level(logging.INFO, logger="paint2vr.depth.fit")
    d = _est(trained_model).estimate([rgb])[0]
    ref = _est(trained_model, method="range").estimate([rgb])[0]
    assert d.extras["scale"]["method"] == "range" and d.extras["scale"]["reason"]
    assert "range mapping" in caplog.text and d.extras["scale"]["reason"] in caplog.text
    np.testing.assert_allclose(d.depth, ref.depth, rtol=1e-6)


def test_the_normal_path_never_runs_the_prior(trained_model, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the prior ran")
    monkeypatch.setattr(prior_mod.PriorEstimator, "estimate_one", refuse)
    monkeypatch.setattr(prior_mod.PriorEstimator, "estimate", refuse)
    est = get_estimator(str(trained_model), device="cpu")
    rgb = make_scene("winter", *SIZE, 56)[0]
    for d in (est.estimate([rgb])[0], est.estimate_reference([rgb])[0]):
        assert d.extras["scale"]["method"] == "ground+sky"
        assert np.isfinite(d.depth).all()


def test_fast_path_and_reference_agree_with_real_structure(trained_model):
    est = get_estimator(str(trained_model), device="cpu", batch_size=2)
    ims = [make_scene(k, *SIZE, s, **kw)[0] for k, s, kw in
           [("landscape", 60, {}), ("coast", 61, {}), ("winter", 62, dict(eye_height=6.0, horizon=-0.05)),
            ("no_sky", 63, {})]]
    for a, b in zip(est.estimate(ims), est.estimate_reference(ims)):
        assert a.extras["scale"]["method"] == b.extras["scale"]["method"]
        land = ~a.sky & ~b.sky
        assert (a.sky != b.sky).mean() < 0.02
        assert np.median(np.abs(a.depth[land] / b.depth[land] - 1)) < 0.05


def test_provenance_says_how_the_scale_was_fixed(trained_model):
    from paint2vr.painting import Painting
    from paint2vr.pipeline import convert_options, convert_painting
    rgb = make_scene("landscape", *SIZE, 55)[0]
    scene = convert_painting(Painting.from_array(rgb), convert_options({"model": str(trained_model), "device": "cpu"}))
    rec = scene.provenance["depth_scale"]
    assert rec["method"] == "ground+sky" and rec["eye_height"] == 1.6 and 0.9 <= rec["r2"] <= 1
    conf = scene.provenance["depth_confidence"]  # from the scale fit's R^2 (docs/studio.md)
    assert conf == {"value": pytest.approx(0.5 + 5 * (rec["r2"] - 0.9), abs=1e-3), "basis": "scale:ground+sky"}
    assert scene.camera.position[1] == pytest.approx(1.6)
