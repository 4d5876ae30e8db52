"""The horizon (the painter's eye level) and where sky can be.

The horizon row comes, in this order, from a designer's hint, a vanishing point the
painting's lines clearly meet in (:mod:`.perspective`), the lowest reach of the sky across
the picture, or a default. Sky can only lie above the horizon: sky-coloured pixels well
below it are mist, a glow or the sky's reflection in water, i.e. land or water.
"""

from __future__ import annotations

import numpy as np


def horizon_from_sky(sky: np.ndarray, default_row: float) -> float:
    """Row just below the lowest reach of the sky over most columns (``default_row`` when
    less than a fifth of the columns show sky).

    The 90th percentile of each column's lowest sky row, over the columns whose sky does
    not reach far below the typical one (a reflection or glow that runs down into the water
    must not pull the horizon down), plus 2 % of the height; but at least as low as a wide
    open stretch of sky reaches (over 15 % of the width, the 20th percentile of its columns'
    lowest sky rows): where tree crowns hide the sky over most columns, the sky seen down to
    the far meadow beside them shows the eye level (a reflection or glow is narrower).
    Sky is seen only above the horizon, so this is the highest the horizon can lie: with
    roofs, walls or trees cutting the sky off higher up, it is never above ``default_row``.
    """
    h, w = sky.shape
    cols = sky.any(axis=0)
    if cols.sum() < 0.2 * w:
        return float(default_row)
    lowest = (h - np.argmax(sky[::-1], axis=0))[cols]
    typical = np.percentile(lowest[lowest <= np.median(lowest) + 0.2 * h], 90)
    # A wide open stretch of sky reaching lower still (trees hide the sky over the rest):
    # the horizon lies at least that low (a reflection or glow is narrow).
    win = max(3, int(0.15 * w))
    low = np.where(cols, h - np.argmax(sky[::-1], axis=0), 0).astype(np.float64)
    if w >= win:
        stretch = np.lib.stride_tricks.sliding_window_view(low, win)
        typical = max(typical, float(np.percentile(stretch, 20, axis=1).max()))
    return float(np.clip(max(typical + 0.02 * h, default_row), 0.1 * h, 0.9 * h))


def sky_above_horizon(sky: np.ndarray, horizon_row: float, margin: float = 0.05) -> np.ndarray:
    """The sky mask with every pixel more than ``margin`` of the height below the horizon
    removed (reflections, mist and glow on land or water)."""
    h = sky.shape[0]
    limit = int(np.ceil(horizon_row + margin * h))
    out = sky.copy()
    out[max(0, limit):] = False
    return out
