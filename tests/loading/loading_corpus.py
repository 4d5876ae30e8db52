"""Generated corpus of good and bad painting files for the loader tests (no committed binaries).

Every ``make_*`` function writes one file into a folder (``tmp_path`` in tests) and returns
its path; :data:`BAD_KINDS` maps a name to a writer of a file that ``load_painting`` must
refuse with ImageLoadError. Named ``loading_corpus`` (not ``corpus``) so that pytest's
rootdir-relative imports cannot clash with another area's helper module.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image, ImageCms

# -- small images with known pixels ----------------------------------------------------


def asymmetric_rgb(h: int = 24, w: int = 40) -> np.ndarray:
    """(h, w, 3) uint8 with no symmetry: every flip and rotation gives a different array."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), (x * 7 + y * 13) % 256], -1)
    rgb[: h // 3, : w // 4] = (250, 10, 10)  # a block in one corner only
    return rgb.astype(np.uint8)


def blocky_rgb(h: int = 64, w: int = 96, block: int = 16) -> np.ndarray:
    """Asymmetric flat 16x16 blocks: survives JPEG quality 95 within a few levels."""
    rng = np.random.default_rng(3)
    colors = rng.integers(30, 226, size=(h // block, w // block, 3), dtype=np.uint8)
    colors[0, 0] = (250, 20, 20)
    return np.repeat(np.repeat(colors, block, 0), block, 1)


def save(arr_or_img, path: Path, **kw) -> Path:
    img = arr_or_img if isinstance(arr_or_img, Image.Image) else Image.fromarray(arr_or_img)
    img.save(path, **kw)
    return path


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


# -- raw PNG writing, for headers no encoder would produce -----------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, idat: bytes, *, colour_type: int = 0, extra: bytes = b"") -> bytes:
    """A PNG with the given IHDR and IDAT payload (8-bit, colour type 0 = grey, 2 = RGB)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def make_png_header_bomb(folder: Path, side: int = 100_000) -> Path:
    """A 300-byte PNG whose header claims side x side pixels (10 GP at the default)."""
    return _write(folder / "header_bomb.png", png_bytes(side, side, zlib.compress(b"\0" * 1000)))


def make_png_zlib_bomb(folder: Path, side: int = 64, inflated: int = 100_000_000) -> Path:
    """A small image whose IDAT inflates to ``inflated`` bytes (far more than side*side needs)."""
    comp = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    parts = [comp.compress(chunk) for _ in range(inflated >> 20)] + [comp.flush()]
    return _write(folder / "zlib_bomb.png", png_bytes(side, side, b"".join(parts)))


def make_png_huge_iccp(folder: Path, inflated: int = 50_000_000) -> Path:
    """A valid 8x8 PNG with an iCCP chunk inflating to 50 MB (a profile is at most a few KB)."""
    comp = zlib.compressobj(9)
    profile = b"".join([comp.compress(b"\0" * (1 << 20)) for _ in range(inflated >> 20)] + [comp.flush()])
    raw = b"".join(b"\0" + bytes(8) for _ in range(8))
    iccp = png_chunk(b"iCCP", b"bomb\0\0" + profile)
    return _write(folder / "huge_iccp.png", png_bytes(8, 8, zlib.compress(raw), extra=iccp))


def make_png_huge_text(folder: Path, inflated: int = 50_000_000) -> Path:
    comp = zlib.compressobj(9)
    text = b"".join([comp.compress(b"a" * (1 << 20)) for _ in range(inflated >> 20)] + [comp.flush()])
    raw = b"".join(b"\0" + bytes(8) for _ in range(8))
    ztxt = png_chunk(b"zTXt", b"Comment\0\0" + text)
    return _write(folder / "huge_text.png", png_bytes(8, 8, zlib.compress(raw), extra=ztxt))


def make_jpeg_header_bomb(folder: Path) -> Path:
    """A valid small JPEG whose SOF0 frame header is patched to 65000 x 65000."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (9, 99, 199)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    return _write(folder / "header_bomb.jpg", bytes(data))


def make_gif_header_bomb(folder: Path) -> Path:
    data = bytearray(encode(Image.new("P", (8, 8), 1), "GIF"))
    data[6:10] = struct.pack("<HH", 65000, 65000)  # logical screen size
    idx = data.index(b"\x2c")  # image descriptor: frame size too
    data[idx + 5:idx + 9] = struct.pack("<HH", 65000, 65000)
    return _write(folder / "header_bomb.gif", bytes(data))


def make_tiff_header_bomb(folder: Path) -> Path:
    """A little-endian TIFF whose ImageWidth/ImageLength tags say 100000 x 100000."""
    data = bytearray(encode(Image.new("L", (8, 8), 7), "TIFF"))
    (ifd,) = struct.unpack("<I", data[4:8])
    (n,) = struct.unpack("<H", data[ifd:ifd + 2])
    for i in range(n):
        at = ifd + 2 + 12 * i
        tag, typ = struct.unpack("<HH", data[at:at + 4])
        if tag in (256, 257):  # width, length
            data[at + 2:at + 12] = struct.pack("<HII", 4, 1, 100_000)
    return _write(folder / "header_bomb.tif", bytes(data))


# -- colour-managed and unusual images -------------------------------------------------

ADOBE_RGB_D50 = ((0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457))
"""Adobe RGB (1998) colorants adapted to D50, as in Adobe's own profile (X, Y, Z per primary)."""


def icc_tags(profile: bytes) -> dict[bytes, tuple[int, int]]:
    (n,) = struct.unpack(">I", profile[128:132])
    out = {}
    for i in range(n):
        sig, off, size = struct.unpack(">4sII", profile[132 + 12 * i:144 + 12 * i])
        out[sig] = (off, size)
    return out


def icc_colorants(profile: bytes) -> np.ndarray:
    """3x3 matrix, columns = rXYZ, gXYZ, bXYZ of a matrix/TRC RGB profile."""
    tags = icc_tags(profile)
    cols = []
    for sig in (b"rXYZ", b"gXYZ", b"bXYZ"):
        off, _ = tags[sig]
        cols.append([v / 65536 for v in struct.unpack(">3i", profile[off + 8:off + 20])])
    return np.array(cols).T


def srgb_profile_bytes() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def profile_with_primaries(primaries=ADOBE_RGB_D50) -> bytes:
    """LittleCMS's sRGB profile with its colorants replaced: sRGB curves, wider primaries.

    The result is an 'Adobe-RGB-like' profile: the same (128, 64, 200) means a different
    colour than in sRGB, so a loader that ignores it gives visibly wrong pixels.
    """
    prof = bytearray(srgb_profile_bytes())
    tags = icc_tags(bytes(prof))
    for sig, xyz in zip((b"rXYZ", b"gXYZ", b"bXYZ"), primaries):
        off, _ = tags[sig]
        prof[off + 8:off + 20] = struct.pack(">3i", *(round(v * 65536) for v in xyz))
    prof[84:100] = bytes(16)  # profile id (MD5) no longer matches: zero means 'not computed'
    return bytes(prof)


def srgb_decode(v: np.ndarray) -> np.ndarray:
    c = v / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def srgb_encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    c = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.round(c * 255.0)


def reference_profile_to_srgb(rgb: np.ndarray, profile: bytes) -> np.ndarray:
    """Slow, obvious reference: sRGB curve -> XYZ by the profile's colorants -> sRGB."""
    m_src = icc_colorants(profile)
    m_dst = icc_colorants(srgb_profile_bytes())
    lin = srgb_decode(rgb.reshape(-1, 3).astype(np.float64))
    out = lin @ (np.linalg.inv(m_dst) @ m_src).T
    return srgb_encode(out).reshape(rgb.shape).astype(np.uint8)


def make_cmyk_jpeg(folder: Path) -> tuple[Path, np.ndarray]:
    """CMYK JPEG of four flat 16x16 patches; returns the path and the expected sRGB (naive)."""
    patches = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 128)]
    expected_px = [(255, 255, 255), (0, 255, 255), (0, 0, 0), (127, 127, 127)]
    img = Image.new("CMYK", (64, 16))
    exp = np.zeros((16, 64, 3), np.uint8)
    for i, (c, e) in enumerate(zip(patches, expected_px)):
        img.paste(c, (16 * i, 0, 16 * i + 16, 16))
        exp[:, 16 * i:16 * i + 16] = e
    return save(img, folder / "cmyk.jpg", quality=100), exp


def make_animated(folder: Path, fmt: str) -> Path:
    frames = [Image.new("RGB", (20, 10), c) for c in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    path = folder / f"animated.{fmt.lower()}"
    kw = {"lossless": True} if fmt == "WEBP" else {}
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, **kw)
    return path


def make_multipage_tiff(folder: Path) -> Path:
    first = Image.fromarray(asymmetric_rgb())
    thumb = first.resize((10, 6))
    first.save(folder / "pages.tif", save_all=True, append_images=[thumb], compression="tiff_lzw")
    return folder / "pages.tif"


def make_float_rgb_tiff(folder: Path) -> Path:
    """32-bit float RGB TIFF: Pillow has no mode for it, so the loader must refuse it cleanly."""
    import cv2
    path = folder / "float_rgb.tif"
    cv2.imwrite(str(path), np.random.default_rng(0).random((12, 16, 3), dtype=np.float32))
    return path


# -- the bad corpus: every kind must give ImageLoadError --------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _truncated(fmt: str, ext: str, keep: float = 0.5) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        data = encode(Image.fromarray(blocky_rgb(128, 128)), fmt)
        return _write(folder / f"truncated_{fmt.lower()}.{ext}", data[: int(len(data) * keep)])
    return make


def _png_bad_idat(folder: Path) -> Path:
    raw = b"".join(b"\0" + bytes(range(32)) for _ in range(32))
    idat = bytearray(zlib.compress(raw))
    idat[2:12] = b"\xff" * 10  # corrupt deflate stream
    return _write(folder / "bad_idat.png", png_bytes(32, 32, bytes(idat)))


BAD_KINDS: dict[str, Callable[[Path], Path]] = {
    "zero_bytes": lambda d: _write(d / "empty.jpg", b""),
    "text_named_jpg": lambda d: _write(d / "notes.jpg", b"This is not a painting.\nJust text.\n"),
    "html_named_jpg": lambda d: _write(d / "page.jpg", b"<!DOCTYPE html><html><body>404</body></html>"),
    "random_bytes": lambda d: _write(d / "noise.png", np.random.default_rng(1).bytes(4096)),
    "jpeg_magic_only": lambda d: _write(d / "magic.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 12),
    "png_signature_only": lambda d: _write(d / "sig.png", b"\x89PNG\r\n\x1a\n"),
    "truncated_jpeg": _truncated("JPEG", "jpg"),
    "truncated_png": _truncated("PNG", "png"),
    "truncated_webp": _truncated("WEBP", "webp"),
    "truncated_tiff": _truncated("TIFF", "tif", 0.3),
    "png_bad_idat": _png_bad_idat,
    "png_header_bomb": make_png_header_bomb,
    "jpeg_header_bomb": make_jpeg_header_bomb,
    "gif_header_bomb": make_gif_header_bomb,
    "tiff_header_bomb": make_tiff_header_bomb,
    "png_huge_iccp": make_png_huge_iccp,
    "png_huge_ztxt": make_png_huge_text,
    "eps_not_allowed": lambda d: _write(d / "art.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"),
    "float_rgb_tiff": make_float_rgb_tiff,
}
"""Every bad file kind: name -> writer(folder) -> path."""


def write_bad_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder) for name, make in BAD_KINDS.items()}


