"""Relative -> metric depth from a model's output: the sky, the disparity fit and the
full-resolution maps (numpy/cv2, the reference for the device path in :mod:`.device_fit`).

Relative models output disparity-like values d (larger = nearer). We assume
``d = a / z + b``. By default a, b come from the model's own ground and the camera's
geometry (:mod:`.scale`: the ground's disparity is linear in the image row); when no ground
is found (or with ``ScaleOptions.method='range'``) they are fixed so that the 98th / 2nd
percentiles of d over land map to the near / far of the range hint (the prior's). Depth is
``z = a / (d - b)`` clipped to [near / 2, far]. Sky = low-disparity pixels connected to the top
edge (joined with a prior's sky hint). The fit is made on a small "fit map";
:class:`LazyMaps` makes the full-resolution maps on first read.

The fit has two halves: statistics of the fit map (:func:`fit_stats`; on the device
:func:`.device_fit.fit_depth_torch`, tested against it) and the scalar decisions that turn
them into a :class:`DepthFit` (:func:`fit_from_stats`, shared by both paths).
"""

from __future__ import annotations

import logging
import math
import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from .base import edge_strength
from .scale import METHODS, FitFrame, ScaleInfo, ScaleOptions, decide_ground, ground_stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RangeHint:
    """What the prior tells the relative -> metric conversion."""

    near: float
    """Near end of the land depth range (m)."""
    far: float
    """Far end of the land depth range (m)."""
    sky: np.ndarray | None
    """The prior's sky mask at its small size, or None."""


@dataclass(frozen=True)
class DepthFit:
    """Relative -> metric conversion of one painting, fitted on its small fit map."""

    relative: bool
    """True for disparity-like output (``z = a / (d - b)``), False for metres."""
    a: float
    """Scale of the disparity fit."""
    b: float
    """Offset of the disparity fit."""
    const: float | None
    """Constant depth when the disparity is flat; else None."""
    near: float
    """Near clip (depth >= near / 2)."""
    far: float
    """Far clip of land."""
    sky_depth: float
    """Depth written into sky pixels."""
    sky: np.ndarray
    """Sky mask at the fit map's size."""
    scale: ScaleInfo | None = None
    """How the scale was fixed (None: not recorded)."""


NSTATS = 13
"""Statistics per fit map (:func:`fit_stats`), in this order: the land disparity's 2nd and
98th percentiles, the land's extreme (least disparity; metric: most metres), converged
(1/0), the ground line's s, c, R^2, span, inlier rows, top inlier row, the sky's median
disparity and median row (NaN: no sky), the least disparity of all."""


def _fit_factors(nh: int, nw: int, fit_side: int) -> tuple[int, int]:
    """Integer block size that brings an (nh, nw) map to about ``fit_side`` on its long side."""
    k = max(1, math.ceil(max(nh, nw) / max(1, fit_side)))
    return max(1, min(k, nh)), max(1, min(k, nw))


