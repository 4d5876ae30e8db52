"""Depth benchmark on real paintings with hand-marked ordinal pairs (WHDR).

    python -m bench.depth_real [--dir ../shared/paintings] [--estimator prior] [--out F.json]
                               [--markdown] [--only NAME ...]

Reads ``dev_pairs.json`` (next to ``dev/``; see the README there): on every painting, pairs
``[near_x, near_y, far_x, far_y]`` whose first point is nearer. A pair is wrong when the depth
at the near point is not smaller than at the far point (median over a window of 0.4 % of the
long side); WHDR is the share of wrong pairs over the union of ``pairs`` and
``against_vertical`` (near point higher in the picture). Reported per painting and overall,
the against-vertical and the ordinary pairs apart, for the estimator(s) and two baselines:
"lower is nearer" (depth = rows from the bottom) and a constant depth (every pair a tie, so
wrong). Each painting is estimated at its full resolution. Where the estimator reports a
scalar ``extras['confidence']`` it is shown per painting, with Spearman's rank correlation
between it and the painting's WHDR (a useful confidence is strongly negative).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np

from paint2vr.depth.metrics import pair_wrong

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared" / "paintings"
Method = Callable[[np.ndarray], np.ndarray]


def baseline_constant(rgb: np.ndarray) -> np.ndarray:
    return np.ones(rgb.shape[:2], np.float64)


def baseline_lower_nearer(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return np.repeat((h - np.arange(h) - 0.5)[:, None], w, axis=1)


def load_set(folder: Path) -> dict:
    """The ``paintings`` table of ``dev_pairs.json`` in ``folder`` (or ``folder/..``)."""
    for f in (folder / "dev_pairs.json", folder.parent / "dev_pairs.json"):
        if f.is_file():
            return json.loads(f.read_text())["paintings"]
    raise FileNotFoundError(f"no dev_pairs.json in {folder} or its parent")


def painting_file(folder: Path, name: str) -> Path:
    for f in (folder / "dev" / name, folder / name):
        if f.is_file():
            return f
    raise FileNotFoundError(f"{name} not found in {folder}/dev or {folder}")


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


class EstimatorMethod:
    """A registered estimator (``prior``, a model name or folder) as rgb -> depth; the
    scalar ``extras['confidence']`` of the last map (None if it gives none) in ``confidence``."""

    def __init__(self, name: str) -> None:
        from paint2vr.depth import get_estimator
        self.est = get_estimator(None if name == "prior" else name)
        self.confidence: float | None = None

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        d = self.est.estimate([rgb])[0]
        c = d.extras.get("confidence")
        self.confidence = float(c) if isinstance(c, (int, float)) else None
        return np.asarray(d.depth)


def estimator_method(name: str) -> Method:
    return EstimatorMethod(name)


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either is constant."""
    def ranks(v):
        v = np.asarray(v, np.float64)
        order = np.argsort(v, kind="stable")
        r = np.empty(len(v))
        r[order] = np.arange(len(v), dtype=np.float64)
        for u in np.unique(v):
            r[v == u] = r[v == u].mean()
        return r
    rx, ry = ranks(x), ranks(y)
    if len(rx) < 2 or rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def score(methods: dict[str, Method], folder: Path, only: list[str] | None = None) -> dict:
    table = load_set(folder)
    names = [n for n in table if not only or any(o in n for o in only)]
    out: dict = {"paintings": names, "results": {}}
    for m in methods:
        out["results"][m] = {"per_painting": {}, "seconds": 0.0}
    for name in names:
        entry = table[name]
        rgb = load_rgb(painting_file(folder, name))
        ordinary, against = entry.get("pairs", []), entry.get("against_vertical", [])
        for m, fn in methods.items():
            t = time.perf_counter()
            depth = fn(rgb)
            out["results"][m]["seconds"] += time.perf_counter() - t
            wo, wa = pair_wrong(depth, ordinary), pair_wrong(depth, against)
            out["results"][m]["per_painting"][name] = {
                "n": len(wo) + len(wa), "wrong": int(wo.sum() + wa.sum()),
                "n_against": len(wa), "wrong_against": int(wa.sum()),
                "n_ordinary": len(wo), "wrong_ordinary": int(wo.sum()),
                "confidence": getattr(fn, "confidence", None)}
    for m, r in out["results"].items():
        pp = r["per_painting"].values()
        tot = {k: sum(p[k] for p in pp) for k in ("n", "wrong", "n_against", "wrong_against",
                                                   "n_ordinary", "wrong_ordinary")}
        r["whdr"] = tot["wrong"] / max(tot["n"], 1)
        r["against_wrong"] = tot["wrong_against"] / max(tot["n_against"], 1)
        r["ordinary_wrong"] = tot["wrong_ordinary"] / max(tot["n_ordinary"], 1)
        r["totals"] = tot
        conf = [(p["confidence"], p["wrong"] / max(p["n"], 1)) for p in pp if p["confidence"] is not None]
        if conf:   # does the estimator's own confidence sort the paintings by their error?
            r["confidence_spearman"] = spearman([c for c, _ in conf], [e for _, e in conf])
    return out


def markdown(res: dict) -> str:
    ms = list(res["results"])
    rows = ["| painting | " + " | ".join(ms) + " |", "|---" * (len(ms) + 1) + "|"]
    for name in res["paintings"]:
        cells = []
        for m in ms:
            p = res["results"][m]["per_painting"][name]
            conf = "" if p.get("confidence") is None else f", conf {p['confidence']:.2f}"
            cells.append(f"{p['wrong'] / max(p['n'], 1):.2f} (av {p['wrong_against']}/{p['n_against']}{conf})")
        rows.append(f"| {Path(name).stem} | " + " | ".join(cells) + " |")
    for key, label in (("whdr", "**WHDR, all pairs**"), ("against_wrong", "against-vertical wrong"),
                       ("ordinary_wrong", "ordinary wrong")):
        rows.append(f"| {label} | " + " | ".join(f"{res['results'][m][key]:.3f}" for m in ms) + " |")
    rho = [res["results"][m].get("confidence_spearman") for m in ms]
    if any(r is not None for r in rho):
        rows.append("| Spearman rho (confidence, WHDR) | " + " | ".join(
            "" if r is None else f"{r:.2f}" for r in rho) + " |")
    return "\n".join(rows)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="folder holding dev_pairs.json and dev/")
    ap.add_argument("--estimator", action="append", default=None,
                    help="estimator to score (repeatable; default: prior)")
    ap.add_argument("--only", nargs="*", help="score only paintings whose file name contains one of these")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON result here")
    ap.add_argument("--markdown", action="store_true", help="print the markdown table")
    a = ap.parse_args(argv)
    methods: dict[str, Method] = {e: estimator_method(e) for e in (a.estimator or ["prior"])}
    methods |= {"lower-is-nearer": baseline_lower_nearer, "constant": baseline_constant}
    res = score(methods, a.dir, a.only)
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    if a.markdown:
        print(markdown(res))
    else:
        print(json.dumps({m: {k: r.get(k) for k in ("whdr", "against_wrong", "ordinary_wrong", "seconds",
                                                    "confidence_spearman")}
                          for m, r in res["results"].items()}, indent=2))


if __name__ == "__main__":
    main()
