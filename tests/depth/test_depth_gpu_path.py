"""The device-side (torch) fast path of the transformers backend against its numpy/cv2
reference, run on CPU with a tiny random Depth Anything model (no network, no GPU)."""

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from paint2vr.depth import get_estimator  # noqa: E402
from paint2vr.depth import fit as fitmod  # noqa: E402
from paint2vr.depth import transformers_backend as tb  # noqa: E402
from paint2vr.depth.scale import fit_frame  # noqa: E402
from paint2vr.samples import make_scene  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def _scenes():
    return [make_scene("landscape", 150, 100, 0)[0], make_scene("coast", 60, 130, 1)[0],
            make_scene("landscape", 150, 100, 2)[0], make_scene("no_sky", 40, 40, 0)[0],
            make_scene("coast", 200, 120, 3)[0]]


def test_torch_preprocessing_matches_cv2(tiny_model):
    est = get_estimator(str(tiny_model), device="cpu")
    yy, xx = np.mgrid[0:300, 0:420] / 40.0
    smooth = np.stack([128 + 100 * np.sin(xx + c) * np.cos(0.7 * yy) for c in range(3)], -1).astype(np.uint8)
    for im in (smooth, smooth[:40, :90], smooth[:1, :50]):     # down, up, 1-pixel strip
        ref, (nh, nw) = est._prepare(im)
        p = est._plan(*im.shape[:2])
        got = est._prepare_torch(torch.from_numpy(np.ascontiguousarray(im)), p).numpy()
        assert got.shape == ref.shape and (p.nh, p.nw) == (nh, nw)
        # padding rows/columns replicate the last valid ones
        np.testing.assert_array_equal(got[:, :, nw:], np.repeat(got[:, :, nw - 1:nw], got.shape[2] - nw, axis=2))
        assert np.abs(got - ref).mean() < 0.02   # normalised units: 1 grey level = 0.008 here


def test_fit_maps_match_block_mean_and_apply_fit_values():
    rng = np.random.default_rng(1)
    crop = (rng.random((37, 51)) * 3 + np.linspace(0, 5, 37)[:, None]).astype(np.float32)
    crop[:6] = 0.01        # far band at the top: becomes sky
    for kind in ("relative", "metric"):
        src = crop if kind == "relative" else (1.0 / (crop + 0.1)).astype(np.float32)
        kh, kw = tb._fit_factors(37, 51, 16)
        assert (kh, kw) == (4, 4)
        small = tb.block_mean(src, kh, kw)
        t_small = torch.nn.functional.avg_pool2d(torch.from_numpy(src)[None, None], (kh, kw))[0, 0].numpy()
        np.testing.assert_allclose(small, t_small, rtol=1e-6, atol=1e-6)
        fit = tb.fit_depth(small, kind, tb.RangeHint(1.5, 80.0, None), 200.0)
        assert fit.sky[0].all() and not fit.sky[-1].any()
        for shape in ((150, 203), (37, 51), (20, 30)):
            d, s, e = tb.apply_fit(src, shape, fit)
            assert d.shape == s.shape == shape and d.dtype == np.float32 and s.dtype == bool
            assert e.shape == src.shape  # edges at the model's resolution
            assert s[0].all() and (d[s] == np.float32(fit.sky_depth)).all()
            assert np.isfinite(d).all() and (d > 0).all() and (e >= 0).all() and (e <= 1).all()
            if kind == "relative":
                land = d[~s]
                assert land.min() >= 1.5 / 2 - 1e-6 and land.max() <= 80.0 + 1e-4
            if shape == src.shape:     # no resize: the conversion itself
                np.testing.assert_allclose(d[~s], fitmod._convert_np(src, fit)[~s], rtol=1e-6)


def test_fit_depth_values():
    # disparity ramp, nearest at the top (so nothing far touches the top edge: no sky)
    disp = np.tile(np.linspace(10, 1, 40)[:, None], (1, 50)).astype(np.float32)
    fit = tb.fit_depth(disp, "relative", tb.RangeHint(2.0, 50.0, None), 200.0)
    lo, hi = np.percentile(disp, [2, 98])
    assert abs(fit.a / (hi - fit.b) - 2.0) < 1e-9 and abs(fit.a / (lo - fit.b) - 50.0) < 1e-9
    assert not fit.sky.any() and fit.sky_depth == 200.0
    flat = tb.fit_depth(np.ones((10, 10), np.float32), "relative", tb.RangeHint(2.0, 50.0, None), 200.0)
    assert flat.const == 26.0
    assert tb._fit_factors(518, 2072, 256) == (9, 9) and tb._fit_factors(1, 2072, 256) == (1, 9)


