"""What an exemplar shows only once: the parts of the painted ground or sky that few other
parts look like (the dragon lying on the field, a figure's feet, a lone cloud in a clear
sky), kept out of the textures quilted from it.

Quilting copies blocks wherever they match, so one distinctive thing in a source comes
back many times, as a stamp repeated round the visitor. What is common in a source is its
material (grass, paving, clear sky, a cloudy sky's clouds); what is rare is an object on
it. The measure is appearance, not depth (the depth of a head lying on the ground is the
ground's): each cell of the exemplar is described by its mean colour and its spread, and
a cell is rare when its ``k``-th most similar cell elsewhere (not its own neighbour) is far
off, against what is typical for the source's cells. ``k`` is a share of the cells, so a
thing covering less than that share of the source is rare however big it looks.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import InputError
from .inpaint import fill_offsets
from .synth import window_sums

RARE_SHARE = 0.06
"""A cell is common when at least this share of the source's cells look like it."""
RARE_FACTOR = 2.0
"""How many times the source's median distance to its ``k``-th look-alike a cell's distance
must exceed for it to be rare."""
RARE_REACH = 0.1
"""Share of the cell grid's longer side within which look-alikes do not count: material
repeats across a source, an object's parts only look like each other (the dragon's scales
all lie on the dragon)."""
RARE_FLOOR = 8.0
"""Least typical distance (colour levels): where most cells are alike to the level (a flat
expanse), a little grain does not make the rest rare."""
RIM_EASE = 1.6
"""A rare cell's neighbours are rare too when they are this many times nearer to ordinary."""
MAX_CELLS = 1600
"""Most cells compared (their pairwise distances are computed: 1600 cells, 10 MB)."""


def cell_features(ex: np.ndarray, cell: int) -> np.ndarray:
    """(ny, nx, 2c) float32: per ``cell`` x ``cell`` cell of ``ex`` (h, w, c), its mean and its
    standard deviation per channel (the last partial row and column of cells are left out)."""
    h, w, c = ex.shape
    ny, nx = h // cell, w // cell
    blocks = np.asarray(ex[:ny * cell, :nx * cell], np.float32).reshape(ny, cell, nx, cell, c)
    return np.concatenate([blocks.mean(axis=(1, 3)), blocks.std(axis=(1, 3))], axis=-1)


