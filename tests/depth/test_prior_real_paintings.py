"""The prior on the three shared real paintings: sky, horizon and near/far structure.

Bounds were checked by looking at the paintings next to their depth maps: Hunters in the
Snow (green-grey sky over the top ~25 %, hunters and trees at the left front, the valley
with frozen ponds far below), Breezing Up (clouded sky down to the sea line ~70 % down, boat
close), Landscape with an Aqueduct (stormy sky and sunset glow on top, dark ruin and tree in
front, mountains far; a black/white frame line around it).
"""

from pathlib import Path

import numpy as np
import pytest

from paint2vr.depth.prior import PriorEstimator, detect_sky

PAINTINGS = Path(__file__).resolve().parents[2] / ".." / "shared" / "paintings"
pytestmark = pytest.mark.skipif(not PAINTINGS.is_dir(),
                                reason="shared paintings folder ../shared/paintings is absent")

_CACHE: dict = {}


def _load(name: str, side: int = 900):
    """The painting scaled to `side` px on its long side (keeps the tests fast) and its depth."""
    if name not in _CACHE:
        from PIL import Image
        im = Image.open(PAINTINGS / name).convert("RGB")
        im.thumbnail((side, side), Image.LANCZOS)
        rgb = np.asarray(im)
        _CACHE[name] = (rgb, PriorEstimator().estimate_one(rgb))
    return _CACHE[name]


def _box(a, y0, y1, x0, x1):
    h, w = a.shape[:2]
    return a[int(y0 * h):int(y1 * h), int(x0 * w):int(x1 * w)]


@pytest.mark.parametrize("name, lo, hi, hz_lo, hz_hi", [
    ("hunters_in_the_snow.webp", 0.12, 0.32, 0.25, 0.42),
    ("breezing_up.jpg", 0.35, 0.60, 0.62, 0.76),
    ("landscape_with_an_aqueduct.jpg", 0.10, 0.30, 0.25, 0.45),
])
def test_sky_fraction_and_horizon(name, lo, hi, hz_lo, hz_hi):
    rgb, d = _load(name)
    h = rgb.shape[0]
    assert lo < d.sky.mean() < hi
    assert hz_lo < d.extras["horizon_row"] / h < hz_hi
    assert not d.sky[int(0.8 * h):].any()            # no sky in the bottom fifth
    assert d.sky[: int(0.1 * h)].mean() > 0.4        # the top band is mostly sky


@pytest.mark.parametrize("name", ["hunters_in_the_snow.webp", "breezing_up.jpg",
                                  "landscape_with_an_aqueduct.jpg"])
def test_bottom_nearer_than_middle(name):
    rgb, d = _load(name)
    h = rgb.shape[0]
    land = np.where(d.sky, np.nan, d.depth)
    bottom = np.nanmedian(land[int(0.8 * h):])
    middle = np.nanmedian(land[int(0.4 * h):int(0.6 * h)])
    assert bottom < 0.7 * middle


def test_hunters_front_nearer_than_valley():
    rgb, d = _load("hunters_in_the_snow.webp")
    front = np.median(_box(d.depth, 0.6, 0.9, 0.2, 0.4))     # hunters, dogs, near trunks
    valley = np.median(_box(d.depth, 0.45, 0.58, 0.55, 0.85))  # frozen ponds
    assert front < 0.6 * valley
    assert _box(d.sky, 0.03, 0.15, 0.55, 0.75).mean() > 0.8  # open green-grey sky
    assert _box(d.sky, 0.45, 0.6, 0.55, 0.85).mean() == 0    # the ponds are not sky


def test_breezing_up_boat_nearer_than_sea_line():
    rgb, d = _load("breezing_up.jpg")
    boat = np.median(_box(d.depth, 0.72, 0.85, 0.25, 0.55))
    sea_far = np.median(_box(d.depth, 0.71, 0.76, 0.7, 0.95))
    assert boat < 0.7 * sea_far
    assert _box(d.sky, 0.05, 0.3, 0.4, 0.9).mean() > 0.9     # clouded sky


def test_aqueduct_ruin_nearer_than_mountains():
    rgb, d = _load("landscape_with_an_aqueduct.jpg")
    ruin = np.median(_box(d.depth, 0.7, 0.95, 0.0, 0.15))     # dark ruin at the left front
    mountains = np.median(_box(d.depth, 0.38, 0.45, 0.7, 0.95))
    assert ruin < 0.5 * mountains
    assert _box(d.sky, 0.05, 0.15, 0.6, 0.95).mean() > 0.8   # storm clouds are sky


def test_real_determinism_and_detect_sky_agrees():
    rgb, d = _load("hunters_in_the_snow.webp")
    again = PriorEstimator().estimate_one(rgb)
    assert np.array_equal(d.depth, again.depth) and np.array_equal(d.sky, again.sky)
    s = detect_sky(rgb)
    assert s.shape == rgb.shape[:2]
    assert (s & d.sky).sum() / max((s | d.sky).sum(), 1) > 0.7
