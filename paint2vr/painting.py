"""Painting: the pixels of one artwork plus what we know about it, and safe loading.

Images in memory are ``uint8`` sRGB arrays of shape (H, W, 3) throughout paint2vr; an
alpha channel, when the file has one, is kept separately as a bool mask (True = opaque)
and the colour is composited over white, so ``rgb`` alone always looks right.

Painting files are untrusted input: :func:`load_painting` refuses what it cannot read
safely with one :class:`~paint2vr.errors.ImageLoadError` (see docs/security.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import logging
import os
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

from .border import cut_border, find_border
from .config import opt
from .errors import ImageLoadError, InputError, PaintingNotFoundError
from .io.reading import open_regular, sha256_at_most

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    """Options of :func:`load_painting`."""

    max_pixels: int = opt(400_000_000, ge=1)
    """Refuse images with more pixels than this before decoding them (decompression-bomb guard)."""
    max_side: int = opt(8192, ge=1)
    """Downscale (keeping the aspect ratio) so that the longer side is at most this many pixels."""
    max_file_bytes: int = opt(2_000_000_000, ge=1)
    """Refuse files larger than this many bytes."""
    max_decode_bytes: int = 1_000_000_000
    """Refuse images whose decoding would need more memory than this many bytes, estimated from the header before decoding (frame size x bytes per pixel, plus the full-size copies conversion makes; JPEG after reduced-scale decoding)."""
    trim_border: bool = True
    """Cut off a photograph's uniform border (a black or white mat, scanner padding: :func:`paint2vr.border.find_border`) after downscaling; ``Painting.border`` and the record say how much. Off: the painting exactly as the file holds it."""


DEFAULT_LOAD_OPTIONS = LoadOptions()


@dataclass(frozen=True)
class PaintingInfo:
    """Who made a painting and under what terms we hold it; copied into every exported file."""

    id: str = ""
    """Stable identifier of the painting in its collection (defaults to the file's stem)."""
    title: str = ""
    """Title of the work."""
    artist: str = ""
    """Artist's name."""
    license: str = ""
    """Licence under which the image is used (for example 'public-domain' or a contract id)."""
    attribution: str = ""
    """Attribution line to show with the scene (becomes the glTF asset.copyright)."""
    source: str = ""
    """Where the image came from (path or URL)."""



def preview_png(image: np.ndarray, side: int = 512) -> bytes:
    """A notebook preview: ``image`` (uint8, (H, W) or (H, W, 3)) as PNG bytes, at most
    ``side`` pixels on its longer side."""
    from PIL import Image
    img = Image.fromarray(image)
    img.thumbnail((side, side))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()

@dataclass(eq=False)
class Painting:
    """One painting ready for the pipeline.

    Attributes:
        rgb: (H, W, 3) uint8 sRGB pixels.
        info: attribution and licence.
        sha256: hex digest of the source file's bytes ('' for in-memory images).
        alpha: optional (H, W) bool mask, True where the painting is opaque.
        original_size: (width, height) of the file before any downscaling.
        border: (top, bottom, left, right) lines of photographic border cut off at loading,
            at the loaded size (``LoadOptions.trim_border``).
    """

    rgb: np.ndarray
    info: PaintingInfo = field(default_factory=PaintingInfo)
    sha256: str = ""
    alpha: np.ndarray | None = None
    original_size: tuple[int, int] | None = None
    border: tuple[int, int, int, int] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        rgb = self.rgb
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            got = f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}"
            raise InputError(f"Painting.rgb must be a uint8 array of shape (H, W, 3), got {got}")
        if rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise InputError(f"Painting.rgb is empty: shape {rgb.shape}")
        if self.alpha is not None and (self.alpha.shape != rgb.shape[:2] or self.alpha.dtype != bool):
            raise InputError(f"Painting.alpha must be bool of shape {rgb.shape[:2]}, "
                             f"got {self.alpha.dtype} {self.alpha.shape}")
        if self.original_size is None:
            self.original_size = (rgb.shape[1], rgb.shape[0])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    @classmethod
    def from_array(cls, rgb: np.ndarray, **info: str) -> "Painting":
        """Wrap an in-memory (H, W, 3) uint8 array; ``info`` fills :class:`PaintingInfo`."""
        arr = np.ascontiguousarray(rgb)
        return cls(rgb=arr, info=PaintingInfo(**info),
                   sha256=hashlib.sha256(arr.tobytes()).hexdigest())

    def _repr_png_(self) -> bytes:
        return preview_png(self.rgb)

    def __repr__(self) -> str:
        name = self.info.title or self.info.id or "untitled"
        return f"Painting({name!r}, {self.width}x{self.height}, sha256={self.sha256[:12]})"


