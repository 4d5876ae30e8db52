"""Benchmark of the lifting stage: seconds per megapixel on one core and peak memory.

Run: ``python -m bench.lift_bench [MEGAPIXELS ...]`` (default 1 4 16). Each size runs in a
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


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(_one(float(argv[1]))))
        return
    for mp in [float(a) for a in argv] or [1.0, 4.0, 16.0]:
        out = subprocess.run([sys.executable, "-m", "bench.lift_bench", "--one", str(mp)],
                             capture_output=True, text=True, check=True)
        print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
