"""Birds: small flocks flapping along smooth looping paths through the whole sky.

The first flock flies in the painting's own open sky (seen from the start pose); the others
fly all round the visitor, at headings spread round the circle, above the land and in the
painting's open sky wherever their path crosses the frame."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..errors import InputError
from ..scene import Clip, Effect, Mesh, Node, Scene, Track
from .core import rgba
from .space import SceneSpace, scene_space
from .timeline import close_loop, fourier_loop, loop_times

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BirdsOptions:
    """Options of the birds effect."""

    count: int = opt(7, ge=1, le=32)
    """Number of birds (one node and draw call each, all sharing one mesh)."""
    size: float = opt(0.7, ge=0.05, le=10.0)
    """Wingspan in metres."""
    speed: float = opt(6.0, ge=0.5, le=40.0)
    """Flying speed in metres per second (sets the size of the looping path)."""
    flap_hz: float = opt(3.0, ge=0.0, le=20.0)
    """Wing beats per second (rounded so that the loop holds whole beats)."""
    color: tuple[float, float, float] = opt((0.12, 0.11, 0.12), each=(0.0, 1.0))
    """Bird colour, sRGB components in [0, 1]."""
    min_distance: float = opt(15.0, ge=1.0, le=1000.0)
    """Nearest view depth (metres) of the flock."""
    max_distance: float = opt(60.0, ge=1.0, le=2000.0)
    """Farthest view depth (metres) of the flock (kept in front of the sky backdrop)."""
    clearance: float = opt(3.0, ge=0.0, le=100.0)
    """Minimum height (metres) above the land under a bird."""
    spread: float = opt(3.0, ge=0.0, le=50.0)
    """Radius (metres) of the flock around its centre."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""
    flocks: int = opt(3, ge=1, le=8)
    """Flocks the birds are split into: the first in the painting's open sky, the others all
    round the visitor (behind, beside), at headings spread round the circle."""


DEFAULT_BIRDS = BirdsOptions()
MIN_ELEVATION = math.radians(6.0)
"""Flocks round the visitor fly at least this far above the eye's horizon (they read as sky)."""
MAX_ELEVATION = math.radians(35.0)
KEYS = 128


def bird_mesh(size: float, color: tuple[float, float, float]) -> Mesh:
    """A flat bird facing -Z: body and two wings; morph target 0 raises the wing tips."""
    s = size
    pos = np.array([
        [0, 0, -0.25 * s],       # 0 beak
        [0, -0.03 * s, 0],       # 1 belly
        [0, 0, 0.3 * s],         # 2 tail
        [0, 0.01 * s, -0.08 * s],  # 3 wing root front
        [0, 0.01 * s, 0.1 * s],    # 4 wing root back
        [-0.5 * s, -0.15 * s, 0.08 * s],  # 5 left tip (wings start low)
        [0.5 * s, -0.15 * s, 0.08 * s],   # 6 right tip
        [-0.08 * s, 0, 0.32 * s],  # 7 tail left
        [0.08 * s, 0, 0.32 * s],   # 8 tail right
    ], dtype=np.float32)
    faces = np.array([[0, 1, 2], [3, 5, 4], [3, 4, 6], [2, 7, 8], [0, 3, 1]], dtype=np.uint32)
    flap = np.zeros_like(pos)
    flap[[5, 6], 1] = 0.45 * s
    flap[[5, 6], 0] = [0.06 * s, -0.06 * s]  # tips come in a little at the top of the beat
    return Mesh("bird", pos, faces, morph_targets=[flap], base_color=rgba(color))


