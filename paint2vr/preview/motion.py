"""Preview clips: a looping camera move inside the walkable zone, with the animations playing."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Callable, Iterator, Literal

import numpy as np

from ..errors import InputError
from ..scene import Scene

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(done, total), called after each frame."""


@dataclass(frozen=True)
class PreviewOptions:
    """Options of :func:`preview_frames` and ``paint2vr preview``."""

    width: int = 480
    """Frame width in pixels (the height follows the scene camera's aspect ratio)."""
    fps: int = 15
    """Frames per second of the clip."""
    duration: float = 4.0
    """Length of the clip in seconds (the camera move loops over it)."""
    motion: Literal["dolly", "circle", "still", "walk"] = "dolly"
    """Camera move: 'dolly' sways side to side while pushing in, 'circle' walks a small circle,
    'still' stays at the start pose (animations only), 'walk' walks in walk_distance metres
    and turns round to look back (a clip that shows the world, not a loop)."""
    amplitude: float = 0.6
    """How far the camera moves, as a fraction of the scene's walkable radius (dolly, circle)."""
    walk_distance: float = 2.0
    """Metres the 'walk' motion goes in along the start heading before it turns round."""
    look_around: bool = False
    """Write a look-around sheet instead (.png/.jpg): 8 level headings every 45 degrees, then
    60 degrees down and up, from the start pose; for a folder, one row per scene."""
    start_time: float = 0.0
    """Animation time (seconds) of the first frame."""
    still_time: float = 0.5
    """Animation time (seconds) of a single-frame preview (PNG, contact-sheet tiles)."""


DEFAULT_PREVIEW_OPTIONS = PreviewOptions()


def check_preview_options(o: PreviewOptions) -> None:
    def bad(name: str, want: str) -> InputError:
        return InputError(f"preview option {name} must be {want}, got {getattr(o, name)!r}")
    if not 8 <= o.width <= 8192:
        raise bad("width", "in [8, 8192] pixels")
    if not 1 <= o.fps <= 120:
        raise bad("fps", "in [1, 120]")
    if not 0.0 < o.duration <= 600.0:
        raise bad("duration", "in (0, 600] seconds")
    if o.motion not in ("dolly", "circle", "still", "walk"):
        raise bad("motion", "'dolly', 'circle', 'still' or 'walk'")
    if not (math.isfinite(o.walk_distance) and 0.0 <= o.walk_distance <= 100.0):
        raise bad("walk_distance", "in [0, 100] metres")
    if not 0.0 <= o.amplitude <= 1.0:
        raise bad("amplitude", "in [0, 1] (a fraction of the walkable radius)")
    if not (math.isfinite(o.start_time) and math.isfinite(o.still_time)):
        raise bad("start_time", "finite")


def frame_count(o: PreviewOptions) -> int:
    return max(1, round(o.duration * o.fps))


def camera_path(n: int, radius: float, motion: str = "dolly") -> np.ndarray:
    """(n, 3) eye offsets (metres) of a seamless loop that stays within ``radius`` of the start.

    'dolly': x = 0.8 r sin(2 pi s), z = -0.3 r (1 - cos(4 pi s)), a side-to-side sway that
    pushes in at the sides (|offset| <= r); 'circle': a circle of diameter r through
    the start pose; 'still': zeros.
    """
    if n < 1:
        raise InputError(f"camera_path needs at least 1 frame, got {n}")
    if not (radius >= 0 and math.isfinite(radius)):
        raise InputError(f"camera_path radius must be a finite number >= 0, got {radius}")
    s = 2 * np.pi * np.arange(n) / n
    out = np.zeros((n, 3))
    if motion == "dolly":
        out[:, 0] = radius * 0.8 * np.sin(s)
        out[:, 2] = -radius * 0.3 * (1 - np.cos(2 * s))
    elif motion == "circle":
        out[:, 0] = radius * 0.5 * np.sin(s)
        out[:, 2] = -radius * 0.5 * (1 - np.cos(s))
    elif motion != "still":
        raise InputError(f"unknown camera motion {motion!r}", hint="use dolly, circle or still")
    return out


def preview_frames(scene: Scene, options: PreviewOptions = DEFAULT_PREVIEW_OPTIONS,
                   progress: Progress | None = None) -> Iterator[np.ndarray]:
    """Yield the clip's frames, (h, w, 3) uint8 each, rendered offscreen (no display, no GPU)."""
    from ..render import render_scene
    from .walk import walk_poses
    check_preview_options(options)
    n = frame_count(options)
    if options.motion == "walk":
        path, yaws = walk_poses(scene, n, options.walk_distance)
    else:
        path, yaws = camera_path(n, scene.walkable_radius * options.amplitude, options.motion), np.zeros(n)
    for i in range(n):
        rgb, _ = render_scene(scene, width=options.width, eye_offset=tuple(path[i]),
                              time=options.start_time + i / options.fps, yaw_deg=float(yaws[i]))
        if progress is not None:
            progress(i + 1, n)
        yield rgb


def still_frame(scene: Scene, options: PreviewOptions = DEFAULT_PREVIEW_OPTIONS) -> np.ndarray:
    """One frame from the start camera at ``options.still_time``."""
    from ..render import render_scene
    check_preview_options(options)
    rgb, _ = render_scene(scene, width=options.width, time=options.still_time)
    return rgb
