"""Lazy DepthMaps: the generic mechanism (DepthMap.lazy) and the transformers fast path's
maps (model-resolution crop + fit; full resolution made on first read)."""

import dataclasses
import pickle

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.errors import InputError

INFO = ModelInfo("t")


class Maker:
    """A picklable maker that counts its calls (per instance)."""

    def __init__(self, shape=(6, 8), value=3.0):
        self.shape, self.value, self.calls = shape, value, []

    def __call__(self, name):
        self.calls.append(name)
        if name in ("depth", "sky"):
            sky = np.zeros(self.shape, bool)
            sky[0] = True
            return {"depth": np.full(self.shape, self.value, np.float32), "sky": sky}
        return {"edges": np.full((3, 4), 0.5, np.float32), "confidence": np.full((3, 4), 0.75, np.float32)}


def _lazy(maker=None, names=("depth", "sky", "confidence", "edges"), **kw):
    maker = maker or Maker()
    return DepthMap.lazy(maker.shape, maker, names, metric=False, model=INFO, **kw), maker


def test_lazy_map_makes_on_first_read_and_caches():
    m, mk = _lazy()
    assert m.is_lazy and m.shape == (6, 8) and mk.calls == []      # shape does not make anything
    assert m.metric is False and m.model is INFO and m.extras == {}
    d = m.depth
    assert mk.calls == ["depth"] and d.shape == (6, 8) and d.dtype == np.float32
    assert m.sky[0].all() and mk.calls == ["depth"]                  # made with depth
    assert m.depth is d and m.is_lazy                                # cached; edges still to come
    assert m.edges.shape == (3, 4) and m.confidence[0, 0] == 0.75 and mk.calls == ["depth", "edges"]
    assert not m.is_lazy and "_lazy_make" not in vars(m)             # maker (and its data) dropped
    assert m.shape == (6, 8) and "DepthMap(8x6" in repr(m)


def test_lazy_only_some_fields_and_class_defaults():
    mk = Maker()
    e = np.zeros((2, 2), np.float32)
    m = DepthMap.lazy((6, 8), mk, metric=True, model=INFO, edges=e, extras={"k": 1})
    assert m.edges is e and m.confidence is None and mk.calls == []
    assert m.sky.shape == (6, 8) and not m.is_lazy
    assert DepthMap.confidence is None and DepthMap.edges is None    # class attributes as before
    assert [f.name for f in dataclasses.fields(DepthMap)] == ["depth", "sky", "metric", "model", "confidence",
                                                              "edges", "extras"]


def test_replace_on_lazy_map_gives_eager_map_with_same_values():
    m, mk = _lazy()
    r = dataclasses.replace(m, extras={"x": 1})
    assert not r.is_lazy and type(r) is DepthMap
    np.testing.assert_array_equal(r.depth, np.full((6, 8), 3.0, np.float32))
    assert r.sky[0].all() and r.edges.shape == (3, 4) and r.extras == {"x": 1}
    # the replaced map went through the usual checks
    with pytest.raises(InputError, match="finite"):
        dataclasses.replace(m, depth=np.full((6, 8), np.nan, np.float32))


def test_eager_maps_unchanged():
    d = np.full((4, 5), 2.0, np.float32)
    m = DepthMap(d, np.zeros((4, 5), bool), True, INFO)
    assert not m.is_lazy and m.depth is d and m.shape == (4, 5) and m.edges is None
    with pytest.raises(InputError, match="finite"):
        DepthMap(np.zeros((4, 5), np.float32), np.zeros((4, 5), bool), True, INFO)
    with pytest.raises(InputError, match="sky"):
        DepthMap(d, np.zeros((4, 6), bool), True, INFO)
    with pytest.raises(InputError, match="sky"):
        DepthMap(d, None, True, INFO)
    with pytest.raises(InputError, match="float32"):
        DepthMap(d.astype(np.float64), np.zeros((4, 5), bool), True, INFO)
    r = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(r.depth, d)


def test_lazy_bad_input_and_bad_makers():
    with pytest.raises(InputError, match="names"):
        DepthMap.lazy((2, 2), Maker(), ("depth", "colour"), metric=True, model=INFO)
    with pytest.raises(InputError, match="names"):
        DepthMap.lazy((2, 2), None, metric=True, model=INFO)
    with pytest.raises(InputError, match="shape"):
        DepthMap.lazy((0, 2), Maker(), metric=True, model=INFO)
    m, _ = _lazy(Maker(shape=(6, 8)))
    vars(m)["_lazy_shape"] = (6, 9)                  # maker makes another size than promised
    with pytest.raises(InputError, match="shape"):
        m.depth
    bad = Maker(value=-1.0)
    m, _ = _lazy(bad)
    with pytest.raises(InputError, match="finite"):   # values checked when made by default
        m.depth
    m, _ = _lazy(Maker(value=-1.0), check_values=False)
    assert m.depth[0, 0] == -1.0                       # the maker vouched for its values: no scan
    with pytest.raises(AttributeError):
        DepthMap.depth


