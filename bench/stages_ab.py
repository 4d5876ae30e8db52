"""Per-stage CPU seconds of one conversion in two source trees, interleaved in one run.

Run: ``python -m bench.stages_ab BEFORE_TREE AFTER_TREE [--mp 1,16] [--painting PATH]
[--reps 3]``. Each case (a synthetic landscape at each ``--mp`` size, and each painting at
its own size) is converted by each tree in a fresh process on one thread, after a small
warm-up conversion, alternately (ABBA...), with effects snow,birds and no export (the
conversion's own stages: load, depth, lift, effects). Reports wall and CPU seconds per stage
(CPU time is far steadier than wall time on a shared, loaded machine) and the process's peak
RSS; prints the median per tree and case as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_WORKER = r'''
import json, math, resource, sys, tempfile, time
import cv2
cv2.setNumThreads(1)
from PIL import Image
from paint2vr.pipeline import convert, convert_options
from paint2vr.samples import make_scene
src, mp = sys.argv[1], float(sys.argv[2])
tmp = tempfile.mkdtemp()
Image.fromarray(make_scene("landscape", 240, 160, seed=2)[0]).save(tmp + "/w.png")
convert(tmp + "/w.png", convert_options({"effects": "snow,birds"}))
if src == "synthetic":
    w = int(round(math.sqrt(mp * 1e6 * 1.5)))
    Image.fromarray(make_scene("landscape", w, int(round(w / 1.5)), seed=1)[0]).save(tmp + "/in.png", compress_level=1)
else:
    Image.open(src).convert("RGB").save(tmp + "/in.png", compress_level=1)
wall, cpu, last = {}, {}, [0.0]
def on(name, s):
    wall[name] = wall.get(name, 0.0) + s
    now = time.process_time()
    cpu[name] = cpu.get(name, 0.0) + now - last[0]
    last[0] = now
last[0] = time.process_time()
scene = convert(tmp + "/in.png", convert_options({"effects": "snow,birds"}), on_stage=on)
print(json.dumps({"mp": scene.camera.width * scene.camera.height / 1e6, "wall": wall, "cpu": cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "NUMEXPR_NUM_THREADS": "1", "RAYON_NUM_THREADS": "1"}
STAGES = ("load", "depth", "lift", "effects")


def run_one(tree: Path, src: str, mp: float) -> dict:
    env = dict(os.environ, **ONE_THREAD, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", _WORKER, src, str(mp)], cwd=tree, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--mp", default="1,16", help="synthetic sizes in megapixels (comma separated)")
    ap.add_argument("--painting", action="append", default=[], help="a painting converted at its own size")
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args(argv)
    cases = [("synthetic", float(m)) for m in args.mp.split(",") if m] + [(p, 0.0) for p in args.painting]
    trees = [args.before.resolve(), args.after.resolve()]
    rows: dict[tuple, list[dict]] = {}
    for src, mp in cases:
        for rep in range(args.reps):
            for tree in (trees if rep % 2 == 0 else trees[::-1]):
                r = run_one(tree, src, mp)
                print(json.dumps({"tree": str(tree), "source": src, "rep": rep, **r}), flush=True)
                if "error" not in r:
                    rows.setdefault((src, mp, str(tree)), []).append(r)
    print("\n| input | MP | tree | " + " | ".join(f"{s} CPU s" for s in STAGES) + " | CPU s/MP | peak RSS MB |")
    print("|---|---|---|" + "---|" * (len(STAGES) + 2))
    for (src, mp, tree), rs in rows.items():
        med = {s: statistics.median(r["cpu"].get(s, 0.0) for r in rs) for s in STAGES}
        m = rs[0]["mp"]
        print(f"| {Path(src).name} | {m:.2f} | {Path(tree).name} | " + " | ".join(f"{med[s]:.2f}" for s in STAGES)
              + f" | {sum(med.values()) / m:.3f} | {max(r['rss_mb'] for r in rs):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
