"""The viewer in headless Chromium: the GLB loads, the painting shows, animations run, the
walkable zone holds, provenance is shown, and Enter VR starts a session on an emulated Quest 3."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paint2vr.export import save_scene
from paint2vr.viewer import serve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from viewer_scenes import in_frame, painting_rgb, painting_scene  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "browser_check.mjs"
CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the browser test runs on Linux only"),
]


def tools() -> str:
    """node's path; fails (never skips) when a browser-test tool is missing."""
    node = shutil.which("node")
    missing = [name for name, ok in [
        ("node", node is not None), (str(CHROMIUM), CHROMIUM.exists()),
        ("node_modules/playwright-core", (ROOT / "node_modules" / "playwright-core" / "package.json").exists()),
        ("node_modules/iwer", (ROOT / "node_modules" / "iwer" / "package.json").exists()),
    ] if not ok]
    if missing:
        pytest.fail(f"browser test tools missing: {', '.join(missing)} (run scripts/test.sh)")
    return node  # type: ignore[return-value]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    node = tools()
    folder = tmp_path_factory.mktemp("browser")
    glb = save_scene(painting_scene(), folder / "scene.glb")
    with serve(glb, "127.0.0.1", 0) as srv:
        out = subprocess.run([node, str(SCRIPT), srv.url, str(folder)], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_loads_without_errors(report):
    assert report["error"] is None
    assert report["consoleErrors"] == [] and report["pageErrors"] == []
    assert report["badResponses"] == []


def test_provenance_overlay(report):
    assert report["provenance"]["title"] == "Test painting"
    for text in ("Test painting", "Nobody", "CC0", "Nobody, Test painting, CC0"):
        assert text in report["overlay"]


def test_starts_at_the_start_camera(report):
    assert report["start"] == pytest.approx([0.0, 1.6, 0.0])
    assert report["camera0"] == pytest.approx([0.0, 1.6, 0.0], abs=1e-6)


def test_canvas_shows_the_painting(report):
    shot = in_frame(np.asarray(Image.open(report["shot1"]).convert("RGB"), dtype=np.float64), report["paintingRect"])
    painting = painting_rgb().astype(np.float64)
    # Not blank, not a flat colour, not magenta (missing texture): the painting's colours.
    assert shot.std(axis=(0, 1)).mean() > 15
    assert np.abs(shot.mean(axis=(0, 1)) - painting.mean(axis=(0, 1))).max() < 20
    # Its layout too: the top (sky) is bluer than the bottom (ground), the red sun top-right.
    h, w = shot.shape[:2]
    top, bottom = shot[: h // 4].mean(axis=(0, 1)), shot[-h // 4:].mean(axis=(0, 1))
    assert top[2] > bottom[2] + 40 and bottom[0] > top[0] + 40
    red = (shot[..., 0] > 180) & (shot[..., 1] < 90) & (shot[..., 2] < 90)
    ys, xs = np.nonzero(red)
    assert red.sum() > 50 and xs.mean() > w / 2 and ys.mean() < h / 2


def test_animations_advance(report):
    before, after = report["before"], report["after"]
    assert report["clips"] == ["birds"]
    assert after["t"] > before["t"] + 0.2 and after["frames"] > before["frames"]
    assert before["nodes"]["bird0"] != pytest.approx(after["nodes"]["bird0"])
    diff = np.abs(np.asarray(Image.open(report["shot1"]), np.int16) - np.asarray(Image.open(report["shot2"]), np.int16))
    assert (diff.max(axis=2) > 60).sum() > 20  # the bird moved on screen


def test_walkable_zone_holds_the_visitor(report):
    x, y, z = report["cameraWalked"]
    r = report["walkRadius"]
    assert 0.5 <= r <= 1.0
    assert np.hypot(x, z) == pytest.approx(r, abs=0.02)  # walked 1.5 s forward, stopped at the edge
    assert z < 0 and y == pytest.approx(1.6)


def test_flat_ground_teleport_without_a_navmesh(report):
    # The older files: flat ground at y = 0 inside the walkable radius; a double-click on it jumps.
    loco = report["flatTeleport"]
    assert loco["zone"]["navmesh"] is False and loco["zone"]["collider"] is False
    target = loco["lastTeleport"]
    assert target is not None and target[1] == pytest.approx(0.0, abs=1e-6)
    assert 0.2 < -target[2] < report["walkRadius"]
    assert loco["head"] == pytest.approx([target[0], 1.6, target[2]], abs=1e-4)


def test_enter_vr_starts_an_immersive_session(report):
    assert report["buttonBefore"] == "ENTER VR"
    assert report["presenting"] is True and report["xrFrames"] > 3, report.get("xrWaitError")
    assert report["buttonAfter"] == "EXIT VR"


def test_provenance_label_shown_in_vr(report):
    # The HTML overlay is not drawn in a headset: the label in the scene carries the provenance.
    assert report["labelBefore"]["visible"] is False
    assert report["labelInVR"]["visible"] is True
    assert report["labelInVR"]["lines"] == ["Test painting", "Nobody", "Licence: CC0", "\u00a9 Nobody, Test painting, CC0"]
