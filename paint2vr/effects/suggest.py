"""Choose effects that suit a painting (``--effects auto``) from its colours and depth."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from .sway import _box_std, vegetation_score


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mx, mn = rgb.max(-1), rgb.min(-1)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-9), 0.0)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    d = np.maximum(mx - mn, 1e-9)
    hue = np.select([mx == r, mx == g], [((g - b) / d) % 6, (b - r) / d + 2], (r - g) / d + 4) * 60.0
    return hue, sat, mx


FOLIAGE_SHARE = 0.08
"""Share of the land that must be foliage standing up for 'sway' to be suggested."""


def _upright(depth_map: Any | None, step: int, shape: tuple[int, int]) -> np.ndarray:
    """Where the land stands up (trees, not the ground, the sea or a field, which lie flat):
    above the depth map's horizon hint, or with depth changing up the picture far slower than
    on a ground plane seen from the eye. All True without a depth map or a horizon hint."""
    hints = getattr(depth_map, "camera_hints", None)
    hz = hints().horizon_row if hints is not None else None
    if hz is None:
        return np.ones(shape, dtype=bool)
    hz = hz / step
    logz = np.log(np.maximum(depth_map.depth[::step, ::step].astype(np.float64), 1e-6))
    slope = np.abs(np.gradient(logz, axis=0)) if shape[0] > 1 else np.zeros(shape)
    v = np.arange(shape[0])[:, None] + 0.5
    return (v < hz) | (slope < 0.3 / np.maximum(v - hz, 1.0))


def suggest_effects(painting_rgb: np.ndarray, depth_map: Any | None = None) -> list[str]:
    """Effect names that suit the painting (see :func:`suggest_effects_why`)."""
    return list(suggest_effects_why(painting_rgb, depth_map))


def suggest_effects_why(painting_rgb: np.ndarray, depth_map: Any | None = None) -> dict[str, str]:
    """Effect names that suit the painting: 'snow' for a snowy scene (bright, low-saturation
    lower half), 'birds' where there is open sky, 'mist' for a hazy, low-contrast one,
    'fireflies' at night, 'leaves' for autumn colours, 'sway' where foliage is painted;
    each with the reason it was chosen, {name: reason}, in the registry's order.

    ``depth_map``: a :class:`paint2vr.depth.DepthMap` (its sky mask and depth are used), or None.
    """
    rgb = painting_rgb
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"expected a uint8 (H, W, 3) image, got "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
    h, w = rgb.shape[:2]
    step = max(1, int(np.ceil(max(h, w) / 256)))
    img = rgb[::step, ::step].astype(np.float64) / 255.0
    sh, sw = img.shape[:2]
    if depth_map is not None:
        sky_full = getattr(depth_map, "sky", None)
        if sky_full is None or sky_full.shape != (h, w):
            raise InputError(f"depth map sky mask must be ({h}, {w}), got {getattr(sky_full, 'shape', None)}",
                             hint="pass the DepthMap estimated for this painting")
        sky = sky_full[::step, ::step]
        depth = depth_map.depth[::step, ::step]
    else:
        sky = np.zeros((sh, sw), dtype=bool)
        depth = None
    land = ~sky
    luma = img @ np.array([0.299, 0.587, 0.114])
    hue, sat, _ = _hsv(img)
    out: dict[str, str] = {}

    lower = land.copy()
    lower[: sh // 2] = False
    if lower.sum() > 0.1 * lower.size:
        snowy = (luma > 0.68) & (sat < 0.2)
        if snowy[lower].mean() > 0.35:
            out["snow"] = f"{snowy[lower].mean():.0%} of the lower land is bright and colourless (snow-like)"
    if land.any():
        contrast = float(luma[land].std())
        hazy = contrast < 0.1
        if depth is not None and (land & (depth > np.median(depth[land]))).sum() > 50:
            far = land & (depth > np.median(depth[land]))
            near = land & ~far
            if near.sum() > 50:
                hazy |= (luma[far].std() < 0.5 * luma[near].std()) and luma[far].mean() > luma[near].mean()
        if hazy and float(luma.mean()) > 0.3 and "snow" not in out:  # snowfields are flat too
            out["mist"] = f"low contrast (brightness spread {contrast:.2f}) or a hazy distance"
    if float(luma.mean()) < 0.2:
        out["fireflies"] = f"a dark, night-like painting (mean brightness {float(luma.mean()):.2f})"
    if land.any() and "snow" not in out:
        autumn = (hue > 15) & (hue < 50) & (sat > 0.45) & (luma > 0.2)
        if autumn[land].mean() > 0.25:
            out["leaves"] = f"{autumn[land].mean():.0%} of the land has autumn colours"
    if sky.mean() > 0.1 and sky[: max(1, sh // 10)].mean() > 0.5:
        out["birds"] = f"open sky ({sky.mean():.0%} of the painting, the top edge mostly sky)"
    detail = _box_std(luma, 2)
    veg = vegetation_score(img.reshape(-1, 3), detail.reshape(-1)).reshape(sh, sw)
    foliage = (veg > 0.5) & _upright(depth_map, step, (sh, sw))
    if land.any() and foliage[land].mean() > FOLIAGE_SHARE:
        out["sway"] = f"{foliage[land].mean():.0%} of the land looks like foliage standing up (trees)"
    from .registry import EFFECTS
    return {n: out[n] for n in EFFECTS if n in out}
