"""Benchmark of the studio's feedback loop at about 1 MP on one core.

Run: ``python -m bench.studio_bench [PAINTING ...]`` (default: the sample painting and the
shared paintings). For each painting, at the studio's working size (<= 1 MP): the first depth
estimate, a depth update after each kind of edit (horizon, sky, region, 3 pins), and the 3D
view's scene (lift + export). Targets (issue #18): depth update <= 1 s, 3D view <= 3 s.
"""

from __future__ import annotations

import json
import os
import sys
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


def measure(painting: Path) -> dict:
    from paint2vr.edit import parse_edits
    from paint2vr.studio import StudioSession
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = StudioSession(painting, Path(tmp) / "e.json")
        row = {"painting": painting.name, "pixels": int(s.shape[0] * s.shape[1]),
               "open_s": round(time.perf_counter() - t0, 3)}
        doc: dict = {"paint2vr_edits": 1}
        for name, change in EDITS:
            doc.update(change)
            t0 = time.perf_counter()
            s.preview(parse_edits(doc))
            row[f"depth_{name}_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        s.scene_glb()
        row["scene_s"] = round(time.perf_counter() - t0, 3)
    return row


def main(argv: list[str]) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import cv2
    cv2.setNumThreads(1)
    paintings = [Path(a) for a in argv] or [ROOT / "assets" / "sample_painting.png",
                                            *sorted((ROOT.parent / "shared" / "paintings").glob("*.*[gp]"))]
    rows = []
    for p in paintings:
        if p.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            continue
        row = measure(p)
        worst = max(v for k, v in row.items() if k.startswith("depth_"))
        row["depth_target"] = "met" if worst <= 1.0 else f"MISSED ({worst:.2f} s)"
        row["scene_target"] = "met" if row["scene_s"] <= 3.0 else f"MISSED ({row['scene_s']:.2f} s)"
        print(json.dumps(row), flush=True)
        rows.append(row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
