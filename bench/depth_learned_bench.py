"""Learned depth's metric scale on synthetic scenes: the model's own ground vs the prior's range.

    python -m bench.depth_learned_bench [--model FOLDER] [--out BENCHMARKS_depth_learned.json] [--markdown]

Runs a relative depth model (default: the tiny Depth Anything that
``scripts/train_tiny_depth.py`` trains on synthetic scenes, cached) with each way of giving
its disparity metres (:mod:`paint2vr.depth.scale`): ``ground`` (the ground's disparity
against image row and the camera: the default), ``range`` (the prior's default near/far onto
the disparity percentiles: the old default) and ``range+prior`` (the prior run on a 128 px
copy gives the range: the old ``prior_side=128``). Scores on land: AbsRel and delta < 1.25 in
metres as given (the real metric error) and after median alignment, and WHDR. Two sets: the
depth benchmark's scenes (eye 1.6 m, horizon in the picture) and high viewpoints (eye 4-12 m,
horizon near or above the top edge), each scored with the default eye height (1.6 m) and
with the true one given as the designer's hint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from bench.depth_bench import DEFAULT_SET
from paint2vr.depth.metrics import abs_rel, delta1, sample_pairs, whdr
from paint2vr.samples import make_scene

HIGH_SET = [("landscape", 0, 8.0, -0.1), ("winter", 1, 5.0, 0.08), ("coast", 2, 10.0, 0.05),
            ("landscape", 3, 4.0, 0.15), ("winter", 4, 12.0, -0.2), ("tall_trees", 5, 6.0, 0.1)]
"""(kind, seed, eye height m, horizon fraction) of the high-viewpoint scenes."""
REPO = Path(__file__).resolve().parents[1]


def tiny_model() -> Path:
    """The cached tiny model folder (trained once by the project script)."""
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "train_tiny_depth.py"), "--cached"],
                         check=True, capture_output=True, text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def _estimators(folder: Path, eye: float):
    from paint2vr.depth.scale import ScaleOptions
    from paint2vr.depth.transformers_backend import TransformersEstimator, TransformersOptions
    base = TransformersOptions(device="cpu", batch_size=1, host_threads=1)
    ways = {"ground": (ScaleOptions(eye_height=eye), 0), "range": (ScaleOptions(method="range"), 0),
            "range+prior": (ScaleOptions(method="range"), 128)}
    return {k: TransformersEstimator(folder, options=dataclasses.replace(base, scale=s, prior_side=side))
            for k, (s, side) in ways.items()}


def _score(dm, gt, sky, pairs) -> dict:
    land = ~sky
    gt_fin = np.where(sky, 1e9, gt)
    return {"absrel_m": abs_rel(dm.depth, gt, land, aligned=False), "delta1_m": delta1(dm.depth, gt, land, aligned=False),
            "absrel": abs_rel(dm.depth, gt, land), "delta1": delta1(dm.depth, gt, land),
            "whdr": whdr(dm.depth, gt_fin, pairs)}


def run(folder: Path, size=(480, 320), n_pairs=4000) -> dict:
    sets = {"standard": [(k, s, 1.6, None) for k, s in DEFAULT_SET], "high": HIGH_SET}
    res: dict = {"model": str(folder), "size": list(size), "sets": {}}
    for set_name, scenes in sets.items():
        for hinted in ((False,) if set_name == "standard" else (False, True)):
            rows: dict[str, list[dict]] = {}
            methods: Counter = Counter()
            for i, (kind, seed, eye, hz) in enumerate(scenes):
                rgb, gt, sky = make_scene(kind, size[0], size[1], seed, eye_height=eye, horizon=hz)
                pairs = sample_pairs(gt.size, n_pairs, seed=i)
                for name, est in _estimators(folder, eye if hinted else 1.6).items():
                    dm = est.estimate([rgb])[0]
                    rows.setdefault(name, []).append(_score(dm, gt, sky, pairs))
                    methods[f"{name}:{dm.extras['scale']['method']}"] += 1
            key = set_name + (" (true eye height given)" if hinted else "")
            res["sets"][key] = {"scenes": len(scenes), "methods": dict(methods),
                                "results": {m: {k: float(np.mean([r[k] for r in v])) for k in v[0]}
                                            for m, v in rows.items()}}
    return res


def markdown(res: dict) -> str:
    out = []
    for name, s in res["sets"].items():
        out += [f"**{name}** ({s['scenes']} scenes; methods used: "
                + ", ".join(f"{k} x{v}" for k, v in sorted(s["methods"].items())) + ")", "",
                "| scale | AbsRel, metres as given | delta<1.25, as given | AbsRel, median-aligned "
                "| delta<1.25, aligned | WHDR |", "|---|---|---|---|---|---|"]
        for m, r in s["results"].items():
            out.append(f"| {m} | {r['absrel_m']:.3f} | {r['delta1_m']:.3f} | {r['absrel']:.3f} | "
                       f"{r['delta1']:.3f} | {r['whdr']:.3f} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model folder (default: the cached tiny model)")
    ap.add_argument("--out", default="BENCHMARKS_depth_learned.json")
    ap.add_argument("--markdown", action="store_true", help="also print the markdown tables")
    a = ap.parse_args(argv)
    res = run(Path(a.model) if a.model else tiny_model())
    with open(a.out, "w") as fh:
        json.dump(res, fh, indent=2)
    print(markdown(res) if a.markdown else json.dumps(res["sets"], indent=2))


if __name__ == "__main__":
    main()
