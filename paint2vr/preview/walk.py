"""The walk preview's camera: in along the start heading, then a turn to look back, the eye
kept at its height above the scene's walkable ground (the navmesh, when the file has one)."""

from __future__ import annotations

import math

import numpy as np

from ..effects.space import node_matrix, world_meshes
from ..errors import InputError
from ..scene import Node, Scene

NAVMESH_NAME = "paint2vr_navmesh"
"""The walkable ground's node (extras ``paint2vr_role`` "navmesh"), docs/viewer.md."""
WALK_SHARE = 0.55
"""Share of the clip spent walking in; the rest turns round."""


def navmesh_triangles(scene: Scene) -> np.ndarray:
    """(T, 3, 3) world triangles of the scene's walkable ground (none: shape (0, 3, 3))."""
    found: list[np.ndarray] = []

    def visit(node: Node, parent: np.ndarray) -> None:
        if node.name == NAVMESH_NAME or node.extras.get("paint2vr_role") == "navmesh":
            for mesh, world in world_meshes(node, parent):
                found.append(world[mesh.faces.astype(np.int64)])
            return
        m = parent @ node_matrix(node)
        for c in node.children:
            visit(c, m)
    for root in scene.nodes():
        visit(root, np.eye(4))
    return np.concatenate(found) if found else np.zeros((0, 3, 3))


def ground_heights_reference(tri: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Slow obvious version of :func:`ground_heights`: each point against each triangle."""
    out = np.full(len(x), np.nan)
    for i, (px, pz) in enumerate(zip(x, z)):
        for t in tri:
            (ax, ay, az), (bx, by, bz), (cx, cy, cz) = t
            det = (bz - cz) * (ax - cx) + (cx - bx) * (az - cz)
            if abs(det) < 1e-12:
                continue
            l1 = ((bz - cz) * (px - cx) + (cx - bx) * (pz - cz)) / det
            l2 = ((cz - az) * (px - cx) + (ax - cx) * (pz - cz)) / det
            l3 = 1 - l1 - l2
            if min(l1, l2, l3) >= -1e-9:
                y = l1 * ay + l2 * by + l3 * cy
                out[i] = y if np.isnan(out[i]) else max(out[i], y)
    return out


def ground_heights(tri: np.ndarray, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Height of the highest triangle of ``tri`` (T, 3, 3) over each point (x, z); NaN where
    none lies under it."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    det = (b[:, 2] - c[:, 2]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 2] - c[:, 2])
    ok = np.abs(det) >= 1e-12
    a, b, c, det = a[ok], b[ok], c[ok], det[ok]
    dx, dz = x[:, None] - c[None, :, 0], z[:, None] - c[None, :, 2]
    l1 = ((b[:, 2] - c[:, 2]) * dx + (c[:, 0] - b[:, 0]) * dz) / det
    l2 = ((c[:, 2] - a[:, 2]) * dx + (a[:, 0] - c[:, 0]) * dz) / det
    l3 = 1 - l1 - l2
    inside = (l1 >= -1e-9) & (l2 >= -1e-9) & (l3 >= -1e-9)
    y = np.where(inside, l1 * a[:, 1] + l2 * b[:, 1] + l3 * c[:, 1], -np.inf)
    best = y.max(axis=1) if y.shape[1] else np.full(len(x), -np.inf)
    return np.where(np.isfinite(best), best, np.nan)


def _ease(s: np.ndarray) -> np.ndarray:
    """Smoothstep: starts and stops gently."""
    return s * s * (3 - 2 * s)


def walk_poses(scene: Scene, n: int, distance: float) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) eye offsets from the start pose and (n,) yaws (degrees, left) of the walk:
    ``distance`` metres in along the start heading, then a half turn to look back. With a
    navmesh the eye keeps its start height above the ground under it (where the ground
    runs out it keeps the last height found)."""
    if n < 1:
        raise InputError(f"the walk needs at least 1 frame, got {n}")
    if not (math.isfinite(distance) and distance >= 0):
        raise InputError(f"walk distance must be a finite number >= 0, got {distance}")
    walk = max(1, int(round(n * WALK_SHARE)))
    s = np.arange(n, dtype=np.float64)
    go = _ease(np.clip(s / max(walk - 1, 1), 0.0, 1.0))
    turn = _ease(np.clip((s - walk + 1) / max(n - walk, 1), 0.0, 1.0)) if n > walk else np.zeros(n)
    off = np.zeros((n, 3))
    off[:, 2] = -distance * go
    tri = navmesh_triangles(scene)
    if len(tri):
        px, _, pz = scene.camera.position
        g = ground_heights(tri, px + off[:, 0], pz + off[:, 2])
        g0 = ground_heights(tri, np.array([px]), np.array([pz]))[0]
        if np.isfinite(g0):
            # Where no ground lies under a frame (past the navmesh), keep the last height.
            for i in range(n):
                if not np.isfinite(g[i]):
                    g[i] = g[i - 1] if i else g0
            off[:, 1] = g - g0
    return off, 180.0 * turn
