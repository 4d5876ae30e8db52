"""Sky: where the painting is open to the heavens (version 4's detector, kept).

Two readings, either one counts: (a) a horizon search over per-pixel sky evidence (top-band
colour when it can be a sky, blue, bright clouds and glow under a grey top; all weighted by
smoothness) with a per-column dynamic programme, cut at an abrupt sea line; (b) the colour
rules of version 2 (smooth grey-bright or blue regions on the top edge). The picture inside
a thin frame line is searched (:mod:`.frames`). Where the sky may lie relative to the
horizon is decided in :mod:`.horizon`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .frames import frame_line_box
from .imageops import check_rgb, grad as _grad, resize_to


def _texture(lab: np.ndarray) -> np.ndarray:
    """Local detail: colour-gradient magnitude, lightly blurred (L in 0..100)."""
    L = lab[..., 0]
    if min(L.shape) <= 4:
        return np.zeros_like(L)
    t = _grad(cv2.GaussianBlur(L, (0, 0), 0.8)) + 0.5 * (_grad(lab[..., 1]) + _grad(lab[..., 2]))
    return cv2.GaussianBlur(t, (0, 0), 1.5)


def _sky_colour(L, chroma, b):
    """Whether a colour could be a sky: blue, near-grey, or pale and only slightly tinted."""
    return ((b < -8) & (L > 30)) | (chroma < 12) | ((L > 45) & (chroma < 25) & (b < 16))


def _sky_likeness(lab: np.ndarray, tex: np.ndarray) -> tuple[np.ndarray, bool]:
    """Per-pixel sky evidence in [0, 1], and whether the top band can be sky at all.

    Cues: smooth (low texture relative to the picture), colour like the smoother half of the
    top band (robust median/spread), and, when the top band is brighter than the land,
    brightness with moderate chroma (clouds, sunset glow that differ from the top colour).
    """
    h, w = tex.shape
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    band = slice(0, max(2, int(round(0.06 * h))))
    tb = tex[band]
    calm = tb <= np.median(tb)
    # Prefer top-band pixels whose colour could be a sky (a smooth dark crown or tower that
    # hangs in from the top must not become the reference).
    bl, bc, bb = L[band], np.hypot(a[band], b[band]), b[band]
    skyish = _sky_colour(bl, bc, bb)
    if skyish.mean() > 0.2:
        calm = skyish & (tb <= np.median(tb[skyish]))
    ref = np.array([np.median(lab[band][..., c][calm]) for c in range(3)])
    # Spread floored (brush noise) and capped (a crown in the top band must not widen the
    # model to every colour).
    spread = np.array([min(max(1.4826 * np.median(np.abs(lab[band][..., c][calm] - ref[c])), f), 2 * f)
                       for c, f in enumerate((6.0, 3.0, 3.0))])
    d2 = (((L - ref[0]) / (2.5 * spread[0])) ** 2 + ((a - ref[1]) / (2.5 * spread[1])) ** 2
          + ((b - ref[2]) / (2.5 * spread[2])) ** 2)
    # The top colour only counts as a sky colour when it could be one: grey, pale or blue,
    # not a warm saturated wall or foliage.
    sky_colour = bool(_sky_colour(ref[0], np.hypot(ref[1], ref[2]), ref[2]))
    colour = np.exp(-0.5 * d2) if sky_colour else np.zeros_like(L)
    # Saturated pixels (grass, foliage, warm walls) are no sky whatever the top band holds.
    colour = colour * (np.hypot(a, b) < max(25.0, float(np.hypot(ref[1], ref[2])) + 10.0))
    lower = lab[int(0.6 * h):]
    land_L = float(np.median(lower[..., 0])) if lower.size else 50.0
    tex_land = float(np.median(tex[int(0.5 * h):])) if h > 1 else 1.0
    ts = max(tex_land, 8.0)
    smooth = np.clip(1.8 - tex / (1.2 * ts), 0.0, 1.0)
    loose = np.clip(2.2 - tex / ts, 0.0, 1.0)
    blue = np.clip((-b - 6.0) / 10.0, 0.0, 1.0) * (L > 30)
    q = np.maximum(colour * smooth, blue * smooth)
    upper = L[: max(1, h // 3)]
    if sky_colour and ref[2] > -8 and float(np.percentile(upper, 75)) > land_L + 10:
        # A grey or dark (overcast, stormy) top over darker land: bright, not too saturated
        # pixels (clouds, a sunset glow) are sky-like whatever the top colour is, even if
        # brushy; darker-than-land ones are not. (A clear blue top needs no such help, and
        # there the pale haze over the land would pass for sky.)
        chroma = np.hypot(a, b)
        bright = np.clip((L - land_L - 6) / 12.0, 0.0, 1.0) * (chroma < 40)
        q = np.maximum(q * np.clip(0.5 + (L - land_L) / 10.0, 0.0, 1.0), 0.8 * bright * loose)
    plausible = bool((q[band] > 0.5).mean() > 0.08)
    return q.astype(np.float32), plausible


def _best_boundary(q: np.ndarray, jump: float) -> np.ndarray:
    """Per-column sky boundary row (sky above) minimising misfit plus ``jump`` per row of step.

    Dynamic programme over columns; the L1 step cost is applied with two running minima, so
    each column is O(H) vectorised work.
    """
    h, w = q.shape
    # cost[b, x]: rows above b should be sky (1 - q), rows from b down should not (q).
    zero = np.zeros((1, w), np.float64)
    above = np.concatenate([zero, np.cumsum(1.0 - q, axis=0)])
    below = np.concatenate([np.cumsum(q[::-1], axis=0)[::-1], zero])
    cost = above + below                                   # (h + 1, w)
    rows = np.arange(h + 1, dtype=np.float64) * jump
    acc = cost[:, 0].copy()
    back = np.zeros((h + 1, w), np.int64)
    idx = np.arange(h + 1)
    for x in range(1, w):
        f = acc - rows                                     # from above: min_{b'<=b} acc[b'] - j b'
        g = (acc + rows)[::-1]                             # from below: min_{b'>=b} acc[b'] + j b'
        fi = _argmin_accumulate(f)
        gi = h - _argmin_accumulate(g)[::-1]
        vf = f[fi] + rows
        vg = (acc + rows)[gi] - rows
        take_f = vf <= vg
        back[:, x] = np.where(take_f, fi, gi)
        acc = np.where(take_f, vf, vg) + cost[:, x]
    out = np.empty(w, np.int64)
    out[-1] = int(np.argmin(acc))
    for x in range(w - 1, 0, -1):
        out[x - 1] = back[out[x], x]
    del idx
    return out


def _sea_line(lab: np.ndarray, q: np.ndarray, bnd: np.ndarray) -> int:
    """First row where the sky-like band turns abruptly darker (a sea or lake under the sky).

    A sky brightens or changes gradually down to the horizon; water under it is a sharp step
    darker or bluer across most of the width. Returns h when there is no such step.
    """
    h, w = q.shape
    rows = np.arange(h)[:, None]
    m = rows < bnd[None, :]
    cnt = m.sum(axis=1)
    Lm = np.where(m, lab[..., 0], 0).sum(axis=1) / np.maximum(cnt, 1)
    bm = np.where(m, lab[..., 2], 0).sum(axis=1) / np.maximum(cnt, 1)
    ok = cnt >= 0.2 * w
    for r in range(int(0.15 * h), h - 3):
        if ok[r] and ok[r + 3] and (Lm[r + 3] - Lm[r] < -7 or bm[r + 3] - bm[r] < -7):
            return r + 2
    return h


def _argmin_accumulate(v: np.ndarray) -> np.ndarray:
    """Index of the running minimum of v (first index on ties)."""
    m = np.minimum.accumulate(v)
    is_new = np.concatenate([[True], v[1:] < m[:-1]])
    pos = np.where(is_new, np.arange(len(v)), 0)
    return np.maximum.accumulate(pos)


def _sky_rules(lab: np.ndarray) -> np.ndarray:
    """The colour-rule cue: smooth grey-bright or blue regions on the top edge (PRIOR_VERSION 2)."""
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


def _sky_small(lab: np.ndarray) -> np.ndarray:
    """Sky on a small Lab image (L in 0..100): see :func:`detect_sky`."""
    t, b, l, r = frame_line_box(lab[..., 0])
    sky = np.zeros(lab.shape[:2], bool)
    inner = np.ascontiguousarray(lab[t:b, l:r])
    # Two readings: the colour rules (clear, blue or grey skies) and the horizon search
    # (painted skies of any colour); either one finding sky is taken.
    sky[t:b, l:r] = _sky_inner(inner) | _sky_rules(inner)
    # The frame strip above the sky is sky too (keeps the sky on the top edge).
    if t and sky[t].any():
        sky[:t] = sky[t]
    return sky


def _sky_inner(lab: np.ndarray) -> np.ndarray:
    h, w = lab.shape[:2]
    none = np.zeros((h, w), bool)
    if h < 8 or w < 4:
        return none
    # A median filter first: thin branches, rigging and birds do not break up the sky.
    lab = cv2.medianBlur(lab, 5) if min(h, w) >= 5 else lab
    tex = _texture(lab)
    q, plausible = _sky_likeness(lab, tex)
    if not plausible:
        return none
    bnd = _best_boundary(q, jump=0.4)
    bnd = np.minimum(bnd, min(_sea_line(lab, q, bnd), int(math.ceil(0.9 * h))))
    rows = np.arange(h)[:, None]
    region = rows < bnd[None, :]
    sky = region & (q > 0.3)
    n, labels = cv2.connectedComponents(sky.astype(np.uint8), connectivity=4)
    if n <= 1:
        return none
    # Keep sky parts that reach the top band (sky hangs from the top edge) or are large.
    top_band = max(1, int(round(0.06 * h)))
    keep = np.bincount(labels.ravel(), minlength=n) >= 0.005 * h * w  # big parts within the region
    keep[np.unique(labels[:top_band][sky[:top_band]])] = True
    keep[0] = False
    sky = keep[labels]
    # Fill enclosed holes (birds, cloud texture, thin rigging) that never touch the land.
    n, holes = cv2.connectedComponents((~sky).astype(np.uint8), connectivity=4)
    if n > 1:
        flat = holes.ravel()
        cnt = np.bincount(flat, minlength=n)
        touches_land = np.zeros(n, bool)
        touches_land[np.unique(holes[~region])] = True
        mq = np.bincount(flat, q.ravel(), n) / np.maximum(cnt, 1)
        # A hole cut by the frame (a crown or tower coming in from the top or a side) is an
        # object in front of the sky unless it looks like sky itself.
        border = np.zeros(n, bool)
        border[np.unique(np.concatenate([holes[0], holes[:, 0], holes[:, -1]]))] = True
        fill = (~touches_land & (cnt < 0.1 * h * w) & ((cnt < 0.01 * h * w) | (mq > 0.15))
                & (~border | (mq > 0.4)))
        fill[0] = False
        sky |= fill[holes]
    if sky.mean() < 0.02:
        return none
    # The sky must read clearly against the land just below it.
    below = (rows >= bnd[None, :]) & (rows < bnd[None, :] + max(3, int(0.15 * h)))
    if below.any() and float(q[sky].mean() - q[below].mean()) < 0.2:
        return none
    return sky


def detect_sky(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 -> (H, W) bool: the sky, hanging from the top edge (see the module notes)."""
    check_rgb(rgb)
    h, w = rgb.shape[:2]
    small = resize_to(rgb, 256).astype(np.float32) / 255.0
    sky = _sky_small(cv2.cvtColor(small, cv2.COLOR_RGB2Lab))
    return cv2.resize(sky.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0




def _row_colours(part: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """(h, 3) mean colour of ``part`` per row; a row it does not reach takes its nearest
    row's (the upper one on ties)."""
    rows = part.sum(1)
    have = np.flatnonzero(rows)
    col = np.stack([(lab[..., c] * part).sum(1) for c in range(3)], 1)[have] / rows[have, None]
    r = np.arange(part.shape[0])
    hi = np.clip(np.searchsorted(have, r), 0, len(have) - 1)
    lo = np.clip(hi - 1, 0, len(have) - 1)
    return col[np.where(np.abs(have[lo] - r) <= np.abs(have[hi] - r), lo, hi)]


def one_sky(sky: np.ndarray, lab: np.ndarray, max_diff: float = 12.0) -> np.ndarray:
    """The sky mask without the parts that are unlike the open sky.

    Sky seen through a gap (between trees, columns or buildings) is the same sky as the
    sky open to the top edge. The parts (8-connected) of the mask that reach the top row
    are the open sky and are kept; every other part must be within ``max_diff`` (Lab
    distance of the mean colours) of one of them, taken at the same heights (a sky pales
    towards the horizon: each of the part's rows is compared with that open part's row, or
    its nearest row). A pale wall, a niche or a stone tower that the colour cues took for
    sky differs from it and is land. With no part on the top row the mask is kept.
    :func:`one_sky_reference` is the slow obvious version.
    """
    n, labels = cv2.connectedComponents(sky.astype(np.uint8), connectivity=8)
    top = np.unique(labels[0][sky[0]])
    if n <= 2 or top.size == 0:
        return sky
    flat = labels.ravel()
    safe = np.maximum(np.bincount(flat, minlength=n), 1)[:, None].astype(np.float64)
    mean = np.stack([np.bincount(flat, lab[..., c].ravel(), n) for c in range(3)], 1) / safe
    best = np.full(n, np.inf)
    for t in top:
        want = _row_colours(labels == t, lab)[np.repeat(np.arange(lab.shape[0]), lab.shape[1])]
        want = np.stack([np.bincount(flat, want[:, c], n) for c in range(3)], 1) / safe
        best = np.minimum(best, np.sqrt(((mean - want) ** 2).sum(1)))
    keep = best <= max_diff
    keep[top] = True
    keep[0] = False
    return keep[labels]


def one_sky_reference(sky: np.ndarray, lab: np.ndarray, max_diff: float = 12.0) -> np.ndarray:
    """:func:`one_sky` one part, one row and one pixel at a time."""
    n, labels = cv2.connectedComponents(sky.astype(np.uint8), connectivity=8)
    h = sky.shape[0]
    open_parts = sorted(k for k in set(labels[0].tolist()) if k > 0)
    if n <= 2 or not open_parts:
        return sky
    profiles = []
    for t in open_parts:
        prof = {r: lab[r][labels[r] == t].mean(0) for r in range(h) if (labels[r] == t).any()}
        profiles.append(prof)
    out = np.zeros_like(sky)
    for k in range(1, n):
        ys, xs = np.nonzero(labels == k)
        got = lab[ys, xs].mean(0)
        ok = k in open_parts
        for prof in profiles:
            nearest = [prof[min(prof, key=lambda q: (abs(q - int(r)), q))] for r in ys]
            if float(np.sqrt(((got - np.mean(nearest, axis=0)) ** 2).sum())) <= max_diff:
                ok = True
        if ok:
            out[ys, xs] = True
    return out
