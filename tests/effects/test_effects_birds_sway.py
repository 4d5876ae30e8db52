"""Birds fly in open sky above the land; sway bends foliage only, with no constant offset."""

from __future__ import annotations

import numpy as np
import pytest
from effects_scenes import make_scene

from paint2vr.effects import BirdsOptions, SwayOptions, add_effects, birds, eval_track, scene_space, sway
from paint2vr.effects.birds import _flock_sizes, around_ok, bird_probe_points
from paint2vr.errors import InputError


@pytest.fixture(scope="module")
def flock():
    s = make_scene(hill=3.0)
    return s, birds(s, BirdsOptions(), seed=4)


def test_birds_share_one_mesh_with_a_flap_target(flock):
    _, eff = flock
    assert len(eff.nodes) == 7
    mesh = eff.nodes[0].mesh
    assert all(n.mesh is mesh for n in eff.nodes) and len(mesh.morph_targets) == 1
    assert {tr.path for tr in eff.clips[0].tracks} == {"translation", "rotation", "weights"}


def test_birds_stay_in_sky_above_land(flock):
    s, eff = flock
    sp = scene_space(s)
    t = np.linspace(0, 8, 400)
    first = _flock_sizes(BirdsOptions())[0]
    tracks = [tr for tr in eff.clips[0].tracks if tr.path == "translation"]
    for b, tr in enumerate(tracks):
        p = eval_track(tr, t)
        assert (p[:, 1] >= sp.surface.at(p[:, 0], p[:, 2]) + 3.0 - 1e-3).all()
        if b < first:  # the painting's flock: in its open sky, within the depths asked for
            assert sp.in_sky(p).all(), "a bird left the open sky"
            _, _, z = s.camera.project(p)
            assert (z >= 15.0 - 1e-3).all() and (z <= 60.0 + 1e-3).all()
            # Wing tips stay in the sky too, at the keys.
            assert sp.in_sky(bird_probe_points(tr.values.astype(np.float64), 0.7).reshape(-1, 3)).all()
        else:  # round the visitor: in range, above the horizon, in the open sky inside the frame
            assert around_ok(sp, tr.values.astype(np.float64), BirdsOptions()).all()
            d = np.linalg.norm(p - np.asarray(s.camera.position), axis=1)
            assert (d >= 15.0 - 1e-3).all() and (d <= 60.0 + 1e-3).all()
            u, v, z = s.camera.project(p)
            inside = (z > 0) & (u >= 0) & (u <= s.camera.width) & (v >= 0) & (v <= s.camera.height)
            assert sp.in_sky(p[inside]).all()


def test_birds_rotation_and_flap_are_sane(flock):
    _, eff = flock
    for tr in eff.clips[0].tracks:
        if tr.path == "rotation":
            np.testing.assert_allclose(np.linalg.norm(tr.values, axis=1), 1.0, atol=1e-5)
            # Neighbouring keys on one hemisphere: no flips mid-loop.
            assert (np.sum(tr.values[1:-1] * tr.values[:-2], 1) > 0.9).all()
        if tr.path == "weights":
            assert tr.values.min() >= 0 and tr.values.max() <= 1 and tr.values.std() > 0.1
        if tr.path == "translation":
            # Flying speed near the option's (a loop of that length).
            v = np.linalg.norm(np.diff(tr.values, axis=0), axis=1) / np.diff(tr.times)
            assert 3.0 < np.median(v) < 12.0


def test_birds_without_sky_raise():
    with pytest.raises(InputError, match="sky"):
        birds(_covered_scene(), BirdsOptions())


def _covered_scene():
    """A scene whose land covers the whole frame (a wall close in front)."""
    from effects_scenes import card
    s = make_scene(tree=False)
    tex = np.full((8, 8, 3), 90, np.uint8)
    from paint2vr.scene import Layer, Node
    s.layers.insert(0, Layer("wall", Node("wall", card("wall", (-30, 30), (0, 40), -8.0, tex, 6)), (8.0, 8.0)))
    return s


def test_birds_bad_options():
    with pytest.raises(InputError):
        birds(make_scene(), BirdsOptions(count=0))
    with pytest.raises(InputError, match="max_distance"):
        birds(make_scene(), BirdsOptions(min_distance=50.0, max_distance=20.0))


def test_sway_moves_tree_top_not_ground_or_house():
    s = make_scene()
    eff = sway(s, SwayOptions(), seed=1)
    ground, tree, house, sky = (l.node.mesh for l in s.layers)
    assert tree.morph_targets and len(tree.morph_targets) == 3
    assert not ground.morph_targets and not house.morph_targets and not sky.morph_targets
    assert eff.nodes == [] and len(eff.clips[0].tracks) == 1 and eff.clips[0].tracks[0].node is s.layers[1].node
    disp = np.abs(np.stack(tree.morph_targets)).max(axis=(0, 2))
    y = tree.positions[:, 1]
    assert disp[y < 0.5].max() == 0, "the trunk's base stays put"
    assert disp[y > 7].max() > 0.05
    assert disp.max() <= SwayOptions().amplitude / 0.75 + 1e-6
    assert all(t.dtype == np.float32 and t.shape == tree.positions.shape for t in tree.morph_targets)


def test_sway_wave_has_no_constant_offset():
    s = make_scene()
    eff = sway(s, SwayOptions(), seed=1)
    tree = s.layers[1].node.mesh
    tr = eff.clips[0].tracks[0]
    w = eval_track(tr, np.linspace(0, 8, 801)[:-1])
    assert w.min() >= 0 and w.max() <= 1
    offsets = np.einsum("tk,kni->tni", w, np.stack(tree.morph_targets))
    mean = np.abs(offsets.mean(0)).max()
    assert mean < 1e-3 and np.abs(offsets).max() > 0.05


def test_sway_vertex_budget_and_twice():
    s = make_scene()
    sway(s, SwayOptions(max_moving_vertices=100), seed=1)
    moved = np.any(np.stack(s.layers[1].node.mesh.morph_targets) != 0, axis=(0, 2)).sum()
    assert 0 < moved <= 100 and moved < 130
    with pytest.raises(InputError, match="twice"):
        sway(s, SwayOptions(), seed=1)
    with pytest.raises(InputError, match="twice"):
        add_effects(make_scene(), ["sway", "sway"])
