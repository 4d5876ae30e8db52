"""The layered point cloud as a binary PLY file.

Coordinates are paint2vr's world frame (glTF's): right-handed, Y up, metres, the painter's
eye at the start camera's position looking down -Z; layer node transforms are applied.
Vertex properties: ``x y z`` (float32), ``red green blue alpha`` (uint8 sRGB, as PLY readers
expect), ``layer`` (uint8 index into the ``comment layers`` header lines). The provenance
record is JSON cut into short ``comment paint2vr_record i/n ...`` lines (:mod:`paint2vr.io.ply`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ExportError
from ..scene import Node, Scene
from ..color import linear_to_srgb
from ..io.ply import encode_ply
from .points import layer_points


def _node_matrix(node: Node) -> np.ndarray:
    x, y, z, w = node.rotation
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    m = np.eye(4)
    m[:3, :3] = r * np.asarray(node.scale)[None, :]
    m[:3, 3] = node.translation
    return m


def scene_point_arrays(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """World positions (N, 3) float32, sRGBA (N, 4) uint8, layer ids (N,) uint8, layer names."""
    if len(scene.layers) > 255:
        raise ExportError(f"PLY output holds at most 255 layers, the scene has {len(scene.layers)}")
    pos, col, ids, names = [], [], [], []
    for layer in scene.layers:
        pts = layer_points(layer)
        if pts is None or pts.positions.shape[0] == 0:
            continue
        m = _node_matrix(layer.node)
        p = pts.positions.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
        c = pts.colors if pts.colors is not None else np.ones((len(p), 4), np.float32)
        srgb = np.concatenate([linear_to_srgb(c[:, :3]), np.clip(c[:, 3:], 0, 1)], axis=1)
        pos.append(p.astype(np.float32))
        col.append(np.round(srgb * 255.0).astype(np.uint8))
        ids.append(np.full(len(p), len(names), np.uint8))
        names.append(layer.name)
    if not pos:
        return np.zeros((0, 3), np.float32), np.zeros((0, 4), np.uint8), np.zeros(0, np.uint8), []
    return np.concatenate(pos), np.concatenate(col), np.concatenate(ids), names


def ply_bytes(scene: Scene, record: dict[str, Any] | None = None) -> bytes:
    """The scene's layered point cloud as binary little-endian PLY bytes (:mod:`paint2vr.io.ply`)."""
    pos, col, ids, names = scene_point_arrays(scene)
    return encode_ply(pos, col, layer_ids=ids, layer_names=names, record=record)
