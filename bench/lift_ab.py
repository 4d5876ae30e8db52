"""Lift's time in two source trees, interleaved in one run (before/after a change).

Run: ``python -m bench.lift_ab BEFORE_TREE AFTER_TREE [PAINTING] [--reps N] [--mp 1.0]``:
the painting (default the shared Hunters in the Snow) is resized to about ``--mp``
megapixels, its depth estimated once by the built-in prior (in the after tree), then each
tree lifts it in a fresh process on one thread, alternately, ``--reps`` times, with the world
(default options) and without (``world=False, margin=0.15``). Prints the medians; on a shared
machine compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_PREPARE = r'''
import pickle, sys
import cv2
from paint2vr.depth import estimate_depth
from paint2vr.painting import Painting, load_painting
p = load_painting(sys.argv[1])
s = (float(sys.argv[3]) * 1e6 / (p.width * p.height)) ** 0.5
p = Painting.from_array(cv2.resize(p.rgb, (round(p.width * s), round(p.height * s)), interpolation=cv2.INTER_AREA))
pickle.dump((p.rgb, estimate_depth(p)), open(sys.argv[2], "wb"))
'''

_LIFT = r'''
import json, pickle, sys, time
import cv2
cv2.setNumThreads(1)
from paint2vr.lift import LiftOptions, lift
from paint2vr.painting import Painting
rgb, d = pickle.load(open(sys.argv[1], "rb"))
p = Painting.from_array(rgb)
out = {}
for name, o in (("world", LiftOptions()), ("no_world", LiftOptions(world=False, margin=0.15))):
    t = time.perf_counter()
    lift(p, d, o)
    out[name] = time.perf_counter() - t
print(json.dumps(out))
'''


def _run(tree: Path, code: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=tree, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("painting", nargs="?", default="../shared/paintings/hunters_in_the_snow.webp")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mp", type=float, default=1.0)
    a = ap.parse_args(argv)
    trees = {"before": a.before.resolve(), "after": a.after.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        pkl = str(Path(tmp) / "input.pkl")
        _run(trees["after"], _PREPARE, str(Path(a.painting).resolve()), pkl, str(a.mp))
        times: dict[str, dict[str, list[float]]] = {k: {} for k in trees}
        for _ in range(a.reps):
            for k, tree in trees.items():
                for name, t in json.loads(_run(tree, _LIFT, pkl)).items():
                    times[k].setdefault(name, []).append(t)
    for k, per in times.items():
        med = {name: round(statistics.median(v), 2) for name, v in per.items()}
        print(k, json.dumps(med), json.dumps({n: [round(x, 2) for x in v] for n, v in per.items()}))


if __name__ == "__main__":
    main()
