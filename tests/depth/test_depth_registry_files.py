import json

import numpy as np
import pytest
from PIL import Image

from paint2vr.depth import DepthMap, ModelInfo, read_depth_file, write_depth
from paint2vr.depth.files import PNG_KEY, ReadDepthOptions
from paint2vr.depth.registry import RegistryError, check_license, load_registry, pull
from paint2vr.errors import DepthFileError, LicenseError, ModelNotFoundError


def test_shipped_registry_valid():
    reg = load_registry()
    assert {"depth-anything-v2-small", "depth-anything-v2-large", "dpt-large", "zoedepth-nyu",
            "depth-pro", "glpn-nyu"} <= set(reg)
    assert reg["depth-anything-v2-small"].commercial_use and not reg["depth-anything-v2-base"].commercial_use
    assert reg["depth-pro"].note  # unconfirmed licence is flagged
    check_license(reg["depth-anything-v2-small"], commercial=True)
    with pytest.raises(LicenseError):
        check_license(reg["depth-anything-v2-base"], commercial=True)


@pytest.mark.parametrize("body, msg", [
    ("[models.x]\nhub_id = 'a/b'\n", "lacks"),
    ("[models.x]\nhub_id='a/b'\nrevision='main'\ninput_size='518'\nkind='relative'\nlicense='MIT'\ncommercial_use=true\n", "input_size must be int"),
    ("[models.x]\nhub_id='a/b'\nrevision='main'\ninput_size=518\nkind='fancy'\nlicense='MIT'\ncommercial_use=true\n", "kind"),
    ("not toml [", "not valid TOML"),
])
def test_bad_registry(tmp_path, body, msg):
    p = tmp_path / "r.toml"
    p.write_text(body)
    with pytest.raises(RegistryError, match=msg):
        load_registry(p)


def test_pull_offline_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="paint2vr models pull dpt-large"):
        pull("dpt-large", tmp_path / "w")


def _dm():
    rng = np.random.default_rng(0)
    d = rng.uniform(1.5, 90, (12, 18)).astype(np.float32)
    sky = np.zeros((12, 18), bool)
    sky[:3] = True
    d[sky] = 500.0
    return DepthMap(depth=d, sky=sky, metric=True, model=ModelInfo(name="t"))


def test_npy_round_trip_exact(tmp_path):
    dm = _dm()
    back = read_depth_file(write_depth(dm, tmp_path / "d.npy"), (12, 18))
    assert np.array_equal(back.sky, dm.sky) and np.array_equal(back.depth[~dm.sky], dm.depth[~dm.sky])
    assert back.metric


def test_png_round_trip_16bit_precision(tmp_path):
    dm = _dm()
    p = write_depth(dm, tmp_path / "d.png")
    img = Image.open(p)
    assert img.mode.startswith("I") and json.loads(img.info[PNG_KEY])["encoding"] == "log"
    back = read_depth_file(p, (12, 18))
    assert np.array_equal(back.sky, dm.sky)
    land = ~dm.sky
    step = np.log(90 / 1.5) / 65534
    assert np.max(np.abs(np.log(back.depth[land] / dm.depth[land]))) <= step
    assert back.depth[dm.sky][0] == pytest.approx(500.0)
    assert write_depth(dm, tmp_path / "e.png").read_bytes() == p.read_bytes()


def test_plain_png_is_relative_disparity(tmp_path):
    a = np.zeros((4, 4), np.uint16)
    a[1:] = [[100], [200], [400]]
    Image.fromarray(a).save(tmp_path / "plain.png")
    o = ReadDepthOptions(near=2.0, far=50.0)
    d = read_depth_file(tmp_path / "plain.png", (4, 4), o)
    assert d.sky[0].all() and not d.metric
    assert d.depth[3, 0] == pytest.approx(2.0)  # brightest = near
    assert d.depth[1, 0] > d.depth[2, 0] > d.depth[3, 0]


def test_resize_and_errors(tmp_path):
    dm = _dm()
    p = write_depth(dm, tmp_path / "d.npy")
    assert read_depth_file(p, (24, 36)).depth.shape == (24, 36)
    with pytest.raises(DepthFileError, match="aspect"):
        read_depth_file(p, (24, 24))
    with pytest.raises(DepthFileError, match="no such"):
        read_depth_file(tmp_path / "none.npy", (4, 4))
    (tmp_path / "bad.npy").write_bytes(b"junk")
    with pytest.raises(DepthFileError):
        read_depth_file(tmp_path / "bad.npy", (4, 4))
    np.save(tmp_path / "sky.npy", np.full((4, 4), np.inf))
    with pytest.raises(DepthFileError, match="sky"):
        read_depth_file(tmp_path / "sky.npy", (4, 4))
    with pytest.raises(DepthFileError, match="EXR"):
        (tmp_path / "x.exr").write_bytes(b"x")
        read_depth_file(tmp_path / "x.exr", (4, 4))
    Image.fromarray(np.zeros((4, 4, 3), np.uint8) + np.array([1, 2, 3], np.uint8)).save(tmp_path / "c.png")
    with pytest.raises(DepthFileError, match="colour"):
        read_depth_file(tmp_path / "c.png", (4, 4))


def test_a_depth_png_is_not_taken_for_a_painting(tmp_path):
    from paint2vr.errors import ImageLoadError
    from paint2vr.painting import load_painting
    p = write_depth(_dm(), tmp_path / "d.png")
    with pytest.raises(ImageLoadError, match="depth map written by paint2vr, not a painting"):
        load_painting(p)


def test_paint2vr_png_resaved_without_its_chunk_keeps_near_and_far(tmp_path, caplog):
    # an image editor re-saves the pixels and drops the paint2vr:depth text chunk
    dm = _dm()
    p = write_depth(dm, tmp_path / "d.png")
    with Image.open(p) as img:
        Image.fromarray(np.asarray(img)).save(tmp_path / "edited.png")
    with Image.open(tmp_path / "edited.png") as img:
        assert "paint2vr:depth" not in img.info
    got = read_depth_file(tmp_path / "edited.png", dm.depth.shape)
    land = ~dm.sky
    assert np.corrcoef(got.depth[land], dm.depth[land])[0, 1] > 0.99  # near stays near (was < 0)
    assert (got.sky == dm.sky).all() and not got.metric
    assert "plain_png='disparity'" in caplog.text
    swapped = read_depth_file(tmp_path / "edited.png", dm.depth.shape, ReadDepthOptions(plain_png="disparity"))
    assert np.corrcoef(swapped.depth[land], dm.depth[land])[0, 1] < 0  # the explicit choice is obeyed
