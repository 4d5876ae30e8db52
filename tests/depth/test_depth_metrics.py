import numpy as np
import pytest

from paint2vr.depth.metrics import abs_rel, delta1, ordinal_relation, sample_pairs, whdr
from paint2vr.errors import InputError


def test_absrel_median_aligned_exact():
    gt = np.array([1.0, 2.0, 4.0])
    assert abs_rel(gt * 7, gt) == 0.0
    # pred median 2 == gt median 2: errors 1/1, 0, 2/4 -> mean 0.5
    assert abs_rel(np.array([2.0, 2.0, 2.0]), gt) == pytest.approx(0.5)


def test_delta1_exact():
    gt = np.array([1.0, 1.0, 1.0, 1.0])
    pred = np.array([1.0, 1.0, 1.2, 2.0])  # median 1.1 -> aligned /1.1
    assert delta1(pred, gt) == pytest.approx(0.75)
    assert delta1(gt, gt, mask=np.array([True, False, True, True])) == 1.0


def test_whdr_exact():
    gt = np.array([1.0, 2.0, 2.0, 4.0])
    pairs = np.array([[0, 1], [1, 2], [2, 3], [0, 3]])
    assert whdr(gt, gt, pairs) == 0.0
    pred = np.array([1.0, 1.0, 2.0, 4.0])  # pair (0,1) now equal, (1,2) now nearer
    assert whdr(pred, gt, pairs) == pytest.approx(0.5)
    assert list(ordinal_relation(np.array([1.0, 1.0, 2.0]), np.array([2.0, 1.01, 1.0]), 0.03)) == [-1, 0, 1]


def test_bad_inputs():
    with pytest.raises(InputError):
        abs_rel(np.ones(3), np.ones(4))
    with pytest.raises(InputError):
        abs_rel(np.ones(3), np.zeros(3))
    with pytest.raises(InputError):
        whdr(np.ones(3), np.ones(3), np.zeros((0, 2), int))
    p = sample_pairs(100, 50, seed=1)
    assert (p[:, 0] != p[:, 1]).all() and np.array_equal(p, sample_pairs(100, 50, seed=1))
