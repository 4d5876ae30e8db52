"""Filling unknown pixels: pyramid push-pull for colour and depth, margin extrapolation.

Push-pull averages the known pixels down a 2x pyramid and pulls the averages back up into
the holes: smooth, O(pixels), and exact where the weight is 1. Depth is filled as disparity
(1 / depth), in which planes are affine, so fills behind objects continue ground planes
instead of bending them.
"""

from __future__ import annotations

import cv2
import numpy as np


def push_pull(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Fill (h, w, c) float32 ``values`` where ``weight`` (h, w) in [0, 1] is below 1.

    Pixels with weight 1 keep their value exactly; if no pixel has weight > 0 the result is 0.
    """
    v = np.asarray(values, dtype=np.float32)
    squeeze = v.ndim == 2
    if squeeze:
        v = v[..., None]
    w = np.clip(np.asarray(weight, dtype=np.float32), 0.0, 1.0)
    pyr: list[tuple[np.ndarray, np.ndarray]] = []
    pv, pw = v * w[..., None], w
    while True:
        pyr.append((pv, pw))
        h, wd = pw.shape
        if h == 1 and wd == 1:
            break
        if h % 2 or wd % 2:  # zero-weight padding keeps 2x2 sums exact
            pv = np.pad(pv, ((0, h % 2), (0, wd % 2), (0, 0)))
            pw = np.pad(pw, ((0, h % 2), (0, wd % 2)))
        sv = pv[0::2, 0::2] + pv[1::2, 0::2] + pv[0::2, 1::2] + pv[1::2, 1::2]
        sw = pw[0::2, 0::2] + pw[1::2, 0::2] + pw[0::2, 1::2] + pw[1::2, 1::2]
        scale = np.where(sw > 1.0, 1.0 / np.maximum(sw, 1e-30), 1.0).astype(np.float32)
        pv, pw = sv * scale[..., None], sw * scale
    pv, pw = pyr[-1]
    col = np.where(pw[..., None] > 0, pv / np.maximum(pw, 1e-30)[..., None], 0.0).astype(np.float32)
    for pv, pw in reversed(pyr[:-1]):
        h, wd = pw.shape
        ch, cw = col.shape[:2]
        up = cv2.resize(col, (cw * 2, ch * 2), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        up = up[:h, :wd]
        col = pv + up * (1.0 - pw)[..., None]
    return col[..., 0] if squeeze else col


def extend_disparity(disp: np.ndarray, mx: int, my: int, lo: float, hi: float) -> np.ndarray:
    """Pad an (h, w) disparity map by ``mx`` columns and ``my`` rows on each side.

    Each side continues the local slope at the border (linear in disparity, exact for
    planes such as the ground), estimated over a few pixels and smoothed along the border;
    the result is clipped to [lo, hi].
    """
    out = _extend_rows(np.asarray(disp, np.float32), my, lo, hi)
    return _extend_rows(out.T, mx, lo, hi).T.copy()


def _extend_rows(d: np.ndarray, m: int, lo: float, hi: float) -> np.ndarray:
    if m <= 0:
        return d
    h, w = d.shape
    k = max(1, min(8, h // 4))
    dist = np.arange(1, m + 1, dtype=np.float32)[:, None]
    smooth = max(3, (w // 32) | 1)

    def side(edge: np.ndarray, inner: np.ndarray) -> np.ndarray:
        slope = (edge - inner) / float(k)
        slope = cv2.blur(slope[None, :], (smooth, 1), borderType=cv2.BORDER_REPLICATE)[0]
        # Never steeper than the border value itself over the margin (keeps depth positive).
        slope = np.clip(slope, -edge / (2 * m), edge / (2 * m))
        return np.clip(edge[None, :] + slope[None, :] * dist, lo, hi)

    top = side(d[0], d[min(k, h - 1)])[::-1]
    bottom = side(d[-1], d[max(h - 1 - k, 0)])
    return np.concatenate([top, d, bottom], axis=0).astype(np.float32)


MARGIN_GRAIN = 0.5
"""Strength of the fine brush grain laid over the stretched margin (1 = the painting's own)."""


def extend_colour(rgb: np.ndarray, mx: int, my: int) -> np.ndarray:
    """Pad an (h, w, 3) image by ``mx`` columns and ``my`` rows on each side, naturally.

    Each side stretches the colours near the edge outwards, blurred along the edge more the
    further out (sigma = half the distance), so no object is mirrored or repeated; a fine
    grain (the painting's high-pass near the edge, fading with distance) keeps it from
    looking airbrushed. Returns the input's dtype.
    """
    a = np.asarray(rgb)
    out = _stretch_rows(a.astype(np.float32), my)
    out = _stretch_rows(out.transpose(1, 0, 2), mx).transpose(1, 0, 2)
    return np.clip(out, 0, 255).astype(a.dtype) if a.dtype == np.uint8 else out.astype(a.dtype)


def extend_colour_reference(rgb: np.ndarray, mx: int, my: int) -> np.ndarray:
    """Slow reference of :func:`extend_colour`'s smooth part (no grain), row by row."""
    out = _stretch_rows(np.asarray(rgb, np.float32), my, grain=False, exact=True)
    return _stretch_rows(out.transpose(1, 0, 2), mx, grain=False, exact=True).transpose(1, 0, 2)


def _stretch_rows(img: np.ndarray, m: int, grain: bool = True, exact: bool = False) -> np.ndarray:
    if m <= 0:
        return img
    h, w = img.shape[:2]
    k = max(1, min(4, h // 4))
    t = np.arange(1, m + 1, dtype=np.float32)
    sig = 0.5 * t
    # Blur levels to interpolate between (exact: one blur per row).
    levels = np.unique(np.concatenate([[0.0], 2.0 ** np.arange(0, np.ceil(np.log2(max(2.0, sig[-1]))) + 1)]))

    def blur_row(row: np.ndarray, s: float) -> np.ndarray:
        if s <= 0:
            return row
        return cv2.GaussianBlur(row[None], (0, 0), sigmaX=float(s), sigmaY=1e-6,
                                borderType=cv2.BORDER_REFLECT_101)[0]

    def side(edge: np.ndarray, band: np.ndarray) -> np.ndarray:
        if exact:
            rows = np.stack([blur_row(edge, float(s)) for s in sig])
        else:
            lv = np.stack([blur_row(edge, float(s)) for s in levels])
            i = np.clip(np.searchsorted(levels, sig, side="right") - 1, 0, len(levels) - 2)
            f = ((sig - levels[i]) / (levels[i + 1] - levels[i]))[:, None, None]
            rows = lv[i] * (1 - f) + lv[i + 1] * f
        if grain:
            # Brush grain: the band's high-pass, tiled outwards and fading with distance.
            hp = band - cv2.GaussianBlur(band, (0, 0), 1.5)
            reps = -(-m // len(band))
            tile = np.concatenate([hp, hp[::-1]] * ((reps + 1) // 2 + 1), 0)[:m]
            fade = (MARGIN_GRAIN * np.exp(-t / max(4.0, m / 3.0)))[:, None, None]
            rows = rows + tile * fade
        return rows

    nb = min(h, max(4, m // 4))
    top = side(img[:k].mean(axis=0), img[:nb])[::-1]
    bottom = side(img[-k:].mean(axis=0), img[-nb:][::-1])
    return np.concatenate([top, img, bottom], axis=0)
