"""The viewer reads the quest profile's files: KTX2 / Basis textures through three.js's
KTX2Loader and its transcoder, EXT_meshopt_compression through the MeshoptDecoder (both from
node_modules), shows loading progress in bytes, and a reload gets the scene as a 304."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paint2vr.export import save_scene
from paint2vr.io.gltf_read import read_gltf
from paint2vr.viewer import serve

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_viewer_browser import ROOT, tools  # noqa: E402
from viewer_scenes import in_frame, painting_rgb, painting_scene  # noqa: E402

SCRIPT = Path(__file__).resolve().parent / "compressed_check.mjs"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the browser test runs on Linux only")]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    node = tools()
    folder = tmp_path_factory.mktemp("compressed")
    glb = save_scene(painting_scene(), folder / "quest.glb")  # the default: KTX2 + meshopt
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())
    logger = logging.getLogger("paint2vr.viewer.server")
    handler, level = Keep(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with serve(glb, "127.0.0.1", 0) as srv:
            out = subprocess.run([node, str(SCRIPT), srv.url, str(folder)], cwd=ROOT, capture_output=True,
                                 text=True, timeout=300)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert out.returncode == 0, out.stderr[-3000:]
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    rep["glb"], rep["log"] = glb, records
    return rep


def test_file_is_compressed(report):
    assert {"EXT_meshopt_compression", "KHR_texture_basisu"} <= set(read_gltf(report["glb"]).extensions_required)


def test_three_js_decodes_ktx2_and_meshopt(report):
    assert report["error"] is None and report["errorAfterReload"] is None
    assert report["consoleErrors"] == [] and report["pageErrors"] == []
    textures = report["textures"]
    assert textures and all(t["compressed"] and t["mipmaps"] > 1 and t["colorSpace"] == "srgb" for t in textures)
    # Sampled anisotropically (the ground towards the horizon is not a flat band of its mean
    # colour): Chromium's SwiftShader offers 16, the viewer takes its 8.
    assert all(t["anisotropy"] == 8 for t in textures), [t["anisotropy"] for t in textures]
    shot = in_frame(np.asarray(Image.open(report["shot"]).convert("RGB"), np.float64), report["paintingRect"])
    painting = painting_rgb().astype(np.float64)
    assert shot.std(axis=(0, 1)).mean() > 15  # the painting, not black (undecoded) or flat
    assert np.abs(shot.mean(axis=(0, 1)) - painting.mean(axis=(0, 1))).max() < 20


def test_progress_in_bytes(report):
    size = report["glb"].stat().st_size
    assert report["progress"]["events"] >= 1
    assert report["progress"]["loaded"] == report["progress"]["total"] == size


def test_second_visit_revalidates_with_304(report):
    # The first visit downloads the scene (200); the second revalidates it, and the page's
    # modules, with the ETag and gets 304 without a body. three.js fetches the scene with
    # fetch(), which goes through Chromium's HTTP cache: that only used the ETag once the
    # server spoke HTTP/1.1 (over HTTP/1.0 the scene came back as 200 every time).
    lines = report["log"]
    scene = [m for m in lines if "/scene/" in m]
    assert any('" 200 ' in m for m in scene[:1]) and any('" 304 ' in m for m in scene[1:]), scene
    assert any("/loading.js" in m and '" 304 ' in m for m in lines), lines
    # The page sees the cached bytes (a 200 from the cache), having transferred only headers.
    timing = report["sceneTiming"]
    assert len(timing) == 1 and 0 < timing[0]["transferSize"] < 1000 < timing[0]["encodedBodySize"], timing


SHOT = ROOT / "tests" / "e2e" / "screenshot.mjs"


def _shot(node: str, glb: Path, out: Path) -> np.ndarray:
    with serve(glb, "127.0.0.1", 0) as srv:
        run = subprocess.run([node, str(SHOT), srv.url, str(out), "256", "192"], cwd=ROOT, capture_output=True,
                             text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    rep = json.loads(run.stdout.strip().splitlines()[-1])
    assert rep.get("error") is None and rep["pageErrors"] == [], rep
    return np.asarray(Image.open(out).convert("RGB"), np.float64)


def _without_texture_transform(data: bytes) -> bytes:
    """The same GLB with KHR_texture_transform taken out (a reader that ignored it)."""
    import struct

    from paint2vr.export.gltf import glb_container
    n = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + n])
    blob = data[28 + n:28 + n + struct.unpack_from("<I", data, 20 + n)[0]]
    for mat in doc["materials"]:
        (mat.get("pbrMetallicRoughness", {}).get("baseColorTexture") or {}).pop("extensions", None)
    for key in ("extensionsUsed", "extensionsRequired"):
        doc[key] = [e for e in doc[key] if e != "KHR_texture_transform"]
    return glb_container(doc, blob)


def test_three_js_draws_quantised_uvs_where_float_uvs_draw(tmp_path):
    # The quest file stores UVs as whole texel steps mapped back by KHR_texture_transform
    # (export.uv_grid): three.js must draw the painting where the plain file (float UVs,
    # PNG) draws it; without the transform it would sample one corner texel.
    from paint2vr.export import ExportOptions
    node = tools()
    scene = painting_scene(animated=False)
    quest = save_scene(scene, tmp_path / "quest.glb")
    plain = save_scene(scene, tmp_path / "plain.glb", ExportOptions(texture_format="png-jpeg", geometry_compression="none"))
    broken = tmp_path / "broken.glb"
    broken.write_bytes(_without_texture_transform(quest.read_bytes()))

    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        return float(10 * np.log10(255 ** 2 / max(((a - b) ** 2).mean(), 1e-9)))
    ref = _shot(node, plain, tmp_path / "plain.png")
    assert ref.std(axis=(0, 1)).mean() > 15
    assert psnr(_shot(node, quest, tmp_path / "quest.png"), ref) > 30
    assert psnr(_shot(node, broken, tmp_path / "broken.png"), ref) < 20
