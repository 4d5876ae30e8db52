"""Offscreen previews of exported scenes: clips (MP4/GIF), stills (PNG) and contact sheets.

No display and no GPU: scenes are read back from their GLB (:func:`read_scene`) and drawn
with :mod:`paint2vr.render`'s numpy rasteriser, the animations sampled at each frame's time.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError
from .motion import (DEFAULT_PREVIEW_OPTIONS, PreviewOptions, Progress, camera_path, frame_count,
                     preview_frames, still_frame)
from .look import LOOK_VIEWS, look_around_sheet, look_tiles
from .reader import DEFAULT_READ_OPTIONS, ReadOptions, read_scene
from .sheet import DEFAULT_SHEET_OPTIONS, SheetOptions, SheetResult, contact_sheet, find_scenes
from .video import CLIP_SUFFIXES, STILL_SUFFIXES, write_clip, write_still
from .walk import ground_heights, navmesh_triangles, walk_poses


def preview(scene_path: str | os.PathLike[str], output: str | os.PathLike[str],
            options: PreviewOptions = DEFAULT_PREVIEW_OPTIONS, progress: Progress | None = None) -> Path:
    """Render a preview of one scene file: a clip (.mp4, .gif) or a still (.png, .jpg);
    with ``options.look_around`` its look-around sheet (.png, .jpg).

    Raises:
        InputError: unreadable scene, bad options or unsupported output type.
    """
    out = Path(output)
    if options.look_around:
        return look_around_sheet(scene_path, out, preview=options,
                                 progress=None if progress is None else lambda d, t, _p: progress(d, t)).path
    suffix = out.suffix.lower()
    if suffix not in CLIP_SUFFIXES + STILL_SUFFIXES:
        raise InputError(f"{out}: unsupported preview type {out.suffix!r}", hint="use .mp4, .gif or .png")
    # Textures larger than a few frame widths only cost time at preview sizes.
    scene = read_scene(scene_path, ReadOptions(max_texture=max(256, 2 * options.width)))
    if suffix in STILL_SUFFIXES:
        frame = still_frame(scene, options)
        if progress is not None:
            progress(1, 1)
        return write_still(frame, out)
    return write_clip(preview_frames(scene, options, progress), out, options.fps)


__all__ = ["DEFAULT_PREVIEW_OPTIONS", "DEFAULT_READ_OPTIONS", "DEFAULT_SHEET_OPTIONS", "LOOK_VIEWS", "PreviewOptions",
           "ReadOptions", "SheetOptions", "SheetResult", "camera_path", "contact_sheet", "find_scenes",
           "frame_count", "ground_heights", "look_around_sheet", "look_tiles", "navmesh_triangles", "preview",
           "preview_frames", "read_scene", "still_frame", "walk_poses", "write_clip", "write_still"]
