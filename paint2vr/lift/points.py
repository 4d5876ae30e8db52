"""Layered point clouds (open3d): one coloured, oriented, cleaned cloud per layer, and PLY output
(the one PLY layout, :mod:`paint2vr.io.ply`).

This is the only module that imports open3d, and only inside its functions.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..color import linear_to_srgb, srgb_to_linear
from ..errors import ExportError, InputError
from ..io.atomic import write_atomic
from ..io.ply import encode_ply
from ..scene import Layer, Mesh, Scene

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PointsOptions:
    """Options of :func:`layer_points` and :func:`add_layer_points`."""

    voxel: float = 0.01
    """Voxel size for downsampling, as a fraction of each point's depth bucket (relative:
    near points are kept denser than far ones); 0 keeps every sample."""
    max_points: int = 400_000
    """Most points per layer (texels are subsampled on a regular grid to fit before cleaning)."""
    outlier_neighbours: int = 16
    """Neighbours considered by the statistical outlier removal; 0 turns it off."""
    outlier_std: float = 2.5
    """Points farther than this many standard deviations from their neighbours are removed."""


DEFAULT_POINTS_OPTIONS = PointsOptions()


def _samples(mesh: Mesh, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Points on the mesh's opaque texels: (positions (N, 3), sRGB colours (N, 3) in [0, 1]).

    Each triangle is sampled at a regular barycentric lattice sized to its texel footprint
    (capped by ``max_points`` over the mesh), keeping samples whose texel is opaque.
    """
    if mesh.faces is None or mesh.uvs is None or mesh.texture is None or len(mesh.faces) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    tex = mesh.texture
    h, w = tex.shape[:2]
    f = mesh.faces.astype(np.int64)
    uv = mesh.uvs[f].astype(np.float64)
    area = 0.5 * np.abs((uv[:, 1, 0] - uv[:, 0, 0]) * (uv[:, 2, 1] - uv[:, 0, 1])
                        - (uv[:, 2, 0] - uv[:, 0, 0]) * (uv[:, 1, 1] - uv[:, 0, 1])) * w * h
    density = min(1.0, max_points / max(area.sum(), 1.0))
    n = int(np.clip(np.round(np.sqrt(area.mean() * density * 2)), 1, 8))
    # Barycentric lattice points strictly inside the triangle (shared by all faces).
    i, j = np.meshgrid(np.arange(n), np.arange(n))
    keep = i + j < n
    b1 = (i[keep] + 1 / 3) / n
    b2 = (j[keep] + 1 / 3) / n
    b = np.stack([1 - b1 - b2, b1, b2], 1)
    p = np.einsum("sk,fkc->fsc", b, mesh.positions[f].astype(np.float64)).reshape(-1, 3)
    t = np.einsum("sk,fkc->fsc", b, uv).reshape(-1, 2)
    x = np.clip((t[:, 0] * w).astype(np.int64), 0, w - 1)
    y = np.clip((t[:, 1] * h).astype(np.int64), 0, h - 1)
    texel = tex[y, x]
    opaque = texel[:, 3] >= 128 if tex.shape[2] == 4 else np.ones(len(x), bool)
    p, c = p[opaque], texel[opaque, :3].astype(np.float64) / 255.0
    if len(p) > max_points:
        sel = np.linspace(0, len(p) - 1, max_points).astype(np.int64)
        p, c = p[sel], c[sel]
    return p, c


