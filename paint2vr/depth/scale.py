"""Metres for a relative (disparity) model from its own ground and the camera's geometry.

A camera at eye height h above flat ground, level, with focal length F (in picture heights)
sees the ground at row y (fraction of the height, down) with true disparity
``1 / z = (y - y_h) / (F h)``, y_h the horizon row: linear in the row. A relative model gives
``d = alpha / z + beta`` (unknown alpha, beta per picture). So over the ground, the model's
disparity against row is a straight line ``d = s y + c`` with ``s = alpha / (F h)``:

1. **Ground profile**: per row of the fit map, a low quantile (``ground_quantile``) of the
   disparity over the row's land pixels. Below the horizon everything that stands on the
   ground is nearer than the ground at the same row (its base is lower), so the low quantile
   follows the ground and ignores figures, trees and walls in front of it.
2. **Robust line**: least squares over the bottom rows, then iteratively reweighted least
   squares (Tukey's biweight, scale from the median absolute residual) over every row with
   enough land, so the flat profile of a wall or of far hills is rejected.
3. **Offset** beta (the disparity of infinity), in this order: the designer's horizon row
   (``horizon``: ``beta = s y_h + c``); the sky's median disparity (the horizon is where the
   ground line meets it); the model's zero (Depth Anything style models are trained with
   the sky at disparity 0). Sky can only be above the horizon: a "sky" whose median row is
   not above the horizon it implies is the far end of the ground itself (a high viewpoint
   with no sky, whose farthest band looks like sky to the top-connected low-disparity rule),
   and is given back to the land.
4. **Scale** ``alpha = s F h``: ``z = alpha / (d - beta)``, clipped to [near, far].

Accepted only when the line is rising (nearer downwards), fits well (weighted R^2 >=
``min_r2``), spans at least ``min_span`` of the height, and the horizon lies above the
ground it was fitted on (and not more than ``max_horizon_above`` heights above the top).
Otherwise :func:`fit_ground` says why and the caller falls back to the range mapping
(:mod:`.fit`: the prior's near/far onto the disparity percentiles).

:func:`fit_ground` is the numpy reference; :func:`.device_fit.fit_ground_torch` is the batched
device version, tested against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import InputError
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG


@dataclass(frozen=True)
class ScaleOptions:
    """How a relative depth model's output gets metres (see :mod:`paint2vr.depth.scale`). In the
    options tree ``eye_height``, ``fov_deg`` and ``horizon`` are set through ``depth.hints``
    (:mod:`paint2vr.depth.hints`)."""

    method: Literal["auto", "range"] = "auto"
    """'auto': from the model's own ground and the camera (eye height, field of view), with the
    range mapping as the fallback when no ground is found; 'range': always the range mapping
    (the prior's near/far onto the disparity's 2nd/98th percentiles)."""
    eye_height: float = DEFAULT_EYE_HEIGHT
    """Eye height of the painter above the ground, in metres (a designer's hint: a street seen
    from a window is 8-15 m)."""
    fov_deg: float = DEFAULT_FOV_DEG
    """Field of view across the painting's longer side, in degrees."""
    horizon: float | None = None
    """Horizon row as a fraction of the height from the top (negative: above the top edge);
    None: from the model (where its ground meets its sky, or its zero disparity)."""
    ground_quantile: float = 0.25
    """Quantile of a row's land disparity taken as the ground's (low: the farthest things in
    the row, which is the ground below the horizon)."""
    min_span: float = 0.12
    """Least height (fraction of the picture) the ground line must span."""
    min_r2: float = 0.9
    """Least weighted R^2 of the ground line."""
    max_horizon_above: float = 2.0
    """Highest horizon accepted, in picture heights above the top edge (a steeper view down
    than about 60 degrees is not believed)."""
    near: float = 0.3
    """Nearest depth given to land, in metres."""
    far: float = 300.0
    """Farthest depth given to land, in metres (the horizon itself is infinitely far)."""


DEFAULT_SCALE_OPTIONS = ScaleOptions()

