"""Adaptive (restricted quadtree) meshes of a layer's depth grid.

Cells live on a lattice of ``base`` working pixels. A cell of level l spans 2**l lattice
steps; it is split into four while it touches the layer's coverage boundary (silhouette),
holds vertex depths more than ``max_jump`` apart, or its disparity departs from the bilinear
interpolation of its corners by more than ``tol`` (a planarity test: disparity is affine on a
plane's image). Coverage boundaries and jumps are therefore meshed at level 0 (where the
near/far copies of :mod:`.mesh` cut jumps) and planar interiors with large cells.

The tree is kept restricted (2:1): a cell is also split when any of its 8 same-size
neighbours has a split child. Leaves whose edge neighbour is split get that edge's midpoint
and are triangulated as a fan around their centre, so no T-junction opens a crack.

:func:`quadtree_plan` is vectorised (one pass per level); :func:`quadtree_plan_reference`
recurses cell by cell and is the obvious version the fast one is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .mesh import _split, add_jump_copies, compact_vertices, jump_copy_depths, no_jump


@dataclass
class Lattice:
    """The vertex lattice of one layer: every ``base`` pixels, padded to whole top cells."""

    base: int
    levels: int
    rows: np.ndarray
    """Pixel row of each lattice row (clamped to the image)."""
    cols: np.ndarray
    z: np.ndarray
    """(NY + 1, NX + 1) float32 depth at the lattice vertices."""
    cover: np.ndarray
    """(NY, NX) bool: the level-0 cell touches the coverage."""
    partial: np.ndarray
    """(NY, NX) bool: the level-0 cell touches the coverage and its complement."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.cover.shape


