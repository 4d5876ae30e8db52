"""Layer points -> Gaussian splats (KHR_gaussian_splatting on a POINTS primitive).

Each point becomes a flat, round Gaussian facing the painter's eye: its in-plane standard
deviation is half the distance to its nearest neighbour (so neighbours overlap within the
3-sigma kernel and the layer reads as a closed surface), its thickness a tenth of that.
Two attribute layouts (see docs/export.md):

- ``ratified``: the current specification's ``KHR_gaussian_splatting:SCALE`` (log),
  ``:ROTATION``, ``:OPACITY`` and ``:SH_DEGREE_0_COEF_0``, with ``kernel`` and ``colorSpace``
  in the extension object. The Khronos validator (2.0.0-dev.3.10) predates these names and
  reports them as invalid attribute names.
- ``legacy``: the 2024 draft's ``_SCALE`` (linear) and ``_ROTATION`` with the opacity in
  COLOR_0's alpha; valid glTF that the validator accepts.

Both keep COLOR_0 (linear RGB + opacity), the point-cloud fallback the extension defines.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import InputError
from ..scene import Mesh, Node
from ..color import linear_to_srgb

EXTENSION = "KHR_gaussian_splatting"
SH_C0 = 0.28209479177387814
"""Degree-0 real spherical harmonic, 1 / (2 sqrt(pi))."""
SplatAttributes = Literal["legacy", "ratified"]


def nearest_neighbour_distance(positions: np.ndarray) -> np.ndarray:
    """(N, 3) -> (N,) distance of each point to its nearest other point (duplicates ignored)."""
    from scipy.spatial import cKDTree

    n = positions.shape[0]
    if n < 2:
        return np.full(n, 0.01, np.float64)
    uniq, inverse = np.unique(positions.astype(np.float64), axis=0, return_inverse=True)
    if uniq.shape[0] < 2:
        return np.full(n, 0.01, np.float64)
    d, _ = cKDTree(uniq).query(uniq, k=2)
    return d[:, 1][inverse.reshape(-1)]


def facing_quaternions(directions: np.ndarray) -> np.ndarray:
    """Unit (x, y, z, w) quaternions turning local -Z onto each unit direction (N, 3)."""
    v = directions / np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)
    # q = (a x v, 1 + a.v) normalised, with a = (0, 0, -1)
    q = np.stack([v[:, 1], -v[:, 0], np.zeros(len(v)), 1.0 - v[:, 2]], axis=1)
    flip = q[:, 3] < 1e-9  # v == +Z: half turn about X
    q[flip] = (1.0, 0.0, 0.0, 0.0)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    u = np.array([x, y, z])
    return 2 * np.dot(u, v) * u + (w * w - np.dot(u, u)) * v + 2 * w * np.cross(u, v)


def eye_in_node_space(eye: tuple[float, float, float], node: Node) -> np.ndarray:
    """The world-space eye position in ``node``'s local frame (its TRS inverted)."""
    p = np.asarray(eye, np.float64) - np.asarray(node.translation, np.float64)
    x, y, z, w = node.rotation
    p = _quat_rotate(np.array([-x, -y, -z, w], np.float64), p)
    return p / np.asarray(node.scale, np.float64)


def splat_mesh(points: Mesh, eye: np.ndarray, attributes: SplatAttributes = "legacy") -> Mesh:
    """A POINTS mesh with linear RGBA colours -> the same points carrying splat attributes.

    ``eye`` is the viewer's position in the points' frame (see :func:`eye_in_node_space`).
    """
    if not points.is_points or points.colors is None:
        raise InputError(f"splat_mesh needs a POINTS mesh with colours, got {points.name!r} "
                         f"({'triangles' if not points.is_points else 'no colours'})")
    if attributes not in ("legacy", "ratified"):
        raise InputError(f"splat attributes must be 'legacy' or 'ratified', got {attributes!r}")
    pos = points.positions
    sigma = 0.5 * nearest_neighbour_distance(pos)
    if sigma.size:
        sigma = np.where(sigma > 0, sigma, max(float(np.median(sigma)), 1e-4))
    scale = np.stack([sigma, sigma, 0.1 * sigma], axis=1)
    rot = facing_quaternions(pos.astype(np.float64) - np.asarray(eye, np.float64)[None, :])
    colors = np.clip(points.colors, 0.0, 1.0).astype(np.float32)
    opacity = colors[:, 3].copy()
    if attributes == "ratified":
        sh0 = (linear_to_srgb(colors[:, :3]) - 0.5) / SH_C0
        attrs = {f"{EXTENSION}:SCALE": np.log(scale).astype(np.float32),
                 f"{EXTENSION}:ROTATION": rot,
                 f"{EXTENSION}:OPACITY": opacity.astype(np.float32),
                 f"{EXTENSION}:SH_DEGREE_0_COEF_0": sh0.astype(np.float32)}
        ext = {"kernel": "ellipse", "colorSpace": "srgb_rec709_display",
               "projection": "perspective", "sortingMethod": "cameraDistance"}
    else:
        attrs = {"_SCALE": scale.astype(np.float32), "_ROTATION": rot}
        ext = {"kernel": "ellipse", "colorSpace": "srgb_rec709_display"}
    return Mesh(name=points.name, positions=pos, colors=colors, morph_targets=list(points.morph_targets),
                alpha_mode="BLEND", unlit=True, double_sided=True,
                extras={"attributes": attrs, "primitive_extensions": {EXTENSION: ext}})
