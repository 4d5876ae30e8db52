"""The fit of :mod:`.fit` on the device, batched: sky connected to the top, land percentiles
and the disparity fit for every painting of a batch, without a host round trip.
:func:`.fit.fit_depth` and :func:`.fit.derive_sky` are its reference."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import InputError
from .fit import DepthFit, RangeHint, _prior_sky


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


def fit_depth_torch(small, kind: str, near, far, prior_sky, sky_depth: float, *, sweeps: int = _SWEEPS,
                    until_converged: bool = False):
    """:func:`fit_depth` for G fit maps of one shape at once, on their device, without a
    synchronisation: ``small`` (G, h, w) float; ``near``/``far`` floats or (G,) float64 tensors
    (far already ``max(far, 1.5 near)``); ``prior_sky`` None or (G, h, w) bool (the hint's sky
    at this size). -> (sky (G, h, w) bool, (G, 5) float64: a, b, const (NaN for None), sky
    depth, converged (1/0)). Float64 throughout, as the reference."""
    import torch
    f64 = torch.float64
    raw = small.to(f64)
    G, h, w = raw.shape
    relative = kind == "relative"
    disp = raw if relative else 1.0 / raw.clamp_min(1e-3)
    flat = disp.reshape(G, h * w)
    if not torch.is_tensor(near):
        near_t = torch.full((G,), float(near), dtype=f64, device=raw.device)
        far_t = torch.full((G,), float(far), dtype=f64, device=raw.device)
    else:
        near_t, far_t = near.to(f64), far.to(f64)
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
    land = ~sky
    land = land | ~land.flatten(1).any(1)[:, None, None]
    nan = torch.full((G,), float("nan"), dtype=f64, device=raw.device)
    zero = torch.zeros((G,), dtype=f64, device=raw.device)
    if relative:
        land_d = torch.where(land, disp, float("nan")).reshape(G, h * w)
        d_lo, d_hi = row_quantiles(land_d, (0.02, 0.98), ignore_nan=True)
        is_const = (d_hi - d_lo) < 1e-9
        a = torch.where(is_const, zero, (d_hi - d_lo) / (1.0 / near_t - 1.0 / far_t))
        b = torch.where(is_const, zero, d_lo - a / far_t)
        const = torch.where(is_const, (near_t + far_t) / 2, nan)
        a3, b3, far3, near3 = a[:, None, None], b[:, None, None], far_t[:, None, None], near_t[:, None, None]
        depth = torch.minimum(torch.maximum(a3 / torch.maximum(disp - b3, a3 / far3), near3 / 2), far3)
        depth = torch.where(is_const[:, None, None], const[:, None, None], depth)
    else:
        a = b = zero
        const = nan
        depth = raw.clamp_min(0.05)
    land_max = torch.where(land, depth, float("-inf")).flatten(1).amax(1)
    sky_d = torch.clamp_min(2.0 * land_max, float(sky_depth))
    return sky, torch.stack([a, b, const, sky_d, converged.to(f64)], 1)


def fit_depth_device(smalls: Sequence[np.ndarray], kind: str, hints: Sequence[RangeHint], sky_depth: float,
                     device: str = "cpu") -> list[DepthFit]:
    """:func:`fit_depth_torch` on host fit maps of one shape (run until converged), as
    :class:`DepthFit` objects; for tests and tools (the estimator calls it on device tensors)."""
    import torch
    if not smalls or len(smalls) != len(hints) or len({np.shape(s) for s in smalls}) != 1 \
            or np.ndim(smalls[0]) != 2 or min(np.shape(smalls[0])) < 1:
        raise InputError(f"fit_depth_device needs fit maps of one (h, w) shape and a hint each; got shapes "
                         f"{sorted({np.shape(s) for s in smalls})} and {len(hints)} hints",
                         hint="group fit maps by shape")
    shape = np.shape(smalls[0])
    near = torch.tensor([h.near for h in hints], dtype=torch.float64)
    far = torch.tensor([max(h.far, h.near * 1.5) for h in hints], dtype=torch.float64)
    psky = None
    if any(h.sky is not None and h.sky.size for h in hints):
        psky = torch.from_numpy(np.stack([_prior_sky(h, shape) for h in hints])).to(device)
    with torch.inference_mode():
        small = torch.from_numpy(np.stack([np.asarray(s, np.float32) for s in smalls])).to(device)
        sky, sc = fit_depth_torch(small, kind, near.to(device), far.to(device), psky, sky_depth,
                                  until_converged=True)
    sky, sc = sky.cpu().numpy(), sc.cpu().numpy()
    return [DepthFit(kind == "relative", float(s[0]), float(s[1]), None if math.isnan(s[2]) else float(s[2]),
                     h.near, max(h.far, h.near * 1.5), float(s[3]), m) for s, h, m in zip(sc, hints, sky)]
