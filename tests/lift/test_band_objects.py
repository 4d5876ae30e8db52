"""What the far band shows only once (a face, a figure) is not copied round the horizon
(:func:`paint2vr.lift.panorama.band_object_share`, ``OBJECT_COST``)."""

from __future__ import annotations

import numpy as np
import pytest

import importlib
from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.lift import lift
from paint2vr.lift.panorama import OBJECT_SHARE, SKY_CHANNEL, band_object_share

panorama_module = importlib.import_module("paint2vr.lift.panorama")
from paint2vr.painting import Painting
from paint2vr.samples import make_scene

MAGENTA = (230, 30, 220)


def _band_source(h: int = 48, w: int = 160, face: bool = True) -> np.ndarray:
    """Sky over the top third, noisy green land below; with ``face`` a pink disc on the land."""
    rng = np.random.default_rng(0)
    src = np.zeros((h, w, 4), np.float32)
    src[..., :3] = np.array([60.0, 120.0, 50.0]) + rng.normal(0, 8, (h, w, 3))
    src[: h // 3, :, :3] = (140, 170, 220)
    src[: h // 3, :, 3] = SKY_CHANNEL
    if face:
        yy, xx = np.mgrid[0:h, 0:w]
        src[(yy - 28) ** 2 + (xx - 80) ** 2 < 64, :3] = (235, 190, 170)
    return src


def test_band_object_share_finds_the_face_columns():
    src = _band_source()
    upper = np.arange(src.shape[0]) < 40
    share = band_object_share(src, upper)
    assert share.shape == (src.shape[1],) and share.dtype == np.float64
    assert share[76:85].min() > OBJECT_SHARE
    assert share[:50].max() < 0.05 and share[110:].max() < 0.05


def test_band_object_share_without_objects_or_rows():
    src = _band_source(face=False)
    assert band_object_share(src, np.arange(src.shape[0]) < 40).max() < 0.05
    assert not band_object_share(src, np.zeros(src.shape[0], bool)).any()


def _magenta_outside_frame(monkeypatch, cost: float) -> int:
    monkeypatch.setattr(panorama_module, "OBJECT_COST", cost)
    rgb, depth, sky = make_scene("landscape", 200, 132, seed=3)
    yy, xx = np.mgrid[0:132, 0:200]
    rgb[(yy - 40) ** 2 + (xx - 172) ** 2 < 30] = MAGENTA  # a small far thing on the hills
    scene = lift(Painting.from_array(rgb), DepthMap(depth=depth, sky=sky, metric=True, model=ModelInfo("truth")))
    pano = [layer for layer in scene.layers if layer.name == "world"][0].node.mesh.texture.astype(np.int16)
    w = pano.shape[1]
    outside = np.ones(w, bool)
    outside[int(w * 0.38):int(w * 0.62)] = False  # the frame (55 degrees) with room to spare
    m = (pano[..., 0] > 170) & (pano[..., 1] < 110) & (pano[..., 2] > 160)
    return int(m[:, outside].sum())


def test_a_thing_shown_once_is_not_copied_round_the_horizon(monkeypatch):
    assert _magenta_outside_frame(monkeypatch, panorama_module.OBJECT_COST) == 0


def test_without_the_object_cost_it_would_be(monkeypatch):
    """The test above can fail: without the cost the thing is copied into the band."""
    assert _magenta_outside_frame(monkeypatch, 0.0) > 0


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 3), np.float32)])
def test_band_object_share_bad_input(bad):
    from paint2vr.errors import InputError
    with pytest.raises(InputError):
        band_object_share(bad, np.ones(4, bool))


def _sky_with_wall(wall: bool = True):
    """A blue sky with soft clouds over the top half; with ``wall`` a block wall (quoins) at
    the right, which a sky mask can take for sky: pale, flat, no texture."""
    import cv2
    rng = np.random.default_rng(1)
    h, w = 240, 400
    rgb = np.zeros((h, w, 3), np.float32)
    rgb[:] = (120, 160, 220)
    clouds = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 12)
    rgb += ((clouds - clouds.mean()) * 1200)[..., None]
    if wall:
        rgb[:, 300:] = (215, 210, 200)
        for y in range(0, h, 24):  # the joints of a block wall
            rgb[y:y + 2, 300:] = (120, 110, 100)
            x = 300 + (y // 24 % 2) * 30
            rgb[y:y + 24, x:x + 2] = (120, 110, 100)
        rgb[:, 298:300] = (90, 80, 70)
    sky = np.ones((h, w), bool)
    sky[h // 2:] = False
    return np.clip(rgb, 0, 255).astype(np.uint8), sky


def test_straight_edged_finds_a_wall_called_sky():
    from paint2vr.lift.panorama import straight_edged
    rgb, sky = _sky_with_wall()
    got = straight_edged(rgb, sky)
    assert got.shape == sky.shape and got.dtype == bool
    assert got[: 120, 310:390].mean() > 0.8  # the wall, stones between the joints included
    assert got[: 120, :250].mean() < 0.02  # the clouds have no long straight edges
    assert not got[~sky].any()  # only ever a part of the sky


def test_straight_edged_leaves_a_cloudy_sky():
    from paint2vr.lift.panorama import straight_edged
    rgb, sky = _sky_with_wall(wall=False)
    assert straight_edged(rgb, sky).mean() < 0.01
