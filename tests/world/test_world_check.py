"""The world checker (bench/world_check.py): its measures on known images, the browser
renderer on a hand-built scene whose holes are known, and the sample painting's world
against the issue's targets."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "viewer"))
from bench.world_check import (TARGETS, View, ab_histogram, check_world, failures, frame_seam,  # noqa: E402
                               grey_gradient, look_around_sheet, measure, psnr, tools_missing, view_list)

SAMPLE = ROOT / "assets" / "sample_painting.png"


def _painting(h: int = 90, w: int = 120) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2] = (90, 140, 210)
    img[h // 2:] = (70, 130, 40)
    img = img.astype(np.int16) + rng.integers(-20, 20, (h, w, 1), dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def _view(name: str, rgba: np.ndarray, pitch: float = 0.0) -> View:
    return View(name, "start", 0.0, pitch, rgba)


def test_measures_on_known_images():
    p = _painting()
    full = np.dstack([p, np.full(p.shape[:2], 255, np.uint8)])
    flat = full.copy()
    flat[..., :3] = p.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    holed = full.copy()
    holed[:10, :10] = (255, 0, 255, 0)
    res = measure([_view("same", full), _view("flat", flat), _view("holed", holed), _view("painting", full)], p)
    same, flat_r, holed_r = res["views"]
    assert same["detail"] == pytest.approx(1.0) and same["palette"] == pytest.approx(1.0)
    assert same["hole_pixels"] == 0 and flat_r["detail"] == 0.0
    assert holed_r["hole_pixels"] == 100 and holed_r["holes"] == pytest.approx(100 / p[..., 0].size)
    assert res["psnr_db"] == float("inf")
    missed = failures(res)
    assert any(m.startswith("flat: detail") for m in missed) and any(m.startswith("holed: 100 hole") for m in missed)
    assert not any(m.startswith("same") for m in missed)


def test_frame_seam_sees_a_step_at_the_frame_only():
    # A view with a textured frame in its middle half, continued outside by the same texture
    # (no seam) or by a flat colour with a level shift (a seam).
    rng = np.random.default_rng(1)
    tex = rng.integers(60, 200, (80, 160, 1)).repeat(3, axis=2).astype(np.uint8)
    same = frame_seam(tex, 0.5)
    assert 0.5 < same["ratio"] < 2.0
    stepped = tex.copy()
    stepped[:, :40] = 20
    stepped[:, 120:] = 240
    s = frame_seam(stepped, 0.5)
    assert s["ratio"] > 2.0 and s["inside"] == pytest.approx(same["inside"])


def test_palette_and_gradient_helpers():
    red = np.zeros((8, 8, 3), np.uint8)
    red[:] = (220, 30, 30)
    green = red[..., ::-1].copy()
    green[:] = (30, 200, 40)
    assert ab_histogram(red).sum() == pytest.approx(1.0)
    assert np.minimum(ab_histogram(red), ab_histogram(green)).sum() == 0.0
    assert grey_gradient(red) == 0.0
    a = _painting()
    b = a.copy()
    b[0, 0] = (b[0, 0].astype(int) + 10) % 256
    assert 40 < psnr(a, b) < 80


def test_view_list():
    views = view_list(4 / 3)
    names = [v["name"] for v in views]
    assert len(views) == 21 and names[-1] == "painting" and len(set(names)) == 21
    level = [v for v in views if v["pitch"] == 0 and v["yfov"] is not None]
    assert len(level) == 16 and sorted({v["yaw"] for v in level}) == list(range(0, 360, 45))
    assert {v["pitch"] for v in views} == {0.0, 60.0, -60.0}


browser = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the browser renderer runs on Linux only")


def _need_tools():
    missing = tools_missing()
    if missing:
        pytest.fail(f"world checker tools missing: {', '.join(missing)}")


@browser
@pytest.mark.browser
def test_renderer_finds_the_holes_of_a_flat_backdrop(tmp_path):
    """A quad in front of the eye and nothing else: ahead is drawn, behind is all hole."""
    _need_tools()
    from viewer_scenes import painting_rgb, painting_scene

    from paint2vr.export import save_scene
    glb = save_scene(painting_scene(animated=False), tmp_path / "flat.glb")
    res, views = check_world(glb, painting_rgb(), width=96)
    by = {r["view"]: r for r in res["views"]}
    assert by["start_h180"]["holes"] == 1.0 and by["start_up"]["holes"] > 0.5
    assert 0.2 < by["start_h000"]["holes"] < 0.9  # the quad fills the middle of a 100 degree view
    assert res["painting_holes"] < 0.05 and res["psnr_db"] > 20
    sheet = look_around_sheet(views, painting_rgb(), res, tmp_path / "sheet.png")
    assert sheet.stat().st_size > 1000


@browser
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xfail(reason="issue #17: not every target is met yet (palette of the up and down views, detail looking up)", strict=False)
def test_sample_painting_world_meets_the_targets(tmp_path):
    _need_tools()
    from paint2vr.export import save_scene
    from paint2vr.painting import LoadOptions, load_painting
    from paint2vr.pipeline import ConvertOptions, convert
    load = LoadOptions(max_side=480)
    glb = save_scene(convert(SAMPLE, ConvertOptions(load=load)), tmp_path / "sample.glb")
    res, _ = check_world(glb, load_painting(SAMPLE, options=load).rgb)
    assert failures(res) == [], TARGETS
