"""Triangle reduction for layer meshes: vertex clustering on a grid in texture space.

Layer meshes are height fields over the painting, so a grid over their UVs (or, without
UVs, over the camera image plane) groups neighbouring vertices. Each cell keeps its vertex
nearest the cell centre (a real surface point, so textures stay put), and a coarse
log-depth bin in the cell key keeps the two sides of a depth tear apart. Faces are remapped
to the kept vertices; collapsed and duplicate faces go. A binary search over the grid size
finds the finest grid within the triangle budget. Deterministic: no randomness, stable sorts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import BudgetError, InputError
from ..scene import Camera, Mesh

DEPTH_BIN = 0.1
"""Width of the log-depth bins in the cluster key (about 10 % depth steps)."""


@dataclass(frozen=True)
class Clustering:
    """Result of one clustering: kept vertex ids (into the input) and faces over them."""

    vertices: np.ndarray
    """(V,) indices of the kept vertices, ascending."""
    faces: np.ndarray
    """(F, 3) uint32 faces indexing ``vertices``."""


def cluster_keys(mesh: Mesh, camera: Camera | None) -> np.ndarray:
    """(N, 2) float64 coordinates in [0, 1] the grid is laid over: UVs, else the image plane."""
    if mesh.uvs is not None:
        return np.clip(mesh.uvs.astype(np.float64), 0.0, 1.0)
    if camera is None:
        raise InputError(f"mesh {mesh.name!r} has no UVs and no camera was given to decimate it")
    u, v, _ = camera.project(mesh.positions)
    return np.clip(np.stack([u / camera.width, v / camera.height], 1), 0.0, 1.0)


def _depth_bins(mesh: Mesh, camera: Camera | None) -> np.ndarray:
    origin = np.zeros(3) if camera is None else np.asarray(camera.position, np.float64)
    r = np.linalg.norm(mesh.positions.astype(np.float64) - origin, axis=1)
    return np.floor(np.log(np.maximum(r, 1e-6)) / DEPTH_BIN).astype(np.int64)


def cluster(keys: np.ndarray, bins: np.ndarray, faces: np.ndarray, grid: int) -> Clustering:
    """Vectorised vertex clustering on a ``grid`` x ``grid`` lattice (see module docstring)."""
    n = keys.shape[0]
    cell_xy = np.minimum(np.floor(keys * grid).astype(np.int64), grid - 1)
    bins = bins - bins.min(initial=0)
    cell = (bins * grid + cell_xy[:, 1]) * grid + cell_xy[:, 0]
    centre = (cell_xy + 0.5) / grid
    dist = ((keys - centre) ** 2).sum(1)
    order = np.lexsort((np.arange(n), dist, cell))  # by cell, then nearest, then lowest id
    first = np.ones(n, bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    reps_sorted = order[first]
    # every vertex -> its cell's representative
    group = np.cumsum(first) - 1
    rep = np.empty(n, np.int64)
    rep[order] = reps_sorted[group]
    f = rep[faces.astype(np.int64)]
    ok = (f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])
    f = f[ok]
    # duplicate faces (same vertex set) keep their first occurrence, in the original order
    _, first_idx = np.unique(np.sort(f, axis=1), axis=0, return_index=True)
    f = f[np.sort(first_idx)]
    used, inverse = np.unique(f.reshape(-1), return_inverse=True)
    return Clustering(vertices=used, faces=inverse.reshape(-1, 3).astype(np.uint32))


def cluster_reference(keys: np.ndarray, bins: np.ndarray, faces: np.ndarray, grid: int) -> Clustering:
    """Slow, obvious version of :func:`cluster` (loops and dicts), for tests."""
    bins = bins - bins.min(initial=0)
    best: dict[tuple[int, int, int], tuple[float, int]] = {}
    cell_of = []
    for i, (k, b) in enumerate(zip(keys, bins)):
        cx, cy = (min(int(math.floor(k[0] * grid)), grid - 1), min(int(math.floor(k[1] * grid)), grid - 1))
        key = (int(b), cy, cx)
        cell_of.append(key)
        d = (k[0] - (cx + 0.5) / grid) ** 2 + (k[1] - (cy + 0.5) / grid) ** 2
        if key not in best or (d, i) < best[key]:
            best[key] = (d, i)
    seen: set[tuple[int, ...]] = set()
    out = []
    for tri in faces:
        r = [best[cell_of[int(v)]][1] for v in tri]
        if len(set(r)) < 3 or tuple(sorted(r)) in seen:
            continue
        seen.add(tuple(sorted(r)))
        out.append(r)
    used = sorted({v for t in out for v in t})
    index = {v: j for j, v in enumerate(used)}
    return Clustering(vertices=np.array(used, np.int64),
                      faces=np.array([[index[v] for v in t] for t in out], np.uint32).reshape(-1, 3))


def decimate_mesh(mesh: Mesh, max_triangles: int, camera: Camera | None = None) -> Mesh:
    """``mesh`` with at most ``max_triangles`` triangles (the mesh itself if it fits).

    Raises:
        BudgetError: the mesh cannot be brought under the budget (budget below 2 triangles).
    """
    if mesh.faces is None or mesh.triangle_count <= max_triangles:
        return mesh
    if max_triangles < 2:
        raise BudgetError(f"mesh {mesh.name!r} would have to fit in {max_triangles} triangles",
                          hint="raise the triangle budget or drop effects")
    keys = cluster_keys(mesh, camera)
    bins = _depth_bins(mesh, camera)
    lo, hi = 1, max(2, int(math.ceil(math.sqrt(mesh.positions.shape[0]))) * 2)
    best: Clustering | None = None
    while lo <= hi:  # finest grid whose result fits
        mid = (lo + hi) // 2
        c = cluster(keys, bins, mesh.faces, mid)
        if c.faces.shape[0] <= max_triangles:
            best, lo = c, mid + 1
        else:
            hi = mid - 1
    if best is None or best.faces.shape[0] == 0:
        raise BudgetError(f"mesh {mesh.name!r} ({mesh.triangle_count:,} triangles) cannot be reduced "
                          f"to {max_triangles:,} triangles", hint="raise the triangle budget")
    v = best.vertices

    def take(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(a[v])
    return Mesh(name=mesh.name, positions=take(mesh.positions), faces=best.faces, uvs=take(mesh.uvs),
                colors=take(mesh.colors), normals=take(mesh.normals), texture=mesh.texture,
                morph_targets=[take(t) for t in mesh.morph_targets], alpha_mode=mesh.alpha_mode,
                unlit=mesh.unlit, double_sided=mesh.double_sided, base_color=mesh.base_color,
                extras=dict(mesh.extras))
