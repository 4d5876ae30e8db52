"""Rain: thin streaks falling fast along the wind, stopping at the lifted surfaces."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..scene import Effect, Scene
from .core import rgba
from .particles import GroupMotion, ParticleSpec, bake_particles, falls_per_loop, quad_mesh, wind_xz
from .space import scene_space


@dataclass(frozen=True)
class RainOptions:
    """Options of the rain effect."""

    density: float = opt(1.0, ge=0.01, le=10.0)
    """Number of drops relative to the default (8000 drops, all round the visitor)."""
    size: float = opt(0.5, ge=0.01, le=5.0)
    """Streak length in metres (streaks far away are drawn larger so they stay visible)."""
    speed: float = opt(7.0, ge=0.5, le=40.0)
    """Falling speed in metres per second."""
    color: tuple[float, float, float] = opt((0.75, 0.8, 0.88), each=(0.0, 1.0))
    """Streak colour, sRGB components in [0, 1]."""
    opacity: float = opt(0.5, ge=0.0, le=1.0)
    """Streak opacity in [0, 1]."""
    wind_speed: float = opt(1.0, ge=0.0, le=30.0)
    """Wind speed in metres per second (tilts the streaks)."""
    wind_direction_deg: float = opt(0.0, ge=-360.0, le=360.0)
    """Direction the wind blows to: 0 = right, 90 = away from the viewer, 180 = left."""
    height: float = opt(12.0, ge=1.0, le=100.0)
    """How high above the ground (metres) the rain fills the air."""
    groups: int = opt(12, ge=1, le=32)
    """Number of drop groups (one draw call each)."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_RAIN = RainOptions()
BASE_COUNT = 8000


def rain(scene: Scene, options: RainOptions = DEFAULT_RAIN, seed: int = 0) -> Effect:
    """Bake falling rain into ``scene``'s space (the scene itself is not changed)."""
    check_options(options)
    o = options
    space = scene_space(scene)
    cycles = falls_per_loop(o.speed, o.loop_seconds, o.height)
    wind = wind_xz(o.wind_speed, o.wind_direction_deg)
    motion = GroupMotion(loop=o.loop_seconds, fall=o.speed * o.loop_seconds / cycles, cycles=cycles,
                         drift=wind, sway=0.0)
    spec = ParticleSpec(name="rain", count=max(o.groups, int(round(BASE_COUNT * o.density))), groups=o.groups,
                        motion=motion, top=o.height, clearance=o.size * 0.65 * (1.0 + space.far / 20.0), near_bias=1.8)
    vel = np.array([wind[0], -o.speed, wind[1]])
    along = vel / np.linalg.norm(vel)
    eye = np.asarray(scene.camera.position)

    def mesh(name: str, centres: np.ndarray, depth: np.ndarray, rng: np.random.Generator):
        scale = (1.0 + depth / 20.0)[:, None]
        to_eye = eye[None] - centres
        side = np.cross(along[None], to_eye)  # face the viewer
        side /= np.maximum(np.linalg.norm(side, axis=1, keepdims=True), 1e-9)
        a = along[None] * (o.size / 2) * scale * rng.uniform(0.7, 1.3, (len(centres), 1))
        b = side * 0.004 * scale
        return quad_mesh(name, centres, a, b, base_color=rgba(o.color, o.opacity), alpha_mode="BLEND")
    eff = bake_particles(space, spec, np.random.default_rng(seed), mesh)
    eff.options = options_to_dict(o)
    return eff
