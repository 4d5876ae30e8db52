"""Linear perspective: the central vanishing point of a painting's receding lines.

Painters since Brunelleschi build floors, walls, ceilings, roads and canals on lines that
meet in one point on the horizon. Line segments come from OpenCV's LSD; the vanishing point
is the candidate (an intersection of two long oblique segments) that the most segment length
points at (within a small angle), and it counts only when that support is a clear share of
all the oblique segments. Its row is the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class VanishingPoint:
    x: float
    """Column, in working pixels (may lie outside the image)."""
    y: float
    """Row (the horizon), in working pixels."""
    support: float
    """Share of the oblique segments' length that points at it, in [0, 1]."""
    spread: float
    """Angular spread (radians) of the supporting segments' directions: large when lines
    come from many sides (a box: floor, walls, ceiling), small for one bundle."""
    ceiling: float = 0.0
    """Share of the support from segments in the upper cone above the point (closer to
    straight up than to the sides): ceiling joints and beams, not the cornices of side walls."""


def line_segments(grey: np.ndarray) -> np.ndarray:
    """(N, 4) float segments x0, y0, x1, y1 from OpenCV's LSD on a uint8 image (none: (0, 4))."""
    if min(grey.shape) < 8:
        return np.zeros((0, 4), np.float64)
    lines = cv2.createLineSegmentDetector().detect(grey)[0]
    return np.zeros((0, 4), np.float64) if lines is None else lines.reshape(-1, 4).astype(np.float64)


def _oblique(seg: np.ndarray, min_len: float) -> np.ndarray:
    d = seg[:, 2:] - seg[:, :2]
    ln = np.hypot(d[:, 0], d[:, 1])
    ang = np.abs(np.arctan2(d[:, 1], d[:, 0])) % np.pi
    ang = np.minimum(ang, np.pi - ang)                       # 0 = horizontal, pi/2 = vertical
    keep = (ln >= min_len) & (ang > np.radians(8)) & (ang < np.radians(80))
    return seg[keep]


def _support(seg: np.ndarray, pts: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(P, N) weights: segment length where the segment's line passes within ``tol`` radians
    of the candidate as seen from its midpoint, and the segment's direction angle."""
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    d = seg[:, 2:] - seg[:, :2]
    ln = np.hypot(d[:, 0], d[:, 1])
    to = pts[:, None, :] - mid[None, :, :]
    dist = np.hypot(to[..., 0], to[..., 1])
    cross = np.abs(to[..., 0] * d[None, :, 1] - to[..., 1] * d[None, :, 0]) / np.maximum(ln[None], 1e-9)
    ang = np.arcsin(np.clip(cross / np.maximum(dist, 1e-9), 0, 1))
    return np.where(ang < tol, ln[None], 0.0), np.arctan2(to[..., 1], to[..., 0])


def find_vanishing_point(grey: np.ndarray, min_support: float = 0.3) -> VanishingPoint | None:
    """The painting's central vanishing point, or None when lines do not converge clearly.

    Candidates are the intersections of the 40 longest oblique segments lying within the
    picture widened by half its size; the best is refined to the length-weighted
    least-squares point of its supporting lines.
    """
    h, w = grey.shape
    seg = _oblique(line_segments(grey), 0.04 * max(h, w))
    if len(seg) < 6:
        return None
    ln = np.hypot(*(seg[:, 2:] - seg[:, :2]).T)
    top = seg[np.argsort(-ln)[:60]]
    p, r = top[:, :2], top[:, 2:] - top[:, :2]
    i, j = np.triu_indices(len(top), 1)
    den = r[i, 0] * r[j, 1] - r[i, 1] * r[j, 0]
    ok = np.abs(den) > 1e-6 * ln.max() ** 2
    t = ((p[j, 0] - p[i, 0]) * r[j, 1] - (p[j, 1] - p[i, 1]) * r[j, 0]) / np.where(ok, den, 1)
    pts = p[i] + t[:, None] * r[i]
    inside = ok & (pts[:, 0] > -0.5 * w) & (pts[:, 0] < 1.5 * w) & (pts[:, 1] > -0.5 * h) & (pts[:, 1] < 1.5 * h)
    pts = pts[inside]
    if len(pts) == 0:
        return None
    wts, dirs = _support(seg, pts, np.radians(2.0))
    # Lines meeting from many sides (floor, both walls, ceiling) make a vanishing point; a
    # bundle of near-parallel strokes meets anywhere along itself. Score the support per
    # sector of direction under a square root, so several sectors beat one.
    sector = np.floor((dirs + np.pi) / (np.pi / 4)).astype(np.int64) % 8
    per = np.zeros((len(pts), 8))
    np.add.at(per, (np.repeat(np.arange(len(pts)), len(seg)), sector.ravel()), wts.ravel())
    best = pts[int(np.argmax(np.sqrt(per).sum(1)))]
    # Refine: least squares over the supporting lines (normal form n . x = c).
    wb, dirs = _support(seg, best[None], np.radians(3.0))
    sel = wb[0] > 0
    d = seg[sel, 2:] - seg[sel, :2]
    nrm = np.stack([-d[:, 1], d[:, 0]], 1) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    c = (nrm * seg[sel, :2]).sum(1)
    W = wb[0, sel]
    A = (nrm * W[:, None]).T @ nrm
    if np.linalg.cond(A) < 1e6:
        best = np.linalg.solve(A, (nrm * (W * c)[:, None]).sum(0))
    support = float(W.sum() / ln.sum())
    if support < min_support:
        return None
    # Directions of the supporting segments as seen from the vanishing point.
    mid = 0.5 * (seg[sel, :2] + seg[sel, 2:])
    a = np.arctan2(mid[:, 1] - best[1], mid[:, 0] - best[0])
    spread = float(np.hypot(*np.average(np.stack([np.cos(a), np.sin(a)]), axis=1, weights=W)))
    up = (best[1] - mid[:, 1]) > np.abs(mid[:, 0] - best[0])
    ceiling = float(W[up].sum() / max(W.sum(), 1e-9))
    return VanishingPoint(float(best[0]), float(best[1]), support, 1.0 - spread, ceiling)
