"""Baked particle groups and the small meshes they are made of.

Particles are cheap on a headset because they are baked: each *group* is one mesh of many
small particles (one draw call) on one node whose looping translation track moves them all;
per-particle variety lives in the baked positions. A falling group drops a fixed distance per
cycle, then its scale steps to 0 for an instant while it jumps back up (a respawn nobody
sees), so each particle's start height is chosen to land exactly on the surface below its
path. Groups are staggered in phase, so particles keep falling at every moment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..scene import Clip, Effect, Mesh, Node, Track
from .space import SceneSpace, quat_to_matrix
from .timeline import close_loop, eval_track, fourier_loop, loop_times

EPS_JUMP = 1e-3
"""Seconds a respawning group spends (invisible) moving back to its start."""


# -- particle groups ---------------------------------------------------------------------

@dataclass(frozen=True)
class GroupMotion:
    """How every particle group of an effect moves over one loop."""

    loop: float
    """Loop length (s)."""
    fall: float
    """Metres a group drops per cycle (0: hovering particles that never respawn)."""
    cycles: int
    """Falls per loop (the cycle is loop / cycles)."""
    drift: tuple[float, float]
    """Wind velocity (x, z) in m/s: how far a group drifts during a cycle."""
    sway: float
    """Amplitude (m) of the smooth looping wander added to each group."""
    keys_per_cycle: int = 24


def group_tracks(node: Node, motion: GroupMotion, phase: float, rng: np.random.Generator) -> list[Track]:
    """Translation (+ STEP scale when falling) tracks of one group, phase in (0, 1)."""
    loop, m = motion.loop, motion.cycles
    t = loop_times(loop, motion.keys_per_cycle * m).astype(np.float64)
    wander = fourier_loop(rng, t, loop, motion.sway, harmonics=3, shape=(3,)).T
    wander[:, 1] *= 0.5
    if motion.fall <= 0:
        return [Track(node, "translation", t.astype(np.float32), close_loop(wander))]
    period = loop / m
    # Respawn moments: where the phase-shifted sawtooth wraps, never at the loop's ends.
    jumps = (np.arange(m) + 1 - phase) * period
    near_jump = np.any(np.abs(t[:, None] - np.concatenate([jumps, jumps + EPS_JUMP])[None]) < 2 * EPS_JUMP, axis=1)
    t_all = np.unique(np.concatenate([t[~near_jump], jumps, jumps + EPS_JUMP]))
    t_all = t_all[(t_all >= 0) & (t_all <= loop)]
    w_all = np.stack([np.interp(t_all, t, wander[:, k]) for k in range(3)], -1)
    f = np.mod(t_all / period + phase, 1.0)
    for j in jumps:  # the sawtooth reaches exactly 1 at a jump, 0 just after
        f[np.isclose(t_all, j, atol=1e-9, rtol=0)] = 1.0
    cyc = period * f
    pos = np.stack([motion.drift[0] * cyc, -motion.fall * f, motion.drift[1] * cyc], -1) + w_all
    s_times = np.concatenate([[0.0], np.ravel(np.stack([jumps, jumps + EPS_JUMP], -1)), [loop]])
    s_vals = np.concatenate([[1.0], np.tile([0.0, 1.0], m), [1.0]])
    scale = np.repeat(s_vals[:, None], 3, axis=1)
    return [Track(node, "translation", t_all.astype(np.float32), close_loop(pos)),
            Track(node, "scale", s_times.astype(np.float32), scale.astype(np.float32), "STEP")]


def visible_path(tracks: list[Track], loop: float, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, (S, 3) offsets) of a group over one loop at the moments it is visible."""
    t = np.linspace(0.0, loop, samples)
    tr = {k.path: k for k in tracks}
    if "scale" in tr:
        keys = tr["translation"].times.astype(np.float64)
        t = np.unique(np.concatenate([t, keys]))  # keys too: the path's corners
        vis = eval_track(tr["scale"], t)[:, 0] > 0
        t = t[vis]
    return t, eval_track(tr["translation"], t)


@dataclass(frozen=True)
class ParticleSpec:
    """What one particle effect bakes: count, groups, motion and a mesh builder."""

    name: str
    count: int
    groups: int
    motion: GroupMotion
    top: float
    """Height (m) above the ground level the falling volume reaches."""
    hover: tuple[float, float] = (0.0, 0.0)
    """For hovering particles, their height range above the surface (m)."""
    clearance: float = 0.05
    """Gap kept between a particle's centre and the surface (its size, roughly)."""
    near_bias: float = 1.5
    """Exponent > 1 puts more particles near the viewer (depth = near + span * r**bias)."""
    max_depth: float | None = None
    """Fill only this far (m), e.g. fireflies near the viewer; None: the whole land."""


