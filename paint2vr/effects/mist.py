"""Drifting mist or low cloud: a few soft translucent sheets draped over the land."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..scene import Clip, Effect, Mesh, Node, Scene, Track
from .core import rgba
from .particles import wind_xz
from .space import scene_space
from .timeline import close_loop, loop_times


@dataclass(frozen=True)
class MistOptions:
    """Options of the mist effect."""

    density: float = opt(1.0, ge=0.01, le=10.0)
    """Opacity relative to the default; 2 makes the mist twice as thick (capped at opaque)."""
    opacity: float = opt(0.35, ge=0.0, le=1.0)
    """Peak opacity of one sheet in [0, 1], before ``density``."""
    height: float = opt(1.2, ge=0.0, le=500.0)
    """Height of the lowest sheet above the land, in metres."""
    spacing: float = opt(1.5, ge=0.0, le=100.0)
    """Vertical gap between sheets, in metres (raise both for low cloud)."""
    layers: int = opt(3, ge=1, le=16)
    """Number of sheets (one draw call each)."""
    color: tuple[float, float, float] = opt((0.9, 0.92, 0.95), each=(0.0, 1.0))
    """Mist colour, sRGB components in [0, 1]."""
    drift: float = opt(3.0, ge=0.0, le=100.0)
    """How far (metres) the sheets drift back and forth with the wind over a loop."""
    wind_direction_deg: float = opt(0.0, ge=-360.0, le=360.0)
    """Direction of the drift: 0 = right, 90 = away from the viewer, 180 = left."""
    patchiness: float = opt(0.7, ge=0.0, le=1.0)
    """How broken up the mist is, in [0, 1] (0 = even haze)."""
    resolution: int = opt(48, ge=4, le=256)
    """Vertices along each side of a sheet."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_MIST = MistOptions()


def _value_noise(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Smooth (n, n) noise in [0, 1]: bilinear upsampling of a (cells+1)^2 random lattice."""
    lat = rng.random((cells + 1, cells + 1))
    s = np.linspace(0, cells, n)
    i = np.minimum(np.floor(s).astype(int), cells - 1)
    f = s - i
    f = f * f * (3 - 2 * f)
    a = lat[i][:, i] * (1 - f)[None, :] + lat[i][:, i + 1] * f[None, :]
    b = lat[i + 1][:, i] * (1 - f)[None, :] + lat[i + 1][:, i + 1] * f[None, :]
    return a * (1 - f)[:, None] + b * f[:, None]


BACK_MIN = 3.0
"""Metres the sheets reach behind the start pose when the land does not go on behind it."""


def mist(scene: Scene, options: MistOptions = DEFAULT_MIST, seed: int = 0) -> Effect:
    """Bake drifting mist sheets over ``scene``'s land."""
    check_options(options)
    o = options
    space = scene_space(scene)
    rng = np.random.default_rng(seed)
    px, _, pz = space.camera.position
    far = space.far
    # Over the land: in front out to the far land and, where the world goes on behind the
    # visitor (an extended ground), as far behind and to the sides too.
    back = min(max(space.behind, BACK_MIN), far)
    half = max(float(space.half_width(far)), back)
    n = o.resolution
    gx, gz = np.meshgrid(np.linspace(px - half, px + half, n), np.linspace(pz - far, pz + back, n))
    faces = []
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    faces = np.concatenate([np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)])
    wx, wz = wind_xz(1.0, o.wind_direction_deg)
    t = loop_times(o.loop_seconds, 32).astype(np.float64)
    nodes, tracks = [], []
    # Distance from the viewer: fade in over the first 2 m so nobody stands inside a sheet.
    dist = np.hypot(gx - px, gz - pz)
    edges = [np.abs(gx - (px - half)), np.abs(gx - (px + half)), np.abs(gz - (pz - far))]
    if back > BACK_MIN:
        edges.append(np.abs(gz - (pz + back)))
    edge = np.minimum.reduce(edges)
    fade = np.clip((dist - 1.0) / 4.0, 0, 1) * np.clip(edge / (0.15 * half), 0, 1)
    for k in range(o.layers):
        node = Node(f"mist_{k:02d}")
        phase = rng.uniform(0, 2 * math.pi)
        s = o.drift / 2 * np.sin(2 * math.pi * t / o.loop_seconds + phase)
        path = np.stack([wx * s, np.zeros_like(s), wz * s], -1)
        # Drape: each vertex stays above the land under every point of the sheet's drift.
        hs = space.height.at(gx[..., None] + path[None, None, :, 0], gz[..., None] + path[None, None, :, 2])
        y = hs.max(axis=-1) + o.height + k * o.spacing
        noise = _value_noise(rng, n, 6)
        alpha = o.opacity * o.density * ((1 - o.patchiness) + o.patchiness * noise) * fade
        col = np.array(rgba(o.color))
        colors = np.concatenate([np.broadcast_to(col[:3], (n * n, 3)),
                                 np.clip(alpha, 0, 1).reshape(-1, 1)], 1).astype(np.float32)
        pos = np.stack([gx, y, gz], -1).reshape(-1, 3).astype(np.float32)
        node.mesh = Mesh(node.name, pos, faces.astype(np.uint32), colors=colors, alpha_mode="BLEND")
        nodes.append(node)
        tracks.append(Track(node, "translation", t.astype(np.float32), close_loop(path)))
    return Effect(name="mist", nodes=nodes, clips=[Clip("mist", tracks)], options=options_to_dict(o))
