"""The sky backdrop: a large box around the eye whose front face carries the painted sky.

The front face is the plane z = -R, on which the start camera's projection is affine, so the
painted sky maps onto it exactly; the face's grid lines pass through the texture's edges.
Every other direction takes the colour of the nearest texture edge (clamped projection), so
turning the head or looking up shows the sky continuing instead of empty space.
"""

from __future__ import annotations

import numpy as np

from ..scene import Camera


def _lines(lo: float, hi: float, a: float, b: float, n_in: int, n_out: int) -> np.ndarray:
    """Grid coordinates on [lo, hi] with extra lines at the texture edges a < b inside it."""
    a, b = max(lo, min(a, hi)), max(lo, min(b, hi))
    parts = [np.linspace(lo, a, n_out + 1), np.linspace(a, b, n_in + 1), np.linspace(b, hi, n_out + 1)]
    return np.unique(np.concatenate(parts))


def sky_box(camera: Camera, rect: tuple[float, float, float, float], radius: float,
            n: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions (N, 3) float32, faces (M, 3) uint32, uvs (N, 2) float32) of the sky box.

    ``rect`` = (u0, v0, u1, v1) is the texture's extent in the camera's pixel coordinates.
    """
    u0, v0, u1, v1 = rect
    f, cx, cy = camera.focal, camera.width / 2.0, camera.height / 2.0
    R = float(radius)
    # Front face in camera-relative coordinates (x right, y up, z = -R).
    xs = _lines(-R, R, (u0 - cx) / f * R, (u1 - cx) / f * R, n, 4)
    ys = _lines(-R, R, -(v1 - cy) / f * R, -(v0 - cy) / f * R, n, 4)
    zs = np.linspace(-R, R, n + 1)
    # Every face uses the same lines per axis, so shared box edges have identical vertices
    # (no T-junction cracks).
    def plane(a: np.ndarray, b: np.ndarray, axis: int, value: float) -> np.ndarray:
        ga, gb = np.meshgrid(a, b)
        cols = [ga, gb]
        cols.insert(axis, np.full_like(ga, value))
        return np.stack(cols, -1)
    faces_xyz = [plane(xs, ys, 2, -R), plane(xs, ys, 2, R),      # front, back
                 plane(ys, zs, 0, -R), plane(ys, zs, 0, R),      # left, right (y, z)
                 plane(xs, zs, 1, R), plane(xs, zs, 1, -R)]      # top, bottom (x, z)
    pos, tri = [], []
    base = 0
    for g in faces_xyz:
        ny, nx = g.shape[:2]
        vid = np.arange(ny * nx).reshape(ny, nx) + base
        a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
        tri.append(np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3),
                                   np.stack([a, d, b], -1).reshape(-1, 3)]))
        pos.append(g.reshape(-1, 3))
        base += ny * nx
    p = np.concatenate(pos)
    faces = np.concatenate(tri).astype(np.uint32)
    # Clamped projection through the start camera; directions behind it go to the edge
    # on their side.
    z = -p[:, 2]
    big = 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        px = np.where(z > 0, p[:, 0] / z * f + cx, np.sign(p[:, 0]) * big + cx)
        py = np.where(z > 0, -p[:, 1] / z * f + cy, -np.sign(p[:, 1]) * big + cy)
    uv = np.stack([np.clip((px - u0) / (u1 - u0), 0, 1), np.clip((py - v0) / (v1 - v0), 0, 1)], -1)
    world = p + np.asarray(camera.position)[None, :]
    return world.astype(np.float32), faces, uv.astype(np.float32)
