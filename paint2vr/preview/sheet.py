"""Contact sheets: one still per scene in a folder, with its id under it, for batch review."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError, Paint2VRError
from .motion import DEFAULT_PREVIEW_OPTIONS, PreviewOptions, check_preview_options
from .reader import ReadOptions, read_scene

log = logging.getLogger(__name__)

SheetProgress = Callable[[int, int, Path], None]
"""progress(done, total, path), called after each scene."""


@dataclass(frozen=True)
class SheetOptions:
    """Options of :func:`contact_sheet`."""

    tile_width: int = 192
    """Width of each tile in pixels (tiles are 4:3; each scene is fitted inside)."""
    columns: int = 8
    """Tiles per row."""
    label_height: int = 18
    """Height of the id strip under each tile, in pixels."""
    max_tiles: int = 2000
    """Refuse folders with more scenes than this (the sheet would be too large to look at)."""
    sheet_texture: int = 256
    """Textures are downscaled to this many pixels on their longer side before rendering tiles."""
    pattern: str = "*.glb"
    """File-name pattern searched recursively under the folder."""


DEFAULT_SHEET_OPTIONS = SheetOptions()


@dataclass
class SheetResult:
    """What :func:`contact_sheet` made."""

    path: Path
    """The sheet image written."""
    count: int
    """Scenes on the sheet."""
    failures: list[tuple[Path, str]] = field(default_factory=list)
    """(file, error) for scenes that could not be read or rendered (drawn as grey tiles)."""


def find_scenes(folder: str | os.PathLike[str], pattern: str = "*.glb") -> list[Path]:
    """Scene files under ``folder`` (recursive), sorted by their path relative to it."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder", hint="give a folder of .glb scenes")
    return sorted((p for p in root.rglob(pattern) if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def _fit(img: np.ndarray, w: int, h: int, background: tuple[int, int, int]) -> np.ndarray:
    """Centre ``img`` in a w x h tile (it is already at most that big)."""
    tile = np.empty((h, w, 3), np.uint8)
    tile[:] = background
    ih, iw = min(img.shape[0], h), min(img.shape[1], w)
    y, x = (h - ih) // 2, (w - iw) // 2
    tile[y:y + ih, x:x + iw] = img[:ih, :iw]
    return tile


def _label(text: str, w: int, h: int) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", (w, h), (16, 16, 16))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(8, h - 6))
    shown = text
    while shown and draw.textlength(shown, font=font) > w - 6:
        shown = shown[:-2] + "…" if len(shown) > 2 else ""
    draw.text((w / 2, h / 2), shown, fill=(235, 235, 235), font=font, anchor="mm")
    return np.asarray(img)


def render_tile(path: Path, tile_w: int, tile_h: int, options: SheetOptions,
                preview: PreviewOptions) -> tuple[np.ndarray, str]:
    """(tile image, id) for one scene file, rendered from its start camera."""
    from ..render import render_scene
    scene = read_scene(path, ReadOptions(max_texture=options.sheet_texture, camera_height=tile_h))
    aspect = scene.camera.aspect
    width = max(1, min(tile_w, int(tile_h * aspect)))
    rgb, _ = render_scene(scene, width=width, time=preview.still_time)
    return _fit(rgb, tile_w, tile_h, (0, 0, 0)), scene.info.id or path.stem


def contact_sheet(folder: str | os.PathLike[str], output: str | os.PathLike[str],
                  options: SheetOptions = DEFAULT_SHEET_OPTIONS,
                  preview: PreviewOptions = DEFAULT_PREVIEW_OPTIONS,
                  progress: SheetProgress | None = None) -> SheetResult:
    """Render every scene under ``folder`` (recursive, sorted) into one labelled grid image.

    A scene that cannot be read or rendered becomes a grey tile and is listed in the result's
    ``failures``; the sheet is still written.

    Raises:
        InputError: not a folder, no scenes, too many scenes, bad options or output type.
    """
    from .video import STILL_SUFFIXES, write_still
    check_preview_options(preview)
    if not 16 <= options.tile_width <= 2048:
        raise InputError(f"tile_width must be in [16, 2048] pixels, got {options.tile_width}")
    if not 1 <= options.columns <= 100:
        raise InputError(f"columns must be in [1, 100], got {options.columns}")
    if not 8 <= options.label_height <= 128:
        raise InputError(f"label_height must be in [8, 128] pixels, got {options.label_height}")
    if options.sheet_texture < 1:
        raise InputError(f"sheet_texture must be >= 1, got {options.sheet_texture}")
    out = Path(output)
    if out.suffix.lower() not in STILL_SUFFIXES:
        raise InputError(f"{out}: a contact sheet is an image, got {out.suffix!r}", hint="use .png or .jpg")
    files = find_scenes(folder, options.pattern)
    if not files:
        raise InputError(f"{folder}: no files matching {options.pattern} (searched recursively)")
    if len(files) > options.max_tiles:
        raise InputError(f"{folder}: {len(files)} scenes is more than max_tiles={options.max_tiles}",
                         hint="raise --max-tiles or split the folder (--pattern)")
    tw = options.tile_width
    th = max(1, round(tw * 3 / 4))
    cell_h = th + options.label_height
    cols = min(options.columns, len(files))
    rows = -(-len(files) // cols)
    sheet = np.full((rows * cell_h, cols * tw, 3), 32, np.uint8)
    result = SheetResult(path=out, count=len(files))
    for i, path in enumerate(files):
        try:
            tile, sid = render_tile(path, tw, th, options, preview)
        except (Paint2VRError, OSError, ValueError) as exc:
            log.warning("%s: cannot preview: %s", path, exc)
            result.failures.append((path, str(exc)))
            tile, sid = np.full((th, tw, 3), 96, np.uint8), f"{path.stem} (error)"
        r, c = divmod(i, cols)
        y, x = r * cell_h, c * tw
        sheet[y:y + th, x:x + tw] = tile
        sheet[y + th:y + cell_h, x:x + tw] = _label(sid, tw, options.label_height)
        if progress is not None:
            progress(i + 1, len(files), path)
    write_still(sheet, out)
    return result
