"""Apply an edits document to a depth map and a scene (docs/studio.md).

Order: horizon, sky and not-sky, ground, regions, pins; then the scene's layer edits. Depth
edits work in log depth, so a region's relief (its depth ratios) is kept when its median
moves, and a pin's correction is a factor that fades edge-aware (:mod:`.spread`).
"""

from __future__ import annotations

import dataclasses
import logging
import math

import cv2
import numpy as np

from ..depth.base import DepthMap
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, Scene
from .document import Edits, EditsError, Polygon
from .operations import drop_layer, mark_sky, merge_layers
from .spread import edge_cost, pin_weights, soft_mask

log = logging.getLogger("paint2vr.edits")

WORK_SIDE = 192
"""Long side (pixels) at which pin weights are computed (then upsampled)."""
PIN_REACH = 0.3
"""A pin's reach: the width of its fall-off, as a fraction of the long side in flat-paint steps."""
BAND = 0.004
"""Half-width of a region's soft edge, as a fraction of the long side."""
MIN_GROUND_DEPTH = 0.5
"""Nearest depth (m) a marked ground may take."""


def polygon_mask(polygon: Polygon, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: pixels whose centres lie inside ``polygon`` (fractions of width and height;
    even-odd rule). Scanlines: per row, the edges' crossings of the row centre, counted left
    of each pixel centre (OpenCV's fillPoly also paints pixels the outline merely touches)."""
    h, w = shape
    pts = np.asarray(polygon, np.float64) * (w, h)
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    mask = np.zeros((h, w), bool)
    centres = np.arange(w) + 0.5
    lo, hi = max(0, int(np.floor(y0.min()))), min(h, int(np.ceil(y0.max())) + 1)
    for row in range(lo, hi):
        yc = row + 0.5
        cross = ((y0 <= yc) & (yc < y1)) | ((y1 <= yc) & (yc < y0))
        if not cross.any():
            continue
        t = (yc - y0[cross]) / (y1[cross] - y0[cross])
        xs = np.sort(x0[cross] + t * (x1[cross] - x0[cross]))
        mask[row] = np.searchsorted(xs, centres, side="right") % 2 == 1
    return mask


def _union(polygons: tuple[Polygon, ...], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    for p in polygons:
        out |= polygon_mask(p, shape)
    return out


def horizon_row(depth: DepthMap) -> float:
    """The map's horizon row in pixels: the estimator's, else just below the sky, else 35 %."""
    row = depth.extras.get("horizon_row")
    if isinstance(row, (int, float)) and math.isfinite(row):
        return float(row)
    rows = np.nonzero(depth.sky.any(axis=1))[0]
    return float(rows.max() + 1) if rows.size else 0.35 * depth.shape[0]


def _camera(depth: DepthMap) -> tuple[float, float]:
    """(eye height in metres, focal length in pixels) of the map's camera hints (the
    designer's hints its estimator took, else the defaults)."""
    hints = depth.camera_hints()
    eye = hints.eye_height if hints.eye_height is not None else DEFAULT_EYE_HEIGHT
    fov = hints.fov_deg if hints.fov_deg is not None else DEFAULT_FOV_DEG
    return eye, 0.5 * max(depth.shape) / math.tan(math.radians(fov) / 2)


def _land_range(depth: DepthMap) -> tuple[float, float]:
    land = depth.depth[~depth.sky]
    return (float(land.min()), float(land.max())) if land.size else (1.0, float(depth.depth.max()))


def move_horizon(depth: DepthMap, new_row: float) -> DepthMap:
    """Re-scale each land row by the ground plane's ratio ``(v - old) / (v - new)``: a ground seen
    from eye height lies at ``h f / (v - horizon)``, so moving the horizon scales each row."""
    old = horizon_row(depth)
    h, _ = depth.shape
    v = np.arange(h, dtype=np.float64) + 0.5
    lo = max(old, new_row) + 0.02 * h  # rows right at a horizon would divide by ~0
    factor = np.where(v > lo, (v - old) / np.maximum(v - new_row, 1e-6), (lo - old) / max(lo - new_row, 1e-6))
    near, far = _land_range(depth)
    d = depth.depth.astype(np.float64) * factor[:, None]
    d = np.where(depth.sky, depth.depth, np.clip(d, min(near, MIN_GROUND_DEPTH), far * 4))
    extras = {**depth.extras, "horizon_row": float(new_row)}
    return dataclasses.replace(depth, depth=d.astype(np.float32), extras=extras)


def mark_ground(depth: DepthMap, mask: np.ndarray) -> DepthMap:
    """The ground plane's depth under ``mask`` (from the horizon and the map's camera)."""
    if not mask.any():
        return depth
    h = depth.shape[0]
    v = np.arange(h, dtype=np.float64)[:, None] + 0.5
    hz = horizon_row(depth)
    _, far = _land_range(depth)
    eye, focal = _camera(depth)
    ground = np.where(v > hz, eye * focal / np.maximum(v - hz, 1e-6), far)
    ground = np.clip(np.broadcast_to(ground, depth.shape), MIN_GROUND_DEPTH, far)
    d = np.where(mask, ground, depth.depth).astype(np.float32)
    return dataclasses.replace(depth, depth=d, sky=depth.sky & ~mask)


def set_region(depth: DepthMap, rgb: np.ndarray, mask: np.ndarray, *, depth_m: float | None,
               scale: float | None) -> DepthMap:
    """Scale the land under ``mask`` so its median becomes ``depth_m`` (or by ``scale``); the
    factor fades over a thin, edge-following band at the region's border."""
    land = mask & ~depth.sky
    if not land.any():
        log.warning("a region covers no land (only sky); it changes nothing")
        return depth
    factor = scale if scale is not None else depth_m / float(np.median(depth.depth[land]))
    radius = max(1, round(BAND * max(depth.shape)))
    alpha = np.maximum(soft_mask(mask, rgb, radius), mask.astype(np.float32))
    scaled = np.exp(np.log(depth.depth) + alpha * np.float32(math.log(factor)))
    d = np.where(depth.sky | (alpha < 1e-3), depth.depth, scaled).astype(np.float32)
    return dataclasses.replace(depth, depth=d)


def _small(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    s = min(1.0, WORK_SIDE / max(h, w))
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), s


def apply_pins(depth: DepthMap, rgb: np.ndarray, pins: tuple) -> DepthMap:
    """Each pin's depth holds at its point; its log-depth correction spreads edge-aware."""
    if not pins:
        return depth
    h, w = depth.shape
    small, s = _small(rgb)
    sh, sw = small.shape[:2]
    at = [(min(h - 1, int(p.y * h)), min(w - 1, int(p.x * w))) for p in pins]
    small_at = [(min(sh - 1, int(y * s)), min(sw - 1, int(x * s))) for y, x in at]
    weights = pin_weights(edge_cost(small), small_at, PIN_REACH * max(sh, sw))
    delta = np.array([math.log(p.depth) - math.log(float(depth.depth[y, x])) for p, (y, x) in zip(pins, at)],
                     np.float32)
    total = weights.sum(axis=0)
    corr = np.tensordot(delta, weights, axes=1) / np.maximum(total, 1.0)
    corr = cv2.resize(corr, (w, h), interpolation=cv2.INTER_LINEAR)
    d = np.exp(np.log(depth.depth) + corr)
    sky = depth.sky.copy()
    for p, (y, x) in zip(pins, at):
        d[y, x] = p.depth  # exact at the pin (the blend above is only approximately so)
        sky[y, x] = False
    return dataclasses.replace(depth, depth=d.astype(np.float32), sky=sky)


def apply_depth_edits(depth: DepthMap, rgb: np.ndarray, edits: Edits) -> DepthMap:
    """``depth`` with the edits' horizon, sky, ground, regions and pins applied.

    Args:
        depth: the painting's depth map, (H, W).
        rgb: the painting, (H, W, 3) uint8 (edges stop regions and pins).
        edits: the parsed edits document.
    """
    if rgb.shape[:2] != depth.shape:
        raise EditsError(f"edits: painting is {rgb.shape[1]}x{rgb.shape[0]}, depth {depth.shape[1]}x{depth.shape[0]}")
    shape = depth.shape
    if edits.horizon is not None:
        depth = move_horizon(depth, edits.horizon * shape[0])
    if edits.sky:
        depth = mark_sky(depth, _union(edits.sky, shape), True)
    if edits.not_sky:
        depth = mark_sky(depth, _union(edits.not_sky, shape), False)
    if edits.ground:
        depth = mark_ground(depth, _union(edits.ground, shape))
    for region in edits.regions:
        depth = set_region(depth, rgb, polygon_mask(region.polygon, shape), depth_m=region.depth, scale=region.scale)
    return apply_pins(depth, rgb, edits.pins)


def apply_scene_edits(scene: Scene, edits: Edits) -> Scene:
    """Drop and merge the layers the edits name (an unknown name is an :class:`EditsError`)."""
    names = {layer.name for layer in scene.layers}
    for key, name in [("layers.drop", n) for n in edits.drop_layers] + \
                     [("layers.merge", n) for g in edits.merge_layers for n in g]:
        if name not in names:
            raise EditsError(f"{key}: no layer {name!r} in the scene (it has: {', '.join(sorted(names))})")
    for name in edits.drop_layers:
        drop_layer(scene, name)
    for group in edits.merge_layers:
        merge_layers(scene, list(group))
    return scene


__all__ = ["apply_depth_edits", "apply_pins", "apply_scene_edits", "horizon_row", "mark_ground", "move_horizon",
           "polygon_mask", "set_region"]
