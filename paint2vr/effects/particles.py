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
from .space import HeightField, SceneSpace, quat_to_matrix
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


def lowest_start_reference(height: HeightField, bx: np.ndarray, bz: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Slow obvious :func:`lowest_start`: the field under every sample of the path."""
    hs = height.at(bx[:, None] + path[None, :, 0], bz[:, None] + path[None, :, 2])
    return np.max(hs - path[None, :, 1], axis=1)


def path_windows(path: np.ndarray, spacing: float) -> np.ndarray:
    """Start indices of runs of path samples whose horizontal path length from the run's
    first sample is under ``spacing`` (a jump, e.g. a respawn, always starts a new run)."""
    step = np.hypot(np.diff(path[:, 0]), np.diff(path[:, 2]))
    bucket = np.floor(np.concatenate([[0.0], np.cumsum(step)]) / spacing)
    return np.flatnonzero(np.concatenate([[True], bucket[1:] != bucket[:-1]]))


def lowest_start(height: HeightField, bx: np.ndarray, bz: np.ndarray, path: np.ndarray) -> np.ndarray:
    """(n,) lowest heights for particles based at (bx, bz) moving along ``path`` (S, 3)
    whose every visible point stays above the surface: the max-filtered field looked up once
    per run of samples within half a cell (horizontally) of the run's first one, against the
    run's lowest offset. Every sample of a run lies in or next to its first sample's cell, so
    the filtered field there bounds the surface under it: as safe as looking under every
    sample (:func:`lowest_start_reference`), with far fewer lookups (rain: ~10x fewer)."""
    starts = path_windows(path, 0.5 * height.cell)
    low = np.minimum.reduceat(path[:, 1], starts)
    hs = height.at(bx[:, None] + path[None, starts, 0], bz[:, None] + path[None, starts, 2])
    return np.max(hs - low[None], axis=1)


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


def around_share(space: SceneSpace, max_depth: float | None = None) -> tuple[float, float, float]:
    """(radius of the all-round disc, farthest depth in front, share of the particles in the
    disc): the disc round the start pose, then the painting's wedge in front out to its far
    land, each with particles in proportion to its ground area."""
    far = space.far if max_depth is None else min(space.far, max_depth)
    radius = min(space.around, far)
    disc = math.pi * radius * radius
    d = np.linspace(radius, far, 33)
    wedge = float(np.trapezoid(2.0 * space.half_width(d), d)) if far > radius else 0.0
    return radius, far, disc / (disc + wedge)


def sample_volume_xz(space: SceneSpace, rng: np.random.Generator, n: int, bias: float,
                     max_depth: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, z) all round the viewer (a disc of ``space.around``, denser near the eye
    for ``bias`` > 1, even in every direction), and in front out to the far land, past the
    frame's edges (the wedge beyond the disc)."""
    radius, far, share = around_share(space, max_depth)
    px, _, pz = space.camera.position
    in_disc = rng.random(n) < share
    k = int(in_disc.sum())
    # Radii r = R u^bias, as the depths in front: the density falls as r^(1/bias - 2), many
    # flakes near the eye (where they are seen one by one), fewer far off (drawn larger).
    r = radius * rng.random(k) ** bias
    a = rng.random(k) * (2.0 * math.pi)
    x, z = np.empty(n), np.empty(n)
    x[in_disc], z[in_disc] = px + r * np.sin(a), pz - r * np.cos(a)
    m = n - k
    d = radius + (far - radius) * rng.random(m) ** bias
    hw = space.half_width(d)
    x[~in_disc] = px + (rng.random(m) * 2 - 1) * hw
    z[~in_disc] = pz - d
    return x, z


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
        need = lowest_start(space.height, bx, bz, path) + spec.clearance
        if falling:
            # Tier k lands k * fall above the surface; the slab jitter keeps density even.
            tier = rng.integers(0, tiers, size=n)
            by = need + mo.fall * tier + rng.random(n) * mo.fall / spec.groups
        else:
            by = need + spec.hover[0] + rng.random(n) * (spec.hover[1] - spec.hover[0])
        centres = np.stack([bx, by, bz], -1)
        px, _, pz = space.camera.position
        depth = np.maximum(np.hypot(bx - px, bz - pz), 0.5)  # distance from the eye, all round
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


FLAKE_TEXELS = 32
"""Side of the soft round flake texture (texels): enough for a flake a hand's width away."""


def soft_disc_reference(texels: int = FLAKE_TEXELS) -> np.ndarray:
    """Slow obvious (texels, texels, 4) RGBA of the flake: white, alpha (1 - r^2)^2 of the
    distance r from the centre over the half side (0 at the rim and beyond)."""
    out = np.zeros((texels, texels, 4), np.uint8)
    for i in range(texels):
        for j in range(texels):
            r = math.hypot((j + 0.5) / texels * 2 - 1, (i + 0.5) / texels * 2 - 1)
            a = max(0.0, 1.0 - r * r) ** 2
            out[i, j] = (255, 255, 255, int(round(255 * a)))
    return out


def soft_disc_texture(texels: int = FLAKE_TEXELS) -> np.ndarray:
    """:func:`soft_disc_reference`, vectorised: a soft round dot (no hard edge anywhere)."""
    c = (np.arange(texels) + 0.5) / texels * 2 - 1
    r2 = c[None, :] ** 2 + c[:, None] ** 2
    out = np.full((texels, texels, 4), 255, np.uint8)
    out[..., 3] = np.round(255 * np.clip(1.0 - r2, 0.0, None) ** 2).astype(np.uint8)
    return out


def facing_axes(centres: np.ndarray, eye: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(right, up) half-axes (n, 3) of squares of half side ``half`` (n,) facing ``eye``:
    a flake is a flat disc turned to the start pose (glTF has no camera-facing sprites; a
    visitor walking a few metres sees the near ones slightly from the side)."""
    w = eye[None] - centres
    w /= np.maximum(np.linalg.norm(w, axis=1, keepdims=True), 1e-9)
    right = np.cross(np.array([0.0, 1.0, 0.0])[None], w)
    n = np.linalg.norm(right, axis=1, keepdims=True)
    right = np.where(n > 1e-6, right / np.maximum(n, 1e-9), np.array([1.0, 0.0, 0.0]))  # straight above/below
    up = np.cross(w, right)
    return right * half[:, None], up * half[:, None]


def disc_mesh(name: str, centres: np.ndarray, eye: np.ndarray, half: np.ndarray, texture: np.ndarray,
              **mesh_kw) -> Mesh:
    """One eye-facing textured square (2 triangles) per particle: with :func:`soft_disc_texture`
    a soft round flake. ``texture`` should be one shared array (the exporter writes it once)."""
    right, up = facing_axes(centres.astype(np.float64), np.asarray(eye, np.float64), half)
    m = quad_mesh(name, centres, right + up, up - right, **mesh_kw)  # corners: c +- right +- up
    uv = np.tile(np.array([[1, 0], [0, 0], [0, 1], [1, 1]], np.float32), (len(centres), 1))
    return Mesh(m.name, m.positions, m.faces, uvs=uv, texture=texture, **mesh_kw)


def wind_xz(speed: float, direction_deg: float) -> tuple[float, float]:
    """Wind velocity (x, z) in m/s; 0 degrees blows to the right, 90 away from the viewer."""
    a = math.radians(direction_deg)
    return (speed * math.cos(a), -speed * math.sin(a))


def falls_per_loop(speed: float, loop: float, height: float) -> int:
    """Whole falls per loop so that one fall is about ``height`` metres (seamless loop)."""
    return max(1, int(round(speed * loop / max(height, 1e-6))))
