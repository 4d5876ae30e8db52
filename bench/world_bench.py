"""Benchmark of the world around the visitor: the checker's figures per painting, and sheets.

Run: ``python -m bench.world_bench [--out DIR] [--side PX] [--views] [PAINTING ...]``
(default: ../shared/paintings and ../shared/paintings/dev). Each painting is converted with
the built-in depth and no effects (longest side ``--side``, default 1024), saved as a quest
GLB, rendered by three.js in headless Chromium (bench/world_check.py) and measured: holes,
detail and palette per view, PSNR of the start camera's view. Prints one summary row per
painting (``--views``: every view), writes OUT/NAME.glb, OUT/NAME_sheet.png (the look-around
sheet, for looking by eye; with ``--step-aside`` also OUT/NAME_side.png, the views from 2 and
1 m left, 1 and 2 m right) and OUT/world_bench.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.world_check import TARGETS, check_world, failures, look_around_sheet  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT.parent / "shared" / "paintings").resolve()
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def default_paintings() -> list[Path]:
    out = []
    for folder in (SHARED, SHARED / "dev"):
        if folder.is_dir():
            out += sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    return out


def summary(res: dict) -> dict:
    """The worst figure per kind of view."""
    v = res["views"]
    level = [r["detail"] for r in v if r["pitch"] == 0]
    return {"holes": max(r["holes"] for r in v), "detail_level_min": min(level),
            "detail_behind": min(r["detail"] for r in v if r["pitch"] == 0 and r["yaw"] == 180),
            "detail_down": min(r["detail"] for r in v if r["pitch"] < 0),
            "detail_up": min(r["detail"] for r in v if r["pitch"] > 0),
            "palette_min": min(r["palette"] for r in v), "psnr_db": res["psnr_db"],
            "seam_ratio": res.get("seam", {}).get("ratio", float("nan"))}


SIDE_STEPS = (-2.0, -1.0, 1.0, 2.0)
"""Metres to the side of the start pose (positive right) of the ``--step-aside`` views."""


def side_views(glb: Path, rgb, width: int = 480, sheet: Path | None = None) -> dict:
    """Level views looking ahead from 1 and 2 m left and right of the start pose (what a
    visitor sees stepping round a tree or a figure: the hidden parts' fill), measured like
    the checker's; not among the issue's targets. Returns {"side_Nm": detail, ...,
    "holes": worst share, "palette_min"}; with ``sheet``, writes the four views there as
    one PNG row (for looking by eye)."""
    import math

    import cv2
    import numpy as np

    from bench.world_check import HFOV, measure, render_views

    H, W = rgb.shape[:2]
    height = max(2, int(round(width * H / W)))
    yfov = math.degrees(2 * math.atan(math.tan(math.radians(HFOV / 2)) / (width / height)))
    views = [{"name": f"side_{dx:+.0f}m", "offset": [dx, 0.0, 0.0], "yaw": 0.0, "pitch": 0.0, "yfov": yfov}
             for dx in SIDE_STEPS]
    _, shots = render_views(glb, width, height, views)
    rows = measure(shots, rgb)["views"]
    if sheet is not None:
        row = np.concatenate([v.rgba[..., :3] for v in shots], axis=1)
        cv2.imwrite(str(sheet), cv2.cvtColor(np.ascontiguousarray(row), cv2.COLOR_RGB2BGR))
    out = {r["view"]: round(r["detail"], 3) for r in rows}
    out.update(holes=max(r["holes"] for r in rows), palette_min=round(min(r["palette"] for r in rows), 3))
    return out


def one(path: Path, out: Path, side: int, side_steps: bool = False) -> dict:
    from paint2vr.export import save_scene
    from paint2vr.painting import LoadOptions, load_painting
    from paint2vr.pipeline import ConvertOptions, convert

    t0 = time.perf_counter()
    scene = convert(path, ConvertOptions(load=LoadOptions(max_side=side)))
    t1 = time.perf_counter()
    glb = save_scene(scene, out / f"{path.stem}.glb")
    rgb = load_painting(path, options=LoadOptions(max_side=side)).rgb
    res, views = check_world(glb, rgb)
    look_around_sheet(views, rgb, res, out / f"{path.stem}_sheet.png")
    res.update(painting=path.name, convert_s=round(t1 - t0, 2), summary=summary(res), missed=failures(res))
    if side_steps:
        res["side"] = side_views(glb, rgb, sheet=out / f"{path.stem}_side.png")
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paintings", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=Path("/tmp/world_bench"))
    ap.add_argument("--side", dest="max_side", type=int, default=1024,
                    help="longest side the paintings are converted at")
    ap.add_argument("--views", action="store_true", help="print every view's figures")
    ap.add_argument("--step-aside", action="store_true", dest="side_steps",
                    help="also measure level views from 1 and 2 m left and right of the start pose")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    paths = a.paintings or default_paintings()
    rows = []
    print(f"targets: {json.dumps(TARGETS)}")
    print("| painting | holes | detail level min | behind | down | up | palette min | PSNR dB | seam (edge/inside) | convert s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in paths:
        res = one(p, a.out, a.max_side, a.side_steps)
        s = res["summary"]
        print(f"| {p.stem} | {s['holes']:.4f} | {s['detail_level_min']:.2f} | {s['detail_behind']:.2f} | "
              f"{s['detail_down']:.2f} | {s['detail_up']:.2f} | {s['palette_min']:.2f} | {s['psnr_db']:.2f} | "
              f"{s['seam_ratio']:.2f} ({res['seam']['step']:.1f}/{res['seam']['inside']:.1f}) | {res['convert_s']} |",
              flush=True)
        if "side" in res:
            print(f"|   side views (detail; holes, palette min) | {json.dumps(res['side'])} |", flush=True)
        if a.views:
            for r in res["views"]:
                print(f"|   {r['view']} | {r['holes']:.4f} | {r['detail']:.2f} | | | | {r['palette']:.2f} | | |")
        rows.append(res)
    (a.out / "world_bench.json").write_text(json.dumps(rows, indent=1))
    print(f"sheets and GLBs in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