def test_fast_path_matches_reference_end_to_end(tiny_model):
    # Random weights have no ground, so a ground fit on them flips on the filters' small
    # differences: here the range mapping; test_depth_learned checks the ground path.
    from paint2vr.depth.scale import ScaleOptions
    est = tb.TransformersEstimator(tiny_model, options=tb.TransformersOptions(
        device="cpu", batch_size=2, scale=ScaleOptions(method="range")))
    ims = _scenes()
    fast, ref = est.estimate(ims), est.estimate_reference(ims)
    for im, a, b in zip(ims, fast, ref):
        assert a.depth.shape == im.shape[:2] == b.depth.shape
        assert a.depth.dtype == np.float32 and a.sky.dtype == bool
        # edges and confidence come at the model's resolution, with the painting's aspect
        assert a.edges.shape == b.edges.shape == a.confidence.shape and a.edges.ndim == 2
        assert abs(a.edges.shape[1] / a.edges.shape[0] - im.shape[1] / im.shape[0]) < 0.1 * im.shape[1] / im.shape[0]
        assert (a.sky != b.sky).mean() < 0.02
        land = ~a.sky & ~b.sky
        rel = np.abs(a.depth[land] - b.depth[land]) / b.depth[land]
        assert np.median(rel) < 0.06, np.median(rel)  # filters differ (area vs antialiased bilinear)


def test_batching_and_order_do_not_change_results(tiny_model):
    est = get_estimator(str(tiny_model), device="cpu", batch_size=3)
    ims = _scenes()
    batched = est.estimate(ims)
    for im, a in zip(ims, batched):
        b = est.estimate([im])[0]
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-4)
        assert np.array_equal(a.sky, b.sky)
    rev = est.estimate(ims[::-1])[::-1]
    for a, b in zip(batched, rev):
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-4)
    assert est.estimate([]) == []


def test_no_prior_mode_and_bad_options(tiny_model):
    from dataclasses import replace
    est = get_estimator(str(tiny_model), device="cpu")
    im = make_scene("landscape", 120, 80, 0)[0]
    assert est.options.prior_side == 0
    d = est.estimate([im])[0]
    land = d.depth[~d.sky]
    assert land.min() >= 1.5 / 2 - 1e-6 and land.max() <= 80.0 + 1e-4
    est.options = replace(est.options, prior_side=64)      # range and sky hint from a small prior run
    hint = est._hint(im)
    assert hint.sky is not None and max(hint.sky.shape) == 64 and 0 < hint.near < hint.far <= 80.001
    d2, r2 = est.estimate([im])[0], est.estimate_reference([im])[0]
    land = d2.depth[~d2.sky]
    assert land.min() >= hint.near / 2 - 1e-4 and land.max() <= hint.far + 1e-3
    assert (d2.sky != r2.sky).mean() < 0.02
    with pytest.raises(tb.InputError):
        tb.TransformersEstimator(tiny_model, options=tb.TransformersOptions(device="cpu", host_threads=-1))
    with pytest.raises(tb.InputError, match="uint8"):
        est.estimate([np.zeros((10, 10), np.float32)])


def test_cpu_post_cost_is_small(tiny_model):
    """Host + post-processing cost of one 1.5 MP painting on CPU stays bounded."""
    est = get_estimator(str(tiny_model), device="cpu")
    im = np.ascontiguousarray(np.broadcast_to(make_scene("landscape", 150, 100, 0)[0][:1, :1], (1000, 1500, 3)))
    est.estimate([im])
    t = time.perf_counter()
    d = est.estimate([im])[0]
    assert d.depth.shape == (1000, 1500)
    assert time.perf_counter() - t < 10