def _pool_closed(mask: np.ndarray, step: int, ny: int, nx: int) -> np.ndarray:
    """Any-true over the closed cells [i*step, (i+1)*step] (cells past the image are False).

    A (step+1)-square dilation anchored at its corner, read every ``step`` pixels: OpenCV's
    running maximum, several times faster than reshaped reductions (same result as
    :func:`_pool_closed_reference`, tested).
    """
    h, w = mask.shape
    m = np.zeros((ny * step + 1, nx * step + 1), np.uint8)
    m[:min(h, ny * step + 1), :min(w, nx * step + 1)] = mask[:ny * step + 1, :nx * step + 1]
    grown = cv2.dilate(m, np.ones((step + 1, step + 1), np.uint8), anchor=(0, 0),
                       borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return grown[0:ny * step:step, 0:nx * step:step] > 0


def _pool_closed_reference(mask: np.ndarray, step: int, ny: int, nx: int) -> np.ndarray:
    """Obvious version of :func:`_pool_closed`: one slice per cell."""
    h, w = mask.shape
    out = np.zeros((ny, nx), bool)
    for i in range(ny):
        for j in range(nx):
            y0, x0 = i * step, j * step
            out[i, j] = bool(mask[y0:min(h, y0 + step + 1), x0:min(w, x0 + step + 1)].any())
    return out


def make_lattice(depth: np.ndarray, cover: np.ndarray, base: int, levels: int) -> Lattice:
    """Sample ``depth`` on a lattice of step ``base`` with 2**levels-cell top cells.

    The lattice spans only the bounding box of ``cover`` (grown to whole base cells), so
    small layers cost little.
    """
    H, W = depth.shape
    top = 1 << levels
    ys, xs = np.nonzero(cover.any(axis=1))[0], np.nonzero(cover.any(axis=0))[0]
    if ys.size == 0:
        y0, x0, y1, x1 = 0, 0, min(H, 2), min(W, 2)
    else:
        y0, x0 = (max(0, ys[0] - 1) // base) * base, (max(0, xs[0] - 1) // base) * base
        y1, x1 = min(H, ys[-1] + 2), min(W, xs[-1] + 2)
    h, w = y1 - y0, x1 - x0
    ny = max(1, -(-(h - 1) // base))
    nx = max(1, -(-(w - 1) // base))
    NY, NX = -(-ny // top) * top, -(-nx // top) * top
    rows = y0 + np.minimum(np.arange(NY + 1) * base, h - 1)
    cols = x0 + np.minimum(np.arange(NX + 1) * base, w - 1)
    z = np.ascontiguousarray(depth[rows[:, None], cols[None, :]], dtype=np.float32)
    cov = _pool_closed(cover[y0:y1, x0:x1], base, NY, NX)
    out_of_cover = _pool_closed(~cover[y0:y1, x0:x1], base, NY, NX)
    # Lattice cells past the image are degenerate (clamped rows): never partial.
    inside = np.zeros((NY, NX), bool)
    inside[:ny, :nx] = True
    return Lattice(base, levels, rows, cols, z, cov & inside, cov & out_of_cover & inside)


@dataclass
class Plan:
    """Split flags per level: ``split[l]`` (NY >> l, NX >> l) for l = 0..levels."""

    split: list[np.ndarray]
    cover: list[np.ndarray]


def _pool2(a: np.ndarray, op: str) -> np.ndarray:
    """2x2 any/max/min pooling (even shapes). Element-wise over the four strided quarters:
    several times faster than a reduction over the axes of a (h/2, 2, w/2, 2) reshape."""
    f = {"any": np.logical_or, "max": np.maximum, "min": np.minimum}[op]
    return f(f(a[0::2, 0::2], a[0::2, 1::2]), f(a[1::2, 0::2], a[1::2, 1::2]))


def _halving_max(x: np.ndarray) -> np.ndarray:
    """(A, s, B, s) -> (A, B) maximum over axes 1 and 3 (s a power of two) by pairwise
    halving: numpy reduces short strided axes slowly (4x faster here, measured)."""
    s = x.shape[3]
    while s > 1:
        s //= 2
        x = np.maximum(x[:, :, :, :s], x[:, :, :, s:])
    s = x.shape[1]
    while s > 1:
        s //= 2
        x = np.maximum(x[:, :s], x[:, s:])
    return x[:, 0, :, 0]


def planarity_errors(lat: Lattice) -> list[np.ndarray]:
    """Per level, the largest |disparity - bilinear of the cell's corners| over each cell's
    lattice vertices (half-open cells; level 0 is exact by construction, so zeros).

    float32 (tolerances are about 1e-3 1/m, rounding about 1e-8) and the bilinear
    interpolation done along x on the corner rows first, so only three passes touch every
    vertex: about 3x faster than float64 in the textbook form (measured).
    """
    d = (1.0 / lat.z).astype(np.float32)
    NY, NX = lat.shape
    errs = [np.zeros((NY, NX), np.float32)]
    for lv in range(1, lat.levels + 1):
        s = 1 << lv
        c = d[::s, ::s]
        fx = (np.arange(s, dtype=np.float32) / s)[None, None, None, :]
        fy = (np.arange(s, dtype=np.float32) / s)[None, :, None, None]
        top = c[:-1, :-1][:, None, :, None] + fx * (c[:-1, 1:] - c[:-1, :-1])[:, None, :, None]
        bottom = c[1:, :-1][:, None, :, None] + fx * (c[1:, 1:] - c[1:, :-1])[:, None, :, None]
        diff = fy * (bottom - top)
        diff += top
        diff -= d[:-1, :-1].reshape(NY // s, s, NX // s, s)
        np.abs(diff, out=diff)
        errs.append(_halving_max(diff))
    return errs


def quadtree_plan(lat: Lattice, errs: list[np.ndarray], tol: float, max_jump: float,
                  silhouette_level: int = 0) -> Plan:
    """Which cells split, per level, for planarity tolerance ``tol`` (disparity, 1/m).

    Cells touching the coverage boundary are split down to ``silhouette_level``.
    """
    z = lat.z
    zmax = np.maximum(np.maximum(z[:-1, :-1], z[:-1, 1:]), np.maximum(z[1:, :-1], z[1:, 1:]))
    zmin = np.minimum(np.minimum(z[:-1, :-1], z[:-1, 1:]), np.minimum(z[1:, :-1], z[1:, 1:]))
    cov, part = lat.cover, lat.partial
    split = [np.zeros(lat.shape, bool)]
    covers = [cov]
    k3 = np.ones((3, 3), np.uint8)
    for lv in range(1, lat.levels + 1):
        cov, part = _pool2(cov, "any"), _pool2(part, "any")
        zmax, zmin = _pool2(zmax, "max"), _pool2(zmin, "min")
        refine = cov & ((zmax > zmin * (1.0 + max_jump)) | (errs[lv] > tol)
                        | (part if lv > silhouette_level else False))
        child = _pool2(split[-1], "any")
        # 2:1 balance: split when a same-size neighbour (or the cell itself) has a split child.
        balance = cv2.dilate(child.astype(np.uint8), k3, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
        split.append(refine | balance)
        covers.append(cov)
    return Plan(split, covers)


def _exists(plan: Plan) -> list[np.ndarray]:
    top = len(plan.split) - 1
    ex = [None] * (top + 1)
    ex[top] = np.ones(plan.split[top].shape, bool)
    for lv in range(top, 0, -1):
        ex[lv - 1] = np.repeat(np.repeat(ex[lv] & plan.split[lv], 2, 0), 2, 1)
    return ex


def leaves(plan: Plan) -> list[tuple[int, np.ndarray]]:
    """(level, (n, 2) cell indices) of the covered leaves, per level."""
    out = []
    for lv, ex in enumerate(_exists(plan)):
        leaf = ex & ~plan.split[lv] & plan.cover[lv]
        out.append((lv, np.argwhere(leaf)))
    return out


def count_triangles(lat: Lattice, plan: Plan, max_jump: float) -> int:
    """Triangles :func:`quadtree_mesh` emits at most (it may drop a few spanning a jump)."""
    z = lat.z
    zmax = np.maximum(np.maximum(z[:-1, :-1], z[:-1, 1:]), np.maximum(z[1:, :-1], z[1:, 1:]))
    zmin = np.minimum(np.minimum(z[:-1, :-1], z[:-1, 1:]), np.minimum(z[1:, :-1], z[1:, 1:]))
    jumps = zmax > zmin * (1.0 + max_jump)
    ex = _exists(plan)
    n = 0
    for lv in range(len(plan.split)):
        leaf = ex[lv] & ~plan.split[lv] & plan.cover[lv]
        if lv == 0:
            n += 2 * int(leaf.sum()) + 2 * int((leaf & jumps).sum())
            continue
        mids = _mid_flags(ex[lv] & plan.split[lv])
        nm = sum(m.astype(np.int32) for m in mids)
        n += int(np.where(nm > 0, 4 + nm, 2)[leaf].sum())
    return n


def _mid_flags(split_here: np.ndarray) -> list[np.ndarray]:
    """For each cell, is its (left, bottom, right, top) neighbour an existing split cell."""
    p = np.pad(split_here, 1)
    return [p[1:-1, :-2], p[2:, 1:-1], p[1:-1, 2:], p[:-2, 1:-1]]


def quadtree_mesh(depth: np.ndarray, extended: np.ndarray, lat: Lattice, plan: Plan,
                  max_jump: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Triangulate the plan's covered leaves (see the module docstring).

    Level-0 leaves whose corners differ by more than ``max_jump`` get near and far copies
    (as in :func:`.mesh.uniform_grid_mesh`); faces still spanning a jump are dropped.
    Returns (rows, cols, z, faces) like :func:`.mesh.uniform_grid_mesh`.
    """
    NY, NX = lat.shape
    W1 = NX + 1
    z = lat.z.ravel()
    ex = _exists(plan)
    faces = []
    vr = [np.repeat(lat.rows, W1)]
    vc = [np.tile(lat.cols, NY + 1)]
    vz = [z]
    base = len(z)
    for lv in range(len(plan.split)):
        leaf = ex[lv] & ~plan.split[lv] & plan.cover[lv]
        if not leaf.any():
            continue
        s = 1 << lv
        ci, cj = np.nonzero(leaf)
        r0, c0 = ci * s, cj * s
        a, b = r0 * W1 + c0, r0 * W1 + c0 + s
        c, d = (r0 + s) * W1 + c0, (r0 + s) * W1 + c0 + s
        quads = np.stack([a, b, c, d], 1)
        if lv == 0:
            cz = z[quads]
            zmin, zmax = cz.min(axis=1), cz.max(axis=1)
            jump = zmax > zmin * (1.0 + max_jump)
            faces.append(_split(quads[~jump], np.log(cz[~jump])))
            if jump.any():
                jc = quads[jump]
                copies = jump_copy_depths(cz[jump], extended[lat.rows[jc // W1], lat.cols[jc % W1]], max_jump)
                base = add_jump_copies(faces, vr, vc, vz, base, copies, lat.rows[jc.ravel() // W1],
                                       lat.cols[jc.ravel() % W1])
            continue
        mids = [m[ci, cj] for m in _mid_flags(ex[lv] & plan.split[lv])]
        fan = np.any(mids, axis=0)
        faces.append(_split(quads[~fan], np.log(z[quads[~fan]])))
        if fan.any():
            h = s // 2
            ctr = (r0 + h) * W1 + c0 + h
            # Boundary in the order a -> c -> d -> b (left, bottom, right, top edges), which
            # winds like _split's triangles.
            edges = [(a, c, (r0 + h) * W1 + c0), (c, d, (r0 + s) * W1 + c0 + h),
                     (d, b, (r0 + h) * W1 + c0 + s), (b, a, r0 * W1 + c0 + h)]
            for (p0, p1, m), has in zip(edges, mids):
                one = fan & ~has
                two = fan & has
                faces.append(np.stack([ctr[one], p0[one], p1[one]], 1))
                faces.append(np.stack([ctr[two], p0[two], m[two]], 1))
                faces.append(np.stack([ctr[two], m[two], p1[two]], 1))
    allz = np.concatenate(vz)
    f = np.concatenate(faces, axis=0) if faces else np.zeros((0, 3), np.int64)
    allr, allc = np.concatenate(vr), np.concatenate(vc)
    # Cells past the image are squashed onto its last row/column: drop their flat triangles.
    r, c = allr[f], allc[f]
    area = (r[:, 1] - r[:, 0]) * (c[:, 2] - c[:, 0]) - (r[:, 2] - r[:, 0]) * (c[:, 1] - c[:, 0])
    f = f[no_jump(allz, f, max_jump) & (area != 0)]
    used, inv = compact_vertices(f, len(allz))
    return allr[used], allc[used], allz[used], inv.astype(np.uint32)


def quadtree_plan_reference(lat: Lattice, tol: float, max_jump: float,
                            silhouette_level: int = 0) -> set[tuple[int, int, int]]:
    """Slow reference: covered leaves as {(level, i, j)}, by recursion and a balance loop."""
    d = 1.0 / lat.z.astype(np.float64)
    z = lat.z
    NY, NX = lat.shape
    L = lat.levels

    def own_refine(lv: int, i: int, j: int) -> bool:
        s = 1 << lv
        rs, cs = slice(i * s, i * s + s + 1), slice(j * s, j * s + s + 1)
        if not lat.cover[i * s:i * s + s, j * s:j * s + s].any() or lv == 0:
            return False
        if z[rs, cs].max() > z[rs, cs].min() * (1.0 + max_jump):
            return True
        if lv > silhouette_level and lat.partial[i * s:i * s + s, j * s:j * s + s].any():
            return True
        c00, c01 = d[i * s, j * s], d[i * s, j * s + s]
        c10, c11 = d[i * s + s, j * s], d[i * s + s, j * s + s]
        for y in range(s):
            for x in range(s):
                fy, fx = y / s, x / s
                b = (1 - fy) * ((1 - fx) * c00 + fx * c01) + fy * ((1 - fx) * c10 + fx * c11)
                if abs(d[i * s + y, j * s + x] - b) > tol:
                    return True
        return False

    def wants(lv: int, i: int, j: int) -> bool:  # the cell or any descendant needs a split
        if own_refine(lv, i, j):
            return True
        return lv > 1 and any(wants(lv - 1, 2 * i + a, 2 * j + b) for a in (0, 1) for b in (0, 1))

    leaves_: set[tuple[int, int, int]] = set()

    def build(lv: int, i: int, j: int) -> None:
        if lv > 0 and wants(lv, i, j):
            for a in (0, 1):
                for b in (0, 1):
                    build(lv - 1, 2 * i + a, 2 * j + b)
        else:
            leaves_.add((lv, i, j))

    for i in range(NY >> L):
        for j in range(NX >> L):
            build(L, i, j)
    # Balance: split a leaf while a same-size 8-neighbour region holds a leaf two levels finer.
    changed = True
    while changed:
        changed = False
        level_of = np.full((NY, NX), -1)
        for lv, i, j in leaves_:
            s = 1 << lv
            level_of[i * s:i * s + s, j * s:j * s + s] = lv
        for lv, i, j in sorted(leaves_, reverse=True):
            if lv < 2:
                continue
            s = 1 << lv
            region = level_of[max(0, i * s - s):i * s + 2 * s, max(0, j * s - s):j * s + 2 * s]
            if (region <= lv - 2).any():
                leaves_.remove((lv, i, j))
                leaves_.update((lv - 1, 2 * i + a, 2 * j + b) for a in (0, 1) for b in (0, 1))
                changed = True
                break
    return {(lv, i, j) for lv, i, j in leaves_
            if lat.cover[i << lv:(i + 1) << lv, j << lv:(j + 1) << lv].any()}
