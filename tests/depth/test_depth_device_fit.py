"""The device (torch) fit of the transformers fast path against the numpy/cv2 reference
(fit_depth / derive_sky), on CPU: masks equal exactly, scalars within 1e-6 relative."""

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from paint2vr.depth import transformers_backend as tb  # noqa: E402
from paint2vr.errors import InputError  # noqa: E402


def _same(ref: tb.DepthFit, got: tb.DepthFit) -> None:
    assert got.sky.dtype == bool and got.sky.shape == ref.sky.shape
    assert np.array_equal(got.sky, ref.sky)
    assert got.relative == ref.relative and got.near == ref.near and got.far == ref.far
    assert (got.const is None) == (ref.const is None)
    if ref.const is not None:
        assert got.const == pytest.approx(ref.const, rel=1e-6)
    for x, y in ((got.a, ref.a), (got.b, ref.b), (got.sky_depth, ref.sky_depth)):
        assert x == pytest.approx(y, rel=1e-6, abs=1e-12)


def _maps(rng, n):
    """Random and structured fit maps: gradients with a far band at the top, noise, flat."""
    for t in range(n):
        h, w = (int(v) for v in rng.integers(2, 30, 2))
        x = rng.random((h, w)) * 3 + np.linspace(0, 5, h)[:, None]
        if t % 3 == 0:
            x[: rng.integers(1, h + 1)] = 0.01                  # far band (possibly everything)
        if t % 5 == 0:
            x = rng.random((h, w)) ** 4                          # noise: ragged candidates
        if t % 11 == 0:
            x[:] = 2.0                                           # flat
        yield t, x.astype(np.float32)


@pytest.mark.parametrize("kind", ["relative", "metric"])
@pytest.mark.parametrize("with_hint", [False, True])
def test_device_fit_equals_reference_on_many_maps(kind, with_hint):
    rng = np.random.default_rng(7 + with_hint)
    seen_const = seen_sky = seen_none = 0
    for t, x in _maps(rng, 120):
        src = x if kind == "relative" else (1.0 / (x + 0.05)).astype(np.float32)
        sky = (rng.random(tuple(rng.integers(2, 16, 2))) < 0.6) if with_hint else None
        hint = tb.RangeHint(float(rng.uniform(0.5, 3)), float(rng.uniform(4, 120)), sky)
        ref = tb.fit_depth(src, kind, hint, 200.0)
        _same(ref, tb.fit_depth_device([src], kind, [hint], 200.0)[0])
        seen_const += ref.const is not None
        seen_sky += bool(ref.sky.any())
        seen_none += not ref.sky.any()
    assert seen_sky > 10 and seen_none > 5 and (kind == "metric" or seen_const > 3)


def test_batched_device_fit_with_differing_hints_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    h, w = 17, 23
    maps = [(rng.random((h, w)) * 3 + np.linspace(0, 5, h)[:, None]).astype(np.float32) for _ in range(6)]
    maps[1][:5] = 0.01
    maps[2][:] = 1.0                                             # flat -> const, no sky
    maps[3][:9, :4] = 0.02                                       # small far corner
    hints = [tb.RangeHint(1.0 + k, 30.0 + 10 * k, (rng.random((8, 8)) < 0.5) if k % 2 else None)
             for k in range(6)]
    for kind in ("relative", "metric"):
        got = tb.fit_depth_device(maps, kind, hints, 150.0)
        for m, hnt, g in zip(maps, hints, got):
            _same(tb.fit_depth(m, kind, hnt, 150.0), g)
        if kind == "relative":
            assert got[1].sky[0].all() and not got[2].sky.any() and got[2].const is not None


def test_all_sky_no_sky_and_flat_cases():
    hint = tb.RangeHint(1.5, 80.0, None)
    flat = np.full((6, 9), 0.3, np.float32)                     # every pixel "far": sky.all() -> none
    no_sky = np.tile(np.linspace(5, 1, 9, dtype=np.float32), (6, 1))
    no_sky[0] = 9.0                                              # top row near: nothing reaches
    for m in (flat, no_sky):
        ref, got = tb.fit_depth(m, "relative", hint, 200.0), tb.fit_depth_device([m], "relative", [hint], 200.0)[0]
        _same(ref, got)
        assert not got.sky.any()
    got = tb.fit_depth_device([flat], "relative", [hint], 200.0)[0]
    assert got.const == pytest.approx((1.5 + 80.0) / 2) and got.a == 0 and got.b == 0


def _ref_top(cand: np.ndarray) -> np.ndarray:
    n, labels = cv2.connectedComponents(cand.astype(np.uint8), connectivity=4)
    top = np.unique(labels[0][cand[0]])
    return np.isin(labels, top[top > 0])


def _spiral(n: int) -> np.ndarray:
    """A 1-pixel corridor winding inwards from the top-left corner (many turns)."""
    m = np.zeros((n, n), bool)
    top, left, bottom, right = 0, 0, n - 1, n - 1
    while top <= bottom and left <= right:
        m[top, left:right + 1] = True
        m[top:bottom + 1, right] = True
        if top + 2 <= bottom:
            m[bottom, left:right + 1] = True
        if left + 2 <= right:
            m[top + 2:bottom + 1, left] = True
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
        if top <= bottom:
            m[top, left - 2] = m[top, left - 1] = True
    return m


