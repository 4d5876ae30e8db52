"""Look-around sheets: what a visitor standing at the start pose sees all round, one scene
(2 rows of 5 labelled tiles) or a folder (one row of 10 per scene), for judging a world."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..errors import InputError, Paint2VRError
from ..scene import Scene
from .motion import DEFAULT_PREVIEW_OPTIONS, PreviewOptions, check_preview_options
from .reader import ReadOptions, read_scene
from .sheet import DEFAULT_SHEET_OPTIONS, SheetOptions, SheetProgress, SheetResult, _fit, _label, find_scenes

log = logging.getLogger(__name__)

LOOK_PITCH = 60.0
"""Degrees the down and up views tilt (the world checker's)."""
LOOK_VIEWS: tuple[tuple[str, float, float], ...] = tuple(
    [(f"{h}\u00b0" + (" left" if 0 < h < 180 else " right" if h > 180 else ""), float(h), 0.0)
     for h in range(0, 360, 45)]
    + [(f"down {LOOK_PITCH:g}\u00b0", 0.0, -LOOK_PITCH), (f"up {LOOK_PITCH:g}\u00b0", 0.0, LOOK_PITCH)])
"""(label, yaw left in degrees, pitch up in degrees) of the sheet's ten views, in order."""
SINGLE_COLUMNS = 5


def look_tiles(scene: Scene, tile_w: int, tile_h: int, time: float) -> list[np.ndarray]:
    """The ten views of :data:`LOOK_VIEWS` from the start pose, each fitted in a tile."""
    from ..render import render_scene
    width = max(1, min(tile_w, int(tile_h * scene.camera.aspect)))
    out = []
    for _, yaw, pitch in LOOK_VIEWS:
        rgb, _ = render_scene(scene, width=width, time=time, yaw_deg=yaw, pitch_deg=pitch)
        out.append(_fit(rgb, tile_w, tile_h, (0, 0, 0)))
    return out


def _block(tiles: list[np.ndarray], columns: int, label_h: int) -> np.ndarray:
    """Tiles in rows of ``columns``, each with its view's label under it."""
    th, tw = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    img = np.full((rows * (th + label_h), columns * tw, 3), 32, np.uint8)
    for i, (tile, (label, _, _)) in enumerate(zip(tiles, LOOK_VIEWS)):
        r, c = divmod(i, columns)
        y, x = r * (th + label_h), c * tw
        img[y:y + th, x:x + tw] = tile
        img[y + th:y + th + label_h, x:x + tw] = _label(label, tw, label_h)
    return img


def _check(options: SheetOptions, preview: PreviewOptions, out: Path) -> None:
    from .video import STILL_SUFFIXES
    check_preview_options(preview)
    if not 16 <= options.tile_width <= 2048:
        raise InputError(f"tile_width must be in [16, 2048] pixels, got {options.tile_width}")
    if not 8 <= options.label_height <= 128:
        raise InputError(f"label_height must be in [8, 128] pixels, got {options.label_height}")
    if out.suffix.lower() not in STILL_SUFFIXES:
        raise InputError(f"{out}: a look-around sheet is an image, got {out.suffix!r}", hint="use .png or .jpg")


def look_texture(options: SheetOptions) -> int:
    """Texture side for look-around tiles: a tile shows about a quarter of the 360-degree
    panorama across its width, so the panorama needs ~4 tile widths of texels to stay sharp
    (``sheet_texture``, tuned for one frontal view per scene, blurred the world 4x)."""
    return max(options.sheet_texture, 4 * options.tile_width)


def look_around_sheet(source: str | os.PathLike[str], output: str | os.PathLike[str],
                      options: SheetOptions = DEFAULT_SHEET_OPTIONS,
                      preview: PreviewOptions = DEFAULT_PREVIEW_OPTIONS,
                      progress: SheetProgress | None = None) -> SheetResult:
    """Write the look-around sheet of one scene file (2 rows of 5 tiles: the 8 level headings,
    down, up) or of every scene under a folder (one titled row of 10 tiles per scene; a scene
    that cannot be read becomes a grey row, listed in ``failures``).

    Raises:
        InputError: no such scene or folder, no scenes, too many, bad options or output type.
    """
    from .video import write_still
    out = Path(output)
    _check(options, preview, out)
    src = Path(source)
    tw = options.tile_width
    th = max(1, round(tw * 3 / 4))
    read = ReadOptions(max_texture=look_texture(options), camera_height=th)
    if not src.is_dir():
        scene = read_scene(src, read)
        sheet = _block(look_tiles(scene, tw, th, preview.still_time), SINGLE_COLUMNS, options.label_height)
        if progress is not None:
            progress(1, 1, src)
        write_still(sheet, out)
        return SheetResult(path=out, count=1)
    files = find_scenes(src, options.pattern)
    if not files:
        raise InputError(f"{src}: no files matching {options.pattern} (searched recursively)")
    if len(files) * len(LOOK_VIEWS) > options.max_tiles:
        raise InputError(f"{src}: {len(files)} scenes x {len(LOOK_VIEWS)} views is more than "
                         f"max_tiles={options.max_tiles}", hint="raise --max-tiles or split the folder (--pattern)")
    result = SheetResult(path=out, count=len(files))
    rows = []
    for i, path in enumerate(files):
        try:
            scene = read_scene(path, read)
            tiles, title = look_tiles(scene, tw, th, preview.still_time), scene.info.id or path.stem
        except (Paint2VRError, OSError, ValueError) as exc:
            log.warning("%s: cannot preview: %s", path, exc)
            result.failures.append((path, str(exc)))
            tiles, title = [np.full((th, tw, 3), 96, np.uint8)] * len(LOOK_VIEWS), f"{path.stem} (error)"
        block = _block(tiles, len(LOOK_VIEWS), options.label_height)
        rows.append(np.concatenate([_label(title, block.shape[1], options.label_height), block]))
        if progress is not None:
            progress(i + 1, len(files), path)
    write_still(np.concatenate(rows), out)
    return result
