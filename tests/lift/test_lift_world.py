"""The world around the painting: quilting (fast paths against their references), the
panorama, the ground and the walkable zone, and the lifted scene's file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.lift import LiftOptions, lift
from paint2vr.lift.ground import row_runs, row_runs_slow, walk_zone, zone_meshes
from paint2vr.errors import InputError
from paint2vr.lift.panorama import (SCALE_BAR, SKY_CHANNEL, band_scales, squeeze_hidden_rows, _dome_rows, _dome_source, dome_profile, zenith_colour, match_edge_light, meet_frame, meet_frame_reference, pano_sphere, painting_coords, pano_angles,
                                    window_quad)
from paint2vr.lift.synth import (distinctness, fit_block, fitting_block, min_cut, min_cut_lists, min_cut_slow, min_cuts, seam_mask_slow, overlap_costs, overlap_costs_slow,
                                 quilt_strip, quilt_tile, _seam_mask, reuse_costs, reuse_costs_slow, strip_costs, valid_starts)
from paint2vr.painting import Painting
from paint2vr.samples import make_scene
from paint2vr.scene import camera_for_image


@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (7, 5), (12, 3)])
def test_min_cut_matches_reference(shape):
    rng = np.random.default_rng(shape[0] * 10 + shape[1])
    for _ in range(5):
        err = rng.random(shape)
        fast, slow = min_cut(err), min_cut_slow(err)
        cost = lambda p: err[np.arange(shape[0]), p].sum()  # noqa: E731
        assert cost(fast) == pytest.approx(cost(slow))
        assert (np.abs(np.diff(fast)) <= 1).all()


@pytest.mark.parametrize("shape", [(1, 1), (6, 1), (9, 2), (20, 5), (40, 9)])
def test_min_cut_takes_ties_as_the_list_loop(shape):
    """The numpy cut is the list loop's cut exactly, ties (flat overlaps: many zeros) included:
    the scenes' bytes depend on it."""
    rng = np.random.default_rng(shape[0] * 7 + shape[1])
    for _ in range(8):
        err = rng.integers(0, 3, shape).astype(np.float32)
        assert np.array_equal(min_cut(err), min_cut_lists(err))
        err = rng.random(shape).astype(np.float32)
        assert np.array_equal(min_cut(err), min_cut_lists(err))
    errs = [rng.integers(0, 3, (shape[0], w)).astype(np.float32) for w in (1, 3, shape[1])]
    assert all(np.array_equal(a, min_cut_lists(e)) for a, e in zip(min_cuts(errs), errs))


@pytest.mark.parametrize("sides", ["l", "lt", "ltrb", "rb", "tb"])
def test_seam_mask_matches_reference(sides):
    """Cutting a block's sides together (one pass per height) is cutting each on its own."""
    rng = np.random.default_rng(len(sides))
    for shape in [(12, 12), (12, 9)]:
        patch = rng.integers(0, 3, shape + (3,)).astype(np.float32)
        target = rng.integers(0, 3, shape + (3,)).astype(np.float32)
        known = np.zeros(shape, bool)
        for s, cut in zip("ltrb", (np.s_[:, :4], np.s_[:3], np.s_[:, -5:], np.s_[-3:])):
            known[cut] |= s in sides
        assert np.array_equal(_seam_mask(patch, target, known), seam_mask_slow(patch, target, known))


@pytest.mark.parametrize("stride", [1, 2])
def test_overlap_and_strip_costs_match_reference(stride):
    rng = np.random.default_rng(stride)
    ex = rng.random((30, 40, 3)).astype(np.float32)
    target = rng.random((10, 10, 3)).astype(np.float32)
    known = np.zeros((10, 10), bool)
    known[:, :3] = True
    known[:2] = True
    ys, xs = rng.integers(0, 21, 12), rng.integers(0, 31, 12)
    np.testing.assert_allclose(overlap_costs(ex, ys, xs, target, known, stride),
                               overlap_costs_slow(ex, ys, xs, target, known, stride), rtol=1e-4)
    cols = np.zeros(10, bool)
    cols[:3] = cols[-2:] = True
    strip_t = rng.random((30, 10, 3)).astype(np.float32)
    starts = np.arange(0, 31)
    np.testing.assert_allclose(strip_costs(ex, strip_t, cols),
                               overlap_costs_slow(ex, np.zeros(31, int), starts, strip_t, np.repeat(cols[None], 30, 0)),
                               rtol=1e-3, atol=1e-3)


