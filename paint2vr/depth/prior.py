"""The built-in 'prior' depth estimator: no weights, deterministic.

It reads a painting the way a painter builds space, at a reduced working resolution:

1. **Sky**: a horizon search over several cues (top-band colour, blue, bright clouds and
   glow under a grey top, smoothness) with a per-column dynamic programme, joined with the
   simple colour rules of version 2; a thin black/white frame line is ignored.
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
from .base import DepthMap, ModelInfo, edge_strength
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
PRIOR_VERSION = "4"


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


def _frame_box(L: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside a plain black or white frame line.

    Scanned reproductions often carry a thin frame; it would cut the sky off the top edge.
    Only uniform near-black/near-white outer lines count (L in 0..100), plus two lines of
    bleed next to them, at most 3 % per side, so painted skies (uniform but mid-toned) are
    never cut.
    """
    h, w = L.shape
    out = []
    for lines, n in ((L, h), (L[::-1], h), (L.T, w), (L.T[::-1], w)):
        cap, k = int(0.03 * n), 0
        while k < cap and lines[k].std() < 3 and (lines[k].mean() < 12 or lines[k].mean() > 92):
            k += 1
        out.append(min(cap, k + 2) if k else 0)
    t, b, l, r = out
    if h - t - b < 8 or w - l - r < 8:
        return 0, h, 0, w
    return t, h - b, l, w - r


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
    t, b, l, r = _frame_box(lab[..., 0])
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
        # Cut along the horizon: far hills above it and the ground below are told apart even
        # where no colour edge divides them ...
        r = min(h - 2, int(hz))
        # (only under a pale sky, where aerial perspective makes the far land pale too; under a
        # dark storm sky a dark crown would read as 'hazy').
        cut = bool(sky.any()) and r >= 1 and float(lab[..., 0][sky].mean()) > 55.0
        if cut:
            region[r] = 0
        n, labels = cv2.connectedComponents(region, connectivity=4)
        if cut and n > 2:
            labels = _rejoin_across(labels, n, lab, sky, r)
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
        # Ground seen between trunks or figures is cut into narrow strips: a region lying
        # below the horizon with the colour of a ground region is ground too.
        main = np.flatnonzero(is_ground & (cnt > 0.01 * h * w))
        main = main[main > 0]
        if main.size:
            col = np.stack(mean, 1)
            dmin = np.min(np.linalg.norm(col[:, None, :] - col[None, main, :], axis=2), axis=1)
            is_ground |= (below_frac > 0.7) & (span_below > 0.2 * (h - hz)) & (dmin < 10.0)
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
        # How wide each region is along its lowest rows: it rests on what carries a good
        # share of that foot (a crown on its trunk), not on a head poking up into a hill band.
        foot = np.bincount(lab_flat, (rows >= bottom[labels] - 2).ravel().astype(np.float64), n)
        supported = np.zeros(n, bool)
        for c in np.argsort(-bottom, kind="stable"):
            if c == 0 or not floating[c]:
                continue
            sel = pairs[:, 0] == c
            if not sel.any():
                continue
            for s, m in zip(pairs[sel, 1], pc[sel]):
                # A ground region supports at the contact row, not at its own near bottom.
                ds = ground_row[min(bottom[c] + 1, h - 1)] if is_ground[s] else comp_depth[s]
                if (m >= max(2.0, 0.02 * width[c], 0.1 * foot[c]) and ds < comp_depth[c]
                        and abs(haze[s] - haze[c]) < 0.2 and haze[c] < 0.5):
                    comp_depth[c] = ds
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
        edges = edge_strength(np.log(depth))
        conf = np.clip(conf * (1.0 - 0.5 * edges), 0, 1).astype(np.float32)
        return DepthMap(depth=np.ascontiguousarray(depth), sky=np.ascontiguousarray(sky), metric=False,
                        model=self.info, confidence=conf, edges=edges,
                        extras={"horizon_row": hz * h / sh})


def _rejoin_across(labels: np.ndarray, n: int, lab: np.ndarray, sky: np.ndarray, r: int) -> np.ndarray:
    """... and rejoined where one thing crosses it: the parts above and below row ``r`` meet
    along it with the same colour and the upper part is not hazy (a near ruin, a trunk)."""
    flat = labels.ravel()
    cnt = np.maximum(np.bincount(flat, minlength=n), 1)
    mean = np.stack([np.bincount(flat, lab[..., c].ravel(), n) / cnt for c in range(3)], 1)
    sref = np.array([lab[..., c][sky].mean() for c in range(3)])
    wt = np.array([1.0, 2.0, 2.0])
    to_sky = np.sqrt((((mean - sref) ** 2) * wt).sum(1))
    up, dn = labels[r - 1], labels[r + 1]
    ok = (up > 0) & (dn > 0)
    root = np.arange(n)

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    cols = np.broadcast_to(np.arange(labels.shape[1])[None, :], labels.shape).ravel()
    left = np.full(n, labels.shape[1])
    np.minimum.at(left, flat, cols)
    right = np.zeros(n, np.int64)
    np.maximum.at(right, flat, cols)
    narrow = (right - left + 1) < 0.3 * labels.shape[1]
    for u, d in np.unique(np.stack([up[ok], dn[ok]], 1), axis=0):
        # Same colour on both sides, and either the upper part is no haze or the lower part
        # is no wide ground (a crown whose foot dips below the horizon).
        if (np.sqrt((((mean[u] - mean[d]) ** 2) * wt).sum()) < 12.0
                and (to_sky[u] > 30.0 or narrow[d])):
            root[find(u)] = find(d)
    root = np.array([find(i) for i in range(n)])
    return root[labels].astype(labels.dtype)


