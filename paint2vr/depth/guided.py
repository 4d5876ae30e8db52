"""Edge-aware smoothing: the guided filter (He, Sun & Tang 2010), written on box filters.

``cv2.ximgproc`` is not part of headless OpenCV, so this is our own O(N) version, plus a
slow window-by-window reference used by the tests.
"""

from __future__ import annotations

import cv2
import numpy as np


def _box(x: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Smooth ``src`` (H, W) while keeping the edges of ``guide`` (H, W), both float32.

    ``radius`` is clamped so the window fits the image; ``eps`` (in guide units squared)
    sets how strong an edge of the guide must be to be kept.
    """
    I = np.ascontiguousarray(guide, np.float32)
    p = np.ascontiguousarray(src, np.float32)
    r = int(min(radius, (min(I.shape) - 1) // 2))
    if r < 1:
        return p.copy()
    mI, mp = _box(I, r), _box(p, r)
    var = _box(I * I, r) - mI * mI
    cov = _box(I * p, r) - mI * mp
    a = cov / (np.maximum(var, 0) + np.float32(eps))
    b = mp - a * mI
    return (_box(a, r) * I + _box(b, r)).astype(np.float32)


def guided_filter_reference(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Slow, obvious version of :func:`guided_filter` (explicit windows, mirrored borders)."""
    I = np.asarray(guide, np.float64)
    p = np.asarray(src, np.float64)
    h, w = I.shape
    r = int(min(radius, (min(I.shape) - 1) // 2))
    if r < 1:
        return p.astype(np.float32)
    Ip, pp = np.pad(I, r, mode="symmetric"), np.pad(p, r, mode="symmetric")
    a = np.empty_like(I)
    b = np.empty_like(I)
    for y in range(h):
        for x in range(w):
            wi, wp = Ip[y:y + 2 * r + 1, x:x + 2 * r + 1], pp[y:y + 2 * r + 1, x:x + 2 * r + 1]
            cov = (wi * wp).mean() - wi.mean() * wp.mean()
            a[y, x] = cov / (max(wi.var(), 0) + eps)
            b[y, x] = wp.mean() - a[y, x] * wi.mean()
    ap, bp = np.pad(a, r, mode="symmetric"), np.pad(b, r, mode="symmetric")
    out = np.empty_like(I)
    for y in range(h):
        for x in range(w):
            out[y, x] = (ap[y:y + 2 * r + 1, x:x + 2 * r + 1].mean() * I[y, x]
                         + bp[y:y + 2 * r + 1, x:x + 2 * r + 1].mean())
    return out.astype(np.float32)
