"""Writing preview frames: MP4 (imageio-ffmpeg), GIF and PNG (Pillow), atomically."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import ExportError, InputError
from ..io.atomic import atomic_path, write_atomic

log = logging.getLogger(__name__)

CLIP_SUFFIXES = (".mp4", ".gif")
STILL_SUFFIXES = (".png", ".jpg", ".jpeg")


def _check_frame(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        got = f"{getattr(frame, 'dtype', type(frame).__name__)} {getattr(frame, 'shape', '')}"
        raise InputError(f"frames must be uint8 arrays of shape (H, W, 3), got {got}")
    return frame


def _folder(path: Path) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"{path}: the folder {folder} does not exist", hint="create it first")
    return folder


def encode_still(frame: np.ndarray, suffix: str) -> bytes:
    """One frame as PNG or JPEG bytes."""
    from PIL import Image
    buf = io.BytesIO()
    img = Image.fromarray(_check_frame(frame))
    if suffix.lower() == ".png":
        img.save(buf, format="PNG", optimize=False, compress_level=6)
    else:
        img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def encode_gif(frames: Iterable[np.ndarray], fps: int) -> bytes:
    """Frames as a looping GIF with one shared palette, so colours do not flicker.

    The palette comes from a sample of the frames with octree quantisation, which keeps small
    distinct colours (a white bird on a sky) that median cut would merge away.
    """
    from PIL import Image
    arrays = [_check_frame(f) for f in frames]
    if not arrays:
        raise InputError("no frames to write")
    step = max(1, len(arrays) // 8)
    sample = Image.fromarray(np.concatenate([a[::2, ::2] for a in arrays[::step]], axis=0))
    palette = sample.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    quantized = [Image.fromarray(a).quantize(palette=palette, dither=Image.Dither.NONE) for a in arrays]
    buf = io.BytesIO()
    quantized[0].save(buf, format="GIF", save_all=True, append_images=quantized[1:],
                      duration=max(20, round(1000 / fps)), loop=0, optimize=False, disposal=1)
    return buf.getvalue()


def write_mp4(frames: Iterable[np.ndarray], path: Path, fps: int) -> Path:
    """H.264 MP4 (yuv420p, so every player opens it); odd sizes lose their last row/column."""
    import imageio.v2 as imageio
    _folder(path)
    count = 0
    with atomic_path(path, ".mp4") as tmp:
        writer = imageio.get_writer(str(tmp), format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                    pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                                    output_params=["-preset", "veryfast", "-crf", "23"])
        try:
            for frame in frames:
                f = _check_frame(frame)
                writer.append_data(np.ascontiguousarray(f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2]))
                count += 1
        finally:
            writer.close()
        if count == 0:
            raise InputError("no frames to write")
    return path


def write_clip(frames: Iterable[np.ndarray], path: str | os.PathLike[str], fps: int) -> Path:
    """Write frames to ``path``: .mp4 or .gif (chosen by the suffix)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".mp4":
        return write_mp4(frames, target, fps)
    if suffix == ".gif":
        _folder(target)
        return write_atomic(target, encode_gif(frames, fps))
    raise InputError(f"{target}: unsupported clip type {target.suffix!r}", hint="use .mp4 or .gif")


def write_still(frame: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write one frame to ``path`` (.png or .jpg)."""
    target = Path(path)
    if target.suffix.lower() not in STILL_SUFFIXES:
        raise InputError(f"{target}: unsupported image type {target.suffix!r}", hint="use .png or .jpg")
    _folder(target)
    return write_atomic(target, encode_still(frame, target.suffix))
