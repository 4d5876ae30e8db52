"""The studio in real Chromium (playwright-core): drag the horizon, paint sky, set a region's
depth, save; then convert with the saved edits: the region's depth is what was set and the
rest is as before outside a thin band. Forged writes from another page are blocked."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paint2vr.cli.main import main
from paint2vr.edit import dumps_edits, read_edits
from paint2vr.edit.apply import polygon_mask
from paint2vr.studio import single_item, studio_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
REGION_DEPTH = 2.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the browser test runs on Linux only")


def _node() -> str:
    node = shutil.which("node")
    missing = [n for n, ok in [("node", node), (str(CHROMIUM), CHROMIUM.exists()),
                               ("playwright-core", (ROOT / "node_modules" / "playwright-core").is_dir())] if not ok]
    if missing:
        pytest.fail(f"browser test tools missing: {', '.join(missing)} (run scripts/test.sh)")
    return node  # type: ignore[return-value]


@pytest.fixture(scope="module")
def session(tmp_path_factory, sample_rgb_small):
    from PIL import Image
    node = _node()
    folder = tmp_path_factory.mktemp("studio_browser")
    painting = folder / "sample.png"
    Image.fromarray(sample_rgb_small).save(painting)
    with studio_server([single_item(painting)], port=0) as srv:
        run = subprocess.run([node, str(HERE / "studio_check.mjs"), srv.url, str(folder), str(REGION_DEPTH)],
                             cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    if os.environ.get("P2V_STUDIO_SHOTS"):  # regenerate the docs' screenshots
        for name in ("studio_start.png", "studio_edited.png"):
            shutil.copy(folder / name, ROOT / "docs" / "images" / name)
    return report, painting, folder / "sample.edits.json"


def test_the_page_works_without_errors(session):
    report, _, _ = session
    assert report.get("error") is None, report.get("error")
    assert report["consoleErrors"] == [] and report["pageErrors"] == [] and report["badResponses"] == []
    assert report["regions"] == [1, 0, 1]  # undo removed the region, redo brought it back
    # the status line says how long the depth and the 3D view took (a report, not a timed test)
    assert "depth updated in" in report["sceneStatus"] and "3D view in" in report["sceneStatus"]
    assert report["sceneSeconds"] > 0
    assert report["walkNodesHidden"] >= 1  # the ground's navmesh (and collider) are not drawn


def test_saved_edits_hold_the_horizon_sky_and_region(session):
    report, _, edits_path = session
    edits = read_edits(edits_path)
    assert report["saved"] == __import__("hashlib").sha256(edits_path.read_bytes()).hexdigest()
    assert edits.horizon == pytest.approx(0.40, abs=0.02)
    assert len(edits.sky) == 1 and len(edits.regions) == 1 and edits.regions[0].depth == REGION_DEPTH


def test_forged_writes_from_another_page_fail(session):
    report, _, _ = session
    assert report["forged"] == {"none": "blocked", "wrong": "blocked"}


def test_convert_with_the_saved_edits(session, tmp_path):
    _, painting, edits_path = session
    edits = read_edits(edits_path)
    without_region = tmp_path / "no_region.edits.json"
    without_region.write_text(dumps_edits(__import__("dataclasses").replace(edits, regions=())))
    maps = {}
    for name, path in (("with", edits_path), ("without", without_region)):
        out = tmp_path / f"{name}.npy"
        assert main(["depth", str(painting), "--edits", str(path), "-o", str(out)]) == 0
        maps[name] = np.load(out)
    region = polygon_mask(edits.regions[0].polygon, maps["with"].shape)
    land = np.isfinite(maps["with"])
    assert np.median(maps["with"][region & land]) == pytest.approx(REGION_DEPTH, rel=0.10)
    band = __import__("cv2").dilate(region.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    outside = ~band & land & np.isfinite(maps["without"])
    ratio = maps["with"][outside] / maps["without"][outside]
    assert np.all(np.abs(ratio - 1) <= 0.05)
    glb = tmp_path / "scene.glb"
    assert main(["convert", str(painting), "--edits", str(edits_path), "-o", str(glb)]) == 0
    from paint2vr.export.inspect import inspect_file
    prov = inspect_file(glb).provenance
    assert prov["edits"]["sha256"] == __import__("hashlib").sha256(edits_path.read_bytes()).hexdigest()
