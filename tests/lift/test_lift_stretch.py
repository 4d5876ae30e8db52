"""Stretched triangles (rubber sheets across depth discontinuities, ``LiftOptions.max_stretch``):
the vectorised disparity gradient against its loop reference, its value on a plane, and a
constructed scene (a near box before a far wall, the depth edge smoothed as estimators give it)
where no kept triangle spans the edge while the start view stays the painting."""

import dataclasses

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.lift import LiftOptions, lift
from paint2vr.lift.mesh import (box_union, box_union_reference, drop_stretched, face_stretch,
                                face_stretch_reference)
from paint2vr.painting import Painting
from paint2vr.render import render_scene


@pytest.mark.parametrize("seed", range(4))
def test_face_stretch_matches_reference(seed):
    rng = np.random.default_rng(seed)
    n, nv = 300, 120
    rows, cols = rng.integers(0, 60, nv), rng.integers(0, 80, nv)
    z = rng.uniform(0.5, 50.0, nv).astype(np.float32)
    faces = rng.integers(0, nv, (n, 3))
    faces[:5, 1] = faces[:5, 0]  # degenerate ones: +inf in both
    fast = face_stretch(rows, cols, z, faces, 300.0)
    ref = face_stretch_reference(rows, cols, z, faces, 300.0)
    assert np.isinf(fast[:5]).all() and np.isinf(ref[:5]).all()
    np.testing.assert_allclose(fast, ref, rtol=1e-6)


def test_ground_plane_stretch_is_one_over_eye_height():
    # Ground seen from eye height h: disparity = (row - horizon) / (f h), whatever the distance.
    f, h = 400.0, 1.6
    rows = np.array([10, 10, 11, 200, 200, 203])
    cols = np.array([0, 1, 0, 50, 52, 50])
    z = (f * h / (rows + 5.0)).astype(np.float32)
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    np.testing.assert_allclose(face_stretch(rows, cols, z, faces, f), 1 / h, rtol=1e-5)


def test_drop_stretched_only_where_backed():
    rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    z = np.array([1.0, 1.0, 2.0, 2.0], np.float32)  # a steep step between the rows
    faces = np.array([[0, 2, 1], [1, 2, 3]], np.uint32)
    backed = np.ones((3, 3), bool)
    (_, _, _, f), gone = drop_stretched(rows, cols, z, faces, backed, 100.0, 8.0)
    assert len(f) == 0 and gone[:2, :2].all() and not gone[2].any() and not gone[:, 2].any()
    (_, _, _, f), gone = drop_stretched(rows, cols, z, faces, backed, 100.0, 80.0)
    assert len(f) == 2 and not gone.any()
    backed[1, 1] = False
    (r, _, zz, f), gone = drop_stretched(rows, cols, z, faces, backed, 100.0, 8.0)
    assert len(f) == 1 and len(r) == 3 and set(zz[f.ravel()]) == {1.0, 2.0}


@pytest.mark.parametrize("seed", range(3))
def test_box_union_matches_reference(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(5, 40)), int(rng.integers(5, 40)))
    r0, c0 = rng.integers(0, shape[0], 30), rng.integers(0, shape[1], 30)
    r1, c1 = r0 + rng.integers(0, 4, 30), c0 + rng.integers(0, 4, 30)  # may pass the edge
    np.testing.assert_array_equal(box_union(shape, r0, r1, c0, c1), box_union_reference(shape, r0, r1, c0, c1))


def _box_scene(w=320, h=240):
    """A textured near box (2 m) before a textured wall (4 m); the edge's disparity ramps
    linearly over 16 pixels (so no pixel step reaches max_jump and no cut is forced there)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    # Signed distance (pixels) outside the box, rounded corners.
    dx = np.maximum(np.abs(xx - w * 0.45) - w * 0.15, 0)
    dy = np.maximum(np.abs(yy - h * 0.5) - h * 0.2, 0)
    t = np.clip(np.hypot(dx, dy) / 16.0, 0, 1)
    disp = (1 - t) / 2.0 + t / 4.0
    depth = (1 / disp).astype(np.float32)
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 60, (h // 4, w // 4, 3)).repeat(4, 0).repeat(4, 1)
    rgb = np.where((t < 0.5)[..., None], [200, 80, 40], [60, 90, 170]) + noise
    p = Painting.from_array(np.clip(rgb, 0, 255).astype(np.uint8))
    d = DepthMap(depth=depth, sky=np.zeros((h, w), bool), metric=True, model=ModelInfo("truth"))
    return p, d


def _scene_stretch(scene):
    """Per layer, per triangle: its disparity gradient (1/m per radian), from the scene's
    vertices projected by the start camera."""
    cam = scene.camera
    out = []
    for layer in scene.layers:
        if layer.kind != "layer":
            continue
        m = layer.node.mesh
        p = m.positions.astype(np.float64) - np.array(cam.position)
        z = -p[:, 2]
        u, v = cam.focal * p[:, 0] / z, -cam.focal * p[:, 1] / z
        out.append(face_stretch(v, u, z, m.faces.astype(np.int64), cam.focal))
    return out


def test_box_before_wall_no_triangle_spans_the_edge():
    p, d = _box_scene()
    base = LiftOptions(world=False, max_layers=2)
    on = lift(p, d, base)
    off = lift(p, d, dataclasses.replace(base, max_stretch=None))
    limit = base.max_stretch
    s_on, s_off = _scene_stretch(on), _scene_stretch(off)
    assert len(s_on) == len(s_off) == 2
    assert (s_off[0] > 2 * limit).sum() > 20  # the box's layer joins it to the wall without the option
    assert (s_on[0] <= limit * 1.01).all()  # and not with it (the wall's fill lies behind)
    # The wall keeps its own part of the edge (nothing behind it to show instead).
    assert (s_on[1] > limit).any()
    a, cov_a = render_scene(off, width=320)
    b, cov_b = render_scene(on, width=320)
    assert cov_a.all() and cov_b.all()
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=2)
    assert (diff > 40).mean() < 0.01  # the start view is unchanged but for the edge's pixels
    mse = ((a.astype(np.float64) - b) ** 2).mean()
    assert 10 * np.log10(255.0 ** 2 / max(mse, 1e-12)) > 30.0
    # Stepping aside, the box no longer drags a sheet of its colour over the wall.
    sa, _ = render_scene(off, width=320, eye_offset=(0.5, 0, 0))
    sb, _ = render_scene(on, width=320, eye_offset=(0.5, 0, 0))
    box_colour = lambda im: ((im[..., 0].astype(int) - im[..., 2]) > 60).mean()
    assert box_colour(sb) < box_colour(sa)
