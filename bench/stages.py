"""Per-stage cost of one conversion: seconds per megapixel and peak memory, on one core.

Each measurement runs in a fresh subprocess (so its peak RSS is its own) with every
thread pool pinned to one thread, after a small warm-up conversion (a batch worker's steady
state; the warm-up's own time is reported beside it). ``python -m bench.stages --sizes 1,4,16``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAINTINGS = ROOT.parent / "shared" / "paintings"
ONE_CORE_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "NUMEXPR_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
STAGES = ("load", "depth", "lift", "effects", "export")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure_one(source: str, megapixels: float, effects: str, profile: str) -> dict:
    """Runs inside the worker process: one conversion, timed stage by stage."""
    import cv2
    import torch
    from PIL import Image

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    from paint2vr.export import ExportOptions, export_bytes
    from paint2vr.pipeline import convert, convert_options

    warmup = _warm_up(effects, profile)
    with tempfile.TemporaryDirectory() as tmp:
        if source.startswith("synthetic:"):
            from paint2vr.samples import make_scene
            kind = source.split(":", 1)[1]
            w = int(round(math.sqrt(megapixels * 1e6 * 1.5)))
            h = int(round(w / 1.5))
            rgb, _, _ = make_scene(kind, w, h, seed=1)
            path = Path(tmp) / "in.png"
            Image.fromarray(rgb).save(path, compress_level=1)
        else:
            path = Path(source)
            if megapixels > 0:
                img = Image.open(path).convert("RGB")
                s = math.sqrt(megapixels * 1e6 / (img.width * img.height))
                img = img.resize((max(1, round(img.width * s)), max(1, round(img.height * s))))
                path = Path(tmp) / "in.png"
                img.save(path, compress_level=1)
        base_mb = _peak_mb()
        times: dict[str, float] = {}
        peaks: dict[str, float] = {}

        def on_stage(name: str, seconds: float) -> None:
            times[name] = times.get(name, 0.0) + seconds
            peaks[name] = _peak_mb()

        opts = convert_options({"effects": effects})
        scene = convert(path, opts, on_stage=on_stage)
        t0 = time.perf_counter()
        data = export_bytes(scene, ExportOptions(profile=profile))
        on_stage("export", time.perf_counter() - t0)
        mp = scene.camera.width * scene.camera.height / 1e6
        return {"source": source, "megapixels": round(mp, 3), "seconds": times,
                "seconds_per_mp": {k: v / mp for k, v in times.items()},
                "total_seconds_per_mp": sum(times.values()) / mp,
                "peak_rss_mb": peaks, "baseline_rss_mb": base_mb, "max_rss_mb": _peak_mb(),
                "glb_bytes": len(data), "triangles": scene.triangle_count,
                "draw_calls": len(scene.meshes()), "profile": profile, "warmup_seconds": warmup}


def _warm_up(effects: str, profile: str) -> float:
    """Convert a small synthetic painting first and return its seconds.

    A batch worker converts many paintings per process, so the one-off costs of a process's
    first conversion (lazy imports, OpenCV's colour tables: about 0.2 s) are not a
    per-painting cost; they are reported apart as ``warmup_seconds``.
    """
    from paint2vr.export import ExportOptions, export_bytes
    from paint2vr.pipeline import convert, convert_options
    from paint2vr.samples import make_scene
    from PIL import Image

    t0 = time.perf_counter()
    rgb, _, _ = make_scene("landscape", 240, 160, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "warmup.png"
        Image.fromarray(rgb).save(path)
        opts = convert_options({"effects": effects})
        export_bytes(convert(path, opts), ExportOptions(profile=profile))
    return time.perf_counter() - t0


def run_in_subprocess(source: str, megapixels: float, effects: str = "", profile: str = "quest",
                      timeout: float = 1800) -> dict:
    env = dict(os.environ, **ONE_CORE_ENV)
    cmd = [sys.executable, "-m", "bench.stages", "--worker", source, str(megapixels), effects, profile]
    label = Path(source).name if not source.startswith("synthetic:") else f"{source} {megapixels:g} MP"
    print(f"[bench] {label} ...", end="", file=sys.stderr, flush=True)  # progress: runs take minutes
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    print(f" {time.perf_counter() - t0:.1f} s" + ("" if out.returncode == 0 else " (failed)"), file=sys.stderr)
    if out.returncode != 0:
        return {"source": source, "megapixels": megapixels, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def stage_table(rows: list[dict]) -> str:
    head = ("| input | MP | " + " | ".join(f"{s} s/MP" for s in STAGES)
            + " | total s/MP | peak RSS MB | first conversion in the process s |")
    lines = [head, "|" + "---|" * (len(STAGES) + 5)]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['source']} | {r['megapixels']} | error: {r['error']} |")
            continue
        per = r["seconds_per_mp"]
        cells = [f"{per[s]:.3f}" if s in per else "-" for s in STAGES]
        lines.append(f"| {r['source']} | {r['megapixels']:.2f} | " + " | ".join(cells)
                     + f" | {r['total_seconds_per_mp']:.3f} | {r['max_rss_mb']:.0f} | {r['warmup_seconds']:.2f} |")
    return "\n".join(lines)


TARGET_S_PER_MP = 2.0
"""Full conversion on one core, built-in depth (issue #11)."""
TARGET_PEAK_MB_16MP = 3072.0
"""Peak memory of a 16 MP conversion (issues #4 and #11)."""


def target_lines(rows: list[dict]) -> list[str]:
    """One line per measured input against the CPU targets: met or missed, with the number."""
    out = []
    for r in rows:
        if "error" in r:
            continue
        total = r["total_seconds_per_mp"]
        name = Path(r["source"]).name if not r["source"].startswith("synthetic:") else "synthetic"
        line = (f"{'met   ' if total <= TARGET_S_PER_MP else 'MISSED'} {name} {r['megapixels']:.2f} MP: "
                f"{total:.2f} s/MP (target <= {TARGET_S_PER_MP:g})")
        if r["megapixels"] >= 15.5:
            peak = r["max_rss_mb"]
            line += f"; peak {peak:.0f} MB ({'met' if peak <= TARGET_PEAK_MB_16MP else 'MISSED'}, target <= 3 GB)"
        out.append(line)
    return out


def scaling(rows: list[dict]) -> dict[str, float]:
    """Per stage, s/MP at the largest size over s/MP at the smallest (1.0 = linear in pixels)."""
    syn = [r for r in rows if r["source"].startswith("synthetic:") and "error" not in r]
    if len(syn) < 2:
        return {}
    lo, hi = min(syn, key=lambda r: r["megapixels"]), max(syn, key=lambda r: r["megapixels"])
    return {s: hi["seconds_per_mp"][s] / lo["seconds_per_mp"][s]
            for s in STAGES if s in lo["seconds_per_mp"] and lo["seconds_per_mp"][s] > 0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--worker", nargs=4, metavar=("SOURCE", "MP", "EFFECTS", "PROFILE"), help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="1,4,16", help="megapixel sizes of the synthetic scene")
    ap.add_argument("--paintings", action=argparse.BooleanOptionalAction, default=True,
                    help="also run ../shared/paintings at their own size")
    ap.add_argument("--effects", default="snow,birds", help="effects to include")
    ap.add_argument("--out", default="", help="write the rows as JSON here")
    args = ap.parse_args(argv)
    if args.worker:
        src, mp, eff, prof = args.worker
        print(json.dumps(measure_one(src, float(mp), eff, prof)))
        return 0
    rows = [run_in_subprocess("synthetic:landscape", float(s), args.effects) for s in args.sizes.split(",") if s]
    if args.paintings and PAINTINGS.is_dir():
        for p in sorted(PAINTINGS.glob("*.*")):
            if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
                rows.append(run_in_subprocess(str(p), 0.0, args.effects))
    print(stage_table(rows))
    print("\n".join(target_lines(rows)))
    sc = scaling(rows)
    if sc:
        print("scaling (s/MP at largest / smallest size; 1.0 = linear): "
              + ", ".join(f"{k} {v:.2f}" for k, v in sc.items()))
    if args.out:
        Path(args.out).write_text(json.dumps({"stages": rows, "scaling": sc}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
