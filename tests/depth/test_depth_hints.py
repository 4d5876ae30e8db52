"""One set of designer's hints (depth.hints) for the built-in prior and a learned model's metric
scale; their former names (depth.prior.*, depth.transformers.scale.*, --prior-*, --model-scale-*)
still work, with a warning, and land in the same place."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from paint2vr.config import options_to_dict
from paint2vr.depth import DepthOptions, HintOptions, PriorEstimator, PriorOptions, get_estimator
from paint2vr.depth.hints import MOVED_HINTS, prior_with_hints, scale_with_hints
from paint2vr.depth.scale import ScaleOptions
from paint2vr.depth.stage import stage
from paint2vr.errors import OptionError
from paint2vr.painting import Painting
from paint2vr.pipeline import convert_options
from paint2vr.samples import make_scene

OLD = {"depth": {"prior": {"horizon": 0.3, "vanishing_point": [0.5, 0.3], "far": 60},
                 "transformers": {"scale": {"eye_height": 8.0, "fov_deg": 40.0}}}}
NEW = {"depth": {"hints": {"horizon": 0.3, "vanishing_point": [0.5, 0.3], "eye_height": 8.0, "fov_deg": 40.0},
                 "prior": {"far": 60}}}


def test_former_keys_are_deprecated_aliases_of_the_hints(caplog):
    with caplog.at_level(logging.WARNING):
        old = convert_options(OLD)
    assert old == convert_options(NEW)
    assert old.depth.hints == HintOptions(0.3, (0.5, 0.3), 8.0, 40.0) and old.depth.prior.far == 60.0
    assert old.depth.prior.horizon is None and old.depth.transformers.scale.eye_height == ScaleOptions().eye_height
    for key in ("depth.prior.horizon", "depth.prior.vanishing_point", "depth.transformers.scale.eye_height"):
        assert f"option {key!r} is deprecated" in caplog.text
    rec = options_to_dict(old)["depth"]
    assert rec["hints"]["eye_height"] == 8.0 and not {"horizon", "vanishing_point", "eye_height", "fov_deg"} & set(rec["prior"])
    assert not {"horizon", "eye_height", "fov_deg"} & set(rec["transformers"]["scale"])
    # the latest wins over a base; two former names at odds are an error naming both
    assert convert_options({"depth": {"prior": {"horizon": 0.4}}}, base=old).depth.hints.horizon == 0.4
    with pytest.raises(OptionError, match="depth.transformers.scale.eye_height.*depth.prior.eye_height"):
        convert_options({"depth": {"prior": {"eye_height": 2}, "transformers": {"scale": {"eye_height": 3}}}})
    with pytest.raises(OptionError, match="depth.hints.horizon"):
        convert_options({"depth": {"hints": {"horizon": 9}}})
    # Python instances at a former place fold too (an options record never holds both)
    d = dataclasses.replace(DepthOptions(), prior=PriorOptions(eye_height=3.0))
    assert d.hints.eye_height == 3.0 and d.prior.eye_height == PriorOptions().eye_height


def test_hint_defaults_equal_the_estimators_own():
    for old, new in MOVED_HINTS.items():
        leaf = old.rsplit(".", 1)[1]
        own = PriorOptions() if old.startswith("prior.") else ScaleOptions()
        assert getattr(own, leaf) == getattr(HintOptions(), new.split(".")[1]), old


def test_flags_one_set_in_help_former_flags_hidden_but_working(capsys):
    from paint2vr.cli.convert_cmd import convert_options_from_args
    from paint2vr.cli.main import build_parser, main
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    text = capsys.readouterr().out
    for flag in ("--hint-horizon", "--hint-vanishing-point X,Y", "--hint-eye-height", "--hint-fov-deg"):
        assert flag in text
    for flag in ("--prior-horizon", "--prior-eye-height", "--prior-fov-deg", "--prior-vanishing-point",
                 "--model-scale-eye-height", "--model-scale-fov-deg", "--model-scale-horizon"):
        assert flag not in text
    args = ["convert", "x.png", "-o", "y.glb", "--prior-horizon", "0.3", "--prior-vanishing-point", "0.5,0.3",
            "--model-scale-eye-height", "8", "--model-scale-fov-deg", "40", "--prior-far", "60"]
    old, _ = convert_options_from_args(build_parser().parse_args(args))
    new, _ = convert_options_from_args(build_parser().parse_args(
        ["convert", "x.png", "-o", "y.glb", "--hint-horizon", "0.3", "--hint-vanishing-point", "0.5,0.3",
         "--hint-eye-height", "8", "--hint-fov-deg", "40", "--prior-far", "60"]))
    assert old == new == convert_options(NEW)


def test_both_estimators_take_the_hints(monkeypatch, tmp_path):
    hints = HintOptions(vanishing_point=(0.5, 0.3), eye_height=8.0, fov_deg=40.0)
    prior = get_estimator("prior", hints=hints)
    assert prior.options == PriorOptions(vanishing_point=(0.5, 0.3), eye_height=8.0, fov_deg=40.0)
    assert prior_with_hints(PriorOptions(), HintOptions()) == PriorOptions()
    assert scale_with_hints(ScaleOptions(), HintOptions()) == ScaleOptions()
    from paint2vr.depth import transformers_backend as tb
    seen = []

    class Fake:
        def __init__(self, source, *, options, **kw):
            seen.append(options)

    monkeypatch.setattr(tb, "TransformersEstimator", Fake)
    get_estimator(str(tmp_path), hints=hints)
    scale = seen[-1].scale
    assert (scale.horizon, scale.eye_height, scale.fov_deg) == (0.3, 8.0, 40.0)  # the vanishing point's row
    get_estimator(str(tmp_path), hints=dataclasses.replace(hints, horizon=-0.1))
    assert seen[-1].scale.horizon == -0.1
    assert seen[-1].scale.method == ScaleOptions().method


def test_prior_hints_through_the_stage_equal_the_estimators():
    rgb = make_scene("landscape", 96, 64, 0)[0]
    painting = Painting.from_array(rgb)
    got = stage(painting, convert_options({"depth": {"hints": {"horizon": 0.6, "eye_height": 3.0}}}).depth)
    want = PriorEstimator(PriorOptions(horizon=0.6, eye_height=3.0)).estimate_one(rgb)
    np.testing.assert_array_equal(got.depth, want.depth)
    assert got.camera_hints().eye_height == 3.0
    plain = stage(painting, DepthOptions())
    assert not np.array_equal(got.depth, plain.depth)


def test_ground_edits_use_the_maps_camera():
    from paint2vr.edit.apply import mark_ground
    rgb = make_scene("landscape", 96, 64, 0)[0]
    d = get_estimator("prior").estimate([rgb])[0]
    mask = np.zeros(d.shape, bool)
    mask[-10:] = True
    low = mark_ground(d, mask)
    high = mark_ground(dataclasses.replace(d, extras={**d.extras, "eye_height": 4 * d.extras["eye_height"]}), mask)
    ratio = high.depth[mask] / low.depth[mask]
    far = ratio < 3.99  # clipped at the land's far end
    assert np.allclose(ratio[~far], 4.0, rtol=1e-5) and (~far).any()
