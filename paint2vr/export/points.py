"""Layer point clouds for the points/splat profiles and PLY: sampling and subsampling.

A layer's points are ``Layer.points`` when the lift stage filled them, otherwise the
vertices of the layer's mesh with colours read from its texture at their UVs. Colours are
linear RGBA (glTF COLOR_0); points on transparent texels (alpha < 128) are dropped.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..scene import Layer, Mesh
from ..color import srgb_to_linear


def sample_texture(texture: np.ndarray, uvs: np.ndarray) -> np.ndarray:
    """Nearest texel of ``texture`` (h, w, 3|4 uint8) at ``uvs`` (N, 2) -> (N, 4) uint8 RGBA."""
    h, w = texture.shape[:2]
    x = np.clip(np.floor(uvs[:, 0].astype(np.float64) * w), 0, w - 1).astype(np.intp)
    y = np.clip(np.floor(uvs[:, 1].astype(np.float64) * h), 0, h - 1).astype(np.intp)
    texels = texture[y, x]
    if texels.shape[1] == 3:
        texels = np.concatenate([texels, np.full((len(texels), 1), 255, np.uint8)], axis=1)
    return texels


def mesh_vertex_points(mesh: Mesh, name: str | None = None) -> Mesh:
    """The vertices of ``mesh`` as a POINTS mesh with linear RGBA colours (morph targets kept)."""
    n = mesh.positions.shape[0]
    keep = np.ones(n, bool)
    if mesh.texture is not None and mesh.uvs is not None:
        rgba = sample_texture(mesh.texture, mesh.uvs).astype(np.float32) / 255.0
        colors = np.concatenate([srgb_to_linear(rgba[:, :3]), rgba[:, 3:]], axis=1)
        if mesh.alpha_mode != "OPAQUE":
            keep = rgba[:, 3] >= 0.5
    elif mesh.colors is not None:
        colors = mesh.colors.copy()
    else:
        colors = np.tile(np.asarray(mesh.base_color, np.float32), (n, 1))
    factor = np.asarray(mesh.base_color, np.float32)
    colors = np.ascontiguousarray((colors * factor)[keep], dtype=np.float32)
    return Mesh(name=name or mesh.name, positions=np.ascontiguousarray(mesh.positions[keep]),
                colors=colors, morph_targets=[np.ascontiguousarray(t[keep]) for t in mesh.morph_targets],
                alpha_mode="OPAQUE", unlit=True, double_sided=mesh.double_sided)


def layer_points(layer: Layer) -> Mesh | None:
    """The point cloud of one layer (see the module docstring), or None if it has no geometry.

    ``Layer.points`` is used unless the layer mesh has morph targets, which only the mesh's
    own vertices can carry over (animations may drive them).
    """
    mesh = layer.node.mesh
    pts = layer.points
    if pts is not None and (mesh is None or not mesh.morph_targets):
        if not pts.is_points:
            raise InputError(f"layer {layer.name!r}: Layer.points must be a POINTS mesh (faces=None)",
                             hint="the lift stage should store the point cloud without faces")
        if pts.colors is None:
            return mesh_vertex_points(pts, name=f"{layer.name}_points")
        return Mesh(name=f"{layer.name}_points", positions=pts.positions, colors=pts.colors,
                    alpha_mode="OPAQUE", unlit=True)
    if mesh is None:
        return None
    return mesh_vertex_points(mesh, name=f"{layer.name}_points")


def subsample_indices(n: int, k: int) -> np.ndarray:
    """``k`` of ``n`` indices, evenly spread and in order: deterministic, no RNG needed."""
    if k >= n:
        return np.arange(n)
    if k <= 0:
        return np.zeros(0, np.intp)
    return (np.arange(k, dtype=np.int64) * n // k).astype(np.intp)


def subsample_points(points: Mesh, k: int) -> Mesh:
    """At most ``k`` points of a POINTS mesh, evenly spread (keeps attributes and targets)."""
    n = points.positions.shape[0]
    if k >= n:
        return points
    idx = subsample_indices(n, k)

    def take(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(a[idx])
    return Mesh(name=points.name, positions=take(points.positions), colors=take(points.colors),
                normals=take(points.normals), uvs=take(points.uvs),
                morph_targets=[take(t) for t in points.morph_targets], alpha_mode=points.alpha_mode,
                unlit=points.unlit, double_sided=points.double_sided, base_color=points.base_color,
                extras=dict(points.extras))


def allocate(counts: list[int], budget: int) -> list[int]:
    """Split ``budget`` over items proportionally to ``counts`` (never more than an item has)."""
    total = sum(counts)
    if total <= budget:
        return list(counts)
    return [min(c, c * budget // total) for c in counts]