def layer_points(layer: Layer | Mesh, eye: tuple[float, float, float] = (0.0, 1.6, 0.0),
                 options: PointsOptions = DEFAULT_POINTS_OPTIONS) -> Mesh:
    """A cleaned point cloud of one layer: ``Mesh`` with faces None, linear RGBA colours and
    normals oriented towards ``eye``."""
    import open3d as o3d

    mesh = layer.node.mesh if isinstance(layer, Layer) else layer
    name = (layer.name if isinstance(layer, Layer) else mesh.name) + "_points"
    if mesh is None:
        raise InputError(f"layer {name!r} has no mesh to sample points from")
    pts, col = _samples(mesh, options.max_points)
    if len(pts) == 0:
        return Mesh(name=name, positions=np.zeros((0, 3), np.float32), colors=np.zeros((0, 4), np.float32),
                    normals=np.zeros((0, 3), np.float32))
    pc = o3d.geometry.PointCloud()
    pc.points = o3d.utility.Vector3dVector(pts)
    pc.colors = o3d.utility.Vector3dVector(col)
    if options.voxel > 0:
        dist = np.linalg.norm(pts - np.asarray(eye), axis=1)
        pc = pc.voxel_down_sample(voxel_size=float(options.voxel * np.median(dist)))
    if options.outlier_neighbours > 0 and len(pc.points) > options.outlier_neighbours * 2:
        pc, _ = pc.remove_statistical_outlier(nb_neighbors=options.outlier_neighbours,
                                              std_ratio=options.outlier_std)
    if len(pc.points) >= 3:
        pc.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=12))
        pc.orient_normals_towards_camera_location(np.asarray(eye, dtype=np.float64))
    p = np.asarray(pc.points, dtype=np.float32)
    c = np.asarray(pc.colors, dtype=np.float64)
    rgba = np.concatenate([srgb_to_linear(c), np.ones((len(c), 1))], 1).astype(np.float32)
    normals = np.asarray(pc.normals, dtype=np.float32) if pc.has_normals() else None
    if normals is not None and normals.shape != p.shape:
        normals = None
    # Sort for reproducible order regardless of open3d's internal hashing.
    order = np.lexsort((p[:, 2], p[:, 1], p[:, 0]))
    return Mesh(name=name, positions=np.ascontiguousarray(p[order]), colors=np.ascontiguousarray(rgba[order]),
                normals=None if normals is None else np.ascontiguousarray(normals[order]),
                alpha_mode="OPAQUE", unlit=True)


def add_layer_points(scene: Scene, options: PointsOptions = DEFAULT_POINTS_OPTIONS) -> Scene:
    """Fill ``Layer.points`` of every depth layer (not the sky) in place; returns the scene."""
    for layer in scene.layers:
        if layer.kind == "layer":
            layer.points = layer_points(layer, scene.camera.position, options)
    return scene


def write_ply(scene_or_points: Scene | Mesh, path: str | os.PathLike[str]) -> Path:
    """Write points (a points Mesh, or every layer's points of a Scene) as binary PLY, in the
    one PLY layout of :mod:`paint2vr.io.ply` (with normals when every cloud has them).

    Colours are written as 8-bit sRGB, as PLY readers expect. Returns the path.
    """
    if isinstance(scene_or_points, Scene):
        named = [(l.name, l.points) for l in scene_or_points.layers if l.points is not None]
        if not named:
            raise InputError("the scene has no layer points", hint="call add_layer_points(scene) first")
    elif isinstance(scene_or_points, Mesh):
        named = [(scene_or_points.name, scene_or_points)]
    else:
        raise InputError(f"write_ply expects a Scene or a points Mesh, got {type(scene_or_points).__name__}")
    if len(named) > 255:
        raise ExportError(f"PLY output holds at most 255 layers, the scene has {len(named)}")
    clouds = [c for _, c in named]
    pos = np.concatenate([c.positions for c in clouds]).astype(np.float32)
    rgba = np.concatenate([c.colors if c.colors is not None else np.ones((len(c.positions), 4), np.float32)
                           for c in clouds]).astype(np.float64)
    srgb = np.concatenate([linear_to_srgb(np.clip(rgba[:, :3], 0, 1)), np.clip(rgba[:, 3:4], 0, 1)], axis=1)
    normals = np.concatenate([c.normals for c in clouds]).astype(np.float32) \
        if all(c.normals is not None for c in clouds) else None
    ids = np.concatenate([np.full(len(c.positions), i, np.uint8) for i, c in enumerate(clouds)])
    data = encode_ply(pos, np.round(srgb * 255.0).astype(np.uint8), normals=normals, layer_ids=ids,
                      layer_names=[name for name, _ in named])
    out = Path(path)
    if not out.parent.is_dir():
        raise ExportError(f"cannot write {out}: folder {out.parent} does not exist")
    return write_atomic(out, data)
