"""Fast paths of the effects' scene space checked against their slow obvious references."""

from __future__ import annotations

import numpy as np

from paint2vr.effects import space


def test_max_filter3_matches_reference_with_holes():
    rng = np.random.default_rng(3)
    for shape in [(1, 1), (1, 5), (4, 1), (7, 9)]:
        a = rng.normal(size=shape)
        a[rng.random(shape) < 0.4] = -np.inf
        fast = space._max_filter3(a)
        np.testing.assert_array_equal(fast, space._max_filter3_reference(a))
        assert fast.dtype == a.dtype and fast.shape == shape
    a = np.zeros((3, 3))
    a[0, 0] = 5.0
    np.testing.assert_array_equal(space._max_filter3(a), [[5, 5, 0], [5, 5, 0], [0, 0, 0]])


def test_edge_extent_equals_norm_exactly():
    rng = np.random.default_rng(4)
    for d in (2, 3):
        tri = rng.normal(size=(200, 3, d)) * 10
        e = np.stack([tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 1], tri[:, 0] - tri[:, 2]], 1)
        np.testing.assert_array_equal(space._edge_extent(tri), np.linalg.norm(e, axis=-1).max(axis=1))
    np.testing.assert_array_equal(space._edge_extent(np.array([[[0, 0], [3, 4], [0, 1]]], float)), [5.0])


def test_min3_max3_match_axis_reductions():
    a = np.random.default_rng(5).normal(size=(50, 3))
    np.testing.assert_array_equal(space._min3(a), a.min(axis=1))
    np.testing.assert_array_equal(space._max3(a), a.max(axis=1))


def test_mark_covered_matches_sampling_every_triangle():
    rng = np.random.default_rng(9)
    n = 1500
    centre = np.stack([rng.uniform(-40, 680, (n, 1)), rng.uniform(200, 500, (n, 1))], -1)  # land below
    size = np.where(rng.random((n, 1, 1)) < 0.02, 40.0, 3.0)  # mostly small, some large
    uv = centre + rng.normal(size=(n, 3, 2)) * size
    z = rng.uniform(-1.0, 30.0, (n, 3))
    uv[5, 1, 0] = np.nan
    for cell in (10.0, 37.5):
        shape = (int(np.ceil(480 / cell)), int(np.ceil(640 / cell)))
        fast, ref = np.zeros(shape, bool), np.zeros(shape, bool)
        space._mark_covered(fast, uv[..., 0], uv[..., 1], z, cell)
        space._mark_covered_reference(ref, uv[..., 0], uv[..., 1], z, cell)
        assert fast.any() and not fast.all()
        np.testing.assert_array_equal(fast, ref)
