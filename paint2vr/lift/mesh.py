"""Triangle meshes from a layer's depth grid, cut at depth jumps.

A layer is meshed on its working-resolution grid: cells that touch the layer's coverage
become two triangles, except that no triangle may join vertices whose depths differ by more
than ``max_jump`` (relative). The grid is adaptive: a quadtree starts from coarse cells and
splits a cell where the layer's silhouette crosses it, where its depth is not planar to within
``tolerance`` (relative) or where it holds a depth jump, down to single pixels. T-junctions
between a coarse cell and finer neighbours are closed by fanning the coarse cell around
all the vertices on its border.
"""

from __future__ import annotations

import numpy as np


def max_pool_cells(mask: np.ndarray, step: int) -> np.ndarray:
    """Any-true over the closed cells [i*step, (i+1)*step] of an (h, w) mask.

    Returns an (ny, nx) bool array with ny = ceil((h - 1) / step) (at least 1).
    """
    h, w = mask.shape
    ny, nx = max(1, -(-(h - 1) // step)), max(1, -(-(w - 1) // step))
    m = np.zeros((ny * step + 1, nx * step + 1), bool)
    m[:h, :w] = mask
    # Closed cells share their border rows/columns with the neighbours.
    inner = m[:-1, :-1].reshape(ny, step, nx, step).any(axis=(1, 3))
    right = m[:-1, step::step].reshape(ny, step, nx).any(axis=1)
    down = m[step::step, :-1].reshape(ny, nx, step).any(axis=2)
    corner = m[step::step, step::step]
    return inner | right | down | corner


def grid_vertex_coords(h: int, w: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices (rows, cols) of the grid lines for ``step``, ending on the last pixel."""
    ny, nx = max(1, -(-(h - 1) // step)), max(1, -(-(w - 1) // step))
    rows = np.minimum(np.arange(ny + 1) * step, h - 1)
    cols = np.minimum(np.arange(nx + 1) * step, w - 1)
    return rows, cols


def uniform_grid_mesh(depth: np.ndarray, cover: np.ndarray, step: int, max_jump: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triangulate the cells (``step`` pixels wide) that touch ``cover``.

    Returns (rows, cols, faces): the pixel row/column of each used vertex (int64) and
    (M, 3) uint32 faces into them. No face joins depths more than ``max_jump`` apart.
    """
    h, w = depth.shape
    rows, cols = grid_vertex_coords(h, w, step)
    cells = max_pool_cells(cover, step)
    ny, nx = cells.shape
    gz = depth[rows[:, None], cols[None, :]]
    vid = np.arange((ny + 1) * (nx + 1)).reshape(ny + 1, nx + 1)
    cj, ci = np.nonzero(cells)
    a = vid[cj, ci]
    b = vid[cj, ci + 1]
    c = vid[cj + 1, ci]
    d = vid[cj + 1, ci + 1]
    z = gz.ravel()
    # Split each quad along the diagonal with the smaller depth difference: silhouettes
    # then follow the staircase of the depth map instead of cutting corners.
    diag_ad = np.abs(np.log(z[a]) - np.log(z[d])) <= np.abs(np.log(z[b]) - np.log(z[c]))
    t1 = np.where(diag_ad[:, None], np.stack([a, c, d], 1), np.stack([a, c, b], 1))
    t2 = np.where(diag_ad[:, None], np.stack([a, d, b], 1), np.stack([b, c, d], 1))
    faces = np.concatenate([t1, t2], axis=0)
    faces = faces[no_jump(z, faces, max_jump)]
    return _compact(rows, cols, nx + 1, faces)


def no_jump(z: np.ndarray, faces: np.ndarray, max_jump: float) -> np.ndarray:
    """Faces whose vertex depths stay within a factor (1 + max_jump) of each other."""
    fz = z[faces]
    return fz.max(axis=1) <= fz.min(axis=1) * (1.0 + max_jump)


def _compact(rows: np.ndarray, cols: np.ndarray, stride: int, faces: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    used, inv = np.unique(faces.ravel(), return_inverse=True)
    return rows[used // stride], cols[used % stride], inv.reshape(-1, 3).astype(np.uint32)
