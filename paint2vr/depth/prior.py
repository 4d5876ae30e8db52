"""The built-in 'prior' depth estimator: no weights, deterministic.

It reads a painting the way a painter builds space, at a reduced working resolution:

1. **Sky**: smooth, bright-and-grey or bluish regions connected to the top edge.
2. **Horizon** just below the lowest reach of the sky (where the land is lowest); without
   sky, ``PriorOptions.default_horizon``.
3. **Ground plane** seen from ``eye_height``: a ground point on row v lies at
   ``eye_height * f / (v - horizon)`` metres (f from the 55-degree camera of
   :func:`paint2vr.scene.camera_for_image`).
4. **Regions standing on the ground**: the non-sky image is cut into regions along colour
   edges. Wide regions spanning many ground rows are ground and keep the per-row ground
   depth; every other region (tree, tower, figure, hill face) is an upright card at the
   ground depth of its *bottom contact*. A region whose bottom is above the horizon
   (a crown on a trunk) rests on the region below it when the two look equally near.
5. **Aerial perspective**: among regions at the horizon, paler, bluer, lower-contrast ones
   are pushed farther (up to ``far``).
6. **Edge snapping**: log depth is smoothed with a guided filter steered by the painting
   (at the working resolution, then again at full resolution after upsampling), so depth
   edges sit on the painting's edges.

``edges`` is the local log-depth jump (occlusion-edge strength in [0, 1]); ``confidence``
is lower on those edges and on regions whose support was guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, camera_for_image
from .base import DepthMap, ModelInfo
from .guided import guided_filter


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
    default_horizon: float = 0.35
    """Horizon row as a fraction of the height when the painting shows no sky."""
    work_side: int = 320
    """Longer side, in pixels, of the working copy the estimate is made on."""
    edge_snap: float = 1e-3
    """Guided-filter eps (grey levels in [0, 1], squared): smaller snaps depth harder to edges."""


DEFAULT_PRIOR_OPTIONS = PriorOptions()
PRIOR_VERSION = "2"


def _check_rgb(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"expected a uint8 (H, W, 3) image, got "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InputError(f"empty image: shape {rgb.shape}")


def _resize_to(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = min(1.0, side / max(h, w))
    sw, sh = max(1, round(w * s)), max(1, round(h * s))
    if (sw, sh) == (w, h):
        return rgb
    return cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)


def _grad(x: np.ndarray) -> np.ndarray:
    if min(x.shape) < 2:
        return np.zeros_like(x)
    return np.hypot(cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3))


def _sky_small(lab: np.ndarray) -> np.ndarray:
    """Sky on a small Lab image (L in 0..100)."""
    h, w = lab.shape[:2]
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    Ls = cv2.GaussianBlur(L, (0, 0), 1.0) if min(h, w) > 4 else L
    grad = _grad(Ls)
    if min(h, w) > 4:
        grad = cv2.GaussianBlur(grad, (0, 0), 1.5)
    smooth = grad < max(float(np.percentile(grad, 70)), 10.0)
    chroma = np.hypot(a, b)
    # Grey-white (clouds, overcast) or blue; warm smooth walls are not sky.
    skyish = ((L > 45) & (chroma < 22) & (b < 12)) | ((b < -8) & (L > 30))
    cand = (smooth & skyish).astype(np.uint8)
    cand[max(1, int(math.ceil(h * 0.85))):] = 0
    n, labels = cv2.connectedComponents(cand, connectivity=4)
    top = np.unique(labels[0][cand[0] > 0])
    sky = np.isin(labels, top[top > 0])
    if sky.mean() < 0.02:
        sky[:] = False
        return sky
    # Fill holes: textured clouds (bright, grey) enclosed by sky and touching no side or bottom edge.
    n, holes = cv2.connectedComponents((~sky).astype(np.uint8), connectivity=4)
    if n > 1:
        flat = holes.ravel()
        cnt = np.bincount(flat, minlength=n)
        edge = np.zeros(n, bool)
        edge[holes[-1]] = True
        edge[holes[:, 0]] = True
        edge[holes[:, -1]] = True
        mL = np.bincount(flat, L.ravel(), n) / np.maximum(cnt, 1)
        mC = np.bincount(flat, chroma.ravel(), n) / np.maximum(cnt, 1)
        mB = np.bincount(flat, b.ravel(), n) / np.maximum(cnt, 1)
        fill = ~edge & (cnt < 0.1 * h * w) & (((mL > 50) & (mC < 20)) | ((mB < -8) & (mL > 30)))
        fill[0] = False
        sky |= fill[holes]
    return sky


def detect_sky(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) bool: smooth, bright-grey or bluish regions connected to the top edge."""
    _check_rgb(rgb)
    h, w = rgb.shape[:2]
    small = _resize_to(rgb, 256).astype(np.float32) / 255.0
    sky = _sky_small(cv2.cvtColor(small, cv2.COLOR_RGB2Lab))
    return cv2.resize(sky.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0


def _horizon(sky: np.ndarray, default: float) -> float:
    h = sky.shape[0]
    cols = sky.any(axis=0)
    if not cols.any():
        return default * h
    lowest = h - np.argmax(sky[::-1], axis=0)   # one past the lowest sky row per column
    return float(np.clip(np.percentile(lowest[cols], 90) + 0.02 * h, 0.1 * h, 0.9 * h))


class PriorEstimator:
    """Ground plane, horizon, sky, standing regions and aerial perspective (needs no weights)."""

    def __init__(self, options: PriorOptions = DEFAULT_PRIOR_OPTIONS) -> None:
        if not 0 < options.near < options.far < options.sky_depth:
            raise InputError(f"need 0 < near < far < sky_depth, got {options.near}, "
                             f"{options.far}, {options.sky_depth}")
        if options.work_side < 16:
            raise InputError(f"work_side must be >= 16, got {options.work_side}")
        self.options = options
        self.info = ModelInfo(name="prior", revision=PRIOR_VERSION, license="Apache-2.0", commercial=True)

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        return [self.estimate_one(img) for img in images]

    # -- the estimate at working resolution ------------------------------------------------
    def _small_depth(self, lab: np.ndarray, sky: np.ndarray, focal: float
                     ) -> tuple[np.ndarray, np.ndarray, float]:
        o = self.options
        h, w = sky.shape
        hz = _horizon(sky, o.default_horizon)
        v = np.arange(h, dtype=np.float32) + 0.5
        ground_row = np.where(v > hz + 0.5, o.eye_height * focal / np.maximum(v - hz, 1e-3), o.far)
        ground_row = np.clip(ground_row, o.near, o.far).astype(np.float32)
        depth = np.repeat(ground_row[:, None], w, axis=1)
        conf = np.ones((h, w), np.float32)
        if h < 3 or w < 3:
            return depth, conf, hz

        L = lab[..., 0]
        grad = _grad(L) + 0.5 * (_grad(lab[..., 1]) + _grad(lab[..., 2]))
        thr = max(3.0 * float(np.median(grad)), 12.0)
        region = ((grad < thr) & ~sky).astype(np.uint8)
        n, labels = cv2.connectedComponents(region, connectivity=4)
        # Edge pixels join a neighbouring region (a few label-dilation steps).
        k = np.ones((3, 3), np.uint8)
        for _ in range(3):
            grown = cv2.dilate(labels.astype(np.float32), k).astype(np.int32)
            fill = (labels == 0) & ~sky
            labels[fill] = grown[fill]
        if n <= 1:
            return depth, conf, hz
        rows = np.broadcast_to(np.arange(h)[:, None], (h, w))
        cols = np.broadcast_to(np.arange(w)[None, :], (h, w))
        lab_flat = labels.ravel()
        cnt = np.bincount(lab_flat, minlength=n).astype(np.float64)
        bottom = np.zeros(n, np.int64)
        np.maximum.at(bottom, lab_flat, rows.ravel())
        top = np.full(n, h, np.int64)
        np.minimum.at(top, lab_flat, rows.ravel())
        left = np.full(n, w, np.int64)
        np.minimum.at(left, lab_flat, cols.ravel())
        right = np.zeros(n, np.int64)
        np.maximum.at(right, lab_flat, cols.ravel())
        safe = np.maximum(cnt, 1)
        mean = [np.bincount(lab_flat, lab[..., c].ravel(), n) / safe for c in range(3)]
        detail = np.bincount(lab_flat, grad.ravel(), n) / safe

        # Aerial perspective: likeness to the sky's colour (or a grey-blue haze), low detail.
        if sky.any():
            ref = np.array([lab[..., c][sky].mean() for c in range(3)])
        else:
            ref = np.array([75.0, -2.0, -8.0])
        dist = np.sqrt((mean[0] - ref[0]) ** 2 + 2 * (mean[1] - ref[1]) ** 2 + 2 * (mean[2] - ref[2]) ** 2)
        haze = np.exp(-dist / 25.0) * np.exp(-detail / (4 * thr))

        span_below = np.clip(bottom - np.maximum(top, hz), 0, None)
        below_frac = np.bincount(lab_flat, (rows > hz).ravel().astype(np.float64), n) / safe
        is_ground = ((bottom > hz) & (span_below > 0.2 * (h - hz)) & ((right - left + 1) > 0.3 * w)
                     & (below_frac > 0.7))
        flat = (top > hz) & ((right - left + 1) > 1.5 * (bottom - top + 1))
        is_ground |= flat
        base = ground_row[np.clip(bottom, 0, h - 1)].astype(np.float64)
        floating = ~is_ground & (bottom <= hz + 1)
        comp_depth = base.copy()
        # Far regions at the horizon: hazier = farther.
        comp_depth[floating] = o.far * (0.55 + 0.45 * haze[floating])
        # A floating region resting on a nearer region that looks as near takes its depth.
        lo, hi = labels[:-1].ravel(), labels[1:].ravel()
        touch = (lo != hi) & (lo > 0) & (hi > 0)
        pairs, pc = np.unique(np.stack([lo[touch], hi[touch]], 1), axis=0, return_counts=True) \
            if touch.any() else (np.zeros((0, 2), np.int64), np.zeros(0, np.int64))
        width = (right - left + 1).astype(np.float64)
        supported = np.zeros(n, bool)
        for c in np.argsort(-bottom, kind="stable"):
            if c == 0 or not floating[c]:
                continue
            sel = pairs[:, 0] == c
            if not sel.any():
                continue
            for s, m in zip(pairs[sel, 1], pc[sel]):
                if (m >= max(2.0, 0.02 * width[c]) and comp_depth[s] < comp_depth[c]
                        and abs(haze[s] - haze[c]) < 0.2 and haze[c] < 0.5):
                    comp_depth[c] = comp_depth[s]
                    supported[c] = True
        obj = ~is_ground
        obj[0] = False
        pix_obj = obj[labels] & ~sky
        depth = np.where(pix_obj, comp_depth[labels].astype(np.float32), depth)
        conf = np.where((floating & ~supported)[labels] & ~sky, 0.6, 1.0).astype(np.float32)
        return depth, conf, hz

    def estimate_one(self, rgb: np.ndarray) -> DepthMap:
        """One (H, W, 3) uint8 painting -> its :class:`DepthMap` at full resolution."""
        _check_rgb(rgb)
        o = self.options
        h, w = rgb.shape[:2]
        small = _resize_to(rgb, o.work_side)
        sh, sw = small.shape[:2]
        f_small = camera_for_image(sw, sh, o.fov_deg, o.eye_height).focal
        lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        sky_s = _sky_small(lab)
        depth_s, conf_s, hz = self._small_depth(lab, sky_s, f_small)
        grey_s = lab[..., 0] / 100.0
        logd = np.log(depth_s)
        log_sky = math.log(o.sky_depth)
        logd[sky_s] = log_sky
        r_s = max(1, round(max(sh, sw) / 100))
        logd = guided_filter(grey_s, logd, r_s, o.edge_snap)
        # Full resolution: upsample, then snap again to the full-resolution edges.
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        if (sh, sw) != (h, w):
            logd = cv2.resize(logd, (w, h), interpolation=cv2.INTER_LINEAR)
            skyf = cv2.resize(sky_s.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
            conf = cv2.resize(conf_s, (w, h), interpolation=cv2.INTER_LINEAR)
            r = max(1, round(max(h, w) / max(sh, sw)))
            logd = guided_filter(grey, logd, 2 * r, o.edge_snap)
            skyf = guided_filter(grey, skyf, 2 * r, o.edge_snap)
            sky = skyf > 0.5
        else:
            sky, conf = sky_s, conf_s
        depth = np.exp(np.clip(logd, math.log(o.near), math.log(o.far))).astype(np.float32)
        depth[sky] = np.float32(o.sky_depth)
        edges = _edge_strength(np.log(depth))
        conf = np.clip(conf * (1.0 - 0.5 * edges), 0, 1).astype(np.float32)
        return DepthMap(depth=np.ascontiguousarray(depth), sky=np.ascontiguousarray(sky), metric=False,
                        model=self.info, confidence=conf, edges=edges,
                        extras={"horizon_row": hz * h / sh})


def _edge_strength(logd: np.ndarray) -> np.ndarray:
    """Occlusion-edge strength in [0, 1]: the log-depth range in a 3x3 window, 1 at a 40 % jump."""
    if min(logd.shape) < 2:
        return np.zeros(logd.shape, np.float32)
    k = np.ones((3, 3), np.uint8)
    jump = cv2.dilate(logd, k) - cv2.erode(logd, k)
    return np.clip(jump / math.log(1.4), 0.0, 1.0).astype(np.float32)
