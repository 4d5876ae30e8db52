"""Procedural painterly scenes with known depth, for tests, benchmarks and the sample painting.

Geometry follows :func:`paint2vr.scene.camera_for_image` (55 degrees across the longer side,
eye 1.6 m above flat ground, level view). Painters put the horizon where they like, so each
scene places it at its own row (a shifted lens, like a view camera's rise/fall): a ground
point at distance z appears at row ``horizon + eye * f / z``. Everything that stands on the
ground (trees, towers, figures, hill faces, walls) is a flat upright card at the distance of
its base, so the true depth of an object is the ground depth where it meets the ground.

Colours get aerial perspective (farther = paler, bluer, lower contrast) and brush-stroke
noise; the ground gets a texture fixed in world coordinates, so its detail shrinks with
distance (a texture gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import cv2
import numpy as np

from ..errors import InputError
from ..scene import DEFAULT_EYE_HEIGHT, camera_for_image

KINDS = ("landscape", "winter", "tall_trees", "coast", "no_sky")
"""Scene kinds :func:`make_scene` can draw."""
SKY_DEPTH = 1000.0
"""Depth stored for sky pixels in the true depth (they are also flagged in the sky mask)."""
MAX_GROUND = 150.0
"""Ground farther than this is drawn as haze at this distance (keeps the truth finite)."""


@dataclass(frozen=True)
class _Style:
    horizon: float          # horizon row as a fraction of the height
    sky_top: tuple[float, float, float]
    sky_low: tuple[float, float, float]
    haze: tuple[float, float, float]
    haze_dist: float        # metres over which ~63 % of the colour turns to haze
    ground_near: tuple[float, float, float]
    ground_far: tuple[float, float, float]
    ridge: tuple[float, float, float]
    tree: tuple[float, float, float]
    clouds: float           # cloud amount 0..1


_STYLES = {
    "landscape": _Style(0.44, (0.30, 0.48, 0.78), (0.78, 0.84, 0.90), (0.72, 0.80, 0.90), 60.0,
                        (0.32, 0.42, 0.14), (0.45, 0.52, 0.25), (0.30, 0.40, 0.30), (0.12, 0.25, 0.08), 0.45),
    "winter": _Style(0.40, (0.55, 0.62, 0.60), (0.75, 0.80, 0.78), (0.74, 0.80, 0.80), 70.0,
                     (0.92, 0.93, 0.95), (0.85, 0.88, 0.90), (0.45, 0.50, 0.52), (0.10, 0.08, 0.06), 0.15),
    "tall_trees": _Style(0.70, (0.35, 0.52, 0.80), (0.82, 0.86, 0.90), (0.75, 0.82, 0.90), 55.0,
                         (0.40, 0.45, 0.16), (0.55, 0.58, 0.30), (0.35, 0.45, 0.35), (0.10, 0.22, 0.06), 0.35),
    "coast": _Style(0.50, (0.25, 0.45, 0.80), (0.80, 0.86, 0.92), (0.76, 0.83, 0.92), 80.0,
                    (0.85, 0.76, 0.55), (0.12, 0.32, 0.55), (0.48, 0.42, 0.35), (0.15, 0.25, 0.10), 0.30),
    "no_sky": _Style(0.22, (0.6, 0.5, 0.4), (0.6, 0.5, 0.4), (0.55, 0.50, 0.45), 400.0,
                     (0.45, 0.30, 0.18), (0.50, 0.36, 0.22), (0.70, 0.62, 0.48), (0.25, 0.15, 0.10), 0.0),
}


class _Canvas:
    """Colour, texture amplitude and z-buffer, painted far to near with a depth test."""

    def __init__(self, h: int, w: int) -> None:
        self.rgb = np.zeros((h, w, 3), np.float32)
        self.depth = np.full((h, w), np.inf, np.float32)
        self.tex = np.zeros((h, w), np.float32)

    def paint(self, mask: np.ndarray, depth: np.ndarray | float, color, tex: float = 1.0) -> None:
        d = np.broadcast_to(np.asarray(depth, np.float32), mask.shape)
        m = mask & (d < self.depth)
        self.depth[m] = d[m]
        col = np.broadcast_to(np.asarray(color, np.float32), mask.shape + (3,))
        self.rgb[m] = col[m]
        self.tex[m] = tex


def _noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """Smooth value noise in [-1, 1] with features about ``cell`` pixels wide."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    g = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)


