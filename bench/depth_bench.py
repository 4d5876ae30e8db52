"""Depth benchmark on synthetic painterly scenes with known depth.

    python -m bench.depth_bench --out BENCHMARKS_depth.json [--markdown]

Scores each estimator against the true depth of :func:`paint2vr.samples.make_scene` scenes:
AbsRel and delta < 1.25 over land pixels after median alignment, and WHDR (ordinal error) on
random point pairs over all pixels with sky counted as farthest. Baselines: constant depth,
and "lower in the picture is nearer" (depth proportional to the row counted from the bottom).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from paint2vr.depth.metrics import abs_rel, delta1, sample_pairs, whdr
from paint2vr.depth.prior import PriorEstimator
from paint2vr.samples import KINDS, make_scene

DEFAULT_SET = [(k, s) for k in KINDS for s in range(3)]


def baseline_constant(rgb: np.ndarray) -> np.ndarray:
    return np.ones(rgb.shape[:2], np.float64)


def baseline_lower_nearer(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.repeat((h - np.arange(h) - 0.5)[:, None], w, axis=1)


def run(scenes=DEFAULT_SET, size=(480, 320), n_pairs=4000) -> dict:
    prior = PriorEstimator()
    methods = {"constant": baseline_constant, "lower-is-nearer": baseline_lower_nearer,
               "prior": lambda rgb: prior.estimate_one(rgb).depth}
    scores: dict[str, dict[str, list[float]]] = {m: {"absrel": [], "delta1": [], "whdr": []} for m in methods}
    times: dict[str, float] = {m: 0.0 for m in methods}
    for i, (kind, seed) in enumerate(scenes):
        rgb, gt, sky = make_scene(kind, size[0], size[1], seed)
        gt_ord = np.where(sky, np.inf, gt)
        pairs = sample_pairs(gt.size, n_pairs, seed=i)
        for name, fn in methods.items():
            t = time.perf_counter()
            pred = fn(rgb)
            times[name] += time.perf_counter() - t
            scores[name]["absrel"].append(abs_rel(pred, gt, ~sky))
            scores[name]["delta1"].append(delta1(pred, gt, ~sky))
            gt_fin = np.where(np.isinf(gt_ord), 1e9, gt_ord)
            scores[name]["whdr"].append(whdr(pred, gt_fin, pairs))
    return {"scenes": [f"{k}:{s}" for k, s in scenes], "size": list(size),
            "results": {m: {k: float(np.mean(v)) for k, v in s.items()} | {"seconds": times[m]}
                        for m, s in scores.items()}}


def markdown(res: dict) -> str:
    rows = ["| estimator | AbsRel (lower better) | delta<1.25 (higher better) | WHDR (lower better) |",
            "|---|---|---|---|"]
    for m, r in res["results"].items():
        rows.append(f"| {m} | {r['absrel']:.3f} | {r['delta1']:.3f} | {r['whdr']:.3f} |")
    return "\n".join(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="BENCHMARKS_depth.json")
    ap.add_argument("--markdown", action="store_true", help="also print the markdown table")
    a = ap.parse_args(argv)
    res = run()
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=2)
    print(markdown(res) if a.markdown else json.dumps(res["results"], indent=2))


if __name__ == "__main__":
    main()
