"""Small synthetic lifted scenes for the effects tests (no lift stage needed)."""

from __future__ import annotations

import numpy as np
import pytest

from paint2vr.painting import PaintingInfo
from paint2vr.scene import Layer, Mesh, Node, Scene, camera_for_image


def grid_faces(rows: int, cols: int) -> np.ndarray:
    idx = np.arange(rows * cols).reshape(rows, cols)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    return np.concatenate([np.stack([a, c, b], -1).reshape(-1, 3),
                           np.stack([b, c, d], -1).reshape(-1, 3)]).astype(np.uint32)


def card(name: str, x: tuple[float, float], y: tuple[float, float], z: float, tex: np.ndarray,
         n: int = 12) -> Mesh:
    """A vertical textured grid facing the viewer."""
    gx, gy = np.meshgrid(np.linspace(*x, n), np.linspace(y[1], y[0], n))
    pos = np.stack([gx, gy, np.full_like(gx, z)], -1).reshape(-1, 3).astype(np.float32)
    uv = np.stack(np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n)), -1).reshape(-1, 2).astype(np.float32)
    return Mesh(name, pos, grid_faces(n, n), uvs=uv, texture=tex)


def make_scene(hill: float = 0.0, tree: bool = True, sky: bool = True, width: int = 160, height: int = 120) -> Scene:
    """A ground plane (with an optional hill bump), a tree card at 20 m, a house card, a sky card."""
    rng = np.random.default_rng(7)
    cam = camera_for_image(width, height)
    # Ground: a grid over x in [-40, 40], z in [-60, 2], y = hill bump.
    gx, gz = np.meshgrid(np.linspace(-40, 40, 41), np.linspace(-60, 2, 32))
    gy = hill * np.exp(-((gx - 6) ** 2 + (gz + 25) ** 2) / 60.0)
    pos = np.stack([gx, gy, gz], -1).reshape(-1, 3).astype(np.float32)
    uv = np.stack(np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 32)), -1).reshape(-1, 2).astype(np.float32)
    ground_tex = np.clip(rng.normal(200, 4, (32, 32, 3)), 0, 255).astype(np.uint8)  # pale, smooth
    layers = [Layer("layer0", Node("layer0", Mesh("ground", pos, grid_faces(32, 41), uvs=uv, texture=ground_tex)),
                    (1.0, 60.0))]
    if tree:
        tex = np.zeros((32, 32, 3), np.uint8)
        tex[..., 1] = rng.integers(60, 160, (32, 32))
        tex[..., 0] = tex[..., 1] // 3
        tex[..., 2] = tex[..., 1] // 4
        tex[24:, 12:20] = (90, 60, 40)  # trunk
        layers.append(Layer("layer1", Node("layer1", card("tree", (-4, 4), (0, 9), -20.0, tex)), (20.0, 20.0)))
        house = np.full((16, 16, 3), 150, np.uint8)
        layers.append(Layer("layer2", Node("layer2", card("house", (6, 10), (0, 4), -14.0, house, 4)), (14.0, 14.0)))
    if sky:
        skytex = np.full((8, 8, 3), (150, 190, 235), np.uint8)
        layers.append(Layer("sky", Node("sky", card("sky", (-250, 250), (-150, 200), -200.0, skytex, 2)),
                            (200.0, 200.0), kind="sky"))
    return Scene(info=PaintingInfo(id="synthetic"), camera=cam, layers=layers)


@pytest.fixture
def scene() -> Scene:
    return make_scene()
