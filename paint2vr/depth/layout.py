"""Depth from the painting's layout: the ground (or a Tour-into-the-Picture box), things
standing on it at their contact, and aerial perspective for what floats at the horizon.

- **Ground**: a ground point on row v lies at ``eye * f / (v - horizon)``. When the
  painting is an interior or a street seen down a vanishing point (no sky), the space is a
  box fitted to the frame: floor, ceiling and side walls through the picture's edges at the
  nearest floor depth, each at the depth its plane has along the ray; the visible surface is
  the nearest plane.
- **Standing things**: a region that is not ground (a figure, column, tree, building) is an
  upright card at the ground depth of its foot; so an occluder standing in front is nearer
  than the floor or landscape behind it, however high its top reaches.
  A thing resting on a nearer, wider thing (a head on its shoulders) takes its depth.
- **Aerial perspective**: a region whose foot is above the horizon (hills, far trees) is
  far, and farther the more it resembles the sky and the less detail it has.
"""

from __future__ import annotations

import numpy as np

from .regions import Regions


def ground_rows(h: int, horizon: float, eye: float, focal: float, near: float, far: float) -> np.ndarray:
    """(h,) depth of the ground plane per row (``far`` at and above the horizon)."""
    v = np.arange(h, dtype=np.float64) + 0.5
    d = np.where(v > horizon + 0.5, eye * focal / np.maximum(v - horizon, 1e-3), far)
    return np.clip(d, near, far)


def box_depth(h: int, w: int, vp: tuple[float, float], eye: float, focal: float,
              near: float, far: float) -> np.ndarray:
    """(h, w) depth of a box room seen from inside towards the vanishing point ``vp``.

    The floor is at ``eye`` below the eye; ceiling and walls are placed so that, at the depth
    where the floor meets the bottom edge, they meet the top and side edges. Depth along
    the view axis of pixel (u, v) on a plane at distance D from the eye across the image
    direction is D * f / |offset|, offset measured from the vanishing point.
    """
    cx, cy = vp
    z0 = eye * focal / max(h - cy, 1.0)              # nearest floor depth, at the bottom edge
    v = np.arange(h, dtype=np.float64)[:, None] + 0.5
    u = np.arange(w, dtype=np.float64)[None, :] + 0.5
    planes = []
    for off, reach in ((v - cy, h - cy), (cy - v, cy), (cx - u, cx), (u - cx, w - cx)):
        if reach <= 1.0:
            continue                                 # the vanishing point lies beyond that edge
        planes.append(np.where(off > 0.5, z0 * reach / np.maximum(off, 1e-3), np.inf))
    d = np.min(np.broadcast_arrays(*planes), axis=0) if planes else np.full((h, w), far)
    return np.clip(d, near, far)


def haze(reg: Regions, sky_colour: np.ndarray, detail_scale: float) -> np.ndarray:
    """(n,) aerial-perspective score in [0, 1]: like the sky in colour and low in detail."""
    dist = np.sqrt((((reg.mean - sky_colour) ** 2) * np.array([1.0, 2.0, 2.0])).sum(1))
    return np.exp(-dist / 25.0) * np.exp(-reg.detail / (4.0 * detail_scale))


def ground_regions(reg: Regions, horizon: float) -> np.ndarray:
    """(n,) bool: ground regions lie mostly below the horizon and are wider than tall (a
    tree mass whose foot is on the meadow is not)."""
    h, w = reg.labels.shape
    safe = np.maximum(reg.count, 1).astype(np.float64)
    below = np.bincount(reg.labels.ravel(), np.broadcast_to(np.arange(h)[:, None] > horizon, (h, w))
                        .ravel().astype(np.float64), reg.n) / safe
    width = reg.right - reg.left + 1
    height = reg.bottom - reg.top + 1
    return (below > 0.8) & (width > 1.2 * height)


