"""User-supplied depth maps: reading and writing ``.npy`` and 16-bit ``.png`` files.

Formats
-------
``.npy``
    float (H, W) metres along the view axis, nearer = smaller. Non-finite or <= 0 values
    mark sky. :func:`write_depth` stores sky as ``+inf``. Read as metric.
``.png`` written by paint2vr (16-bit greyscale with an ``iTXt``/``tEXt`` chunk ``paint2vr:depth``)
    code 0 = sky; code ``c`` in 1..65535 is log depth:
    ``z = near * (far / near) ** ((c - 1) / 65534)``, with ``near``, ``far``, ``sky_depth``
    and ``metric`` stored as JSON in the chunk. The round trip is exact to one code step
    (relative error <= ``log(far / near) / 131068``).
plain 8- or 16-bit greyscale ``.png`` (no chunk, e.g. exported from another tool)
    read as *relative inverse depth* (disparity, brighter = nearer, the convention of
    MiDaS / Depth Anything exports); 0 = sky. Values map linearly in inverse depth onto
    ``[options.near, options.far]``: ``1/z = 1/far + (value / max) * (1/near - 1/far)``.
    Set ``ReadDepthOptions.plain_png = "depth"`` for files where brighter = farther.
``.exr``
    not supported (no OpenEXR reader in the base install); convert to ``.npy``.

A map of another size than the painting is resized to it (with a logged warning) if the
aspect ratios agree within 2 %, refused otherwise.
"""

from __future__ import annotations

import io
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from ..config import check_options, opt
from ..errors import DepthFileError, DepthFileNotFoundError, InputError
from ..io.atomic import write_atomic
from .base import DEFAULT_FAR, DEFAULT_NEAR, DEFAULT_SKY_DEPTH, DepthMap, ModelInfo

log = logging.getLogger(__name__)

PNG_KEY = "paint2vr:depth"
"""Name of the PNG text chunk holding the encoding of a depth PNG."""
_CODES = 65534


@dataclass(frozen=True)
class ReadDepthOptions:
    """Options of :func:`read_depth_file`."""

    near: float = opt(DEFAULT_NEAR, gt=0.0)
    """Nearest depth (metres) a relative map (plain PNG) is stretched to."""
    far: float = opt(DEFAULT_FAR, gt=0.0)
    """Farthest non-sky depth (metres) a relative map (plain PNG) is stretched to."""
    sky_depth: float = opt(DEFAULT_SKY_DEPTH, gt=0.0)
    """Depth given to sky pixels when the file does not say."""
    plain_png: Literal["auto", "disparity", "depth"] = "auto"
    """How a PNG without paint2vr metadata is read: 'disparity' (brighter = nearer), 'depth'
    (brighter = farther), or 'auto': disparity, unless its codes span exactly 1..65535 as
    paint2vr's own log-depth PNG does (an editor dropped the metadata): then log depth, warned."""
    max_aspect_change: float = opt(0.02, ge=0.0, le=1.0)
    """Largest relative aspect-ratio difference from the painting that is resized, not refused."""


DEFAULT_READ_DEPTH_OPTIONS = ReadDepthOptions()


def _info(path: Path) -> ModelInfo:
    return ModelInfo(name=f"file:{path.name}", revision="", license="", commercial=True)