METHODS = ("range", "ground+horizon-hint", "ground+sky", "ground+zero", "metric")
"""Names of the ways the scale is fixed: the range mapping (the fallback), the ground with
the horizon from the designer, from the sky, from the model's zero; a metric model's own."""
_INIT = 0.3
"""The robust line starts from a least-squares fit over this bottom share of the rows."""
_TUKEY = 4.685
_MARGIN = 0.02
"""Rows this close below the horizon (picture heights) are left out of the ground line."""
_SKY_ABOVE = 0.01
"""A sky's median row must lie at least this far (picture heights) above the horizon it implies."""
_ITERS = 8


def check_scale_options(o: ScaleOptions) -> None:
    """Raise InputError for options no fit can honour."""
    bad = []
    if o.method not in ("auto", "range"):
        bad.append(f"method {o.method!r} (expected 'auto' or 'range')")
    if not (math.isfinite(o.eye_height) and o.eye_height > 0):
        bad.append(f"eye_height {o.eye_height} (expected > 0 m)")
    if not (math.isfinite(o.fov_deg) and 1 <= o.fov_deg <= 170):
        bad.append(f"fov_deg {o.fov_deg} (expected 1-170)")
    if o.horizon is not None and not (math.isfinite(o.horizon) and -o.max_horizon_above <= o.horizon < 1):
        bad.append(f"horizon {o.horizon} (expected a fraction in [-{o.max_horizon_above}, 1))")
    if not 0 <= o.ground_quantile <= 1:
        bad.append(f"ground_quantile {o.ground_quantile} (expected 0-1)")
    if not (0 < o.near < o.far and math.isfinite(o.far)):
        bad.append(f"near/far {o.near}/{o.far} (expected 0 < near < far)")
    if not (0 < o.min_span <= 1 and o.min_r2 <= 1 and o.max_horizon_above >= 0):
        bad.append(f"min_span {o.min_span}, min_r2 {o.min_r2}, max_horizon_above {o.max_horizon_above}")
    if bad:
        raise InputError("bad scale options: " + "; ".join(bad), hint="see paint2vr.depth.scale.ScaleOptions")


@dataclass(frozen=True)
class FitFrame:
    """Where a fit map's rows lie in the painting, and the focal length, in picture heights."""

    rows: np.ndarray
    """(h,) float64: the row centre of each fit-map row, as a fraction of the painting's height."""
    focal: float
    """Focal length in picture heights (F / H)."""


def fit_frame(nh: int, nw: int, kh: int, sh: int, fov_deg: float) -> FitFrame:
    """The frame of a fit map of ``sh`` rows made of kh-row blocks of an (nh, nw) crop (the
    painting at the model's resolution, same aspect); ``fov_deg`` spans the longer side."""
    rows = (np.arange(sh, dtype=np.float64) + 0.5) * kh / nh
    return FitFrame(rows, max(nh, nw) / nh / 2.0 / math.tan(math.radians(fov_deg) / 2.0))


@dataclass(frozen=True)
class ScaleInfo:
    """How one painting's scale was fixed (goes into provenance)."""

    method: str
    """One of :data:`METHODS`."""
    reason: str
    """Why the ground was not used ('' when it was)."""
    eye_height: float
    """Eye height assumed (m)."""
    fov_deg: float
    """Field of view assumed across the longer side (degrees)."""
    horizon: float | None
    """Horizon row (fraction of the height) the fit implies; None for the range mapping."""
    slope: float
    """The ground line's disparity per picture height (NaN when no line was fitted)."""
    r2: float
    """Weighted R^2 of the ground line (NaN when none)."""
    span: float
    """Height share its inlier rows span (0 when none)."""
    rows: int
    """Fit-map rows that carried the line."""

    def record(self) -> dict:
        """A JSON-friendly dict (NaN -> None, 5 significant digits)."""
        def num(x):
            return None if x is None or not math.isfinite(x) else float(f"{float(x):.5g}")
        return {"method": self.method, "reason": self.reason, "eye_height": num(self.eye_height),
                "fov_deg": num(self.fov_deg), "horizon": num(self.horizon), "slope": num(self.slope),
                "r2": num(self.r2), "span": num(self.span), "rows": int(self.rows)}