def _brush(rng: np.random.Generator, h: int, w: int, length: int, angle: float) -> np.ndarray:
    """Brush-stroke noise: white noise smeared along ``angle`` (radians) over ``length`` px."""
    n = rng.standard_normal((h, w)).astype(np.float32)
    k = max(3, length | 1)
    kern = np.zeros((k, k), np.float32)
    c = k // 2
    for t in range(-c, c + 1):
        kern[int(round(c + t * math.sin(angle))), int(round(c + t * math.cos(angle)))] = 1.0
    kern /= kern.sum()
    s = cv2.filter2D(n, -1, kern, borderType=cv2.BORDER_REFLECT)
    return s / max(float(s.std()), 1e-6)


def _ellipse(uu, vv, cu, cv_, ru, rv):
    return ((uu - cu) / max(ru, 0.5)) ** 2 + ((vv - cv_) / max(rv, 0.5)) ** 2 <= 1.0


class _Frame(NamedTuple):
    """The synthetic camera and pixel grids every painting step draws on."""

    h: int
    w: int
    f: float
    eye: float
    hz: float
    cx: float
    v: np.ndarray
    u: np.ndarray
    uu: np.ndarray
    vv: np.ndarray

    def row_of(self, z: float) -> float:
        """Image row of the ground at distance z."""
        return self.hz + self.eye * self.f / z

    def px(self, metres: float, z: float) -> float:
        """Size on the image of ``metres`` at distance z."""
        return metres * self.f / z