# --------------------------------------------------------------------------------------
# Loading. Order matters for memory: header checks, then a (JPEG: reduced-scale) decode,
# then bit depth -> 8 bit and downscaling, and only then orientation, colour and alpha,
# which each copy the image and so run on the small one.

ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP")
"""Pillow formats :func:`load_painting` opens (JPEG includes camera MPO files); everything else (EPS, which runs Ghostscript,
PSD, JPEG 2000, AVIF, ...) is refused, to keep the decoders exposed to untrusted files few."""

_FORMAT_HINT = "save it as JPEG, PNG, WebP or TIFF (8 or 16 bits per channel)"
_CORRUPT_HINT = "the file is damaged or incomplete: re-export or re-download it"
_PILLOW_LIMIT_LOCK = threading.Lock()
_DEPTH_PNG_KEY = "paint2vr:depth"
"""The text chunk of depth PNGs (depth.files.PNG_KEY; core cannot import the depth stage)."""
_WHITE = 255


def _display(path: Path) -> str:
    """The path for a one-line message (repr when the name holds control characters)."""
    s = str(path)
    return s if s.isprintable() else repr(s)


def _fail(path: Path, what: str, hint: str | None = None) -> ImageLoadError:
    return ImageLoadError(f"{_display(path)}: {what}", hint=hint)


def _one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _check_options(options: LoadOptions) -> None:
    if not isinstance(options, LoadOptions):
        raise InputError(f"options must be LoadOptions, got {type(options).__name__}",
                         hint="use paint2vr.painting.LoadOptions(...)")
    for name in ("max_pixels", "max_side", "max_file_bytes", "max_decode_bytes"):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"LoadOptions.{name} must be a positive integer, got {value!r}",
                             hint=f"for example {getattr(DEFAULT_LOAD_OPTIONS, name)}")
    if not isinstance(options.trim_border, bool):
        raise InputError(f"LoadOptions.trim_border must be True or False, got {options.trim_border!r}")


def _open_regular_file(p: Path, options: LoadOptions) -> BinaryIO:
    """Open ``p`` for reading, refusing non-regular and oversized files (see :mod:`.io.reading`:
    O_NONBLOCK, fstat on the open descriptor, size checked on the handle)."""
    return open_regular(p, options.max_file_bytes, error=ImageLoadError, missing=PaintingNotFoundError)


def _sha256(f: BinaryIO, p: Path, options: LoadOptions) -> str:
    digest = sha256_at_most(f, options.max_file_bytes, str(p), error=ImageLoadError)
    f.seek(0)
    return digest


def _not_an_image(p: Path, prefix: bytes) -> ImageLoadError:
    """Say what the file looks like when it is not an image we open (HTML from a failed
    download and text files are common)."""
    head = prefix.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")):
        return _fail(p, "is an HTML/XML document, not an image (a failed download?)",
                     "download the image file itself")
    try:
        text = prefix.decode("utf-8")
        is_text = all(c.isprintable() or c in "\r\n\t" for c in text[:-4])  # tolerate a cut char
    except UnicodeDecodeError:
        is_text = False
    if is_text:
        return _fail(p, "is a text file, not an image", _FORMAT_HINT)
    return _fail(p, f"not a supported image (formats read: {', '.join(ALLOWED_FORMATS)})", _FORMAT_HINT)


@contextlib.contextmanager
def _pillow_guard(max_pixels: int, p: Path) -> Iterator[None]:
    """Set Pillow's own decompression-bomb limit to ours while one file is opened and decoded,
    and turn Pillow's warnings about damaged files into log records naming the file.

    Pillow refuses above ``2 * Image.MAX_IMAGE_PIXELS`` (and checks GIF frames and TIFF
    tiles we do not see); at its default (~179 MP) it would refuse images that
    ``LoadOptions.max_pixels`` allows. Image.MAX_IMAGE_PIXELS and the warning filters are
    process globals, so they are changed under a lock and restored; Pillow's bomb warning,
    which fires between the limit and twice it, is dropped (we refuse those sizes ourselves,
    with a clearer message).
    """
    from PIL import Image

    with _PILLOW_LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = max_pixels
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    for message in dict.fromkeys(_one_line(w.message) for w in caught):
        log.warning("%s: %s", _display(p), message)