def test_pickle_stays_lazy_and_small_with_picklable_maker():
    m, mk = _lazy(Maker(shape=(400, 600)))
    blob = pickle.dumps(m)
    assert len(blob) < 10_000 and m.is_lazy           # the maker travels, not 400x600 arrays
    r = pickle.loads(blob)
    assert r.is_lazy and r.shape == (400, 600)
    np.testing.assert_array_equal(r.depth, m.depth)
    assert pickle.loads(pickle.dumps(r)).depth.shape == (400, 600)  # made maps pickle as arrays


def test_pickle_with_unpicklable_maker_materialises():
    mk = Maker()
    m = DepthMap.lazy((6, 8), lambda name: mk(name), metric=False, model=INFO)
    r = pickle.loads(pickle.dumps(m))
    assert not m.is_lazy and not r.is_lazy
    np.testing.assert_array_equal(r.depth, m.depth)
    np.testing.assert_array_equal(r.sky, m.sky)


# -- the transformers fast path ----------------------------------------------------------

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from paint2vr.depth import get_estimator  # noqa: E402
from paint2vr.depth import fit as fitmod  # noqa: E402
from paint2vr.depth import transformers_backend as tb  # noqa: E402
from paint2vr.samples import make_scene  # noqa: E402


def _scenes():
    return [make_scene("landscape", 150, 100, 0)[0], make_scene("coast", 60, 130, 1)[0],
            make_scene("no_sky", 40, 40, 0)[0], make_scene("coast", 200, 120, 3)[0]]


@pytest.fixture(scope="module")
def est(tiny_model):
    return get_estimator(str(tiny_model), device="cpu", batch_size=2)


def test_fast_path_maps_are_lazy_and_equal_reference(est, monkeypatch):
    made = []
    real = fitmod._full_res_fast
    monkeypatch.setattr(fitmod, "_full_res_fast", lambda *a: made.append(1) or real(*a))
    monkeypatch.setattr(est, "_prepare_torch", lambda img, p: torch.from_numpy(est._prepare(img.numpy())[0]))
    ims = _scenes()
    fast = est.estimate(ims)
    assert all(m.is_lazy for m in fast) and [m.shape for m in fast] == [im.shape[:2] for im in ims]
    assert made == []                                   # estimate() and shape made nothing full-size
    ref = est.estimate_reference(ims)
    assert not any(r.is_lazy for r in ref)
    n_ref = len(made)
    assert all(a.edges.shape == b.edges.shape for a, b in zip(fast, ref))
    assert len(made) == n_ref and all(a.is_lazy for a in fast)   # edges: model resolution only
    for a, b in zip(fast, ref):
        assert a.depth.dtype == np.float32 and a.sky.dtype == bool and a.depth.shape == b.depth.shape
        assert (a.sky != b.sky).mean() < 1e-3
        agree = a.sky == b.sky
        np.testing.assert_allclose(a.depth[agree], b.depth[agree], rtol=2e-4)
        np.testing.assert_allclose(a.confidence, 1 - 0.5 * a.edges, atol=1e-6)
        assert np.abs(a.edges - b.edges).max() < 2e-3
        assert a.extras == b.extras and a.metric == b.metric and a.model == b.model
    assert len(made) == n_ref + len(ims)                # made once per map, then cached


