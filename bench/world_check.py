"""The world checker: a GLB rendered by three.js in headless Chromium, measured view by view.

From the start pose and from 2 m forward, at 8 level headings (every 45 degrees) and looking
60 degrees down and up, at ``width`` px with the painting's aspect ratio and a headset's
field of view (100 degrees across), each view gets:

- ``holes``: the share of pixels nothing was drawn on (the canvas is cleared to magenta with
  alpha 0; a drawn pixel always has alpha > 0);
- ``detail``: the view's mean Sobel gradient magnitude of grey over the painting's at the
  same width;
- ``palette``: the overlap (sum of minima) of the view's and the painting's Lab a*b*
  histograms, 16 x 16 bins;

and from the start pose through the painting's own camera, the PSNR of the view against the
painting; in the level view ahead from the start pose, the seam at the frame's side edges
(:func:`frame_seam`: the colour step across them over the painting's own a quarter frame
inside; not among the targets). Targets (issue #17): no hole pixel, detail >= 0.40 in the 16 level views and >= 0.30
looking down, palette >= 0.6, PSNR >= 30 dB. Used by bench/world_bench.py and the tests; needs
node, node_modules (three, playwright-core) and Chromium at /usr/bin/chromium (or $CHROMIUM).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve().parent / "world_views.mjs"

HEADINGS = tuple(range(0, 360, 45))
"""Level view headings, degrees left of the start heading (0 ahead, 180 behind)."""
PITCH = 60.0
"""Degrees down and up of the tilted views."""
HFOV = 100.0
"""Horizontal field of view of the headset views, degrees."""
FORWARD = 2.0
"""Metres of the second pose ahead of the start pose."""

TARGETS = {"holes": 0.0, "detail_level": 0.40, "detail_down": 0.30, "palette": 0.6, "psnr_db": 30.0}
"""The issue's targets."""


@dataclass(frozen=True)
class View:
    """One rendered view: where from, where to, and its pixels."""

    name: str
    pose: str
    """"start" or "forward"."""
    yaw: float
    pitch: float
    rgba: np.ndarray
    """(h, w, 4) uint8."""


