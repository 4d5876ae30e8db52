"""A photograph's uniform border (paint2vr.border): found against a loop reference, left alone
where the painting itself is flat, cut off at loading and recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from paint2vr.border import MAX_SHARE, cut_border, find_border, find_border_reference
from paint2vr.errors import InputError
from paint2vr.painting import LoadOptions, load_painting


def _canvas(h: int = 120, w: int = 160, seed: int = 0) -> np.ndarray:
    """A painted-looking picture: smooth colour plus grain, no flat line anywhere."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([90 + 60 * np.sin(xx / 17.0), 110 + 50 * np.cos(yy / 13.0), 80 + 0.4 * xx], -1)
    return np.clip(base + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)


def _framed(canvas: np.ndarray, sides: tuple[int, int, int, int], colour=(8, 8, 8)) -> np.ndarray:
    t, b, l, r = sides
    h, w = canvas.shape[:2]
    out = np.empty((h + t + b, w + l + r, 3), np.uint8)
    out[:] = colour
    out[t:t + h, l:l + w] = canvas
    return out


@pytest.mark.parametrize("sides", [(5, 5, 5, 5), (3, 0, 7, 1), (0, 0, 0, 4), (9, 2, 0, 0)])
def test_find_border_finds_each_side_and_matches_reference(sides):
    img = _framed(_canvas(), sides)
    found = find_border(img)
    # Each side: its flat lines plus the one edge line (EDGE_SHARE of a 130-170 px side).
    assert found == tuple(s + 1 if s else 0 for s in sides)
    assert found == find_border_reference(img)


def test_find_border_white_mat_and_smoke():
    img = _framed(_canvas(seed=3), (6, 6, 6, 6), colour=(250, 248, 240))
    assert find_border(img) == (7, 7, 7, 7) == find_border_reference(img)
    assert find_border(_canvas()) == (0, 0, 0, 0)
    assert find_border(np.zeros((8, 8, 3), np.uint8)) == (0, 0, 0, 0)  # too small to judge


def test_find_border_leaves_the_paintings_own_flat_parts():
    # A flat sky over a fifth of the height (beyond MAX_SHARE): the painting's, not a border.
    img = _canvas()
    img[:24] = (120, 160, 220)
    assert 24 > img.shape[0] * MAX_SHARE and find_border(img)[0] == 0
    # A flat band that fades into the picture (no colour step past its edge) stays too.
    img = _canvas(seed=1)
    img[:5] = img[5:9].mean(axis=(0, 1)).astype(np.uint8)
    assert find_border(img)[0] == 0 == find_border_reference(img)[0]
    # Wholly flat: no border either (the run never ends).
    assert find_border(np.full((64, 64, 3), 77, np.uint8)) == (0, 0, 0, 0)


def test_find_border_bad_input():
    with pytest.raises(InputError, match="H, W, 3"):
        find_border(np.zeros((32, 32), np.uint8))
    with pytest.raises(InputError):
        find_border([[1, 2, 3]])  # type: ignore[arg-type]


def test_cut_border_shapes_and_alpha():
    img = _framed(_canvas(), (2, 3, 4, 5))
    alpha = np.ones(img.shape[:2], bool)
    rgb, a = cut_border(img, alpha, (2, 3, 4, 5))
    assert rgb.shape == (120, 160, 3) and a.shape == (120, 160) and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, _canvas())
    assert cut_border(img, None, (0, 0, 0, 0))[1] is None


def test_load_painting_cuts_the_border_off_and_says_so(tmp_path):
    img = _framed(_canvas(), (5, 5, 5, 5))
    path = tmp_path / "framed.png"
    Image.fromarray(img).save(path)
    p = load_painting(path)
    assert p.border == (6, 6, 6, 6) and p.rgb.shape == (170 - 12, 130 - 12)[::-1] + (3,)
    np.testing.assert_array_equal(p.rgb, img[6:-6, 6:-6])
    assert p.original_size == (170, 130)  # the file's own size
    kept = load_painting(path, options=LoadOptions(trim_border=False))
    assert kept.border == (0, 0, 0, 0) and kept.rgb.shape == img.shape
    with pytest.raises(InputError, match="trim_border"):
        load_painting(path, options=LoadOptions(trim_border="yes"))  # type: ignore[arg-type]


def test_convert_records_the_cut_border(tmp_path):
    from paint2vr.pipeline import ConvertOptions, convert
    from paint2vr.samples import make_scene

    rgb, _, _ = make_scene("landscape", 160, 112, seed=0)
    path = tmp_path / "framed.png"
    Image.fromarray(_framed(rgb, (4, 4, 4, 4))).save(path)
    scene = convert(path, ConvertOptions())
    assert scene.provenance["border_cut_px"] == {"top": 5, "bottom": 5, "left": 5, "right": 5}
    json.dumps(scene.provenance["border_cut_px"])
    # The file's record carries it, and inspect says it to the operator.
    from paint2vr.export import ExportOptions, save_scene
    from paint2vr.export.inspect import inspect_file

    glb = tmp_path / "framed.glb"
    save_scene(scene, glb, ExportOptions(profile="desktop"))
    report = inspect_file(glb)
    assert report.provenance["border_cut_px"] == {"top": 5, "bottom": 5, "left": 5, "right": 5}
    assert "border cut:  top 5, bottom 5, left 5, right 5 px" in report.format_report()
