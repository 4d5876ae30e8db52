"""Falling leaves or petals: tumbling coloured flakes that flutter down and settle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..color import srgb_to_linear
from ..config import check_options, opt, options_to_dict
from ..scene import Effect, Scene
from .particles import (GroupMotion, ParticleSpec, bake_particles, falls_per_loop, quad_mesh, random_rotations,
                        wind_xz)
from .space import scene_space


@dataclass(frozen=True)
class LeavesOptions:
    """Options of the falling-leaves effect (and, with other defaults, of petals)."""

    density: float = opt(1.0, ge=0.01, le=20.0)
    """Number of leaves relative to the default (1200 leaves, all round the visitor)."""
    size: float = opt(0.08, ge=0.005, le=2.0)
    """Leaf length in metres."""
    speed: float = opt(0.6, ge=0.05, le=10.0)
    """Falling speed in metres per second."""
    color: tuple[float, float, float] = opt((0.78, 0.42, 0.12), each=(0.0, 1.0))
    """Mean leaf colour, sRGB components in [0, 1]."""
    color_variation: float = opt(0.3, ge=0.0, le=1.0)
    """How much each leaf's colour varies around ``color`` (0 = all the same)."""
    wind_speed: float = opt(0.8, ge=0.0, le=30.0)
    """Wind speed in metres per second."""
    wind_direction_deg: float = opt(0.0, ge=-360.0, le=360.0)
    """Direction the wind blows to: 0 = right, 90 = away from the viewer, 180 = left."""
    flutter: float = opt(1.0, ge=0.0, le=5.0)
    """Amplitude in metres of the leaves' looping side-to-side tumble."""
    height: float = opt(8.0, ge=1.0, le=100.0)
    """How high above the ground (metres) leaves fill the air."""
    groups: int = opt(8, ge=1, le=32)
    """Number of leaf groups (one draw call each)."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_LEAVES = LeavesOptions()
DEFAULT_PETALS = LeavesOptions(size=0.04, speed=0.45, color=(0.98, 0.78, 0.84), color_variation=0.15,
                               flutter=0.8, wind_speed=0.6)
BASE_COUNT = 1200


def _bake(name: str, scene: Scene, o: LeavesOptions, seed: int) -> Effect:
    check_options(o)
    space = scene_space(scene)
    cycles = falls_per_loop(o.speed, o.loop_seconds, o.height)
    motion = GroupMotion(loop=o.loop_seconds, fall=o.speed * o.loop_seconds / cycles, cycles=cycles,
                         drift=wind_xz(o.wind_speed, o.wind_direction_deg), sway=o.flutter)
    spec = ParticleSpec(name=name, count=max(o.groups, int(round(BASE_COUNT * o.density))), groups=o.groups,
                        motion=motion, top=o.height, clearance=o.size * 0.55 * (1.0 + space.far / 20.0))
    base = np.asarray(o.color, dtype=np.float64)

    def mesh(mname: str, centres: np.ndarray, depth: np.ndarray, rng: np.random.Generator):
        n = len(centres)
        rot = random_rotations(rng, n)
        length = o.size * (1.0 + depth / 20.0) * rng.uniform(0.7, 1.3, n)
        a = rot[:, :, 0] * (length / 2)[:, None]
        b = rot[:, :, 1] * (length / 4)[:, None]
        shade = rng.uniform(1 - o.color_variation, 1 + o.color_variation * 0.5, (n, 1))
        tint = 1 + o.color_variation * rng.normal(0, 0.3, (n, 3))
        srgb = np.clip(base[None] * shade * tint, 0, 1)
        cols = np.concatenate([srgb_to_linear(srgb), np.ones((n, 1))], 1).astype(np.float32)
        return quad_mesh(mname, centres, a, b, colors=cols)
    eff = bake_particles(space, spec, np.random.default_rng(seed), mesh)
    eff.options = options_to_dict(o)
    return eff


def leaves(scene: Scene, options: LeavesOptions = DEFAULT_LEAVES, seed: int = 0) -> Effect:
    """Bake falling autumn leaves into ``scene``'s space."""
    return _bake("leaves", scene, options, seed)


def petals(scene: Scene, options: LeavesOptions = DEFAULT_PETALS, seed: int = 0) -> Effect:
    """Bake drifting blossom petals (leaves with pink, smaller, slower defaults)."""
    return _bake("petals", scene, options, seed)