def test_lazy_maker_equals_apply_fit():
    """The float32 in-place maker against the float64 reference, for each kind of fit."""
    rng = np.random.default_rng(3)
    crop = (rng.random((30, 44)) * 4 + np.linspace(0, 6, 30)[:, None]).astype(np.float32)
    crop[:5] = 0.01
    rel = tb.fit_depth(tb.block_mean(crop, 2, 2), "relative", tb.RangeHint(1.5, 80.0, None), 200.0)
    met = tb.fit_depth(tb.block_mean(1 / (crop + 0.1), 2, 2), "metric", tb.RangeHint(1.5, 80.0, None), 200.0)
    flat = tb.fit_depth(np.ones((5, 5), np.float32), "relative", tb.RangeHint(1.5, 80.0, None), 200.0)
    assert rel.sky.any() and rel.const is None and flat.const is not None and not met.relative
    for src, fit in ((crop, rel), ((1 / (crop + 0.1)).astype(np.float32), met), (crop, flat)):
        for shape in ((123, 181), (30, 44), (17, 20)):
            before = src.copy()
            d, s, e = tb.apply_fit(src, shape, fit)
            got = tb.LazyMaps(src, shape, fit)
            dd, ee = got("depth"), got("edges")
            assert np.array_equal(src, before)                    # in place on copies only
            assert np.array_equal(dd["sky"], s) and dd["depth"].dtype == np.float32
            np.testing.assert_allclose(dd["depth"], d, rtol=1e-6)
            assert (dd["depth"][s] == np.float32(fit.sky_depth)).all()
            np.testing.assert_allclose(ee["edges"], e, atol=1e-5)
            np.testing.assert_array_equal(ee["confidence"], 1.0 - 0.5 * ee["edges"])
            assert ee["confidence"].dtype == np.float32 and ee["edges"].shape == src.shape
    assert tb._provably_valid(rel) and tb._provably_valid(flat) and not tb._provably_valid(met)
    assert not tb._provably_valid(dataclasses.replace(rel, a=float("nan")))
    assert not tb._provably_valid(dataclasses.replace(rel, a=1e35))                  # inf in float32
    assert not tb._provably_valid(dataclasses.replace(flat, relative=False))        # metric: scanned


def test_batched_equals_one_at_a_time_and_read_order(est):
    ims = _scenes()
    batched = est.estimate(ims)
    for k, (im, a) in enumerate(zip(ims, batched)):
        b = est.estimate([im])[0]
        if k % 2:                                       # reading edges first changes nothing
            assert b.edges is not None
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-4)
        assert np.array_equal(a.sky, b.sky)
        np.testing.assert_allclose(a.edges, b.edges, atol=1e-4)


def test_fast_path_pickles_lazily_and_small(est):
    im = np.ascontiguousarray(np.repeat(np.repeat(make_scene("landscape", 150, 100, 0)[0], 6, 0), 6, 1))
    m = est.estimate([im])[0]
    assert m.shape == (600, 900) and m.is_lazy
    blob = pickle.dumps(m)
    full = 600 * 900 * (4 + 1)                          # float32 depth + bool sky
    assert m.is_lazy and len(blob) < full / 20, (len(blob), full)
    r = pickle.loads(blob)
    assert r.is_lazy and r.shape == (600, 900)
    np.testing.assert_array_equal(r.depth, m.depth)
    np.testing.assert_array_equal(r.sky, m.sky)
    np.testing.assert_array_equal(r.edges, m.edges)


def test_consumers_work_on_lazy_maps(est, tmp_path):
    from paint2vr import edit
    from paint2vr.depth import write_depth
    from paint2vr.lift import lift
    from paint2vr.painting import Painting
    im = make_scene("landscape", 120, 80, 0)[0]
    m = est.estimate([im])[0]
    ref = est.estimate([im])[0]
    mask = np.zeros(m.shape, bool)
    mask[40:60, 30:70] = True
    painted = edit.paint_depth(m, mask, 4.0)
    assert not painted.is_lazy and (painted.depth[mask] == 4.0).all() and not painted.sky[mask].any()
    np.testing.assert_array_equal(painted.depth[~mask], ref.depth[~mask])
    skied = edit.mark_sky(est.estimate([im])[0], mask)
    assert skied.sky[mask].all() and skied.edges is not None
    lazy = est.estimate([im])[0]
    scene = lift(Painting.from_array(im), lazy)
    eager = lift(Painting.from_array(im), dataclasses.replace(ref))
    assert [l.kind for l in scene.layers] == [l.kind for l in eager.layers] and scene.layers[-1].kind == "sky"
    for a, b in zip(scene.layers, eager.layers):
        np.testing.assert_array_equal(a.node.mesh.positions, b.node.mesh.positions)
    p = write_depth(est.estimate([im])[0], tmp_path / "d.npy")
    saved = np.load(p)
    assert saved.shape == m.shape and np.isinf(saved[ref.sky]).all()


def test_batch_with_mixed_crop_shapes(est):
    """Two paintings that share a padded input (56x84) but not a crop (84 vs 78 columns):
    fit maps pooled per crop shape, each map equal to its own single run."""
    base = make_scene("landscape", 150, 100, 0)[0]
    ims = [base[:100, :150], np.ascontiguousarray(base[:100, :140])]
    plans = [est._plan(*im.shape[:2]) for im in ims]
    assert (plans[0].th, plans[0].tw) == (plans[1].th, plans[1].tw) and plans[0].nw != plans[1].nw
    assert len(est._batches(plans)) == 1
    for im, a in zip(ims, est.estimate(ims)):
        b = est.estimate([im])[0]
        assert a.shape == im.shape[:2]
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-4)
        assert np.array_equal(a.sky, b.sky)
