"""The lifting stage on synthetic scenes with true depth and on the shared paintings."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from paint2vr.config import replace_options
from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.errors import InputError
from paint2vr.lift import DEFAULT_LIFT_OPTIONS, LiftOptions, lift
from paint2vr.painting import Painting
from paint2vr.render import render_scene
from paint2vr.samples import make_scene

PAINTINGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "paintings"
OFFSETS = [(-0.3, 0, 0), (0.3, 0, 0), (0, 0, -0.3), (0, 0.15, 0)]


def _psnr(a, b):
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def _synthetic(kind="landscape", w=360, h=240, seed=1):
    rgb, depth, sky = make_scene(kind, w, h, seed=seed)
    return Painting.from_array(rgb), DepthMap(depth=depth, sky=sky, metric=True, model=ModelInfo("truth"))


@pytest.fixture(scope="module")
def landscape():
    p, d = _synthetic()
    return p, d, lift(p, d)


def _check_views(painting, scene, width, psnr_width=None):
    psnr_width = psnr_width or width
    rgb, covered = render_scene(scene, width=psnr_width)
    ref = cv2.resize(painting.rgb, (psnr_width, rgb.shape[0]), interpolation=cv2.INTER_AREA)
    assert covered.all()
    psnr = _psnr(rgb, ref)
    land = [l.name for l in scene.layers if l.kind in ("layer", "ground")]
    _, start_land = render_scene(scene, width=width, layers=land)
    # The frame's side bands: there a moved head sees past the layers' edges, onto the
    # world's backdrop (the layers have no margins; the panorama continues the painting).
    inner = slice(width // 10, width - width // 10)
    for off in OFFSETS:
        _, cov = render_scene(scene, width=width, eye_offset=off)
        assert cov.all(), off
        # Without the backdrop, moving the head must not open holes in the land.
        _, cov_land = render_scene(scene, width=width, eye_offset=off, layers=land)
        assert (~cov_land[:, inner]).mean() - (~start_land[:, inner]).mean() < 0.01, off
    return psnr


def test_structure(landscape):
    p, d, scene = landscape
    layers = [l for l in scene.layers if l.kind == "layer"]
    assert len(layers) >= 2
    assert [l.name for l in layers] == [f"layer{i}" for i in range(len(layers))]
    # After the painting's layers: the ground around the visitor, the sky window, the far
    # band at twice the panorama's resolution (two halves), the world.
    assert [(l.name, l.kind) for l in scene.layers if l.kind != "layer"] == [
        ("ground", "ground"), ("sky", "sky"), ("band_left", "sky"), ("band_right", "sky"), ("world", "sky")]
    halves = [l for l in scene.layers if l.name.startswith("band_")]
    world = next(l for l in scene.layers if l.name == "world")
    assert all(h.node.mesh.texture.shape[1] == world.node.mesh.texture.shape[1] for h in halves)  # 2x, in two
    assert all(h.depth_range[0] < world.depth_range[0] for h in halves)  # in front of the sphere
    near = [l.depth_range[0] for l in layers]
    assert near == sorted(near)
    for l in layers:
        m = l.node.mesh
        assert m.faces.dtype == np.uint32 and m.positions.dtype == np.float32 and m.uvs.dtype == np.float32
        assert m.texture.dtype == np.uint8 and m.texture.shape[2] == 4
        assert m.alpha_mode == "MASK" and m.unlit
        assert set(np.unique(m.texture[..., 3])) <= {0, 255}
        assert (m.uvs >= -1e-6).all() and (m.uvs <= 1 + 1e-6).all()
    cam = scene.camera
    assert (cam.width, cam.height) == (p.width, p.height)
    assert cam.position == (0.0, 1.6, 0.0)
    assert scene.provenance["lift"]["max_layers"] == DEFAULT_LIFT_OPTIONS.max_layers
    assert scene.preview_rgb is not None and max(scene.preview_rgb.shape[:2]) <= 256


def test_uv_convention_v_down(landscape):
    _, _, scene = landscape
    m = scene.layers[0].node.mesh
    hi, lo = np.argmax(m.positions[:, 1] + 0 * m.positions[:, 2]), np.argmin(m.positions[:, 1])
    # Vertices at the same depth: higher in the world means smaller v (texture top).
    z = -m.positions[:, 2]
    same = np.abs(z - z[lo]) < 1e-3
    top = np.argmax(np.where(same, m.positions[:, 1], -np.inf))
    assert m.uvs[top, 1] <= m.uvs[lo, 1]
    del hi


def test_reproduces_painting_and_no_holes(landscape):
    p, _, scene = landscape
    assert _check_views(p, scene, 240, psnr_width=480) >= 30.0


def test_no_triangle_spans_a_jump(landscape):
    _, _, scene = landscape
    cam = scene.camera
    for l in scene.layers:
        if l.kind != "layer":
            continue
        m = l.node.mesh
        z = (cam.position[2] - m.positions[:, 2].astype(np.float64))[m.faces]
        assert (z.max(axis=1) <= z.min(axis=1) * (1 + DEFAULT_LIFT_OPTIONS.max_jump) + 1e-4).all()


def test_margin_extends_beyond_frame(landscape):
    p, d, _ = landscape
    scene = lift(p, d, LiftOptions(margin=0.15))
    cam = scene.camera
    u_all = []
    for l in scene.layers:
        if l.kind != "layer":
            continue
        u, v, z = cam.project(l.node.mesh.positions)
        u_all.append(u)
    u = np.concatenate(u_all)
    assert u.min() < -0.1 * cam.width and u.max() > 1.1 * cam.width


def test_triangle_budget_and_layer_count():
    p, d = _synthetic("tall_trees", 240, 160, seed=2)
    scene = lift(p, d, LiftOptions(max_triangles=20_000))
    assert scene.triangle_count <= 20_000
    scene3 = lift(p, d, LiftOptions(n_layers=3))
    assert sum(l.kind == "layer" for l in scene3.layers) == 3
    one_cut = lift(p, d, LiftOptions(max_layers=2))
    assert sum(l.kind == "layer" for l in one_cut.layers) == 2


def test_deterministic():
    p, d = _synthetic("winter", 160, 120, seed=5)
    a, b = lift(p, d), lift(p, d)
    assert len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        ma, mb = la.node.mesh, lb.node.mesh
        for name in ("positions", "faces", "uvs", "texture"):
            np.testing.assert_array_equal(getattr(ma, name), getattr(mb, name))


def test_options_from_depth_extras_and_overrides():
    p, d = _synthetic("coast", 160, 100, seed=3)
    d.extras["fov_deg"] = 40.0
    assert lift(p, d).camera.yfov < lift(p, d, LiftOptions(fov_deg=55.0)).camera.yfov
    assert lift(p, d, LiftOptions(eye_height=1.2)).camera.position == (0.0, 1.2, 0.0)


def test_bad_input():
    p, d = _synthetic("landscape", 64, 48)
    wrong = DepthMap(depth=np.ones((40, 64), np.float32), sky=np.zeros((40, 64), bool),
                     metric=False, model=ModelInfo("x"))
    with pytest.raises(InputError, match=r"\(48, 64\).*\(40, 64\)"):
        lift(p, wrong)
    with pytest.raises(InputError, match="max_jump"):
        lift(p, d, replace_options(DEFAULT_LIFT_OPTIONS, max_jump=0.0))
    with pytest.raises(InputError, match="n_layers"):
        lift(p, d, LiftOptions(n_layers=0))
    with pytest.raises(InputError, match="Painting"):
        lift(p.rgb, d)


def test_all_sky_gives_backdrop_only():
    p, _ = _synthetic("landscape", 32, 24)
    d = DepthMap(depth=np.full((24, 32), 100.0, np.float32), sky=np.ones((24, 32), bool),
                 metric=False, model=ModelInfo("x"))
    scene = lift(p, d)
    assert [l.kind for l in scene.layers] == ["ground", "sky", "sky", "sky", "sky"]  # window, band halves, world
    assert render_scene(scene, width=32)[1].all()
    bare = lift(p, d, LiftOptions(world=False))
    assert [l.kind for l in bare.layers] == ["sky"]
    assert render_scene(bare, width=32)[1].all()


@pytest.mark.skipif(not (PAINTINGS / "hunters_in_the_snow.webp").exists(),
                    reason=f"shared paintings not found at {PAINTINGS}")
def test_shared_painting_with_prior_depth():
    from paint2vr.depth.prior import PriorEstimator
    from paint2vr.painting import load_painting
    p = load_painting(PAINTINGS / "hunters_in_the_snow.webp")
    d = PriorEstimator().estimate_one(p.rgb)
    scene = lift(p, d)
    assert scene.triangle_count <= DEFAULT_LIFT_OPTIONS.max_triangles
    assert _check_views(p, scene, 240, psnr_width=480) >= 30.0