def _quat_yaw_pitch_roll(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Quaternions (x, y, z, w) of R = Ry(yaw) Rx(pitch) Rz(roll)."""
    cy, sy = np.cos(yaw / 2), np.sin(yaw / 2)
    cp, sp = np.cos(pitch / 2), np.sin(pitch / 2)
    cr, sr = np.cos(roll / 2), np.sin(roll / 2)
    # q = qy * qx * qz
    qy = np.stack([0 * cy, sy, 0 * cy, cy], -1)
    qx = np.stack([sp, 0 * sp, 0 * sp, cp], -1)
    qz = np.stack([0 * sr, 0 * sr, sr, cr], -1)
    return _qmul(_qmul(qy, qx), qz)


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz], -1)


def bird_probe_points(pos: np.ndarray, size: float) -> np.ndarray:
    """(..., 3) bird centres -> (..., 5, 3): centre and wing-tip/up/down extremes to test."""
    off = np.array([[0, 0, 0], [size / 2, 0, 0], [-size / 2, 0, 0], [0, size / 2, 0], [0, -size / 2, 0]])
    return pos[..., None, :] + off


def flight_ok(space: SceneSpace, pos: np.ndarray, o: BirdsOptions) -> np.ndarray:
    """(..., 3) bird positions -> bool: in open sky, within the depth range, above the land."""
    probes = bird_probe_points(pos, o.size)
    flat = probes.reshape(-1, 3)
    _, _, z = space.camera.project(flat)
    ok = space.in_sky(flat) & (z >= o.min_distance) & (z <= min(o.max_distance, 0.8 * space.sky_depth))
    ok &= flat[:, 1] >= space.height.at(flat[:, 0], flat[:, 2]) + o.clearance
    return ok.reshape(probes.shape[:-1]).all(axis=-1)


def _draw_centre(rng: np.random.Generator, space: SceneSpace, o: BirdsOptions) -> tuple[float, float, float]:
    """A flock centre: a random point of an open-sky cell (pixels) and a view depth, nearer
    depths likelier (the first draws of every candidate path)."""
    rows, cols = np.nonzero(space.sky_mask)
    i = rng.integers(0, len(rows))
    u = (cols[i] + rng.random()) * space.sky_cell
    v = (rows[i] + rng.random()) * space.sky_cell
    lo, hi = o.min_distance, min(o.max_distance, 0.8 * space.sky_depth)
    return u, v, lo + (hi - lo) * rng.random() ** 1.5


def _paths(rng: np.random.Generator, space: SceneSpace, o: BirdsOptions, t: np.ndarray, laps: int,
           shrink: float) -> np.ndarray:
    """(count, K+1, 3) candidate positions: a flock centre on a tilted loop plus wanderers."""
    cam = space.camera
    u, v, z = _draw_centre(rng, space, o)
    centre = cam.unproject(np.array(u), np.array(v), np.array(z)).astype(np.float64)
    # More laps of a smaller loop keep the speed where the sky is small.
    radius = o.speed * o.loop_seconds / (2 * math.pi * laps) * shrink
    w = 2 * math.pi * laps * t / o.loop_seconds
    direction = rng.choice([-1.0, 1.0])
    ax = np.array([1.0, 0.0, 0.0])
    bz = np.array([0.0, rng.uniform(-0.15, 0.15), 1.0])
    ell = rng.uniform(0.5, 0.8)
    c_path = centre + radius * (np.cos(w)[:, None] * ax + direction * ell * np.sin(w)[:, None] * bz)
    offs = rng.normal(size=(o.count, 1, 3)) * o.spread * shrink * np.array([1.0, 0.4, 1.0])
    wander = fourier_loop(rng, t, o.loop_seconds, 0.4 * o.spread * shrink / laps, 2, (o.count, 3)).transpose(0, 2, 1)
    return c_path[None] + offs + wander


def _draw_path(rng: np.random.Generator, space: SceneSpace, o: BirdsOptions, laps: int, shrink: float) -> tuple:
    """The random draws of one :func:`_paths` candidate, in its order (same stream)."""
    u, v, z = _draw_centre(rng, space, o)
    direction = rng.choice([-1.0, 1.0])
    bzy = rng.uniform(-0.15, 0.15)
    ell = rng.uniform(0.5, 0.8)
    offs = rng.normal(size=(o.count, 1, 3)) * o.spread * shrink * np.array([1.0, 0.4, 1.0])
    amplitude = 0.4 * o.spread * shrink / laps
    amps, phases = [], []
    for k in (1, 2):  # fourier_loop's draws, harmonics=2
        amps.append(rng.normal(size=(o.count, 3, 1)) * amplitude / k)
        phases.append(rng.uniform(0, 2 * math.pi, size=(o.count, 3, 1)))
    radius = o.speed * o.loop_seconds / (2 * math.pi * laps) * shrink
    return u, v, z, direction * ell, bzy, offs, amps, phases, radius, 2 * math.pi * laps


def _paths_batch(space: SceneSpace, o: BirdsOptions, t: np.ndarray, draws: list[tuple]) -> np.ndarray:
    """(B, count, K+1, 3): :func:`_paths` for each candidate's draws, computed together
    (the same operations in the same order, so the same values)."""
    u, v, z, de, bzy, offs, amps, phases, radius, wl = (np.array(c) for c in zip(*draws))
    centre = space.camera.unproject(u, v, z).astype(np.float64)  # (B, 3)
    return _loops(centre, o, t, de, bzy, offs, amps, phases, radius, wl)


def _loops(centre: np.ndarray, o: BirdsOptions, t: np.ndarray, de: np.ndarray, bzy: np.ndarray, offs: np.ndarray,
           amps: np.ndarray, phases: np.ndarray, radius: np.ndarray, wl: np.ndarray) -> np.ndarray:
    """(B, count, K+1, 3) flock paths: a tilted loop round each centre (B, 3) plus wanderers."""
    w = wl[:, None] * t[None] / o.loop_seconds  # (B, K+1)
    bz = np.stack([np.zeros_like(bzy), bzy, np.ones_like(bzy)], -1)
    ax = np.array([1.0, 0.0, 0.0])
    c_path = centre[:, None] + radius[:, None, None] * (np.cos(w)[:, :, None] * ax
                                                        + de[:, None, None] * np.sin(w)[:, :, None] * bz[:, None])
    wf = 2.0 * math.pi * np.asarray(t, dtype=np.float64) / o.loop_seconds
    wander = np.zeros(offs.shape[:2] + (3, len(t)))
    for k in (1, 2):
        wander += amps[:, k - 1] * np.sin(k * wf + phases[:, k - 1])
    wander = (wander / math.sqrt(1.0 + 1.0 / 4)).transpose(0, 1, 3, 2)
    return c_path[:, None] + offs + wander


_BATCH = 25  # candidate paths checked per vectorised flight test


def _frame_flock(space: SceneSpace, o: BirdsOptions, rng: np.random.Generator, t: np.ndarray) -> np.ndarray | None:
    """(count, K+1, 3) paths of a flock in the painting's open sky, or None if none fits."""
    # If the asked-for distances leave no room (a small sky over far land), widen them
    # step by step towards the backdrop rather than failing: the flock flies farther away.
    far = 0.8 * space.sky_depth
    tries = [o, replace(o, max_distance=max(o.max_distance, far)),
             replace(o, min_distance=min(max(o.min_distance, 0.3 * far), far * 0.9),
                     max_distance=max(o.max_distance, far), clearance=min(o.clearance, 1.0))]
    for relaxed in tries:
        attempts = 300 if relaxed is o else 150
        for start in range(0, attempts, _BATCH):
            # Candidates are drawn one by one (the same random stream as checking each in
            # turn) but checked together; the stream is rewound to just after the first
            # good one, so the result equals the one-by-one search.
            draws, states = [], []
            for attempt in range(start, min(start + _BATCH, attempts)):
                laps = 1 + min(attempt // 50, 3)
                shrink = 0.7 ** max(0, attempt // 50 - 3)
                draws.append(_draw_path(rng, space, relaxed, laps, shrink))
                states.append(rng.bit_generator.state)
            # Sparse keys first (every 16th, then every 4th): most candidates fail there, and
            # a pass must pass all, so these only skip candidates the full test would reject.
            # Paths are element-wise in time, so each is computed at the keys it is tested on
            # only (the same values as the full path there; tested).
            sparse = _paths_batch(space, relaxed, t[::16], draws)
            rough = np.flatnonzero(flight_ok(space, sparse, relaxed).all(axis=(1, 2)))
            if len(rough):
                mid = _paths_batch(space, relaxed, t[::4], [draws[i] for i in rough])
                rough = rough[flight_ok(space, mid, relaxed).all(axis=(1, 2))]
            for i in rough:
                cand = _paths_batch(space, relaxed, t, [draws[i]])[0]
                if flight_ok(space, cand, relaxed).all():
                    rng.bit_generator.state = states[i]
                    return cand
    return None


def around_ok(space: SceneSpace, pos: np.ndarray, o: BirdsOptions) -> np.ndarray:
    """(..., 3) positions -> bool for a flock round the visitor: between min and max distance
    from the eye (and short of the sky dome), above the land by the clearance and above the
    eye's horizon; inside the painting's frame, only in its open sky (never over its land)."""
    probes = bird_probe_points(pos, o.size)
    flat = probes.reshape(-1, 3)
    cam = space.camera
    u, v, z = cam.project(flat)
    with np.errstate(invalid="ignore"):
        in_frame = (z > 0) & (u >= 0) & (u <= cam.width) & (v >= 0) & (v <= cam.height)
    rel = flat - np.asarray(cam.position)[None]
    dist = np.linalg.norm(rel, axis=1)
    ok = ~in_frame | space.in_sky(flat)
    ok &= (dist >= o.min_distance) & (dist <= min(o.max_distance, 0.8 * space.sky_depth))
    ok &= flat[:, 1] >= space.height.at(flat[:, 0], flat[:, 2]) + o.clearance
    ok &= rel[:, 1] >= math.tan(MIN_ELEVATION) * np.hypot(rel[:, 0], rel[:, 2])
    return ok.reshape(probes.shape[:-1]).all(axis=-1)


def _around_flock(space: SceneSpace, o: BirdsOptions, rng: np.random.Generator, t: np.ndarray,
                  sector: tuple[float, float], attempts: int = 200) -> np.ndarray | None:
    """(count, K+1, 3) paths of a flock whose centre lies at a heading in ``sector``
    (radians from -Z, anticlockwise seen from above), or None if no candidate fits."""
    px, py, pz = space.camera.position
    lo, hi = o.min_distance, min(o.max_distance, 0.8 * space.sky_depth)
    for start in range(0, attempts, _BATCH):
        centres, rest = [], []
        for attempt in range(start, min(start + _BATCH, attempts)):
            laps = 1 + min(attempt // 50, 3)
            shrink = 0.7 ** max(0, attempt // 50 - 2)
            heading = rng.uniform(*sector)
            elev = rng.uniform(MIN_ELEVATION, MAX_ELEVATION)
            d = lo + (hi - lo) * rng.random() ** 1.5
            horiz = d * math.cos(elev)
            centres.append((px - horiz * math.sin(heading), py + d * math.sin(elev), pz - horiz * math.cos(heading)))
            rest.append(_draw_path(rng, space, o, laps, shrink)[3:])
        cand = _loops(np.array(centres), o, t, *(np.array(c) for c in zip(*rest)))
        good = np.flatnonzero(around_ok(space, cand, o).all(axis=(1, 2)))
        if len(good):
            return cand[good[0]]
    return None


def _flock_sizes(o: BirdsOptions) -> list[int]:
    """Birds per flock: as even as whole birds allow, the first flock the largest."""
    n = min(o.flocks, o.count)
    return [o.count // n + (1 if k < o.count % n else 0) for k in range(n)]


def _flight_paths(space: SceneSpace, o: BirdsOptions, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """(count, K+1, 3): the painting's flock, then the flocks round the visitor (a flock
    with no room round the visitor joins the painting's)."""
    sizes = _flock_sizes(o)
    around, spare = [], 0
    n_around = len(sizes) - 1
    offset = rng.uniform(0.0, 2 * math.pi)
    for k, n in enumerate(sizes[1:]):
        sector = (offset + 2 * math.pi * k / n_around, offset + 2 * math.pi * (k + 1) / n_around)
        pos = _around_flock(space, replace(o, count=n), rng, t, sector)
        if pos is None:
            log.info("birds: no room for a flock at headings %.0f-%.0f degrees; it joins the first",
                     *np.degrees(sector))
            spare += n
        else:
            around.append(pos)
    first = _frame_flock(space, replace(o, count=sizes[0] + spare), rng, t)
    if first is None:
        raise InputError("found no path for the birds that stays in the open sky",
                         hint="lower birds.speed or birds.spread, or change min/max_distance")
    return np.concatenate([first] + around, axis=0)


def birds(scene: Scene, options: BirdsOptions = DEFAULT_BIRDS, seed: int = 0) -> Effect:
    """Bake flocks flying in ``scene``'s sky; raises InputError if the painting shows none."""
    check_options(options)
    o = options
    if o.max_distance <= o.min_distance:
        raise InputError(f"max_distance ({o.max_distance}) must exceed min_distance ({o.min_distance})")
    space = scene_space(scene)
    if not space.sky_mask.any():
        raise InputError("birds need open sky, and no sky is visible in this scene",
                         hint="leave birds out, or lift the painting with a sky mask")
    rng = np.random.default_rng(seed)
    t = loop_times(o.loop_seconds, KEYS).astype(np.float64)
    pos = _flight_paths(space, o, rng, t)
    return _bake_flock(pos, o, rng, t)


def _bake_flock(pos: np.ndarray, o: BirdsOptions, rng: np.random.Generator, t: np.ndarray) -> Effect:
    """Nodes and tracks of birds flying the paths ``pos`` (count, K+1, 3)."""
    # Headings from periodic central differences: the path is a closed loop.
    p = pos[:, :-1]
    vel = (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / (2 * (t[1] - t[0]))
    yaw = np.arctan2(-vel[..., 0], -vel[..., 2])
    pitch = np.arctan2(vel[..., 1], np.hypot(vel[..., 0], vel[..., 2]))
    turn = np.angle(np.exp(1j * (np.roll(yaw, -1, axis=1) - np.roll(yaw, 1, axis=1))))
    roll = np.clip(turn * 2.0, -0.6, 0.6)
    q = _quat_yaw_pitch_roll(yaw, pitch, roll)
    for k in range(1, q.shape[1]):  # keep neighbouring keys on the same hemisphere
        flip = np.sum(q[:, k] * q[:, k - 1], -1) < 0
        q[flip, k] *= -1
    q = np.concatenate([q, q[:, :1]], axis=1)  # the loop closes on the first key exactly
    beats = int(round(o.flap_hz * o.loop_seconds))
    tf = loop_times(o.loop_seconds, max(KEYS, 8 * beats)).astype(np.float64)  # 8 keys per wing beat
    mesh = bird_mesh(o.size, o.color)
    nodes, tracks = [], []
    for b in range(o.count):
        node = Node(f"bird_{b:02d}", mesh=mesh, weights=[0.0])
        ph = rng.uniform(0, 2 * math.pi)
        # Flap with a slow glide: the beat's amplitude swells and fades once per loop.
        glide = 0.65 + 0.35 * np.cos(2 * math.pi * tf / o.loop_seconds + rng.uniform(0, 2 * math.pi))
        flap = 0.5 + 0.5 * np.sin(2 * math.pi * beats * tf / o.loop_seconds + ph) * glide
        tt = t.astype(np.float32)
        tracks += [Track(node, "translation", tt, close_loop(pos[b])),
                   Track(node, "rotation", tt, close_loop(q[b])),
                   Track(node, "weights", tf.astype(np.float32), close_loop(flap[:, None]))]
        nodes.append(node)
    return Effect(name="birds", nodes=nodes, clips=[Clip("birds", tracks)], options=options_to_dict(o))