def read_depth_file(path: str | os.PathLike[str], shape: tuple[int, int],
                    options: ReadDepthOptions = DEFAULT_READ_DEPTH_OPTIONS) -> DepthMap:
    """Read a depth map for a painting of ``shape`` = (H, W).

    Raises:
        DepthFileError: missing, unreadable, wrong kind of image, all sky, or an aspect
            ratio that does not match the painting.
    """
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape)):
        raise InputError(f"shape must be (H, W) positive integers, got {shape!r}")
    check_options(options)
    if not 0 < options.near < options.far:
        raise InputError(f"need 0 < near < far, got near={options.near}, far={options.far}")
    p = Path(path)
    if not p.is_file():
        raise DepthFileNotFoundError(f"{p}: no such depth file", hint="give a .npy or .png depth map")
    ext = p.suffix.lower()
    if ext == ".npy":
        depth, sky, metric = _read_npy(p)
    elif ext == ".png":
        depth, sky, metric = _read_png(p, options)
    elif ext == ".exr":
        raise DepthFileError(f"{p}: EXR depth files are not supported",
                             hint="save the map as .npy (float metres) or a 16-bit .png")
    else:
        raise DepthFileError(f"{p}: unknown depth file type {ext or '(none)'!r}",
                             hint="expected .npy or .png")
    if (~sky).sum() == 0:
        raise DepthFileError(f"{p}: every pixel is sky (no finite positive depth)",
                             hint=".npy maps need positive finite metres; PNG code 0 means sky")
    depth, sky = _fit(depth, sky, tuple(int(s) for s in shape), p, options)
    return DepthMap(depth=depth, sky=sky, metric=metric, model=_info(p),
                    extras={"source": str(p)})


def _read_npy(p: Path) -> tuple[np.ndarray, np.ndarray, bool]:
    try:
        arr = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DepthFileError(f"{p}: not a readable .npy array ({exc})",
                             hint="save with numpy.save(path, depth.astype('float32'))") from None
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim != 2 or arr.dtype.kind not in "fiu" or arr.size == 0:
        raise DepthFileError(f"{p}: expected a 2-D numeric array (H, W), got {arr.dtype} {arr.shape}")
    a = arr.astype(np.float64)
    sky = ~np.isfinite(a) | (a <= 0)
    finite = a[~sky]
    sky_depth = float(finite.max()) * 2.0 if finite.size else 1.0
    depth = np.where(sky, sky_depth, a).astype(np.float32)
    return depth, sky, True


