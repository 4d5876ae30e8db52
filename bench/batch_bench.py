"""Batch benchmarks (not timed tests): worker scaling, machinery overhead, flat memory.

    .venv/bin/python bench/batch_bench.py scaling  --items 40
    .venv/bin/python bench/batch_bench.py overhead --items 40
    .venv/bin/python bench/batch_bench.py memory   --items 10000

scaling:  throughput of --workers 2 over --workers 1 (target >= 1.7x on 2 cores), built-in depth.
overhead: run_batch with 1 worker vs. convert + save_scene in a plain loop (target <= 5%).
memory:   a long manifest of tiny images; prints the main process's RSS every 1000 items
          (target: flat) and the workers' peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def make(folder: Path, n: int, size: tuple[int, int], distinct: int = 0) -> Path:
    """n manifest rows over ``distinct`` generated images (0 = one image per row)."""
    from PIL import Image

    from paint2vr.samples import KINDS, make_scene
    img = folder / "img"
    img.mkdir(parents=True, exist_ok=True)
    k = distinct or n
    kinds = sorted(KINDS)
    for i in range(k):
        rgb, _, _ = make_scene(kinds[i % len(kinds)], size[0], size[1], seed=i)
        Image.fromarray(rgb).save(img / f"{i}.png")
    m = folder / "m.csv"
    with open(m, "w") as fh:
        fh.write("id,path,license,attribution\n")
        for i in range(n):
            fh.write(f"item{i:07d},img/{i % k}.png,CC0,bench\n")
    return m


def scaling(args: argparse.Namespace, tmp: Path) -> dict:
    from paint2vr.batch import BatchOptions, run_batch
    m = make(tmp / "in", args.items, tuple(args.size))
    rates = {}
    for w in (1, 2):
        best = 0.0
        for rep in range(args.repeat):
            out = tmp / f"out{w}_{rep}"
            r = run_batch(m, out, BatchOptions(workers=w))
            best = max(best, r.items_per_second)
            shutil.rmtree(out)
        rates[w] = best
        print(f"workers={w}: {best:.2f} items/s")
    print(f"speed-up 2 vs 1 workers: {rates[2] / rates[1]:.2f}x (target >= 1.7x)")
    return {"items": args.items, "size": list(args.size), "items_per_s_1_worker": rates[1],
            "items_per_s_2_workers": rates[2], "speedup_2_vs_1": rates[2] / rates[1]}


def overhead(args: argparse.Namespace, tmp: Path) -> dict:
    from paint2vr.batch import BatchOptions, run_batch
    from paint2vr.export import save_scene
    from paint2vr.painting import PaintingInfo
    from paint2vr.pipeline import convert
    m = make(tmp / "in", args.items, tuple(args.size))
    imgs = sorted((tmp / "in" / "img").glob("*.png"))
    loop, batch = [], []
    for rep in range(args.repeat):
        out = tmp / f"loop{rep}"
        out.mkdir()
        t0 = time.perf_counter()
        for i, p in enumerate(imgs):
            scene = convert(p, info=PaintingInfo(id=f"i{i}", license="CC0", attribution="bench"))
            save_scene(scene, out / f"i{i}.glb")
        loop.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_batch(m, tmp / f"batch{rep}", BatchOptions(workers=1))
        batch.append(time.perf_counter() - t0)
        shutil.rmtree(out), shutil.rmtree(tmp / f"batch{rep}")
    lo, ba = min(loop), min(batch)
    print(f"plain loop: {lo:.2f} s   run_batch(workers=1): {ba:.2f} s   overhead {100 * (ba / lo - 1):+.1f}% "
          f"(target <= 5%; includes starting the worker process)")
    return {"items": args.items, "plain_loop_s": lo, "run_batch_1_worker_s": ba, "overhead_pct": 100 * (ba / lo - 1)}


def memory(args: argparse.Namespace, tmp: Path) -> dict:
    from paint2vr.batch import BatchOptions, run_batch
    m = make(tmp / "in", args.items, (32, 24), distinct=50)
    marks: list[tuple[int, float]] = []

    def on_progress(p) -> None:
        if p.finished % 1000 == 0:
            marks.append((p.finished, rss_mb()))
            print(f"  {p.finished:>7} items  main RSS {marks[-1][1]:.0f} MiB", flush=True)

    t0 = time.perf_counter()
    r = run_batch(m, tmp / "out", BatchOptions(workers=args.workers), on_progress=on_progress)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if not marks:
        marks.append((r.done, rss_mb()))
    print(f"{r.done} done, {r.failed} failed in {time.perf_counter() - t0:.0f} s; main RSS "
          f"{marks[0][1]:.0f} -> {marks[-1][1]:.0f} MiB; worker peak RSS {child:.0f} MiB")
    return {"items": args.items, "done": r.done, "failed": r.failed, "seconds": time.perf_counter() - t0,
            "main_rss_mb": marks, "worker_peak_rss_mb": child}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["scaling", "overhead", "memory"])
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--size", type=int, nargs=2, default=(320, 240), metavar=("W", "H"))
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="p2v-bench-"))
    try:
        {"scaling": scaling, "overhead": overhead, "memory": memory}[args.what](args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
