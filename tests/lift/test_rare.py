"""What an exemplar shows only once (paint2vr.lift.rare): kept out of quilted textures."""

import cv2
import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.lift.rare import (RING, cell_features, context_features, fill_rare, kth_lookalike, kth_lookalike_slow,
                                rare_texels)


def _field(seed: int = 0, shape=(96, 160)) -> np.ndarray:
    """A grass-like field: green with fine noise, no structure."""
    rng = np.random.default_rng(seed)
    base = np.array([70.0, 110.0, 50.0], np.float32)
    return (base + rng.normal(0, 6, shape + (3,))).astype(np.float32)


def test_cell_features_shapes_and_values():
    ex = np.zeros((10, 13, 3), np.float32)
    ex[:4, :4] = [10, 20, 30]
    f = cell_features(ex, 4)
    assert f.shape == (2, 3, 6)
    assert np.allclose(f[0, 0], [10, 20, 30, 0, 0, 0])
    assert np.allclose(f[1, 2], 0)
    c = context_features(f)
    assert c.shape == (2, 3, 12)
    assert np.allclose(c[..., :6], f)
    assert np.allclose(c[0, 0, 6:], f[:, :2].mean(axis=(0, 1)))  # inside the grid only
    only = np.zeros((2, 3), bool)
    only[0, 0] = True
    assert np.allclose(context_features(f, only)[1, 1, 6:], f[0, 0])  # weighted cells only


def test_kth_lookalike_matches_the_loop():
    rng = np.random.default_rng(3)
    iy, ix = np.divmod(np.arange(30), 6)
    feat = rng.normal(size=(30, 4))
    for k in (1, 2, 5):
        assert np.allclose(kth_lookalike(feat, iy, ix, k), kth_lookalike_slow(feat, iy, ix, k))


def test_a_lone_object_is_rare_and_the_field_is_not():
    ex = _field()
    ex[40:56, 70:86] = [200, 40, 40]  # one red cloak on the grass
    rare = rare_texels(ex)
    assert rare[44:52, 74:82].all()
    assert rare.mean() < 0.15
    assert not rare[:, :40].any()


def test_many_alike_objects_are_the_material():
    """A cloudy sky's clouds, a field's many flowers: common, so not rare."""
    ex = _field(1)
    rng = np.random.default_rng(7)
    for y in range(2, 90, 16):  # flowers on a jittered grid, none touching another
        for x in range(2, 150, 16):
            dy, dx = rng.integers(0, 6, 2)
            ex[y + dy:y + dy + 6, x + dx:x + dx + 6] = [230, 230, 240]
    assert rare_texels(ex).mean() < 0.2  # a cell here and there where flowers fall oddly
    bright = lambda a: int((a[..., 0] > 150).sum())
    assert bright(fill_rare(ex)) > 0.7 * bright(ex)  # the field keeps its flowers


def test_only_valid_cells_count():
    ex = _field(2)
    ex[:, :48] = [250, 250, 250]  # sky, not part of the ground
    valid = np.ones(ex.shape[:2], bool)
    valid[:, :48] = False
    assert not rare_texels(ex, valid)[:, 56:].any()


def test_fill_rare_replaces_the_object_with_the_field():
    ex = _field(4)
    ex[40:56, 70:86] = [200, 40, 40]
    out = fill_rare(ex)
    assert out.shape == ex.shape and out.dtype == ex.dtype
    assert np.abs(out[44:52, 74:82] - [70, 110, 50]).max() < 40  # field colours, not the cloak
    # Only the rare texels and their feathered edge (within RING) change.
    near = cv2.dilate(rare_texels(ex).astype(np.uint8), np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)) > 0
    assert np.array_equal(out[~near], ex[~near])


def test_fill_rare_without_anything_rare_is_the_identity():
    ex = _field(5)
    assert np.array_equal(fill_rare(ex), ex)


def test_bad_input():
    with pytest.raises(InputError, match="exemplar"):
        rare_texels(np.zeros((8, 8), np.float32))
    with pytest.raises(InputError, match="valid mask"):
        rare_texels(np.zeros((8, 8, 3), np.float32), np.ones((4, 4), bool))


def test_tiny_exemplar_has_nothing_rare():
    assert not rare_texels(np.zeros((6, 6, 3), np.float32)).any()