def block_mean(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Mean over non-overlapping kh x kw blocks (the remainder rows/columns are dropped)."""
    H, W = x.shape[0] // kh * kh, x.shape[1] // kw * kw
    return x[:H, :W].reshape(H // kh, kh, W // kw, kw).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


def fit_stats(raw_small: np.ndarray, kind: str, hint: RangeHint, frame: FitFrame | None = None,
              scale: ScaleOptions | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(sky mask, :data:`NSTATS` float64 statistics) of a small nan-free map of model output;
    the ground line only for relative output with a frame and ``scale.method == 'auto'``."""
    raw = np.asarray(raw_small, np.float64)
    relative = kind == "relative"
    disp = raw if relative else 1.0 / np.maximum(raw, 1e-3)
    sky = derive_sky(disp, _prior_sky(hint, raw.shape))
    if frame is not None and scale is not None and scale.horizon is not None:
        sky &= (frame.rows < scale.horizon)[:, None]  # the designer's horizon: no sky below it
    land = ~sky if (~sky).any() else np.ones_like(sky)
    stats = np.full(NSTATS, np.nan)
    stats[3] = 1.0
    if not relative:
        stats[2] = raw[land].max()
        return sky, stats
    stats[0], stats[1] = np.percentile(disp[land], [2, 98])
    stats[2] = disp[land].min()
    if frame is not None and scale is not None and scale.method == "auto":
        stats[4:10] = ground_stats(disp, sky, frame, scale.ground_quantile, scale.horizon)
        if sky.any():
            stats[10] = np.median(disp[sky])
            stats[11] = np.median(np.broadcast_to(frame.rows[:, None], sky.shape)[sky])
        stats[12] = disp.min()
    return sky, stats


def fit_from_stats(stats, kind: str, hint: RangeHint, sky_depth: float, sky: np.ndarray,
                   scale: ScaleOptions | None = None, focal: float | None = None) -> DepthFit:
    """The :class:`DepthFit` of :func:`fit_stats`' numbers: the ground's scale when it holds,
    else the range mapping; the sky depth beyond the farthest land."""
    st = [float(x) for x in stats]
    near, far = hint.near, max(hint.far, hint.near * 1.5)
    if kind != "relative":
        info = ScaleInfo("metric", "", math.nan, math.nan, None, math.nan, math.nan, 0.0, 0)
        return DepthFit(False, 0.0, 0.0, None, near, far, max(sky_depth, 2.0 * max(st[2], 0.05)), sky, info)
    if scale is not None and scale.method == "auto" and focal is not None:
        g = decide_ground(st[4:10], st[10], focal, scale, st[11])
        if g.ok:
            if g.info.method == "ground+zero" and sky.any():  # the "sky" was the ground's far end
                sky, st[2] = np.zeros_like(sky), st[12]
            fit = DepthFit(True, g.a, g.b, None, 2.0 * scale.near, scale.far, 0.0, sky, g.info)
            return _with_sky_depth(fit, st[2], sky_depth)
        info = g.info
    else:
        o = scale or ScaleOptions()
        info = ScaleInfo("range", "method 'range'", o.eye_height, o.fov_deg, None, math.nan, math.nan, 0.0, 0)
    d_lo, d_hi = st[0], st[1]
    if d_hi - d_lo < 1e-9:
        fit = DepthFit(True, 0.0, 0.0, (near + far) / 2, near, far, 0.0, sky, info)
    else:
        a = float((d_hi - d_lo) / (1.0 / near - 1.0 / far))
        fit = DepthFit(True, a, float(d_lo - a / far), None, near, far, 0.0, sky, info)
    return _with_sky_depth(fit, st[2], sky_depth)


def _with_sky_depth(fit: DepthFit, land_min_disp: float, sky_depth: float) -> DepthFit:
    """The fit with its sky depth: max(sky_depth, 2x the farthest land), the farthest land
    being the conversion of the least land disparity (the conversion never rises with d)."""
    far_land = float(_convert_np(np.array([land_min_disp]), fit)[0])
    return dataclasses.replace(fit, sky_depth=max(sky_depth, 2.0 * far_land))


def fit_depth(raw_small: np.ndarray, kind: str, hint: RangeHint, sky_depth: float,
              scale: ScaleOptions | None = None, frame: FitFrame | None = None) -> DepthFit:
    """Fit the conversion on a small (nan-free) map of model output: sky (derive_sky), the
    metric scale (from the ground with ``scale`` and ``frame``, else the range hint) and the
    depth given to the sky. The reference of the device path."""
    sky, stats = fit_stats(raw_small, kind, hint, frame, scale)
    return fit_from_stats(stats, kind, hint, sky_depth, sky, scale, None if frame is None else frame.focal)


def scale_extras(fit: DepthFit, what: str = "") -> dict:
    """The DepthMap extras that say how the scale was fixed (and the eye and field of view it
    assumed, which the lift stage then uses); logs a fallback."""
    info = fit.scale
    if info is None:
        return {}
    if info.method == "range" and info.reason != "method 'range'":
        log.info("%s: scale from the range mapping (prior's near/far): %s", what or "depth", info.reason)
    else:
        log.debug("%s: scale by %s (R^2 %.3f)", what or "depth", info.method, info.r2)
    out = {"scale": info.record()}
    if info.method in METHODS[1:4]:
        out |= {"eye_height": info.eye_height, "fov_deg": info.fov_deg}
    return out


def _convert_np(raw: np.ndarray, fit: DepthFit) -> np.ndarray:
    """Model output -> metres (float64), sky not yet applied."""
    raw = raw.astype(np.float64)
    if not fit.relative:
        return np.clip(raw, 0.05, None)
    if fit.const is not None:
        return np.full(raw.shape, fit.const)
    return np.clip(fit.a / np.maximum(raw - fit.b, fit.a / fit.far), fit.near / 2, fit.far)


def _sky_np(fit: DepthFit, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    if not fit.sky.any():
        return np.zeros((h, w), bool)
    return cv2.resize(fit.sky.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) > 0.5


def _full_res(crop: np.ndarray, shape: tuple[int, int], fit: DepthFit) -> tuple[np.ndarray, np.ndarray]:
    """Depth (float32) and sky at full resolution: the crop upsampled bilinearly, converted."""
    h, w = shape
    raw = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR) if crop.shape != (h, w) else crop
    sky = _sky_np(fit, (h, w))
    return np.where(sky, fit.sky_depth, _convert_np(raw, fit)).astype(np.float32), sky


def _edges_small(crop: np.ndarray, fit: DepthFit) -> np.ndarray:
    """Occlusion edges at the crop's (the model's) resolution."""
    small = np.where(_sky_np(fit, crop.shape), fit.sky_depth, _convert_np(crop, fit))
    return edge_strength(np.log(small))


def apply_fit(crop: np.ndarray, shape: tuple[int, int], fit: DepthFit
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference (numpy/cv2) conversion -> (depth and sky at full resolution, edges at the
    model's resolution: the model sees no finer edges)."""
    depth, sky = _full_res(crop, shape, fit)
    return depth, sky, _edges_small(crop, fit)


_LAZY_NAMES = ("depth", "sky", "confidence", "edges")


def _convert_f32(raw: np.ndarray, fit: DepthFit) -> np.ndarray:
    """:func:`_convert_np` in float32, in place on ``raw`` (a fresh array): ~6x faster at full
    resolution, equal to the float64 reference within float32 rounding (~3e-7 relative)."""
    f32 = np.float32
    if not fit.relative:
        return np.maximum(raw, f32(0.05), out=raw)
    if fit.const is not None:
        raw.fill(f32(fit.const))
        return raw
    np.subtract(raw, f32(fit.b), out=raw)
    np.maximum(raw, f32(fit.a / fit.far), out=raw)
    np.divide(f32(fit.a), raw, out=raw)
    return np.clip(raw, f32(fit.near / 2), f32(fit.far), out=raw)


def _full_res_fast(crop: np.ndarray, shape: tuple[int, int], fit: DepthFit) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_full_res` in float32 and in place (the lazy maps' version; tested against it)."""
    h, w = shape
    raw = cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR) if crop.shape != (h, w) else crop.copy()
    sky = _sky_np(fit, (h, w))
    depth = _convert_f32(raw, fit)
    np.copyto(depth, np.float32(fit.sky_depth), where=sky)
    return depth, sky


def _edges_fast(crop: np.ndarray, fit: DepthFit) -> np.ndarray:
    """:func:`_edges_small` in float32."""
    small = _convert_f32(crop.copy(), fit)
    np.copyto(small, np.float32(fit.sky_depth), where=_sky_np(fit, crop.shape))
    return edge_strength(np.log(small))


@dataclass(frozen=True)
class LazyMaps:
    """Maker of a lazy :class:`DepthMap`'s arrays (see :meth:`DepthMap.lazy`) from the model's
    cropped output and its fit: :func:`apply_fit`'s steps in float32, in place (the values
    equal the reference path's for the same crop within float32 rounding). Picklable: a pickled lazy map carries the crop (the
    model's resolution) and the fit, not the full-resolution arrays."""

    crop: np.ndarray
    """(nh, nw) float32 nan-free model output, padding cropped."""
    shape: tuple[int, int]
    """The painting's (H, W)."""
    fit: DepthFit
    """The relative -> metric conversion and the small sky mask."""

    def __call__(self, name: str) -> dict[str, np.ndarray]:
        if name in ("depth", "sky"):
            depth, sky = _full_res_fast(self.crop, self.shape, self.fit)
            return {"depth": depth, "sky": sky}
        edges = _edges_fast(self.crop, self.fit)
        return {"edges": edges, "confidence": 1.0 - 0.5 * edges}


def _provably_valid(fit: DepthFit) -> bool:
    """Whether every depth :func:`_full_res_fast` can make from a finite crop is finite and > 0,
    so a lazy map need not scan it. Relative fits: bilinear upsampling of finite values is
    NaN-free (a convex combination; an overflow to inf is clipped below), then
    ``a / max(d - b, a / far)`` with a, a / far > 0 (in float32) is NaN-free and >= 0 and is
    clipped to [near / 2, far]; the constant and the sky depth are finite and > 0, in
    float32 too. Metric output (``max(d, 0.05)``) has no upper clip, so it is scanned."""
    if not fit.relative:
        return False
    const = fit.const if fit.const is not None else 1.0
    nums = (fit.a, fit.b, fit.near, fit.far, fit.sky_depth, const)
    ok = all(math.isfinite(x) and abs(x) < 1e30 for x in nums) and fit.near > 0 and fit.sky_depth > 0
    if fit.const is not None:
        return ok and fit.const > 0
    return ok and fit.a > 0 and fit.far > 0 and np.float32(fit.a / fit.far) > 0


def derive_sky(disp: np.ndarray, prior_sky: np.ndarray) -> np.ndarray:
    """Sky from a disparity map: near-zero disparity connected to the top edge, joined with
    the prior's sky where the model also sees far (below-median disparity)."""
    h, w = disp.shape
    lo, hi = float(disp.min()), float(np.percentile(disp, 98))
    low = disp <= lo + 0.03 * max(hi - lo, 1e-12)
    cand = (low | (prior_sky & (disp < np.median(disp)))).astype(np.uint8)
    n, labels = cv2.connectedComponents(cand, connectivity=4)
    top = np.unique(labels[0][cand[0] > 0])
    sky = np.isin(labels, top[top > 0])
    if sky.mean() < 0.005 or sky.all():
        sky[:] = False
    return sky


def _prior_sky(hint: RangeHint, shape: tuple[int, int]) -> np.ndarray:
    """The hint's sky at a fit map's (h, w), as :func:`fit_depth` resizes it (all False without one)."""
    if hint.sky is None or not hint.sky.size:
        return np.zeros(shape, bool)
    return cv2.resize(hint.sky.astype(np.uint8), (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) > 0
