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
