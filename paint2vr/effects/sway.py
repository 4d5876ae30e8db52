"""Sway: trees and foliage in the lifted layers bend gently in the wind (morph targets)."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..config import check_options, opt, options_to_dict
from ..errors import InputError
from ..scene import Clip, Effect, Mesh, Scene, Track
from .particles import wind_xz
from .space import node_matrix
from .timeline import close_loop, loop_times

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SwayOptions:
    """Options of the tree-and-foliage sway effect."""

    amplitude: float = opt(0.12, ge=0.0, le=5.0)
    """How far (metres) the tops of trees move at most."""
    period_seconds: float = opt(4.0, ge=0.2, le=120.0)
    """Time of one sway back and forth (rounded to fit the loop a whole number of times)."""
    wavelength: float = opt(15.0, ge=0.5, le=1000.0)
    """Length (metres) of the gusts travelling across the scene with the wind."""
    wind_direction_deg: float = opt(0.0, ge=-360.0, le=360.0)
    """Direction the wind blows to: 0 = right, 90 = away from the viewer, 180 = left."""
    min_height: float = opt(0.5, ge=0.0, le=100.0)
    """Parts lower than this above their ground (metres) stay still (trunks, grass)."""
    full_height: float = opt(5.0, ge=0.01, le=200.0)
    """Height above the ground (metres) from which foliage moves the full amplitude."""
    max_moving_vertices: int = opt(30000, ge=1, le=10000000)
    """Most vertices (over all layers) that move; beyond it only the strongest foliage sways,
    which keeps the morph data small (3 targets x 16 bytes per moving vertex)."""
    threshold: float = opt(0.35, ge=0.0, le=1.0)
    """Vegetation score in [0, 1] from which a vertex sways (lower: more of the picture moves)."""
    loop_seconds: float = opt(8.0, ge=1.0, le=120.0)
    """Length of the seamless animation loop in seconds."""


DEFAULT_SWAY = SwayOptions()
KEYS_PER_SWAY = 16


def _box_std(img: np.ndarray, r: int) -> np.ndarray:
    """Local standard deviation over (2r+1)^2 windows, by integral images."""
    def box(a: np.ndarray) -> np.ndarray:
        p = np.pad(a, ((r + 1, r), (r + 1, r)), mode="edge").cumsum(0).cumsum(1)
        k = 2 * r + 1
        return (p[k:, k:] - p[:-k, k:] - p[k:, :-k] + p[:-k, :-k]) / (k * k)
    m = box(img)
    return np.sqrt(np.maximum(box(img * img) - m * m, 0.0))


def vegetation_score(rgb: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """(N, 3) sRGB in [0, 1] and (N,) local detail -> (N,) score in [0, 1] of being foliage:
    a foliage hue (yellow-green through green, 40-150 degrees: not the teal of water, the
    blue of sky or the browns and reds of clothes, hulls and stone), some colour (not grey
    or black), and textured (leaves are busy; walls and calm water are smooth)."""
    mx, mn = rgb.max(-1), rgb.min(-1)
    chroma = mx - mn
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    d = np.maximum(chroma, 1e-9)
    hue = np.select([mx == r, mx == g], [((g - b) / d) % 6, (b - r) / d + 2], (r - g) / d + 4) * 60.0
    hue_ok = _ramp(hue, 40.0, 60.0) * (1.0 - _ramp(hue, 130.0, 150.0))
    return hue_ok * _ramp(chroma, 0.02, 0.06) * _ramp(detail, 0.01, 0.04)


def vegetation_score_reference(rgb: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """Slow, obvious :func:`vegetation_score`, one pixel at a time with :mod:`colorsys`."""
    import colorsys
    out = np.zeros(len(rgb))
    for i, ((r, g, b), t) in enumerate(zip(rgb, detail)):
        h, _, _ = colorsys.rgb_to_hsv(r, g, b)
        chroma = max(r, g, b) - min(r, g, b)
        deg = h * 360.0
        hue_ok = min(max((deg - 40) / 20, 0), 1) * (1 - min(max((deg - 130) / 20, 0), 1))
        out[i] = hue_ok * min(max((chroma - 0.02) / 0.04, 0), 1) * min(max((t - 0.01) / 0.03, 0), 1)
    return out


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _vertex_colors(mesh: Mesh) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-vertex sRGB colour and local texture detail, from the texture or vertex colours."""
    if mesh.texture is not None and mesh.uvs is not None:
        tex = mesh.texture[..., :3]
        step = max(1, int(math.ceil(max(tex.shape[:2]) / 512)))
        small = tex[::step, ::step].astype(np.float64) / 255.0
        luma = small @ np.array([0.299, 0.587, 0.114])
        detail = _box_std(luma, 2)
        h, w = small.shape[:2]
        c = np.clip((mesh.uvs[:, 0] * w).astype(np.int64), 0, w - 1)
        r = np.clip((mesh.uvs[:, 1] * h).astype(np.int64), 0, h - 1)
        return small[r, c], detail[r, c]
    if mesh.colors is not None and mesh.faces is not None:
        lin = np.clip(mesh.colors[:, :3].astype(np.float64), 0, 1)
        srgb = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * lin ** (1 / 2.4) - 0.055)
        luma = srgb @ np.array([0.299, 0.587, 0.114])
        f = mesh.faces.astype(np.int64)
        dev = np.abs(luma[f] - luma[f].mean(1, keepdims=True)).mean(1)  # per-face contrast
        n = len(luma)
        detail = np.bincount(f.ravel(), np.repeat(dev, 3), n) / np.maximum(np.bincount(f.ravel(), minlength=n), 1)
        return srgb, detail * 2.0
    return None