def _decode(f: BinaryIO, p: Path, options: LoadOptions) -> tuple[Any, tuple[int, int], int]:
    """Header checks, then decode the first frame (JPEG: at the smallest DCT scale >= target).

    Returns the loaded image, the (width, height) its header declares and its EXIF orientation.
    """
    from PIL import Image, UnidentifiedImageError

    with _pillow_guard(options.max_pixels, p):
        try:
            img = Image.open(f, formats=ALLOWED_FORMATS)
        except UnidentifiedImageError:
            f.seek(0)
            raise _not_an_image(p, f.read(64)) from None
        except Image.DecompressionBombError as exc:
            raise _fail(p, f"refused: over the limit of {options.max_pixels:,} pixels, a possible "
                           f"decompression bomb ({_one_line(exc)})",
                        "raise --max-pixels (LoadOptions.max_pixels) if the file is trusted") from exc
        w, h = img.size
        if w < 1 or h < 1:
            raise _fail(p, f"the image has no pixels ({w}x{h})", _CORRUPT_HINT)
        if w * h > options.max_pixels:
            raise _fail(p, f"{w}x{h} = {w * h:,} pixels is over the limit of {options.max_pixels:,}",
                        "raise --max-pixels (LoadOptions.max_pixels) if the file is trusted, "
                        "or downscale it first")
        if img.format == "PNG" and _DEPTH_PNG_KEY in img.info:
            raise _fail(p, "is a depth map written by paint2vr, not a painting",
                        "give it as the depth of its painting: paint2vr convert PAINTING --depth FILE")
        if getattr(img, "is_animated", False):
            log.warning("%s: %s has several frames or pages; using the first", _display(p), img.format)
        if img.format in ("JPEG", "MPO") and max(w, h) > options.max_side:
            img.draft(None, _target_size((w, h), options.max_side))
        need = decode_bytes(img.mode, img.size, options.max_side)
        if need > options.max_decode_bytes:
            raise _fail(p, f"{w}x{h} {img.format} ({img.mode}) would need about {need / 1e6:,.0f} MB to decode, "
                           f"over the limit of {options.max_decode_bytes / 1e6:,.0f} MB",
                        "raise --max-decode-bytes (LoadOptions.max_decode_bytes) if the file is trusted, "
                        "or save it smaller (JPEG decodes at reduced scale)")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
        orientation = _orientation(img, p)
    return img, (w, h), orientation


_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "La": 2, "PA": 2, "I;16": 2, "I;16B": 2, "I;16L": 2,
                    "I;16N": 2, "RGB": 3, "YCbCr": 3, "LAB": 3, "HSV": 3, "RGBA": 4, "RGBa": 4, "RGBX": 4,
                    "CMYK": 4, "I": 4, "F": 4}
# Full-size copies _resizable makes before downscaling, in bytes per pixel: 16-bit -> a uint32
# array and the 8-bit result; 32-bit/float -> float32 work arrays and the result; palette ->
# RGB(A); bilevel -> L; premultiplied / padded -> a converted copy.
_CONVERSION_BYTES = {"I;16": 5, "I;16B": 5, "I;16L": 5, "I;16N": 5, "I": 9, "F": 9, "P": 4, "PA": 4,
                     "1": 1, "RGBa": 4, "La": 2, "RGBX": 3}


def decode_bytes(mode: str, size: tuple[int, int], max_side: int) -> int:
    """Estimated peak bytes to decode an image of ``mode`` and ``size`` and bring it to at most
    ``max_side``: the decoded frame, the full-size conversion copies, the resampling passes."""
    w, h = size
    tw, th = _target_size(size, max_side)
    per = _BYTES_PER_PIXEL.get(mode, 4)
    full = w * h * (per + _CONVERSION_BYTES.get(mode, 0))
    if (tw, th) == (w, h):
        return full
    return full + tw * h * 4 + tw * th * 4  # Lanczos is separable: a (tw, h) pass, then the result


def _target_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    w, h = size
    if max(w, h) <= max_side:
        return w, h
    scale = max_side / max(w, h)
    return max(1, min(max_side, round(w * scale))), max(1, min(max_side, round(h * scale)))


def _orientation(img: Any, p: Path) -> int:
    """The EXIF orientation (1..8); 1 when absent or unreadable (the pixels are still good)."""
    try:
        value = img.getexif().get(0x0112, 1)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    except Exception as exc:  # any parser error in metadata
        log.warning("%s: ignoring unreadable EXIF data (%s)", _display(p), _one_line(exc))
        return 1


