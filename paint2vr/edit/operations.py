"""Designer edits between stages: repaint depth, mark sky or foreground, drop/move/merge layers.

Each function returns a new object (depth maps) or edits the scene in place and returns it
(scenes), so edits chain: ``drop_layer(move_layer(scene, 'layer0', (0, 0, -1)), 'layer2')``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..depth.base import DepthMap
from ..errors import InputError
from ..scene import Layer, Mesh, Node, Scene


def load_mask(path: str | os.PathLike[str], shape: tuple[int, int]) -> np.ndarray:
    """A mask image (white or opaque = True) as a (H, W) bool array resized to ``shape``.

    Accepts any image Pillow reads; an alpha channel, when present, is the mask.
    """
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    try:
        with Image.open(p) as img:
            img.load()
            if "A" in img.getbands():
                band = img.getchannel("A")
            else:
                band = img.convert("L")
    except FileNotFoundError:
        raise InputError(f"{p}: no such mask file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{p}: not a readable mask image ({exc})") from None
    h, w = shape
    if band.size != (w, h):
        band = band.resize((w, h), Image.Resampling.NEAREST)
    return np.asarray(band) >= 128


def _check_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise InputError(f"mask shape {m.shape} does not match the depth map's {tuple(shape)}")
    return m.astype(bool)


def replace_depth(depth: DepthMap, new_depth: np.ndarray, *, metric: bool | None = None) -> DepthMap:
    """The same map with its depth replaced by ``new_depth`` ((H, W) metres, > 0)."""
    arr = np.asarray(new_depth, dtype=np.float32)
    if arr.shape != depth.shape:
        raise InputError(f"new depth has shape {arr.shape}, expected {depth.shape}")
    return dataclasses.replace(depth, depth=np.ascontiguousarray(arr),
                               metric=depth.metric if metric is None else metric)


def paint_depth(depth: DepthMap, mask: np.ndarray, value: float | np.ndarray) -> DepthMap:
    """Set the depth under ``mask`` to ``value`` metres (a number or an (H, W) array)."""
    m = _check_mask(mask, depth.shape)
    d = depth.depth.copy()
    v = np.broadcast_to(np.asarray(value, dtype=np.float32), d.shape)
    if not np.all(np.isfinite(v[m])) or np.any(v[m] <= 0):
        raise InputError("painted depth must be finite and > 0 metres")
    d[m] = v[m]
    return dataclasses.replace(depth, depth=d, sky=depth.sky & ~m)


def mark_sky(depth: DepthMap, mask: np.ndarray, sky: bool = True) -> DepthMap:
    """Mark pixels under ``mask`` as sky (``sky=True``) or as not sky.

    Newly marked sky pixels take the map's farthest depth; pixels taken out of the sky take
    the depth of the nearest non-sky row above the ground (the farthest land depth).
    """
    m = _check_mask(mask, depth.shape)
    new_sky = (depth.sky | m) if sky else (depth.sky & ~m)
    d = depth.depth.copy()
    land = ~new_sky
    far_land = float(d[land & ~depth.sky].max()) if (land & ~depth.sky).any() else float(d.max())
    if sky:
        d[m] = float(d.max())
    else:
        d[m & depth.sky] = far_land
    return dataclasses.replace(depth, depth=d, sky=new_sky)


def mark_foreground(depth: DepthMap, mask: np.ndarray, distance: float | None = None) -> DepthMap:
    """Bring the region under ``mask`` forward, to ``distance`` metres (default: its nearest depth)."""
    m = _check_mask(mask, depth.shape)
    if not m.any():
        return depth
    value = float(depth.depth[m].min()) if distance is None else float(distance)
    return paint_depth(depth, m, value)


# -- scene edits ------------------------------------------------------------------------

def drop_layer(scene: Scene, name: str) -> Scene:
    """Remove the layer called ``name``."""
    layer = scene.layer(name)
    scene.layers.remove(layer)
    return scene


def move_layer(scene: Scene, name: str, offset: tuple[float, float, float]) -> Scene:
    """Translate a layer by ``offset`` metres (x right, y up, z towards the viewer)."""
    if len(offset) != 3 or not all(np.isfinite(offset)):
        raise InputError(f"offset must be three finite numbers, got {offset!r}")
    node = scene.layer(name).node
    node.translation = tuple(float(a + b) for a, b in zip(node.translation, offset))  # type: ignore[assignment]
    return scene


def _merge_meshes(name: str, meshes: list[Mesh]) -> Mesh:
    """One mesh (one draw call) from several textured triangle meshes: their textures are
    stacked into one atlas, top to bottom, and each mesh's UVs are remapped into its band."""
    if any(m.texture is None or m.uvs is None or m.faces is None for m in meshes):
        raise InputError("only textured triangle layers can be merged")
    texs = [m.texture if m.texture.shape[2] == 4 else
            np.dstack([m.texture, np.full(m.texture.shape[:2], 255, np.uint8)]) for m in meshes]
    width = max(t.shape[1] for t in texs)
    height = sum(t.shape[0] for t in texs)
    atlas = np.zeros((height, width, 4), np.uint8)
    uvs, y = [], 0
    for t, m in zip(texs, meshes):
        h, w = t.shape[:2]
        atlas[y:y + h, :w] = t
        # Texel centres stay texel centres: u in [0, 1] of w texels -> [0, w / width] of the atlas.
        uvs.append(np.stack([m.uvs[:, 0] * (w / width), (m.uvs[:, 1] * h + y) / height], 1).astype(np.float32))
        y += h
    offsets = np.cumsum([0] + [m.positions.shape[0] for m in meshes[:-1]])
    return Mesh(name=name,
                positions=np.concatenate([m.positions for m in meshes]),
                faces=np.concatenate([m.faces + np.uint32(o) for m, o in zip(meshes, offsets)]),
                uvs=np.concatenate(uvs), texture=atlas, alpha_mode="MASK", unlit=meshes[0].unlit)


def merge_layers(scene: Scene, names: list[str], new_name: str | None = None) -> Scene:
    """Merge several layers into one (one mesh, one draw call), in the place of the nearest."""
    if len(names) < 2:
        raise InputError(f"merge needs at least two layers, got {names!r}")
    layers = [scene.layer(n) for n in names]
    if any(l.kind != "layer" for l in layers):
        raise InputError("the sky backdrop and the ground around the visitor cannot be merged with depth layers")
    if any(l.node.translation != (0.0, 0.0, 0.0) or l.node.children for l in layers):
        raise InputError("moved layers or layers with child nodes cannot be merged")
    layers.sort(key=lambda l: scene.layers.index(l))
    name = new_name or layers[0].name
    mesh = _merge_meshes(name, [l.node.mesh for l in layers])  # type: ignore[misc]
    merged = Layer(name=name, node=Node(name, mesh=mesh),
                   depth_range=(min(l.depth_range[0] for l in layers), max(l.depth_range[1] for l in layers)))
    at = scene.layers.index(layers[0])
    for l in layers:
        scene.layers.remove(l)
    scene.layers.insert(at, merged)
    return scene
