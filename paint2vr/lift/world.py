"""The world around the lifted painting: ground, walkable zone and surroundings, in one step.

:func:`build_world` takes the painting, its depth on the lift's working grid and the start
camera, and returns the ground layer (with the navmesh and collider as hidden child nodes),
the backdrop layers (the painting's sky window and the panorama sphere) and the walk zone
record for the provenance (docs/lift.md, "The world around the painting").
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from ..scene import Camera, Layer
from .ground import CELL, NAVMESH, ground_height, ground_layer, ground_tile, walk_zone, zone_meshes
from .panorama import backdrop_layers, horizon_below, horizon_reach, world_panorama
from .room import fit_box, room_layer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkView:
    """The depth on the lift's working grid (the painting's frame only), in world terms."""

    dep: np.ndarray
    """(h, w) float32 metres along the view axis."""
    land: np.ndarray
    """(h, w) bool: not sky."""
    near: np.ndarray
    """(h, w) bool: land nearer than the farthest layer (not copied into the far band)."""
    px: np.ndarray
    """(w,) painting pixel column of each working column (centres)."""
    py: np.ndarray
    """(h,) painting pixel row of each working row (centres)."""


def lifted_points(wv: WorkView, cam: Camera) -> np.ndarray:
    """(N, 3) world points of the working grid's land pixels."""
    d = wv.dep[wv.land]
    yy, xx = np.nonzero(wv.land)
    u, v = wv.px[xx], wv.py[yy]
    x = (u - cam.width / 2.0) / cam.focal * d + cam.position[0]
    y = cam.position[1] - (v - cam.height / 2.0) / cam.focal * d
    z = cam.position[2] - d
    return np.stack([x, y, z], -1)


def build_world(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, window: np.ndarray, wv: WorkView,
                cam: Camera, distance: float, pano_width: int, ground_texture: int, ground_radius: float,
                zone_radius: float, seed: int, room: bool = False,
                horizon_row: float | None = None, band_scale: int = 1) -> tuple[list[Layer], dict, dict]:
    """(layers: ground, sky window, panorama, and with ``room`` the room's ceiling and walls
    (:mod:`.room`); walk_zone record; seconds per step).

    ``rgb``, ``depth``, ``sky`` are the painting's at full size, ``window`` the painting's
    sky texture for the window (the frame only); ``room``: the depth reads the painting as a
    box room (an interior closed all round); ``horizon_row`` the painting's horizon row (the
    depth's camera hint), below the eye: the ground ends where it meets it and the far band
    shows down to it; ``band_scale`` > 1: the far band also at that many times the panorama's
    resolution, as its own layer in front of it.
    """
    t = {}
    t0 = time.perf_counter()
    # Texture sizes follow the painting's own angular resolution (a small painting gets a
    # small world), up to the options' caps; powers of two for the tiling ground.
    pano_width = int(min(pano_width, max(256, 2 ** math.ceil(math.log2(2 * math.pi * cam.focal)))))
    ground_texture = int(min(ground_texture, max(64, 2 ** math.ceil(math.log2(max(rgb.shape[:2]))))))
    y = ground_height(wv.dep, wv.land, wv.py, cam)
    gr = ground_tile(rgb, depth, sky, cam, y, ground_texture, seed)
    half_angle = math.atan(cam.width / 2.0 / cam.focal)
    ground = ground_layer(gr, cam, horizon_reach(cam, y, horizon_row, ground_radius), half_angle)
    t["ground"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    start = (float(cam.position[0]), float(cam.position[1]), float(cam.position[2]))
    points = lifted_points(wv, cam)
    walkable, obstacle, half = walk_zone(points, y, start, zone_radius)
    nav, col = zone_meshes(walkable, obstacle, half, y, start)
    ground.node.children.append(nav)
    if col is not None:
        ground.node.children.append(col)
    t["walk_zone"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    horizon, _ = horizon_below(cam, horizon_row)
    pano, band = world_panorama(rgb, sky, wv.near, gr, cam, pano_width, seed, horizon=horizon, band_scale=band_scale)
    layers = [ground, *backdrop_layers(pano, window, cam, distance, horizon=horizon, band=band)]
    t["panorama"] = time.perf_counter() - t0
    if room:
        t0 = time.perf_counter()
        layers.insert(1, room_layer(rgb, depth, fit_box(points, y, cam, zone_radius), cam, seed,
                                    material=wv.land & ~wv.near, sky=sky))
        t["room"] = time.perf_counter() - t0
    record = {"navmesh": NAVMESH, "radius_m": float(zone_radius), "start": list(start),
              "ground_y": float(y), "walkable_m2": float(walkable.sum() * CELL * CELL)}
    log.debug("world: %s", {k: round(v, 3) for k, v in t.items()})
    return layers, record, t
