"""Edge-aware smoothing: the guided filter (He, Sun & Tang 2010), written on box filters.

``cv2.ximgproc`` is not part of headless OpenCV, so this is our own O(N) version, plus a
slow window-by-window reference used by the tests, and the fast guided filter (He & Sun
2015): the linear coefficients computed on a subsampled guide and source and upsampled, for
large radii at full resolution (the exact filter is its reference in the tests).
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


FAST_WINDOW = 4
"""The fast filter subsamples by ``radius // FAST_WINDOW``: its windows keep about this radius."""


def _area(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(x, size, interpolation=cv2.INTER_AREA)


def fast_guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float,
                       step: int | None = None) -> np.ndarray:
    """:func:`guided_filter` with its coefficients computed on copies subsampled by ``step``
    (default ``radius // FAST_WINDOW``; 1 is the exact filter) and upsampled bilinearly
    (He & Sun 2015, "Fast Guided Filter"). ``src`` may be (H, W) or (H, W, C) (C <= 4, each
    channel filtered with the same guide, sharing its statistics); float32 out, shaped as
    ``src``. The output keeps the full-resolution guide's edges; the windows grow by at most
    ``step`` pixels.
    """
    I = np.ascontiguousarray(guide, np.float32)
    p = np.ascontiguousarray(src, np.float32)
    h, w = I.shape
    r = int(min(radius, (min(I.shape) - 1) // 2))
    s = max(1, r // FAST_WINDOW) if step is None else max(1, int(step))
    if r < 1:
        return p.copy()
    if s == 1:
        if p.ndim == 2:
            return guided_filter(I, p, r, eps)
        return np.stack([guided_filter(I, p[..., c], r, eps) for c in range(p.shape[2])], -1)
    size = (max(1, round(w / s)), max(1, round(h / s)))
    Is, ps = _area(I, size), _area(p, size)
    rs = int(max(1, min(round(r / s), (min(Is.shape) - 1) // 2)))
    if rs < 1 or min(Is.shape) < 3:
        return fast_guided_filter(I, p, r, eps, step=1)
    mI = _box(Is, rs)
    var = _box(Is * Is, rs) - mI * mI
    Ic = Is if ps.ndim == 2 else Is[..., None]
    mIc = mI if ps.ndim == 2 else mI[..., None]
    mp = _box(ps, rs)
    cov = _box(Ic * ps, rs) - mIc * mp
    den = np.maximum(var, 0) + np.float32(eps)
    a = cov / (den if ps.ndim == 2 else den[..., None])
    b = mp - a * mIc
    A = cv2.resize(_box(a, rs), (w, h), interpolation=cv2.INTER_LINEAR)
    B = cv2.resize(_box(b, rs), (w, h), interpolation=cv2.INTER_LINEAR)
    if A.ndim == 2:
        return (A * I + B).astype(np.float32, copy=False)
    A *= I[..., None]
    A += B
    return A


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