def _unique_colour_exemplar(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([yy * 3.0, xx * 3.0, (yy * w + xx) % 7 * 10.0], -1).astype(np.float32)


def test_quilt_tile_copies_the_exemplar_and_wraps():
    ex = _unique_colour_exemplar(40, 50)
    tile = quilt_tile(ex, 4, 5, 12, 4, seed=3)
    assert tile.shape == (32, 40, 3)
    # Every texel is a copy of an exemplar texel (quilting never invents colours).
    known = {tuple(c) for c in ex.reshape(-1, 3)}
    assert all(tuple(c) in known for c in tile.reshape(-1, 3))
    # Periodic: across the wrap the texels are as coherent as across interior seams.
    def step(a, b):
        return float(np.abs(a - b).mean())
    wrap = step(tile[:, -1], tile[:, 0])
    inner = np.mean([step(tile[:, i], tile[:, i + 1]) for i in range(tile.shape[1] - 1)])
    assert wrap < 3 * inner + 1e-6
    np.testing.assert_array_equal(tile, quilt_tile(ex, 4, 5, 12, 4, seed=3))  # deterministic


def test_quilt_tile_feather_softens_only_the_seams():
    # A feathered seam mixes the two blocks across the cut; away from the overlaps every
    # texel is still an exemplar texel, and the softening is bounded by the two sides.
    rng = np.random.default_rng(4)
    ex = (rng.random((48, 48, 3)) * 255).astype(np.float32)
    hard = quilt_tile(ex, 3, 3, 16, 4, seed=2)
    soft = quilt_tile(ex, 3, 3, 16, 4, seed=2, feather=1.5)
    assert soft.shape == hard.shape and soft.min() >= 0 and soft.max() <= 255
    assert not np.array_equal(soft, hard)
    # The very first block (nothing known under it) is laid exactly; the later ones are
    # feathered only near their cuts, so most texels stay exemplar texels.
    known = {tuple(c) for c in ex.reshape(-1, 3)}
    exact = np.mean([tuple(c) in known for c in soft.reshape(-1, 3)])
    assert 0.3 < exact < 1.0
    np.testing.assert_array_equal(quilt_tile(ex, 3, 3, 16, 4, seed=2, feather=0.0), hard)


def test_meet_frame_matches_reference_and_joins_the_painting():
    rng = np.random.default_rng(7)
    h, w = 40, 72
    inside = np.zeros((h, w), bool)
    inside[10:30, 24:50] = True
    P = np.full((h, w, 3), 150.0, np.float32) + rng.random((h, w, 3)).astype(np.float32)
    out = np.full((h, w, 3), 100.0, np.float32)
    fast, slow = meet_frame(P, out, inside, 12.0), meet_frame_reference(P, out, inside, 12.0)
    # The fast path's nearest ring pixel comes from a mask-5 distance transform: where two are
    # almost as near it may take the other, whose smoothed residual is within a fraction of a level.
    np.testing.assert_allclose(fast, slow, atol=0.5)
    assert np.abs(fast - slow).mean() < 0.02
    # Just outside the frame the continuation starts at the painting's colour, fades to the
    # synthesis' own beyond the reach, and the inside (covered by the window) is untouched.
    assert abs(fast[20, 23, 0] - 150.5) < 2.0 and abs(fast[9, 36, 0] - 150.5) < 2.0
    assert fast[20, 18, 0] < fast[20, 23, 0] and abs(fast[20, 5, 0] - 100.0) < 1e-4
    np.testing.assert_array_equal(fast[inside], out[inside])
    np.testing.assert_array_equal(meet_frame(P, out, np.zeros((h, w), bool), 12.0), out)
    # Only where the frame's edge is sky: the land's edge (a trunk, a photograph's border) is
    # not carried out.
    sky = np.zeros((h, w), np.float32)
    sky[:20] = 1.0
    fast = meet_frame(P, out, inside, 12.0, sky=sky)
    np.testing.assert_allclose(fast, meet_frame_reference(P, out, inside, 12.0, sky=sky), atol=0.5)
    assert abs(fast[9, 36, 0] - 150.5) < 2.0 and abs(fast[29, 23, 0] - 100.0) < 0.5  # 3 sigma from the sky


def test_quilt_tile_keeps_to_valid_blocks():
    ex = _unique_colour_exemplar(40, 60)
    valid = np.zeros((40, 60), bool)
    valid[:, :30] = True
    tile = quilt_tile(ex, 3, 3, 10, 3, seed=1, valid=valid)
    assert tile[..., 1].max() < 30 * 3.0  # no texel from the invalid right half


def test_quilt_strip_joins_both_edges():
    ex = _unique_colour_exemplar(20, 60)
    left, right = ex[:, -4:], ex[:, :4]
    out = quilt_strip(ex, None, 100, left, right, 16, 4, seed=0)
    assert out.shape == (20, 100, 3)
    cost = np.zeros(60)
    cost[:30] = 1e6  # forbid the left half
    out2 = quilt_strip(ex, cost, 100, left, right, 16, 4, seed=0)
    inner = out2[:, 4:-4, 1]
    assert (inner >= 30 * 3.0 - 16 * 3.0).mean() > 0.9


def test_quilt_strip_keeps_its_end_strips_joined_along_the_seam():
    # keep_ends: the end strips come with the blocks (the panorama lays them just outside the
    # frame, so the join with the painting is the blocks' seam cut, not a straight column).
    ex = _unique_colour_exemplar(20, 60)
    left, right = ex[:, -4:], ex[:, :4]
    kept = quilt_strip(ex, None, 300, left, right, 16, 4, seed=0, keep_ends=True)
    plain = quilt_strip(ex, None, 300, left, right, 16, 4, seed=0)
    assert kept.shape == plain.shape == (20, 300, 3)
    def alike(a, b):  # share of texels of a equal to b's (the cut takes the blocks' side in places)
        return float((np.abs(a - b).max(axis=-1) < 1.5).mean())
    assert alike(kept[:, 0], left[:, 0]) > 0.6 and alike(kept[:, -1], right[:, -1]) > 0.6
    assert alike(plain[:, 0], left[:, 0]) < 0.3


def test_fit_block():
    assert fit_block((100, 100), 32, 8) == (32, 8)
    b, o = fit_block((10, 40), 32, 8)
    assert b <= 10 and 2 <= o < b


def _fitting_block_slow(valid, block, min_share=0.9, min_pool=64, least=8):
    """fitting_block by counting every window's valid texels."""
    b = block
    while b > least:
        if b <= min(valid.shape):
            n = sum(valid[y:y + b, x:x + b].sum() >= min_share * b * b
                    for y in range(valid.shape[0] - b + 1) for x in range(valid.shape[1] - b + 1))
            if n >= min_pool:
                return b
        b = max(least, int(b * 0.8))
    return least


def test_fitting_block_shrinks_to_the_strips_between_objects():
    valid = np.zeros((60, 200), bool)
    valid[40:58] = True  # an 18-texel strip of ground
    assert fitting_block(valid, 40) == _fitting_block_slow(valid, 40) == 20  # 40, 32, 25, 20: 18 of 20 rows
    assert fitting_block(np.ones((60, 200), bool), 40) == 40  # room enough: unchanged
    assert fitting_block(np.zeros((60, 200), bool), 40) == 8  # nothing fits: the least
    rng = np.random.default_rng(2)
    m = rng.random((40, 50)) > 0.15
    for b in (30, 20, 12):
        assert fitting_block(m, b, min_pool=5) == _fitting_block_slow(m, b, min_pool=5)
    with pytest.raises(InputError, match="mask"):
        fitting_block(np.ones((4, 4, 3), bool), 8)


def test_row_runs_match_reference():
    rng = np.random.default_rng(4)
    m = rng.random((11, 17)) > 0.4
    assert [tuple(map(int, r)) for r in zip(*row_runs(m))] == row_runs_slow(m)


def test_pano_sphere_and_window():
    cam = camera_for_image(300, 200)
    pos, faces, uv = pano_sphere(cam, 100.0)
    p = pos[faces].astype(np.float64)
    area = np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
    assert area.min() > 1e-6 and (uv >= 0).all() and (uv <= 1).all()
    np.testing.assert_allclose(np.linalg.norm(pos - np.asarray(cam.position), axis=1), 100.0, rtol=1e-5)
    pos, faces, uv = window_quad(cam, 50.0)
    u, v, z = cam.project(pos)
    np.testing.assert_allclose(u, uv[:, 0] * 300, atol=1e-3)
    np.testing.assert_allclose(v, uv[:, 1] * 200, atol=1e-3)
    theta, phi = pano_angles(64, 32)
    px, py, inside = painting_coords(theta, phi, cam)
    assert inside[16, 32] and not inside[16, 0] and abs(px[16, 32] - 150) < 20  # 2.8 degrees right


def test_squeeze_hidden_rows_keeps_what_each_vertex_row_samples():
    pos, faces, uv = pano_sphere(camera_for_image(300, 200), 100.0, n_lat=32)
    rows = np.repeat(np.arange(256, dtype=np.float32)[:, None], 8, axis=1)
    pano = np.dstack([rows] * 3).astype(np.uint8)  # (256, 8, 3): each row holds its index
    out, uv2 = squeeze_hidden_rows(pano, uv, 32)
    assert out.shape == (136 + 120 // 4, 8, 3)  # vertex row 17 (-5.6 degrees) is texel row 136
    v_old, v_new = uv[:, 1] * 256, uv2[:, 1] * out.shape[0]
    above = v_old <= 136
    np.testing.assert_allclose(v_new[above], v_old[above], atol=1e-3)
    np.testing.assert_allclose(v_new[~above], 136 + (v_old[~above] - 136) / 4, atol=1e-3)
    np.testing.assert_array_equal(out[:136], pano[:136])
    np.testing.assert_allclose(out[136:, 0, 0], np.arange(136, 256).reshape(-1, 4).mean(1), atol=0.6)
    np.testing.assert_array_equal(uv2[:, 0], uv[:, 0])


def test_walk_zone_stops_at_objects():
    # A post 1.5 m ahead, a wall 1.2 m to the right; nothing else.
    post = [[x, y, -1.5] for x in np.linspace(-0.15, 0.15, 4) for y in np.linspace(0.1, 2.5, 12)]
    wall = [[1.2, y, z] for y in np.linspace(0.1, 2.5, 8) for z in np.linspace(-3, 3, 40)]
    pts = np.asarray(post + wall, np.float64)
    walk, obstacle, half = walk_zone(pts, 0.0, (0.0, 1.6, 0.0), 2.5)
    n = walk.shape[0]
    c = (np.arange(n) + 0.5) * 0.1 - half

    def at(x, z):
        return bool(walk[np.argmin(np.abs(c - z)), np.argmin(np.abs(c - x))])
    assert at(0, 0) and at(0, 2.0) and at(-2.0, 0) and at(0, -1.0)  # behind, left, short of the post
    assert not at(0, -1.5) and not at(0, -1.8) and not at(1.2, 0) and not at(1.8, 0)  # the post, behind the wall
    nav, col = zone_meshes(walk, obstacle, half, 0.0, (0.0, 1.6, 0.0))
    assert nav.extras == {"paint2vr_role": "navmesh"} and col.extras == {"paint2vr_role": "collider"}
    area = nav.mesh.positions[nav.mesh.faces].astype(np.float64)
    tri = 0.5 * np.abs(np.cross(area[:, 1] - area[:, 0], area[:, 2] - area[:, 0])[:, 1])
    assert tri.sum() == pytest.approx(walk.sum() * 0.01, rel=1e-4)
    assert np.ptp(col.mesh.positions[:, 1]) == pytest.approx(2.0)


@pytest.fixture(scope="module")
def world_scene():
    rgb, depth, sky = make_scene("landscape", 200, 132, seed=3)
    p = Painting.from_array(rgb)
    d = DepthMap(depth=depth, sky=sky, metric=True, model=ModelInfo("truth"))
    return p, lift(p, d), sky


def test_world_layers_and_walk_zone(world_scene):
    p, scene, _ = world_scene
    ground, window, left, right, world = scene.layers[-5:]
    assert ground.kind == "ground" and window.kind == "sky" and world.kind == "sky"
    assert (left.name, right.name) == ("band_left", "band_right") and left.kind == right.kind == "sky"
    # The far band's halves at twice the panorama's resolution, and their seam behind the
    # visitor joins as the panorama's does.
    lt, rt = left.node.mesh.texture.astype(np.float64), right.node.mesh.texture.astype(np.float64)
    assert lt.shape[1] == rt.shape[1] == world.node.mesh.texture.shape[1]
    assert np.abs(lt[:, 0] - rt[:, -1]).mean() < 3 * np.abs(np.diff(lt, axis=1)).mean() + 1.0
    names = [c.name for c in ground.node.children]
    assert names[0] == "paint2vr_navmesh"
    wz = scene.provenance["walk_zone"]
    assert wz["navmesh"] == "paint2vr_navmesh" and wz["radius_m"] == LiftOptions().walk_zone
    assert wz["start"] == list(scene.camera.position) and wz["walkable_m2"] > math.pi * 2.0 ** 2 * 0.6
    assert ground.node.mesh.extras["wrap"] == "repeat"
    pano = world.node.mesh.texture.astype(np.float64)
    h, w = pano.shape[:2]
    # No flat colour anywhere: every 45-degree sector above and below the horizon has a good
    # share of the painting's own detail at the panorama's scale.
    import cv2
    s = w / (2 * math.pi * scene.camera.focal)
    small = cv2.resize(p.rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA).astype(np.float64)
    sky = cv2.resize(world_scene[2].astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    d = np.abs(np.diff(small, axis=1)).mean(axis=2)
    both = sky[:, 1:] & sky[:, :-1]
    own_top = d[both].mean()  # the painted sky's own detail
    own_bottom = d[-small.shape[0] // 3:].mean()
    # Per radian on the sphere: a panorama row at elevation phi spans cos(phi) of the
    # horizon's angle, so its texel-to-texel steps are divided by that (the cap round the
    # zenith is laid at an even angular scale, and looks smoother per texel up there).
    phi = math.pi / 2 - (np.arange(h // 8, h // 2) + 0.5) * math.pi / h
    for k in range(8):
        sector = pano[h // 8:h // 2, k * w // 8:(k + 1) * w // 8]
        per_row = np.abs(np.diff(sector, axis=1)).mean(axis=(1, 2)) / np.cos(phi)
        assert per_row.mean() > 0.3 * own_top, k
    # Below the horizon the ground mesh is what the visitor sees: its tile has the painted
    # ground's detail.
    tile = ground.node.mesh.texture.astype(np.float64)
    assert np.abs(np.diff(tile, axis=1)).mean() > 0.3 * own_bottom
    # The panorama's two ends meet behind the visitor.
    seam = np.abs(pano[:, 0] - pano[:, -1]).mean()
    inner = np.abs(np.diff(pano, axis=1)).mean()
    assert seam < 4 * inner


def scene_navmesh(scene):
    ground = next(l for l in scene.layers if l.kind == "ground")
    return next(c.mesh for c in ground.node.children if c.extras.get("paint2vr_role") == "navmesh")


def test_world_in_the_glb(world_scene, tmp_path, gltf_validator):
    from paint2vr.export import save_scene
    _, scene, _ = world_scene
    glb = save_scene(scene, tmp_path / "world.glb")
    gltf_validator(glb)
    import pygltflib
    doc = pygltflib.GLTF2().load(str(glb))
    by = {n.name: n for n in doc.nodes}
    nav = by["paint2vr_navmesh"]  # the mesh is stored, not instanced: no client draws it
    assert nav.mesh is None and nav.extras == {"paint2vr_role": "navmesh", "paint2vr_mesh": nav.extras["paint2vr_mesh"]}
    assert doc.meshes[nav.extras["paint2vr_mesh"]].name == "paint2vr_navmesh"
    if "paint2vr_collider" in by:
        col = by["paint2vr_collider"]
        assert col.mesh is None and col.extras["paint2vr_role"] == "collider" and "paint2vr_mesh" in col.extras
    from paint2vr.preview import navmesh_triangles
    from paint2vr.preview.reader import read_scene
    assert len(navmesh_triangles(read_scene(glb))) == len(scene_navmesh(scene).faces)  # the reader finds it
    record = doc.asset.extras["paint2vr"]
    assert record["walk_zone"]["navmesh"] == "paint2vr_navmesh"
    assert json.loads(json.dumps(record["walk_zone"]))["radius_m"] >= 2.0
    assert any(s.wrapS == pygltflib.REPEAT for s in doc.samplers)


def test_reuse_costs_match_reference():
    rng = np.random.default_rng(7)
    starts = np.arange(0, 40)
    shift = rng.integers(-300, 300, 40).astype(float)
    uses = np.stack([rng.integers(0, 40, 6), rng.integers(-300, 300, 6), np.full(6, 12)], 1).astype(float)
    fast = reuse_costs(starts, shift, uses, 12, 50.0, 600.0)
    np.testing.assert_allclose(fast, reuse_costs_slow(starts, shift, uses, 12, 50.0, 600.0), atol=1e-9)
    # Exact values: a full copy 10 columns away counts 1, 75 away (between 1 and 2 spacings) half,
    # the same placement (a run continued) and 100 away nothing.
    one = np.array([[0.0, 0.0, 12.0]])
    got = reuse_costs(np.zeros(4, int), np.array([10.0, 75.0, 0.0, 100.0]), one, 12, 50.0, 600.0)
    np.testing.assert_allclose(got, [1.0, 0.5, 0.0, 0.0])
    assert reuse_costs(starts, shift, np.zeros((0, 3)), 12, 50.0, 600.0).sum() == 0
    # With a floor, a copy anywhere round the circle costs at least that share.
    np.testing.assert_allclose(reuse_costs(np.zeros(4, int), np.array([10.0, 75.0, 0.0, 100.0]), one, 12, 50.0, 600.0, 0.5),
                               [1.0, 0.75, 0.0, 0.5])
    np.testing.assert_allclose(reuse_costs(starts, shift, uses, 12, 50.0, 600.0, 0.3),
                               reuse_costs_slow(starts, shift, uses, 12, 50.0, 600.0, 0.3), atol=1e-9)


def _stamp_source(h=24, w=120):
    """A plain, slightly grainy strip with one distinctive 'house' (bright block) in it."""
    rng = np.random.default_rng(0)
    src = 100.0 + rng.normal(0, 3, (h, w, 3))
    src[6:20, 50:62] = [250.0, 40.0, 40.0]
    return src.astype(np.float32)


def _house_copies(strip):
    red = (strip[..., 0] > 200) & (strip[..., 1] < 90)
    cols = np.flatnonzero(red.sum(axis=0) > 6)
    if not len(cols):
        return []
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    return [float(r.mean()) for r in runs]


def test_quilt_strip_spreads_a_distinctive_block():
    src = _stamp_source()
    w = src.shape[1]
    left, right = src[:, -4:], src[:, :4]
    width = 600
    period = width + w
    gap = period / 6
    def nearest(out):
        # Positions round the circle of the source's house (at 56 - w) and of each copy.
        xs = [56.0 - w] + _house_copies(out)
        d = [min(abs(a - b) % period, period - abs(a - b) % period) for i, a in enumerate(xs) for b in xs[i + 1:]]
        return min(d) if d else np.inf
    old = quilt_strip(src, None, width, left, right, 16, 4, seed=0, reuse_penalty=0.5, spacing=1e-3, reuse_floor=0.0)
    new = quilt_strip(src, None, width, left, right, 16, 4, seed=0)
    assert nearest(old) < gap  # the old penalty (used columns within a block only) repeats it nearby
    assert nearest(new) >= gap  # never within a sixth of the circle of another copy or the source
    np.testing.assert_array_equal(new, quilt_strip(src, None, width, left, right, 16, 4, seed=0))
    with pytest.raises(InputError):
        quilt_strip(src, None, 0, left, right, 16, 4)


def test_band_scales_shrink_the_land_towards_the_horizon():
    # A band 40 rows high, land (sky channel 0) from row 20 to the horizon at row 30, a tree
    # up to the top in columns 10-13; each copy's land then starts nearer the horizon.
    h, w = 40, 60
    src = np.zeros((h, w, 4), np.float32)
    src[:20, :, :3], src[:20, :, 3] = 200.0, SKY_CHANNEL
    src[:, 10:14, :3], src[:, 10:14, 3] = 50.0, 0.0
    sky_rows = np.full((h, 3), 190.0, np.float32)
    wide, cost = band_scales(src, np.zeros(w), 30.0, sky_rows, scales=(0.5,))
    assert wide.shape == (h, w + 1 + 30, 4) and cost.shape == (w + 1 + 30,)
    np.testing.assert_array_equal(wide[:, :w], src)
    assert cost[w] == SCALE_BAR  # between the copies: no block straddles it
    small, bar = wide[:, w + 1:], cost[w + 1:]
    assert bar[6] == SCALE_BAR and bar[20] == 0.0  # the tree's crown would be cut off at the top
    land = small[:, 20, 3] < SKY_CHANNEL / 2
    assert int(np.argmax(land)) == 25  # 20 -> 30 - 10 / 2
    assert np.allclose(small[:20, 20, :3], 190.0, atol=1.0)  # its sky is the dome's colour
    np.testing.assert_array_equal(wide, band_scales(src, np.zeros(w), 30.0, sky_rows, scales=(0.5,))[0])


def test_quilt_strip_draws_on_columns_past_its_own():
    # Columns past ``own`` are candidates only: a strip whose own half is barred takes the rest.
    ex = _unique_colour_exemplar(20, 60)
    left, right = ex[:, 26:30], ex[:, :4]
    cost = np.zeros(60)
    cost[:30] = 1e6
    out = quilt_strip(ex, cost, 100, left, right, 16, 4, seed=0, own=30)
    assert (out[:, 8:-8, 1] >= 30 * 3.0 - 16 * 3.0).mean() > 0.9
    with pytest.raises(InputError):
        quilt_strip(ex, cost, 100, left, right, 16, 4, own=8)


def test_distinctness():
    d = distinctness(_stamp_source(), 16)
    assert d.shape == (120 - 16 + 1,)
    assert d[50] > 5 * np.median(d) and d.mean() == pytest.approx(1.0)


def test_valid_starts_forbid_keeps_out_outliers():
    valid = np.ones((30, 30), bool)
    forbid = np.zeros((30, 30), bool)
    forbid[14, 14] = True  # a bird
    ys, xs = valid_starts(valid, (30, 30), 8, forbid=forbid, min_pool=4)
    assert len(ys) > 4
    assert not ((ys <= 14) & (ys + 8 > 14) & (xs <= 14) & (xs + 8 > 14)).any()
    ys2, _ = valid_starts(valid, (30, 30), 8)
    assert len(ys2) == 23 * 23


def test_dome_of_an_interior_with_a_patch_of_sky_is_sky_only():
    # A 'courtyard': walls of a distinctive red/white brick everywhere but a small blue patch
    # of sky at the top right (2 % of the top half): the dome is quilted from the sky alone.
    H, W = 240, 200
    rgb = np.zeros((H, W, 3), np.uint8)
    yy, xx = np.mgrid[0:H, 0:W]
    brick = ((yy // 6 + xx // 12) % 2).astype(bool)
    rgb[brick], rgb[~brick] = [200, 40, 30], [240, 240, 230]
    sky = np.zeros((H, W), bool)
    sky[:24, 150:] = True
    rng = np.random.default_rng(1)
    rgb[sky] = np.clip(np.array([90, 140, 220]) + rng.normal(0, 4, (sky.sum(), 3)), 0, 255).astype(np.uint8)
    cam = camera_for_image(W, H)
    rows, valid = _dome_rows(sky)
    assert valid is not None and not valid[~sky[:rows]].any()
    ex, valid, phis, prof = _dome_source(rgb, sky, cam, 0.5, 16)
    assert valid.any() and (np.abs(prof - [90, 140, 220]) < 12).all()  # the sky's colour, not the walls'
    # With no sky at all the top quarter is used (an interior: nothing better overhead).
    assert _dome_rows(np.zeros((H, W), bool)) == (H // 4, None)
    with pytest.raises(InputError):
        distinctness(np.zeros((4, 3, 3), np.float32), 8)


def test_match_edge_light_carries_the_painting_light_out():
    h, w = 64, 256
    inside = np.zeros((h, w), bool)
    inside[16:48, 96:160] = True
    P = np.full((h, w, 3), 150.0, np.float32)
    S = np.full((h, w, 3), 100.0, np.float32)
    out = match_edge_light(P, S, inside, 64.0)
    assert out[32, 90, 0] > 125 and out[32, 60, 0] < out[32, 90, 0]  # beside the frame: near the painting's light
    assert abs(out[32, 5, 0] - 100) < 1e-3  # beyond the reach: untouched
    np.testing.assert_array_equal(match_edge_light(P, S, np.zeros((h, w), bool), 64.0), S)


def test_dome_deepens_towards_the_zenith_in_the_paintings_own_colours():
    # A sky pale at the horizon, deeper blue upwards, a band of dark branches across it: the
    # zenith turns further along the sky's own trend (to its deepest large-scale blue), not
    # to the branches' black; a sky without a trend stays at its top colour.
    H, W = 120, 160
    t = np.linspace(1.0, 0.0, H // 2)[:, None, None]  # 1 at the top
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:H // 2] = np.clip(np.array([200, 210, 220]) * (1 - t) + np.array([60, 100, 200]) * t, 0, 255)
    rgb[H // 2:] = [60, 90, 40]
    sky = np.zeros((H, W), bool)
    sky[:H // 2] = True
    rgb[20:22, :, :] = 10  # thin branches drawn over the sky, inside its mask
    cam = camera_for_image(W, H)
    ex, valid, phis, prof = _dome_source(rgb, sky, cam, 0.5, 16)
    z = zenith_colour(rgb, sky, phis, prof)
    assert z[2] >= prof[-1][2] - 1 and z[0] <= prof[-1][0] + 1 and z.min() > 40
    base = dome_profile(np.array([phis[0], phis[-1], math.pi / 2]), phis, prof, z)
    np.testing.assert_allclose(base[:2], [prof[0], prof[-1]], atol=1e-3)
    np.testing.assert_allclose(base[2], z, atol=1e-3)
    flat = np.full_like(rgb, 128)
    _, _, fphis, fprof = _dome_source(flat, sky, cam, 0.5, 16)
    np.testing.assert_allclose(zenith_colour(flat, sky, fphis, fprof), fprof[-1], atol=1e-3)


def test_tile_reuse_matches_reference_and_spreads_blocks():
    from paint2vr.lift.synth import tile_reuse, tile_reuse_slow
    rng = np.random.default_rng(2)
    ys, xs = rng.integers(0, 40, 30), rng.integers(0, 40, 30)
    taken = rng.integers(0, 40, (7, 2))
    np.testing.assert_array_equal(tile_reuse(ys, xs, taken, 10), tile_reuse_slow(ys, xs, taken, 10))
    # Within half a block both ways counts, farther does not.
    np.testing.assert_array_equal(tile_reuse(np.array([0, 4, 5, 20]), np.zeros(4, int), np.array([[0, 0], [2, 1]]), 10),
                                  [2, 2, 1, 0])
    ex = (100 + rng.normal(0, 3, (40, 40, 3))).astype(np.float32)
    np.testing.assert_array_equal(quilt_tile(ex, 3, 4, 10, 3, seed=5, reuse=2.0), quilt_tile(ex, 3, 4, 10, 3, seed=5, reuse=2.0))
