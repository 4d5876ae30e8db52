"""Exemplar-based texture synthesis by image quilting (Efros & Freeman 2001), from the
painting's own pixels.

Blocks of the exemplar are laid in raster order, each overlapping the blocks already laid;
among ``candidates`` random exemplar positions the one whose overlap differs least is taken
(one of the few best at random, so that no block is copied twice side by side), and the
seam through each overlap is the minimum-error cut, so blocks meet along the texture's own
edges instead of a straight line or a blend.

Two forms: :func:`quilt_tile` makes a texture periodic in both axes (it tiles without a
seam: the ground, the sky dome), :func:`quilt_strip` continues a band of full-height
columns between two known edges (the far band around the horizon: sky above, land below,
one horizon). Candidate costs are vectorised over all candidates; :func:`overlap_costs_slow`
and :func:`min_cut_slow` (:func:`min_cut_lists`, ties too) are the obvious loops they are tested against.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError


def min_cut(err: np.ndarray) -> np.ndarray:
    """Minimum-error vertical path through ``err`` (rows, cols): its column per row
    (:func:`min_cuts` of one overlap)."""
    return min_cuts([err])[0]


def min_cuts(errs: list[np.ndarray]) -> list[np.ndarray]:
    """:func:`min_cut` of each overlap in ``errs`` (all with the same rows), in one pass.

    Dynamic programming: each row's cumulative cost is its error plus the least of the three
    neighbours above, one numpy row at a time over a table of all the overlaps side by side
    (inf columns between them: a path never crosses inf), so a block's two or more cuts cost
    one row loop; then every cell's predecessor in whole-table operations, and each path
    traced back from its first cheapest bottom cell. Ties go as in :func:`min_cut_lists`
    (straight up, then left, then right), so the cuts, and the scenes' bytes, are the same;
    the sums are the same float64 values whichever neighbour a tie takes.
    """
    rows = errs[0].shape[0]
    starts = np.cumsum([1] + [e.shape[1] + 1 for e in errs])
    cum = np.full((rows, int(starts[-1]) + 1), np.inf)
    for e, x in zip(errs, starts):
        cum[:, x:x + e.shape[1]] = e
    m = np.empty(cum.shape[1] - 2)
    for left, up, right, cur in zip(cum[:-1, :-2], cum[:-1, 1:-1], cum[:-1, 2:], cum[1:, 1:-1]):
        np.minimum(left, right, out=m)
        np.minimum(m, up, out=m)
        cur += m
    L, C, R = cum[:-1, :-2], cum[:-1, 1:-1], cum[:-1, 2:]
    go_left = L < C
    step = np.where(R < np.where(go_left, L, C), 1, -go_left.astype(np.int64)).tolist()
    paths = []
    for e, x in zip(errs, starts):
        c = int(np.argmin(cum[-1, x:x + e.shape[1]])) + x - 1  # columns of the table's middle
        path = [c]
        for r in range(rows - 2, -1, -1):
            c += step[r][c]
            path.append(c)
        paths.append(np.asarray(path[::-1], np.int64) - (x - 1))
    return paths


def min_cut_lists(err: np.ndarray) -> np.ndarray:
    """Reference for :func:`min_cut` with its tie rule (straight up, then left, then right):
    the same dynamic programming in plain Python over lists, one cell at a time (each row's
    cost plus the least of the three above; traced back from the first cheapest bottom cell).
    """
    rows, cols = err.shape
    e = err.tolist()
    prev = e[0]
    back = []
    for r in range(1, rows):
        row, cur, br = e[r], [0.0] * cols, [0] * cols
        for c in range(cols):
            b, v = c, prev[c]
            if c > 0 and prev[c - 1] < v:
                b, v = c - 1, prev[c - 1]
            if c + 1 < cols and prev[c + 1] < v:
                b, v = c + 1, prev[c + 1]
            cur[c], br[c] = row[c] + v, b
        prev = cur
        back.append(br)
    c = min(range(cols), key=prev.__getitem__)
    path = [c]
    for br in reversed(back):
        c = br[c]
        path.append(c)
    return np.asarray(path[::-1], np.int64)


def min_cut_slow(err: np.ndarray) -> np.ndarray:
    """Reference for :func:`min_cut`: every path's cost by recursion over rows (small inputs)."""
    rows, cols = err.shape
    best = {(0, c): (float(err[0, c]), [c]) for c in range(cols)}
    for r in range(1, rows):
        nxt = {}
        for c in range(cols):
            options = [best[(r - 1, p)] for p in (c - 1, c, c + 1) if 0 <= p < cols]
            cost, path = min(options, key=lambda t: t[0])
            nxt[(r, c)] = (cost + float(err[r, c]), path + [c])
        best = nxt
    return np.asarray(min(best.values(), key=lambda t: t[0])[1])