def view_list(aspect: float) -> list[dict]:
    """The checker's views, for world_views.mjs: 2 poses x (8 level + down + up), then the
    painting's own camera from the start pose (``yfov`` None)."""
    yfov = math.degrees(2 * math.atan(math.tan(math.radians(HFOV / 2)) / aspect))
    views = []
    for pose, offset in (("start", [0.0, 0.0, 0.0]), ("forward", [0.0, 0.0, -FORWARD])):
        for yaw in HEADINGS:
            views.append({"name": f"{pose}_h{yaw:03d}", "offset": offset, "yaw": yaw, "pitch": 0.0, "yfov": yfov})
        for tag, pitch in (("down", -PITCH), ("up", PITCH)):
            views.append({"name": f"{pose}_{tag}", "offset": offset, "yaw": 0.0, "pitch": pitch, "yfov": yfov})
    views.append({"name": "painting", "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "pitch": 0.0, "yfov": None})
    return views


def tools_missing() -> list[str]:
    """What the browser renderer needs and this machine lacks ([] when all is there)."""
    import os
    chromium = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    need = [("node", shutil.which("node") is not None), (str(chromium), chromium.exists()),
            ("node_modules/three", (ROOT / "node_modules" / "three" / "package.json").exists()),
            ("node_modules/playwright-core", (ROOT / "node_modules" / "playwright-core" / "package.json").exists())]
    return [name for name, ok in need if not ok]


def render_views(glb: Path, width: int, height: int, views: list[dict], timeout: float = 600) -> tuple[dict, list[View]]:
    """Render ``views`` of ``glb`` in headless Chromium; (the page's start-pose info, views)."""
    missing = tools_missing()
    if missing:
        raise RuntimeError(f"the world checker needs: {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="p2v_views_") as tmp:
        spec = Path(tmp) / "views.json"
        spec.write_text(json.dumps({"width": width, "height": height, "views": views}))
        out = subprocess.run([shutil.which("node"), str(SCRIPT), str(glb), str(spec), tmp], cwd=ROOT,
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"world_views.mjs failed: {out.stderr[-3000:]}")
        info = json.loads(out.stdout.strip().splitlines()[-1])
        shots = []
        for v in views:
            px = np.fromfile(Path(tmp) / f"{v['name']}.rgba", np.uint8).reshape(height, width, 4)
            pose = "start" if v["offset"] == [0.0, 0.0, 0.0] else "forward"
            shots.append(View(v["name"], pose, float(v["yaw"]), float(v["pitch"]), px))
    return info, shots


def grey_gradient(rgb: np.ndarray) -> float:
    """Mean Sobel gradient magnitude of an (h, w, 3) uint8 image's grey, in grey levels / 255."""
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.sqrt(gx * gx + gy * gy).mean())


def ab_histogram(rgb: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Normalised 16 x 16 histogram of Lab a*, b* over [-128, 128) (pixels in ``mask``)."""
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    a, b = lab[..., 1], lab[..., 2]
    if mask is not None:
        a, b = a[mask], b[mask]
    hist, _, _ = np.histogram2d(a.ravel(), b.ravel(), bins=16, range=[[-128, 128], [-128, 128]])
    return hist / max(1.0, hist.sum())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images of one shape."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def _rgb_filled(rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rgb with holes painted the mean drawn colour, drawn mask)."""
    drawn = rgba[..., 3] > 0
    rgb = rgba[..., :3].copy()
    if drawn.any() and not drawn.all():
        rgb[~drawn] = rgb[drawn].mean(axis=0).astype(np.uint8)
    return rgb, drawn


SEAM_STRIP = 3
"""Columns averaged on each side of a column boundary by :func:`frame_seam` (one column
between the strips is skipped: the frame's edge falls inside it)."""


def _column_step(img: np.ndarray, x: float, rows: slice) -> float:
    """Mean over ``rows`` of the RGB distance between the SEAM_STRIP columns left and right
    of column boundary ``x`` (px), one column skipped around it."""
    c = int(round(x))
    a = img[rows, c - 1 - SEAM_STRIP:c - 1].mean(axis=1)
    b = img[rows, c + 1:c + 1 + SEAM_STRIP].mean(axis=1)
    return float(np.sqrt(((a - b) ** 2).sum(axis=-1)).mean())


def frame_seam(rgb: np.ndarray, frame: float) -> dict:
    """How much the painting's side edges show in a level view straight ahead from the
    start pose (``rgb`` (h, w, 3); ``frame``: the frame's half-size over the view's, the
    same across and up): the colour step across each side edge (mean RGB distance of the
    strips either side, per row of the frame, in levels; the horizon's and the ground's
    steps count in it) against the same step a quarter of the frame's width inside the
    painting, where it is the painting's own. ``ratio`` 1: the edge is as invisible as any
    column of the painting; larger: it shows."""
    h, w = rgb.shape[:2]
    img = rgb.astype(np.float32)
    half_w, half_h = frame * w / 2.0, frame * h / 2.0
    rows = slice(int(math.ceil(h / 2.0 - half_h)) + 2, int(math.floor(h / 2.0 + half_h)) - 2)
    xl, xr, q = w / 2.0 - half_w, w / 2.0 + half_w, half_w / 2.0
    if rows.stop - rows.start < 4 or xl < SEAM_STRIP + 2 or q < 2 * SEAM_STRIP + 2:
        return {"step": math.nan, "inside": math.nan, "ratio": math.nan}
    edge = 0.5 * (_column_step(img, xl, rows) + _column_step(img, xr, rows))
    inside = 0.5 * (_column_step(img, xl + q, rows) + _column_step(img, xr - q, rows))
    return {"step": edge, "inside": inside, "ratio": edge / max(inside, 1e-6)}


def measure(views: list[View], painting_rgb: np.ndarray, frame: float | None = None) -> dict:
    """Per view: holes (share of pixels), detail, palette; and the painting view's PSNR;
    with ``frame`` (the start camera's half field of view over the views', in tangents)
    the seam at the frame's side edges in the level view ahead (:func:`frame_seam`)."""
    h, w = views[0].rgba.shape[:2]
    ref = cv2.resize(painting_rgb, (w, h), interpolation=cv2.INTER_AREA)
    ref_grad = max(grey_gradient(ref), 1e-6)
    ref_hist = ab_histogram(ref)
    rows = []
    result: dict = {"width": w, "height": h, "painting_gradient": ref_grad}
    for v in views:
        rgb, drawn = _rgb_filled(v.rgba)
        if v.name == "painting":
            result["psnr_db"] = psnr(rgb, ref)
            result["painting_holes"] = float(1.0 - drawn.mean())
            continue
        if frame is not None and v.pose == "start" and v.yaw == 0 and v.pitch == 0:
            result["seam"] = frame_seam(rgb, frame)
        rows.append({"view": v.name, "pose": v.pose, "yaw": v.yaw, "pitch": v.pitch,
                     "holes": float(1.0 - drawn.mean()), "hole_pixels": int((~drawn).sum()),
                     "detail": grey_gradient(rgb) / ref_grad,
                     "palette": float(np.minimum(ab_histogram(rgb, drawn if drawn.any() else None), ref_hist).sum())})
    result["views"] = rows
    return result


def failures(result: dict) -> list[str]:
    """Every missed target, one line each ([] when the world meets them all)."""
    out = []
    for r in result["views"]:
        if r["hole_pixels"] > 0:
            out.append(f"{r['view']}: {r['hole_pixels']} hole pixels")
        need = TARGETS["detail_level"] if r["pitch"] == 0 else TARGETS["detail_down"] if r["pitch"] < 0 else None
        if need is not None and r["detail"] < need:
            out.append(f"{r['view']}: detail {r['detail']:.2f} < {need}")
        if r["palette"] < TARGETS["palette"]:
            out.append(f"{r['view']}: palette {r['palette']:.2f} < {TARGETS['palette']}")
    if result["psnr_db"] < TARGETS["psnr_db"]:
        out.append(f"painting view: PSNR {result['psnr_db']:.1f} dB < {TARGETS['psnr_db']}")
    return out


def check_world(glb: Path, painting_rgb: np.ndarray, width: int = 480) -> tuple[dict, list[View]]:
    """Render the checker's views of ``glb`` and measure them against the painting."""
    H, W = painting_rgb.shape[:2]
    height = max(2, int(round(width * H / W)))
    vl = view_list(width / height)
    info, views = render_views(Path(glb), width, height, vl)
    frame = math.tan(math.radians(info["yfov"]) / 2) / math.tan(math.radians(vl[0]["yfov"]) / 2)
    return measure(views, painting_rgb, frame), views


def look_around_sheet(views: list[View], painting_rgb: np.ndarray, result: dict, path: Path,
                      tile: int = 240) -> Path:
    """A PNG grid for looking by eye: the painting and its camera's view, then per pose the
    8 headings, down and up, each labelled with its detail and palette."""
    by = {v.name: v for v in views}
    scores = {r["view"]: r for r in result["views"]}
    h0, w0 = views[0].rgba.shape[:2]
    th = int(round(tile * h0 / w0))

    def cell(rgb: np.ndarray, text: str) -> np.ndarray:
        img = cv2.resize(rgb, (tile, th), interpolation=cv2.INTER_AREA)
        img = np.ascontiguousarray(img)
        cv2.putText(img, text, (4, th - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(img, text, (4, th - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        return img

    def shot(name: str) -> np.ndarray:
        r = scores[name]
        return cell(by[name].rgba[..., :3], f"{name[name.index('_') + 1:]} d{r['detail']:.2f} p{r['palette']:.2f}"
                    + (f" holes{r['holes']:.3f}" if r["hole_pixels"] else ""))
    blank = np.full((th, tile, 3), 40, np.uint8)
    rows = [[cell(painting_rgb, "painting"), cell(by["painting"].rgba[..., :3], f"start cam {result['psnr_db']:.1f} dB")]
            + [blank] * 3]
    for pose in ("start", "forward"):
        names = [f"{pose}_h{y:03d}" for y in HEADINGS] + [f"{pose}_down", f"{pose}_up"]
        cells = [shot(n) for n in names]
        rows += [cells[:5], cells[5:]]
    sheet = np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
    path = Path(path)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return path
