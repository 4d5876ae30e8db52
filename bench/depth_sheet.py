"""Contact sheet for looking at depth by eye: one row per painting, painting | depth | layers.

    python -m bench.depth_sheet --out sheet.png [--dir ../shared/paintings] [--set dev|shared|all]
                                [--estimator prior] [--height 240] [--no-pairs]

The depth panel shows log depth (near = bright yellow, far = dark blue, sky = grey) with the
hand-marked pairs of ``dev_pairs.json`` drawn on it where they exist (a line from the near to
the far point: green when the estimate orders the pair right, red when wrong). The layers
panel shows the depth layers the lift stage would cut (its default options), one colour each,
sky grey. The sheet shows the paintings themselves: keep it out of the repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from paint2vr.depth.metrics import pair_wrong
from paint2vr.lift.layers import choose_cuts, label_layers
from paint2vr.scene import camera_for_image

from .depth_real import DEFAULT_DIR, load_rgb, load_set

LAYER_COLOURS = np.array([[230, 60, 50], [250, 160, 40], [240, 230, 60], [80, 190, 80],
                          [60, 150, 230], [140, 90, 220], [220, 120, 200], [120, 200, 200]], np.uint8)


def depth_panel(depth: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Log depth as colours (near bright), sky grey; (H, W, 3) uint8."""
    land = ~sky & np.isfinite(depth) & (depth > 0)
    logd = np.log(np.where(land, depth, 1.0))
    lo, hi = (np.percentile(logd[land], [1, 99]) if land.any() else (0.0, 1.0))
    t = np.clip((logd - lo) / max(hi - lo, 1e-6), 0, 1)
    img = cv2.applyColorMap(((1 - t) * 255).astype(np.uint8), cv2.COLORMAP_PLASMA)[..., ::-1].copy()
    img[~land] = 128
    return img


def layers_panel(depth: np.ndarray, sky: np.ndarray, max_layers: int = 6) -> np.ndarray:
    """The layers the lift stage's default cut would make, one colour each."""
    from paint2vr.lift import DEFAULT_LIFT_OPTIONS as o
    h, w = depth.shape
    land = ~sky & np.isfinite(depth) & (depth > 0)
    logd = np.log(np.where(land, depth, 1e3))
    reveal = camera_for_image(w, h).focal * max(o.walkable_radius, 0.05)
    cuts = choose_cuts(logd, land, o.max_jump, None, max_layers, o.min_cut_reveal * w * h / reveal)
    lab = label_layers(logd, ~land, cuts)
    img = LAYER_COLOURS[np.minimum(lab, len(LAYER_COLOURS) - 1)].copy()
    img[~land] = 128
    return img


def draw_pairs(img: np.ndarray, depth: np.ndarray, pairs: list) -> None:
    """Lines near -> far, green when ordered right, red when wrong; a dot at the near end."""
    if not pairs:
        return
    h, w = img.shape[:2]
    wrong = pair_wrong(depth, pairs)
    for (nx, ny, fx, fy), bad in zip(pairs, wrong):
        c = (255, 40, 40) if bad else (40, 230, 40)
        p0, p1 = (int(nx * w), int(ny * h)), (int(fx * w), int(fy * h))
        cv2.line(img, p0, p1, c, 1, cv2.LINE_AA)
        cv2.circle(img, p0, 3, c, -1)


def row(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, pairs: list | None, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = height / h
    size = (max(1, round(w * s)), height)
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    d = cv2.resize(depth.astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
    k = cv2.resize(sky.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    dp = depth_panel(d, k)
    if pairs:
        draw_pairs(dp, depth, pairs)
    gap = np.full((height, 4, 3), 255, np.uint8)
    return np.concatenate([small, gap, dp, gap, layers_panel(d, k)], axis=1)


def paintings(folder: Path, which: str) -> list[tuple[Path, list]]:
    table = {}
    try:
        table = load_set(folder)
    except FileNotFoundError:
        pass
    out: list[tuple[Path, list]] = []
    if which in ("dev", "all"):
        out += [(folder / "dev" / n, e.get("pairs", []) + e.get("against_vertical", [])) for n, e in table.items()]
    if which in ("shared", "all"):
        out += [(p, []) for p in sorted(folder.iterdir())
                if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="PNG to write (keep it out of the repository)")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--set", choices=("dev", "shared", "all"), default="dev")
    ap.add_argument("--estimator", default="prior")
    ap.add_argument("--height", type=int, default=240, help="row height in pixels")
    ap.add_argument("--no-pairs", action="store_true", help="do not draw the marked pairs")
    a = ap.parse_args(argv)
    from paint2vr.depth import get_estimator
    est = get_estimator(None if a.estimator == "prior" else a.estimator)
    rows = []
    for path, pairs in paintings(a.dir, a.set):
        rgb = load_rgb(path)
        d = est.estimate([rgb])[0]
        rows.append(row(rgb, np.asarray(d.depth), np.asarray(d.sky), None if a.no_pairs else pairs, a.height))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 6), (0, width - r.shape[1]), (0, 0)), constant_values=255)
                            for r in rows])
    a.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(a.out), sheet[..., ::-1])
    print(f"wrote {a.out} ({len(rows)} paintings)")


if __name__ == "__main__":
    main()
