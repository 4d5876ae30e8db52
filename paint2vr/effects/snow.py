"""Snow: soft round flakes drifting down with the wind all round the visitor, settling on the
lifted surfaces. Each flake is a square turned to the start pose with a soft round alpha texture
(shared by every group): round and soft near the eye, two triangles each."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..scene import Effect, Scene
from .core import rgba
from .particles import (GroupMotion, ParticleSpec, bake_particles, disc_mesh, falls_per_loop, soft_disc_texture,
                        wind_xz)
from .space import scene_space


@dataclass(frozen=True)
class SnowOptions:
    """Options of the snow effect."""

    density: float = opt(1.0, ge=0.01, le=10.0)
    """Number of flakes relative to the default (6000 flakes, all round the visitor); 2 doubles them."""
    size: float = opt(0.03, ge=0.001, le=1.0)
    """Flake size in metres (flakes far away are drawn larger so they stay visible)."""
    speed: float = opt(0.9, ge=0.05, le=20.0)
    """Falling speed in metres per second."""
    color: tuple[float, float, float] = opt((1.0, 1.0, 1.0), each=(0.0, 1.0))
    """Flake colour, sRGB components in [0, 1]."""
    wind_speed: float = opt(0.5, ge=0.0, le=30.0)
    """Wind speed in metres per second."""
    wind_direction_deg: float = opt(20.0, ge=-360.0, le=360.0)
    """Direction the wind blows to: 0 = right, 90 = away from the viewer, 180 = left."""
    flutter: float = opt(0.3, ge=0.0, le=5.0)
    """Amplitude in metres of the flakes' looping side-to-side wander."""
    height: float = opt(12.0, ge=1.0, le=100.0)
    """How high above the ground (metres) the snow fills the air."""
    groups: int = opt(12, ge=1, le=32)
    """Number of flake groups (one draw call each; more groups = finer respawn timing)."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_SNOW = SnowOptions()
BASE_COUNT = 6000


def snow(scene: Scene, options: SnowOptions = DEFAULT_SNOW, seed: int = 0) -> Effect:
    """Bake falling snow into ``scene``'s space (the scene itself is not changed)."""
    check_options(options)
    o = options
    space = scene_space(scene)
    cycles = falls_per_loop(o.speed, o.loop_seconds, o.height)
    motion = GroupMotion(loop=o.loop_seconds, fall=o.speed * o.loop_seconds / cycles, cycles=cycles,
                         drift=wind_xz(o.wind_speed, o.wind_direction_deg), sway=o.flutter)
    spec = ParticleSpec(name="snow", count=max(o.groups, int(round(BASE_COUNT * o.density))), groups=o.groups,
                        motion=motion, top=o.height, clearance=o.size * 0.65 * (1.0 + space.far / 15.0))

    texture = soft_disc_texture()
    eye = np.asarray(scene.camera.position, np.float64)

    def mesh(name: str, centres: np.ndarray, depth: np.ndarray, rng: np.random.Generator):
        sizes = o.size * (1.0 + depth / 15.0) * rng.uniform(0.7, 1.3, len(centres))
        # The texture's half-alpha disc is about half the square: a square of side 2 * size
        # looks about ``size`` across, soft edge beyond.
        return disc_mesh(name, centres, eye, sizes, texture, base_color=rgba(o.color), alpha_mode="BLEND")
    eff = bake_particles(space, spec, np.random.default_rng(seed), mesh)
    eff.options = options_to_dict(o)
    return eff
