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
        # 2x2 sums; at odd sizes the last row/column has fewer children (as if padded with
        # zero weight, without copying the level into a padded array).
        hh, hw = h // 2, wd // 2
        sv, sw = pv[0::2, 0::2].copy(), pw[0::2, 0::2].copy()
        sv[:hh] += pv[1::2, 0::2]
        sv[:, :hw] += pv[0::2, 1::2]
        sv[:hh, :hw] += pv[1::2, 1::2]
        sw[:hh] += pw[1::2, 0::2]
        sw[:, :hw] += pw[0::2, 1::2]
        sw[:hh, :hw] += pw[1::2, 1::2]
        scale = np.where(sw > 1.0, 1.0 / np.maximum(sw, 1e-30), 1.0).astype(np.float32)
        sv *= scale[..., None]
        sw *= scale
        pv, pw = sv, sw
    pv, pw = pyr[-1]
    col = np.where(pw[..., None] > 0, pv / np.maximum(pw, 1e-30)[..., None], 0.0).astype(np.float32)
    for pv, pw in reversed(pyr[:-1]):
        h, wd = pw.shape
        ch, cw = col.shape[:2]
        up = cv2.resize(col, (cw * 2, ch * 2), interpolation=cv2.INTER_LINEAR)
        if up.ndim == 2:
            up = up[..., None]
        up = up[:h, :wd]
        up *= (1.0 - pw)[..., None]
        up += pv  # in place: the same sums as pv + up * (1 - pw), without two temporaries
        col = up
    return col[..., 0] if squeeze else col


