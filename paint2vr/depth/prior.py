"""The built-in 'prior' depth estimator (version 5.4): no weights, deterministic.

It reads space the way painters build it, on a small working copy (``work_side``):

1. **Frame** (:mod:`.frames`): a frame, mount or wall around the picture is found and left
   out; the estimate is made inside it (the box is in ``DepthMap.extras['frame_box']``) and
   the border takes the depth of the picture's edge.
2. **Sky** (:mod:`.sky`): version 4's detector; a part not open to the top edge must look like
   the open sky at the same heights (:func:`.sky.one_sky`), else it is land.
3. **Horizon** (:mod:`.horizon`, :mod:`.perspective`): a designer's hint, else the vanishing
   point the painting's line segments (OpenCV LSD) clearly meet in, else just below the
   lowest reach of the sky, else ``default_horizon``. Sky is kept only above the horizon
   (mist, glow and reflections below it are land or water).
4. **Ground** (:mod:`.layout`): the ground plane from ``eye_height`` and the field of view;
   for an interior or a street seen down a vanishing point with no sky, a box room
   (floor, ceiling, side walls) fitted to the frame.
5. **Regions** (:mod:`.regions`): watershed superpixels merged by colour into things;
   wide regions below the horizon are ground, the others stand upright at the ground depth
   of their foot (an occluder is nearer than what lies behind it), and those whose foot is
   above the horizon are placed by aerial perspective (paler, bluer, less detail = farther).
6. **A figure before a background** (:func:`.layout.figure_depth`): with no sign of the
   space (no hint, no vanishing point, little sky), what rests on the bottom edge is a
   figure brought near (a sitter's head is not placed far by haze).
7. **Edge snapping**: log depth through a guided filter steered by the painting, at working
   and at full resolution.

``edges`` is the local log-depth jump (occlusion-edge strength in [0, 1]); ``confidence``
is lower on those edges, on things standing at a contact and on regions placed by haze
alone; ``extras['confidence']`` is one scalar for the painting (:mod:`.confidence`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, camera_for_image
from .base import DEFAULT_FAR, DEFAULT_NEAR, DEFAULT_SKY_DEPTH, DepthMap, ModelInfo, edge_strength
from .confidence import cue_confidence
from .frames import frame_box
from .guided import fast_guided_filter, guided_filter
from .horizon import horizon_from_sky, sky_above_horizon
from .imageops import check_rgb, grad, resize_to
from .layout import box_depth, figure_depth, ground_rows, region_depth
from .perspective import find_vanishing_point
from .regions import merge_regions, region_stats, superpixels
from .sky import _sky_inner, _sky_rules, detect_sky, one_sky

__all__ = ["DEFAULT_PRIOR_OPTIONS", "PRIOR_VERSION", "PriorEstimator", "PriorOptions", "detect_sky"]

_check_rgb = check_rgb  # the name other modules import


@dataclass(frozen=True)
class PriorOptions:
    """Options of the built-in prior estimator (the last four are a designer's hints)."""

    near: float = DEFAULT_NEAR
    """Nearest depth in metres (the ground at the bottom edge is never nearer)."""
    far: float = DEFAULT_FAR
    """Farthest depth of land, in metres; the sky lies beyond."""
    sky_depth: float = DEFAULT_SKY_DEPTH
    """Depth given to sky pixels (they are also marked in the sky mask)."""
    default_horizon: float = 0.35
    """Horizon row as a fraction of the height when neither sky nor perspective shows it;
    the sky's lower edge never sets it higher (sky is seen only above the horizon)."""
    work_side: int = 320
    """Longer side, in pixels, of the working copy the estimate is made on."""
    edge_snap: float = 1e-3
    """Guided-filter eps (grey levels in [0, 1], squared): smaller snaps depth harder to edges."""
    merge_threshold: float = 9.0
    """Colour difference (Lab units, plus edge strength) up to which neighbouring
    superpixels are joined into one thing: larger joins more (fewer, bigger regions)."""
    perspective_support: float = 0.5
    """Least share of the oblique line segments' length that must meet in one point for
    the painting's vanishing point to set the horizon (and, without sky, a box room)."""
    fov_deg: float = DEFAULT_FOV_DEG
    """Hint: field of view across the longer side, in degrees (turns rows into metres)."""
    eye_height: float = DEFAULT_EYE_HEIGHT
    """Hint: the painter's eye height above the ground, in metres."""
    horizon: float | None = None
    """Hint: the horizon (eye level) as a fraction of the painting's height from the top
    (may lie outside [0, 1]: a high viewpoint's horizon above the top edge); None finds it."""
    vanishing_point: tuple[float, float] | None = None
    """Hint: the central vanishing point (x, y) as fractions of width and height; sets the
    horizon (unless ``horizon`` is given) and, with no sky, the box room's centre."""


DEFAULT_PRIOR_OPTIONS = PriorOptions()
PRIOR_VERSION = "5.4"


def _check_options(o: PriorOptions) -> None:
    if not 0 < o.near < o.far < o.sky_depth:
        raise InputError(f"need 0 < near < far < sky_depth, got {o.near}, {o.far}, {o.sky_depth}")
    if o.work_side < 16:
        raise InputError(f"work_side must be >= 16, got {o.work_side}")
    if not 1.0 <= o.fov_deg <= 170.0:
        raise InputError(f"fov_deg must be within [1, 170], got {o.fov_deg}")
    if not 0.0 < o.eye_height < 1000.0:
        raise InputError(f"eye_height must be in (0, 1000) metres, got {o.eye_height}")
    if o.horizon is not None and not -2.0 <= o.horizon <= 3.0:
        raise InputError(f"horizon must be a fraction of the height in [-2, 3] or None, got {o.horizon}")
    vp = o.vanishing_point
    if vp is not None and (len(vp) != 2 or not all(-2.0 <= float(c) <= 3.0 for c in vp)):
        raise InputError(f"vanishing_point must be (x, y) fractions in [-2, 3] or None, got {vp!r}")
    if not o.merge_threshold > 0 or not 0.0 <= o.perspective_support <= 1.0:
        raise InputError(f"merge_threshold must be > 0 and perspective_support in [0, 1], got "
                         f"{o.merge_threshold}, {o.perspective_support}")


@dataclass(frozen=True)
class _Layout:
    """What the estimator read at the working size (inside the frame)."""

    depth: np.ndarray
    conf: np.ndarray
    sky: np.ndarray
    horizon: float
    vanishing_point: tuple[float, float] | None
    box: bool
    confidence: float = 0.5
    """How strongly the cues agree (:mod:`.confidence`)."""
    cues: dict | None = None
    """The confidence's parts."""


@dataclass(frozen=True)
class _Horizon:
    row: float
    """Horizon row in working pixels inside the frame."""
    vp: tuple[float, float] | None
    perspective: bool
    """The vanishing point came from a hint or clear perspective (a box room may apply)."""
    ceiling: bool
    """Lines converge from a ceiling (then nothing above is sky)."""
    source: str
    """hint, perspective, sky or default."""
    support: float = 0.0
    """The vanishing point's share of the oblique lines."""


def _horizon_and_vp(o: PriorOptions, grey: np.ndarray, sky: np.ndarray, off: tuple[int, int],
                    full: tuple[int, int]) -> _Horizon:
    """Horizon and vanishing point: a hint, clear perspective, the sky, or the default."""
    (t, l), (sh, sw) = off, full
    if o.vanishing_point is not None:
        vp = (o.vanishing_point[0] * sw - l, o.vanishing_point[1] * sh - t)
        hz = o.horizon * sh - t if o.horizon is not None else vp[1]
        return _Horizon(hz, vp, True, False, "hint")
    if o.horizon is not None:
        return _Horizon(o.horizon * sh - t, None, False, False, "hint")
    found = find_vanishing_point(grey, o.perspective_support)
    if found is not None:
        return _Horizon(found.y, (found.x, found.y), True, found.ceiling > 0.1, "perspective", found.support)
    default = o.default_horizon * grey.shape[0]
    row = horizon_from_sky(sky, default)
    return _Horizon(row, None, False, False, "sky" if sky.any(axis=0).mean() >= 0.2 else "default")


def _read_layout(o: PriorOptions, lab: np.ndarray, focal: float, off: tuple[int, int],
                 full: tuple[int, int]) -> _Layout:
    """Sky, horizon, ground or box, regions and their depths on the working copy."""
    h, w = lab.shape[:2]
    sky0 = one_sky(_sky_inner(lab) | _sky_rules(lab), lab)
    grey = np.clip(lab[..., 0] * 2.55, 0, 255).astype(np.uint8)
    found = _horizon_and_vp(o, grey, sky0, off, full)
    hz, vp, perspective, ceiling = found.row, found.vp, found.perspective, found.ceiling
    # No sign of the space (no hint, no vanishing point, hardly any sky): a figure before a background.
    evidence = found.source != "default"
    # Sky only above the horizon, and none under a ceiling the lines converge from.
    sky = one_sky(sky_above_horizon(sky0, hz) & (not ceiling), lab)
    ground = ground_rows(h, hz, o.eye_height, focal, o.near, o.far)
    box = perspective and vp is not None and sky.mean() < 0.02
    surface = (box_depth(h, w, vp, o.eye_height, focal, o.near, o.far) if box
               else np.broadcast_to(ground[:, None], (h, w)))
    if h < 8 or w < 8:
        return _Layout(np.where(sky, o.far, surface), np.ones((h, w)), sky, hz, vp, box)
    g = grad(lab[..., 0]) + 0.5 * (grad(lab[..., 1]) + grad(lab[..., 2]))
    med = float(np.median(g))
    sp = superpixels(lab, max(4, round(max(h, w) / 48)))
    sp = np.unique(sp * 2 + sky, return_inverse=True)[1].reshape(h, w).astype(np.int32)
    # Never join land to sky (pale water under a pale sky is one colour, not one thing).
    edge = 6.0 * np.clip(g / max(4.0 * med, 1.0), 0.0, 3.0)
    edge = np.where(sky != cv2.erode(sky.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool), 100.0, edge)
    reg = region_stats(merge_regions(sp, lab, edge, o.merge_threshold, int(0.002 * h * w)), lab, g, 0.9)
    sky_col = (np.array([lab[..., c][sky].mean() for c in range(3)]) if sky.any()
               else np.array([75.0, -2.0, -8.0]))  # a grey-blue haze
    depth, conf = region_depth(reg, sky, hz, surface, ground, sky_col, max(3.0 * med, 12.0), o.far, box)
    if not evidence:
        depth = figure_depth(reg, sky, depth, o.near, hz)
    value, cues = cue_confidence(found.source, found.support, sky, conf)
    return _Layout(depth, conf, sky, hz, vp, box, value, cues)


class PriorEstimator:
    """Frame, sky, horizon and perspective, ground or box, standing regions and aerial
    perspective (needs no weights)."""

    def __init__(self, options: PriorOptions = DEFAULT_PRIOR_OPTIONS) -> None:
        _check_options(options)
        self.options = options
        self.info = ModelInfo(name="prior", revision=PRIOR_VERSION, license="Apache-2.0", commercial=True)

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        return [self.estimate_one(img) for img in images]

    def _small(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """Working-size log depth, sky and confidence over the whole (framed) copy, and extras."""
        o = self.options
        small = resize_to(rgb, o.work_side)
        sh, sw = small.shape[:2]
        lab = cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        t, b, l, r = frame_box(lab[..., 0])
        inner = np.ascontiguousarray(lab[t:b, l:r])
        focal = camera_for_image(r - l, b - t, o.fov_deg, o.eye_height).focal
        lay = _read_layout(o, inner, focal, (t, l), (sh, sw))
        logd = np.log(np.maximum(lay.depth, o.near)).astype(np.float32)
        logd[lay.sky] = math.log(o.sky_depth)
        logd = guided_filter(inner[..., 0] / 100.0, logd, max(1, round(max(b - t, r - l) / 100)), o.edge_snap)
        # The frame takes the depth of the picture's edge (it is left out of the scene).
        pad = (t, sh - b, l, sw - r)
        logd = cv2.copyMakeBorder(logd, *pad, cv2.BORDER_REPLICATE)
        sky = cv2.copyMakeBorder(lay.sky.astype(np.uint8), *pad, cv2.BORDER_REPLICATE) > 0
        conf = cv2.copyMakeBorder(lay.conf.astype(np.float32), *pad, cv2.BORDER_REPLICATE)
        extras = {"horizon_row": (lay.horizon + t) / sh, "frame_box": (t / sh, b / sh, l / sw, r / sw),
                  "vanishing_point": None if lay.vanishing_point is None else
                  ((lay.vanishing_point[0] + l) / sw, (lay.vanishing_point[1] + t) / sh),
                  "box_room": bool(lay.box), "confidence": lay.confidence, "confidence_cues": lay.cues}
        return logd, sky, conf, extras

    def estimate_one(self, rgb: np.ndarray) -> DepthMap:
        """One (H, W, 3) uint8 painting -> its :class:`DepthMap` at full resolution.

        ``extras``: ``horizon_row`` (pixels), ``frame_box`` (top, bottom, left, right as
        fractions: the picture inside a frame), ``vanishing_point`` (fractions or None) and
        ``box_room`` (whether the space was read as a box), ``confidence`` (a scalar in
        [0, 1]: how strongly the cues agree) and ``confidence_cues`` (its parts).
        """
        check_rgb(rgb)
        o = self.options
        h, w = rgb.shape[:2]
        logd, sky, conf, extras = self._small(rgb)
        sh, sw = logd.shape
        if (sh, sw) != (h, w):
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
            both = cv2.resize(np.dstack([logd, sky.astype(np.float32)]), (w, h), interpolation=cv2.INTER_LINEAR)
            conf = cv2.resize(conf, (w, h), interpolation=cv2.INTER_LINEAR)
            r = max(1, round(max(h, w) / max(sh, sw)))
            # Depth and sky snapped to the painting's edges together (one guide's statistics).
            both = fast_guided_filter(grey, both, 2 * r, o.edge_snap)
            logd, sky = np.ascontiguousarray(both[..., 0]), both[..., 1] > 0.5
        depth = np.exp(np.clip(logd, math.log(o.near), math.log(o.far))).astype(np.float32)
        depth[sky] = np.float32(o.sky_depth)
        edges = edge_strength(np.log(depth))
        conf = np.clip(conf * (1.0 - 0.5 * edges), 0, 1).astype(np.float32)
        extras["horizon_row"] = extras["horizon_row"] * h
        extras.update(fov_deg=o.fov_deg, eye_height=o.eye_height)  # camera hints (base.CAMERA_HINT_KEYS)
        return DepthMap(depth=np.ascontiguousarray(depth), sky=np.ascontiguousarray(sky), metric=False,
                        model=self.info, confidence=conf, edges=edges, extras=extras)