def cut_mask(err: np.ndarray) -> np.ndarray:
    """(rows, cols) bool: True where the new block wins, right of the minimum cut through a
    left overlap ``err`` (the old content keeps the cut's left side)."""
    return _right_of(min_cut(err), err.shape[1])


def _right_of(path: np.ndarray, cols: int) -> np.ndarray:
    return np.arange(cols)[None, :] >= path[:, None]


def overlap_costs(exemplar: np.ndarray, ys: np.ndarray, xs: np.ndarray, target: np.ndarray,
                  known: np.ndarray, stride: int = 1) -> np.ndarray:
    """Sum of squared differences between ``target`` (bh, bw, c) and the exemplar blocks at
    (ys, xs) (their top-left corners), over the ``known`` (bh, bw) pixels on every
    ``stride``-th row and column; one per candidate."""
    iy, ix = np.nonzero(known[::stride, ::stride])
    iy, ix = iy * stride, ix * stride
    if len(iy) == 0:
        return np.zeros(len(ys))
    # Only the overlap's pixels are gathered: (n, k, c) instead of whole blocks, by one flat
    # index (a single take is several times faster than a 2-d fancy index; the same values).
    h, w = exemplar.shape[:2]
    flat = (np.asarray(ys, np.int64) * w + xs)[:, None] + (iy * w + ix)[None, :]
    pix = np.take(exemplar.reshape(h * w, -1), flat, axis=0)
    d = pix - target[iy, ix][None]
    return np.einsum("nkc,nkc->n", d, d)


def overlap_costs_slow(exemplar: np.ndarray, ys: np.ndarray, xs: np.ndarray, target: np.ndarray,
                       known: np.ndarray, stride: int = 1) -> np.ndarray:
    """Reference for :func:`overlap_costs`: one candidate and one pixel at a time."""
    bh, bw = known.shape
    out = np.zeros(len(ys))
    for n, (y, x) in enumerate(zip(ys, xs)):
        for r in range(0, bh, stride):
            for c in range(0, bw, stride):
                if known[r, c]:
                    out[n] += float(((exemplar[y + r, x + c] - target[r, c]) ** 2).sum())
    return out


