"""Cutting a depth map into layers at its discontinuities.

Every pair of neighbouring pixels whose depths differ by more than ``max_jump`` (relative)
is an occlusion edge, i.e. an interval (near, far) in log depth. A cut at depth t separates
the pair when near < t <= far. Cuts are chosen greedily where they separate the most edge
weight (ties and near-ties go to histogram valleys, so fewer continuous surfaces are cut),
which is the classic interval-stabbing problem; the greedy choice needs the fewest cuts when
no cap applies.
"""

from __future__ import annotations

import numpy as np

N_BINS = 192
"""Resolution of the log-depth axis on which cut positions are chosen."""


def occlusion_intervals(logd: np.ndarray, valid: np.ndarray, max_jump: float,
                        edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(near, far, weight) log-depth intervals of neighbour pairs across depth jumps.

    The weight is the pair's disparity difference 1/near - 1/far (per metre): how far the
    two sides slide apart when the head moves, i.e. how much background the edge can reveal.
    """
    thr = np.log1p(max_jump)
    near, far, wts = [], [], []
    for a, b, va, vb, ea, eb in (
            (logd[:, :-1], logd[:, 1:], valid[:, :-1], valid[:, 1:],
             None if edges is None else edges[:, :-1], None if edges is None else edges[:, 1:]),
            (logd[:-1], logd[1:], valid[:-1], valid[1:],
             None if edges is None else edges[:-1], None if edges is None else edges[1:])):
        diff = np.abs(a - b)
        if edges is None:
            m = va & vb & (diff > thr)
            wt = np.ones(int(m.sum()), np.float32)
        else:
            e = np.maximum(ea, eb)
            # A given occlusion edge lowers the jump needed to count as a discontinuity.
            m = va & vb & ((diff > thr) | ((e >= 0.5) & (diff > thr / 3)))
            wt = (1.0 + 4.0 * e[m]).astype(np.float32)
        n_, f_ = np.minimum(a, b)[m], np.maximum(a, b)[m]
        near.append(n_)
        far.append(f_)
        wts.append(wt * (np.exp(-n_) - np.exp(-f_)).astype(np.float32))
    return np.concatenate(near), np.concatenate(far), np.concatenate(wts)


def choose_cuts(logd: np.ndarray, valid: np.ndarray, max_jump: float, n_layers: int | None,
                max_layers: int, min_weight: float, edges: np.ndarray | None = None) -> np.ndarray:
    """Sorted cut depths in log space (length = number of layers - 1, at least 1 when possible).

    ``min_weight`` is the least summed edge weight (see :func:`occlusion_intervals`) a cut
    must separate to be made when the number of layers is automatic.
    """
    vals = logd[valid]
    if vals.size == 0:
        return np.zeros(0, np.float64)
    lo, hi = float(vals.min()), float(vals.max())
    if hi - lo < 1e-6:
        return np.zeros(0, np.float64)
    bins = np.linspace(lo, hi, N_BINS + 1)
    hist = np.histogram(vals, bins=bins)[0].astype(np.float64)
    near, far, wts = occlusion_intervals(logd, valid, max_jump, edges)
    # Interval i covers boundary b (between bins b-1 and b) when bin(near) < b <= bin(far).
    bn = np.clip(np.searchsorted(bins, near, side="right") - 1, 0, N_BINS - 1)
    bf = np.clip(np.searchsorted(bins, far, side="right") - 1, 0, N_BINS - 1)
    mat = np.zeros((N_BINS, N_BINS), np.float64)
    np.add.at(mat, (bn, bf), wts)
    want = (n_layers - 1) if n_layers is not None else (max_layers - 1)
    floor = 0.0 if n_layers is not None else min_weight
    density = hist[:-1] + hist[1:]  # pixels in the two bins a boundary separates
    cuts: list[int] = []
    while len(cuts) < want:
        # cover[b] = sum over i < b <= j of mat[i, j]
        rows = np.cumsum(mat, axis=0)                 # rows[b-1, j] = sum_{i <= b-1} mat[i, j]
        tail = np.cumsum(rows[:, ::-1], axis=1)[:, ::-1]  # tail[b-1, b] = sum_{i<=b-1, j>=b}
        cover = np.array([tail[b - 1, b] for b in range(1, N_BINS)])
        best = float(cover.max()) if cover.size else 0.0
        if best <= floor or best <= 0:
            break
        cand = np.nonzero(cover >= 0.9 * best)[0]
        b = int(cand[np.argmin(density[cand])]) + 1
        cuts.append(b)
        mat[:b, b:] = 0.0
    out = sorted(bins[b] for b in cuts)
    # At least two layers (and exactly n_layers when asked): split the most populous layer
    # at its median until there are enough.
    need = max(1, want if n_layers is not None else 1)
    while len(out) < need:
        edges_ = [-np.inf] + out + [np.inf]
        counts = [int(((vals >= a) & (vals < b)).sum()) for a, b in zip(edges_[:-1], edges_[1:])]
        i = int(np.argmax(counts))
        seg = vals[(vals >= edges_[i]) & (vals < edges_[i + 1])]
        med = float(np.median(seg))
        if seg.size < 2 or med <= float(seg.min()):
            med = float((seg.min() + seg.max()) / 2) if seg.size else None
            if med is None or med <= float(seg.min()):
                break
        out = sorted(out + [med])
    return np.asarray(out, np.float64)


def label_layers(logd: np.ndarray, sky: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Layer index per pixel (0 = nearest); sky pixels get ``len(cuts) + 1``."""
    lab = np.searchsorted(cuts, logd, side="right").astype(np.int16)
    lab[sky] = len(cuts) + 1
    return lab
