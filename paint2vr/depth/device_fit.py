"""The fit of :mod:`.fit` on the device, batched: sky connected to the top, land percentiles
and the ground line (:mod:`.scale`) for every painting of a batch, without a host round trip;
the few scalars per painting then become its fit on the host (:func:`.fit.fit_from_stats`).
:func:`.fit.fit_stats`, :func:`.fit.derive_sky` and :func:`.scale.ground_stats` are its reference."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InputError
from .fit import NSTATS, DepthFit, RangeHint, _prior_sky, fit_from_stats
from .scale import _INIT, _ITERS, _MARGIN, _TUKEY, FitFrame, ScaleOptions


def _upload(t, device):
    """A small host tensor on ``device`` without a synchronisation (pinned, non-blocking)."""
    if str(device).startswith("cuda"):
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


def row_quantiles(values, qs: Sequence[float], *, ignore_nan: bool = False) -> list:
    """(G, N) float -> one (G,) tensor per q: ``torch.quantile`` (``nanquantile`` with
    ``ignore_nan``), linear interpolation along dim 1, bit for bit (tested), from one sort.

    torch's own quantile costs about 55 small ops per call (argument checks, dtype round
    trips, a device copy of q); on a GPU each is a launch on the main thread. Here the ranks
    are Python numbers or come from a count on the device: one sort, then a gather (or an
    index) pair and a lerp per q, and no host-to-device copy. As torch: a row holding NaN
    gives NaN (without ``ignore_nan``); an all-NaN row gives NaN.
    """
    import torch
    srt = values.sort(dim=1).values  # NaN sorts last
    out = []
    if not ignore_nan:
        n = values.shape[1]
        has_nan = srt[:, -1].isnan()
        for q in qs:
            rank = q * (n - 1)
            below, above = math.floor(rank), math.ceil(rank)
            v = srt[:, below].lerp(srt[:, above], rank - below)
            out.append(torch.where(has_nan, srt[:, -1], v))
        return out
    last = (~values.isnan()).sum(1).to(values.dtype) - 1  # -1 for an all-NaN row
    for q in qs:
        rank = last * q
        below = rank.floor()
        i_lo = below.long().clamp_min(0)[:, None]
        i_hi = rank.ceil().long().clamp_min(0)[:, None]
        # An all-NaN row gathers NaN at index 0, so its result is NaN, as torch's.
        out.append(srt.gather(1, i_lo)[:, 0].lerp(srt.gather(1, i_hi)[:, 0], rank - below))
    return out


_SWEEPS = 6
"""Rounds of the four directional sweeps in the device's top-connected sky before it reports
whether it converged (a round follows any path with one turn per direction: real skies need
2-3; ragged noise near the percolation threshold can need 50, and is then fitted on the host
by the reference, from the fit map that comes back with it)."""


def top_connected_torch(cand, sweeps: int = _SWEEPS, until_converged: bool = False):
    """(G, h, w) bool candidates -> (pixels 4-connected to the top row through candidates,
    (G,) bool converged). Fixed ``sweeps`` rounds (no synchronisation), or, with
    ``until_converged``, until nothing changes (checked every ``sweeps`` rounds, capped at h * w
    rounds). Equals cv2.connectedComponents(connectivity=4) restricted to components that
    touch the top row, once converged.

    A round spreads the reached pixels down, right, up and left along runs of candidates: a
    pixel is reached when a reached pixel precedes it in its run, i.e. when the running max of
    the reached pixels' run ids equals its own run id (run id = count of non-candidates
    before it, fixed, so computed once). Up and left are down and right on the flipped maps."""
    import torch
    flipped = cand.flip((1, 2))
    runs = [[(dim, c, torch.cumsum(~c, dim, dtype=torch.int32)) for dim in (1, 2)] for c in (cand, flipped)]
    reached = torch.zeros_like(cand)
    reached[:, 0] = cand[:, 0]
    cap = max(1, cand.shape[1] * cand.shape[2])
    done = 0
    while True:
        for _ in range(sweeps):
            prev = reached
            for side in runs:
                for dim, c, run in side:
                    # No "& c": a non-candidate's run id exceeds every id before it, and it is
                    # never reached itself, so the running max can never equal it.
                    reached = torch.cummax(torch.where(reached, run, -1), dim).values == run
                reached = reached.flip((1, 2))
        done += sweeps
        converged = (reached == prev).flatten(1).all(1)
        if not until_converged or done >= cap or bool(converged.all()):
            return reached, converged


def _wls_torch(y, p, w):
    """:func:`.scale._wls` per row: (G,) s, c of the weighted line p = s y + c (NaN: degenerate)."""
    import torch
    sw, sy, sp = w.sum(1), (w * y).sum(1), (w * p).sum(1)
    syy, syp = (w * y * y).sum(1), (w * y * p).sum(1)
    den = sw * syy - sy * sy
    ok = (sw > 0) & (den > 1e-18 * torch.clamp_min(sw * syy, 1e-300))
    s = (sw * syp - sy * sp) / torch.where(ok, den, 1.0)
    c = (sp - s * sy) / torch.where(ok, sw, 1.0)
    nan = torch.full_like(s, float("nan"))
    return torch.where(ok, s, nan), torch.where(ok, c, nan)


def ground_stats_torch(disp, sky, rows, q: float, beta, horizon: float | None):
    """:func:`.scale.ground_stats` for G maps at once: (G, h, w) float64 disparity, (G, h, w)
    bool sky, (h,) float64 frame rows, (G,) disparity of infinity, the horizon hint ->
    (G, 6) float64 (s, c, R^2, span, inliers, top)."""
    import torch
    G, h, w = disp.shape
    count = (~sky).sum(2)
    valid = (2 * count >= w) & (count > 0)
    land = torch.where(sky, float("nan"), disp).reshape(G * h, w)
    prof = row_quantiles(land, (q,), ignore_nan=True)[0].reshape(G, h)
    p = torch.where(valid, prof, 0.0)
    y = rows.to(disp.dtype)[None, :].expand(G, h)
    idx = torch.arange(h, device=disp.device)[None, :]
    wt = (valid & (idx >= math.floor((1 - _INIT) * h))).to(disp.dtype)
    s, c = _wls_torch(y, p, wt)
    hi = torch.where(valid, p, float("-inf")).amax(1)
    lo = torch.where(valid, p, float("inf")).amin(1)
    spread = torch.where(valid.any(1), hi - lo, 0.0)
    floor = 1e-3 * spread + 1e-12
    for _ in range(_ITERS):
        r = (p - (s[:, None] * y + c[:, None])).abs()
        med = row_quantiles(torch.where(wt > 0, r, float("nan")), (0.5,), ignore_nan=True)[0]
        sigma = torch.where(med.isnan(), med, torch.maximum(1.4826 * med, floor))
        u = r / (_TUKEY * sigma[:, None])
        y_h = (beta - c) / s if horizon is None else torch.full_like(s, float(horizon))
        wt = torch.where(valid & (u < 1) & (y > (y_h + _MARGIN)[:, None]), (1 - u * u) ** 2, 0.0)
        s, c = _wls_torch(y, p, wt)
    inl = (wt > 0) & s.isfinite()[:, None]
    n = inl.sum(1).to(disp.dtype)
    sum_w = torch.where(inl, wt, 0.0).sum(1)
    pv = torch.where(inl, p, 0.0)
    mean = (wt * pv).sum(1) / sum_w.clamp_min(1e-300)
    ss_tot = (wt * (pv - mean[:, None]) ** 2).sum(1)
    ss_res = (wt * (pv - (s[:, None] * y + c[:, None])) ** 2).sum(1)
    nan = torch.full_like(s, float("nan"))
    r2 = torch.where((ss_tot > 0) & (n > 0), 1.0 - ss_res / torch.where(ss_tot > 0, ss_tot, 1.0), nan)
    top = torch.where(inl, y, float("inf")).amin(1)
    span = torch.where(n > 0, torch.where(inl, y, float("-inf")).amax(1) - top, 0.0)
    return torch.stack([s, c, r2, span, n, torch.where(n > 0, top, nan)], 1)


def fit_depth_torch(small, kind: str, prior_sky, *, frame_rows=None, scale: ScaleOptions | None = None,
                    sweeps: int = _SWEEPS, until_converged: bool = False):
    """:func:`.fit.fit_stats` for G fit maps of one shape at once, on their device, without a
    synchronisation: ``small`` (G, h, w) float; ``prior_sky`` None or (G, h, w) bool (the
    hint's sky at this size); ``frame_rows`` the (h,) float64 tensor of the maps' rows in
    picture heights (with ``scale``: the ground line). -> (sky (G, h, w) bool, (G, NSTATS)
    float64 statistics; :func:`.fit.fit_from_stats` makes each painting's fit of them).
    Float64 throughout, as the reference."""
    import torch
    f64 = torch.float64
    raw = small.to(f64)
    G, h, w = raw.shape
    relative = kind == "relative"
    disp = raw if relative else 1.0 / raw.clamp_min(1e-3)
    flat = disp.reshape(G, h * w)
    # derive_sky: low disparity (and the prior's sky where below the median), top-connected
    lo = flat.amin(1)
    hi, med = row_quantiles(flat, (0.98, 0.5))
    low = disp <= (lo + 0.03 * (hi - lo).clamp_min(1e-12))[:, None, None]
    cand = low
    if prior_sky is not None:
        cand = low | (prior_sky & (disp < med[:, None, None]))
    sky, converged = top_connected_torch(cand, sweeps, until_converged)
    frac = sky.flatten(1).sum(1).to(f64) / (h * w)
    none = (frac < 0.005) | sky.flatten(1).all(1)
    sky = sky & ~none[:, None, None]
    if frame_rows is not None and scale is not None and scale.horizon is not None:
        sky = sky & (frame_rows < scale.horizon)[None, :, None]  # no sky below the designer's horizon
    land = ~sky
    land = land | ~land.flatten(1).any(1)[:, None, None]
    stats = torch.full((G, NSTATS), float("nan"), dtype=f64, device=raw.device)
    stats[:, 3] = converged.to(f64)
    if not relative:
        stats[:, 2] = torch.where(land, raw, float("-inf")).flatten(1).amax(1)
        return sky, stats
    land_d = torch.where(land, disp, float("nan")).reshape(G, h * w)
    d_lo, d_hi = row_quantiles(land_d, (0.02, 0.98), ignore_nan=True)
    stats[:, 0], stats[:, 1] = d_lo, d_hi
    stats[:, 2] = torch.where(land, disp, float("inf")).flatten(1).amin(1)
    if frame_rows is not None and scale is not None and scale.method == "auto":
        sky_d = torch.where(sky, disp, float("nan")).reshape(G, h * w)
        sky_y = torch.where(sky, frame_rows.to(f64)[None, :, None], float("nan")).reshape(G, h * w)
        stats[:, 10], stats[:, 11] = (row_quantiles(x, (0.5,), ignore_nan=True)[0] for x in (sky_d, sky_y))
        stats[:, 12] = lo
        beta = torch.where(stats[:, 10].isnan(), 0.0, stats[:, 10])
        stats[:, 4:10] = ground_stats_torch(disp, sky, frame_rows, scale.ground_quantile, beta, scale.horizon)
    return sky, stats


def fit_pooled_torch(crops, block: tuple[int, int], kind: str, prior_sky: np.ndarray | None, rows: np.ndarray,
                     scale: ScaleOptions | None, sweeps: int = _SWEEPS):
    """The fit maps of G crops of one shape ((G, nh, nw) float tensor on its device: means
    over ``block`` = (kh, kw) blocks) and :func:`fit_depth_torch` on them, with the hints'
    skies (None, or a (G, h, w) bool array at the fit maps' size) and the maps' (h,) float64
    frame rows uploaded without a synchronisation -> (fit maps, sky, statistics)."""
    import torch
    import torch.nn.functional as F
    small = F.avg_pool2d(crops[:, None], block, stride=block)[:, 0]
    psky = None if prior_sky is None else _upload(torch.from_numpy(prior_sky), small.device)
    sky, stats = fit_depth_torch(small, kind, psky, scale=scale, sweeps=sweeps,
                                 frame_rows=_upload(torch.from_numpy(rows), small.device))
    return small, sky, stats


def fit_depth_device(smalls: Sequence[np.ndarray], kind: str, hints: Sequence[RangeHint], sky_depth: float,
                     device: str = "cpu", scale: ScaleOptions | None = None,
                     frame: FitFrame | None = None) -> list[DepthFit]:
    """:func:`fit_depth_torch` on host fit maps of one shape (run until converged), as
    :class:`DepthFit` objects (one ``frame`` for all); for tests and tools (the estimator
    calls it on device tensors)."""
    import torch
    if not smalls or len(smalls) != len(hints) or len({np.shape(s) for s in smalls}) != 1 \
            or np.ndim(smalls[0]) != 2 or min(np.shape(smalls[0])) < 1:
        raise InputError(f"fit_depth_device needs fit maps of one (h, w) shape and a hint each; got shapes "
                         f"{sorted({np.shape(s) for s in smalls})} and {len(hints)} hints",
                         hint="group fit maps by shape")
    shape = np.shape(smalls[0])
    psky = None
    if any(h.sky is not None and h.sky.size for h in hints):
        psky = torch.from_numpy(np.stack([_prior_sky(h, shape) for h in hints])).to(device)
    rows = None if frame is None else torch.from_numpy(np.asarray(frame.rows, np.float64)).to(device)
    with torch.inference_mode():
        small = torch.from_numpy(np.stack([np.asarray(s, np.float32) for s in smalls])).to(device)
        sky, st = fit_depth_torch(small, kind, psky, frame_rows=rows, scale=scale, until_converged=True)
    sky, st = sky.cpu().numpy(), st.cpu().numpy()
    focal = None if frame is None else frame.focal
    return [fit_from_stats(s, kind, h, sky_depth, m, scale, focal) for s, h, m in zip(st, hints, sky)]