def test_bench_script_runs_tiny_on_cpu(tmp_path):
    out = tmp_path / "gpu.json"
    r = subprocess.run([sys.executable, "-m", "bench.gpu_depth", "--tiny", "--device", "cpu", "--images", "8", "--check",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=900)  # a loaded machine is slow, not wrong
    assert r.returncode == 0, r.stderr[-2000:]
    import json
    res = json.loads(out.read_text())
    for k in ("device", "batch_size", "bare_images_per_s", "pipeline_images_per_s", "ratio", "phases_ms"):
        assert k in res
    assert res["pipeline_images_per_s"] > 0 and res["bare_images_per_s"] > 0 and res["outputs_ok"]
    c = res["check"]["fp32"]
    assert c["shapes_ok"] and c["finite_ok"] and c["batched_vs_single_max_rel"] < 1e-3


def test_fast_path_equals_reference_given_the_same_input(tiny_model, monkeypatch):
    """With cv2 preprocessing swapped in, the batched torch path reproduces the reference:
    the crop, fit maps, fit, full-resolution conversion, sky and edges all agree."""
    est = get_estimator(str(tiny_model), device="cpu", batch_size=2)
    monkeypatch.setattr(est, "_prepare_torch", lambda img, p: torch.from_numpy(est._prepare(img.numpy())[0]))
    ims = _scenes()
    for im, a, b in zip(ims, est.estimate(ims), est.estimate_reference(ims)):
        assert (a.sky != b.sky).mean() < 1e-3
        agree = a.sky == b.sky
        np.testing.assert_allclose(a.depth[agree], b.depth[agree], rtol=2e-4)
        assert a.edges.shape == b.edges.shape
        agree_small = np.abs(a.edges - b.edges) < 2e-3
        assert agree_small.mean() > 0.97, agree_small.mean()


def _fit_of(m):
    """The crop and fit a fast-path lazy map was built from."""
    maker = m.__dict__["_lazy_make"]
    return maker.crop, maker.fit


@pytest.mark.parametrize("prior_side", [0, 48])
def test_fast_path_fits_equal_the_host_reference_fit(tiny_model, monkeypatch, prior_side):
    """The fit comes from the device (fit_depth is never called on the fast path) and equals
    fit_depth on the same fit map, per painting, with and without the prior's hints (hints
    differ per painting with a prior: per-image near/far and sky on the device)."""
    from dataclasses import replace
    est = get_estimator(str(tiny_model), device="cpu", batch_size=3)
    est.options = replace(est.options, prior_side=prior_side)
    ims = _scenes()
    hints = [est._hint(im) for im in ims]
    real = tb.fit_depth
    monkeypatch.setattr(tb, "fit_depth", lambda *a, **k: pytest.fail("host fit on the fast path"))
    maps = est.estimate(ims)
    monkeypatch.setattr(tb, "fit_depth", real)
    skies = 0
    for im, m, hint in zip(ims, maps, hints):
        crop, fit = _fit_of(m)
        kh, kw = tb._fit_factors(*crop.shape, est.options.fit_side)
        small = torch.nn.functional.avg_pool2d(torch.from_numpy(crop)[None, None], (kh, kw))[0, 0].numpy()
        frame = fit_frame(*crop.shape, kh, small.shape[0], est.options.scale.fov_deg)
        ref = tb.fit_depth(small, est.kind, hint, est._prior.options.sky_depth, est.options.scale, frame)
        assert np.array_equal(fit.sky, ref.sky) and fit.sky.flags.owndata
        assert fit.scale.record() == ref.scale.record()
        assert (fit.const is None) == (ref.const is None) and (fit.near, fit.far) == (ref.near, ref.far)
        for x, y in ((fit.a, ref.a), (fit.b, ref.b), (fit.sky_depth, ref.sky_depth)):
            assert x == pytest.approx(y, rel=1e-6, abs=1e-12)
        skies += bool(fit.sky.any())
    assert skies >= 2


def test_unconverged_device_sky_is_fitted_on_the_host(tiny_model, monkeypatch):
    """With one sweep round the device reports (nearly) every sky as unconverged; those
    paintings are then fitted on the host by fit_depth on the fit map that came back with
    the batch, giving the same maps as the default (no synchronisation, no device re-run)."""
    est = get_estimator(str(tiny_model), device="cpu", batch_size=3)
    ims = _scenes()
    want = est.estimate(ims)
    calls = []
    real = tb.fit_depth
    monkeypatch.setattr(tb, "fit_depth", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(tb, "_SWEEPS", 1)
    got = est.estimate(ims)
    assert len(calls) >= 2
    for a, b in zip(got, want):
        fa, fb = _fit_of(a)[1], _fit_of(b)[1]
        assert np.array_equal(fa.sky, fb.sky) and fa.sky.shape == fb.sky.shape
        assert fa.sky_depth == pytest.approx(fb.sky_depth, rel=1e-6) and fa.a == pytest.approx(fb.a, rel=1e-6)
        assert np.array_equal(a.sky, b.sky)
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-5)
