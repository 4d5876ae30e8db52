"""Benchmark of the studio's feedback loop at about 1 MP on one core, before/after in one run.

Run: ``python -m bench.studio_bench [--before REV] [--repeat N] [PAINTING ...]`` (default: the
sample painting and the shared paintings). For each painting, at the studio's working size
(<= 1 MP): the first depth estimate, a depth update after each kind of edit (horizon, sky,
region, 3 pins), the 3D view's scene (lift + export) after them, and the 3D view after a layer
or effect edit (effects switched off). Targets (issue #18): depth update <= 1 s, 3D view <= 3 s
at 1 MP.

With ``--before REV`` the same measurements also run on the code of git revision REV (its
``paint2vr`` package extracted with ``git archive`` into a temporary folder): once as it was
shipped and once with its 3D view lifted from the full working copy (``SCENE_PIXELS`` set to
the working size, where it has one), interleaved with this tree's runs, each in its own process,
so that the ratios come from one run on one machine load.

With ``--world-check`` it instead renders the 3D view's scene (the live world) and the scene
with convert's full world, both from the working copy with the same edits, in headless
Chromium (:mod:`bench.world_check`: 2 poses x 10 views), and prints per painting the level
views' mean detail, the down views' mean detail, the least palette overlap, the most hole
pixels and the painting view's PSNR of each: is the lighter world still the same world?

With ``--browser`` it opens this tree's studio on each painting in headless Chromium
(bench/studio_view.mjs) and places pins one click at a time, reading the page's status line:
the depth update (the request) and the 3D view (lift, export, transfer and three.js loading)
as a designer waits for them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EDITS = [
    ("horizon", {"horizon": 0.45}),
    ("sky", {"sky": [[[0, 0], [1, 0], [1, 0.2], [0, 0.2]]]}),
    ("region", {"regions": [{"polygon": [[0.1, 0.6], [0.3, 0.6], [0.3, 0.9], [0.1, 0.9]], "depth": 2.0}]}),
    ("3 pins", {"pins": [{"x": 0.2, "y": 0.8, "depth": 3.0}, {"x": 0.5, "y": 0.7, "depth": 6.0},
                         {"x": 0.8, "y": 0.75, "depth": 4.0}]}),
]


def measure(painting: Path, full_scene: bool) -> dict:
    """One painting through the studio session of whichever ``paint2vr`` is importable."""
    import paint2vr.studio.session as session
    from paint2vr.edit import parse_edits
    if full_scene and hasattr(session, "SCENE_PIXELS"):  # older sessions lifted a smaller copy
        session.SCENE_PIXELS = session.WORK_PIXELS
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = session.StudioSession(painting, Path(tmp) / "e.json")
        row = {"painting": painting.name, "pixels": int(s.shape[0] * s.shape[1]),
               "open_s": round(time.perf_counter() - t0, 3)}
        doc: dict = {"paint2vr_edits": 1}
        for name, change in EDITS:
            doc.update(change)
            t0 = time.perf_counter()
            s.preview(parse_edits(doc))
            row[f"depth_{name}_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        glb = s.scene_glb()
        row["scene_s"] = round(time.perf_counter() - t0, 3)
        row["scene_mb"] = round(len(glb) / 2 ** 20, 2)
        doc["effects"] = {}
        s.preview(parse_edits(doc))
        t0 = time.perf_counter()
        s.scene_glb()
        row["scene_after_effect_edit_s"] = round(time.perf_counter() - t0, 3)
    worst = max(v for k, v in row.items() if k.startswith("depth_"))
    row["depth_target"] = "met" if worst <= 1.0 else f"MISSED ({worst:.2f} s)"
    row["scene_target"] = "met" if row["scene_s"] <= 3.0 else f"MISSED ({row['scene_s']:.2f} s)"
    return row


def world_check(painting: Path, out: Path | None) -> list[dict]:
    """The live world's figures beside the full world's (see the module docstring)."""
    from bench.world_check import check_world, look_around_sheet
    from paint2vr.edit import parse_edits
    from paint2vr.studio.session import StudioSession
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for live in (True, False):
            s = StudioSession(painting, Path(tmp) / "e.json", live_world=live)
            s.preview(parse_edits({"paint2vr_edits": 1, **EDITS[2][1]}))
            glb = Path(tmp) / f"{painting.stem}_{'live' if live else 'full'}.glb"
            glb.write_bytes(s.scene_glb())
            res, views = check_world(glb, s.painting.rgb, width=320)
            if out is not None:
                look_around_sheet(views, s.painting.rgb, res, out / f"{glb.stem}.png")
            level = [v for v in res["views"] if v["pitch"] == 0]
            down = [v for v in res["views"] if v["pitch"] < 0]
            rows.append({"painting": painting.name, "world": "live" if live else "full (convert)",
                         "detail_level": round(sum(v["detail"] for v in level) / len(level), 3),
                         "detail_down": round(sum(v["detail"] for v in down) / len(down), 3),
                         "palette_min": round(min(v["palette"] for v in res["views"]), 3),
                         "hole_pixels_max": max(v["hole_pixels"] for v in res["views"]),
                         "psnr_db": round(res["psnr_db"], 2), "glb_mb": round(glb.stat().st_size / 2 ** 20, 2)})
    return rows


def browser_loop(painting: Path, pins: int = 3) -> dict:
    """The page's own figures for ``pins`` pins placed one at a time (see the module docstring)."""
    import shutil
    from paint2vr.studio import single_item, studio_server
    from paint2vr.studio.session import StudioSession
    made: list[float] = []
    scene_glb = StudioSession.scene_glb

    def timed(self):  # the server's part of the 3D view: lift + export
        t0 = time.perf_counter()
        data = scene_glb(self)
        made.append(round(time.perf_counter() - t0, 3))
        return data
    StudioSession.scene_glb = timed  # type: ignore[method-assign]
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("--browser needs node, node_modules (playwright-core) and Chromium")
    with tempfile.TemporaryDirectory() as tmp:
        item = single_item(painting, Path(tmp))
        with studio_server([item], port=0) as srv:
            done = subprocess.run([node, str(ROOT / "bench" / "studio_view.mjs"), srv.url, str(pins)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=1800)
    StudioSession.scene_glb = scene_glb  # type: ignore[method-assign]
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    # the first scene_glb is the opening view; a cached answer (layers list) takes ~0 s
    return {"painting": painting.name, **json.loads(done.stdout.strip().splitlines()[-1]),
            "server_scene_s": [t for t in made[1:] if t > 0.01], "load_avg_1min": round(os.getloadavg()[0], 1)}


def _child(painting: Path, tree: Path, full_scene: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(painting)] + (["--full-scene"] if full_scene else [])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _extract(rev: str, into: Path) -> Path:
    """The ``paint2vr`` package of git revision ``rev``, extracted under ``into``."""
    archive = into / "before.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev, "paint2vr"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree", filter="data")
    return into / "tree"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paintings", nargs="*", type=Path)
    ap.add_argument("--before", metavar="REV", help="also measure the code of this git revision")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--world-check", action="store_true", help="compare the live world with the full one")
    ap.add_argument("--browser", action="store_true", help="the loop as the page sees it, in Chromium")
    ap.add_argument("--sheets", type=Path, help="with --world-check: write look-around sheets here")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--full-scene", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import cv2
    cv2.setNumThreads(1)
    if args.measure:
        print(json.dumps(measure(args.measure, args.full_scene)), flush=True)
        return 0
    paintings = args.paintings or [ROOT / "assets" / "sample_painting.png",
                                   *sorted((ROOT.parent / "shared" / "paintings").glob("*.*[gp]"))]
    paintings = [p for p in paintings if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")]
    if args.browser:
        for _ in range(args.repeat):
            for p in paintings:
                print(json.dumps(browser_loop(p)), flush=True)
        return 0
    if args.world_check:
        sys.path.insert(0, str(ROOT))
        for p in paintings:
            for row in world_check(p, args.sheets):
                print(json.dumps(row), flush=True)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        before = _extract(args.before, Path(tmp)) if args.before else None
        variants = [("after", ROOT, False)]
        if before is not None:
            variants = [("before", before, False), ("before, 3D from 1 MP", before, True)] + variants
        for _ in range(args.repeat):
            for p in paintings:
                for name, tree, full in variants:
                    row = {"code": name, **_child(p, tree, full), "load_avg_1min": round(os.getloadavg()[0], 1)}
                    print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
