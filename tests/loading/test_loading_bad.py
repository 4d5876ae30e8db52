"""load_painting on bad and hostile input: always one ImageLoadError line, fast, no side effects."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pytest
from PIL import Image

from paint2vr.errors import ImageLoadError, InputError
from paint2vr.painting import LoadOptions, PaintingInfo, load_painting

from loading_corpus import (BAD_KINDS, asymmetric_rgb, make_png_zlib_bomb, png_bytes, save,
                            write_bad_corpus)

EXPECTED_WORDS = {  # what each refusal must say (besides the file name)
    "zero_bytes": "empty",
    "text_named_jpg": "text file",
    "html_named_jpg": "HTML",
    "random_bytes": "not a supported image",
    "png_header_bomb": "pixels",
    "jpeg_header_bomb": "pixels",
    "gif_header_bomb": "pixels",
    "tiff_header_bomb": "pixels",
    "truncated_jpeg": "truncated",
    "truncated_png": "truncated",
    "png_huge_iccp": "too large",
    "png_huge_ztxt": "too large",
    "float_rgb_tiff": "not a supported image",
}


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    return write_bad_corpus(tmp_path_factory.mktemp("bad"))


def assert_one_line_error(exc: ImageLoadError, path) -> None:
    text = str(exc)
    assert "\n" not in text and str(path) in text
    assert exc.hint, "every refusal says what to do"
    assert isinstance(exc, InputError) and exc.exit_code == 2


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_bad_corpus_is_refused(bad_corpus, kind):
    path = bad_corpus[kind]
    t0 = time.perf_counter()
    with pytest.raises(ImageLoadError) as info:
        load_painting(path)
    assert time.perf_counter() - t0 < 2.0
    assert_one_line_error(info.value, path)
    if kind in EXPECTED_WORDS:
        assert EXPECTED_WORDS[kind].lower() in str(info.value).lower()


def test_missing_directory_and_fifo(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_painting(tmp_path / "nope.jpg")
    with pytest.raises(ImageLoadError, match="directory"):
        load_painting(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.jpg"
        os.mkfifo(fifo)
        t0 = time.perf_counter()
        with pytest.raises(ImageLoadError, match="not a regular file"):
            load_painting(fifo)  # must not block waiting for a writer
        assert time.perf_counter() - t0 < 1.0


def test_unreadable_file(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "locked.png")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read mode-000 files (root)")
        with pytest.raises(ImageLoadError, match="permission"):
            load_painting(path)
    finally:
        path.chmod(0o644)


def test_file_size_limit(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "s.png")
    size = path.stat().st_size
    with pytest.raises(ImageLoadError, match=f"{size} bytes") as info:
        load_painting(path, options=LoadOptions(max_file_bytes=size - 1))
    assert "--max-file-bytes" in info.value.hint
    assert load_painting(path, options=LoadOptions(max_file_bytes=size)).width == 40


def test_pixel_limit_is_ours_and_checked_before_decoding(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "p.png")  # 40 x 24 = 960 pixels
    with pytest.raises(ImageLoadError, match="40x24 = 960 pixels is over the limit of 959") as info:
        load_painting(path, options=LoadOptions(max_pixels=959))
    assert "--max-pixels" in info.value.hint
    assert load_painting(path, options=LoadOptions(max_pixels=960)).height == 24
    # header says 30000 x 30000 but there is no pixel data: refused without decoding
    big = tmp_path / "header.png"
    big.write_bytes(png_bytes(30000, 30000, b""))
    with pytest.raises(ImageLoadError, match="30000x30000"):
        load_painting(big, options=LoadOptions(max_pixels=500_000_000))


def test_pillow_bomb_error_above_twice_the_limit(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "p.png")
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_painting(path, options=LoadOptions(max_pixels=400))  # 960 > 2 * 400: Pillow's own check


def test_pillow_global_state_restored(tmp_path):
    before = Image.MAX_IMAGE_PIXELS
    filters = list(warnings.filters)
    load_painting(save(asymmetric_rgb(), tmp_path / "ok.png"), options=LoadOptions(max_pixels=10**9))
    with pytest.raises(ImageLoadError):
        load_painting(tmp_path / "ok.png", options=LoadOptions(max_pixels=10))
    assert Image.MAX_IMAGE_PIXELS == before
    assert warnings.filters == filters


def test_images_over_pillows_default_limit_allowed_by_ours(tmp_path):
    """200 MP is over Pillow's default refusal (2 x 89.5 MP) but under our 400 MP default."""
    path = tmp_path / "wide.png"
    w, h = 20000, 10000
    import zlib
    row = b"\0" + bytes(w)
    comp = zlib.compressobj(1)
    idat = b"".join([comp.compress(row * 500) for _ in range(h // 500)] + [comp.flush()])
    path.write_bytes(png_bytes(w, h, idat))
    p = load_painting(path, options=LoadOptions(max_side=400))
    assert p.rgb.shape == (200, 400, 3) and p.original_size == (w, h) and (p.rgb == 0).all()


def test_zlib_bomb_is_bounded(tmp_path):
    path = make_png_zlib_bomb(tmp_path, side=64, inflated=100_000_000)
    t0 = time.perf_counter()
    p = load_painting(path)  # the extra inflated data is never produced
    assert time.perf_counter() - t0 < 1.0
    assert p.rgb.shape == (64, 64, 3)


def test_options_and_arguments_checked(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "ok.png")
    with pytest.raises(InputError, match="max_side"):
        load_painting(path, options=LoadOptions(max_side=0))
    with pytest.raises(InputError, match="max_pixels"):
        load_painting(path, options=LoadOptions(max_pixels=-5))
    with pytest.raises(InputError, match="LoadOptions"):
        load_painting(path, options={"max_side": 10})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="PaintingInfo"):
        load_painting(path, info={"title": "x"})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="path"):
        load_painting(42)  # type: ignore[arg-type]


def test_control_characters_in_name_stay_on_one_line(tmp_path):
    path = tmp_path / "evil\nname.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageLoadError) as info:
        load_painting(path)
    assert "\n" not in str(info.value) and "evil\\nname" in str(info.value)


def test_bad_exif_does_not_block_good_pixels(tmp_path):
    rgb = asymmetric_rgb()
    path = save(rgb, tmp_path / "e.png", exif=b"Exif\0\0II*\0\xff\xff\xff\x7f garbage")
    p = load_painting(path)
    np.testing.assert_array_equal(p.rgb, rgb)


def test_info_is_kept(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "k.png")
    p = load_painting(str(path), PaintingInfo(id="inv-7", source="https://example.org/k"))
    assert p.info.id == "inv-7" and p.info.source == "https://example.org/k"


def test_missing_files_are_file_not_found_errors(tmp_path):
    # callers catch FileNotFoundError for a missing file; the typed errors are one too
    from paint2vr.depth import read_depth_file
    from paint2vr.errors import DepthFileError, ImageLoadError
    from paint2vr.painting import load_painting
    with pytest.raises(FileNotFoundError) as err:
        load_painting(tmp_path / "missing.jpg")
    assert isinstance(err.value, ImageLoadError) and "no such file" in str(err.value)
    with pytest.raises(FileNotFoundError) as err:
        read_depth_file(tmp_path / "missing.png", (4, 4))
    assert isinstance(err.value, DepthFileError)
