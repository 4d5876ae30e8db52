"""The real-paintings depth benchmark: the pair metric on constructed maps, the script on one painting."""

import json
import math

import numpy as np
import pytest

from p2v_testing import PAINTINGS
from paint2vr.depth.metrics import pair_wrong, point_depth
from paint2vr.errors import InputError


def test_point_depth_is_a_window_median():
    d = np.arange(100, dtype=np.float64).reshape(10, 10)
    assert point_depth(d, 0.55, 0.55) == 55.0                       # 1-pixel radius window
    d[5, 5] = 1e6                                                    # one outlier does not move the median
    assert point_depth(d, 0.55, 0.55) == 56.0                       # median of 44..66 less 55
    big = np.zeros((1000, 2000))
    big[:, 1000:] = 1.0
    assert point_depth(big, 0.499, 0.5) == 0.0 and point_depth(big, 0.502, 0.5) == 1.0
    with pytest.raises(InputError):
        point_depth(d, 1.5, 0.5)


def test_pair_wrong_counts_ties_and_inversions():
    d = np.repeat(np.arange(20, 0, -1, dtype=np.float64)[:, None], 20, axis=1)  # lower rows nearer
    pairs = [[0.5, 0.9, 0.5, 0.1],    # near low, far high: right
             [0.5, 0.1, 0.5, 0.9],    # inverted: wrong
             [0.2, 0.5, 0.8, 0.5]]    # same row: tie, wrong
    assert pair_wrong(d, pairs).tolist() == [False, True, True]
    assert pair_wrong(d, []).shape == (0,)


@pytest.mark.skipif(not (PAINTINGS / "dev_pairs.json").is_file(), reason="no ../shared/paintings/dev_pairs.json")
def test_bench_script_on_one_painting(tmp_path, capsys):
    from bench import depth_real
    out = tmp_path / "r.json"
    depth_real.main(["--only", "turner", "--out", str(out), "--markdown"])
    res = json.loads(out.read_text())
    assert res["paintings"] == ["turner_fighting_temeraire.jpg"]
    low = res["results"]["lower-is-nearer"]
    assert low["against_wrong"] == 1.0 and low["ordinary_wrong"] == 0.0   # as the set is built
    assert res["results"]["constant"]["whdr"] == 1.0
    assert 0.0 <= res["results"]["prior"]["whdr"] <= 1.0
    assert 0.0 <= res["results"]["prior"]["per_painting"]["turner_fighting_temeraire.jpg"]["confidence"] <= 1.0
    assert res["results"]["constant"]["per_painting"]["turner_fighting_temeraire.jpg"]["confidence"] is None
    assert "turner_fighting_temeraire" in capsys.readouterr().out


def test_contact_sheet_row_on_a_synthetic_scene():
    from bench.depth_sheet import row
    from paint2vr.depth.prior import PriorEstimator
    from paint2vr.samples import make_scene
    rgb = make_scene("landscape", 160, 100, seed=0)[0]
    d = PriorEstimator().estimate_one(rgb)
    img = row(rgb, d.depth, d.sky, [[0.5, 0.9, 0.5, 0.5]], 50)
    assert img.shape == (50, 3 * 80 + 8, 3) and img.dtype == np.uint8
    assert (img[:, :80] != img[:, 84:164]).any()                    # the depth panel is not the painting


def test_spearman_ranks_with_ties():
    from bench.depth_real import spearman
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)   # scipy.stats.spearmanr
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))
