"""Walking in the viewer (headless Chromium, IWER's emulated Quest 3): desktop keys, mouse and
double-click teleport; VR thumbstick walking, snap turn, trigger teleport and B reset; the eye
follows the navmesh's height, stops at the zone's edge, the navmesh's edge and the collider,
and the walk nodes are never drawn. The scene is tests/viewer/viewer_scenes.walkable_scene."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from p2v_testing import assert_valid_gltf
from paint2vr.export import save_scene
from paint2vr.viewer import serve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_viewer_browser import CHROMIUM, ROOT, tools  # noqa: E402
from viewer_scenes import NAV_HALF_X, WALL_Z, ZONE_RADIUS, ground_height, walkable_scene  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "locomotion_check.mjs"
EYE = 1.6
BODY_RADIUS = 0.25  # locomotion.js
SNAP = math.radians(30)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not sys.platform.startswith("linux") or not CHROMIUM.exists(),
                       reason="the browser test runs on Linux with Chromium"),
]


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> dict:
    node = tools()
    folder = tmp_path_factory.mktemp("walk")
    glb = save_scene(walkable_scene(), folder / "walk.glb")
    assert_valid_gltf(glb)
    with serve(glb, "127.0.0.1", 0) as srv:
        out = subprocess.run([node, str(SCRIPT), srv.url, str(folder)], cwd=ROOT, capture_output=True,
                             text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result.get("failure") is None, result.get("failure")
    assert result["pageErrors"] == [] and result["consoleErrors"] == []
    return result


def head(step: dict) -> np.ndarray:
    return np.asarray(step["head"], np.float64)


def on_ground(step: dict, eye: float = EYE) -> None:
    """The eye stands ``eye`` above the navmesh under it."""
    x, y, z = head(step)
    assert step["rigY"] == pytest.approx(float(ground_height(z)), abs=2e-3)
    assert y == pytest.approx(float(ground_height(z)) + eye, abs=2e-3)


def test_the_scene_declares_its_walk_zone(walk):
    zone = walk["steps"]["start"]["zone"]
    assert zone == {"centre": [0, 0], "radius": ZONE_RADIUS, "navmesh": True, "collider": True, "hidden": True}
    assert head(walk["steps"]["start"]) == pytest.approx([0, EYE, 0])


def test_desktop_walks_up_the_slope_to_the_zone_edge(walk):
    s = walk["steps"]["forward"]
    x, _, z = head(s)
    assert x == pytest.approx(0, abs=1e-3) and z == pytest.approx(-ZONE_RADIUS, abs=0.02)
    on_ground(s)
    assert s["rigY"] > 0.2  # climbed the rise


def test_desktop_stops_at_the_collider(walk):
    x, y, z = head(walk["steps"]["back"])
    assert z == pytest.approx(WALL_Z - BODY_RADIUS, abs=0.02) and x == pytest.approx(0, abs=1e-3)


def test_desktop_stops_at_the_navmesh_edge(walk):
    x, _, z = head(walk["steps"]["right"])
    assert x == pytest.approx(NAV_HALF_X, abs=0.02) and x <= NAV_HALF_X + 1e-6  # the zone would allow 2 m
    assert z == pytest.approx(0, abs=1e-3)


def test_r_and_the_button_return_to_the_start(walk):
    for name in ("afterR", "afterButton", "afterB", "vrReset"):
        assert head(walk["steps"][name]) == pytest.approx([0, EYE, 0], abs=1e-4), name
        assert walk["steps"][name]["rigYaw"] == pytest.approx(0, abs=1e-9)


def test_double_click_teleports_onto_the_ground(walk):
    s = walk["steps"]["dblclick"]
    target = np.asarray(s["lastTeleport"])
    assert -ZONE_RADIUS < target[2] < -0.5  # looked down at the ground ahead
    assert target[1] == pytest.approx(float(ground_height(target[2])), abs=2e-3)
    assert head(s)[[0, 2]] == pytest.approx(target[[0, 2]], abs=1e-4)
    on_ground(s)


def test_thumbstick_walks_and_follows_the_ground(walk):
    short, far = walk["steps"]["stickShort"], walk["steps"]["stickFar"]
    start = head(walk["steps"]["vrStart"])
    assert head(short)[2] < start[2] - 0.1
    on_ground(short)
    x, _, z = head(far)
    assert math.hypot(x, z) == pytest.approx(ZONE_RADIUS, abs=0.02)  # the zone's edge
    on_ground(far)


def test_snap_turn_rotates_by_one_step_about_the_head(walk):
    right, left2 = walk["steps"]["snapRight"], walk["steps"]["snapLeft2"]
    assert right["snapTurns"] == 1 and right["rigYaw"] == pytest.approx(-SNAP)  # held: one step only
    assert left2["snapTurns"] == 3 and left2["rigYaw"] == pytest.approx(SNAP)
    for s in (right, left2):
        assert head(s) == pytest.approx([0, EYE, 0], abs=1e-4)  # turned in place


def test_trigger_teleports_to_the_marker(walk):
    aiming, done = walk["steps"]["aiming"], walk["steps"]["teleported"]
    assert aiming["marker"] and aiming["arc"] and aiming["target"]["valid"]
    target = np.asarray(aiming["target"]["point"])
    assert 0.5 < -target[2] < ZONE_RADIUS and target[1] == pytest.approx(float(ground_height(target[2])), abs=2e-3)
    assert head(done)[[0, 2]] == pytest.approx(target[[0, 2]], abs=1e-4)
    on_ground(done)
    assert not done["marker"] and not done["arc"]


def test_no_teleport_out_of_the_zone(walk):
    aiming, after = walk["steps"]["aimingFar"], walk["steps"]["afterFar"]
    assert aiming["marker"] and aiming["target"]["valid"] is False
    assert math.hypot(aiming["target"]["point"][0], aiming["target"]["point"][2]) > ZONE_RADIUS
    assert head(after) == pytest.approx([0, EYE, 0], abs=1e-4)


def test_walk_nodes_are_never_drawn(walk):
    # Turned round, looking down at the (magenta) wall and floor: neither is drawn.
    shot = np.asarray(Image.open(walk["vrShot"]).convert("RGB"), np.int16)
    magenta = (shot[..., 0] > 150) & (shot[..., 2] > 150) & (shot[..., 1] < 100)
    assert magenta.sum() == 0
    desk = np.asarray(Image.open(walk["desktopShot"]).convert("RGB"), np.float64)
    assert desk.std(axis=(0, 1)).mean() > 15  # the painting itself still shows