def _smooth(values: np.ndarray, faces: np.ndarray, n: int, iterations: int = 2) -> np.ndarray:
    """Average over each vertex's faces, so neighbouring vertices move together (no tearing)."""
    f = faces.astype(np.int64)
    count = np.maximum(np.bincount(f.ravel(), minlength=n), 1)
    for _ in range(iterations):
        fm = values[f].mean(1)
        values = np.bincount(f.ravel(), np.repeat(fm, 3), n) / count
    return values


def _upright(world: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per vertex, 1 where the surface stands up (a tree's crown faces the eye) and 0 where it
    lies flat (the ground, a field, the sea): from the area-weighted vertex normal's tilt."""
    f = faces.astype(np.int64)
    p = world[f]
    fn = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    n = len(world)
    vn = np.stack([np.bincount(f.ravel(), np.repeat(fn[:, k], 3), n) for k in range(3)], -1)
    ny = np.abs(vn[:, 1]) / np.maximum(np.linalg.norm(vn, axis=1), 1e-12)
    return _ramp(0.85 - ny, 0.0, 0.3)


def _height_above_ground(world: np.ndarray, cell: float = 1.0) -> np.ndarray:
    """Height of each vertex above the lowest vertex near it (its own ground)."""
    x0, z0 = world[:, 0].min(), world[:, 2].min()
    c = ((world[:, 0] - x0) / cell).astype(np.int64)
    r = ((world[:, 2] - z0) / cell).astype(np.int64)
    shape = (r.max() + 1, c.max() + 1)
    grid = np.full(shape[0] * shape[1], np.inf)
    np.minimum.at(grid, r * shape[1] + c, world[:, 1])
    grid = grid.reshape(shape)
    for _ in range(3):  # spread the lows to the neighbours (a trunk's base reaches its crown)
        p = np.pad(grid, 1, mode="edge")
        grid = np.min(np.stack([p[i:i + shape[0], j:j + shape[1]] for i in range(3) for j in range(3)]), 0)
    return world[:, 1] - grid[r, c]


def sway(scene: Scene, options: SwayOptions = DEFAULT_SWAY, seed: int = 0) -> Effect:
    """Add three morph targets (a travelling gust) to the foliage of ``scene``'s land layers and
    a weights track per layer node. Changes the layer meshes in place; returns the Effect
    holding the clip (it adds no nodes)."""
    check_options(options)
    o = options
    if not isinstance(scene, Scene):
        raise InputError(f"expected a paint2vr Scene, got {type(scene).__name__}")
    wx, wz = wind_xz(1.0, o.wind_direction_deg)
    rng = np.random.default_rng(seed)
    cycles = max(1, int(round(o.loop_seconds / o.period_seconds)))
    t = loop_times(o.loop_seconds, KEYS_PER_SWAY * cycles).astype(np.float64)
    phases = 2 * math.pi * np.arange(3) / 3
    found = []
    for layer in scene.layers:
        node, mesh = layer.node, layer.node.mesh
        if layer.kind == "sky" or mesh is None or mesh.faces is None or not mesh.faces.size:
            continue
        if mesh.morph_targets:
            raise InputError(f"layer {layer.name!r} already has morph targets; sway cannot be added twice",
                             hint="add sway once, to a freshly lifted scene")
        cols = _vertex_colors(mesh)
        if cols is None:
            continue
        n = mesh.positions.shape[0]
        m = node_matrix(node)
        world = mesh.positions.astype(np.float64) @ m[:3, :3].T + m[:3, 3]
        score = _smooth(vegetation_score(*cols) * _upright(world, mesh.faces), mesh.faces, n)
        rel = _height_above_ground(world)
        bend = np.clip((rel - o.min_height) / max(o.full_height - o.min_height, 1e-6), 0, 1) ** 1.5
        # Bend depends on height only, so it is smooth already; the trunk's base stays put.
        amount = np.clip((score - o.threshold) / max(1 - o.threshold, 1e-6) * 2, 0, 1) * bend
        found.append((layer, m, world, amount))
    # Over the vertex budget: raise the floor smoothly (amounts ramp from the new floor, so
    # neighbouring vertices still move together).
    every = np.concatenate([a for *_, a in found]) if found else np.zeros(0)
    floor = 1e-3
    if int((every > floor).sum()) > o.max_moving_vertices:
        floor = float(np.sort(every)[-o.max_moving_vertices - 1])
        if not (every > floor).any():
            log.warning("sway: max_moving_vertices=%d is below the number of equally strong foliage "
                        "vertices; nothing sways", o.max_moving_vertices)
    tracks = []
    for layer, m, world, amount in found:
        node, mesh = layer.node, layer.node.mesh
        amount = np.where(amount > floor, (amount - floor) / max(1 - floor, 1e-6), 0.0)
        if not amount.any():
            continue
        # Gust phase across the scene along the wind, in the node's local frame.
        theta = 2 * math.pi * (world[:, 0] * wx + world[:, 2] * wz) / o.wavelength + rng.uniform(0, 2 * math.pi)
        local_dir = np.linalg.solve(m[:3, :3], np.array([wx, 0.0, wz]))
        # Three targets 120 degrees apart, weights 0.5 + 0.5 cos(wt - phase): their sum is a
        # travelling wave 0.75 * A * cos(theta - wt) with no constant offset.
        amp = o.amplitude / 0.75
        mesh.morph_targets = [(amount * np.cos(theta - ph) * amp)[:, None].astype(np.float32)
                              * local_dir[None].astype(np.float32) for ph in phases]
        node.weights = [0.5 + 0.5 * math.cos(-ph) for ph in phases]
        w = 2 * math.pi * cycles * t / o.loop_seconds
        vals = np.stack([0.5 + 0.5 * np.cos(w - ph) for ph in phases], -1)
        tracks.append(Track(node, "weights", t.astype(np.float32), close_loop(vals)))
        log.info("sway: %d of %d vertices of %s move", int((amount > 0).sum()), len(amount), layer.name)
    clips = [Clip("sway", tracks)] if tracks else []
    return Effect(name="sway", nodes=[], clips=clips, options=options_to_dict(o))
