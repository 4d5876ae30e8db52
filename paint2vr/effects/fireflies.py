"""Fireflies and dust motes: small glowing specks hovering and wandering above the ground."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..scene import Effect, Scene, Track
from .core import rgba
from .particles import GroupMotion, ParticleSpec, bake_particles, tetra_mesh
from .space import scene_space


@dataclass(frozen=True)
class FirefliesOptions:
    """Options of the fireflies effect (and, with other defaults, of dust motes)."""

    density: float = opt(1.0, ge=0.01, le=20.0)
    """Number of specks relative to the default (300 fireflies, 1500 dust motes)."""
    size: float = opt(0.05, ge=0.001, le=1.0)
    """Speck size in metres."""
    color: tuple[float, float, float] = opt((1.0, 0.88, 0.35), each=(0.0, 1.0))
    """Speck colour, sRGB components in [0, 1]."""
    wander: float = opt(0.8, ge=0.0, le=10.0)
    """Amplitude in metres of each group's looping wander."""
    min_height: float = opt(0.3, ge=0.0, le=50.0)
    """Lowest height of a speck above the surface, in metres."""
    max_height: float = opt(2.5, ge=0.0, le=100.0)
    """Highest height of a speck above the surface, in metres."""
    max_distance: float = opt(25.0, ge=1.0, le=200.0)
    """How far from the viewer (metres) specks are placed."""
    blink: bool = True
    """Blink: each group switches off for a moment a few times per loop."""
    groups: int = opt(6, ge=1, le=32)
    """Number of speck groups (one draw call each)."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_FIREFLIES = FirefliesOptions()
DEFAULT_DUST = FirefliesOptions(size=0.012, color=(1.0, 0.96, 0.86), wander=0.4, min_height=0.2, max_height=4.0,
                                max_distance=12.0, blink=False, groups=4)
BASE_COUNT = {"fireflies": 300, "dust": 1500}


def _blink_track(node, loop: float, rng: np.random.Generator) -> Track:
    """STEP scale: on, with 3 short dark spells per loop at random moments (seamless)."""
    # One dark spell in each third of the loop, so they never overlap or touch its ends.
    starts = (np.arange(3) + rng.uniform(0.1, 0.7, 3)) / 3 * loop
    offs = starts + rng.uniform(0.03, 0.08, 3) * loop
    times = np.concatenate([[0.0], np.ravel(np.stack([starts, offs], -1)), [loop]])
    vals = np.concatenate([[1.0], np.tile([0.0, 1.0], 3), [1.0]])
    return Track(node, "scale", times.astype(np.float32), np.repeat(vals[:, None], 3, 1).astype(np.float32), "STEP")


def _bake(name: str, scene: Scene, o: FirefliesOptions, seed: int) -> Effect:
    check_options(o)
    if o.max_height < o.min_height:
        from ..errors import InputError
        raise InputError(f"max_height ({o.max_height}) must be >= min_height ({o.min_height})")
    space = scene_space(scene)
    motion = GroupMotion(loop=o.loop_seconds, fall=0.0, cycles=1, drift=(0.0, 0.0), sway=o.wander)
    spec = ParticleSpec(name=name, count=max(o.groups, int(round(BASE_COUNT[name] * o.density))), groups=o.groups,
                        motion=motion, top=o.max_height, hover=(o.min_height, o.max_height),
                        clearance=o.size, near_bias=1.2, max_depth=o.max_distance)
    rng = np.random.default_rng(seed)

    def mesh(mname: str, centres: np.ndarray, depth: np.ndarray, r: np.random.Generator):
        sizes = o.size * r.uniform(0.7, 1.3, len(centres))
        return tetra_mesh(mname, centres, sizes, r, base_color=rgba(o.color))
    eff = bake_particles(space, spec, rng, mesh)
    if o.blink:
        eff.clips[0].tracks.extend(_blink_track(n, o.loop_seconds, rng) for n in eff.nodes)
    eff.options = options_to_dict(o)
    return eff


def fireflies(scene: Scene, options: FirefliesOptions = DEFAULT_FIREFLIES, seed: int = 0) -> Effect:
    """Bake blinking fireflies hovering near the viewer."""
    return _bake("fireflies", scene, options, seed)


def dust(scene: Scene, options: FirefliesOptions = DEFAULT_DUST, seed: int = 0) -> Effect:
    """Bake dust motes floating in the air around the viewer (fireflies' defaults changed)."""
    return _bake("dust", scene, options, seed)