@dataclass(frozen=True)
class GroundFit:
    """The result of :func:`fit_ground`."""

    ok: bool
    """Whether the ground fixed the scale."""
    a: float
    """alpha of ``z = a / (d - b)`` (0 when not ok)."""
    b: float
    """beta (disparity of infinity)."""
    info: ScaleInfo
    """What was done, and why not when not ok."""


def _wls(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares line p = s y + c (NaN, NaN when degenerate)."""
    sw, sy, sp = w.sum(), (w * y).sum(), (w * p).sum()
    syy, syp = (w * y * y).sum(), (w * y * p).sum()
    den = sw * syy - sy * sy
    if not sw > 0 or not den > 1e-18 * max(sw * syy, 1e-300):
        return math.nan, math.nan
    s = (sw * syp - sy * sp) / den
    return float(s), float((sp - s * sy) / sw)


def ground_profile(disp: np.ndarray, sky: np.ndarray, q: float) -> np.ndarray:
    """(h,) the q-quantile of each row's land disparity; NaN where under half the row is land."""
    h, w = disp.shape
    prof = np.full(h, np.nan)
    for i in range(h):  # slow and obvious: the reference
        land = disp[i][~sky[i]]
        if 2 * land.size >= w and land.size:
            prof[i] = np.quantile(land, q)
    return prof


def robust_line(y: np.ndarray, p: np.ndarray, beta: float, horizon: float | None) -> tuple[float, float, np.ndarray]:
    """(s, c, weights) of the ground line through the valid (finite) profile rows: least
    squares over the bottom rows, then Tukey-biweight IRLS over the rows below the horizon
    (``horizon``, else the row where the current line reaches ``beta``, the disparity of
    infinity), so far hills and trees just above the horizon never bend it."""
    valid = np.isfinite(p)
    pv = np.where(valid, p, 0.0)
    h = p.size
    w = (valid & (np.arange(h) >= math.floor((1 - _INIT) * h))).astype(np.float64)
    s, c = _wls(y, pv, w)
    if valid.any():
        spread = float(pv[valid].max() - pv[valid].min())
    else:
        spread = 0.0
    floor = 1e-3 * spread + 1e-12
    for _ in range(_ITERS):  # a NaN line gives NaN residuals, no weights and a NaN line again
        r = np.abs(pv - (s * y + c))
        med = float(np.median(r[w > 0])) if (w > 0).any() else math.nan
        sigma = max(1.4826 * med, floor) if math.isfinite(med) else math.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            y_h = horizon if horizon is not None else np.float64(beta - c) / np.float64(s)  # IEEE, as torch
            u = r / (_TUKEY * sigma)
            w = np.where(valid & (u < 1) & (y > y_h + _MARGIN), (1 - u * u) ** 2, 0.0)
        s, c = _wls(y, pv, w)
    return s, c, w


def _line_quality(y: np.ndarray, p: np.ndarray, w: np.ndarray, s: float, c: float) -> tuple[float, float, int, float]:
    """(weighted R^2, span of the inlier rows, inlier count, top inlier row)."""
    inl = w > 0
    if not inl.any() or not math.isfinite(s):
        return math.nan, 0.0, 0, math.nan
    pv = np.where(inl, p, 0.0)
    mean = (w * pv).sum() / w.sum()
    ss_tot = (w * (pv - mean) ** 2).sum()
    ss_res = (w * (pv - (s * y + c)) ** 2).sum()
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else math.nan
    return float(r2), float(y[inl].max() - y[inl].min()), int(inl.sum()), float(y[inl].min())


def ground_stats(disp: np.ndarray, sky: np.ndarray, frame: FitFrame, q: float,
                 horizon: float | None = None) -> tuple[float, ...]:
    """(s, c, R^2, span, inlier rows, top inlier row) of the ground line of a (h, w)
    disparity fit map (larger = nearer) with its sky mask (NaN where there is no line), kept
    below the ``horizon`` hint, else below where it meets the sky's disparity (0 without sky)."""
    disp = np.asarray(disp, np.float64)
    sky = np.asarray(sky, bool)
    if disp.ndim != 2 or sky.shape != disp.shape or frame.rows.shape != (disp.shape[0],):
        raise InputError(f"ground_stats needs a (h, w) map, a sky mask and h frame rows; got "
                         f"{disp.shape}, {sky.shape}, {frame.rows.shape}")
    p = ground_profile(disp, sky, q)
    s, c, w = robust_line(frame.rows, p, float(np.median(disp[sky])) if sky.any() else 0.0, horizon)
    return (s, c) + _line_quality(frame.rows, p, w, s, c)


def decide_ground(stats: tuple[float, ...], sky_disp: float, focal: float,
                  options: ScaleOptions = DEFAULT_SCALE_OPTIONS, sky_row: float = math.nan) -> GroundFit:
    """The metric scale a ground line gives (:func:`ground_stats`' numbers; ``sky_disp`` the
    sky's median disparity and ``sky_row`` its median row, NaN without sky), or ``ok`` False
    with the reason. Method 'ground+zero' with a sky given means that sky is ground."""
    s, c, r2, span, n, top = (float(x) for x in stats)
    n = n if math.isfinite(n) else 0.0
    o = options

    def info(method: str, reason: str, horizon: float | None) -> ScaleInfo:
        return ScaleInfo(method, reason, o.eye_height, o.fov_deg, horizon, s, r2, span, int(n))

    why = _reject_line(s, r2, span, int(n), o)
    if why:
        return GroundFit(False, 0.0, 0.0, info("range", why, None))
    if o.horizon is not None:
        method, y_h = "ground+horizon-hint", float(o.horizon)
        beta = s * y_h + c
    else:
        method, beta = ("ground+sky", sky_disp) if math.isfinite(sky_disp) else ("ground+zero", 0.0)
        y_h = (beta - c) / s
        if method == "ground+sky" and not (y_h - sky_row >= _SKY_ABOVE):  # that "sky" is ground
            method, beta = "ground+zero", 0.0
            y_h = -c / s
    why = _reject_horizon(y_h, top, o)
    if why:
        return GroundFit(False, 0.0, 0.0, info("range", why, None))
    return GroundFit(True, float(s * focal * o.eye_height), float(beta), info(method, "", y_h))


def fit_ground(disp: np.ndarray, sky: np.ndarray, frame: FitFrame,
               options: ScaleOptions = DEFAULT_SCALE_OPTIONS) -> GroundFit:
    """The ground line of a (h, w) disparity fit map with its sky mask, and the metric scale
    it gives; ``ok`` False (with the reason) when it gives none."""
    stats = ground_stats(disp, sky, frame, options.ground_quantile, options.horizon)
    if not np.any(sky):
        return decide_ground(stats, math.nan, frame.focal, options)
    sky_row = float(np.median(np.broadcast_to(frame.rows[:, None], sky.shape)[sky]))
    return decide_ground(stats, float(np.median(np.asarray(disp, np.float64)[sky])), frame.focal, options, sky_row)


def _reject_line(s: float, r2: float, span: float, n: int, o: ScaleOptions) -> str:
    if not (math.isfinite(s) and n >= 4):
        return "no ground: too few rows of land to fit a line"
    if s <= 0:
        return "no ground: disparity does not rise towards the bottom"
    if not (r2 >= o.min_r2):
        return f"no ground: the line fits poorly (R^2 {r2:.2f} < {o.min_r2})"
    if span < o.min_span:
        return f"no ground: the line spans {span:.2f} of the height (< {o.min_span})"
    return ""


def _reject_horizon(y_h: float, top: float, o: ScaleOptions) -> str:
    if not math.isfinite(y_h) or y_h < -o.max_horizon_above:
        return f"horizon implausible: {y_h:.2f} heights (above -{o.max_horizon_above})"
    if y_h > top + 0.02:
        return f"horizon implausible: row {y_h:.2f} is below the ground fitted from row {top:.2f}"
    return ""
