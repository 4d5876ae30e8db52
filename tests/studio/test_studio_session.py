"""The studio session's 3D view: lifted from the working copy with a lighter world, once per
depth (layer and effect edits reuse the lifted scene)."""

import dataclasses

import pytest

import paint2vr.studio.session as session_mod
from paint2vr.edit import parse_edits
from paint2vr.lift import LiftOptions
from paint2vr.pipeline import convert_options
from paint2vr.studio.session import (LIVE_GROUND_TEXTURE, LIVE_WORLD_TEXTURE, StudioSession, depth_key,
                                     live_lift_options)

NO_WORLD = convert_options({"lift": {"world": False, "max_texture": 256, "sky_texture": 64}})


def test_live_world_is_lighter_never_heavier():
    o = live_lift_options(LiftOptions())
    assert (o.world_texture, o.ground_texture) == (LIVE_WORLD_TEXTURE, LIVE_GROUND_TEXTURE)
    assert o.world_texture < LiftOptions().world_texture and o.ground_texture < LiftOptions().ground_texture
    small = LiftOptions(world_texture=256, ground_texture=64)
    assert live_lift_options(small) == small
    assert dataclasses.replace(o, world_texture=2048, ground_texture=512) == LiftOptions()  # nothing else changes


def test_depth_key_ignores_layer_and_effect_edits():
    a = parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.5, "depth": 3.0}]})
    b = parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.5, "depth": 3.0}], "effects": {},
                     "layers": {"drop": ["layer1"]}})
    c = parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.5, "depth": 4.0}]})
    assert depth_key(a) == depth_key(b) != depth_key(c)


@pytest.fixture()
def lifts(monkeypatch):
    calls = []
    real = session_mod.convert_painting

    def counting(painting, options, depth=None, **kw):
        calls.append((painting.rgb.shape, options))
        return real(painting, options, depth=depth, **kw)
    monkeypatch.setattr(session_mod, "convert_painting", counting)
    return calls


def test_scene_lifted_once_per_depth(small_sample, tmp_path, lifts):
    s = StudioSession(small_sample, tmp_path / "e.json", NO_WORLD)
    first = s.scene_glb()
    assert len(lifts) == 1 and lifts[0][0] == s.painting.rgb.shape  # the working copy itself
    names = s.layers()
    assert len(names) >= 2
    s.preview(parse_edits({"paint2vr_edits": 1, "layers": {"drop": [names[0]]}, "effects": {}}))
    dropped = s.scene_glb()
    assert len(lifts) == 1 and dropped != first and names[0] not in s.layers()  # no re-lift
    s.preview(parse_edits({"paint2vr_edits": 1}))
    assert s.scene_glb() == first and len(lifts) == 1  # the kept scene was not changed by the edit
    s.preview(parse_edits({"paint2vr_edits": 1, "pins": [{"x": 0.5, "y": 0.8, "depth": 3.0}]}))
    s.scene_glb()
    assert len(lifts) == 2  # a depth edit lifts again


def test_live_world_options(small_sample, tmp_path, lifts):
    live = StudioSession(small_sample, tmp_path / "e.json")
    assert live.scene_options.lift == live_lift_options(live.options.lift)
    full = StudioSession(small_sample, tmp_path / "e.json", live_world=False)
    assert full.scene_options == full.options
