"""Quest (KTX2 + meshopt) against desktop (JPEG/PNG) output for each shared painting: file
sizes, texture GPU memory, the three.js view from the start camera against the painting
(PSNR, headless Chromium), and the CPU seconds encoding adds (this process plus basisu).

    OMP_NUM_THREADS=1 PYTHONPATH=$PWD .venv/bin/python bench/headset_bench.py [--out DIR] [painting ...]

With --out DIR the GLBs, the renders and their difference images (|render - painting| x 4)
are kept in DIR.
"""

from __future__ import annotations

import json
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

import paint2vr  # noqa: E402
from p2v_testing import painting_paths  # noqa: E402
from paint2vr.export import ExportOptions, export_bytes  # noqa: E402
from paint2vr.export.inspect import inspect_file  # noqa: E402
from paint2vr.viewer import serve  # noqa: E402

SHOT = ROOT / "tests" / "e2e" / "screenshot.mjs"


def cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def psnr(glb: Path, painting: Path, out: Path) -> float:
    img = Image.open(painting).convert("RGB")
    w = 480
    h = round(w * img.height / img.width)
    with serve(glb, "127.0.0.1", 0) as srv:
        run = subprocess.run(["node", str(SHOT), srv.url, str(out), str(w), str(h)], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    if run.returncode:
        raise RuntimeError(run.stderr[-1000:])
    got = np.asarray(Image.open(out).convert("RGB").resize((w, h)), np.float64)
    ref = np.asarray(img.resize((w, h), Image.Resampling.LANCZOS), np.float64)
    diff = np.clip(np.abs(got - ref) * 4, 0, 255).astype(np.uint8)
    Image.fromarray(diff).save(out.with_name(out.stem + "_diff.png"))
    return float(10 * np.log10(255**2 / ((got - ref) ** 2).mean()))


def one(path: Path, tmp: Path) -> dict:
    scene = paint2vr.convert(str(path))
    mp = scene.info.width * scene.info.height / 1e6 if getattr(scene.info, "width", 0) else None
    rows = {}
    for name, opts in (("desktop", ExportOptions(profile="desktop")),
                       ("quest_plain", ExportOptions(texture_format="png-jpeg", geometry_compression="none")),
                       ("quest", ExportOptions())):
        t0 = cpu()
        data = export_bytes(scene, opts)
        rows[name] = {"cpu_s": round(cpu() - t0, 2), "bytes": len(data)}
        glb = tmp / f"{path.stem}_{name}.glb"
        glb.write_bytes(data)
        rep = inspect_file(glb)
        rows[name]["gpu_mib"] = round(rep.texture_gpu_bytes / 2**20, 2)
        rows[name]["rgba8_mib"] = round(rep.texture_rgba8_bytes / 2**20, 2)
        rows[name]["triangles"], rows[name]["draw_calls"] = rep.triangles, rep.draw_calls
        if name != "quest_plain":
            rows[name]["psnr_db"] = round(psnr(glb, path, tmp / f"{path.stem}_{name}.png"), 2)
    with Image.open(path) as im:
        mp = im.width * im.height / 1e6
    return {"painting": path.name, "megapixels": round(mp, 2), **rows,
            "size_ratio_desktop_over_quest": round(rows["desktop"]["bytes"] / rows["quest"]["bytes"], 2),
            "encoding_cpu_s_added": round(rows["quest"]["cpu_s"] - rows["quest_plain"]["cpu_s"], 2)}


def main(argv: list[str]) -> None:
    keep = None
    if argv[:1] == ["--out"]:
        keep, argv = Path(argv[1]), argv[2:]
        keep.mkdir(parents=True, exist_ok=True)
    paths = [Path(a) for a in argv] or painting_paths()
    with tempfile.TemporaryDirectory() as tmp:
        for p in paths:
            t = time.time()
            row = one(p, keep or Path(tmp))
            row["wall_s"] = round(time.time() - t, 1)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
