"""Frames, mounts and walls around a picture: found and left out of the scene.

Museum scans often include the picture frame, a mount, or the wall around a fresco. Both
kinds of border are found from the outside in: a thin plain black or white frame line
(:func:`frame_line_box`), and a frame's inner edge (:func:`frame_box`): a straight step in
brightness running along nearly the whole side, within ``max_frac`` of the edge, on at least
three sides (a painted cornice or horizon crosses one side, not three).
"""

from __future__ import annotations

import numpy as np


def frame_line_box(L: np.ndarray) -> tuple[int, int, int, int]:
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


def _edge_line(L: np.ndarray, cap: int, step: float, share: float) -> int:
    """Innermost line index < cap (counted from the outside) where the brightness steps by
    more than ``step`` along at least ``share`` of the line; 0 when none."""
    if L.shape[0] < 3 or cap < 2:
        return 0
    jump = np.abs(L[2:cap + 1] - L[: cap - 1]) > step        # line k+1 against k-1 and k+1's next
    frac = jump.mean(axis=1)
    hits = np.flatnonzero(frac >= share)
    return int(hits[-1]) + 1 if hits.size else 0


def frame_box(L: np.ndarray, max_frac: float = 0.12, step: float = 8.0, share: float = 0.7
              ) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside a frame, mount or surrounding wall.

    L is lightness in 0..100 (the working copy). Falls back to :func:`frame_line_box` when
    fewer than three sides show a frame edge.
    """
    h, w = L.shape
    sides = []
    for lines, n in ((L, h), (L[::-1], h), (L.T, w), (L.T[::-1], w)):
        sides.append(_edge_line(lines, min(int(max_frac * n), n - 3), step, share))
    if sum(k > 0 for k in sides) < 3:
        return frame_line_box(L)
    t, b, l, r = sides
    if h - t - b < 8 or w - l - r < 8:
        return frame_line_box(L)
    return t, h - b, l, w - r
