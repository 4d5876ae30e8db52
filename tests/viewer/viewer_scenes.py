"""Small hand-built scenes for the viewer and preview tests (no lifting involved)."""

from __future__ import annotations

import math

import numpy as np

from paint2vr.painting import PaintingInfo
from paint2vr.scene import Clip, Effect, Layer, Mesh, Node, Scene, Track, camera_for_image

WIDTH, HEIGHT = 64, 48


def painting_rgb() -> np.ndarray:
    """A smooth 'painting': a blue sky fading to a warm ground, with a red sun."""
    v = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    u = np.linspace(0.0, 1.0, WIDTH)[None, :, None]
    sky = np.array([70, 120, 200])
    ground = np.array([190, 140, 60])
    img = sky * (1 - v) + ground * v + 30 * (u - 0.5)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    img[(yy - 12) ** 2 + (xx - 44) ** 2 < 36] = (230, 40, 30)
    return np.clip(img, 0, 255).astype(np.uint8)


def quad(name: str, z: float, half_w: float, half_h: float, centre_y: float, **mesh: object) -> Mesh:
    pos = np.array([[-half_w, centre_y - half_h, -z], [half_w, centre_y - half_h, -z],
                    [half_w, centre_y + half_h, -z], [-half_w, centre_y + half_h, -z]], np.float32)
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
    return Mesh(name=name, positions=pos, faces=np.array([[0, 1, 2], [0, 2, 3]], np.uint32), uvs=uv, **mesh)


def painting_scene(title: str = "Test painting", animated: bool = True, sid: str = "p1") -> Scene:
    """The painting on a backdrop that fills the start view (slightly over-sized so a small
    camera move still sees painting), plus a bird flying left to right over 2 s."""
    cam = camera_for_image(WIDTH, HEIGHT)
    info = PaintingInfo(id=sid, title=title, artist="Nobody", license="CC0",
                        attribution="Nobody, Test painting, CC0")
    scene = Scene(info=info, camera=cam, preview_rgb=painting_rgb())
    z = 50.0
    half_h = z * math.tan(cam.yfov / 2) * 1.15
    half_w = half_h * cam.aspect
    backdrop = quad("sky", z, half_w, half_h, cam.position[1], texture=painting_rgb())
    scene.layers.append(Layer("sky", Node("sky", backdrop), (z, z), kind="sky"))
    scene.provenance.update({"sha256": "cd" * 32, "seed": 1})
    if animated:
        tri = np.array([[-0.3, -0.2, 0], [0.3, -0.2, 0], [0, 0.2, 0]], np.float32)
        white = np.ones((3, 4), np.float32)
        bird = Mesh(name="bird", positions=tri, faces=np.array([[0, 1, 2]], np.uint32), colors=white,
                    morph_targets=[np.array([[0, 0.2, 0], [0, 0.2, 0], [0, 0, 0]], np.float32)])
        node = Node("bird0", mesh=bird, translation=(-2.0, 1.8, -8.0), weights=[0.0])
        times = np.array([0.0, 1.0, 2.0], np.float32)
        xs = np.array([-2.0, 0.0, 2.0], np.float32)
        move = Track(node, "translation", times, np.stack([xs, np.full(3, 1.8), np.full(3, -8.0)], 1).astype(np.float32))
        flap = Track(node, "weights", times, np.array([[0.0], [1.0], [0.0]], np.float32))
        scene.effects.append(Effect("birds", nodes=[node], clips=[Clip("birds", [move, flap])]))
    return scene


# -- a walkable world: navmesh, collider and walk zone as world-scene writes them ----------

MAGENTA = np.array([1.0, 0.0, 1.0, 1.0], np.float32)
WALL_Z = 1.0
"""The collider wall stands across the zone behind the start pose, at z = WALL_Z."""
NAV_HALF_X = 1.5
"""The navmesh spans x in [-NAV_HALF_X, NAV_HALF_X] (narrower than the zone)."""
ZONE_RADIUS = 2.0


def ground_height(z: np.ndarray | float) -> np.ndarray:
    """The navmesh's height: flat near the start, rising 15 % beyond z = -0.5."""
    return 0.15 * np.maximum(0.0, -np.asarray(z, np.float64) - 0.5)


def grid_mesh(name: str, xs: np.ndarray, zs: np.ndarray, ys: np.ndarray) -> Mesh:
    gx, gz = np.meshgrid(xs, zs)
    pos = np.stack([gx, ys, gz], -1).reshape(-1, 3).astype(np.float32)
    idx = np.arange(gx.size).reshape(gx.shape)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    faces = np.concatenate([np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)])
    return Mesh(name=name, positions=pos, faces=faces.astype(np.uint32),
                colors=np.tile(MAGENTA, (len(pos), 1)))


def walkable_scene() -> Scene:
    """The painting scene plus a sloped navmesh, a wall collider behind the start and a walk
    zone of ZONE_RADIUS, both walk nodes magenta (they must never be drawn)."""
    scene = painting_scene(animated=False)
    zs = np.arange(-3.0, 2.0001, 0.25)
    xs = np.linspace(-NAV_HALF_X, NAV_HALF_X, 13)
    nav = grid_mesh("paint2vr_navmesh", xs, zs, np.broadcast_to(ground_height(zs)[:, None], (len(zs), len(xs))))
    wall = grid_mesh("paint2vr_collider", xs, np.array([WALL_Z, WALL_Z]), np.zeros((2, len(xs))))
    wall.positions[len(xs):, 1] = 2.5  # the second row stands up: a vertical wall
    wall.positions[len(xs):, 2] = WALL_Z
    sky = scene.layers[0].node
    sky.children.append(Node("paint2vr_navmesh", nav, extras={"paint2vr_role": "navmesh"}))
    sky.children.append(Node("paint2vr_collider", wall, extras={"paint2vr_role": "collider"}))
    scene.provenance["walk_zone"] = {"navmesh": "paint2vr_navmesh", "radius_m": ZONE_RADIUS, "start": [0.0, 0.0, 0.0]}
    return scene


def in_frame(shot: np.ndarray, rect: dict) -> np.ndarray:
    """The part of a viewer screenshot inside the painting's frame (the page's paintingRect(),
    CSS pixels at device scale 1), one pixel in from its edges."""
    left, top = int(np.ceil(rect["left"])) + 1, int(np.ceil(rect["top"])) + 1
    right, bottom = int(np.floor(rect["right"])) - 1, int(np.floor(rect["bottom"])) - 1
    return shot[max(top, 0):min(bottom, shot.shape[0]), max(left, 0):min(right, shot.shape[1])]
