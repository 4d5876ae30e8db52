"""Edge-aware spreading of sparse depth edits: geodesic distances over the painting.

A pin's correction fades with the *geodesic* distance from it, where crossing one of the
painting's edges costs as much as walking many flat pixels: a pin on a figure moves the
figure, not the wall behind it. Distances are computed at a small working size by raster
sweeps (each row's horizontal pass is one running minimum, so the sweep is vectorised);
:func:`geodesic_distance_reference` is the slow, obvious Dijkstra they are tested against.
"""

from __future__ import annotations

import heapq

import cv2
import numpy as np

from ..errors import InputError

EDGE_COST = 40.0
"""Extra cost of crossing the strongest edge, in flat-pixel steps."""
EDGE_FLOOR = 0.25
"""Gradients below this share of the 99th percentile (brush texture) add no cost."""


def edge_cost(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel step cost, 1 on flat paint up to ``1 + EDGE_COST`` on the strongest edges.

    Args:
        rgb: (H, W, 3) uint8.

    Returns:
        (H, W) float64, >= 1.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"expected a uint8 (H, W, 3) image, got {getattr(rgb, 'dtype', type(rgb).__name__)} "
                         f"{getattr(rgb, 'shape', '')}")
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    grad = np.zeros(rgb.shape[:2], np.float32)
    for c in range(3):
        gx = cv2.Sobel(lab[..., c], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(lab[..., c], cv2.CV_32F, 0, 1, ksize=3)
        grad = np.maximum(grad, np.hypot(gx, gy))
    scale = float(np.percentile(grad, 99)) or 1.0
    # Brush texture (weak gradients) costs little; only strong edges hold a pin back.
    strength = np.clip((grad / scale - EDGE_FLOOR) / (1.0 - EDGE_FLOOR), 0.0, 1.0)
    return 1.0 + EDGE_COST * np.square(strength).astype(np.float64)


def _row_pass(d: np.ndarray, cum: np.ndarray, rcum: np.ndarray) -> np.ndarray:
    """Horizontal relaxation of one row both ways, for every seed set at once: ``d`` is (N, W),
    ``cum`` / ``rcum`` the row's running cost sums from the left / right edge;
    d[x] = min_k d[k] + cost of the steps k..x."""
    # Left to right: entering x from k < x costs cum[x] - cum[k].
    d = np.minimum(d, cum + np.minimum.accumulate(d - cum, axis=-1))
    rd = d[:, ::-1]
    rd = np.minimum(rd, rcum + np.minimum.accumulate(rd - rcum, axis=-1))
    return rd[:, ::-1]


def geodesic_distances(cost: np.ndarray, seeds: np.ndarray, max_iter: int = 12) -> np.ndarray:
    """(N, H, W) geodesic distances, one per seed set of ``seeds`` ((N, H, W) bool), on a
    4-connected grid where entering a pixel costs ``cost`` there. Raster sweeps (down, then
    up: each row relaxed from the row before, then along itself) until nothing changes, at
    most ``max_iter`` rounds; all seed sets sweep together (a converged set is a fixed point
    of a round, so each result is what it would be alone)."""
    cost = np.asarray(cost, np.float64)
    cum, rcum = np.cumsum(cost, axis=1), np.cumsum(cost[:, ::-1], axis=1)
    d = np.where(seeds, 0.0, np.inf)
    h = cost.shape[0]
    for _ in range(max_iter):
        before = d.copy()
        for rows in (range(h), range(h - 1, -1, -1)):
            prev = None
            for y in rows:
                row = d[:, y] if prev is None else np.minimum(d[:, y], prev + cost[y])
                d[:, y] = prev = _row_pass(row, cum[y], rcum[y])
        if np.array_equal(before, d):
            break
    return d


def geodesic_distance(cost: np.ndarray, seeds: np.ndarray, max_iter: int = 12) -> np.ndarray:
    """Geodesic distance from the ``seeds`` (bool (H, W)) on a 4-connected grid where entering
    a pixel costs ``cost`` there (:func:`geodesic_distances` for one seed set)."""
    return geodesic_distances(cost, np.asarray(seeds, bool)[None], max_iter)[0]


def geodesic_distance_reference(cost: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Dijkstra on the same graph as :func:`geodesic_distance` (slow; for tests)."""
    h, w = cost.shape
    d = np.full((h, w), np.inf)
    heap = [(0.0, int(y), int(x)) for y, x in zip(*np.nonzero(seeds))]
    for _, y, x in heap:
        d[y, x] = 0.0
    heapq.heapify(heap)
    while heap:
        dist, y, x = heapq.heappop(heap)
        if dist > d[y, x]:
            continue
        for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= ny < h and 0 <= nx < w and dist + cost[ny, nx] < d[ny, nx]:
                d[ny, nx] = dist + cost[ny, nx]
                heapq.heappush(heap, (d[ny, nx], ny, nx))
    return d


def pin_weights(cost: np.ndarray, points: list[tuple[int, int]], reach: float) -> np.ndarray:
    """(N, H, W) weights in [0, 1] of N pins at (row, col): 1 at the pin, fading with the
    geodesic distance (Gaussian of width ``reach`` flat-pixel steps). All pins sweep together."""
    seeds = np.zeros((len(points),) + cost.shape, bool)
    for i, (y, x) in enumerate(points):
        seeds[i, y, x] = True
    dist = geodesic_distances(cost, seeds) if len(points) else np.zeros(seeds.shape)
    return np.exp(-np.square(dist / reach)).astype(np.float32)


def pin_weights_one_by_one(cost: np.ndarray, points: list[tuple[int, int]], reach: float) -> np.ndarray:
    """:func:`pin_weights` with one sweep per pin (the way it was done before pins swept
    together; kept for the benchmark's before/after and the tests)."""
    out = np.empty((len(points),) + cost.shape, np.float32)
    for i, (y, x) in enumerate(points):
        seeds = np.zeros(cost.shape, bool)
        seeds[y, x] = True
        out[i] = np.exp(-np.square(geodesic_distance(cost, seeds) / reach))
    return out


def soft_mask(mask: np.ndarray, guide: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` (bool (H, W)) softened over a thin band that follows the guide's edges:
    a guided filter of the mask by the grey painting, clipped to [0, 1]."""
    g = cv2.cvtColor(guide, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    m = mask.astype(np.float32)
    k = (2 * radius + 1, 2 * radius + 1)
    mean = lambda a: cv2.boxFilter(a, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    mg, mm = mean(g), mean(m)
    cov = mean(g * m) - mg * mm
    var = mean(g * g) - mg * mg
    a = cov / (var + 1e-3)
    b = mm - a * mg
    return np.clip(mean(a) * g + mean(b), 0.0, 1.0)


__all__ = ["EDGE_COST", "edge_cost", "geodesic_distance", "geodesic_distance_reference", "geodesic_distances",
           "pin_weights", "pin_weights_one_by_one", "soft_mask"]
