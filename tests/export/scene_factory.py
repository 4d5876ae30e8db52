"""A small hand-built scene (no lifting involved) for exporter tests."""

from __future__ import annotations

import numpy as np

from paint2vr.painting import PaintingInfo
from paint2vr.scene import Clip, Effect, Layer, Mesh, Node, Scene, Track, camera_for_image


def quad(name: str, z: float, size: float, texture: np.ndarray | None, alpha: bool = False) -> Mesh:
    h = size / 2
    pos = np.array([[-h, 1.6 - h, -z], [h, 1.6 - h, -z], [h, 1.6 + h, -z], [-h, 1.6 + h, -z]], np.float32)
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    faces = np.array([[0, 1, 2], [0, 2, 3]], np.uint32)
    return Mesh(name=name, positions=pos, faces=faces, uvs=uv, texture=texture,
                alpha_mode="MASK" if alpha else "OPAQUE")


def small_scene(with_effect: bool = True) -> Scene:
    rng = np.random.default_rng(0)
    tex = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    rgba = np.dstack([tex, np.where(np.arange(16)[None, :] < 8, 255, 0).repeat(16, 0).astype(np.uint8)])
    cam = camera_for_image(64, 48)
    info = PaintingInfo(id="p1", title="Test", artist="Nobody", license="CC0", attribution="Nobody, Test, CC0")
    scene = Scene(info=info, camera=cam)
    scene.layers.append(Layer("layer0", Node("layer0", quad("layer0", 3.0, 2.0, rgba, alpha=True)), (2.5, 3.5)))
    scene.layers.append(Layer("sky", Node("sky", quad("sky", 100.0, 200.0, tex)), (100, 100), kind="sky"))
    scene.provenance.update({"sha256": "ab" * 32, "seed": 7})
    if with_effect:
        base = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], np.float32)
        bird = Mesh(name="bird", positions=base, faces=np.array([[0, 1, 2]], np.uint32),
                    morph_targets=[np.array([[0, 0, 0], [0, 0.05, 0], [0, 0, 0]], np.float32)], unlit=True)
        node = Node("bird0", mesh=bird, translation=(0, 5, -10), weights=[0.0])
        times = np.linspace(0, 2, 5, dtype=np.float32)
        t = Track(node, "translation", times, np.stack([times, np.full(5, 5), np.full(5, -10)], 1).astype(np.float32))
        w = Track(node, "weights", times, np.array([[0], [1], [0], [1], [0]], np.float32))
        scene.effects.append(Effect("birds", nodes=[node], clips=[Clip("birds", [t, w])]))
    return scene


def grid_mesh(name: str, nx: int, ny: int, z: float, texture: np.ndarray) -> Mesh:
    """A textured nx x ny vertex grid (2 (nx-1)(ny-1) triangles) facing the camera at depth ~z,
    with a gentle depth ripple so that it is not flat."""
    u, v = np.meshgrid(np.linspace(0, 1, nx, dtype=np.float32), np.linspace(0, 1, ny, dtype=np.float32))
    depth = z * (1.0 + 0.05 * np.sin(u * 6.0) * np.cos(v * 4.0))
    pos = np.stack([(u - 0.5) * depth, 1.6 - (v - 0.5) * depth * 0.75, -depth], -1).reshape(-1, 3)
    idx = np.arange(nx * ny, dtype=np.uint32).reshape(ny, nx)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    faces = np.concatenate([np.stack([a, d, c], -1).reshape(-1, 3), np.stack([a, c, b], -1).reshape(-1, 3)])
    return Mesh(name=name, positions=np.ascontiguousarray(pos, np.float32), faces=faces,
                uvs=np.stack([u, v], -1).reshape(-1, 2).astype(np.float32), texture=texture)


def grid_scene(nx: int = 120, ny: int = 90, tex_size: tuple[int, int] = (96, 64)) -> Scene:
    """Two grid layers (the near one with a transparent hole) and a sky quad: a scene
    with enough triangles and vertices to exercise decimation and point sampling."""
    rng = np.random.default_rng(1)
    h, w = tex_size[1], tex_size[0]
    far_tex = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    near_tex = np.dstack([rng.integers(0, 255, (h, w, 3), dtype=np.uint8), np.full((h, w), 255, np.uint8)])
    near_tex[h // 3: 2 * h // 3, w // 3: 2 * w // 3, 3] = 0
    scene = Scene(info=PaintingInfo(id="grid", title="Grid", artist="Test", license="CC0"),
                  camera=camera_for_image(w, h))
    near = grid_mesh("layer0", nx, ny, 4.0, near_tex)
    near.alpha_mode = "MASK"
    scene.layers.append(Layer("layer0", Node("layer0", near), (3.8, 4.2)))
    scene.layers.append(Layer("layer1", Node("layer1", grid_mesh("layer1", nx, ny, 20.0, far_tex)), (19, 21)))
    sky_tex = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
    scene.layers.append(Layer("sky", Node("sky", quad("sky", 300.0, 600.0, sky_tex)), (300, 300), kind="sky"))
    scene.provenance.update({"sha256": "cd" * 32, "seed": 3,
                             "depth_model": {"name": "prior", "revision": "1", "license": "Apache-2.0",
                                             "commercial": True}})
    return scene


PLAIN = {"texture_format": "png-jpeg", "geometry_compression": "none"}
"""ExportOptions fields for uncompressed output (JPEG/PNG, plain buffers): for tests that read
back texels or accessor bytes with tools that know no KTX2 or meshopt (trimesh, raw reads)."""
