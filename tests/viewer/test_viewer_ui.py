"""The viewer's page around the painting (issue 20 item 4): the title/artist/licence card
collapses and expands, the Return-to-start, Fullscreen and Enter VR buttons exist and do what
they say, and at the start pose none of them covers the painting: their boxes lie outside the
painting's rectangle, found from the screenshot's pixels (a flat magenta painting on the
viewer's dark background), in a window of the painting's own shape, a wide one and a tall one."""

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
from paint2vr.export import ExportOptions, save_scene
from paint2vr.painting import PaintingInfo
from paint2vr.scene import Layer, Node, Scene, camera_for_image
from paint2vr.viewer import serve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_viewer_browser import ROOT, tools  # noqa: E402
from viewer_scenes import quad  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "ui_check.mjs"
VIEWPORTS = [(640, 480), (900, 420), (340, 640)]  # the painting's 4:3, wide, a narrow phone
MAGENTA = (230, 30, 200)
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the browser test runs on Linux only")]


def flat_painting_scene() -> Scene:
    """A 4:3 flat magenta painting filling the start camera's frustum exactly, nothing else."""
    w, h = 64, 48
    cam = camera_for_image(w, h)
    info = PaintingInfo(id="ui", title="A flat painting", artist="Nobody", license="CC0",
                        attribution="Nobody, A flat painting, CC0")
    rgb = np.broadcast_to(np.array(MAGENTA, np.uint8), (h, w, 3)).copy()
    scene = Scene(info=info, camera=cam, preview_rgb=rgb)
    z = 20.0
    half_h = z * math.tan(cam.yfov / 2)
    mesh = quad("sky", z, half_h * cam.aspect, half_h, cam.position[1], texture=rgb)
    scene.layers.append(Layer("sky", Node("sky", mesh), (z, z), kind="sky"))
    return scene


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    node = tools()
    folder = tmp_path_factory.mktemp("ui")
    glb = save_scene(flat_painting_scene(), folder / "flat.glb", ExportOptions(profile="desktop"))
    assert_valid_gltf(glb)
    sizes = ",".join(f"{w}x{h}" for w, h in VIEWPORTS)
    with serve(glb, "127.0.0.1", 0) as srv:
        out = subprocess.run([node, str(SCRIPT), srv.url, str(folder), sizes], cwd=ROOT, capture_output=True,
                             text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    assert rep["consoleErrors"] == [] and rep["pageErrors"] == [], rep
    return rep


def painting_box(shot: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the magenta pixels, in CSS pixels (device scale 1)."""
    px = np.asarray(Image.open(shot).convert("RGB"), np.int16)
    mask = (np.abs(px - np.array(MAGENTA)).max(axis=2) < 40)
    ys, xs = np.nonzero(mask)
    assert mask.sum() > 1000, "the painting is not on screen"
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)


def overlaps(a: dict, box: tuple[float, float, float, float]) -> bool:
    left, top, right, bottom = box
    return a["left"] < right and a["right"] > left and a["top"] < bottom and a["bottom"] > top


def check_clear(snap: dict, width: int, height: int) -> tuple[float, float, float, float]:
    box = painting_box(snap["shot"])
    boxes = {k: v for k, v in snap["boxes"].items() if v is not None}
    assert {"overlay", "card-toggle", "reset-button", "fullscreen-button", "VRButton"} <= set(boxes), boxes
    for name, b in boxes.items():
        assert not overlaps(b, box), (name, b, box, (width, height))
    # The page's own account of the frame agrees with the pixels (within antialiasing).
    rect = snap["rect"]
    assert np.allclose([rect["left"], rect["top"], rect["right"], rect["bottom"]], box, atol=2.0), (rect, box)
    # And the painting is not shrunk away: it spans the window's width or most of its free height.
    free = min(b["top"] for k, b in boxes.items() if b["parent"] == "toolbar") - boxes["overlay"]["bottom"]
    assert (box[2] - box[0]) > 0.97 * width or (box[3] - box[1]) > 0.8 * free, (box, free)
    return box


def test_ui_boxes_are_off_the_painting_at_the_start_pose(report):
    assert len(report["views"]) == len(VIEWPORTS)
    for view in report["views"]:
        assert view["error"] is None
        check_clear(view["start"], view["width"], view["height"])


def test_buttons_sit_in_the_toolbar(report):
    boxes = report["views"][0]["start"]["boxes"]
    assert boxes["VRButton"]["parent"] == "toolbar" and boxes["VRButton"]["text"] == "ENTER VR"
    assert boxes["reset-button"]["parent"] == "toolbar" and "Return to start" in boxes["reset-button"]["text"]
    assert "R" in boxes["reset-button"]["text"] and "Fullscreen" in boxes["fullscreen-button"]["text"]


def test_card_collapses_and_expands(report):
    view = report["views"][0]
    expanded, collapsed = view["start"], view["collapsed"]
    assert collapsed["state"]["expanded"] == "false" and collapsed["state"]["bodyShown"] is False
    assert "A flat painting" in collapsed["state"]["overlayText"] and "CC0" not in collapsed["state"]["overlayText"]
    card_before, card_after = expanded["boxes"]["overlay"], collapsed["boxes"]["overlay"]
    assert card_after["bottom"] < card_before["bottom"] - 20  # the card is smaller
    big = check_clear(collapsed, view["width"], view["height"])
    small = painting_box(expanded["shot"])
    assert big[3] - big[1] > small[3] - small[1] + 10  # the frame took the room the card gave back
    assert view["reexpanded"] == {"expanded": "true", "bodyShown": True}


def test_reset_button_returns_to_the_start_view(report):
    view = report["views"][0]
    start, turned, back = (np.array(view[k]["direction"]) for k in ("startView", "turnedView", "resetView"))
    assert np.degrees(np.arccos(np.clip(start @ turned, -1, 1))) > 10  # the drag looked away
    assert back == pytest.approx(start, abs=1e-6)
    assert view["resetCamera"] == pytest.approx([0.0, 1.6, 0.0], abs=1e-6)


def test_fullscreen_button_enters_and_leaves_fullscreen(report):
    view = report["views"][0]
    assert view["fullscreenOn"]["on"] is True and "Exit fullscreen" in view["fullscreenOn"]["label"]
    assert view["fullscreenOff"]["on"] is False and view["fullscreenOff"]["label"].startswith("Fullscreen")
