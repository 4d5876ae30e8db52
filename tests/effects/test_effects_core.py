"""The effects foundations: timelines, track evaluation, height field, scene space, budgets."""

from __future__ import annotations

import math

import numpy as np
import pytest
from effects_scenes import make_scene

from paint2vr.effects import core, space
from paint2vr.effects.space import HeightField, fill_holes_max, sample_triangles, scatter_max, scene_space
from paint2vr.effects.timeline import eval_track, fourier_loop, loop_times
from paint2vr.errors import InputError
from paint2vr.scene import Clip, Effect, Mesh, Node, Track


def test_loop_times_exact_ends():
    t = loop_times(8.0, 10)
    assert t.dtype == np.float32 and t.shape == (11,)
    assert t[0] == 0 and t[-1] == np.float32(8.0) and np.all(np.diff(t) > 0)


def test_fourier_loop_is_periodic_and_seeded():
    t = np.linspace(0, 5.0, 101)
    a = fourier_loop(np.random.default_rng(1), t, 5.0, 2.0, 3, (4,))
    b = fourier_loop(np.random.default_rng(1), t, 5.0, 2.0, 3, (4,))
    assert a.shape == (4, 101)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[:, 0], a[:, -1], atol=1e-9)
    assert 0.3 < a.std() < 4.0


def test_eval_track_linear_step_rotation_exact():
    n = Node("n")
    tr = Track(n, "translation", np.array([0, 1, 3], np.float32), np.array([[0, 0, 0], [2, 0, 0], [2, 4, 0]], np.float32))
    np.testing.assert_allclose(eval_track(tr, np.array([0.5, 1.0, 2.0, 5.0])),
                               [[1, 0, 0], [2, 0, 0], [2, 2, 0], [2, 4, 0]])
    st = Track(n, "scale", np.array([0, 1, 2], np.float32), np.array([[1] * 3, [0] * 3, [1] * 3], np.float32), "STEP")
    np.testing.assert_array_equal(eval_track(st, np.array([0.5, 1.0, 1.5, 2.0]))[:, 0], [1, 0, 0, 1])
    # Rotation: q and -q keys interpolate along the short way (stays the identity).
    rt = Track(n, "rotation", np.array([0, 1], np.float32), np.array([[0, 0, 0, 1], [0, 0, 0, -1]], np.float32))
    np.testing.assert_allclose(np.abs(eval_track(rt, np.array([0.5]))), [[0, 0, 0, 1]], atol=1e-12)


def test_scatter_max_matches_reference():
    rng = np.random.default_rng(3)
    pts = rng.uniform(-5, 5, (500, 3))
    fast = scatter_max(pts, -5.0, -5.0, 0.7, (16, 15))
    ref = space.height_field_reference(pts, -5.0, -5.0, 0.7, (16, 15))
    np.testing.assert_array_equal(fast, ref)


def test_fill_holes_takes_highest_neighbour():
    g = np.full((3, 4), -np.inf)
    g[0, 0], g[2, 3] = 1.0, 5.0
    f = fill_holes_max(g)
    assert np.isfinite(f).all() and f[0, 0] == 1.0 and f[2, 3] == 5.0 and f[1, 2] == 5.0
    assert (fill_holes_max(np.full((2, 2), -np.inf)) == 0).all()


def test_sample_triangles_inside_and_dense():
    tri = np.array([[[0, 0], [4, 0], [0, 4]]], dtype=np.float64)
    pts = sample_triangles(tri, np.array([4 * math.sqrt(2)]), 0.5)
    assert (pts >= -1e-9).all() and (pts.sum(1) <= 4 + 1e-9).all()
    # Every point of the triangle is within spacing of a sample.
    q = np.random.default_rng(0).uniform(0, 4, (200, 2))
    q = q[q.sum(1) <= 4]
    d = np.linalg.norm(q[:, None] - pts[None], axis=-1).min(1)
    assert d.max() < 0.5


def test_height_field_lookup_clamps():
    hf = HeightField(0.0, 0.0, 1.0, np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    np.testing.assert_array_equal(hf.at(np.array([0.5, 1.5, -9, 9]), np.array([0.5, 1.5, 0.2, 9])), [1, 4, 1, 4])


def test_scene_space_measures_synthetic_scene():
    s = make_scene()
    sp = scene_space(s)
    assert sp.sky_depth == 200.0 and 1.0 <= sp.near < 5.0 and sp.far == 60.0
    assert abs(sp.ground) < 0.2
    # The 9 m tree card at z=-20 stands in the height field; open ground far from it is ~0.
    assert float(sp.height.at(np.array([0.0]), np.array([-20.0]))[0]) >= 9.0
    assert abs(float(sp.height.at(np.array([-20.0]), np.array([-40.0]))[0])) < 0.1
    # Sky: the top-left corner is open sky, the tree's crown is not.
    cam = s.camera
    assert sp.sky_mask[0, 0]
    crown = cam.unproject(np.array(cam.width / 2), np.array(cam.height * 0.3), np.array(20.0))
    assert not sp.in_sky(crown[None])[0]
    ray = cam.unproject(np.array(5.0), np.array(5.0), np.array(30.0))
    assert sp.in_sky(ray[None])[0]


def test_scene_space_without_sky_layer_has_no_covered_sky():
    sp = scene_space(make_scene(sky=False))
    assert sp.sky_depth == 200.0 and sp.sky_mask.any()


def test_scene_space_rejects_non_scene():
    with pytest.raises(InputError):
        scene_space("not a scene")  # type: ignore[arg-type]


def test_effect_budget_exact():
    m = Mesh("m", np.zeros((10, 3), np.float32), np.zeros((4, 3), np.uint32),
             colors=np.zeros((10, 4), np.float32), morph_targets=[np.zeros((10, 3), np.float32)])
    m.morph_targets[0][2] = 1.0
    a, b = Node("a", mesh=m), Node("b", mesh=m)  # one shared mesh, two draws
    tr = Track(a, "weights", np.zeros(5, np.float32), np.zeros((5, 1), np.float32))
    draws, nbytes = core.effect_budget(Effect("e", [a, b], [Clip("c", [tr])]))
    assert draws == 2
    # positions 120 + uint16 indices 24 + colours 160 + sparse morph (1 row: 16) + track 20 + 20
    assert nbytes == 120 + 24 + 160 + 16 + 20 + 20
    with pytest.raises(InputError):
        core.effect_budget("x")  # type: ignore[arg-type]


def test_check_options_rejects_out_of_range_and_bad_colour():
    from paint2vr.config import check_options
    from paint2vr.effects import SnowOptions
    check_options(SnowOptions())
    for bad in (SnowOptions(density=-1.0), SnowOptions(speed=float("nan")), SnowOptions(color=(1.0, 2.0, 0.0)),
                SnowOptions(groups=0), SnowOptions(groups=True), SnowOptions(density="2")):
        with pytest.raises(InputError):
            check_options(bad)
