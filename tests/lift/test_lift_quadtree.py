"""Adaptive quadtree meshes: the vectorised plan against the recursive reference, crack
freedom (no T-junctions), triangle counts, coarse cells on planes and fine ones at jumps."""

import numpy as np
import pytest

from paint2vr.lift.quadtree import (count_triangles, leaves, make_lattice, planarity_errors,
                                    quadtree_mesh, quadtree_plan, quadtree_plan_reference)


def _case(seed, h=None, w=None, holes=True):
    rng = np.random.default_rng(seed)
    h = h or int(rng.integers(12, 50))
    w = w or int(rng.integers(12, 50))
    yy, xx = np.mgrid[0:h, 0:w]
    disp = 0.2 + 0.01 * yy + 0.003 * xx + 0.02 * np.sin(xx / rng.uniform(2, 9)) * (xx > w / 2)
    depth = (1 / disp).astype(np.float32)
    depth[(yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (h / 4) ** 2] *= 0.5  # a near disc: a jump
    cover = np.ones((h, w), bool)
    cover[:, : w // 5] = False
    if holes:
        cover[(yy + xx) % 17 == 0] = False
    return depth, cover, rng


@pytest.mark.parametrize("seed", range(8))
def test_fast_plan_matches_reference(seed):
    depth, cover, rng = _case(seed)
    base = int(rng.choice([1, 2, 3]))
    lat = make_lattice(depth, cover, base, 3)
    tol = float(rng.choice([0.001, 0.005, 0.02]))
    plan = quadtree_plan(lat, planarity_errors(lat), tol, 0.1)
    fast = {(lv, int(i), int(j)) for lv, ij in leaves(plan) for i, j in ij}
    assert fast == quadtree_plan_reference(lat, tol, 0.1)
    # The count bounds the mesh (flat cells past the image and jump-spanning faces are dropped).
    n = len(quadtree_mesh(depth, depth, lat, plan, 0.1)[3])
    assert 0.8 * count_triangles(lat, plan, 0.1) <= n <= count_triangles(lat, plan, 0.1)


@pytest.mark.parametrize("seed", range(4))
def test_no_t_junctions_and_no_jumps(seed):
    depth, cover, _ = _case(seed, 40, 44, holes=False)
    lat = make_lattice(depth, cover, 1, 3)
    plan = quadtree_plan(lat, planarity_errors(lat), 0.01, 0.1)
    assert any(len(ij) for lv, ij in leaves(plan) if lv >= 2)  # really adaptive
    rows, cols, z, faces = quadtree_mesh(depth, depth, lat, plan, 0.1)
    fz = z[faces]
    assert (fz.max(1) <= fz.min(1) * 1.1 + 1e-6).all()
    # A T-junction = a vertex lying strictly inside another triangle's edge (same depth copy).
    pts = np.stack([rows, cols, np.round(np.log(z), 5)], 1).astype(np.float64)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        p, q = pts[faces[:, a]], pts[faces[:, b]]
        for v in np.unique(faces):
            x = pts[v]
            if x[0] in (0, 39) or x[1] in (0, 43):  # the mesh's outer border has no neighbour
                continue
            d1, d2 = x[:2] - p[:, :2], q[:, :2] - p[:, :2]
            cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
            t = (d1 * d2).sum(1) / np.maximum((d2 * d2).sum(1), 1e-12)
            inside = (np.abs(cross) < 1e-9) & (t > 1e-9) & (t < 1 - 1e-9) & (np.abs(x[2] - p[:, 2]) < 0.05)
            assert not inside.any(), (v, x)


def test_plane_is_coarse_and_jump_is_fine():
    h, w = 65, 129
    yy, xx = np.mgrid[0:h, 0:w]
    depth = (1 / (0.1 + 0.0001 * yy + 0.00005 * xx)).astype(np.float32)  # a plane: affine disparity
    cover = np.ones((h, w), bool)
    lat = make_lattice(depth, cover, 1, 5)
    plan = quadtree_plan(lat, planarity_errors(lat), 1e-4, 0.1)
    lv = leaves(plan)
    assert sum(len(ij) for l, ij in lv if l < 5) == 0  # only 32-pixel cells
    assert len(quadtree_mesh(depth, depth, lat, plan, 0.1)[3]) == 2 * 4 * 2
    depth2 = depth.copy()
    depth2[:, 70:] *= 1.5
    lat2 = make_lattice(depth2, cover, 1, 5)
    plan2 = quadtree_plan(lat2, planarity_errors(lat2), 1e-4, 0.1)
    lv0 = dict(leaves(plan2))[0]
    assert 69 in set(lv0[:, 1]) and set(lv0[:, 1]) <= {68, 69}  # level 0 only at the jump (2x2 siblings)
    r, c, z, f = quadtree_mesh(depth2, depth2, lat2, plan2, 0.1)
    fz = z[f]
    assert (fz.max(1) <= fz.min(1) * 1.1 + 1e-6).all()


def test_silhouette_cells_are_fine():
    h, w = 65, 65
    depth = np.full((h, w), 10.0, np.float32)
    cover = np.zeros((h, w), bool)
    cover[10:40, 20:50] = True
    lat = make_lattice(depth, cover, 1, 4)
    plan = quadtree_plan(lat, planarity_errors(lat), 1.0, 0.1)
    lv = dict(leaves(plan))
    assert len(lv[0]) > 0
    # coverage boundary cells are level 0; only interiors are coarse
    part = np.argwhere(lat.partial)
    assert {tuple(x) for x in part} <= {tuple(x) for x in lv[0]}
    coarse = plan.split[0].sum() == 0 and sum(len(v) for k, v in lv.items() if k >= 2)
    assert coarse


@pytest.mark.parametrize("n_vertices,n_faces", [(1, 1), (10, 4), (500, 300), (50, 0)])
def test_compact_vertices_equals_unique(n_vertices, n_faces):
    from paint2vr.lift.mesh import compact_vertices

    faces = np.random.default_rng(n_faces).integers(0, n_vertices, (n_faces, 3))
    used, inv = compact_vertices(faces, n_vertices + 7)  # spare unused ids past the end
    want_used, want_inv = np.unique(faces.ravel(), return_inverse=True)
    np.testing.assert_array_equal(used, want_used)
    np.testing.assert_array_equal(inv, want_inv.reshape(-1, 3))
    assert inv.shape == faces.shape


@pytest.mark.parametrize("step", [1, 2, 3, 4, 6, 9])
@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (37, 29)])
def test_pool_closed_matches_reference(step, shape):
    from paint2vr.lift.quadtree import _pool_closed, _pool_closed_reference

    rng = np.random.default_rng(step * 100 + shape[0])
    mask = rng.random(shape) < 0.05
    ny, nx = -(-(shape[0] - 1) // step) + 1, -(-(shape[1] - 1) // step) + 2  # some cells past the image
    got = _pool_closed(mask, step, ny, nx)
    assert got.shape == (ny, nx) and got.dtype == bool
    np.testing.assert_array_equal(got, _pool_closed_reference(mask, step, ny, nx))


def test_planarity_errors_match_textbook_float64():
    from paint2vr.lift.quadtree import _halving_max

    rng = np.random.default_rng(11)
    z = (2.0 + rng.random((33, 65)) * 10).astype(np.float32)
    lat = make_lattice(z, np.ones_like(z, bool), 1, 5)
    d = 1.0 / lat.z.astype(np.float64)
    errs = planarity_errors(lat)
    assert len(errs) == lat.levels + 1 and not errs[0].any()
    for lv in range(1, lat.levels + 1):
        s = 1 << lv
        want = np.zeros(errs[lv].shape)
        for i in range(want.shape[0]):
            for j in range(want.shape[1]):
                c00, c01, c10, c11 = d[i * s, j * s], d[i * s, j * s + s], d[i * s + s, j * s], d[i * s + s, j * s + s]
                for y in range(s):
                    for x in range(s):
                        fy, fx = y / s, x / s
                        b = (1 - fy) * ((1 - fx) * c00 + fx * c01) + fy * ((1 - fx) * c10 + fx * c11)
                        want[i, j] = max(want[i, j], abs(d[i * s + y, j * s + x] - b))
        np.testing.assert_allclose(errs[lv], want, rtol=1e-4, atol=1e-6)
    x = rng.random((3, 8, 5, 8))
    np.testing.assert_array_equal(_halving_max(x), x.max(axis=(1, 3)))
