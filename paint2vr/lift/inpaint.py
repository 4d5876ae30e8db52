"""Exemplar-based inpainting of what nearer layers hide (the PatchMatch family).

Each hidden pixel of a layer gets a source pixel of the same layer (never of the occluder,
nor of a farther layer), found as a nearest-neighbour field (NNF): the source whose patch
best matches the patch around the hidden pixel, over the layer's own pixels and the current
estimate of the hidden ones (Barnes et al. 2009, PatchMatch). The search is vectorised over
all hidden pixels at once (Jacobi form): each iteration tries, for every pixel, the offsets
of its four neighbours at a jump distance that halves each iteration (jump flooding, so a
good offset spreads across the hole in log steps) and random offsets around its current one
in a shrinking radius; then every hidden pixel takes its source's colour, and the next
iteration matches against that. A small cost on the source's distance keeps the copy near
the hole, where the background's large-scale colour (atmospheric perspective, lighting)
is the same.

The field is searched on a grid coarse enough that each layer's hole has at most
:data:`HOLE_BUDGET` pixels and is used as offsets: the texture copies the painting's own
full-resolution pixels through them, so the fill has the painting's detail and colours,
not a blur. :func:`nnf_search_reference` is the obvious per-pixel loop the vectorised
:func:`nnf_search` is tested against (same candidates, same field).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

PATCH_RADIUS = 2
"""Half-size of the compared patches on the search grid (5 x 5)."""
ITERATIONS = 6
"""Search iterations (jump distances 2^k down to 1, then steps of 1)."""
RANDOM_TRIES = 2
"""Random candidates per pixel and iteration (radius halving each try)."""
HOLE_BUDGET = 5000
"""Most hidden pixels of one layer on the search grid: the grid is coarsened by powers of two
until the hole fits (the search's cost is linear in it)."""
SPATIAL_WEIGHT = 4.0
"""Cost, in squared grey levels per patch pixel, of a source one hole's width away."""
OWN_WEIGHT = 2.0
"""Weight of the layer's own (painted) pixels in a patch, against 1 for estimated ones."""
OWN_SHARE = 0.75
"""Share of a coarse search pixel that must be the layer's own for it to count as own."""
COHERENCE = 300.0
"""Cost, in squared grey levels per patch pixel, of each of the four neighbours whose
offset differs: coherent copies of whole stretches instead of a mosaic of small blocks (and
no stamp of one source pixel repeated across the hole)."""


def offsets(n: int = PATCH_RADIUS) -> np.ndarray:
    """(k, 2) patch offsets (dy, dx) compared: the 3 x 3 neighbourhood and the four axis
    points at distance n (a (2n+1)^2 window sampled at 13 points)."""
    r = np.arange(-1, 2)
    near = np.stack(np.meshgrid(r, r, indexing="ij"), -1).reshape(-1, 2)
    return np.concatenate([near, [[-n, 0], [n, 0], [0, -n], [0, n]]]).astype(np.int64)


def source_mask(own: np.ndarray, n: int = PATCH_RADIUS) -> np.ndarray:
    """Own pixels whose 3 x 3 neighbourhood is own, with the whole patch inside the image
    (the allowed sources); when the layer is too thin for that, every own pixel."""
    h, w = own.shape
    for r in (1, 0):
        ok = cv2.erode(own.view(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8),
                       borderValue=0) > 0 if r else own.copy()
        ok[:n] = ok[h - n:] = False
        ok[:, :n] = ok[:, w - n:] = False
        if ok.sum() >= 16:
            return ok
    return ok


class Candidates:
    """The random draws of one search, shared by the fast path and its reference.

    ``jumps[i]`` is iteration i's propagation distance; ``rand[i][t]`` (m, 2) the random
    offsets added to each hole pixel's current offset in try t (m = hole pixels)."""

    def __init__(self, m: int, extent: int, seed: int, iterations: int = ITERATIONS):
        rng = np.random.default_rng(seed)
        top = max(1, 2 ** int(math.log2(max(1, extent // 4))))
        self.jumps = [max(1, top >> i) for i in range(iterations)]
        self.rand = []
        for _ in range(iterations):
            tries = []
            for t in range(RANDOM_TRIES):
                r = max(1.0, extent / 2 / 2 ** t)
                tries.append(np.rint(rng.uniform(-r, r, (m, 2))).astype(np.int64))
            self.rand.append(tries)


def _snap(ys: np.ndarray, xs: np.ndarray, lut: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest allowed source of each (clipped) position."""
    h, w = lab.shape
    q = lut[lab[np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)]]
    return q[:, 0], q[:, 1]


def _nearest_source(src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, lab = cv2.distanceTransformWithLabels((~src).view(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    lut = np.zeros((int(lab.max()) + 1, 2), np.int64)
    sy, sx = np.nonzero(src)
    lut[lab[sy, sx]] = np.stack([sy, sx], 1)
    return lut, lab


def nnf_search(img: np.ndarray, own: np.ndarray, hole: np.ndarray, seed: int = 0,
               cand: Candidates | None = None) -> np.ndarray:
    """Source (y, x) of each hole pixel, (m, 2) int64 in ``np.nonzero(hole)`` order.

    ``img`` (h, w, c) float32 (values at hole pixels are ignored), ``own`` the layer's pixels
    (the sources), ``hole`` the pixels to fill (disjoint from ``own``).
    """
    h, w = hole.shape
    py, px = np.nonzero(hole)
    m = len(py)
    src = source_mask(own)
    if m == 0 or not src.any():
        return np.zeros((m, 2), np.int64)
    lut, lab = _nearest_source(src)
    extent = _extent(py, px)
    cand = cand or Candidates(m, extent, seed)
    off = offsets()
    cur = img.astype(np.float32).copy()
    wt = np.where(own, OWN_WEIGHT, 0.0).astype(np.float32)
    wt[hole] = 1.0
    # Neighbourhood of every hole pixel (clipped; outside the image weighs 0).
    ny, nx = py[:, None] + off[None, :, 0], px[:, None] + off[None, :, 1]
    inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
    nflat = np.clip(ny, 0, h - 1) * w + np.clip(nx, 0, w - 1)
    wn = wt.reshape(-1)[nflat] * inside
    wsum = np.maximum(wn.sum(1), 1e-6)
    oflat = off[:, 0] * w + off[:, 1]
    flat_img = img.reshape(h * w, -1).astype(np.float32)
    spatial = SPATIAL_WEIGHT / float(extent) ** 2

    nb = [(np.clip(py + dy, 0, h - 1), np.clip(px + dx, 0, w - 1)) for dy, dx in _FOUR]

    def cost(i: np.ndarray, sy: np.ndarray, sx: np.ndarray, target: np.ndarray, field: np.ndarray) -> np.ndarray:
        """Costs of sources (sy, sx) for the hole pixels ``i``."""
        diff = target[i] - flat_img[(sy * w + sx)[:, None] + oflat[None, :]]
        d = np.einsum("nkc,nkc->nk", diff, diff)
        ry, rx = py[i], px[i]
        c = np.einsum("nk,nk->n", d, wn[i]) / wsum[i] + spatial * ((sy - ry) ** 2 + (sx - rx) ** 2)
        oy, ox = sy - ry, sx - rx
        for qy, qx in nb:  # neighbours in the hole whose offset differs
            qy, qx = qy[i], qx[i]
            c += COHERENCE * (hole[qy, qx] & ((field[qy, qx, 0] != oy) | (field[qy, qx, 1] != ox)))
        return c

    sy, sx = start_field(hole, src, lut, lab, seed)
    index = np.full((h, w), -1, np.int64)
    index[py, px] = np.arange(m)
    field = np.zeros((h, w, 2), np.int64)
    for it in range(len(cand.jumps)):
        cur.reshape(h * w, -1)[py * w + px] = flat_img[sy * w + sx]
        target = cur.reshape(h * w, -1)[nflat]
        field[py, px, 0], field[py, px, 1] = sy - py, sx - px
        best = cost(np.arange(m), sy, sx, target, field)
        j = cand.jumps[it]
        trials = []
        for dy, dx in ((j, 0), (-j, 0), (0, j), (0, -j)):
            qy, qx = np.clip(py + dy, 0, h - 1), np.clip(px + dx, 0, w - 1)
            k = index[qy, qx]
            has = k >= 0
            ty = np.where(has, sy[np.maximum(k, 0)] - dy, sy)
            tx = np.where(has, sx[np.maximum(k, 0)] - dx, sx)
            trials.append((ty, tx))
        for r in cand.rand[it]:
            trials.append((sy + r[:, 0], sx + r[:, 1]))
        for ty, tx in trials:
            ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w) & ((ty != sy) | (tx != sx))
            ok[ok] = src[ty[ok], tx[ok]]
            i = np.nonzero(ok)[0]
            c = cost(i, ty[i], tx[i], target, field)
            better = c < best[i]
            i = i[better]
            sy[i], sx[i], best[i] = ty[i], tx[i], c[better]
    return np.stack([sy, sx], 1)


_FOUR = ((1, 0), (-1, 0), (0, 1), (0, -1))


def _run_lengths(hole: np.ndarray) -> np.ndarray:
    """Length of the horizontal run of hole pixels each pixel lies in (0 outside)."""
    h, w = hole.shape
    starts = np.diff(np.concatenate([np.zeros((h, 1), np.int8), hole.view(np.int8)], 1), axis=1) == 1
    run = np.cumsum(starts.reshape(-1)).reshape(h, w)
    counts = np.bincount(run[hole], minlength=int(run.max()) + 1)
    return np.where(hole, counts[run], 0)


START_TILE = 8
"""Side of the tiles (search-grid pixels) that start as one coherent copy where the
background beside a run is not the layer's."""


def start_field(hole: np.ndarray, src: np.ndarray, lut: np.ndarray, lab: np.ndarray,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First source of each hole pixel, already a coherent copy: the stretch beside its run,
    shifted by the run's length (plus a patch), across the shorter of its horizontal and
    vertical runs (the background beside a trunk, above a wall); where neither lands on a
    source, its tile of :data:`START_TILE` pixels copies, translated whole, the source region
    nearest to a point drawn around the tile (within twice its distance to the sources), so
    a hole much larger than the layer's pieces is laid with varied copies of them, not
    stamps of one edge pixel nor one piece repeated."""
    py, px = np.nonzero(hole)
    h, w = hole.shape
    lx = _run_lengths(hole)[py, px] + PATCH_RADIUS
    ly = _run_lengths(hole.T).T[py, px] + PATCH_RADIUS
    sy, sx, best = np.zeros_like(py), np.zeros_like(px), np.full(len(py), np.inf)
    for dy, dx, length in ((0, 1, lx), (0, -1, lx), (1, 0, ly), (-1, 0, ly)):
        ty, tx = py + dy * length, px + dx * length
        ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
        ok[ok] = src[ty[ok], tx[ok]]
        take = ok & (length < best)
        sy, sx, best = np.where(take, ty, sy), np.where(take, tx, sx), np.where(take, length, best)
    rest = np.nonzero(~np.isfinite(best))[0]
    if len(rest):
        ry, rx = py[rest], px[rest]
        t = START_TILE
        deep = cv2.erode(src.view(np.uint8), np.ones((t + 1, t + 1), np.uint8), borderValue=0) > 0
        while not deep.any() and t > 1:
            t //= 2
            deep = cv2.erode(src.view(np.uint8), np.ones((t + 1, t + 1), np.uint8), borderValue=0) > 0
        if deep.any():
            dl, dlab = _nearest_source(deep)
            far = cv2.distanceTransform((~deep).view(np.uint8), cv2.DIST_L2, 5)
            jitter = np.random.default_rng(seed).uniform(-1.0, 1.0, (h // t + 1, w // t + 1, 2))
            cy, cx = (ry // t) * t + t // 2, (rx // t) * t + t // 2
            r = 2.0 * far[np.minimum(cy, h - 1), np.minimum(cx, w - 1)] + t
            j = jitter[ry // t, rx // t]
            qy, qx = _snap(np.rint(cy + r * j[:, 0]).astype(np.int64), np.rint(cx + r * j[:, 1]).astype(np.int64),
                           dl, dlab)
            ty, tx = np.clip(ry + qy - cy, 0, h - 1), np.clip(rx + qx - cx, 0, w - 1)
        else:
            ty, tx = ry, rx
        bad = ~src[ty, tx]
        ty[bad], tx[bad] = _snap(ty[bad], tx[bad], lut, lab)
        sy[rest], sx[rest] = ty, tx
    return sy, sx


def _extent(py: np.ndarray, px: np.ndarray) -> int:
    return int(max(8, py.max() - py.min() + 1, px.max() - px.min() + 1)) if len(py) else 8


def nnf_search_reference(img: np.ndarray, own: np.ndarray, hole: np.ndarray, cand: Candidates,
                         seed: int = 0) -> np.ndarray:
    """Slow, obvious reference of :func:`nnf_search`: every pixel, candidate and patch pixel
    in Python loops, with the same candidates (Jacobi: each iteration reads the previous
    iteration's field and colours)."""
    h, w = hole.shape
    img = img.astype(np.float64)
    src = source_mask(own)
    lut, lab = _nearest_source(src)
    pts = list(zip(*np.nonzero(hole)))
    extent = _extent(*np.nonzero(hole))
    spatial = SPATIAL_WEIGHT / float(extent) ** 2

    start = start_field(hole, src, lut, lab, seed)
    field = {p: (int(a), int(b)) for p, (a, b) in zip(pts, np.stack(start, 1))}

    def cost(p, s, cur):
        num = den = 0.0
        for dy, dx in offsets():
            qy, qx = p[0] + dy, p[1] + dx
            if not (0 <= qy < h and 0 <= qx < w):
                continue
            wq = 1.0 if hole[qy, qx] else (OWN_WEIGHT if own[qy, qx] else 0.0)
            num += wq * float(((cur[qy, qx] - img[s[0] + dy, s[1] + dx]) ** 2).sum())
            den += wq
        c = num / max(den, 1e-6) + spatial * ((s[0] - p[0]) ** 2 + (s[1] - p[1]) ** 2)
        for dy, dx in _FOUR:
            q = (min(max(p[0] + dy, 0), h - 1), min(max(p[1] + dx, 0), w - 1))
            if q in field and (field[q][0] - q[0], field[q][1] - q[1]) != (s[0] - p[0], s[1] - p[1]):
                c += COHERENCE
        return c

    for it, j in enumerate(cand.jumps):
        cur = img.copy()
        for p, s in field.items():
            cur[p] = img[s]
        new = {}
        for i, p in enumerate(pts):
            s = field[p]
            best, bs = cost(p, s, cur), s
            trials = []
            for dy, dx in ((j, 0), (-j, 0), (0, j), (0, -j)):
                q = (min(max(p[0] + dy, 0), h - 1), min(max(p[1] + dx, 0), w - 1))
                trials.append((field[q][0] - dy, field[q][1] - dx) if q in field else s)
            for r in cand.rand[it]:
                trials.append((s[0] + int(r[i, 0]), s[1] + int(r[i, 1])))
            for t in trials:
                if not (0 <= t[0] < h and 0 <= t[1] < w) or not src[t]:
                    continue
                c = cost(p, t, cur)
                if c < best:
                    best, bs = c, t
            new[p] = bs
        field = new
    return np.array([field[p] for p in pts], np.int64).reshape(-1, 2)


def fill_offsets(img: np.ndarray, own: np.ndarray, hole: np.ndarray, seed: int = 0) -> np.ndarray:
    """(h, w, 2) int32 offsets (dy, dx) from each ``hole`` pixel to its source (0 elsewhere).

    The search runs on ``img`` reduced by the power of two f that brings the hole within
    :data:`HOLE_BUDGET` pixels (area-averaged colour; a coarse pixel is own when :data:`OWN_SHARE` of it
    is, hole when any of it is); its offsets, times f, are given to every full pixel of the
    coarse one. A full pixel whose source is not own takes the layer pixel nearest to that
    source instead (a hole pixel's offset always lands on the layer).
    """
    h, w = hole.shape
    out = np.zeros((h, w, 2), np.int32)
    n_hole = int(hole.sum())
    if n_hole == 0 or not own.any():
        return out
    f = 1
    while n_hole / (f * f) > HOLE_BUDGET and min(h, w) // (2 * f) >= 8:
        f *= 2
    ch, cw = -(-h // f), -(-w // f)
    pad = ((0, ch * f - h), (0, cw * f - w))
    own_p = np.pad(own, pad)
    hole_p = np.pad(hole, pad)
    img_p = np.pad(np.asarray(img, np.float32), pad + ((0, 0),), mode="edge")
    own_c = own_p.reshape(ch, f, cw, f).mean(axis=(1, 3)) >= OWN_SHARE
    hole_c = hole_p.reshape(ch, f, cw, f).any(axis=(1, 3)) & ~own_c
    if not own_c.any():
        own_c = own_p.reshape(ch, f, cw, f).any(axis=(1, 3))
        hole_c &= ~own_c
    img_c = img_p.reshape(ch, f, cw, f, -1).mean(axis=(1, 3))
    src = nnf_search(img_c, own_c, hole_c, seed)
    cy, cx = np.nonzero(hole_c)
    off_c = np.zeros((ch, cw, 2), np.int32)
    off_c[cy, cx] = ((src - np.stack([cy, cx], 1)) * f).astype(np.int32)
    off = np.repeat(np.repeat(off_c, f, 0), f, 1)[:h, :w]
    yy, xx = np.nonzero(hole)
    ty, tx = yy + off[yy, xx, 0], xx + off[yy, xx, 1]
    ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
    ok[ok] = own[ty[ok], tx[ok]]
    if not ok.all():  # a source pixel off the layer: the layer pixel nearest to it
        lut, lab = _nearest_source(own)
        by, bx = yy[~ok], xx[~ok]
        qy, qx = _snap(ty[~ok], tx[~ok], lut, lab)
        off[by, bx, 0], off[by, bx, 1] = qy - by, qx - bx
    out[yy, xx] = off[yy, xx]
    return out
