"""The near ground's material (paint2vr.lift.material): what the ground tile is quilted from."""

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.lift.material import MIN_NEAR, near_material
from paint2vr.lift.rare import kth_lookalike, kth_lookalike_slow

GRASS, CLOAK, CROWD = (70.0, 110.0, 50.0), (200.0, 40.0, 40.0), (150.0, 90.0, 160.0)


def _ground(shape=(96, 192), seed=0) -> np.ndarray:
    """Grass with fine grain over the exemplar; the bottom rows are the nearest ground."""
    rng = np.random.default_rng(seed)
    return (np.asarray(GRASS, np.float32) + rng.normal(0, 6, shape + (3,))).astype(np.float32)


def _crowd(ex: np.ndarray, rows: slice, seed: int = 1) -> None:
    """A crowd across the width in ``rows``: blotches of several colours, as common there as grass below."""
    rng = np.random.default_rng(seed)
    band = ex[rows]
    for y in range(0, band.shape[0], 6):
        for x in range(0, band.shape[1], 6):
            band[y:y + 6, x:x + 6] = np.asarray(CROWD) + rng.normal(0, 40, 3)


def test_smoke_shapes_and_dtype():
    ex = _ground()
    m = near_material(ex, np.ones(ex.shape[:2], bool))
    assert m.shape == ex.shape[:2] and m.dtype == bool
    assert m.mean() > 0.95  # all of it is the near ground's grass


def test_a_crowd_beyond_the_near_ground_is_not_its_material():
    """The crowd fills the rows above the near ground and is common there (rare.fill_rare keeps
    it): it is not what the visitor stands on."""
    ex = _ground()
    _crowd(ex, slice(0, 60))
    m = near_material(ex, np.ones(ex.shape[:2], bool))
    assert m[72:].mean() > 0.95
    assert m[:54].mean() < 0.05


def test_a_figure_in_the_near_rows_is_not_the_material():
    ex = _ground()
    ex[80:96, 90:114] = CLOAK  # a kneeling figure's robe on the bottom rows
    m = near_material(ex, np.ones(ex.shape[:2], bool))
    assert not m[84:92, 96:108].any()
    assert m[:, :60].mean() > 0.95


def test_grass_beyond_a_crowd_is_kept_and_invalid_texels_stay_out():
    ex = _ground()
    _crowd(ex, slice(30, 60))
    valid = np.ones(ex.shape[:2], bool)
    valid[:, :12] = False
    m = near_material(ex, valid)
    assert not m[:, :12].any()  # never more than valid
    assert m[:24, 24:].mean() > 0.9  # the far grass is the same material
    assert m[36:54].mean() < 0.05


def test_partial_cells_follow_their_neighbours():
    ex = _ground(shape=(100, 197))  # 6-texel cells leave 4 rows and 5 columns over
    _crowd(ex, slice(0, 48))
    m = near_material(ex, np.ones(ex.shape[:2], bool))
    assert m[96:, :].mean() > 0.95 and m[60:, 192:].mean() > 0.95
    assert m[:42, 192:].mean() < 0.1


def test_too_few_cells_keep_valid():
    ex = _ground(shape=(12, 12))
    valid = np.ones((12, 12), bool)
    valid[0] = False
    assert (near_material(ex, valid) == valid).all()
    big = _ground()
    few = np.zeros(big.shape[:2], bool)
    few[-6:, :6 * MIN_NEAR] = True  # MIN_NEAR cells: all of them are the near sample
    assert (near_material(big, few) == few).all()


def test_bad_input():
    ex = _ground()
    with pytest.raises(InputError, match="exemplar"):
        near_material(ex[..., 0], np.ones(ex.shape[:2], bool))
    with pytest.raises(InputError, match="valid mask"):
        near_material(ex, np.ones((4, 4), bool))
    with pytest.raises(InputError, match="share"):
        near_material(ex, np.ones(ex.shape[:2], bool), share=0.0)


def test_kth_lookalike_against_a_reference_set_matches_the_loop():
    rng = np.random.default_rng(5)
    iy, ix = np.divmod(np.arange(42), 7)
    feat = rng.normal(size=(42, 3))
    ref = np.array([40, 41, 35, 36, 37, 38, 30, 3])
    for k, reach in ((1, 1), (3, 1), (4, 2)):
        fast = kth_lookalike(feat, iy, ix, k, reach, ref=ref)
        slow = kth_lookalike_slow(feat, iy, ix, k, reach, ref=ref)
        assert np.allclose(fast, slow)
    # With every cell as the reference, it is the plain look-alike distance.
    assert np.allclose(kth_lookalike(feat, iy, ix, 2, ref=np.arange(42)), kth_lookalike(feat, iy, ix, 2))