def sample_volume_xz(space: SceneSpace, rng: np.random.Generator, n: int, bias: float,
                     max_depth: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, z) in front of and around the viewer, past the frame edges."""
    far = space.far if max_depth is None else min(space.far, max_depth)
    d = -2.0 + (far + 2.0) * rng.random(n) ** bias
    hw = space.half_width(np.maximum(d, 0.0))
    px, _, pz = space.camera.position
    x = px + (rng.random(n) * 2 - 1) * hw
    return x, pz - d


def bake_particles(space: SceneSpace, spec: ParticleSpec, rng: np.random.Generator,
                   make_mesh: Callable[[str, np.ndarray, np.ndarray, np.random.Generator], Mesh]) -> Effect:
    """Bake ``spec`` into ``spec.groups`` nodes+meshes and one looping clip.

    ``make_mesh(name, centres (n, 3) local, view_depths (n,), rng)`` builds each group's mesh.
    """
    mo = spec.motion
    nodes, tracks = [], []
    per = np.full(spec.groups, spec.count // spec.groups)
    per[: spec.count % spec.groups] += 1
    falling = mo.fall > 0
    tiers = max(1, int(round(spec.top / mo.fall))) if falling else 1
    for g in range(spec.groups):
        node = Node(f"{spec.name}_{g:02d}")
        phase = (g + 0.5) / spec.groups
        trk = group_tracks(node, mo, phase, rng)
        t_vis, path = visible_path(trk, mo.loop, 8 * mo.keys_per_cycle * mo.cycles + 1)
        n = int(per[g])
        x, z = sample_volume_xz(space, rng, n, spec.near_bias, spec.max_depth)
        # Put each particle where it passes its sample point at a random moment of its path.
        k = rng.integers(0, len(t_vis), size=n)
        bx, bz = x - path[k, 0], z - path[k, 2]
        # Lowest safe start height: above the surface under every visible point of its path.
        hs = space.height.at(bx[:, None] + path[None, :, 0], bz[:, None] + path[None, :, 2])
        need = np.max(hs - path[None, :, 1], axis=1) + spec.clearance
        if falling:
            # Tier k lands k * fall above the surface; the slab jitter keeps density even.
            tier = rng.integers(0, tiers, size=n)
            by = need + mo.fall * tier + rng.random(n) * mo.fall / spec.groups
        else:
            by = need + spec.hover[0] + rng.random(n) * (spec.hover[1] - spec.hover[0])
        centres = np.stack([bx, by, bz], -1)
        depth = np.maximum(space.camera.position[2] - bz, 0.5)
        node.mesh = make_mesh(node.name, centres.astype(np.float32), depth, rng)
        nodes.append(node)
        tracks.extend(trk)
    return Effect(name=spec.name, nodes=nodes, clips=[Clip(spec.name, tracks)])


# -- particle shapes ---------------------------------------------------------------------

def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return quat_to_matrix(q / np.linalg.norm(q, axis=1, keepdims=True))


_TETRA = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64) / math.sqrt(3)
_TETRA_F = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]], dtype=np.uint32)


def tetra_mesh(name: str, centres: np.ndarray, sizes: np.ndarray, rng: np.random.Generator,
               colors: np.ndarray | None = None, **mesh_kw) -> Mesh:
    """One randomly turned tetrahedron (visible from any side) per particle."""
    n = len(centres)
    rot = random_rotations(rng, n)
    v = np.einsum("nij,kj->nki", rot, _TETRA) * (sizes[:, None, None] / 2) + centres[:, None, :]
    faces = (_TETRA_F[None] + 4 * np.arange(n, dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    cols = None if colors is None else np.repeat(colors, 4, axis=0).astype(np.float32)
    return Mesh(name, v.reshape(-1, 3).astype(np.float32), faces.astype(np.uint32), colors=cols, **mesh_kw)


def quad_mesh(name: str, centres: np.ndarray, axis_a: np.ndarray, axis_b: np.ndarray,
              colors: np.ndarray | None = None, **mesh_kw) -> Mesh:
    """One flat diamond per particle, spanned by half-axes ``axis_a`` and ``axis_b`` (n, 3)."""
    n = len(centres)
    v = np.stack([centres + axis_a, centres + axis_b, centres - axis_a, centres - axis_b], 1)
    faces = (np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32)[None]
             + 4 * np.arange(n, dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    cols = None if colors is None else np.repeat(colors, 4, axis=0).astype(np.float32)
    return Mesh(name, v.reshape(-1, 3).astype(np.float32), faces, colors=cols, **mesh_kw)


def wind_xz(speed: float, direction_deg: float) -> tuple[float, float]:
    """Wind velocity (x, z) in m/s; 0 degrees blows to the right, 90 away from the viewer."""
    a = math.radians(direction_deg)
    return (speed * math.cos(a), -speed * math.sin(a))


def falls_per_loop(speed: float, loop: float, height: float) -> int:
    """Whole falls per loop so that one fall is about ``height`` metres (seamless loop)."""
    return max(1, int(round(speed * loop / max(height, 1e-6))))
