"""Merge a mesh's identical vertices (every attribute equal) before compression.

A layer mesh keeps separate vertices where its quadtree cuts a depth jump (near and far
copies) and where it is cut into strips along silhouettes; many of those copies end up
equal in position, UV and everything else (Hunters in the Snow: 266k layer vertices, 180k
distinct). Drawing one vertex instead of two identical ones changes no pixel, and every
stored vertex costs meshopt bytes (positions, UVs) and the GPU a vertex-shader run.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..scene import Mesh


def _columns(mesh: Mesh) -> list[np.ndarray]:
    """Every per-vertex array as (N, k) 32-bit words (bit patterns: -0.0 and 0.0 stay apart,
    so merged vertices are bit-identical)."""
    arrays = [mesh.positions, mesh.uvs, mesh.colors, mesh.normals, *mesh.morph_targets]
    arrays += [np.asarray(v) for _, v in sorted(mesh.extras.get("attributes", {}).items())]
    n = mesh.positions.shape[0]
    out = []
    for a in arrays:
        if a is None:
            continue
        a = np.ascontiguousarray(np.asarray(a, np.float32).reshape(n, -1))
        out.append(a.view(np.uint32))
    return out


def weld_map(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """(kept, new_of_old): indices of the vertices kept (each distinct vertex's first
    occurrence, in their original order) and, for every old vertex, its index among them."""
    n = mesh.positions.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = np.concatenate(_columns(mesh), axis=1)
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # distinct vertices by first occurrence
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order], rank[inverse.ravel()]


def weld_map_reference(mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weld_map` with a dict over each vertex's tuple of words, for tests."""
    cols = _columns(mesh)
    seen: dict[tuple[int, ...], int] = {}
    kept, new = [], []
    for i in range(mesh.positions.shape[0]):
        key = tuple(int(w) for c in cols for w in c[i])
        if key not in seen:
            seen[key] = len(kept)
            kept.append(i)
        new.append(seen[key])
    return np.array(kept, np.int64), np.array(new, np.int64)


def weld_identical(mesh: Mesh) -> Mesh:
    """``mesh`` with identical vertices merged and the triangles that merging leaves without
    area (two corners one vertex) dropped; the mesh itself when no two vertices are equal or
    it has no triangles (points stay points)."""
    if mesh.faces is None or not mesh.faces.size:
        return mesh
    kept, new_of_old = weld_map(mesh)
    if kept.size == mesh.positions.shape[0]:
        return mesh
    f = new_of_old[mesh.faces.astype(np.int64)]
    f = f[(f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2])]

    def take(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(np.asarray(a)[kept])
    extras = dict(mesh.extras)
    if "attributes" in extras:
        extras["attributes"] = {k: take(np.asarray(v)) for k, v in extras["attributes"].items()}
    return replace(mesh, positions=take(mesh.positions), faces=f.astype(np.uint32), uvs=take(mesh.uvs),
                   colors=take(mesh.colors), normals=take(mesh.normals),
                   morph_targets=[take(t) for t in mesh.morph_targets], extras=extras)
