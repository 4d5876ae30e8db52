"""The depth confidence the pipeline records (provenance ``depth_confidence``), which the
review queue sorts by: one rule per depth source, and the record through convert."""

import dataclasses
import json

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.depth.files import write_depth
from paint2vr.lift import LiftOptions
from paint2vr.painting import Painting
from paint2vr.pipeline import (GROUND_R2, METRIC_CONFIDENCE, RANGE_CONFIDENCE, convert_options, convert_painting,
                               depth_confidence)

PRIOR = ModelInfo(name="prior", revision="5", license="Apache-2.0", commercial=True)
LEARNED = ModelInfo(name="some/learned-model", revision="abc", license="Apache-2.0", commercial=True)


def _map(model=PRIOR, pixels=None, **extras) -> DepthMap:
    depth = np.linspace(2, 40, 12 * 16, dtype=np.float32).reshape(12, 16)
    sky = np.zeros((12, 16), bool)
    sky[:3] = True
    depth[sky] = 1000
    return DepthMap(depth=depth, sky=sky, metric=False, model=model, confidence=pixels, extras=extras)


def _scale(method, r2=None):
    return {"method": method, "reason": "", "eye_height": 1.6, "fov_deg": 55.0, "horizon": 0.3, "slope": 1.0,
            "r2": r2, "span": 0.5, "rows": 20}


def test_the_estimators_own_scalar_wins():
    conf = np.full((12, 16), 0.3, np.float32)
    rec = depth_confidence(_map(pixels=conf, confidence=0.42), "estimate", False)
    assert rec == {"value": 0.42, "basis": "estimator"}
    # out of range is clipped; not a number (or an array) is not taken
    assert depth_confidence(_map(pixels=conf, confidence=1.7), "estimate", False)["value"] == 1.0
    for bad in (float("nan"), True, "0.4", conf):
        assert depth_confidence(_map(pixels=conf, confidence=bad), "estimate", False)["basis"] == "pixels"


def test_prior_fallback_is_the_lands_mean_of_the_per_pixel_confidence():
    conf = np.ones((12, 16), np.float32)
    conf[3:, :8] = 0.5  # land only: left half 0.5, right half 1
    conf[:3] = 0.0  # sky does not count
    rec = depth_confidence(_map(pixels=conf), "estimate", False)
    assert rec == {"value": pytest.approx(0.75), "basis": "pixels"}
    small = np.ones((6, 8), np.float32)  # a lower-resolution map is resized first
    small[:, :4] = 0.5
    assert depth_confidence(_map(pixels=small), "estimate", False)["value"] == pytest.approx(0.75, abs=0.05)
    assert depth_confidence(_map(), "estimate", False) == {"value": None, "basis": "none"}


def test_learned_models_from_their_scale_fit():
    lo, hi = GROUND_R2
    at = lambda method, r2=None: depth_confidence(_map(LEARNED, scale=_scale(method, r2)), "estimate", False)  # noqa: E731
    assert at("range") == {"value": RANGE_CONFIDENCE, "basis": "scale:range"}
    assert at("metric") == {"value": METRIC_CONFIDENCE, "basis": "scale:metric"}
    assert at("ground+sky", hi)["value"] == 1.0
    assert at("ground+sky", lo)["value"] == 0.5
    assert at("ground+horizon-hint", (lo + hi) / 2) == {"value": 0.75, "basis": "scale:ground+horizon-hint"}
    assert at("ground+zero", None)["value"] == 0.5
    # a better ground line is surer; the range fallback is the least sure of all
    values = [at("ground+sky", r)["value"] for r in (0.8, 0.9, 0.93, 0.97, 1.0)]
    assert values == sorted(values) and min(values) > RANGE_CONFIDENCE


def test_designer_made_depth_is_sure():
    assert depth_confidence(_map(model=ModelInfo("file:d.png", "", "", True)), "file", False) == \
        {"value": 1.0, "basis": "file"}
    assert depth_confidence(_map(confidence=0.7), "file", False) == {"value": 0.7, "basis": "file"}  # as given
    rec = depth_confidence(_map(LEARNED, scale=_scale("range")), "estimate", True)
    assert rec == {"value": 1.0, "basis": "edits", "estimate": {"value": RANGE_CONFIDENCE, "basis": "scale:range"}}


def _painting(rgb):
    return Painting.from_array(rgb, id="sample")


NO_WORLD = {"lift": dataclasses.asdict(LiftOptions(world=False, max_texture=256, sky_texture=64))}


def test_convert_records_it_for_each_source(tmp_path, sample_rgb_small):
    rgb = sample_rgb_small[::2, ::2].copy()
    est = convert_painting(_painting(rgb), convert_options(NO_WORLD)).provenance["depth_confidence"]
    assert est["basis"] in ("estimator", "pixels") and 0.0 <= est["value"] <= 1.0
    json.dumps(est)  # a plain JSON record

    from paint2vr.depth.stage import DepthOptions, stage
    write_depth(stage(_painting(rgb), DepthOptions()), tmp_path / "d.npy")
    filed = convert_painting(_painting(rgb), convert_options({**NO_WORLD, "depth": str(tmp_path / "d.npy")}))
    assert filed.provenance["depth_confidence"] == {"value": 1.0, "basis": "file"}

    edits = tmp_path / "e.json"
    edits.write_text('{"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.8, "depth": 3.0}]}')
    edited = convert_painting(_painting(rgb), convert_options({**NO_WORLD, "edits": str(edits)}))
    rec = edited.provenance["depth_confidence"]
    assert rec["value"] == 1.0 and rec["basis"] == "edits" and rec["estimate"] == est
