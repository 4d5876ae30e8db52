"""Effects on a scene made by the real lift stage (skipped while lift is unavailable)."""

from __future__ import annotations

import numpy as np
import pytest

from paint2vr.effects import BirdsOptions, add_effects, effect_budget, eval_track, scene_space
from paint2vr.effects.birds import _flock_sizes, around_ok
from paint2vr.painting import Painting
from paint2vr.scene import camera_for_image

lift_mod = pytest.importorskip("paint2vr.lift", reason="the lift stage is not importable")
base = pytest.importorskip("paint2vr.depth.base")


def _painting_and_depth():
    h, w = 180, 240
    rng = np.random.default_rng(0)
    cam = camera_for_image(w, h)
    v = np.arange(h)[:, None] + 0.5
    hz = h * 0.45
    depth = (np.where(v > hz + 1, 1.6 * cam.focal / np.maximum(v - hz, 1e-3), 200.0) * np.ones((1, w)))
    depth = np.minimum(depth, 200).astype(np.float32)
    sky = np.zeros((h, w), bool)
    sky[: int(hz) + 1] = True
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[sky] = (150, 190, 235)
    rgb[~sky] = (225, 225, 230)
    tree = (np.abs(np.arange(w) - w / 2)[None, :] < 20) & (v < hz + 1.6 * cam.focal / 20) & (v > h * 0.15)
    depth[tree], sky[tree] = 20.0, False
    rgb[tree] = np.stack([rng.integers(20, 60, tree.sum()), rng.integers(60, 140, tree.sum()),
                          rng.integers(10, 40, tree.sum())], -1)
    return Painting.from_array(rgb), base.DepthMap(depth=depth, sky=sky, metric=True,
                                                   model=base.ModelInfo("synthetic"))


def test_effects_on_a_lifted_scene():
    painting, depth = _painting_and_depth()
    scene = lift_mod.lift(painting, depth)
    sp = scene_space(scene)
    assert sp.sky_mask.any()
    add_effects(scene, ["snow", "birds", "sway"], seed=2)
    for e in scene.effects:
        draws, nbytes = effect_budget(e)
        assert draws <= 32 and nbytes <= 2_000_000
    snow = scene.effects[0]
    t = np.linspace(0, 8, 97)
    tracks = {(id(tr.node), tr.path): tr for tr in snow.clips[0].tracks}
    for node in snow.nodes:
        c = node.mesh.positions.reshape(-1, 4, 3).mean(1)[None] + eval_track(tracks[(id(node), "translation")], t)[:, None]
        vis = eval_track(tracks[(id(node), "scale")], t)[:, 0] > 0
        c = c[vis]
        assert (c[..., 1] >= sp.surface.at(c[..., 0], c[..., 2]) - 1e-4).all()
    first = _flock_sizes(BirdsOptions())[0]
    moves = [tr for tr in scene.effects[1].clips[0].tracks if tr.path == "translation"]
    for b, tr in enumerate(moves):
        p = eval_track(tr, t)
        # The painting's flock in its open sky; the others round the visitor (in its sky where
        # they cross the frame), all above the land.
        assert sp.in_sky(p).all() if b < first else around_ok(sp, tr.values.astype(np.float64), BirdsOptions()).all()
        assert (p[:, 1] >= sp.surface.at(p[:, 0], p[:, 2])).all()


def test_rasterised_height_field_bounds_the_dense_reference():
    """The exact rasteriser is never below dense samples of the lifted triangles (errors only
    upwards) and never above the old safe field (dense samples max-filtered over a cell)."""
    from paint2vr.effects import space

    painting, depth = _painting_and_depth()
    scene = lift_mod.lift(painting, depth)
    land = [lw for layer in scene.layers if layer.kind != "sky" for lw in space.world_meshes(layer.node)]
    tri = np.concatenate([w[m.faces.astype(np.int64)] for m, w in land])
    rng = np.random.default_rng(0)
    tri = tri[rng.choice(len(tri), min(len(tri), 1500), replace=False)]
    lo, hi = tri.reshape(-1, 3).min(0), tri.reshape(-1, 3).max(0)
    cell = max(hi[0] - lo[0], hi[2] - lo[2]) / 40.0
    shape = (int(np.ceil((hi[2] - lo[2]) / cell)) + 1, int(np.ceil((hi[0] - lo[0]) / cell)) + 1)
    fast = space.rasterise_max(tri, lo[0], lo[2], cell, shape)
    ref = space.rasterise_max_reference(tri, lo[0], lo[2], cell, shape, spacing=cell / 4)
    got = np.isfinite(ref)
    assert got.sum() > 50 and (np.isfinite(fast) >= got).all()
    assert (fast[got] >= ref[got] - 1e-9).all()
    safe = space._max_filter3(space.fill_holes_max(ref))
    assert (np.where(np.isfinite(fast), fast, -np.inf) <= safe + 1e-9).all()
    # A single sloped triangle: exact per cell.
    one = np.array([[[0.1, 0.0, 0.1], [3.9, 2.0, 0.2], [0.2, 1.0, 3.9]]])
    g = space.rasterise_max(one, 0.0, 0.0, 1.0, (4, 4))
    assert g[0, 3] == 2.0 and g[3, 3] == -np.inf
    # Row 3, column 0: highest where the long edge crosses x = 1 (0.8 / 3.7 of the way up).
    np.testing.assert_allclose(g[3, 0], 1.0 + 0.8 / 3.7, rtol=1e-12)
