"""Benchmark of the lifting stage: seconds per megapixel on one core and peak memory.

Run: ``python -m bench.lift_bench [MEGAPIXELS ...]`` (default 1 4 16), or
``python -m bench.lift_bench --silhouette PAINTING [BUDGET ...]`` for the silhouette error of
uniform vs adaptive meshes at equal triangle counts (percent of layer coverage that differs
from a step-1 reference mesh, from the start pose and 0.3 m left/right). Each size runs in a
fresh process pinned to one thread, so its peak RSS is its own. Targets: <= 1 s per
megapixel (lifting + filling + meshing), <= 3 GB peak for 16 megapixels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _one(mp: float) -> dict:
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import resource
    import time

    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    from paint2vr.depth.base import DepthMap, ModelInfo
    from paint2vr.lift import lift
    from paint2vr.painting import Painting
    from paint2vr.samples import make_scene

    w = int(round((mp * 1e6 * 1.5) ** 0.5))
    h = int(round(w / 1.5))
    rgb, depth, sky = make_scene("landscape", w, h, seed=1)
    painting = Painting(rgb=rgb)
    dm = DepthMap(depth=depth, sky=sky, metric=True, model=ModelInfo("truth"))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    scene = lift(painting, dm)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"megapixels": round(w * h / 1e6, 2), "size": [w, h], "seconds": round(dt, 2),
            "s_per_mp": round(dt / (w * h / 1e6), 3), "peak_rss_gb": round(peak / 1e6, 2),
            "rss_before_lift_gb": round(base / 1e6, 2), "triangles": scene.triangle_count,
            "layers": sum(l.kind == "layer" for l in scene.layers)}


def silhouette(path: str, budgets: list[int], width: int = 480) -> list[dict]:
    """Silhouette error of uniform vs adaptive meshes at the same triangle count.

    The reference is every layer meshed at step 1 with no budget. Each layer is rendered
    alone from the start pose and 0.3 m left/right; the error is the share of pixels whose
    coverage differs from the reference's (XOR / reference coverage), over all layers.
    """
    import numpy as np

    from paint2vr.depth import estimate_depth
    from paint2vr.lift import LiftOptions, lift
    from paint2vr.painting import load_painting
    from paint2vr.render import render_scene

    p = load_painting(path)
    d = estimate_depth(p)
    views = [(0.0, 0.0, 0.0), (-0.3, 0.0, 0.0), (0.3, 0.0, 0.0)]

    def covers(scene):
        names = [l.name for l in scene.layers if l.kind == "layer"]
        return {(n, v): render_scene(scene, width=width, eye_offset=v, layers=[n])[1] for n in names for v in views}

    ref_scene = lift(p, d, LiftOptions(adaptive_mesh=False, max_triangles=50_000_000))
    ref = covers(ref_scene)
    out = []
    for b in budgets:
        uni = lift(p, d, LiftOptions(adaptive_mesh=False, max_triangles=b))
        ada = lift(p, d, LiftOptions(adaptive_mesh=True, max_triangles=uni.triangle_count))
        row = {"painting": path.rsplit("/", 1)[-1], "budget": b, "reference_triangles": ref_scene.triangle_count}
        for name, sc in (("uniform", uni), ("adaptive", ada)):
            cov = covers(sc)
            err = {v: sum(int((cov.get(k, 0 * r) ^ r).sum()) for k, r in ref.items() if k[1] == v)
                   / max(1, sum(int(r.sum()) for k, r in ref.items() if k[1] == v)) for v in views}
            row[name] = {"triangles": sc.triangle_count, "step": sc.provenance["lift_result"]["grid_step"],
                         "error_start": round(100 * err[views[0]], 3),
                         "error_left": round(100 * err[views[1]], 3), "error_right": round(100 * err[views[2]], 3)}
        out.append(row)
    return out


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(_one(float(argv[1]))))
        return
    if argv[:1] == ["--silhouette"]:
        for row in silhouette(argv[1], [int(x) for x in argv[2:]] or [20_000, 80_000, 300_000]):
            print(json.dumps(row), flush=True)
        return
    for mp in [float(a) for a in argv] or [1.0, 4.0, 16.0]:
        out = subprocess.run([sys.executable, "-m", "bench.lift_bench", "--one", str(mp)],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
