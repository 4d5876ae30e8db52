"""An interior read as a box room is closed all round from the painting's own surfaces:
ceiling, side walls and the wall behind the visitor, no hole, the painting's colours."""

import cv2
import numpy as np

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.depth.layout import box_depth
from paint2vr.lift import lift
from paint2vr.painting import Painting
from paint2vr.render import render_scene
from paint2vr.scene import camera_for_image

COLOURS = {"floor": (150, 90, 50), "ceiling": (225, 215, 190), "left": (60, 140, 70), "right": (70, 150, 60),
           "far": (50, 80, 170)}


def _room(w=120, h=90, far=9.0, box_room=True):
    """A box room seen down its axis: each face its own colour with fine noise on it."""
    cam = camera_for_image(w, h, 55.0, 1.6)
    cx, cy = w / 2, h * 0.47
    d = box_depth(h, w, (cx, cy), 1.6, cam.focal, 0.3, far).astype(np.float32)
    v, u = np.arange(h)[:, None] + 0.5, np.arange(w)[None, :] + 0.5
    z0 = 1.6 * cam.focal / (h - cy)
    planes = [np.where(v - cy > 0.5, z0 * (h - cy) / np.maximum(v - cy, 1e-3), np.inf),
              np.where(cy - v > 0.5, z0 * cy / np.maximum(cy - v, 1e-3), np.inf),
              np.where(cx - u > 0.5, z0 * cx / np.maximum(cx - u, 1e-3), np.inf),
              np.where(u - cx > 0.5, z0 * (w - cx) / np.maximum(u - cx, 1e-3), np.inf)]
    stack = np.stack([np.broadcast_to(p, (h, w)) for p in planes])
    face = np.where(stack.min(0) >= far, 4, stack.argmin(0))
    noise = cv2.GaussianBlur(np.random.default_rng(0).normal(0, 25, (h, w)).astype(np.float32), (0, 0), 0.8)
    rgb = np.asarray(list(COLOURS.values()), np.float32)[face] + noise[..., None]
    extras = {"fov_deg": 55.0, "eye_height": 1.6, "box_room": box_room}
    dm = DepthMap(depth=d, sky=np.zeros((h, w), bool), metric=True, model=ModelInfo("truth"), extras=extras)
    return Painting.from_array(np.clip(rgb, 0, 255).astype(np.uint8)), dm


def _detail(rgb):
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)).mean())


def test_box_room_is_closed_from_its_own_walls():
    painting, dm = _room()
    scene = lift(painting, dm)
    assert "room" in [layer.name for layer in scene.layers]
    ref = _detail(painting.rgb)
    for yaw, colour in ((90, "left"), (-90, "right"), (180, "far")):
        view, covered = render_scene(scene, width=120, yaw_deg=yaw)
        assert covered.all()
        mid = view[30:60].reshape(-1, 3).astype(np.float32).mean(axis=0)
        # Eye level: the side walls beside the visitor, behind it a wall quilted from the far one.
        assert np.abs(mid - np.asarray(COLOURS[colour])).max() < 30, (yaw, mid)
        # Not flat colour: the walls' own strokes (a small painting resolves its foreshortened
        # walls coarsely, so seen from 2 m they are softer than the painting).
        assert _detail(view) > 0.1 * ref


def test_no_room_without_a_box():
    painting, dm = _room(box_room=False)
    assert "room" not in [layer.name for layer in lift(painting, dm).layers]


def test_room_keeps_the_painted_sky_in_the_start_view():
    painting, dm = _room()
    rgb, sky, depth = painting.rgb.copy(), np.zeros(dm.depth.shape, bool), dm.depth.copy()
    sky[0:6, 40:80] = True  # a skylight in the ceiling
    rgb[sky] = (120, 170, 235)
    depth[sky] = 1000.0
    dm = DepthMap(depth=depth, sky=sky, metric=True, model=ModelInfo("truth"), extras=dm.extras)
    scene = lift(Painting.from_array(rgb), dm)
    view, _ = render_scene(scene, width=120)
    patch = view[1:5, 44:76].reshape(-1, 3).astype(np.float32).mean(axis=0)
    assert np.abs(patch - (120, 170, 235)).max() < 40, patch  # the ceiling would be (225, 215, 190)