def _high_depth_to_8bit(img: Any) -> Any:
    """16-bit, 32-bit integer and float greyscale -> 8-bit 'L'.

    16-bit: round(v * 255 / 65535). 32-bit integer: treated as 16-bit if any value exceeds
    255, else as 8-bit. Float: [0, 1] if the finite maximum is <= 1, else [0, 255] if <= 255,
    else [0, 65535]; NaN becomes 0, +inf white. Values are taken as already sRGB-encoded.
    """
    from PIL import Image

    if img.mode.startswith("I;16"):
        arr = np.asarray(img).astype(np.uint32)
        return Image.fromarray(((arr * 255 + 32767) // 65535).astype(np.uint8))
    arr = np.array(img, dtype=np.float32)
    finite = np.isfinite(arr)
    top = float(arr.max(initial=0.0, where=finite))  # one +inf must not darken the rest
    if img.mode == "F" and top <= 1.0:
        hi = 1.0
    elif top <= 255.0:
        hi = 255.0
    else:
        hi = 65535.0
    np.copyto(arr, np.where(arr > 0, np.float32(hi), np.float32(0.0)), where=~finite)  # NaN, -inf: 0
    np.clip(arr * np.float32(255.0 / hi) + np.float32(0.5), 0, 255, out=arr)
    return Image.fromarray(arr.astype(np.uint8))


def _resizable(img: Any) -> Any:
    """A mode Pillow resamples properly (it uses nearest neighbour for '1' and 'P')."""
    mode = img.mode
    if mode.startswith("I") or mode == "F":
        return _high_depth_to_8bit(img)
    if mode == "1":
        return img.convert("L")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if has_alpha else "RGB")
    if mode in ("RGBa", "La"):
        return img.convert(mode.upper())
    if mode == "RGBX":
        return img.convert("RGB")
    return img


@functools.cache
def _srgb_profile() -> Any:
    from PIL import ImageCms
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _color_to_srgb(img: Any, icc: bytes | None, p: Path) -> Any:
    """An image without alpha -> 'RGB' in sRGB, through its ICC profile when it has one."""
    from PIL import ImageCms

    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, src, _srgb_profile(), outputMode="RGB")
        except Exception as exc:  # lcms rejects broken or mismatched profiles in many ways
            log.warning("%s: ignoring unusable ICC profile (%s); assuming sRGB",
                        _display(p), _one_line(exc))
    if img.mode == "LAB":
        lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
        return ImageCms.profileToProfile(img, lab, _srgb_profile(), outputMode="RGB")
    if img.mode == "CMYK":
        log.info("%s: CMYK without an ICC profile; using a naive conversion", _display(p))
    return img if img.mode == "RGB" else img.convert("RGB")  # no copy of an already-RGB image


def _split_alpha(img: Any) -> tuple[Any, Any | None]:
    bands = img.getbands()
    if "A" not in bands:
        return img, None
    alpha = img.getchannel("A")
    return img.convert("L" if img.mode == "LA" else "RGB"), alpha


def _composite_over_white(rgb: np.ndarray, alpha8: np.ndarray) -> np.ndarray:
    """rgb * a + white * (1 - a), rounded, in uint16 arithmetic (exact, no float copy)."""
    a = alpha8[..., None].astype(np.uint16)
    out = rgb.astype(np.uint16) * a + np.uint16(_WHITE) * (255 - a) + 127
    return (out // 255).astype(np.uint8)


def _to_array(img: Any, icc: bytes | None, p: Path) -> tuple[np.ndarray, np.ndarray | None]:
    color, alpha = _split_alpha(img)
    rgb = np.array(_color_to_srgb(color, icc, p), dtype=np.uint8)  # writable, C-contiguous
    if alpha is None:
        return rgb, None
    a8 = np.asarray(alpha, dtype=np.uint8)
    if a8.min(initial=255) == 255:
        return rgb, None
    return _composite_over_white(rgb, a8), a8 >= 128


_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}