def test_top_connected_equals_cv2_four_connectivity():
    rng = np.random.default_rng(5)
    cands = [rng.random((int(h), int(w))) < p for h, w, p in
             zip(rng.integers(1, 25, 40), rng.integers(1, 25, 40), rng.uniform(0.3, 0.8, 40))]
    diag = np.zeros((5, 5), bool)
    diag[0, 0] = diag[1, 1] = diag[2, 2] = True                 # diagonal only: 4-connectivity stops
    cands += [diag, _spiral(21), np.ones((4, 7), bool), np.zeros((4, 7), bool)]
    for c in cands:
        got, conv = tb.top_connected_torch(torch.from_numpy(c)[None], until_converged=True)
        assert bool(conv[0]) and np.array_equal(got[0].numpy(), _ref_top(c))
    got, _ = tb.top_connected_torch(torch.from_numpy(diag)[None], until_converged=True)
    assert got[0].numpy().sum() == 1
    # a fixed number of rounds reports a winding region as not converged (no sync needed)
    got, conv = tb.top_connected_torch(torch.from_numpy(_spiral(21))[None], sweeps=1)
    assert not bool(conv[0]) and got[0].numpy().sum() < _ref_top(_spiral(21)).sum()


def test_device_fit_bad_input():
    hint = tb.RangeHint(1.5, 80.0, None)
    with pytest.raises(InputError, match="one \\(h, w\\) shape"):
        tb.fit_depth_device([np.ones((4, 4)), np.ones((4, 5))], "relative", [hint, hint], 200.0)
    with pytest.raises(InputError):
        tb.fit_depth_device([np.ones((4, 4))], "relative", [], 200.0)
    with pytest.raises(InputError):
        tb.fit_depth_device([], "relative", [], 200.0)
    with pytest.raises(InputError):
        tb.fit_depth_device([np.ones(4)], "relative", [hint], 200.0)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 301])
def test_row_quantiles_equal_torch_bit_for_bit(n):
    import torch
    from paint2vr.depth.device_fit import row_quantiles

    g = torch.Generator().manual_seed(n)
    x = torch.rand((9, n), generator=g, dtype=torch.float64) * 10
    qs = (0.02, 0.5, 0.98, 0.0, 1.0)
    got = row_quantiles(x, qs)
    for q, v in zip(qs, got):
        assert torch.equal(v, torch.quantile(x, q, dim=1))
    xn = x.clone()
    xn[torch.rand((9, n), generator=g) < 0.4] = float("nan")
    xn[3] = float("nan")  # an all-NaN row
    for q, v in zip(qs, row_quantiles(xn, qs, ignore_nan=True)):
        assert torch.equal(v.isnan(), torch.nanquantile(xn, q, dim=1).isnan())
        ok = ~v.isnan()
        assert torch.equal(v[ok], torch.nanquantile(xn, q, dim=1)[ok])
    for q, v in zip(qs, row_quantiles(xn, qs)):  # rows holding NaN give NaN, as torch.quantile
        want = torch.quantile(xn, q, dim=1)
        assert torch.equal(v.isnan(), want.isnan()) and torch.equal(v[~v.isnan()], want[~want.isnan()])


def _ground_maps(rng, n):
    """Ground-plane disparity (sky, objects, offsets, high viewpoints, hints), and noise."""
    from test_depth_scale import scene
    for t in range(n):
        hz = float(rng.uniform(-0.6, 0.7))
        d, _, _ = scene(eye=float(rng.uniform(1, 10)), horizon=hz, alpha=float(rng.uniform(0.5, 5)),
                        beta=float(rng.choice([0.0, 0.0, 0.3, -0.2])), objects=t % 2 == 0,
                        wall_z=float(rng.uniform(3, 9)) if t % 5 == 1 else None, seed=t)
        if t % 7 == 3:
            d = rng.random(d.shape) ** 3
        yield d.astype(np.float32), (hz if t % 3 == 2 else None)


@pytest.mark.parametrize("quantile", [0.25, 0.5])
def test_device_ground_fit_equals_reference(quantile):
    """fit_stats (numpy) and fit_depth_torch agree on every statistic (NaN where the other has
    NaN), and the fits made of them agree: same method, a, b within 1e-6."""
    from paint2vr.depth.fit import fit_stats
    from paint2vr.depth.scale import ScaleOptions, fit_frame
    rng = np.random.default_rng(11)
    hint = tb.RangeHint(1.5, 80.0, None)
    methods = set()
    for d, hz in _ground_maps(rng, 40):
        h, w = d.shape
        frame = fit_frame(h, w, 1, h, 55.0)
        opts = ScaleOptions(horizon=hz, ground_quantile=quantile, eye_height=2.0)
        sky, ref = fit_stats(d, "relative", hint, frame, opts)
        with torch.inference_mode():
            tsky, got = tb.fit_depth_torch(torch.from_numpy(d)[None], "relative", None, until_converged=True,
                                           frame_rows=torch.from_numpy(frame.rows), scale=opts)
        assert np.array_equal(tsky[0].numpy(), sky)
        np.testing.assert_allclose(got[0].numpy(), ref, rtol=1e-6, atol=1e-9, equal_nan=True)
        r = tb.fit_depth(d, "relative", hint, 200.0, opts, frame)
        g = tb.fit_depth_device([d], "relative", [hint], 200.0, scale=opts, frame=frame)[0]
        assert g.scale.method == r.scale.method and g.scale.reason == r.scale.reason
        _same(r, g)
        methods.add(r.scale.method)
    assert {"range", "ground+sky", "ground+zero", "ground+horizon-hint"} <= methods
