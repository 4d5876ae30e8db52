"""The offscreen rasteriser: exact values on simple scenes, and fast == slow reference."""

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.painting import PaintingInfo
from paint2vr.render import render_scene
from paint2vr.scene import Clip, Effect, Layer, Mesh, Node, Scene, Track, camera_for_image


def _quad(name, cam, z, u0, v0, u1, v1, texture, alpha_mode="OPAQUE"):
    """A quad at view depth z covering painting pixels [u0, u1] x [v0, v1] exactly."""
    uu = np.array([u0, u1, u0, u1], float)
    vv = np.array([v0, v0, v1, v1], float)
    pos = cam.unproject(uu, vv, np.full(4, z))
    uvs = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], np.float32)
    faces = np.array([[0, 2, 3], [0, 3, 1]], np.uint32)
    return Mesh(name=name, positions=pos, faces=faces, uvs=uvs, texture=texture, alpha_mode=alpha_mode)


def _scene(cam, meshes):
    layers = [Layer(name=f"layer{i}", node=Node(name=f"layer{i}", mesh=m), depth_range=(1, 1))
              for i, m in enumerate(meshes)]
    return Scene(info=PaintingInfo(), camera=cam, layers=layers)


def _tex(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_full_view_quad_reproduces_texture_exactly():
    cam = camera_for_image(32, 24)
    tex = _tex(24, 32)
    scene = _scene(cam, [_quad("q", cam, 5.0, 0, 0, 32, 24, tex)])
    rgb, covered = render_scene(scene)
    assert rgb.shape == (24, 32, 3) and rgb.dtype == np.uint8
    assert covered.all()
    np.testing.assert_array_equal(rgb, tex)


def test_uncovered_pixels_are_false_and_black():
    cam = camera_for_image(40, 20)
    tex = np.full((4, 4, 3), 200, np.uint8)
    scene = _scene(cam, [_quad("q", cam, 3.0, 10, 5, 20, 15, tex)])
    rgb, covered = render_scene(scene)
    expect = np.zeros((20, 40), bool)
    expect[5:15, 10:20] = True
    np.testing.assert_array_equal(covered, expect)
    assert (rgb[~covered] == 0).all() and (rgb[covered] == 200).all()


def test_nearer_wins_and_mask_discards():
    cam = camera_for_image(16, 16)
    back = _quad("back", cam, 10.0, 0, 0, 16, 16, np.full((2, 2, 3), 50, np.uint8))
    front_tex = np.zeros((16, 16, 4), np.uint8)
    front_tex[..., :3] = 220
    front_tex[:, :8, 3] = 255  # left half opaque, right half cut away
    front = _quad("front", cam, 2.0, 0, 0, 16, 16, front_tex, alpha_mode="MASK")
    for order in ([back, front], [front, back]):
        rgb, covered = render_scene(_scene(cam, order))
        assert covered.all()
        assert (rgb[:, :8] == 220).all() and (rgb[:, 8:] == 50).all()


def test_eye_offset_moves_near_content_more():
    cam = camera_for_image(64, 64)
    near = _quad("n", cam, 2.0, 28, 28, 36, 36, np.full((2, 2, 3), 255, np.uint8))
    rgb0, cov0 = render_scene(_scene(cam, [near]))
    rgb1, cov1 = render_scene(_scene(cam, [near]), eye_offset=(0.1, 0, 0))
    c0 = np.nonzero(cov0.any(axis=0))[0].mean()
    c1 = np.nonzero(cov1.any(axis=0))[0].mean()
    # Moving right 0.1 m shifts content at 2 m left by f * 0.1 / 2 pixels.
    assert c1 - c0 == pytest.approx(-cam.focal * 0.1 / 2.0, abs=1.0)


def test_width_scales_and_keeps_aspect():
    cam = camera_for_image(300, 200)
    scene = _scene(cam, [_quad("q", cam, 5.0, 0, 0, 300, 200, _tex(20, 30))])
    rgb, covered = render_scene(scene, width=90)
    assert rgb.shape == (60, 90, 3) and covered.all()


def test_animation_time_poses_nodes():
    cam = camera_for_image(32, 32)
    q = _quad("q", cam, 4.0, 12, 12, 20, 20, np.full((2, 2, 3), 255, np.uint8))
    node = Node(name="fx", mesh=q)
    track = Track(node=node, path="translation", times=np.array([0.0, 1.0], np.float32),
                  values=np.array([[0, 0, 0], [1.0, 0, 0]], np.float32))
    scene = Scene(info=PaintingInfo(), camera=cam,
                  effects=[Effect(name="fx", nodes=[node], clips=[Clip(name="c", tracks=[track])])])
    _, c0 = render_scene(scene, time=0.0)
    _, c5 = render_scene(scene, time=0.5)
    shift = np.nonzero(c5.any(axis=0))[0].mean() - np.nonzero(c0.any(axis=0))[0].mean()
    assert shift == pytest.approx(cam.focal * 0.5 / 4.0, abs=1.0)
    _, rest = render_scene(scene)
    np.testing.assert_array_equal(rest, c0)


def test_points_and_vertex_colours():
    cam = camera_for_image(20, 20)
    pos = cam.unproject(np.array([5.5]), np.array([7.5]), np.array([3.0]))
    pts = Mesh(name="p", positions=pos, colors=np.array([[1, 0, 0, 1]], np.float32))
    scene = Scene(info=PaintingInfo(), camera=cam, effects=[Effect(name="e", nodes=[Node("p", mesh=pts)])])
    rgb, covered = render_scene(scene)
    assert covered.sum() == 1 and covered[7, 5]
    assert tuple(rgb[7, 5]) == (255, 0, 0)


def test_bad_input():
    cam = camera_for_image(8, 8)
    scene = _scene(cam, [])
    with pytest.raises(InputError, match="width"):
        render_scene(scene, width=0)
    with pytest.raises(InputError, match="eye_offset"):
        render_scene(scene, eye_offset=(0, 0))
    with pytest.raises(InputError, match="no layer"):
        render_scene(scene, layers=["nope"])


def test_fast_matches_reference_on_random_triangles():
    rng = np.random.default_rng(3)
    cam = camera_for_image(48, 36)
    meshes = []
    for i in range(3):
        n = 60
        u = rng.uniform(-10, 58, n)
        v = rng.uniform(-10, 46, n)
        z = rng.uniform(1.0, 8.0, n)
        pos = cam.unproject(u, v, z)
        faces = rng.integers(0, n, (80, 3)).astype(np.uint32)
        uvs = rng.uniform(0, 1, (n, 2)).astype(np.float32)
        tex = rng.integers(0, 256, (16, 16, 4), dtype=np.uint8)
        meshes.append(Mesh(name=f"m{i}", positions=pos, faces=faces, uvs=uvs, texture=tex,
                           alpha_mode="MASK" if i == 1 else "OPAQUE"))
    scene = _scene(cam, meshes)
    for off in [(0, 0, 0), (0.2, -0.1, 0.3)]:
        fast = render_scene(scene, eye_offset=off)
        slow = render_scene(scene, eye_offset=off, reference=True)
        np.testing.assert_array_equal(fast[1], slow[1])
        np.testing.assert_array_equal(fast[0], slow[0])
        assert fast[1].any()


def _bilinear_wrapped_reference(level, u, v):
    """One texel lookup at a time, indices taken modulo the size (glTF REPEAT)."""
    h, w = level.shape[:2]
    out = []
    for uu, vv in zip(u, v):
        x, y = uu * w - 0.5, vv * h - 0.5
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        c = lambda i, j: level[j % h, i % w]  # noqa: E731
        out.append((c(x0, y0) * (1 - fx) + c(x0 + 1, y0) * fx) * (1 - fy)
                   + (c(x0, y0 + 1) * (1 - fx) + c(x0 + 1, y0 + 1) * fx) * fy)
    return np.array(out)


def test_repeat_sampling_wraps_and_matches_the_reference():
    from paint2vr.render.raster import sample_bilinear
    level = np.random.default_rng(3).random((5, 7, 4)).astype(np.float32)
    u = np.random.default_rng(4).uniform(-3, 4, 500)
    v = np.random.default_rng(5).uniform(-3, 4, 500)
    got = sample_bilinear(level, u, v, repeat=True)
    np.testing.assert_allclose(got, _bilinear_wrapped_reference(level, u, v), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sample_bilinear(level, u + 2.0, v - 1.0, repeat=True), got, atol=1e-5)
    clamped = sample_bilinear(level, np.array([2.5]), np.array([0.5]))     # clamp: the right edge
    np.testing.assert_allclose(clamped, sample_bilinear(level, np.array([0.999]), np.array([0.5])), atol=0.1)


def test_a_tiled_ground_texture_repeats_instead_of_streaking():
    """The ground's texture tiles (uvs 0..4, REPEAT): the render shows the tile four times
    across, where clamping drew the edge texels as streaks over 3/4 of the quad."""
    cam = camera_for_image(64, 16)
    tex = _tex(16, 16, seed=7)
    quad = _quad("ground", cam, 4.0, 0, 0, 64, 16, tex)
    quad.uvs[:, 0] *= 4.0
    quad.extras["wrap"] = "repeat"
    rgb, covered = render_scene(_scene(cam, [quad]))
    assert covered.all()
    for k in range(1, 4):   # each 16-px period is the tile again (bilinear edges aside)
        diff = np.abs(rgb[2:-2, 16 * k + 2:16 * k + 14].astype(int) - rgb[2:-2, 2:14].astype(int))
        assert diff.mean() < 6, k
    quad.extras.pop("wrap")
    clamped, _ = render_scene(_scene(cam, [quad]))
    assert clamped[:, 20:].std(axis=1).mean() < 3      # the streaks: every row one colour