def push_pull_reference(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Slow, obvious reference of :func:`push_pull`: explicit loops over every pixel.

    Push: each coarser pixel is the weighted sum of its 2x2 children (missing children weigh
    0), renormalised when the summed weight exceeds 1. Pull: from the top down, a pixel keeps
    ``value + (1 - weight) * parent``, where ``parent`` is the coarser level upsampled
    bilinearly at pixel centres (clamped at the borders, as cv2.resize INTER_LINEAR does).
    """
    v = np.asarray(values, np.float64)
    squeeze = v.ndim == 2
    if squeeze:
        v = v[..., None]
    w = np.clip(np.asarray(weight, np.float64), 0.0, 1.0)
    levels = [(v * w[..., None], w)]
    while levels[-1][1].shape != (1, 1):
        pv, pw = levels[-1]
        h, wd = pw.shape
        nh, nw = (h + 1) // 2, (wd + 1) // 2
        sv, sw = np.zeros((nh, nw, v.shape[2])), np.zeros((nh, nw))
        for y in range(h):
            for x in range(wd):
                sv[y // 2, x // 2] += pv[y, x]
                sw[y // 2, x // 2] += pw[y, x]
        for y in range(nh):
            for x in range(nw):
                if sw[y, x] > 1.0:
                    sv[y, x] /= sw[y, x]
                    sw[y, x] = 1.0
        levels.append((sv, sw))
    pv, pw = levels[-1]
    col = pv / pw[..., None] if pw[0, 0] > 0 else np.zeros_like(pv)
    for pv, pw in reversed(levels[:-1]):
        h, wd = pw.shape
        ch, cw = col.shape[:2]
        out = np.empty_like(pv)
        for y in range(h):
            sy = min(max((y + 0.5) / 2 - 0.5, 0.0), ch - 1.0)
            y0 = int(sy)
            y1, fy = min(y0 + 1, ch - 1), sy - y0
            for x in range(wd):
                sx = min(max((x + 0.5) / 2 - 0.5, 0.0), cw - 1.0)
                x0 = int(sx)
                x1, fx = min(x0 + 1, cw - 1), sx - x0
                parent = ((1 - fy) * ((1 - fx) * col[y0, x0] + fx * col[y0, x1])
                          + fy * ((1 - fx) * col[y1, x0] + fx * col[y1, x1]))
                out[y, x] = pv[y, x] + (1.0 - pw[y, x]) * parent
        col = out
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


def extend_color(rgb: np.ndarray, mx: int, my: int) -> np.ndarray:
    """Pad an (h, w, 3) image by ``mx`` columns and ``my`` rows on each side, naturally.

    Each side stretches the colours near the edge outwards, blurred along the edge more the
    further out (sigma = half the distance), so no object is mirrored or repeated; a fine
    grain (the painting's high-pass near the edge, fading with distance) keeps it from
    looking airbrushed. Returns the input's dtype; only the edge bands are converted to float.
    """
    return _extend(np.asarray(rgb), mx, my, grain=True, exact=False)


def extend_color_reference(rgb: np.ndarray, mx: int, my: int) -> np.ndarray:
    """Slow reference of :func:`extend_color`'s smooth part (no grain): one blur per row."""
    return _extend(np.asarray(rgb, np.float32), mx, my, grain=False, exact=True)


def _extend(a: np.ndarray, mx: int, my: int, grain: bool, exact: bool) -> np.ndarray:
    h, w = a.shape[:2]
    out = np.empty((h + 2 * my, w + 2 * mx) + a.shape[2:], a.dtype)
    out[my:my + h, mx:mx + w] = a

    def put(dst: np.ndarray, val: np.ndarray) -> None:
        dst[...] = np.clip(val, 0, 255) if a.dtype == np.uint8 else val

    if my > 0:
        nb = min(h, max(4, my // 4))
        top, bottom = _sides(a[:nb].astype(np.float32), a[-nb:][::-1].astype(np.float32), my, grain, exact)
        put(out[:my, mx:mx + w], top[::-1])
        put(out[my + h:, mx:mx + w], bottom)
    if mx > 0:
        nb = min(w, max(4, mx // 4))
        band_l = out[:, mx:mx + nb].transpose(1, 0, 2).astype(np.float32)
        band_r = out[:, mx + w - nb:mx + w][:, ::-1].transpose(1, 0, 2).astype(np.float32)
        left, right = _sides(band_l, band_r, mx, grain, exact)
        put(out[:, :mx], left[::-1].transpose(1, 0, 2))
        put(out[:, mx + w:], right.transpose(1, 0, 2))
    return out


def _sides(band_a: np.ndarray, band_b: np.ndarray, m: int, grain: bool,
           exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """The m rows beyond two edges, given the bands next to them (edge row first)."""
    t = np.arange(1, m + 1, dtype=np.float32)
    sig = 0.5 * t
    levels = np.unique(np.concatenate([[0.0], 2.0 ** np.arange(0, np.ceil(np.log2(max(2.0, sig[-1]))) + 1)]))

    def blur_row(row: np.ndarray, sg: float) -> np.ndarray:
        if sg <= 0:
            return row
        return cv2.GaussianBlur(row[None], (0, 0), sigmaX=float(sg), sigmaY=1e-6,
                                borderType=cv2.BORDER_REFLECT_101)[0]

    def side(band: np.ndarray) -> np.ndarray:
        edge = band[:max(1, min(4, len(band)))].mean(axis=0)
        if exact:
            rows = np.stack([blur_row(edge, float(x)) for x in sig])
        else:  # octave blur levels, interpolated per row
            lv = np.stack([blur_row(edge, float(x)) for x in levels])
            i = np.clip(np.searchsorted(levels, sig, side="right") - 1, 0, len(levels) - 2)
            f = ((sig - levels[i]) / (levels[i + 1] - levels[i]))[:, None, None]
            rows = lv[i] * (1 - f) + lv[i + 1] * f
        if grain:
            # Brush grain: the band's high-pass, tiled outwards and fading with distance.
            hp = band - cv2.GaussianBlur(band, (0, 0), 1.5)
            tile = np.concatenate([hp, hp[::-1]] * (m // (2 * len(band)) + 1), 0)[:m]
            fade = (MARGIN_GRAIN * np.exp(-t / max(4.0, m / 3.0)))[:, None, None]
            rows = rows + tile * fade
        return rows

    return side(band_a), side(band_b)
