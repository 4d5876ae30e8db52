"""Painting: the pixels of one artwork plus what we know about it, and safe loading.

Images in memory are ``uint8`` sRGB arrays of shape (H, W, 3) throughout paint2vr; an
alpha channel, when the file has one, is kept separately as a bool mask (True = opaque).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ImageLoadError, InputError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadOptions:
    """Options of :func:`load_painting`."""

    max_pixels: int = 400_000_000
    """Refuse images with more pixels than this before decoding them (decompression-bomb guard)."""
    max_side: int = 8192
    """Downscale (keeping the aspect ratio) so that the longer side is at most this many pixels."""
    max_file_bytes: int = 2_000_000_000
    """Refuse files larger than this many bytes."""


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


@dataclass(eq=False)
class Painting:
    """One painting ready for the pipeline.

    Attributes:
        rgb: (H, W, 3) uint8 sRGB pixels.
        info: attribution and licence.
        sha256: hex digest of the source file's bytes ('' for in-memory images).
        alpha: optional (H, W) bool mask, True where the painting is opaque.
        original_size: (width, height) of the file before any downscaling.
    """

    rgb: np.ndarray
    info: PaintingInfo = field(default_factory=PaintingInfo)
    sha256: str = ""
    alpha: np.ndarray | None = None
    original_size: tuple[int, int] | None = None

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
        from PIL import Image
        img = Image.fromarray(self.rgb)
        img.thumbnail((512, 512))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def __repr__(self) -> str:
        name = self.info.title or self.info.id or "untitled"
        return f"Painting({name!r}, {self.width}x{self.height}, sha256={self.sha256[:12]})"


def _fail(path: Path, what: str, hint: str | None = None) -> ImageLoadError:
    return ImageLoadError(f"{path}: {what}", hint=hint)


def _to_rgb_alpha(img, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """Convert any PIL mode to uint8 sRGB (+ optional alpha mask)."""
    from PIL import Image, ImageCms

    icc = img.info.get("icc_profile")
    if img.mode == "CMYK" or icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc)) if icc else None
            if src is not None:
                out_mode = "RGBA" if "A" in img.getbands() else "RGB"
                if img.mode not in ("RGB", "RGBA", "CMYK"):
                    img = img.convert("RGB")
                    out_mode = "RGB"
                img = ImageCms.profileToProfile(img, src, ImageCms.createProfile("sRGB"),
                                                outputMode=out_mode)
        except (ImageCms.PyCMSError, OSError, ValueError) as exc:
            log.warning("%s: ignoring unusable ICC profile (%s)", path, exc)
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        if mode == "F" and arr.max(initial=0) <= 1.0:
            hi = 1.0
        grey = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA"))
        alpha = rgba[..., 3] >= 128
        return np.ascontiguousarray(rgba[..., :3]), (None if alpha.all() else alpha)
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))), None


def load_painting(path: str | os.PathLike[str], info: PaintingInfo | None = None,
                  options: LoadOptions = DEFAULT_LOAD_OPTIONS) -> Painting:
    """Read a painting file safely.

    Applies EXIF orientation, converts CMYK/ICC/16-bit/float/palette/grey to sRGB uint8,
    keeps alpha as a mask, takes the first frame of animations (with a warning), refuses
    images above ``options.max_pixels`` before decoding, and downscales to ``max_side``.

    Raises:
        ImageLoadError: the file is missing, empty, not an image, truncated or too large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise _fail(p, "no such file")
    if not p.is_file():
        raise _fail(p, "not a regular file")
    size = p.stat().st_size
    if size == 0:
        raise _fail(p, "the file is empty (0 bytes)", "re-export or re-download it")
    if size > options.max_file_bytes:
        raise _fail(p, f"file is {size} bytes, over the {options.max_file_bytes}-byte limit")
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None  # our own limit below, checked before decoding
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > options.max_pixels:
                raise _fail(p, f"{w}x{h} = {w * h} pixels is over the limit of {options.max_pixels}",
                            "raise LoadOptions.max_pixels (--max-pixels) if the file is trusted")
            if getattr(img, "n_frames", 1) > 1:
                log.warning("%s: animated image with %d frames; using the first", p, img.n_frames)
                img.seek(0)
            if img.mode in ("RGB", "RGBA", "L", "P", "LA", "CMYK") and max(w, h) > 2 * options.max_side:
                img.draft("RGB" if img.mode != "CMYK" else img.mode, (options.max_side, options.max_side))
            img.load()
            img = ImageOps.exif_transpose(img)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise _fail(p, "not a readable image (unknown or corrupt format)",
                    "check that the file is a JPEG, PNG, WebP or TIFF") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _fail(p, f"corrupt or truncated image ({exc})", "re-export or re-download it") from None
    original = img.size
    if max(img.size) > options.max_side:
        scale = options.max_side / max(img.size)
        new = (max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale)))
        img = img.resize(new, Image.Resampling.LANCZOS, reducing_gap=3.0) if img.mode not in ("I;16", "I;16B", "I;16L") else img.convert("I").resize(new)
    rgb, alpha = _to_rgb_alpha(img, p)
    base = info or PaintingInfo()
    if not base.id:
        base = dataclasses.replace(base, id=p.stem)
    if not base.source:
        base = dataclasses.replace(base, source=str(p))
    return Painting(rgb=rgb, info=base, sha256=digest, alpha=alpha, original_size=original)
