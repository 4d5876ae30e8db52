"""Regions of a painting: superpixels (a watershed from a regular grid of seeds) merged by
colour into the things a painter puts in a scene (a figure, a column, a field, a wall).

The merge is greedy over the region adjacency graph: the pair of neighbours with the least
cost is joined first, where the cost is their Lab colour difference, lowered for small
regions (brush texture) and raised where a strong edge divides them (a silhouette).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Regions:
    """A label image and per-region statistics at the working resolution."""

    labels: np.ndarray
    """(H, W) int32, 0..n-1."""
    n: int
    mean: np.ndarray
    """(n, 3) mean Lab colour."""
    count: np.ndarray
    top: np.ndarray
    bottom: np.ndarray
    """Row near the region's lowest extent (the 97th percentile of its rows: a stray leak
    of a few pixels does not move its foot)."""
    left: np.ndarray
    right: np.ndarray
    detail: np.ndarray
    """Mean colour-gradient magnitude inside the region."""


def superpixels(lab: np.ndarray, step: int) -> np.ndarray:
    """Watershed superpixels from seeds every ``step`` pixels: (H, W) int32 labels 0..k-1."""
    h, w = lab.shape[:2]
    markers = np.zeros((h, w), np.int32)
    ys = np.arange(step // 2, h, step)
    xs = np.arange(step // 2, w, step)
    if ys.size == 0 or xs.size == 0:
        return np.zeros((h, w), np.int32)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    markers[yy, xx] = np.arange(1, yy.size + 1).reshape(yy.shape)
    img = np.clip(lab * np.array([2.55, 1.0, 1.0], np.float32) + np.array([0, 128, 128], np.float32),
                  0, 255).astype(np.uint8)
    ws = cv2.watershed(img, markers)
    # Watershed lines (-1) join the neighbouring seed region with the largest label.
    lines = ws < 1
    grown = cv2.dilate(np.where(lines, 0, ws).astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
    ws = np.where(lines, grown, ws)
    ws[ws < 1] = 1
    _, inv = np.unique(ws, return_inverse=True)
    return inv.reshape(h, w).astype(np.int32)


def _adjacency(labels: np.ndarray, edge: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Neighbouring label pairs (a < b), their shared boundary length and mean edge strength."""
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:].ravel()])
    e = np.concatenate([np.maximum(edge[:, :-1], edge[:, 1:]).ravel(), np.maximum(edge[:-1], edge[1:]).ravel()])
    m = a != b
    lo, hi, e = np.minimum(a[m], b[m]), np.maximum(a[m], b[m]), e[m]
    key = lo.astype(np.int64) * n + hi
    uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    es = np.bincount(inv, e, len(uk))
    return np.stack([uk // n, uk % n], 1), cnt.astype(np.float64), es / cnt


def _costs(cnt: np.ndarray, sums: np.ndarray, ea: np.ndarray, eb: np.ndarray, blen: np.ndarray,
           bsum: np.ndarray, small: int) -> np.ndarray:
    d = sums[ea] / cnt[ea, None] - sums[eb] / cnt[eb, None]
    c = np.sqrt((0.5 * d[:, 0]) ** 2 + d[:, 1] ** 2 + d[:, 2] ** 2) + bsum / blen
    return np.where(np.minimum(cnt[ea], cnt[eb]) < small, 0.5 * c, c)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray]:
    """Connected components of n nodes joined by edges (a, b): (count, label per node)."""
    comp = np.arange(n)
    while True:
        lo = np.minimum(comp[a], comp[b])
        nxt = comp.copy()
        np.minimum.at(nxt, a, lo)
        np.minimum.at(nxt, b, lo)
        nxt = nxt[nxt]
        if np.array_equal(nxt, comp):
            break
        comp = nxt
    _, inv = np.unique(comp, return_inverse=True)
    return int(inv.max()) + 1 if n else 0, inv


def merge_regions(labels: np.ndarray, lab: np.ndarray, edge: np.ndarray, threshold: float,
                  small: int, max_rounds: int = 200) -> np.ndarray:
    """Adjacency-graph merge of ``labels`` in rounds until no join costs less than ``threshold``.

    Cost of joining a and b: Lab distance of their means (L weighted 0.5: shading within one
    thing) plus the mean edge strength on their shared boundary, halved while either region
    has fewer than ``small`` pixels. Each round joins the pairs that are each other's
    cheapest neighbour (below the threshold), then recomputes means and costs: vectorised,
    a few dozen rounds, near the one-join-at-a-time order of :func:`merge_regions_reference`.
    """
    n = int(labels.max()) + 1
    flat = labels.ravel()
    cnt = np.bincount(flat, minlength=n).astype(np.float64)
    sums = np.stack([np.bincount(flat, lab[..., c].ravel(), n) for c in range(3)], 1)
    pairs, blen, bedge = _adjacency(labels, edge, n)
    ea, eb, bsum = pairs[:, 0], pairs[:, 1], bedge * blen
    comp = np.arange(n)
    for _ in range(max_rounds):
        if ea.size == 0:
            break
        c = _costs(cnt, sums, ea, eb, blen, bsum, small)
        best = np.full(len(cnt), np.inf)
        np.minimum.at(best, ea, c)
        np.minimum.at(best, eb, c)
        take = (c < threshold) & (c <= best[ea]) & (c <= best[eb])
        if not take.any():
            break
        k, new = _components(len(cnt), ea[take], eb[take])
        comp = new[comp]
        cnt = np.bincount(new, cnt, k)
        sums = np.stack([np.bincount(new, sums[:, j], k) for j in range(3)], 1)
        a, b = new[ea], new[eb]
        keep = a != b
        lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
        key = lo.astype(np.int64) * k + hi
        uk, inv = np.unique(key, return_inverse=True)
        blen = np.bincount(inv, blen[keep], len(uk))
        bsum = np.bincount(inv, bsum[keep], len(uk))
        ea, eb = uk // k, uk % k
    return comp[labels].astype(np.int32)


def merge_regions_reference(labels: np.ndarray, lab: np.ndarray, edge: np.ndarray, threshold: float,
                  small: int) -> np.ndarray:
    """Greedy adjacency-graph merge, one join at a time (the slow, obvious version of
    :func:`merge_regions`'s rounds; it joins the single cheapest pair first).

    Cost of joining a and b: Lab distance of their means (L weighted 0.5: shading within one
    thing) plus the mean edge strength on their shared boundary, halved while either region
    has fewer than ``small`` pixels. Plain Python floats: the graph has ~10^3 nodes and the
    per-join work is a few neighbours, where numpy's call overhead would dominate.
    """
    n = int(labels.max()) + 1
    flat = labels.ravel()
    cnt = np.bincount(flat, minlength=n).astype(np.float64).tolist()
    sums = np.stack([np.bincount(flat, lab[..., c].ravel(), n) for c in range(3)], 1).tolist()
    pairs, blen, bedge = _adjacency(labels, edge, n)
    nbr: list[dict[int, list[float]]] = [dict() for _ in range(n)]
    for (a, b), ln, ed in zip(pairs.tolist(), blen.tolist(), bedge.tolist()):
        nbr[a][b] = nbr[b][a] = [ln, ed * ln]

    def cost(a: int, b: int) -> float:
        sa, sb, ca, cb = sums[a], sums[b], cnt[a], cnt[b]
        dl = 0.5 * (sa[0] / ca - sb[0] / cb)
        da = sa[1] / ca - sb[1] / cb
        db = sa[2] / ca - sb[2] / cb
        ln, es = nbr[a][b]
        c = math.sqrt(dl * dl + da * da + db * db) + es / ln
        return 0.5 * c if min(ca, cb) < small else c

    heap = [(cost(a, b), a, b) for a, b in pairs.tolist()]
    heapq.heapify(heap)
    parent = list(range(n))
    while heap:
        c, a, b = heapq.heappop(heap)
        if c >= threshold:
            break
        if parent[a] != a or parent[b] != b or b not in nbr[a] or abs(cost(a, b) - c) > 1e-9:
            continue
        parent[b] = a                                  # join b into a
        cnt[a] += cnt[b]
        sums[a] = [x + y for x, y in zip(sums[a], sums[b])]
        for k, (ln, es) in nbr[b].items():
            if k != a:
                e = nbr[a].get(k)
                merged = [ln, es] if e is None else [e[0] + ln, e[1] + es]
                nbr[a][k] = nbr[k][a] = merged
                del nbr[k][b]
        del nbr[a][b]
        nbr[b] = {}
        for k in nbr[a]:
            heapq.heappush(heap, (cost(a, k), min(a, k), max(a, k)))
    root = np.asarray(parent)
    for _ in range(64):
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    _, inv = np.unique(root, return_inverse=True)
    return inv[labels].astype(np.int32)


def region_stats(labels: np.ndarray, lab: np.ndarray, grad: np.ndarray, foot: float = 0.97) -> Regions:
    h, w = labels.shape
    n = int(labels.max()) + 1
    flat = labels.ravel()
    rows = np.repeat(np.arange(h), w)
    cols = np.tile(np.arange(w), h)
    cnt = np.bincount(flat, minlength=n)
    safe = np.maximum(cnt, 1).astype(np.float64)
    mean = np.stack([np.bincount(flat, lab[..., c].ravel(), n) / safe for c in range(3)], 1)
    top = np.full(n, h, np.int64)
    np.minimum.at(top, flat, rows)
    left = np.full(n, w, np.int64)
    np.minimum.at(left, flat, cols)
    right = np.zeros(n, np.int64)
    np.maximum.at(right, flat, cols)
    # The 97th percentile row per region: sort by (label, row) once.
    order = np.lexsort((rows, flat))
    starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    idx = starts + np.floor(foot * np.maximum(cnt - 1, 0)).astype(np.int64)
    bottom = np.where(cnt > 0, rows[order][np.minimum(idx, flat.size - 1)], 0)
    detail = np.bincount(flat, grad.ravel(), n) / safe
    return Regions(labels, n, mean, cnt, top, bottom, left, right, detail)