def region_depth(reg: Regions, sky: np.ndarray, horizon: float, surface: np.ndarray,
                 ground: np.ndarray, sky_colour: np.ndarray, detail_scale: float,
                 far: float, box: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) depth of land from regions, and (H, W) confidence (1 sky and ground, 0.8 a
    thing standing at its contact, 0.6 far land placed by haze).

    ``surface`` is the per-pixel depth of the ground (or box); ``ground`` the per-row floor
    depth a standing thing takes at its foot. Ground regions lie mostly below the horizon
    and are wider than tall; they keep ``surface``. Others stand at ``ground[foot]``; those
    whose foot is at or above the horizon float and are placed by haze, except in a box
    room (``box``), where what lies above eye level and every large region is ceiling,
    wall or floor and keeps ``surface``.
    """
    h, w = reg.labels.shape
    is_ground = ground_regions(reg, horizon)
    card = ground[np.clip(reg.bottom, 0, h - 1)].astype(np.float64)
    floating = reg.bottom <= horizon + 1
    hz = haze(reg, sky_colour, detail_scale)
    card[floating] = far * (0.55 + 0.45 * hz[floating])
    card = rest_on_support(reg, card, is_ground, hz)
    if box:
        # In a room nothing floats at eye level, and the big regions are its floor, walls
        # and ceiling; the things standing in it are the smaller ones.
        is_ground = is_ground | floating | (reg.count > 0.05 * h * w)
    depth = np.where(is_ground[reg.labels], surface, card[reg.labels])
    # Sure: sky, ground, far land placed by haze; less sure: things standing at a contact.
    conf = np.where((floating & ~is_ground)[reg.labels], 0.6, np.where(is_ground[reg.labels], 1.0, 0.8))
    return np.where(sky, far, depth), np.where(sky, 1.0, conf)


def rest_on_support(reg: Regions, card: np.ndarray, is_ground: np.ndarray, hz: np.ndarray,
                    share: float = 0.5) -> np.ndarray:
    """A standing thing whose foot rests mostly (``share`` of its lower boundary, counted
    under its lowest quarter: :func:`lower_contacts`) on one nearer standing thing about as
    hazy (a head on its shoulders, a capital on its column, a crown on its trunk, a rider on
    his horse) takes that thing's depth; from the lowest foot up, so chains carry."""
    a, b, uc = lower_contacts(reg)
    foot = np.bincount(a, uc, reg.n)
    out = card.copy()
    for c in np.argsort(-reg.bottom, kind="stable"):
        if is_ground[c]:
            continue
        sel = np.flatnonzero(a == c)
        if sel.size == 0:
            continue
        k = sel[np.argmax(uc[sel])]
        s = b[k]
        if not is_ground[s] and uc[k] >= share * foot[c] and out[s] < out[c] and abs(hz[s] - hz[c]) < 0.2:
            out[c] = out[s]
    return out


def lower_contacts(reg: Regions, quarter: float = 0.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What regions rest on: pairs (a above b) and their shared boundary length, counted
    only under the lowest ``quarter`` of a's height (a chin overhangs the background beside
    the neck; the neck stands on the shoulders)."""
    lbl = reg.labels
    n = reg.n
    h, w = lbl.shape
    up, dn = lbl[:-1].ravel(), lbl[1:].ravel()
    row = np.repeat(np.arange(h - 1), w)
    lowest = np.zeros(n, np.int64)
    np.maximum.at(lowest, lbl.ravel(), np.repeat(np.arange(h), w))
    low = lowest - quarter * (lowest - reg.top + 1)
    m = (up != dn) & (row >= low[up])
    uk, uc = np.unique(up[m].astype(np.int64) * n + dn[m], return_counts=True)
    return uk // n, uk % n, uc


def figure_mask(reg: Regions, is_ground: np.ndarray) -> np.ndarray:
    """(n,) bool: the regions of the figure before a background.

    What touches the bottom edge is the figure, unless it is ``is_ground`` with a level top
    edge (a floor); what touches the top or a side edge (and not the bottom) is background;
    every other region belongs where the region it rests on does (the one under the lowest
    quarter of it that shares most of its lower boundary there), along chains.
    """
    lbl = reg.labels
    n = reg.n
    bottom = np.bincount(lbl[-1], minlength=n) > 0
    edge = np.bincount(np.concatenate([lbl[0], lbl[:, 0], lbl[:, -1]]), minlength=n) > 0
    # A floor's top edge runs level across it; a figure's (shoulders, a wave) rises and falls.
    cols = np.zeros((n, lbl.shape[1]), bool)
    first = np.full((n, lbl.shape[1]), lbl.shape[0])
    for r in np.flatnonzero(bottom):
        m = lbl == r
        cols[r] = m.any(0)
        first[r] = np.where(cols[r], np.argmax(m, 0), lbl.shape[0])
    mound = np.zeros(n, bool)
    for r in np.flatnonzero(bottom):
        mound[r] = np.ptp(np.percentile(first[r][cols[r]], [10, 90])) > 0.15 * lbl.shape[0]
    fig = bottom & (~is_ground | mound)
    a, b, uc = lower_contacts(reg)
    best = np.full(n, -1)
    order = np.lexsort((uc, a))                       # per region a, the largest count last
    best[a[order]] = b[order]
    free = np.flatnonzero(~bottom & ~edge & (best >= 0))
    for _ in range(16):                               # along chains of resting regions
        nxt = fig.copy()
        nxt[free] = fig[best[free]]
        if np.array_equal(nxt, fig):
            break
        fig = nxt
    return fig


def figure_depth(reg: Regions, sky: np.ndarray, depth: np.ndarray, near: float, horizon: float,
                 squash: float = 0.3) -> np.ndarray:
    """Depth of a painting with no sign of its space (no sky, no perspective): a figure
    (a sitter, a wave, a still life) before a background (:func:`figure_mask`).

    The figure is brought near: its depths from the ground reading are squashed towards
    ``near`` (``near * (z / near) ** squash``: the same order inside it, a shallow relief),
    so a head above the shoulders is no longer placed far by haze; the rest keeps ``depth``.
    """
    is_ground = ground_regions(reg, horizon)
    fig = (figure_mask(reg, is_ground) & ~is_ground)[reg.labels] & ~sky
    z = near * (np.maximum(depth, near) / near) ** squash
    return np.where(fig, np.minimum(z, depth), depth)
