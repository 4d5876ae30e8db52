"""load_painting on every good input kind: exact pixels where the format is lossless."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from paint2vr.painting import (DEFAULT_LOAD_OPTIONS, LoadOptions, Painting, PaintingInfo,
                               load_painting)

from loading_corpus import (asymmetric_rgb, blocky_rgb, make_animated, make_cmyk_jpeg,
                            make_multipage_tiff, profile_with_primaries,
                            reference_profile_to_srgb, save, srgb_profile_bytes)


def check_painting(p: Painting, shape: tuple[int, int]) -> None:
    assert isinstance(p, Painting)
    assert p.rgb.dtype == np.uint8 and p.rgb.shape == (*shape, 3)
    assert p.rgb.flags.c_contiguous
    assert len(p.sha256) == 64


# -- plain formats ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt,ext,kw", [("PNG", "png", {}), ("TIFF", "tif", {}),
                                         ("TIFF", "tif", {"compression": "tiff_lzw"}),
                                         ("WEBP", "webp", {"lossless": True}), ("BMP", "bmp", {})])
def test_lossless_formats_round_trip_exactly(tmp_path, fmt, ext, kw):
    rgb = asymmetric_rgb()
    path = save(rgb, tmp_path / f"a.{ext}", format=fmt, **kw)
    p = load_painting(path)
    check_painting(p, rgb.shape[:2])
    np.testing.assert_array_equal(p.rgb, rgb)
    assert p.alpha is None and p.original_size == (40, 24)
    assert p.info.id == "a" and p.info.source == str(path)


def test_jpeg_is_close_and_metadata_is_filled(tmp_path):
    rgb = blocky_rgb()
    path = save(rgb, tmp_path / "j.jpg", quality=95)
    info = PaintingInfo(title="T", artist="A")
    p = load_painting(path, info)
    check_painting(p, rgb.shape[:2])
    np.testing.assert_array_equal(p.rgb, np.asarray(Image.open(path).convert("RGB")))
    assert np.abs(p.rgb.astype(int) - rgb).mean() < 5
    assert (p.info.title, p.info.artist, p.info.id) == ("T", "A", "j")
    import hashlib
    assert p.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_extension_does_not_matter(tmp_path):
    rgb = asymmetric_rgb()
    path = save(rgb, tmp_path / "really_a_png.jpg", format="PNG")
    np.testing.assert_array_equal(load_painting(path).rgb, rgb)


@pytest.mark.parametrize("h,w", [(1, 1), (1, 5000), (5000, 1), (3, 7)])
def test_tiny_and_elongated_images(tmp_path, h, w):
    rgb = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    p = load_painting(save(rgb, tmp_path / "e.png"))
    check_painting(p, (h, w))
    np.testing.assert_array_equal(p.rgb, rgb)


@pytest.mark.parametrize("h,w,max_side,expected", [(5000, 1, 1000, (1000, 1)), (1, 5000, 1000, (1, 1000)),
                                                   (300, 200, 150, (150, 100)), (300, 200, 300, (300, 200))])
def test_downscaling_keeps_aspect_and_records_original(tmp_path, h, w, max_side, expected):
    rgb = np.full((h, w, 3), (40, 120, 220), np.uint8)
    p = load_painting(save(rgb, tmp_path / "d.png"), options=LoadOptions(max_side=max_side))
    check_painting(p, expected)
    assert p.original_size == (w, h)
    assert np.abs(p.rgb.astype(int) - (40, 120, 220)).max() <= 1  # flat stays flat


def test_large_jpeg_uses_draft_and_matches_full_decode(tmp_path):
    rgb = np.repeat(np.repeat(blocky_rgb(64, 96, 8), 40, 0), 40, 1)  # 2560 x 3840
    path = save(rgb, tmp_path / "big.jpg", quality=90)
    p = load_painting(path, options=LoadOptions(max_side=900))
    check_painting(p, (600, 900))
    assert p.original_size == (3840, 2560)
    ref = np.asarray(Image.open(path).convert("RGB").resize((900, 600), Image.Resampling.LANCZOS))
    assert np.abs(p.rgb.astype(int) - ref).mean() < 2.0


# -- modes -----------------------------------------------------------------------------


def test_greyscale_palette_and_bilevel(tmp_path):
    grey = asymmetric_rgb()[..., 0]
    p = load_painting(save(grey, tmp_path / "g.png"))
    np.testing.assert_array_equal(p.rgb, np.repeat(grey[..., None], 3, 2))

    rgb = asymmetric_rgb()
    pal = Image.fromarray(rgb).quantize(16)
    p = load_painting(save(pal, tmp_path / "p.png"))
    np.testing.assert_array_equal(p.rgb, np.asarray(pal.convert("RGB")))
    assert p.alpha is None

    bits = Image.fromarray(grey > 128)
    p = load_painting(save(bits, tmp_path / "b.tif"))
    np.testing.assert_array_equal(p.rgb[..., 1], np.where(grey > 128, 255, 0))


def test_16bit_grey_png_rounds_to_8bit(tmp_path):
    v = np.linspace(0, 65535, 48 * 64).astype(np.uint16).reshape(48, 64)
    cv2.imwrite(str(tmp_path / "g16.png"), v)
    p = load_painting(tmp_path / "g16.png")
    check_painting(p, (48, 64))
    expected = np.round(v / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(p.rgb, np.repeat(expected[..., None], 3, 2))


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_16bit_rgb_via_cv2(tmp_path, ext):
    rng = np.random.default_rng(5)
    rgb16 = rng.integers(0, 65536, (20, 30, 3), dtype=np.uint16)
    cv2.imwrite(str(tmp_path / f"c16.{ext}"), rgb16[..., ::-1])  # cv2 writes BGR
    p = load_painting(tmp_path / f"c16.{ext}")
    check_painting(p, (20, 30))
    assert np.abs(p.rgb.astype(int) - rgb16 / 257.0).max() <= 1.0


def test_16bit_grey_tiff_downscaled(tmp_path):
    v = np.full((40, 80), 32896, np.uint16)  # 32896 / 257 = 128 exactly
    Image.fromarray(v).save(tmp_path / "g16.tif")
    p = load_painting(tmp_path / "g16.tif", options=LoadOptions(max_side=20))
    check_painting(p, (10, 20))
    assert (p.rgb == 128).all()


def test_float_tiff_unit_range_and_nan(tmp_path):
    f = np.linspace(0, 1, 12 * 16, dtype=np.float32).reshape(12, 16)
    f[0, 0] = np.nan
    Image.fromarray(f).save(tmp_path / "f.tif")
    p = load_painting(tmp_path / "f.tif")
    expected = np.clip(np.round(np.nan_to_num(f) * 255), 0, 255).astype(np.uint8)
    assert np.abs(p.rgb[..., 0].astype(int) - expected).max() <= 1
    assert p.rgb[0, 0, 0] == 0


def test_float_tiff_inf_does_not_darken(tmp_path):
    f = np.array([[0.0, 0.5, 1.0, np.inf, -np.inf, np.nan]], np.float32)
    Image.fromarray(f).save(tmp_path / "inf.tif")
    np.testing.assert_array_equal(load_painting(tmp_path / "inf.tif").rgb[0, :, 0], [0, 128, 255, 255, 0, 0])


@pytest.mark.parametrize("values,expected", [([0, 128, 255], [0, 128, 255]),
                                             ([0, 257, 65535], [0, 1, 255])])
def test_int32_tiff_8_or_16_bit_range(tmp_path, values, expected):
    Image.fromarray(np.array([values], np.int32)).save(tmp_path / "i.tif")
    np.testing.assert_array_equal(load_painting(tmp_path / "i.tif").rgb[0, :, 2], expected)


def test_float_tiff_0_255_range(tmp_path):
    f = np.array([[0.0, 100.0, 255.0, -3.0]], np.float32)
    Image.fromarray(f).save(tmp_path / "f255.tif")
    np.testing.assert_array_equal(load_painting(tmp_path / "f255.tif").rgb[0, :, 0], [0, 100, 255, 0])


def test_cielab_tiff_is_converted(tmp_path):
    lab = Image.new("LAB", (8, 8), (255, 128, 128))  # L = 100, a = b = 0: white
    lab.save(tmp_path / "lab.tif")
    p = load_painting(tmp_path / "lab.tif")
    assert (p.rgb >= 250).all()


# -- alpha -----------------------------------------------------------------------------


def test_rgba_is_composited_over_white_and_mask_kept(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., :3] = (200, 100, 0)
    rgba[..., 3] = np.array([0, 64, 127, 128, 200, 255], np.uint8)
    p = load_painting(save(rgba, tmp_path / "a.png"))
    a = rgba[0, :, 3].astype(int)
    expected = (np.array([200, 100, 0])[None, :] * a[:, None] + 255 * (255 - a[:, None]) + 127) // 255
    np.testing.assert_array_equal(p.rgb[0], expected)
    np.testing.assert_array_equal(p.alpha[0], a >= 128)
    assert p.alpha.dtype == bool and p.alpha.shape == (4, 6)


def test_opaque_alpha_gives_no_mask(tmp_path):
    rgba = np.dstack([asymmetric_rgb(), np.full((24, 40), 255, np.uint8)])
    p = load_painting(save(rgba, tmp_path / "o.png"))
    assert p.alpha is None
    np.testing.assert_array_equal(p.rgb, rgba[..., :3])


def test_la_and_palette_transparency(tmp_path):
    la = Image.fromarray(np.dstack([np.full((3, 3), 50, np.uint8), np.array([[0, 255, 255]] * 3, np.uint8)]), "LA")
    p = load_painting(save(la, tmp_path / "la.png"))
    np.testing.assert_array_equal(p.alpha, [[False, True, True]] * 3)
    assert (p.rgb[:, 0] == 255).all() and (p.rgb[:, 1] == 50).all()

    pal = Image.new("P", (4, 2), 0)
    pal.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    pal.putpixel((1, 0), 1)
    pal.info["transparency"] = 0
    p = load_painting(save(pal, tmp_path / "pt.png", transparency=0))
    assert p.alpha is not None and p.alpha.sum() == 1 and p.alpha[0, 1]
    np.testing.assert_array_equal(p.rgb[0, 1], (200, 100, 50))
    np.testing.assert_array_equal(p.rgb[0, 0], (255, 255, 255))


def test_alpha_survives_downscale(tmp_path):
    rgba = np.zeros((100, 200, 4), np.uint8)
    rgba[..., :3] = 90
    rgba[:, 100:, 3] = 255
    p = load_painting(save(rgba, tmp_path / "half.png"), options=LoadOptions(max_side=50))
    assert p.alpha.shape == (25, 50)
    assert not p.alpha[:, :20].any() and p.alpha[:, 30:].all()
    assert (p.rgb[:, 30:] == 90).all() and (p.rgb[:, :20] == 255).all()


# -- colour management -----------------------------------------------------------------


def test_cmyk_jpeg_converted(tmp_path):
    path, expected = make_cmyk_jpeg(tmp_path)
    p = load_painting(path)
    check_painting(p, (16, 64))
    assert np.abs(p.rgb.astype(int) - expected).max() <= 3


def test_srgb_profile_is_identity(tmp_path):
    rgb = asymmetric_rgb()
    p = load_painting(save(rgb, tmp_path / "s.png", icc_profile=srgb_profile_bytes()))
    assert np.abs(p.rgb.astype(int) - rgb).max() <= 1


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("TIFF", "tif"), ("JPEG", "jpg")])
def test_wide_gamut_profile_converted_like_reference(tmp_path, fmt, ext):
    profile = profile_with_primaries()
    rgb = np.array([[[128, 64, 200], [0, 255, 0], [255, 255, 255], [0, 0, 0],
                     [200, 30, 40], [30, 60, 90], [250, 220, 180], [90, 140, 60]]], np.uint8)
    rgb = np.repeat(np.repeat(rgb, 8, 0), 8, 1)  # flat 8x8 patches survive JPEG
    kw = {"quality": 100, "subsampling": 0} if fmt == "JPEG" else {}
    p = load_painting(save(rgb, tmp_path / f"wide.{ext}", format=fmt, icc_profile=profile, **kw))
    expected = reference_profile_to_srgb(rgb, profile)
    tol = 3 if fmt == "JPEG" else 2
    diff = np.abs(p.rgb[4::8, 4::8].astype(int) - expected[4::8, 4::8])
    assert diff.max() <= tol, (p.rgb[4, 4::8], expected[4, 4::8])
    assert np.abs(p.rgb[4, 4].astype(int) - rgb[4, 4]).max() > 10  # it really changed


def test_greyscale_with_grey_profile(tmp_path):
    grey_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))  # RGB profile on L: mismatch
    grey = np.full((4, 4), 77, np.uint8)
    p = load_painting(save(grey, tmp_path / "g.png", icc_profile=grey_profile.tobytes()))
    assert np.abs(p.rgb.astype(int) - 77).max() <= 1


def test_broken_profile_is_ignored_with_warning(tmp_path, caplog):
    rgb = asymmetric_rgb()
    path = save(rgb, tmp_path / "bad_icc.png", icc_profile=b"not an icc profile at all" * 10)
    with caplog.at_level(logging.WARNING, logger="paint2vr.painting"):
        p = load_painting(path)
    np.testing.assert_array_equal(p.rgb, rgb)
    assert any("ICC profile" in r.getMessage() and "bad_icc.png" in r.getMessage() for r in caplog.records)


# -- orientation, frames, pages --------------------------------------------------------

EXIF_REFERENCE = {  # what a viewer shows for each EXIF orientation, written with numpy alone
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),
    8: lambda a: np.rot90(a, 1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_png(tmp_path, orientation):
    raw = asymmetric_rgb()
    exif = Image.Exif()
    exif[0x0112] = orientation
    p = load_painting(save(raw, tmp_path / f"o{orientation}.png", exif=exif))
    expected = EXIF_REFERENCE[orientation](raw)
    np.testing.assert_array_equal(p.rgb, expected)
    assert p.original_size == (expected.shape[1], expected.shape[0])


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_jpeg_with_downscale(tmp_path, orientation):
    raw = blocky_rgb(64, 96)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = save(raw, tmp_path / f"o{orientation}.jpg", exif=exif, quality=95, subsampling=0)
    p = load_painting(path, options=LoadOptions(max_side=48))
    expected = EXIF_REFERENCE[orientation](raw)
    small = np.asarray(Image.fromarray(np.ascontiguousarray(expected)).resize(
        (p.width, p.height), Image.Resampling.LANCZOS))
    assert p.rgb.shape[:2] == ((48, 32) if orientation in (6, 8) else (32, 48))
    assert np.abs(p.rgb.astype(int) - small).mean() < 6


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_first_frame_with_warning(tmp_path, caplog, fmt):
    path = make_animated(tmp_path, fmt)
    with caplog.at_level(logging.WARNING, logger="paint2vr.painting"):
        p = load_painting(path)
    check_painting(p, (10, 20))
    assert np.abs(p.rgb.astype(int) - (200, 30, 30)).max() <= 2
    assert any("first" in r.getMessage() and path.name in r.getMessage() for r in caplog.records)


def test_multipage_lzw_tiff_first_page(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="paint2vr.painting"):
        p = load_painting(make_multipage_tiff(tmp_path))
    np.testing.assert_array_equal(p.rgb, asymmetric_rgb())
    assert any("first" in r.getMessage() for r in caplog.records)


def test_single_frame_gives_no_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="paint2vr.painting"):
        load_painting(save(asymmetric_rgb(), tmp_path / "one.gif"))
    assert not caplog.records


def test_defaults_are_documented():
    assert DEFAULT_LOAD_OPTIONS == LoadOptions()
    from paint2vr.config import field_docs
    assert set(field_docs(LoadOptions)) == {"max_pixels", "max_side", "max_file_bytes", "max_decode_bytes",
                                             "trim_border"}