def make_scene(kind: str = "landscape", width: int = 640, height: int = 427,
               seed: int = 0, *, eye_height: float = DEFAULT_EYE_HEIGHT,
               horizon: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw a synthetic painting and its true depth.

    ``eye_height`` (metres) raises the viewpoint (a street seen from a window); ``horizon``
    puts the horizon at this fraction of the height (negative: above the top edge, no sky);
    None keeps the kind's own (jittered) horizon.

    Returns:
        rgb: (H, W, 3) uint8; depth: (H, W) float32 metres along the view axis (sky pixels
        hold :data:`SKY_DEPTH`); sky: (H, W) bool.

    The same ``(kind, width, height, seed)`` gives identical bytes.
    """
    if kind not in _STYLES:
        raise InputError(f"unknown scene kind {kind!r}", hint=f"expected one of: {', '.join(KINDS)}")
    if not (isinstance(width, int) and isinstance(height, int)) or width < 8 or height < 8:
        raise InputError(f"scene size must be integers >= 8, got {width}x{height}")
    if not (math.isfinite(eye_height) and 0.1 <= eye_height <= 1000):
        raise InputError(f"eye_height must be in [0.1, 1000] m, got {eye_height}")
    if horizon is not None and not (math.isfinite(horizon) and -5.0 <= horizon <= 0.98):
        raise InputError(f"horizon must be a fraction in [-5, 0.98] of the height, got {horizon}")
    if width * height > 40_000_000:
        raise InputError(f"scene of {width}x{height} is too large", hint="keep it under 40 megapixels")
    st = _STYLES[kind]
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, KINDS.index(kind)])
    h, w = height, width
    f = camera_for_image(w, h).focal
    hz = h * (st.horizon + rng.uniform(-0.03, 0.03))  # drawn always: same stream either way
    if horizon is not None:
        hz = h * float(horizon)
    v = np.arange(h, dtype=np.float32)[:, None] + 0.5
    u = np.arange(w, dtype=np.float32)[None, :] + 0.5
    fr = _Frame(h, w, f, float(eye_height), hz, w / 2.0, v, u, np.broadcast_to(u, (h, w)), np.broadcast_to(v, (h, w)))
    cv_ = _Canvas(h, w)
    if kind != "no_sky":
        _paint_sky(cv_, rng, fr, st)
    _paint_ground(cv_, rng, fr, st, kind)
    _paint_ridges(cv_, rng, fr, st, kind)
    _paint_objects(cv_, rng, fr, st, _objects(cv_, rng, fr, st, kind))
    return _finish(cv_, rng, fr, st)


def _paint_sky(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any) -> None:
    """Sky: a vertical gradient with soft horizontal clouds."""
    h, w, v, hz = fr.h, fr.w, fr.v, fr.hz
    t = (np.clip(v / max(hz, 1.0), 0, 1) ** 0.8)[..., None]
    sky = (1 - t) * np.array(st.sky_top, np.float32) + t * np.array(st.sky_low, np.float32)
    sky = np.broadcast_to(sky, (h, w, 3)).copy()
    cl = _noise(rng, h, w, max(8, w / 6)) * 0.6 + _noise(rng, h, w, max(4, w / 20)) * 0.4
    cl = cv2.resize(cv2.resize(cl, (w, max(1, h // 3))), (w, h))  # stretch clouds sideways
    cover = np.clip((cl - (0.55 - st.clouds)) * 2.5, 0, 1)[..., None] * (v < hz)[..., None]
    sky = sky * (1 - 0.8 * cover) + 0.8 * cover * np.array([0.97, 0.97, 0.96], np.float32)
    cv_.rgb[:] = sky
    cv_.depth[:] = SKY_DEPTH
    cv_.tex[:] = 0.3


def _paint_ground(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any, kind: str) -> None:
    """Ground: depth from the ground plane; colour and texture fixed in world coordinates."""
    h, w, v, hz, f, uu = fr.h, fr.w, fr.v, fr.hz, fr.f, fr.uu
    below = np.maximum(v - hz, 1e-3)
    zg = np.minimum(fr.eye * f / below, MAX_GROUND).astype(np.float32)
    zg = np.broadcast_to(zg, (h, w))
    gmask = np.broadcast_to(v > hz, (h, w))
    xw = (uu - fr.cx) * zg / f
    tex_small = rng.uniform(-1, 1, (64, 64)).astype(np.float32)
    tex_small = cv2.GaussianBlur(tex_small, (0, 0), 0.8)
    mapx = np.mod(xw / 0.7, 64.0).astype(np.float32)
    mapy = np.mod(zg / 0.7, 64.0).astype(np.float32)
    gtex = cv2.remap(tex_small, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    mix = np.clip((zg - 5.0) / 40.0, 0, 1)[..., None]
    gcol = (1 - mix) * np.array(st.ground_near, np.float32) + mix * np.array(st.ground_far, np.float32)
    if kind == "coast":  # sand nearer than the shore line, sea beyond
        shore = 18.0 + rng.uniform(-4, 4) + 3.0 * np.sin(uu / w * 6.0 + rng.uniform(0, 6))
        sand = zg < shore
        gcol = np.where(sand[..., None], np.array(st.ground_near, np.float32),
                        np.array(st.ground_far, np.float32))
    gcol = gcol * (1 + 0.18 * gtex[..., None])
    cv_.paint(gmask, zg, gcol, tex=1.0)


def _paint_ridges(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any, kind: str) -> None:
    """Hills: ridge cards at their base distance, farthest first."""
    h, w, u, f = fr.h, fr.w, fr.u, fr.f
    n_ridges = {"landscape": 3, "winter": 2, "tall_trees": 2, "coast": 1, "no_sky": 0}[kind]
    for i in range(n_ridges):
        z = float(rng.uniform(120, 145)) * (0.62 ** i)
        top_m = rng.uniform(6, 14) * z / 60.0
        prof = (top_m * (0.6 + 0.25 * np.sin(u / w * rng.uniform(3, 7) + rng.uniform(0, 6))
                         + 0.15 * np.sin(u / w * rng.uniform(11, 19) + rng.uniform(0, 6))))
        if kind == "coast":  # a cliff on one side only
            side = rng.uniform(0.25, 0.45) * w
            prof = prof * np.clip((side - u) / (0.05 * w), 0, 1) * 2.0
        vtop = fr.hz - (prof - fr.eye) * f / z
        mask = (fr.vv >= vtop) & (fr.vv <= fr.row_of(z)) & np.broadcast_to(prof > 0.2, (h, w))
        shade = 1 + 0.12 * _noise(rng, h, w, max(4, w / 30))[..., None]
        cv_.paint(mask, z, np.array(st.ridge, np.float32) * shade, tex=0.8)


def _objects(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any,
             kind: str) -> list[tuple[str, float, float, float]]:
    """Objects standing on the ground, far to near: (kind, x metres, z metres, height metres);
    indoors ('no_sky') the back wall is painted first."""
    h, w, f, v = fr.h, fr.w, fr.f, fr.v
    objs: list[tuple[str, float, float, float]] = []
    if kind == "no_sky":
        zwall = float(rng.uniform(5.0, 7.0))
        wall = np.broadcast_to(v <= fr.row_of(zwall), (h, w))
        panel = 1 + 0.08 * _noise(rng, h, w, max(4, w / 8))[..., None]
        cv_.paint(wall, zwall, np.array(st.ridge, np.float32) * panel, tex=0.6)
        objs += [("table", rng.uniform(-0.8, 0.8), zwall * 0.6, 0.8)]
        objs += [("figure", rng.uniform(-1.5, 1.5), rng.uniform(2.2, zwall * 0.8), 1.7) for _ in range(3)]
    else:
        n_trees = {"landscape": 7, "winter": 9, "tall_trees": 3, "coast": 3}[kind]
        for _ in range(n_trees):
            z = float(rng.uniform(8, 70)) if kind != "tall_trees" else float(rng.uniform(4.5, 9))
            ht = float(rng.uniform(6, 11)) if kind != "tall_trees" else float(rng.uniform(13, 18))
            objs.append(("tree", float(rng.uniform(-0.45, 0.45)) * z * w / f, z, ht))
        if kind in ("landscape", "coast"):
            z = float(rng.uniform(25, 60))
            objs.append(("tower", float(rng.uniform(-0.3, 0.3)) * z * w / f, z, float(rng.uniform(12, 22))))
        for _ in range({"landscape": 4, "winter": 6, "tall_trees": 2, "coast": 3}[kind]):
            z = float(rng.uniform(4, 30))
            objs.append(("figure", float(rng.uniform(-0.4, 0.4)) * z * w / f, z, 1.7))
    objs.sort(key=lambda o: -o[2])
    return objs


def _paint_objects(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any,
                   objs: list[tuple[str, float, float, float]]) -> None:
    """Trees, towers, tables and figures, in the order given (far to near)."""
    h, w, uu, vv, px = fr.h, fr.w, fr.uu, fr.vv, fr.px
    for ok, x, z, ht in objs:
        base = fr.row_of(z)
        cu = fr.cx + x * fr.f / z
        if ok == "tree":
            trunk = (np.abs(uu - cu) <= max(0.6, px(0.18 * ht / 8, z))) & (vv <= base) & (vv >= base - px(0.55 * ht, z))
            crown = _ellipse(uu, vv, cu, base - px(0.65 * ht, z), px(0.22 * ht, z), px(0.38 * ht, z))
            crown &= (vv <= base)  # a crown never hangs below the tree's base
            cv_.paint(trunk, z, (0.22, 0.14, 0.08), tex=0.8)
            tint = 1 + 0.15 * _noise(rng, h, w, max(3, px(1.5, z)))[..., None]
            cv_.paint(crown, z, np.array(st.tree, np.float32) * tint, tex=1.2)
        elif ok == "tower":
            wd = px(ht * 0.25, z)
            body = (np.abs(uu - cu) <= wd / 2) & (vv <= base) & (vv >= base - px(ht, z))
            roof = (vv < base - px(ht, z)) & (vv >= base - px(ht * 1.3, z)) & \
                   (np.abs(uu - cu) <= (vv - (base - px(ht * 1.3, z))) / max(px(ht * 0.3, z), 1e-3) * wd / 2)
            cv_.paint(body, z, (0.62, 0.55, 0.45), tex=0.7)
            cv_.paint(roof, z, (0.45, 0.18, 0.12), tex=0.7)
        elif ok == "table":
            top = (np.abs(uu - cu) <= px(0.8, z)) & (vv <= base) & (vv >= base - px(ht, z))
            cv_.paint(top, z, (0.35, 0.20, 0.10), tex=0.8)
        else:  # figure: body and head
            col = np.array([(0.5, 0.12, 0.10), (0.12, 0.15, 0.35), (0.15, 0.12, 0.10)][int(rng.integers(3))], np.float32)
            body = _ellipse(uu, vv, cu, base - px(0.7, z), px(0.25, z), px(0.7, z))
            head = _ellipse(uu, vv, cu, base - px(1.55, z), px(0.12, z), px(0.14, z))
            cv_.paint(body | head, z, col, tex=0.8)


def _finish(cv_: _Canvas, rng: np.random.Generator, fr: _Frame, st: Any
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aerial perspective (farther is paler, bluer and lower in contrast) and brush strokes."""
    h, w = fr.h, fr.w
    depth = cv_.depth
    sky = depth >= SKY_DEPTH
    a = np.where(sky, 0.0, 1.0 - np.exp(-np.minimum(depth, MAX_GROUND) / st.haze_dist))[..., None]
    rgb = cv_.rgb * (1 - a) + np.array(st.haze, np.float32) * a
    contrast = (1 - a[..., 0]) * cv_.tex
    strokes = _brush(rng, h, w, max(3, w // 80), rng.uniform(-0.3, 0.3)) * 0.5 + \
        _brush(rng, h, w, max(3, w // 150), rng.uniform(0.8, 2.3)) * 0.5
    rgb = rgb * (1 + 0.10 * contrast[..., None] * strokes[..., None]) + 0.012 * strokes[..., None]
    out = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out, np.ascontiguousarray(depth, np.float32), sky