def huge_jpeg_bytes(width: int, height: int) -> bytes:
    """A width x height baseline JPEG built in O(width) memory: a horizontal grey ramp.

    One 16-pixel MCU row is encoded with a restart marker after each row; every row of a
    ramp that is constant down the columns encodes to the same bytes, so the scan is that
    segment repeated with RST0..RST7 cycling, and SOF0's height is patched. Only the decoder
    ever sees the full size.
    """
    ramp = np.linspace(16, 240, width).astype(np.uint8)
    strip = Image.fromarray(np.broadcast_to(ramp, (16, width)).copy()).convert("RGB")
    data = encode(strip, "JPEG", quality=75, subsampling=2, restart_marker_rows=1)
    sos = data.index(b"\xff\xda")
    scan_start = sos + 2 + struct.unpack(">H", data[sos + 2:sos + 4])[0]
    scan = data[scan_start:data.rindex(b"\xff\xd9")]
    if b"\xff\xd0" in scan:  # a trailing restart marker before EOI is not expected here
        scan = scan[:scan.index(b"\xff\xd0")]
    header = bytearray(data[:scan_start])
    sof = header.index(b"\xff\xc0")
    rows = -(-height // 16)
    assert rows * 16 == height, "height must be a multiple of 16"
    header[sof + 5:sof + 7] = struct.pack(">H", height)
    body = b"".join(scan + (b"\xff" + bytes([0xD0 + i % 8]) if i < rows - 1 else b"")
                    for i in range(rows))
    return bytes(header) + body + b"\xff\xd9"
