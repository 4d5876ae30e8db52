"""Depth accuracy metrics for the benchmark: AbsRel, delta < 1.25 and ordinal error (WHDR).

AbsRel and delta compare *median-aligned* predictions by default: the prediction is scaled so
its median equals the truth's median over the scored pixels (scale is unknown for relative
maps); ``aligned=False`` scores the metres as they are (the real metric error).
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def _pair(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise InputError(f"prediction {pred.shape} and truth {gt.shape} differ in shape")
    m = np.ones(gt.shape, bool) if mask is None else np.asarray(mask, bool)
    m = m & np.isfinite(gt) & (gt > 0) & np.isfinite(pred) & (pred > 0)
    if not m.any():
        raise InputError("no valid pixels to score")
    return pred[m], gt[m]


def median_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return pred * (np.median(gt) / np.median(pred))


def abs_rel(pred, gt, mask=None, *, aligned: bool = True) -> float:
    """mean(|p - g| / g) after median alignment (``aligned``), else as given."""
    p, g = _pair(pred, gt, mask)
    return float(np.mean(np.abs((median_align(p, g) if aligned else p) - g) / g))


def delta1(pred, gt, mask=None, threshold: float = 1.25, *, aligned: bool = True) -> float:
    """Fraction of pixels with max(p/g, g/p) < threshold after median alignment (``aligned``)."""
    p, g = _pair(pred, gt, mask)
    if aligned:
        p = median_align(p, g)
    return float(np.mean(np.maximum(p / g, g / p) < threshold))


def ordinal_relation(a: np.ndarray, b: np.ndarray, tau: float) -> np.ndarray:
    """-1 where a is nearer than b by more than the ratio 1 + tau, +1 farther, 0 equal."""
    r = a / b
    return np.where(r < 1 / (1 + tau), -1, np.where(r > 1 + tau, 1, 0))


def whdr(pred, gt, pairs: np.ndarray, tau: float = 0.03) -> float:
    """Weighted-human-disagreement-style ordinal error: the fraction of point pairs
    ``pairs`` ((N, 2) flat indices) whose nearer/equal/farther relation differs from the truth."""
    p, g = np.asarray(pred, np.float64).ravel(), np.asarray(gt, np.float64).ravel()
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or len(pairs) == 0:
        raise InputError(f"pairs must be (N, 2) flat indices, got shape {pairs.shape}")
    rp = ordinal_relation(p[pairs[:, 0]], p[pairs[:, 1]], tau)
    rg = ordinal_relation(g[pairs[:, 0]], g[pairs[:, 1]], tau)
    return float(np.mean(rp != rg))


def sample_pairs(n_pixels: int, n_pairs: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_pixels, n_pairs)
    b = rng.integers(0, n_pixels, n_pairs)
    keep = a != b
    return np.stack([a[keep], b[keep]], 1)


def point_depth(depth: np.ndarray, x: float, y: float, window_frac: float = 0.004) -> float:
    """Median depth in a square window around (x, y) (fractions of width/height, origin
    top-left): the window is about ``window_frac`` of the long side across (the point's pixel
    and half that, at least one pixel, to each side)."""
    d = np.asarray(depth, np.float64)
    if d.ndim != 2 or d.size == 0:
        raise InputError(f"depth must be a non-empty (H, W) array, got shape {d.shape}")
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise InputError(f"point must lie in [0, 1] x [0, 1], got ({x}, {y})")
    h, w = d.shape
    r = max(1, int(round(0.5 * window_frac * max(h, w))))
    cx, cy = min(int(x * w), w - 1), min(int(y * h), h - 1)
    return float(np.median(d[max(0, cy - r):cy + r + 1, max(0, cx - r):cx + r + 1]))


def pair_wrong(depth: np.ndarray, pairs, window_frac: float = 0.004) -> np.ndarray:
    """For hand-marked ordinal pairs ``[near_x, near_y, far_x, far_y]`` (fractions): True
    where the depth at the near point is not smaller than at the far point (ties are wrong).
    The mean of the result is the pairs' WHDR."""
    p = np.asarray(pairs, np.float64).reshape(-1, 4) if len(pairs) else np.zeros((0, 4))
    near = np.array([point_depth(depth, a, b, window_frac) for a, b in p[:, :2]])
    far = np.array([point_depth(depth, a, b, window_frac) for a, b in p[:, 2:]])
    return ~(near < far) if len(p) else np.zeros(0, bool)