def context_features(feat: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """(ny, nx, 2f): each cell's features (ny, nx, f) beside the mean of its 3 x 3 cells'
    (an object's parts can each look like the ground's, edges of grass like teeth; together
    with their neighbours they do not), over the cells inside the grid with ``weight`` (ny,
    nx) > 0 only (a border cell's context is not its mirror image, nor the sky beside the
    ground); a cell with no such neighbour keeps its own features as its context."""
    f = np.ascontiguousarray(feat, np.float32)
    wt = np.ones(f.shape[:2], np.float32) if weight is None else (np.asarray(weight) > 0).astype(np.float32)
    num = cv2.boxFilter(f * wt[..., None], -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    den = cv2.boxFilter(wt, -1, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    num = num.reshape(f.shape)
    ctx = np.where(den[..., None] > 0, num / np.maximum(den, 1e-6)[..., None], f)
    return np.concatenate([feat, ctx], axis=-1)


def _check(ex: np.ndarray, valid: np.ndarray | None) -> None:
    if ex.ndim != 3 or ex.shape[0] < 2 or ex.shape[1] < 2:
        raise InputError(f"rare_texels needs an (h, w, c) exemplar, got shape {ex.shape}")
    if valid is not None and valid.shape != ex.shape[:2]:
        raise InputError(f"rare_texels' valid mask must be {ex.shape[:2]}, got {valid.shape}")


def cell_size(shape: tuple[int, int], valid: np.ndarray | None, cell: int) -> int:
    """``cell``, grown until at most MAX_CELLS cells are valid."""
    share = 1.0 if valid is None else max(float(valid.mean()), 1e-3)
    need = math.sqrt(shape[0] * shape[1] * share / MAX_CELLS)
    return max(2, cell, int(math.ceil(need)))


def kth_lookalike(feat: np.ndarray, iy: np.ndarray, ix: np.ndarray, k: int, reach: int = 1,
                  ref: np.ndarray | None = None) -> np.ndarray:
    """(n,) distance from each of the ``n`` cells' features ``feat`` (n, f) to its ``k``-th
    nearest among the cells more than ``reach`` cells away from it (``iy``, ``ix``: grid
    positions): a thing's own cells do not vouch for it (inf when fewer than ``k`` are that
    far). With ``ref`` (m,) indices, only those cells are looked at. Vectorised; see
    :func:`kth_lookalike_slow`."""
    cand = np.arange(len(feat)) if ref is None else np.asarray(ref, np.int64)
    fr = feat[cand]
    d2 = np.maximum((feat * feat).sum(axis=1)[:, None] + (fr * fr).sum(axis=1)[None, :] - 2.0 * (feat @ fr.T), 0.0)
    near = (np.abs(iy[:, None] - iy[cand][None, :]) <= reach) & (np.abs(ix[:, None] - ix[cand][None, :]) <= reach)
    d2[near] = np.inf
    k = min(k, len(feat) - 1 if ref is None else len(cand))
    return np.sqrt(np.partition(d2, k - 1, axis=1)[:, k - 1])


def kth_lookalike_slow(feat: np.ndarray, iy: np.ndarray, ix: np.ndarray, k: int, reach: int = 1,
                       ref: np.ndarray | None = None) -> np.ndarray:
    """:func:`kth_lookalike` by a loop over the cells (tests)."""
    cand = list(range(len(feat))) if ref is None else [int(j) for j in ref]
    top = len(feat) - 1 if ref is None else len(cand)
    out = np.empty(len(feat))
    for i in range(len(feat)):
        d = [float(np.sqrt(((feat[i] - feat[j]) ** 2).sum())) for j in cand
             if abs(int(iy[i]) - int(iy[j])) > reach or abs(int(ix[i]) - int(ix[j])) > reach]
        d.sort()
        d += [math.inf] * max(0, k - len(d))
        out[i] = d[min(k, top) - 1]
    return out


def rare_texels(ex: np.ndarray, valid: np.ndarray | None = None, cell: int = 8,
                share: float = RARE_SHARE, factor: float = RARE_FACTOR) -> np.ndarray:
    """(h, w) bool: the texels of ``ex`` (h, w, c) in cells that fewer than ``share`` of the
    source's valid cells look like (their ``k``-th look-alike is over ``factor`` times the
    median's distance off), with the cells beside them that are over ``factor / RIM_EASE``
    (an object's rim). Only cells at least half ``valid`` take part; none is rare when fewer
    than 16 do.

    Raises InputError for a bad exemplar or mask.
    """
    _check(ex, valid)
    h, w = ex.shape[:2]
    cell = cell_size((h, w), valid, cell)
    out = np.zeros((h, w), bool)
    ny, nx = h // cell, w // cell
    if ny < 4 or nx < 4:
        return out
    cells = cell_features(ex, cell)
    vs = np.ones((ny, nx)) if valid is None else cv2.resize(
        valid[:ny * cell, :nx * cell].astype(np.float32), (nx, ny), interpolation=cv2.INTER_AREA)
    feat = context_features(cells, vs >= 0.5)
    iy, ix = np.nonzero(vs >= 0.5)
    if len(iy) < 16:
        return out
    k = max(2, int(round(share * len(iy))))
    reach = max(1, int(round(RARE_REACH * max(ny, nx))))
    dist = kth_lookalike(feat[iy, ix].astype(np.float64), iy, ix, k, reach)
    finite = dist[np.isfinite(dist)]
    typical = max(float(np.median(finite)) if len(finite) else 0.0, RARE_FLOOR)
    score = np.zeros((ny, nx))
    score[iy, ix] = dist / typical
    core = (score > factor).astype(np.uint8)
    # Hysteresis: an object's soft rim (cells beside its core, out of the ordinary though
    # less so) goes with it; ordinary cells beside it stay.
    beside = cv2.dilate(core, np.ones((3, 3), np.uint8)) > 0
    grid = (core.astype(bool) | ((score > factor / RIM_EASE) & beside)).astype(np.uint8)
    full = cv2.resize(grid, (nx * cell, ny * cell), interpolation=cv2.INTER_NEAREST) > 0
    out[:ny * cell, :nx * cell] = full
    return out


RING = 4
"""Texels round a rare patch whose match places its replacement (:func:`transplant`)."""
FEATHER = 1.2
"""Gaussian sigma (texels) over which a transplanted patch fades into the texels round it."""


def _placements(own: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """(h - bh + 1, w - bw + 1) bool: the top-left corners at which a ``bh`` x ``bw`` box lies
    wholly on ``own``."""
    return window_sums(cv2.integral((~own).astype(np.uint8)), bh, bw) == 0


def transplant(ex: np.ndarray, own: np.ndarray, comp: np.ndarray, box: tuple[int, int, int, int]):
    """The source for the rare patch ``comp`` (bh, bw) bool inside ``box`` (y0, x0, y1, x1) of
    ``ex``: (sy, sx), the top-left corner of the box-sized window wholly on ``own`` whose
    texels best match (least squared difference) the ``own`` texels in a RING-wide band round
    the patch, or None when no window fits. One coherent copy keeps the material's own
    strokes; filled texel by texel (or cell by cell) the patch came out as a mosaic of steps."""
    y0, x0, y1, x1 = box
    bh, bw = y1 - y0, x1 - x0
    h, w = own.shape
    if bh >= h or bw >= w:
        return None
    ring = (cv2.dilate(comp.astype(np.uint8), np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)) > 0) & ~comp
    ring &= own[y0:y1, x0:x1]
    allowed = _placements(own, bh, bw)
    if not allowed.any():
        return None
    img = np.ascontiguousarray(ex, np.float32)
    tmpl = np.ascontiguousarray(img[y0:y1, x0:x1])
    if ring.any():
        m = np.repeat(ring.astype(np.float32)[..., None], img.shape[2], axis=2)
        cost = cv2.matchTemplate(img, tmpl, cv2.TM_SQDIFF, mask=m)
    else:
        cost = np.zeros(allowed.shape, np.float32)
    # The patch's own place and its overlaps are not sources (their band matches itself).
    cost = np.where(allowed, cost, np.inf)
    cost[max(0, y0 - bh + 1):y0 + bh, max(0, x0 - bw + 1):x0 + bw] = np.inf
    k = int(np.argmin(cost))
    if not np.isfinite(cost.flat[k]):
        return None
    return divmod(k, cost.shape[1])


def fill_rare(ex: np.ndarray, valid: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """``ex`` (h, w, c) with its :func:`rare_texels` (within ``valid``) filled from the rest of
    its valid texels: each rare patch (a connected piece, with a RING of own texels round it)
    takes one coherent copy of the best-matching own window (:func:`transplant`), patches no
    window fits by exemplar inpainting (:func:`.inpaint.fill_offsets`). The source keeps every
    block position for the quilting (forbidding them would leave a few blocks to be laid over
    and over) and loses only what it shows once; only rare texels and the few round them (the
    feathered edge, within RING) change."""
    ok = np.ones(ex.shape[:2], bool) if valid is None else valid
    rare = rare_texels(ex, valid) & ok
    own = ok & ~rare
    if not rare.any() or not own.any():
        return ex
    out = np.array(ex, copy=True)
    h, w = rare.shape
    n, lab, stats, _ = cv2.connectedComponentsWithStats(rare.astype(np.uint8), connectivity=8)
    left = np.zeros_like(rare)
    for i in range(1, n):
        x, y, bw, bh = (int(v) for v in stats[i, :4])
        box = (max(0, y - RING), max(0, x - RING), min(h, y + bh + RING), min(w, x + bw + RING))
        comp = lab[box[0]:box[2], box[1]:box[3]] == i
        at = transplant(ex, own, comp, box)
        if at is None:
            left[box[0]:box[2], box[1]:box[3]] |= comp
            continue
        sy, sx = at
        src = np.asarray(ex[sy:sy + box[2] - box[0], sx:sx + box[3] - box[1]], np.float32)
        # Feathered: the copy covers the patch and fades out over its RING (along the cells'
        # steps a hard edge between two pieces of sky showed).
        # A 7-tap kernel after a 1-texel dilation: the fade ends RING texels out.
        a = cv2.GaussianBlur(cv2.dilate(comp.astype(np.float32), np.ones((3, 3), np.float32)), (7, 7), FEATHER)
        a = np.maximum(a, comp)[..., None] * ok[box[0]:box[2], box[1]:box[3], None]
        dst = out[box[0]:box[2], box[1]:box[3]]
        dst[...] = (dst * (1.0 - a) + src * a).astype(out.dtype)
    if left.any():
        off = fill_offsets(ex, own, left, seed=seed)
        yy, xx = np.nonzero(left)
        out[yy, xx] = ex[yy + off[yy, xx, 0], xx + off[yy, xx, 1]]
    return out
