"""What the visitor stands on: the near ground's material, the part of the ground exemplar
that looks like the painting's nearest ground.

The depth's ground (:func:`.ground.ground_mask`) is where the disparity grows down the
picture as a plane's does; with a depth that is little more than "lower is nearer" it also
takes in whatever fills the lower picture: a wedding's crowd, a kneeling figure's robe,
a boat, snow-covered roofs. Quilted into the ground's tile, each comes back all round the
visitor as a carpet of stamps. The painting's nearest ground (its bottom rows, across the
width) is the most reliable sample of what the ground is made of; the rest of the exemplar
is kept where it looks like that material. The measure is :mod:`.rare`'s: each cell's
colour and spread with its neighbours', and a cell is the material when at least
MATERIAL_SHARE of the near cells away from it look like it, within MATERIAL_FACTOR times
what is typical among the near cells themselves (a figure in the bottom rows looks only
like itself, so the near ground's material wins there too).
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError
from .rare import RARE_FLOOR, RARE_REACH, cell_features, cell_size, context_features, kth_lookalike

MATERIAL_NEAR = 0.1
"""Share of the exemplar's valid cells, counted from its bottom row up, that sample the near
ground (at least MIN_NEAR cells)."""
MIN_NEAR = 16
"""Fewest cells that sample the near ground; with fewer valid cells all of them are kept."""
MATERIAL_SHARE = 0.25
"""A cell is the near ground's material when at least this share of the near cells look
like it."""
MATERIAL_FACTOR = 1.5
"""How many times the near cells' median distance to their look-alikes a cell's may be."""
MATERIAL_CELL = 6
"""Least side of the compared cells, texels (grown to keep their count within rare.MAX_CELLS)."""


def near_material(ex: np.ndarray, valid: np.ndarray, cell: int = MATERIAL_CELL, near: float = MATERIAL_NEAR,
                  share: float = MATERIAL_SHARE, factor: float = MATERIAL_FACTOR) -> np.ndarray:
    """(h, w) bool: the ``valid`` texels of ``ex`` (h, w, c), whose bottom rows are the
    nearest ground, in cells that look like the near ground: the ``k``-th nearest (k =
    ``share`` of the near cells) near cell more than RARE_REACH of the grid away is within
    ``factor`` times the near cells' median of the same distance (at least RARE_FLOOR).
    The near cells are the bottom-most ``near`` share of the cells at least half valid.
    Texels in the last partial row and column of cells take their neighbouring cells' call.

    Raises InputError for a bad exemplar, mask or share.
    """
    if ex.ndim != 3 or ex.shape[0] < 2 or ex.shape[1] < 2:
        raise InputError(f"near_material needs an (h, w, c) exemplar, got shape {ex.shape}")
    if valid.shape != ex.shape[:2]:
        raise InputError(f"near_material's valid mask must be {ex.shape[:2]}, got {valid.shape}")
    if not (0.0 < near <= 1.0 and 0.0 < share <= 1.0 and factor > 0.0):
        raise InputError(f"near_material needs near and share in (0, 1] and factor > 0, got {near}, {share}, {factor}")
    h, w = valid.shape
    cell = cell_size((h, w), valid, cell)
    ny, nx = h // cell, w // cell
    if ny < 2 or nx < 2:
        return valid.copy()
    vs = cv2.resize(valid[:ny * cell, :nx * cell].astype(np.float32), (nx, ny), interpolation=cv2.INTER_AREA)
    on = vs >= 0.5
    iy, ix = np.nonzero(on)
    if len(iy) <= MIN_NEAR:
        return valid.copy()
    feat = context_features(cell_features(ex, cell), on)[iy, ix].astype(np.float64)
    n_near = min(len(iy), max(MIN_NEAR, int(round(near * len(iy)))))
    ref = np.argsort(-iy, kind="stable")[:n_near]  # nonzero scans row-major: bottom rows, left to right
    k = max(1, int(round(share * n_near)))
    reach = max(1, int(round(RARE_REACH * max(ny, nx))))
    dist = kth_lookalike(feat, iy, ix, k, reach, ref=ref)
    own = dist[ref][np.isfinite(dist[ref])]
    typical = max(float(np.median(own)) if len(own) else 0.0, RARE_FLOOR)
    grid = np.zeros((ny, nx), np.uint8)
    grid[iy, ix] = dist <= factor * typical
    full = cv2.resize(grid, (nx * cell, ny * cell), interpolation=cv2.INTER_NEAREST) > 0
    return valid & np.pad(full, ((0, h - ny * cell), (0, w - nx * cell)), mode="edge")
