"""Quest (KTX2 + meshopt) against desktop (JPEG/PNG) output for each shared painting: file
sizes, texture GPU memory, the three.js view from the start camera against the painting
(PSNR, headless Chromium), and the CPU seconds encoding adds (this process plus basisu).

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD .venv/bin/python bench/headset_bench.py [--out DIR] [--megapixels MP] [--no-render] [painting ...]

PSNR is measured where the render's pixels meet the textures' texels one to one: the viewer's
bare view (``?ui=0``: no card, no buttons) in a window of the painting's shape, ``native_px``
wide (the painting's width, at most the quest's 2048 px texture limit), against the painting
resized to that (Lanczos). Beside it the *ceiling*: the painting itself on one quad filling the
start view (lossless PNG), rendered the same way; and the quest at 480 px, where three.js's
trilinear mipmaps (not the scene) decide most of the error (the ceiling is given there too).
With --out DIR the GLBs, the renders and their difference images (|render - painting| x 4)
are kept in DIR. --megapixels MP first resizes each painting to about MP megapixels;
--no-render skips the renders (sizes, GPU memory and encoding time only).
"""

from __future__ import annotations

import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "viewer"))

import paint2vr  # noqa: E402
from p2v_testing import painting_paths  # noqa: E402
from paint2vr.export import ExportOptions, export_bytes  # noqa: E402
from paint2vr.export.inspect import inspect_file  # noqa: E402
from paint2vr.painting import PaintingInfo  # noqa: E402
from paint2vr.scene import Layer, Node, Scene, camera_for_image  # noqa: E402
from paint2vr.viewer import serve  # noqa: E402
from viewer_scenes import quad  # noqa: E402

SHOT = ROOT / "tests" / "e2e" / "screenshot.mjs"
NATIVE_MAX = 2048  # the quest profile's texture limit
SMALL = 480


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def psnr(glb: Path, painting: Image.Image, out: Path, w: int) -> float:
    h = round(w * painting.height / painting.width)
    with serve(glb, "127.0.0.1", 0) as srv:
        run = subprocess.run(["node", str(SHOT), srv.url, str(out), str(w), str(h)], cwd=ROOT,
                             capture_output=True, text=True, timeout=900)
    if run.returncode:
        raise RuntimeError(run.stderr[-1000:])
    got = np.asarray(Image.open(out).convert("RGB").resize((w, h)), np.float64)
    ref = np.asarray(painting.resize((w, h), Image.Resampling.LANCZOS), np.float64)
    diff = np.clip(np.abs(got - ref) * 4, 0, 255).astype(np.uint8)
    Image.fromarray(diff).save(out.with_name(out.stem + "_diff.png"))
    return round(float(10 * np.log10(255**2 / max(((got - ref) ** 2).mean(), 1e-12))), 2)


def ceiling_scene(painting: Image.Image) -> Scene:
    """The painting itself on one quad filling the start camera's view, with an alpha texel
    so that it is written as lossless PNG: what the renderer alone costs."""
    rgb = np.asarray(painting.convert("RGB"))
    h, w = rgb.shape[:2]
    cam = camera_for_image(w, h)
    scene = Scene(info=PaintingInfo(id="ceiling", title="ceiling"), camera=cam, preview_rgb=rgb)
    z = 50.0
    half_h = z * math.tan(cam.yfov / 2)
    tex = np.dstack([rgb, np.full((h, w), 255, np.uint8)])
    tex[0, 0, 3] = 0
    mesh = quad("layer0", z, half_h * cam.aspect, half_h, cam.position[1], texture=tex)
    scene.layers.append(Layer("layer0", Node("layer0", mesh), (z, z)))
    return scene


def load(path: Path, megapixels: float | None, tmp: Path) -> Path:
    if megapixels is None:
        return path
    with Image.open(path) as im:
        s = math.sqrt(megapixels * 1e6 / (im.width * im.height))
        small = im.convert("RGB").resize((round(im.width * s), round(im.height * s)), Image.Resampling.LANCZOS)
    out = tmp / f"{path.stem}_{megapixels:g}mp.png"
    small.save(out)
    return out


def one(path: Path, tmp: Path, render: bool = True) -> dict:
    scene = paint2vr.convert(str(path))
    # The painting as loaded (a photograph's border cut off, paint2vr.border): what the scene shows.
    painting = Image.fromarray(paint2vr.load_painting(path).rgb)
    native = min(painting.width, NATIVE_MAX)
    rows: dict[str, dict] = {}
    for name, opts in (("desktop", ExportOptions(profile="desktop")),
                       ("quest_plain", ExportOptions(texture_format="png-jpeg", geometry_compression="none")),
                       ("quest", ExportOptions())):
        t0, w0 = cpu(), time.time()
        data = export_bytes(scene, opts)
        rows[name] = {"cpu_s": round(cpu() - t0, 2), "wall_s": round(time.time() - w0, 2), "bytes": len(data)}
        glb = tmp / f"{path.stem}_{name}.glb"
        glb.write_bytes(data)
        rep = inspect_file(glb)
        rows[name]["gpu_mib"] = round(rep.texture_gpu_bytes / 2**20, 2)
        rows[name]["rgba8_mib"] = round(rep.texture_rgba8_bytes / 2**20, 2)
        rows[name]["triangles"], rows[name]["draw_calls"] = rep.triangles, rep.draw_calls
        if name != "quest_plain" and render:
            rows[name]["psnr_db"] = psnr(glb, painting, tmp / f"{path.stem}_{name}.png", native)
        if name == "quest" and render:
            rows[name][f"psnr_{SMALL}_db"] = psnr(glb, painting, tmp / f"{path.stem}_{name}_{SMALL}.png", SMALL)
    ceil = {}
    if render:
        ceiling = tmp / f"{path.stem}_ceiling.glb"
        ceiling.write_bytes(export_bytes(ceiling_scene(painting), ExportOptions(profile="desktop")))
        ceil = {"psnr_db": psnr(ceiling, painting, tmp / f"{path.stem}_ceiling.png", native),
                f"psnr_{SMALL}_db": psnr(ceiling, painting, tmp / f"{path.stem}_ceiling_{SMALL}.png", SMALL)}
    return {"painting": path.name, "megapixels": round(painting.width * painting.height / 1e6, 2),
            "native_px": native, **rows, "ceiling": ceil,
            "size_ratio_desktop_over_quest": round(rows["desktop"]["bytes"] / rows["quest"]["bytes"], 2),
            "encoding_cpu_s_added": round(rows["quest"]["cpu_s"] - rows["quest_plain"]["cpu_s"], 2),
            "encoding_wall_s_added": round(rows["quest"]["wall_s"] - rows["quest_plain"]["wall_s"], 2),
            "cores": len(os.sched_getaffinity(0))}


def main(argv: list[str]) -> None:
    keep, megapixels, render = None, None, True
    while argv[:1] in (["--out"], ["--megapixels"], ["--no-render"]):
        if argv[0] == "--no-render":
            render, argv = False, argv[1:]
            continue
        if argv[0] == "--out":
            keep = Path(argv[1])
            keep.mkdir(parents=True, exist_ok=True)
        else:
            megapixels = float(argv[1])
        argv = argv[2:]
    paths = [Path(a) for a in argv] or painting_paths()
    with tempfile.TemporaryDirectory() as tmp:
        for p in paths:
            t = time.time()
            row = one(load(p, megapixels, Path(tmp)), keep or Path(tmp), render)
            row["wall_s"] = round(time.time() - t, 1)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