def load_painting(path: str | os.PathLike[str], info: PaintingInfo | None = None,
                  options: LoadOptions = DEFAULT_LOAD_OPTIONS) -> Painting:
    """Read a painting file safely into a :class:`Painting`.

    What it does with each kind of input:

    * Refuses, before decoding: missing, empty, non-regular files; files over
      ``options.max_file_bytes``; formats outside :data:`ALLOWED_FORMATS`; images whose header
      says more than ``options.max_pixels`` pixels (decompression bombs).
    * Truncated or corrupt data, oversized PNG text/ICC chunks: refused (never a partial image).
    * JPEG larger than ``max_side`` is decoded at a reduced DCT scale (1/2..1/8), so a
      20k x 20k JPEG needs little memory; other formats are decoded whole, then downscaled
      (Lanczos, ``reducing_gap``) so the longer side is at most ``options.max_side``.
    * EXIF orientation is applied (all 8 values); animated GIF/WebP and multi-page TIFF give
      their first frame, with a logged warning.
    * Colour: an embedded ICC profile (RGB, greyscale, CMYK) is converted to sRGB; CMYK
      without a profile uses Pillow's naive conversion, CIELab TIFF the Lab profile; an
      unusable profile is ignored with a warning. 16-bit is rounded to 8 bit; float and
      32-bit integer greyscale are scaled as :func:`_high_depth_to_8bit` says; palette,
      bilevel and greyscale become RGB.
    * Alpha: ``Painting.alpha`` is the bool mask alpha >= 128 (None when fully opaque), and
      ``rgb`` is composited over white, so what lies under transparent pixels (often black
      or junk) never leaks into depth estimation or textures.
    * Border: with ``options.trim_border`` (the default) a photograph's uniform border (a
      mat, scanner padding; :func:`paint2vr.border.find_border`) is cut off after
      downscaling, and ``Painting.border`` says how many lines on each side.

    Raises:
        InputError: ``options`` or ``info`` has the wrong type or a non-positive limit.
        ImageLoadError: the file cannot be read or is refused; one line naming the file,
            with a hint saying what to do.
    """
    _check_options(options)
    if info is not None and not isinstance(info, PaintingInfo):
        raise InputError(f"info must be PaintingInfo or None, got {type(info).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise InputError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)

    with _open_regular_file(p, options) as f:
        try:
            digest = _sha256(f, p, options)
        except OSError as exc:
            raise _fail(p, f"cannot read ({_one_line(exc)})", "check the file and the disk") from exc
        try:
            img, original, orientation = _decode(f, p, options)
            icc = img.info.get("icc_profile") or None
            img = _resizable(img)
            target = _target_size(img.size, options.max_side)
            if target != img.size:
                from PIL import Image
                img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        except ImageLoadError:
            raise
        except MemoryError as exc:
            raise _fail(p, "out of memory while decoding",
                        "lower --max-pixels or --max-side, or downscale the file first") from exc
        except Exception as exc:
            # Pillow's decoders report bad data with many exception types (OSError,
            # SyntaxError, ValueError, struct.error, EOFError, ...); all mean "unreadable".
            raise _fail(p, f"corrupt, truncated or unsupported image ({_one_line(exc)})",
                        _CORRUPT_HINT) from exc

    if orientation != 1:
        from PIL import Image
        img = img.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
        if orientation >= 5:
            original = (original[1], original[0])
    try:
        rgb, alpha = _to_array(img, icc, p)
    except Exception as exc:
        raise _fail(p, f"cannot convert {img.mode} pixels to sRGB ({_one_line(exc)})", _FORMAT_HINT) from exc
    rgb, alpha, border = _trimmed(rgb, alpha, p, options)
    base = info or PaintingInfo()
    if not base.id:
        base = dataclasses.replace(base, id=p.stem)
    if not base.source:
        base = dataclasses.replace(base, source=str(p))
    return Painting(rgb=rgb, info=base, sha256=digest, alpha=alpha, original_size=original, border=border)


def _trimmed(rgb: np.ndarray, alpha: np.ndarray | None, p: Path, options: LoadOptions):
    """(rgb, alpha, border): without the photograph's border when ``options.trim_border``."""
    border = find_border(rgb) if options.trim_border else (0, 0, 0, 0)
    if not any(border):
        return rgb, alpha, (0, 0, 0, 0)
    log.info("%s: cut off a photograph's border of %s px (top, bottom, left, right)", p.name, border)
    return (*cut_border(rgb, alpha, border), border)


NAME = "load"
"""The loading stage's name (the stage contract, ARCHITECTURE.md)."""


def stage(path: str | os.PathLike[str], options: LoadOptions = DEFAULT_LOAD_OPTIONS) -> Painting:
    """The stage contract's form of :func:`load_painting`: path -> Painting."""
    return load_painting(path, None, options)
