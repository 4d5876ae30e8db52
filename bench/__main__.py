"""``python -m bench``: the whole benchmark in one command; prints tables, writes JSON.

1. per stage (load, depth, lift, effects, export): seconds per megapixel and peak memory at
   1, 4 and 16 MP on a synthetic scene and on ../shared/paintings, one core, built-in depth,
   and how each stage's cost grows with size;
2. output per export profile: GLB size, triangles, draw calls;
3. batch: throughput with 1 and 2 workers, and the batch machinery's overhead over a loop;
4. GPU depth (bench.gpu_depth) where a CUDA GPU is present, skipped with a message otherwise.

``--smoke`` runs everything tiny (CI proves the command works; timings there mean nothing).
Compare timings as ratios within one run: this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import stages

ROOT = Path(__file__).resolve().parents[1]


def profile_rows(painting: Path, effects: tuple[str, ...]) -> list[dict]:
    """Convert once, export with every profile: size, triangles, draw calls, time."""
    from paint2vr.export import PROFILES, ExportOptions, export_bytes
    from paint2vr.export.inspect import inspect_file
    from paint2vr.pipeline import convert, convert_options

    scene = convert(painting, convert_options({"effects": effects}))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in PROFILES:
            t0 = time.perf_counter()
            data = export_bytes(scene, ExportOptions(profile=name))
            seconds = time.perf_counter() - t0
            path = Path(tmp) / f"{name}.glb"
            path.write_bytes(data)
            rep = inspect_file(path).to_dict()
            rows.append({"input": painting.name, "profile": name, "bytes": len(data), "export_s": seconds,
                         "triangles": rep.get("triangles"), "draw_calls": rep.get("draw_calls"),
                         "points": rep.get("points")})
    return rows


def profile_section(smoke: bool, effects: tuple[str, ...]) -> list[dict]:
    """Section 2: the sample and the shared paintings (smoke: a 0.05 MP copy of the sample)."""
    sample = ROOT / "assets" / "sample_painting.png"
    with tempfile.TemporaryDirectory() as tmp:
        if smoke:
            from PIL import Image
            small = Path(tmp) / sample.name
            Image.open(sample).convert("RGB").resize((272, 182)).save(small)
            inputs = [small]
        else:
            inputs = [sample] + sorted(p for p in stages.PAINTINGS.glob("*.*")
                                       if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        rows = [r for p in inputs for r in profile_rows(p, effects)]
    print("\n## Output per profile\n")
    print(profile_table(rows))
    return rows


def profile_table(rows: list[dict]) -> str:
    out = ["| input | profile | GLB MiB | triangles | points | draw calls | export s |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['input']} | {r['profile']} | {r['bytes'] / 2**20:.2f} | {r['triangles']} | "
                   f"{r['points']} | {r['draw_calls']} | {r['export_s']:.2f} |")
    return "\n".join(out)


def batch_numbers(items: int, size: tuple[int, int]) -> dict:
    from . import batch_bench
    args = argparse.Namespace(items=items, size=size, repeat=1, workers=2)
    tmp = Path(tempfile.mkdtemp(prefix="p2v-bench-"))
    try:
        return {"scaling": batch_bench.scaling(args, tmp / "s"), "overhead": batch_bench.overhead(args, tmp / "o")}
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


def gpu_numbers(smoke: bool) -> dict:
    import torch
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA GPU on this machine (run python -m bench.gpu_depth on a GPU machine)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gpu.json"
        cmd = [sys.executable, "-m", "bench.gpu_depth", "--out", str(out)] + (["--images", "32"] if smoke else [])
        subprocess.run(cmd, cwd=ROOT, check=True, timeout=900)
        return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes: proves the command works")
    ap.add_argument("--sizes", default="1,4,16", help="synthetic scene sizes in megapixels")
    ap.add_argument("--effects", default="snow,birds", help="effects included in the conversions")
    ap.add_argument("--skip", default="", help="comma list of sections to skip: stages,profiles,batch,gpu")
    ap.add_argument("--out", default="bench.json", help="JSON output file")
    args = ap.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    sizes = "0.05,0.2" if args.smoke else args.sizes
    result: dict = {"smoke": args.smoke, "effects": args.effects}
    if "stages" not in skip:
        rows = [stages.run_in_subprocess("synthetic:landscape", float(s), args.effects) for s in sizes.split(",")]
        if not args.smoke and stages.PAINTINGS.is_dir():
            rows += [stages.run_in_subprocess(str(p), 0.0, args.effects) for p in sorted(stages.PAINTINGS.glob("*.*"))
                     if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")]
        result["stages"] = rows
        result["scaling"] = stages.scaling(rows)
        print("## Stages (one core, built-in depth)\n")
        print(stages.stage_table(rows))
        print("\n" + "\n".join(stages.target_lines(rows)))
        print("\nscaling, s/MP at the largest over the smallest size (1.0 = linear): "
              + ", ".join(f"{k} {v:.2f}" for k, v in result["scaling"].items()))
    if "profiles" not in skip:
        result["profiles"] = profile_section(args.smoke, tuple(filter(None, args.effects.split(","))))
    if "batch" not in skip:
        result["batch"] = batch_numbers(3 if args.smoke else 40, (96, 64) if args.smoke else (320, 240))
        print("\n## Batch\n")
        print(json.dumps(result["batch"], indent=1))
    if "gpu" not in skip:
        result["gpu"] = gpu_numbers(args.smoke)
        print("\n## GPU depth\n")
        print(json.dumps(result["gpu"], indent=1))
    Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