def strip_costs(source: np.ndarray, target: np.ndarray, known_cols: np.ndarray,
                columns: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """:func:`overlap_costs` of every full-height block start of ``source`` (h, w, c) against
    ``target`` (h, bw, c) whose ``known_cols`` (bw,) are known: per column, the squared
    distance of two columns is |a|^2 + |b|^2 - 2 a.b, the cross terms one matrix product.
    ``columns`` is :func:`source_columns` of the source, when computed once for many calls."""
    h, w, c = source.shape
    bw = target.shape[1]
    cols = np.flatnonzero(known_cols)
    n = w - bw + 1
    if len(cols) == 0:
        return np.zeros(n)
    S, s2 = columns if columns is not None else source_columns(source)
    T = target[:, cols].transpose(1, 0, 2).reshape(len(cols), h * c).astype(np.float32)
    cross = S @ T.T  # (w, k)
    out = np.full(n, float((T * T).sum()))
    for i, j in enumerate(cols):
        out += s2[j:j + n] - 2.0 * cross[j:j + n, i]
    return np.maximum(out, 0.0)


def source_columns(source: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(w, h * c) float32 columns of ``source`` (h, w, c) and their squared norms."""
    h, w, c = source.shape
    S = np.ascontiguousarray(source.transpose(1, 0, 2).reshape(w, h * c), np.float32)
    return S, np.einsum("ij,ij->i", S, S, dtype=np.float64)


def _choose(costs: np.ndarray, rng: np.random.Generator, tolerance: float) -> int:
    """One of the candidates within (1 + tolerance) of the best, at random."""
    best = float(costs.min())
    ok = np.flatnonzero(costs <= best * (1.0 + tolerance) + 1e-9)
    return int(rng.choice(ok))


def _check(exemplar: np.ndarray, block: int, overlap: int) -> np.ndarray:
    ex = np.ascontiguousarray(exemplar, np.float32)  # overlap_costs' flat take is then a view
    if ex.ndim != 3 or ex.shape[2] < 1:
        raise InputError(f"exemplar must be (h, w, c), got shape {ex.shape}")
    if not 2 <= overlap < block:
        raise InputError(f"overlap must be in [2, block), got overlap={overlap}, block={block}")
    if ex.shape[0] < block or ex.shape[1] < block:
        raise InputError(f"exemplar of {ex.shape[1]}x{ex.shape[0]} is smaller than one {block} px block",
                         hint="use fit_block to size the blocks to the exemplar")
    return ex


def fit_block(shape: tuple[int, ...], block: int, overlap: int) -> tuple[int, int]:
    """(block, overlap) shrunk to fit an exemplar of ``shape`` (h, w, ...) with room for
    several positions (at least 4 px blocks and a 2 px overlap; keeps their ratio)."""
    side = min(shape[0], shape[1])
    b = max(4, min(block, side - 2 if side > 6 else side))
    o = max(2, min(b - 1, int(round(overlap * b / max(block, 1)))))
    return b, o


def window_sums(integral: np.ndarray, bh: int, bw: int) -> np.ndarray:
    """(h - bh + 1, w - bw + 1): the sum over every ``bh`` x ``bw`` window of the (h, w)
    image whose ``cv2.integral`` is ``integral`` (h + 1, w + 1)."""
    ii = integral
    return ii[bh:, bw:] - ii[:-bh, bw:] - ii[bh:, :-bw] + ii[:-bh, :-bw]


def valid_starts(valid: np.ndarray | None, shape: tuple[int, int], block: int,
                 min_share: float = 0.9, forbid: np.ndarray | None = None,
                 min_pool: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of the block positions whose ``valid`` share is at least ``min_share`` (all
    positions when none is, or when ``valid`` is None); with ``forbid`` (h, w) bool, only those
    of them holding the fewest forbidden pixels, as many as have no more than the
    ``min_pool``-th fewest (a bird or a stray edge is not copied into every block)."""
    h, w = shape
    ys, xs = np.mgrid[0:h - block + 1, 0:w - block + 1]

    def box_sum(m: np.ndarray) -> np.ndarray:
        return window_sums(cv2.integral(m.astype(np.uint8)), block, block)
    ok = np.ones(ys.shape, bool)
    if valid is not None:
        share = box_sum(valid) / block ** 2
        ok = share >= min_share
        if not ok.any():
            ok = share >= share.max() - 1e-9
    if forbid is not None and forbid.any():
        bad = box_sum(forbid)[ok]
        limit = np.partition(bad, min(min_pool, len(bad)) - 1)[min(min_pool, len(bad)) - 1]
        keep = np.zeros_like(ok)
        keep[ok] = bad <= limit
        ok = keep
    return ys[ok], xs[ok]


MIN_POOL = 64
"""Fewest block positions :func:`fitting_block` asks of a block size."""


def fitting_block(valid: np.ndarray, block: int, min_share: float = 0.9, min_pool: int = MIN_POOL,
                  least: int = 8) -> int:
    """The largest block side, from ``block`` down by fifths to ``least``, at which at least
    ``min_pool`` positions of ``valid`` (h, w) bool are ``min_share`` valid (what
    :func:`valid_starts` draws from); ``least`` when none is. A source of thin strips (the
    ground between a crowd's feet) takes smaller blocks rather than blocks half of what
    lies beside it."""
    if valid.ndim != 2:
        raise InputError(f"fitting_block needs an (h, w) mask, got shape {valid.shape}")
    ii = cv2.integral(valid.astype(np.uint8))
    b = int(block)
    while b > least:
        if b <= min(valid.shape) and (window_sums(ii, b, b) >= min_share * b * b).sum() >= min_pool:
            return b
        b = max(least, int(b * 0.8))
    return int(least)


def quilt_tile(exemplar: np.ndarray, n_y: int, n_x: int, block: int, overlap: int, seed: int = 0,
               candidates: int = 64, tolerance: float = 0.1, valid: np.ndarray | None = None,
               forbid: np.ndarray | None = None, weight: np.ndarray | None = None,
               group: int = 3, reach: float = 2.0, reuse: float = 0.0, feather: float = 0.0) -> np.ndarray:
    """A texture of (n_y * step, n_x * step) pixels, step = block - overlap, periodic in both
    axes, quilted from ``exemplar`` (h, w, c) float; blocks come only from where ``valid``
    (h, w) bool holds and hold the fewest ``forbid`` pixels (see :func:`valid_starts`).

    ``weight`` (h, w), when given, says which parts of the exemplar the texture draws on and
    how much: the blocks are grouped into patches of about ``group`` x ``group`` blocks (the
    blocks nearest to each of random points, across the wrap: irregular patches, not a
    grid), each patch draws one anchor position in proportion to the weight at its block's
    centre and its blocks take their candidates within ``reach`` blocks of it, so the texture
    is patches of the exemplar's parts in those proportions (matching alone would keep to
    whatever part the first block came from, and favours flat parts, whose overlaps match
    best: a small exemplar needs a short reach). None draws all positions alike.

    ``reuse`` > 0 makes a candidate cost that many mean overlap errors more per block already
    taken from its neighbourhood (within half a block): matching alone takes the block that
    continues the previous one, so a small exemplar comes back as rows of the same copy.

    Blocks wrap around the texture's edges, so the last column overlaps the first and the
    last row the top: those overlaps are matched and cut like the others.
    """
    ex = _check(exemplar, block, overlap)
    pool_y, pool_x = valid_starts(valid, ex.shape[:2], block, forbid=forbid)
    if n_y < 1 or n_x < 1:
        raise InputError(f"quilt_tile needs at least one block each way, got {n_y}x{n_x}")
    step = block - overlap
    H, W, C = n_y * step, n_x * step, ex.shape[2]
    rng = np.random.default_rng(seed)
    prob, anchors = None, {}
    if weight is not None:
        pw = np.maximum(np.asarray(weight, np.float64)[pool_y + block // 2, pool_x + block // 2], 0.0)
        if pw.sum() > 0:
            prob = np.cumsum(pw) / pw.sum()
            k = max(1, int(round(n_y * n_x / float(group * group))))
            seeds = rng.random((k, 2)) * [n_y, n_x]
            gy, gx = np.mgrid[0:n_y, 0:n_x]
            dy = np.abs(gy[..., None] + 0.5 - seeds[:, 0])
            dx = np.abs(gx[..., None] + 0.5 - seeds[:, 1])
            dy, dx = np.minimum(dy, n_y - dy), np.minimum(dx, n_x - dx)  # periodic
            patch_of = np.argmin(dy * dy + dx * dx, axis=-1)
    out = np.zeros((H, W, C), np.float32)
    done = np.zeros((H, W), bool)
    taken: list[tuple[int, int]] = []
    for by in range(n_y):
        for bx in range(n_x):
            at = _window(by * step, bx * step, block, H, W)
            target, known = out[at], done[at]
            if prob is None:
                pick = rng.integers(0, len(pool_y), candidates)
            else:
                key = int(patch_of[by, bx])
                if key not in anchors:  # inverse transform sampling of the weights
                    a = min(int(np.searchsorted(prob, rng.random(), side="right")), len(pool_y) - 1)
                    r = reach * block
                    near = np.flatnonzero((np.abs(pool_y - pool_y[a]) <= r) & (np.abs(pool_x - pool_x[a]) <= r))
                    anchors[key] = near
                near = anchors[key]
                pick = near[rng.integers(0, len(near), candidates)]
            ys, xs = pool_y[pick], pool_x[pick]
            # Overlaps are matched on every other pixel (a quarter of the work, the same
            # choice in practice: neighbouring texels of a painting are alike).
            costs = overlap_costs(ex, ys, xs, target, known, stride=2 if block >= 24 else 1)
            if reuse > 0 and taken:
                costs = costs + reuse * (costs.mean() + 1e-6) * tile_reuse(ys, xs, np.asarray(taken), block)
            n = _choose(costs, rng, tolerance)
            taken.append((int(ys[n]), int(xs[n])))
            patch = ex[ys[n]:ys[n] + block, xs[n]:xs[n] + block]
            take = _seam_mask(patch, target, known)
            if feather > 0 and known.any():
                out[at] = _feathered(patch, target, take, known, feather)
            else:
                out[at] = np.where(take[..., None], patch, target)
            done[at] = True
    return out


def _feathered(patch: np.ndarray, target: np.ndarray, take: np.ndarray, known: np.ndarray,
               sigma: float) -> np.ndarray:
    """``patch`` over ``target`` with the cut's mask ``take`` softened by a Gaussian of ``sigma``
    px where the target is known (where it is not, the patch alone)."""
    wt = cv2.GaussianBlur(take.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    wt = np.where(known, wt, np.float32(1.0))[..., None]
    return patch * wt + target * (1.0 - wt)


def _window(y: int, x: int, block: int, H: int, W: int) -> tuple:
    """Index of the ``block`` x ``block`` window at (y, x) of an (H, W) periodic texture: plain
    slices (a view, no gather) unless it wraps round an edge, then the wrapped rows/columns."""
    def axis(start: int, n: int):
        return slice(start, start + block) if start + block <= n else (np.arange(block) + start) % n
    r, c = axis(y, H), axis(x, W)
    if isinstance(r, slice) and isinstance(c, slice):
        return r, c
    r = np.arange(H)[r] if isinstance(r, slice) else r
    c = np.arange(W)[c] if isinstance(c, slice) else c
    return np.ix_(r, c)


def tile_reuse(ys: np.ndarray, xs: np.ndarray, taken: np.ndarray, block: int) -> np.ndarray:
    """Per candidate (ys, xs) (n,): how many of the exemplar positions already ``taken``
    (m, 2) lie within half a block of it, both ways (:func:`tile_reuse_slow`: the loop)."""
    dy = np.abs(np.asarray(ys)[:, None] - taken[None, :, 0])
    dx = np.abs(np.asarray(xs)[:, None] - taken[None, :, 1])
    return ((dy < block / 2) & (dx < block / 2)).sum(axis=1).astype(np.float64)


def tile_reuse_slow(ys, xs, taken, block: int) -> np.ndarray:
    """Reference for :func:`tile_reuse`: one candidate and one taken position at a time."""
    return np.array([float(sum(1 for ty, tx in taken if abs(y - ty) < block / 2 and abs(x - tx) < block / 2))
                     for y, x in zip(ys, xs)])


def _seam_mask(patch: np.ndarray, target: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Where the new ``patch`` replaces ``target``: everywhere unknown, and on each known side
    (left, right, top, bottom strip of the block) beyond the minimum-error cut."""
    take = ~known
    if not known.any():
        return take
    err = ((patch - target) ** 2).sum(axis=2)
    bh, bw = known.shape
    take = np.ones((bh, bw), bool)
    # A side is known when its whole first column (row) is: the overlap's width is where
    # the knowledge ends along the block's middle row (column).
    mid_r, mid_c = bh // 2, bw // 2
    w_left = int(np.argmin(known[mid_r])) if not known[mid_r].all() else bw
    w_right = int(np.argmin(known[mid_r, ::-1])) if not known[mid_r].all() else 0
    h_top = int(np.argmin(known[:, mid_c])) if not known[:, mid_c].all() else bh
    h_bot = int(np.argmin(known[::-1, mid_c])) if not known[:, mid_c].all() else 0
    # Each side's overlap as a left overlap (flipped or transposed), cut in one pass per
    # height; undone the same way.
    sides = []
    if known[:, 0].all() and 0 < w_left < bw:
        sides.append((err[:, :w_left], lambda t: t, np.s_[:, :w_left]))
    if known[:, -1].all() and 0 < w_right < bw:
        sides.append((err[:, bw - w_right:][:, ::-1], lambda t: t[:, ::-1], np.s_[:, bw - w_right:]))
    if known[0].all() and 0 < h_top < bh:
        sides.append((err[:h_top].T, lambda t: t.T, np.s_[:h_top]))
    if known[-1].all() and 0 < h_bot < bh:
        sides.append((err[bh - h_bot:][::-1].T, lambda t: t.T[::-1], np.s_[bh - h_bot:]))
    for n in {e.shape[0] for e, _, _ in sides}:
        group = [sd for sd in sides if sd[0].shape[0] == n]
        for (e, undo, where), path in zip(group, min_cuts([e for e, _, _ in group])):
            take[where] &= undo(_right_of(path, e.shape[1]))
    return take | ~known


def seam_mask_slow(patch: np.ndarray, target: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Reference for :func:`_seam_mask`: each known side cut on its own by :func:`min_cut_lists`."""
    if not known.any():
        return ~known
    err = ((patch - target) ** 2).sum(axis=2)
    bh, bw = known.shape
    take = np.ones((bh, bw), bool)
    row, col = known[bh // 2], known[:, bw // 2]
    w_left, w_right = (bw, 0) if row.all() else (int(np.argmin(row)), int(np.argmin(row[::-1])))
    h_top, h_bot = (bh, 0) if col.all() else (int(np.argmin(col)), int(np.argmin(col[::-1])))
    right_of = lambda e: _right_of(min_cut_lists(e), e.shape[1])  # noqa: E731
    if known[:, 0].all() and 0 < w_left < bw:
        take[:, :w_left] &= right_of(err[:, :w_left])
    if known[:, -1].all() and 0 < w_right < bw:
        take[:, bw - w_right:] &= right_of(err[:, bw - w_right:][:, ::-1])[:, ::-1]
    if known[0].all() and 0 < h_top < bh:
        take[:h_top] &= right_of(err[:h_top].T).T
    if known[-1].all() and 0 < h_bot < bh:
        take[bh - h_bot:] &= right_of(err[bh - h_bot:][::-1].T).T[::-1]
    return take | ~known


def reuse_costs(starts: np.ndarray, shift: np.ndarray, uses: np.ndarray, block: int, spacing: float,
                period: float, floor: float = 0.0) -> np.ndarray:
    """Per candidate start (n,) placed with ``shift`` (n,) (output column minus source column):
    how much of its content is already shown within ``spacing`` columns of where it would be.

    ``uses`` (m, 3) are the copies already shown, (source start, shift, width): a copy shares
    max(0, min ends - max starts) source columns with a candidate, and those columns stand
    |shift difference| apart on a circle of ``period`` columns; each shared share counts fully
    up to ``spacing`` apart, falling linearly to ``floor`` at twice that and staying there all round
    the circle (copies spread evenly are still copies: a floor keeps their number down). A copy at the same shift
    is the same placement (a run continued across a seam), not a repeat. Returns (n,) in units
    of one block fully repeated. :func:`reuse_costs_slow` is the loop it is tested against.
    """
    if len(uses) == 0:
        return np.zeros(len(starts))
    s0, sh, wd = uses[:, 0][None, :], uses[:, 1][None, :], uses[:, 2][None, :]
    c = np.asarray(starts, np.float64)[:, None]
    shared = np.clip(np.minimum(c + block, s0 + wd) - np.maximum(c, s0), 0, None) / block
    d = np.abs(np.asarray(shift, np.float64)[:, None] - sh) % period
    d = np.minimum(d, period - d)
    near = (floor + (1.0 - floor) * np.clip(2.0 - d / max(spacing, 1e-9), 0, 1)) * (d >= 0.5)
    return (shared * near).sum(axis=1)


def reuse_costs_slow(starts, shift, uses, block: int, spacing: float, period: float, floor: float = 0.0) -> np.ndarray:
    """Reference for :func:`reuse_costs`: one candidate, one copy and one column at a time."""
    out = np.zeros(len(starts))
    for n, (c, s) in enumerate(zip(starts, shift)):
        for s0, sh, wd in uses:
            d = abs(s - sh) % period
            d = min(d, period - d)
            if d < 0.5:
                continue
            near = floor + (1.0 - floor) * min(1.0, max(0.0, 2.0 - d / spacing))
            shared = sum(1 for j in range(int(c), int(c) + block) if s0 <= j < s0 + wd)
            out[n] += near * shared / block
    return out


def distinctness(source: np.ndarray, block: int) -> np.ndarray:
    """Per full-height block start of ``source`` (h, w, c): how much the block stands out from
    the source's typical column (mean squared difference from the per-row median column),
    over its mean: about 1 for an ordinary stretch, several for a house or a tree group,
    whose repeats are what a visitor notices."""
    src = np.asarray(source, np.float32)
    if src.ndim != 3 or not 1 <= block <= src.shape[1]:
        raise InputError(f"distinctness needs an (h, w, c) source at least {block} wide, got shape {src.shape}")
    med = np.median(src, axis=1, keepdims=True)
    col = ((src - med) ** 2).sum(axis=2).mean(axis=0).astype(np.float64)  # (w,)
    csum = np.concatenate([[0.0], np.cumsum(col)])
    per = (csum[block:] - csum[:-block]) / block
    return per / max(float(per.mean()), 1e-9)


def quilt_strip(source: np.ndarray, cost: np.ndarray, width: int, left: np.ndarray, right: np.ndarray,
                block: int, overlap: int, seed: int = 0, tolerance: float = 0.15,
                reuse_penalty: float = 4.0, spacing: float | None = None, reuse_floor: float = 0.5,
                keep_ends: bool = False, own: int | None = None) -> np.ndarray:
    """``width`` columns of full-height blocks of ``source`` (h, w, c) that continue from the
    column strip ``left`` (h, overlap, c) on their left to ``right`` (h, overlap, c) on their
    right: each block is matched to the columns it overlaps and cut along their seam.

    The strip closes a circle with the source: ``left`` is the source's right edge and
    ``right`` its left edge (the far band round from the painting's right edge to its left).
    ``cost`` (w,) adds, per source column, a weight for what should not be copied (near
    objects). Content shown within ``spacing`` columns (default a twelfth of the circle) of
    another copy of it, the source itself included, costs ``reuse_penalty`` times the mean
    overlap error per block repeated (:func:`reuse_costs`), times the block's
    :func:`distinctness` (a house repeated is a stamp, a stretch of field is not), so copies
    are spread round the circle; farther apart a copy still costs ``reuse_floor`` of that (a
    tree group every sixth of the circle reads as a stamp too). ``own`` (default all): how many
    of the source's first columns are what lies beside the strip on the circle; columns past
    them are further candidates only (the same land at other scales). Returns (h, width, c):
    the blocks' span between the two strips is a whole number of steps, resampled to
    ``width`` (at most half a step of stretch).
    """
    src = _check(source, block, overlap)
    h, w, C = src.shape
    if width < 1:
        raise InputError(f"quilt_strip needs a width of at least 1, got {width}")
    step = block - overlap
    n = max(1, int(round((width + overlap) / step)))
    total = n * step + overlap
    wo = w if own is None else int(own)
    if not block <= wo <= w:
        raise InputError(f"quilt_strip's own columns must be in [{block}, {w}], got {wo}")
    period = float(total - 2 * overlap + wo)  # the source's columns, then the strip's, round the circle
    gap = period / 12.0 if spacing is None else float(spacing)
    out = np.zeros((h, total + overlap, C), np.float32)
    out[:, :overlap] = left
    done = np.zeros((h, total + overlap), bool)
    done[:, :overlap] = True
    starts = np.arange(0, w - block + 1)
    columns = source_columns(src)
    distinct = distinctness(src, block)
    # Output column x of the strip is source column x - shift; the source itself sits just
    # left of the strip (its right edge meets the strip's first overlap): shift -(w - overlap).
    uses = [(0.0, -(wo - overlap), float(wo))]
    csum = None if cost is None else np.concatenate([[0.0], np.cumsum(np.asarray(cost, np.float64))])
    rng = np.random.default_rng(seed)
    for k in range(n):
        x0 = k * step
        span = slice(x0, x0 + block)
        target, known = out[:, span], done[:, span].copy()
        last = k == n - 1
        if last:  # the last block also meets the right edge strip
            out[:, x0 + block - overlap:x0 + block] = right
            target = out[:, span]
            known[:, block - overlap:] = True
        costs = strip_costs(src, target, known[0], columns)
        scale = costs.mean() / max(1, known.sum()) * h * overlap + 1e-6
        if csum is not None:
            costs = costs + scale * (csum[starts + block] - csum[starts]) / block
        shift = x0 - starts
        costs = costs + reuse_penalty * scale * distinct * reuse_costs(starts, shift, np.asarray(uses), block,
                                                                      gap, period, reuse_floor)
        i = _choose(costs, rng, tolerance)
        uses.append((float(starts[i]), float(x0 - starts[i]), float(block)))
        patch = src[:, starts[i]:starts[i] + block]
        take = _seam_mask(patch, target, known)
        out[:, span] = np.where(take[..., None], patch, target)
        done[:, span] = True
    # With keep_ends the strips at both ends come too, each joined to its block along their
    # seam: laid just outside the source, the join with it is that cut, not a straight column.
    mid = out[:, :total] if keep_ends else out[:, overlap:total - overlap]
    if mid.shape[1] == width:
        return mid
    return cv2.resize(mid, (width, h), interpolation=cv2.INTER_LINEAR).reshape(h, width, C)
