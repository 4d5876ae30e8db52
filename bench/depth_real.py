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
wrong). Each painting is estimated at its full resolution.
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


def estimator_method(name: str) -> Method:
    """A registered estimator (``prior``, a model name or folder) as rgb -> depth."""
    from paint2vr.depth import get_estimator
    est = get_estimator(None if name == "prior" else name)
    return lambda rgb: np.asarray(est.estimate([rgb])[0].depth)


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
                "n_ordinary": len(wo), "wrong_ordinary": int(wo.sum())}
    for m, r in out["results"].items():
        pp = r["per_painting"].values()
        tot = {k: sum(p[k] for p in pp) for k in ("n", "wrong", "n_against", "wrong_against",
                                                   "n_ordinary", "wrong_ordinary")}
        r["whdr"] = tot["wrong"] / max(tot["n"], 1)
        r["against_wrong"] = tot["wrong_against"] / max(tot["n_against"], 1)
        r["ordinary_wrong"] = tot["wrong_ordinary"] / max(tot["n_ordinary"], 1)
        r["totals"] = tot
    return out


def markdown(res: dict) -> str:
    ms = list(res["results"])
    rows = ["| painting | " + " | ".join(ms) + " |", "|---" * (len(ms) + 1) + "|"]
    for name in res["paintings"]:
        cells = []
        for m in ms:
            p = res["results"][m]["per_painting"][name]
            cells.append(f"{p['wrong'] / max(p['n'], 1):.2f} (av {p['wrong_against']}/{p['n_against']})")
        rows.append(f"| {Path(name).stem} | " + " | ".join(cells) + " |")
    for key, label in (("whdr", "**WHDR, all pairs**"), ("against_wrong", "against-vertical wrong"),
                       ("ordinary_wrong", "ordinary wrong")):
        rows.append(f"| {label} | " + " | ".join(f"{res['results'][m][key]:.3f}" for m in ms) + " |")
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
        print(json.dumps({m: {k: r[k] for k in ("whdr", "against_wrong", "ordinary_wrong", "seconds")}
                          for m, r in res["results"].items()}, indent=2))


if __name__ == "__main__":
    main()
