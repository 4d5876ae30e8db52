"""Per-layer texture rasters are built inside each layer's crop: the index maps that replace
a full-size nearest-neighbour resize must pick exactly the pixels cv2.resize picks."""

import cv2
import numpy as np
import pytest

from paint2vr.lift.raster import nearest_index


@pytest.mark.parametrize("src,dst", [(5, 5), (7, 3), (3, 7), (640, 1467), (1021, 2903), (421, 1600),
                                     (999, 1000), (1000, 999), (1, 9)])
def test_nearest_index_matches_cv2(src, dst):
    a = np.arange(src, dtype=np.float32)[None, :].repeat(2, 0)
    want = cv2.resize(a, (dst, 2), interpolation=cv2.INTER_NEAREST)[0].astype(np.int64)
    got = nearest_index(src, dst)
    assert got.shape == (dst,) and got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


def test_nearest_index_crop_equals_resized_crop():
    rng = np.random.default_rng(0)
    m = rng.random((37, 53)) > 0.5
    full = cv2.resize(m.astype(np.uint8), (131, 90), interpolation=cv2.INTER_NEAREST) > 0
    ny, nx = nearest_index(37, 90), nearest_index(53, 131)
    np.testing.assert_array_equal(m[ny[10:70, None], nx[None, 20:100]], full[10:70, 20:100])


@pytest.mark.parametrize("shape", [(40, 50), (67, 93), (64, 64), (34, 200)])
def test_coarsen_hidden_texels_matches_reference(shape):
    from paint2vr.texture import coarsen_hidden_texels, coarsen_hidden_texels_reference

    rng = np.random.default_rng(shape[0])
    tex = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    tex[..., 3] = np.where((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 3) ** 2 < 60, 255, 0)
    fast, ref = tex.copy(), tex.copy()
    coarsen_hidden_texels(fast)
    coarsen_hidden_texels_reference(ref)
    assert np.abs(fast.astype(int) - ref.astype(int)).max() <= 1
    changed = (fast != tex).any(axis=2)
    assert changed.any()  # far texels were coarsened ...
    assert not changed[tex[..., 3] > 0].any()  # ... never an opaque one


@pytest.mark.parametrize("margin", [0.0, 0.1])
def test_border_vertices_reach_the_raster_edge(margin):
    # Meshes end at the border pixels' centres unless moved out: the backdrop then showed in
    # a strip along the frame's edges of the start view.
    from paint2vr.lift.raster import frame_raster
    from paint2vr.lift.stage import _to_frame_edges

    g = frame_raster(200, 120, 0.25, margin)
    rows, cols = np.meshgrid(np.arange(g.h), np.arange(g.w), indexing="ij")
    u, v = _to_frame_edges(g, cols.ravel(), rows.ravel())
    u0, v0, u1, v1 = g.rect
    assert (u.min(), u.max(), v.min(), v.max()) == pytest.approx((u0, u1, v0, v1))
    cu, cv = g.to_painting(cols.ravel().astype(float), rows.ravel().astype(float))
    inner = (cols.ravel() > 0) & (cols.ravel() < g.w - 1) & (rows.ravel() > 0) & (rows.ravel() < g.h - 1)
    np.testing.assert_array_equal(u[inner], cu[inner])
    np.testing.assert_array_equal(v[inner], cv[inner])
    if margin == 0.0:
        assert (u0, v0, u1, v1) == pytest.approx((0.0, 0.0, 200.0, 120.0))