def _read_png(p: Path, o: ReadDepthOptions) -> tuple[np.ndarray, np.ndarray, bool]:
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(p) as img:
            img.load()
            meta = img.info.get(PNG_KEY) or getattr(img, "text", {}).get(PNG_KEY)
            mode = img.mode
            arr = np.asarray(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DepthFileError(f"{p}: not a readable PNG ({exc})") from None
    if arr.ndim == 3:
        if arr.shape[2] >= 3 and not (np.array_equal(arr[..., 0], arr[..., 1])
                                      and np.array_equal(arr[..., 0], arr[..., 2])):
            raise DepthFileError(f"{p}: a colour PNG is not a depth map (mode {mode})",
                                 hint="depth PNGs are greyscale, 8- or 16-bit")
        arr = arr[..., 0]
    codes = arr.astype(np.float64)
    sky = codes <= 0
    if meta:
        try:
            m = json.loads(meta)
            near, far = float(m["near"]), float(m["far"])
            sky_depth = float(m.get("sky_depth", far * 2))
            metric = bool(m.get("metric", False))
            if m.get("encoding") != "log" or not 0 < near <= far:
                raise ValueError(f"unsupported encoding {m.get('encoding')!r} or range {near}..{far}")
        except (ValueError, KeyError, TypeError) as exc:
            raise DepthFileError(f"{p}: bad {PNG_KEY} metadata ({exc})",
                                 hint="rewrite the file with paint2vr.depth.write_depth") from None
        t = (codes - 1.0) / _CODES
        depth = near * (far / near) ** t if far > near else np.full_like(codes, near)
        depth = np.where(sky, sky_depth, depth)
        return depth.astype(np.float32), sky, metric
    top = float(codes.max())
    if top <= 0:
        return np.full(codes.shape, o.sky_depth, np.float32), sky, False
    if o.plain_png == "auto" and looks_like_log_depth(codes, sky):
        log.warning("%s: no %s metadata, but its codes span 1..65535 like a depth PNG paint2vr wrote "
                    "(brighter = farther; an image editor drops the metadata): reading it as log depth "
                    "from near=%g to far=%g m. If brighter means nearer, read it with plain_png='disparity'",
                    p, PNG_KEY, o.near, o.far)
        t = (codes - 1.0) / _CODES
        return np.where(sky, o.sky_depth, o.near * (o.far / o.near) ** t).astype(np.float32), sky, False
    x = codes / top
    if o.plain_png == "depth":
        x = 1.0 - x  # brighter = farther: flip into disparity order
        sky = np.zeros_like(sky)
    inv = 1.0 / o.far + x * (1.0 / o.near - 1.0 / o.far)
    depth = np.where(sky, o.sky_depth, 1.0 / np.maximum(inv, 1e-12))
    return depth.astype(np.float32), sky, False


def looks_like_log_depth(codes: np.ndarray, sky: np.ndarray) -> bool:
    """Whether chunk-less PNG codes are paint2vr's log depth: its nearest land pixel is code 1
    and its farthest 65535 (write_depth maps near/far onto them), sky 0."""
    land = codes[~sky]
    return bool(land.size) and float(land.min()) == 1.0 and float(land.max()) == 65535.0


def _fit(depth: np.ndarray, sky: np.ndarray, shape: tuple[int, int], p: Path,
         o: ReadDepthOptions) -> tuple[np.ndarray, np.ndarray]:
    if depth.shape == shape:
        return depth, sky
    (h, w), (H, W) = depth.shape, shape
    if abs((w / h) / (W / H) - 1.0) > o.max_aspect_change:
        raise DepthFileError(f"{p}: depth map is {w}x{h} but the painting is {W}x{H} "
                             f"(aspect {w / h:.3f} vs {W / H:.3f})",
                             hint="make the depth map the same size (or aspect ratio) as the painting")
    log.warning("%s: depth map is %dx%d, painting %dx%d: resizing the depth map", p, w, h, W, H)
    logd = cv2.resize(np.log(depth).astype(np.float32), (W, H), interpolation=cv2.INTER_LINEAR)
    sky2 = cv2.resize(sky.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST) > 0
    return np.exp(logd).astype(np.float32), sky2


def encode_depth_png(depth_map: DepthMap) -> bytes:
    """The bytes of a 16-bit log-depth PNG (see the module docstring); deterministic."""
    from PIL import Image, PngImagePlugin
    d = depth_map.depth.astype(np.float64)
    sky = depth_map.sky
    land = d[~sky]
    near = float(land.min()) if land.size else 1.0
    far = float(land.max()) if land.size else 1.0
    sky_depth = float(d[sky].max()) if sky.any() else far * 2.0
    if far > near:
        t = (np.log(d) - np.log(near)) / (np.log(far) - np.log(near))
        codes = 1 + np.rint(np.clip(t, 0, 1) * _CODES)
    else:
        codes = np.ones_like(d)
    codes[sky] = 0
    img = Image.fromarray(codes.astype(np.uint16))
    meta = PngImagePlugin.PngInfo()
    meta.add_text(PNG_KEY, json.dumps({"encoding": "log", "near": near, "far": far,
                                       "sky_depth": sky_depth, "metric": bool(depth_map.metric),
                                       "version": 1}, sort_keys=True))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=meta, optimize=False)
    return buf.getvalue()


def write_depth(depth_map: DepthMap, path: str | os.PathLike[str]) -> Path:
    """Write ``depth_map`` to ``.npy`` (metres, sky = inf) or 16-bit ``.png``; atomic; returns the path."""
    if not isinstance(depth_map, DepthMap):
        raise InputError(f"write_depth needs a DepthMap, got {type(depth_map).__name__}")
    p = Path(path)
    ext = p.suffix.lower()
    if ext == ".npy":
        buf = io.BytesIO()
        np.save(buf, np.where(depth_map.sky, np.inf, depth_map.depth).astype(np.float32),
                allow_pickle=False)
        data = buf.getvalue()
    elif ext == ".png":
        data = encode_depth_png(depth_map)
    else:
        raise InputError(f"cannot write depth as {ext or '(no extension)'!r}", hint="use .npy or .png")
    if not p.parent.is_dir():
        raise InputError(f"{p.parent}: no such folder")
    return write_atomic(p, data)
