"""Triangle meshes from a layer's depth grid, cut at depth jumps.

A layer is meshed on its working-resolution grid at a uniform step: cells that touch the
layer's coverage become two triangles; cells holding a depth jump get near and far copies
(see :func:`uniform_grid_mesh`), and no triangle joins vertices whose depths differ by more
than ``max_jump`` (relative). Silhouettes come from the texture's alpha, not from the grid.
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


def uniform_grid_mesh(depth: np.ndarray, extended: np.ndarray, cover: np.ndarray, step: int,
                      max_jump: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Triangulate the cells (``step`` pixels wide) that touch ``cover``.

    ``depth`` is the layer's depth at each pixel; ``extended`` the layer's own surface
    continued smoothly past its edges. A cell whose corners differ by more than
    ``max_jump`` is emitted twice with unshared corners: a near copy whose far corners
    follow ``extended`` (so the near surface's silhouette lies inside the cell, where the
    texture's alpha cuts it) and a far copy whose near corners are pushed back (so the
    far surface reaches under the silhouette). Faces that still join depths more than
    ``max_jump`` apart are dropped.

    Returns (rows, cols, z, faces): pixel row/column (int64) and depth (float32) of each
    vertex, and (M, 3) uint32 faces.
    """
    h, w = depth.shape
    rows, cols = grid_vertex_coords(h, w, step)
    cells = max_pool_cells(cover, step)
    ny, nx = cells.shape
    gz = depth[rows[:, None], cols[None, :]].astype(np.float32)
    gx = extended[rows[:, None], cols[None, :]].astype(np.float32)
    vid = np.arange((ny + 1) * (nx + 1)).reshape(ny + 1, nx + 1)
    cj, ci = np.nonzero(cells)
    corners = np.stack([vid[cj, ci], vid[cj, ci + 1], vid[cj + 1, ci], vid[cj + 1, ci + 1]], 1)  # a b c d
    z = gz.ravel()
    cz = z[corners]
    zmin, zmax = cz.min(axis=1), cz.max(axis=1)
    jump = zmax > zmin * (1.0 + max_jump)

    # Smooth cells share the grid's vertices.
    sm = corners[~jump]
    faces = [_split(sm, np.log(z[sm]))]
    vr = [rows.repeat(nx + 1)]
    vc = [np.tile(cols, ny + 1)]
    vz = [z]
    if jump.any():
        jc = corners[jump]
        add_jump_copies(faces, vr, vc, vz, len(z), jump_copy_depths(cz[jump], gx.ravel()[jc], max_jump),
                        rows[jc.ravel() // (nx + 1)], cols[jc.ravel() % (nx + 1)])
    allz = np.concatenate(vz)
    f = np.concatenate(faces, axis=0)
    f = f[no_jump(allz, f, max_jump)]
    used, inv = compact_vertices(f, len(allz))
    return np.concatenate(vr)[used], np.concatenate(vc)[used], allz[used], inv.astype(np.uint32)


def jump_copy_depths(cz: np.ndarray, ext: np.ndarray, max_jump: float) -> tuple[np.ndarray, np.ndarray]:
    """(near, far) corner depths (n, 4) of the copies of cells spanning a depth jump, from
    their corners' depths ``cz`` and the layer's extended depth ``ext`` there: the near copy
    keeps the near corners and puts the others just behind them (on the extended surface),
    the far copy keeps the far corners and pulls the others back to the farthest."""
    lo, hi = cz.min(axis=1, keepdims=True), cz.max(axis=1, keepdims=True)
    near_z = np.where(cz <= lo * (1.0 + max_jump), cz, np.clip(ext, lo, lo * (1.0 + max_jump)))
    far_z = np.where(cz >= hi / (1.0 + max_jump), cz, hi)
    return near_z, far_z


def add_jump_copies(faces: list, vr: list, vc: list, vz: list, base: int, copies: tuple,
                    rows: np.ndarray, cols: np.ndarray) -> int:
    """Append, for cells spanning a depth jump, one near and one far copy of each cell
    (4 fresh vertices per cell and copy, at ``rows``/``cols``, depths from ``copies``: (n, 4)
    each). Returns the next free vertex index."""
    for copy_z in copies:
        n = copy_z.shape[0]
        ids = base + np.arange(n * 4).reshape(n, 4)
        faces.append(_split(ids, np.log(copy_z)))
        vr.append(rows)
        vc.append(cols)
        vz.append(copy_z.ravel().astype(np.float32))
        base += n * 4
    return base


def _split(quads: np.ndarray, logz: np.ndarray) -> np.ndarray:
    """Two triangles per quad (a, b, c, d = top-left, top-right, bottom-left, bottom-right).

    The diagonal joining the closer depths is used, so silhouettes follow the staircase of
    the depth map instead of cutting corners.
    """
    a, b, c, d = quads.T
    la, lb, lc, ld = logz.T
    ad = np.abs(la - ld) <= np.abs(lb - lc)
    t1 = np.where(ad[:, None], np.stack([a, c, d], 1), np.stack([a, c, b], 1))
    t2 = np.where(ad[:, None], np.stack([a, d, b], 1), np.stack([b, c, d], 1))
    return np.concatenate([t1, t2], axis=0)


def no_jump(z: np.ndarray, faces: np.ndarray, max_jump: float) -> np.ndarray:
    """Faces whose vertex depths stay within a factor (1 + max_jump) of each other."""
    a, b, c = z[faces[:, 0]], z[faces[:, 1]], z[faces[:, 2]]
    # Pairwise extremes of three columns: the same values as a max/min over axis 1, faster.
    return np.maximum(np.maximum(a, b), c) <= np.minimum(np.minimum(a, b), c) * (1.0 + max_jump)


def compact_vertices(faces: np.ndarray, n_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    """(used vertex ids in ascending order, faces renumbered into them): what
    ``np.unique(faces, return_inverse=True)`` gives, by a mark-and-count pass (no sort)."""
    mark = np.zeros(n_vertices, bool)
    mark[faces.ravel()] = True
    new_id = np.cumsum(mark) - 1
    return np.flatnonzero(mark), new_id[faces]


def face_stretch(rows: np.ndarray, cols: np.ndarray, z: np.ndarray, faces: np.ndarray,
                 focal: float) -> np.ndarray:
    """How much each triangle is a rubber sheet: the magnitude of its disparity gradient
    (1/depth, interpolated linearly over the triangle in the view) in 1/m per radian of view
    (``focal`` in the same pixels as ``rows``/``cols``).

    It is the parallax 1 m of head motion shows across the triangle per pixel of its size:
    a triangle of a real surface keeps a small figure at any distance (the ground seen from
    eye height h is 1/h; a wall the visitor walks along at x metres, 1/x), one joining a
    figure to what is behind it a large one (5 -> 8 m over 2 px at focal 700: 26), and it is
    stretched by that much into a streak when the visitor steps aside.
    Degenerate (zero-area) triangles get +inf. Same values as :func:`face_stretch_reference`.
    """
    d = 1.0 / z.astype(np.float64)
    r, c = rows.astype(np.float64)[faces], cols.astype(np.float64)[faces]
    dd = d[faces]
    e1x, e1y, e2x, e2y = c[:, 1] - c[:, 0], r[:, 1] - r[:, 0], c[:, 2] - c[:, 0], r[:, 2] - r[:, 0]
    d1, d2 = dd[:, 1] - dd[:, 0], dd[:, 2] - dd[:, 0]
    det = e1x * e2y - e1y * e2x
    with np.errstate(divide="ignore", invalid="ignore"):
        gx = (d1 * e2y - d2 * e1y) / det
        gy = (d2 * e1x - d1 * e2x) / det
        out = focal * np.hypot(gx, gy)
    return np.where(det == 0, np.inf, out)


def face_stretch_reference(rows: np.ndarray, cols: np.ndarray, z: np.ndarray, faces: np.ndarray,
                           focal: float) -> np.ndarray:
    """Obvious version of :func:`face_stretch`: one 2 x 2 linear solve per triangle."""
    out = np.empty(len(faces))
    for n, (i, j, k) in enumerate(faces):
        e = np.array([[cols[j] - cols[i], rows[j] - rows[i]], [cols[k] - cols[i], rows[k] - rows[i]]], float)
        dv = np.array([1.0 / float(z[j]) - 1.0 / float(z[i]), 1.0 / float(z[k]) - 1.0 / float(z[i])])
        if np.linalg.det(e) == 0:
            out[n] = np.inf
            continue
        out[n] = focal * float(np.linalg.norm(np.linalg.solve(e, dv)))
    return out


def drop_stretched(rows: np.ndarray, cols: np.ndarray, z: np.ndarray, faces: np.ndarray, backed: np.ndarray,
                   focal: float, max_stretch: float) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Drop the triangles whose :func:`face_stretch` exceeds ``max_stretch`` and whose three
    vertices lie where ``backed`` (a (h, w) bool mask over the grid ``rows``/``cols`` index)
    says a farther surface has content: what they covered is shown by it instead of a streak.

    Returns ((rows, cols, z, faces) with unused vertices removed, the (h, w) bool mask of the
    dropped triangles' bounding boxes: where the farther surface should show the painting's
    own colour, as the dropped triangles did from the start pose)."""
    gone = np.zeros(backed.shape, bool)
    if not len(faces):
        return (rows, cols, z, faces), gone
    drop = face_stretch(rows, cols, z, faces, focal) > max_stretch
    drop &= backed[rows[faces], cols[faces]].all(axis=1)
    if not drop.any():
        return (rows, cols, z, faces), gone
    r, c = rows[faces[drop]], cols[faces[drop]]
    gone = box_union(backed.shape, r.min(axis=1), r.max(axis=1), c.min(axis=1), c.max(axis=1))
    used, inv = compact_vertices(faces[~drop], len(z))
    return (rows[used], cols[used], z[used], inv.astype(np.uint32)), gone


def box_union(shape: tuple[int, int], r0: np.ndarray, r1: np.ndarray, c0: np.ndarray, c1: np.ndarray) -> np.ndarray:
    """(h, w) bool: the union of the closed boxes [r0, r1] x [c0, c1], by a summed difference
    grid (same as :func:`box_union_reference`)."""
    h, w = shape
    acc = np.zeros((h + 1, w + 1), np.int64)
    for dr, dc, sign in ((r0, c0, 1), (r0, c1 + 1, -1), (r1 + 1, c0, -1), (r1 + 1, c1 + 1, 1)):
        np.add.at(acc, (np.minimum(dr, h), np.minimum(dc, w)), sign)
    return acc.cumsum(axis=0).cumsum(axis=1)[:h, :w] > 0


def box_union_reference(shape: tuple[int, int], r0: np.ndarray, r1: np.ndarray, c0: np.ndarray,
                        c1: np.ndarray) -> np.ndarray:
    """Obvious version of :func:`box_union`: one slice per box."""
    out = np.zeros(shape, bool)
    for a, b, c, d in zip(r0, r1, c0, c1):
        out[a:b + 1, c:d + 1] = True
    return out
