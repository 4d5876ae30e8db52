"""A photograph's border around the painting: the uniform strips (a black or white mat,
scanner padding, a grey card) that collection photographs often carry on their sides.

Left in, the world step continues the painting from its edge, so a border is laid all
round the visitor as a dark halo and the painting floats in a picture frame that no
painter drew. :func:`find_border` finds them; :func:`load_painting` cuts them off (and the
record says how much, ``Painting.border``).

A side's border is the run of lines (rows or columns) from the edge each of whose colour
varies little along it (every channel's standard deviation at most FLAT_STD); it counts
only when the run ends within MAX_SHARE of the side, at a line that is not flat, and the
line's colour differs from the border's (a painted flat sky that runs on past MAX_SHARE,
or fades into the picture, is left alone).
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

FLAT_STD = 4.0
"""Largest standard deviation (grey levels, any channel) along a line of border."""
MAX_SHARE = 0.08
"""Largest share of the painting's height (width) a top or bottom (side) border may take."""
MIN_STEP = 24.0
"""Least colour difference (grey levels, largest over the channels) between a border and the
first lines of the painting inside it."""
EDGE_SHARE = 0.002
"""Lines cut beyond the border's last flat line, as a share of the side (at least one): the
photograph's edge between border and canvas is a blur a few lines wide; the colour step is
measured past it."""


def _edge(size: int) -> int:
    return max(1, int(np.ceil(EDGE_SHARE * size)))


def _side(lines: np.ndarray, limit: int, edge: int) -> int:
    """Border lines at the start of ``lines`` (n, length, 3) float32 (the first is at the
    edge), at most ``limit``, with the ``edge`` lines past the flat run; 0 when there is none."""
    n = min(limit, lines.shape[0])
    std = lines[:n].std(axis=1).max(axis=1)
    flat = std <= FLAT_STD
    run = int(np.argmin(flat)) if not flat.all() else n
    if run == 0 or run >= n:
        return 0
    border = lines[:run].mean(axis=(0, 1))
    inside = lines[run + edge:run + edge + 4].mean(axis=(0, 1))
    if float(np.abs(border - inside).max()) < MIN_STEP:
        return 0
    return min(run + edge, n)


def find_border(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): lines of uniform photographic border on each side of
    ``rgb`` (H, W, 3) uint8, each at most MAX_SHARE of its side; zeros when there is none.

    Raises:
        InputError: ``rgb`` is not an (H, W, 3) array.
    """
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"find_border needs an (H, W, 3) array, got {getattr(rgb, 'shape', type(rgb).__name__)}")
    H, W = rgb.shape[:2]
    if H < 16 or W < 16:
        return (0, 0, 0, 0)
    kh, kw = int(H * MAX_SHARE), int(W * MAX_SHARE)
    eh, ew = _edge(H), _edge(W)
    nh, nw = kh + eh + 4, kw + ew + 4
    # Only the edge strips are converted (a 64 MP painting as float32 would be 800 MB more).
    top = _side(rgb[:nh].astype(np.float32), kh, eh)
    bottom = _side(rgb[::-1][:nh].astype(np.float32), kh, eh)
    left = _side(rgb[:, :nw].transpose(1, 0, 2).astype(np.float32), kw, ew)
    right = _side(rgb[:, ::-1][:, :nw].transpose(1, 0, 2).astype(np.float32), kw, ew)
    return (top, bottom, left, right)


def find_border_reference(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """:func:`find_border` one line at a time, with plain loops (slow; tests)."""
    H, W = rgb.shape[:2]
    if H < 16 or W < 16:
        return (0, 0, 0, 0)
    a = rgb.astype(np.float64)

    def line(side: str, i: int) -> np.ndarray:
        return {"top": a[i], "bottom": a[H - 1 - i], "left": a[:, i], "right": a[:, W - 1 - i]}[side]

    out = []
    for side, size in (("top", H), ("bottom", H), ("left", W), ("right", W)):
        limit, edge = int(size * MAX_SHARE), _edge(size)
        run = 0
        while run < limit and max(float(line(side, run)[:, c].std()) for c in range(3)) <= FLAT_STD:
            run += 1
        if run == 0 or run >= limit:
            out.append(0)
            continue
        border = np.mean([line(side, i).mean(axis=0) for i in range(run)], axis=0)
        inside = np.mean([line(side, i).mean(axis=0) for i in range(run + edge, run + edge + 4)], axis=0)
        out.append(0 if float(np.abs(border - inside).max()) < MIN_STEP else min(run + edge, limit))
    return tuple(out)


def cut_border(rgb: np.ndarray, alpha: np.ndarray | None, border: tuple[int, int, int, int]):
    """(rgb, alpha) without the ``border`` (top, bottom, left, right) lines (contiguous copies)."""
    t, b, l, r = border
    H, W = rgb.shape[:2]
    rows, cols = slice(t, H - b), slice(l, W - r)
    out = np.ascontiguousarray(rgb[rows, cols])
    return out, (None if alpha is None else np.ascontiguousarray(alpha[rows, cols]))
