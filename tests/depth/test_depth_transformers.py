"""The transformers backend on a tiny randomly initialised Depth Anything model (no network)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from paint2vr.depth import get_estimator  # noqa: E402
from paint2vr.depth.transformers_backend import derive_sky  # noqa: E402
from paint2vr.errors import LicenseError, ModelNotFoundError, UnsafeModelError  # noqa: E402
from paint2vr.samples import make_scene  # noqa: E402


def test_batching_equals_one_by_one_and_keeps_shape(tiny_model):
    est = get_estimator(str(tiny_model), device="cpu", batch_size=2)
    ims = [make_scene("landscape", 90, 30, 0)[0], make_scene("coast", 30, 90, 1)[0],
           make_scene("landscape", 90, 30, 2)[0], make_scene("no_sky", 40, 40, 0)[0]]
    batched = est.estimate(ims)
    single = [est.estimate([im])[0] for im in ims]
    for im, a, b in zip(ims, batched, single):
        assert a.depth.shape == im.shape[:2]  # 3:1 and 1:3 keep their aspect
        np.testing.assert_allclose(a.depth, b.depth, rtol=1e-4)
        assert np.array_equal(a.sky, b.sky)
        assert a.metric is False and a.model.name == str(tiny_model)


def test_input_padding_never_squashes(tiny_model):
    est = get_estimator(str(tiny_model), device="cpu")
    x, (nh, nw) = est._prepare(np.zeros((30, 90, 3), np.uint8))
    assert (nh, nw) == (56, 168) and x.shape == (3, 56, 168)
    x, (nh, nw) = est._prepare(np.zeros((1, 50, 3), np.uint8))  # 1-pixel strip: capped, padded
    assert x.shape[1] % 14 == 0 and x.shape[2] % 14 == 0 and nw <= 4 * 56
    d = est.estimate([make_scene("landscape", 64, 64, 0)[0][:1]])[0]
    assert d.depth.shape == (1, 64) and np.isfinite(d.depth).all()


def test_pickle_only_folder_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "depth_anything"}')
    (tmp_path / "pytorch_model.bin").write_bytes(b"not really")
    with pytest.raises(UnsafeModelError, match="pickle"):
        get_estimator(str(tmp_path), device="cpu")


def test_missing_model_offline_fails_fast():
    import time
    t = time.perf_counter()
    with pytest.raises(ModelNotFoundError, match="paint2vr models pull depth-anything-v2-small"):
        get_estimator("depth-anything-v2-small", device="cpu")
    assert time.perf_counter() - t < 10


def test_commercial_refuses_noncommercial():
    with pytest.raises(LicenseError, match="commercial"):
        get_estimator("depth-anything-v2-large", commercial=True)
    with pytest.raises(LicenseError):
        get_estimator("someorg/some-depth-model", commercial=True)


def test_unknown_name():
    with pytest.raises(ModelNotFoundError, match="known models"):
        get_estimator("no-such-model")


def test_derive_sky():
    disp = np.ones((20, 30))
    disp[:8] = 0.0
    disp[15:, :5] = 0.0  # far region not connected to the top is not sky
    sky = derive_sky(disp, np.zeros((20, 30), bool))
    assert sky[:8].all() and not sky[8:].any()
    assert not derive_sky(np.ones((20, 30)), np.zeros((20, 30), bool)).any()
