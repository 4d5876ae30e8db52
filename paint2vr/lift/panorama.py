"""The surroundings all around and overhead, continued from the painting: an equirectangular
panorama on a sphere around the eye, and the painting's own sky in a window in front.

The panorama (azimuth across, 0 straight ahead in the middle; elevation down) is made of:

- inside the painting's frame, the painting itself (hidden behind the window and the layers,
  it is the context the rest continues from);
- the far band around the horizon, as high as the frame at its side edges: full-height
  column blocks of the painting quilted (:func:`.synth.quilt_strip`) from the frame's right
  edge all the way round to its left edge, matched and cut at both ends, preferring columns
  whose upper half is far (near objects are not copied into the distance), never mirrored;
- above it, the sky dome: detail quilted from the painting's top (its sky, or the ceiling
  and walls of an interior) as a strip as wide as the circle, laid along the horizon up to
  60-75 degrees, and a cap laid in the dome's polar coordinates round the zenith (neither
  repeats across the sky), over the painting's colour profile, which turns towards the
  zenith to the deepest of the painting's own sky colours; cross-faded into the band;
- below it, the ground: the ground tile (:mod:`.ground`) projected from the ground plane.

The seams with the painting are made invisible by multiband blending (low frequencies from
the painting's side, detail from the synthesis). The window is a quad on the plane z = -R
carrying the painting's sky at the painting's resolution (the start view stays the
painting); the sphere lies beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..color import linear_to_srgb, srgb_to_linear
from ..errors import InputError
from ..scene import Camera, Layer, Mesh, Node
from .fill import push_pull
from .ground import Ground
from .rare import fill_rare, rare_texels
from .sky import wide_blur
from .synth import fit_block, quilt_strip, quilt_tile, window_sums

BAND_BLOCK = 48 / 2048
"""Width of the far band's blocks, as a share of the panorama's width (8.4 degrees)."""
DOME_REUSE = 1.0
"""Mean overlap errors a dome block costs more per block already taken from its neighbourhood
(:func:`.synth.quilt_tile`'s ``reuse``): a small patch of sky is not laid as rows of one copy."""
DOME_CANDIDATES = 24
"""Exemplar positions tried per dome block (a patch's neighbourhood holds few more)."""
DOME_BLOCK = 64 / 2048
"""Side of the sky dome's blocks, as a share of the panorama's width."""
DOME_OVERLAP = 0.2
"""Overlap of neighbouring dome blocks, as a share of their side."""
DOME_FEATHER = 0.5
"""Softening of the dome's block seams (Gaussian sigma, as a share of the blocks' overlap):
clouds are soft, and a hard cut between two cloud blocks reads as a square patch."""
NEAR_WEIGHT = 20.0
"""How much a source column's share of near objects costs, in mean overlap errors."""
STRAIGHT_LENGTH = 0.03
"""Least length (share of the width) of a straight edge that marks something built (or a trunk)."""
STRAIGHT_WINDOW = 0.06
"""Side (share of the width) of the window over which straight edges are counted."""
STRAIGHT_DENSITY = 0.015
"""Share of a window's pixels on long straight edges over which its sky is not sky."""
OBJECT_SHARE = 0.15
"""Share of a band source column's rows above the horizon that, when something the band's
land shows only once (:func:`band_object_share`), makes it an object column."""
OBJECT_COST = 1e3
"""Mean overlap errors an object column costs in the far band: shown once, in the painting,
never copied round the horizon while any other column can be (a subject repeated round the
visitor, the Mona Lisa's head eight times, is the worst stamp)."""
HORIZON_FADE = 0.03
"""Radians below the horizon over which the far band gives way to the ground."""
BAND_SCALES = (0.7, 0.5)
"""Sizes at which the far band's source is also offered to its quilting, shrunk towards the
horizon: the same land seen farther off, new blocks for a narrow source (one of six blocks
would otherwise come back six times round the visitor)."""
SCALE_BAR = 1e4
"""Cost (in mean overlap errors, per column) of the column between two scaled copies and of a
scaled column whose top would be stretched from land (no block straddles either)."""
"""Radians below the horizon over which the far band gives way to the ground."""
DOME_FADE = 0.05
"""Radians over which the band fades into the dome (and into the ground)."""
DOME_SPLIT = 0.5
"""Blur (sigma, in dome blocks) splitting the dome's source into its colour profile and the
detail that is quilted. Wider keeps more of the clouds' large light and shade in the blocks,
but blocks from different parts of a sky with strong large gradients then meet as bricks
(Turner's Temeraire at 0.75); the patches and the strip give the larger structure instead."""
DOME_ZOOM = 2.0
"""Most times the dome's clouds are shown larger than the painting's (never finer than its pixels)."""
SKY_CHANNEL = 64.0
"""Weight of the sky mask carried as a fourth channel through the band's quilting (in colour
levels: blocks are matched on their skyline too), whose copy then says where the dome shows."""
SKY_ALIKE = 16.0
"""Colour distance (levels) up to which a copied sky texel counts as the sky's own colour
(replaced by the dome; fading out at twice this)."""
OUTLIER = 6.0
"""Dome exemplar texels whose detail exceeds this many times the sky's median are kept out of
the blocks where possible (:func:`_detail_outliers`)."""
EDGE_REACH = 40 / 360
"""How far from the frame (share of the panorama's width) the painting's edge light reaches."""
HIDDEN_BELOW = math.radians(5.0)
"""Elevation below the horizon (radians) past which the panorama is hidden by the ground (the
ground disc's edge is atan(eye height / radius) below it: 0.6 degrees at 150 m): from the first
sphere vertex row this far down its rows are stored :data:`HIDDEN_SHRINK` times coarser."""
HIDDEN_SHRINK = 4
"""How many times coarser (rows) the panorama is stored where the ground hides it."""


HORIZON_MIN_REACH = 10.0
"""Least radius (metres) of the ground when it ends at a painted horizon below the eye."""


def horizon_below(cam: Camera, horizon_row: float | None) -> tuple[float, float]:
    """(elevation at the frame's centre column, at its side edges), radians, of the painted
    horizon row when it lies below the eye (0, 0 when above it or unknown): the far band's
    copied columns carry it there, so the band reaches down to it and the ground ends at it."""
    if horizon_row is None or horizon_row <= cam.height / 2.0:
        return 0.0, 0.0
    t = (cam.height / 2.0 - float(horizon_row)) / cam.focal
    th_e = math.atan(cam.width / 2.0 / cam.focal)
    return math.atan(t), math.atan(t * math.cos(th_e))


def horizon_reach(cam: Camera, ground_y: float, horizon_row: float | None, radius: float) -> float:
    """Radius of the ground (at most ``radius``): where it meets the painted horizon at the
    frame's side edges when that lies below the eye (a level plane's own horizon is at the
    eye; ending nearer, the band's copied far land shows down to the painting's horizon),
    at least HORIZON_MIN_REACH."""
    _, edge = horizon_below(cam, horizon_row)
    if edge >= 0.0:
        return float(radius)
    h = max(0.05, cam.position[1] - ground_y)
    return float(min(radius, max(HORIZON_MIN_REACH, h / math.tan(-edge))))


def pano_angles(pw: int, ph: int) -> tuple[np.ndarray, np.ndarray]:
    """(azimuth (1, pw), elevation (ph, 1)) of pixel centres, radians; azimuth 0 ahead,
    positive to the right; elevation positive up."""
    theta = ((np.arange(pw) + 0.5) / pw * 2.0 - 1.0) * math.pi
    phi = (0.5 - (np.arange(ph) + 0.5) / ph) * math.pi
    return theta[None, :], phi[:, None]


def painting_coords(theta: np.ndarray, phi: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Painting pixel (px, py) (float32) of each direction, and whether it is in the frame.

    In float32 from the row and column factors (:func:`painting_coords_reference`: float64)."""
    t32, p32 = np.asarray(theta, np.float32), np.asarray(phi, np.float32)
    cp, sp = np.cos(p32), np.sin(p32)
    ahead = cp * np.cos(t32)
    np.maximum(ahead, np.float32(1e-6), out=ahead)  # 1e-6 where behind: far outside the frame
    front = ahead > 1e-6
    inv = np.float32(cam.focal) / ahead
    px = (cp * np.sin(t32)) * inv
    px += np.float32(cam.width / 2.0)
    py = sp * inv
    np.subtract(np.float32(cam.height / 2.0), py, out=py)
    inside = front & (px >= 0) & (px <= cam.width) & (py >= 0) & (py <= cam.height)
    return px, py, inside


def painting_coords_reference(theta: np.ndarray, phi: np.ndarray, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`painting_coords` projecting every direction in float64 (tests)."""
    x = np.cos(phi) * np.sin(theta)
    y = np.sin(phi) * np.ones_like(theta)
    ahead = np.cos(phi) * np.cos(theta)
    safe = np.where(ahead > 1e-6, ahead, 1e-6)
    px = cam.width / 2.0 + cam.focal * x / safe
    py = cam.height / 2.0 - cam.focal * y / safe
    inside = (ahead > 1e-6) & (px >= 0) & (px <= cam.width) & (py >= 0) & (py <= cam.height)
    return px.astype(np.float32), py.astype(np.float32), inside


def multiband_blend(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int = 6) -> np.ndarray:
    """Laplacian-pyramid blend: ``a`` where ``mask`` (h, w) bool, ``b`` elsewhere, each band
    of frequencies joined over a width that grows with its scale (Burt & Adelson).

    The pyramids are linear, so the blend is ``b`` plus the masked pyramid of ``a - b``: one
    pyramid instead of two (:func:`multiband_blend_reference` blends the two); and it is
    ``b`` itself farther than the pyramid's reach from ``mask``, so only the mask's bounding
    box grown by that reach (aligned to the coarsest level) is blended."""
    h, w = mask.shape
    rs, cs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rs):
        return b.astype(np.float32)
    q = 2 ** levels
    reach = 8 * q  # pyrDown/pyrUp's 5-tap kernels: about 4 * 2**level pixels per level, summed
    y0, x0 = max(0, (int(rs[0]) - reach) // q * q), max(0, (int(cs[0]) - reach) // q * q)
    y1, x1 = min(h, -(-(int(rs[-1]) + 1 + reach) // q) * q), min(w, -(-(int(cs[-1]) + 1 + reach) // q) * q)
    if (y1 - y0) * (x1 - x0) < 0.8 * h * w:
        out = b.astype(np.float32)  # a copy
        out[y0:y1, x0:x1] = _blend_pyramid(a[y0:y1, x0:x1], b[y0:y1, x0:x1], mask[y0:y1, x0:x1], levels)
        return out
    return _blend_pyramid(a, b, mask, levels)


def _blend_pyramid(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int) -> np.ndarray:
    m = mask.astype(np.float32)
    b = b.astype(np.float32)
    gd, gm = [a.astype(np.float32) - b], [m]
    for _ in range(levels):
        if min(gd[-1].shape[:2]) < 8:
            break
        gd.append(cv2.pyrDown(gd[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out = gd[-1] * gm[-1][..., None]
    for i in range(len(gd) - 2, -1, -1):
        size = (gd[i].shape[1], gd[i].shape[0])
        ld = gd[i] - cv2.pyrUp(gd[i + 1], dstsize=size)
        ld *= gm[i][..., None]
        out = cv2.pyrUp(out, dstsize=size)
        out += ld
    out += b
    return out


def multiband_blend_reference(a: np.ndarray, b: np.ndarray, mask: np.ndarray, levels: int = 6) -> np.ndarray:
    """:func:`multiband_blend` with both pyramids built and blended band by band (tests)."""
    m = mask.astype(np.float32)
    ga, gb, gm = [a.astype(np.float32)], [b.astype(np.float32)], [m]
    for _ in range(levels):
        if min(ga[-1].shape[:2]) < 8:
            break
        ga.append(cv2.pyrDown(ga[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out = ga[-1] * gm[-1][..., None] + gb[-1] * (1 - gm[-1][..., None])
    for i in range(len(ga) - 2, -1, -1):
        size = (ga[i].shape[1], ga[i].shape[0])
        la = ga[i] - cv2.pyrUp(ga[i + 1], dstsize=size)
        lb = gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        w = gm[i][..., None]
        out = cv2.pyrUp(out, dstsize=size) + la * w + lb * (1 - w)
    return out


def _wrap_blur(tile: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a periodic tile (OpenCV's blur has no wrapping border)."""
    p = int(math.ceil(3 * sigma))
    big = np.pad(tile, ((p, p), (p, p), (0, 0)), mode="wrap")
    return cv2.GaussianBlur(big, (0, 0), sigma)[p:-p, p:-p]


def _ground_view(theta: np.ndarray, phi: np.ndarray, gr: Ground, eye: float) -> np.ndarray:
    """The ground tile seen in each direction below the horizon (float32 (ph, pw, 3)),
    filtered by the texel footprint, which depends on the elevation only: each row samples
    the pre-blurred copy of the tile that matches it (two in the rows between), so the far
    ground does not alias into noise. Rows above the horizon get the tile's mean."""
    n = gr.tile.shape[0]
    ph, pw = phi.shape[0], theta.shape[1]
    tile = gr.tile.astype(np.float32)
    out = np.empty((ph, pw, 3), np.float32)
    out[:] = tile.reshape(-1, 3).mean(axis=0)
    below = np.flatnonzero(phi[:, 0] < 0)
    if not len(below):
        return out
    h = max(0.05, eye - gr.y)
    down = -phi[below]                                   # (k, 1)
    d = h / np.tan(down)
    scale = n / gr.tile_m
    u = ((d * np.sin(theta) * scale) % n).astype(np.float32)
    v = ((-d * np.cos(theta) * scale) % n).astype(np.float32)
    # Texels per panorama pixel along the view: d / sin(down) * (pi / ph) * scale.
    foot = (d / np.sin(down) * (math.pi / ph) * scale)[:, 0]
    level = np.clip(np.log2(np.maximum(foot, 1e-6)) / 1.5, 0, 2)  # 0: sharp, 1: sigma 2, 2: sigma 8
    sub = np.zeros((len(below), pw, 3), np.float32)
    for k, sigma in enumerate((0.0, 2.0, 8.0)):
        w = np.clip(1.0 - np.abs(level - k), 0, 1)
        rows = np.flatnonzero(w > 0)
        if not len(rows):
            continue
        m = tile if sigma == 0 else _wrap_blur(tile, sigma)
        shot = cv2.remap(m, u[rows], v[rows], cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        sub[rows] += shot * w[rows, None, None]
    gain = gr.gain(d[:, 0]).astype(np.float32)[:, None, :]  # the painted ground's fading with distance
    out[below] = linear_to_srgb(srgb_to_linear(np.clip(sub / 255.0, 0, 1)) * gain) * 255.0
    return out


MIN_SKY_SHARE = 0.004
"""Least share of the painting's top half that must be sky (eroded) for the dome to be made of
sky only; below it (no sky at all: an interior) the dome is made of the top quarter."""


def _dome_rows(sky: np.ndarray) -> tuple[int, np.ndarray | None]:
    """(rows of the painting's top the dome is made of, their valid mask or None): the top half
    and its sky, shrunk by 2 px so no edge of the land it borders comes with it, whenever the
    painting shows any sky to speak of (a courtyard's patch of sky, not its walls); else the
    top quarter, all of it."""
    H = sky.shape[0]
    half = max(2, H // 2)
    core = cv2.erode(sky[:half].astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if core.mean() > MIN_SKY_SHARE:
        return half, core
    return max(2, H // 4), None


def _dome_source(rgb: np.ndarray, sky: np.ndarray, cam: Camera, scale: float, block: int):
    """What the dome is made of: (detail exemplar at the panorama's scale, its valid mask or
    None, elevations (k,) increasing, colours (k, 3)).

    The source is the painting above its horizon with its sky valid, or, with (almost) no
    sky (an interior), its top quarter (ceiling and upper walls) all valid. It is split into
    its large-scale colour, kept as a profile over elevation (the sky's gradient continues up
    to the zenith at its top value), and the detail around it (brush strokes, cloud edges),
    which is what gets quilted: blocks of detail from different heights then meet without
    the bricks that joining a gradient's pieces would show. The split is made on a copy
    area-reduced to the exemplar's scale when that is smaller than the painting (the detail
    is kept at that scale only; :func:`_dome_source_reference` makes it at full size).
    """
    H = rgb.shape[0]
    rows, valid = _dome_rows(sky)
    top = rgb[:rows]
    th, tw = top.shape[:2]
    s = scale if min(th, tw) * scale >= block + 2 else (block + 2) / min(th, tw)
    g = min(1.0, 4.0 * s)  # 4 times the exemplar's resolution: the blur's borders as at full size
    size = (max(1, round(tw * g)), max(1, round(th * g)))
    w = valid.astype(np.float32) if valid is not None else np.ones((th, tw), np.float32)
    if g < 1.0:
        # The sky's colours summed before reducing (premultiplied: no land mixed into them).
        tw_sum = top if valid is None else cv2.copyTo(top, valid.astype(np.uint8), np.zeros_like(top))
        tw_sum = cv2.resize(tw_sum, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        top = cv2.resize(top, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        w = cv2.resize(w, size, interpolation=cv2.INTER_AREA)
    else:
        top = top.astype(np.float32)
        tw_sum = top * w[..., None]
    sigma = max(2.0, block / max(scale, 1e-6) * DOME_SPLIT) * (size[1] / th)
    num = wide_blur(tw_sum, sigma)
    den = wide_blur(w, sigma)
    low = num / np.maximum(den, 1e-3)[..., None]
    detail = (top - low) * (den > 1e-3)[..., None]
    rows_w = w.sum(axis=1)
    ok = rows_w > 0
    prof = (low * w[..., None]).sum(axis=1)[ok] / rows_w[ok][:, None]
    ys = (np.flatnonzero(ok) + 0.5) * (th / size[1])
    phis = np.arctan((H / 2.0 - ys) / cam.focal)
    if g < 1.0:
        ex = cv2.resize(detail, (max(1, round(tw * s)), max(1, round(th * s))), interpolation=cv2.INTER_AREA)
    else:
        ex = cv2.resize(detail, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if valid is not None:
        valid = cv2.resize(valid.astype(np.uint8), (ex.shape[1], ex.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return ex, valid, phis[::-1], prof[::-1]


def _dome_source_reference(rgb: np.ndarray, sky: np.ndarray, cam: Camera, scale: float, block: int):
    """:func:`_dome_source` made at the painting's full size, then reduced (slow; tests)."""
    H = rgb.shape[0]
    rows, valid = _dome_rows(sky)
    top = rgb[:rows].astype(np.float32)
    w = valid.astype(np.float32) if valid is not None else np.ones(top.shape[:2], np.float32)
    sigma = max(2.0, block / max(scale, 1e-6) * DOME_SPLIT)
    num = wide_blur(top * w[..., None], sigma)
    den = wide_blur(w, sigma)
    low = num / np.maximum(den, 1e-3)[..., None]
    detail = (top - low) * (den > 1e-3)[..., None]
    rows_w = w.sum(axis=1)
    ok = rows_w > 0
    prof = (low * w[..., None]).sum(axis=1)[ok] / rows_w[ok][:, None]
    ys = np.flatnonzero(ok) + 0.5
    phis = np.arctan((H / 2.0 - ys) / cam.focal)
    s = scale if min(top.shape[:2]) * scale >= block + 2 else (block + 2) / min(top.shape[:2])
    ex = cv2.resize(detail, None, fx=s, fy=s, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    if valid is not None:
        valid = cv2.resize(valid.astype(np.uint8), (ex.shape[1], ex.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    return ex, valid, phis[::-1], prof[::-1]


MIN_SKY_BLOCKS = 24
"""Fewest all-sky block positions the dome's block size must leave in the exemplar."""


def _sky_block(valid: np.ndarray | None, block: int) -> int:
    """The largest block size up to ``block`` (down to 12 px) with at least MIN_SKY_BLOCKS
    positions that are 90 % sky: between trees and towers the sky comes in small pieces."""
    if valid is None:
        return block
    ii = cv2.integral(valid.astype(np.uint8))
    b = block
    while b > 12:
        if min(valid.shape) > b:
            share = window_sums(ii, b, b) / b ** 2
            if int((share >= 0.9).sum()) >= MIN_SKY_BLOCKS:
                return b
        b = int(b * 0.8)
    return max(8, b)


def _at_most(rgb: np.ndarray, g: float, px: np.ndarray, py: np.ndarray):
    """(float32 image, px, py): ``rgb`` area-reduced by ``g`` when below 1 (the panorama
    cannot show finer: sampling the full painting would alias), the coordinates to match."""
    H, W = rgb.shape[:2]
    if g >= 1.0:
        return rgb.astype(np.float32), px, py
    w, h = max(1, round(W * g)), max(1, round(H * g))
    small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small, (px + 0.5) * (w / W) - 0.5, (py + 0.5) * (h / H) - 0.5


def _detail_outliers(ex: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """(h, w) bool: the dome exemplar's texels whose detail stands far out of the sky's own
    (a bird, a kite, a stray edge of the land): more than OUTLIER times the valid texels'
    median magnitude, grown by a texel."""
    mag = np.abs(ex).max(axis=2)
    ref = mag[valid] if valid is not None and valid.any() else mag.ravel()
    thr = OUTLIER * max(float(np.median(ref)), 1.0)
    return cv2.dilate((mag > thr).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


DOME_CAP = (0.6, 0.85)
"""Elevations (radians, 34 and 49 degrees) between which the dome's strip, laid along the
horizon, gives way to its cap, laid round the zenith. The strip's blocks narrow with the
cosine of the elevation: from 60 degrees up (the first setting) they met overhead as radial
wedges and the cross-fade showed as a ring; the cap's polar layout stretches its texels by
at most 18 % (angle / sine) down to 34 degrees."""
ZENITH_SHARE = 0.1
"""Share of the painting's sky colours, farthest along its gradient from the horizon upwards,
whose mean is the colour the dome turns to at the zenith."""


def zenith_colour(rgb: np.ndarray, sky: np.ndarray, phis: np.ndarray, prof: np.ndarray) -> np.ndarray:
    """(3,) the colour the dome reaches at the zenith: the mean of the ZENITH_SHARE of the
    painting's sky colours (its top rows' sky, :func:`_dome_rows`, blurred to its large-scale
    colour: not a branch's or a stroke's) that lie farthest along the profile's trend from
    the horizon to the painting's top; the profile's top colour when the sky does not change
    upwards or there is no sky (an interior's ceiling). Real skies deepen towards the zenith;
    the painting's own colours say how far."""
    top = np.asarray(prof[-1], np.float64)
    rows, valid = _dome_rows(sky)
    if valid is None or len(prof) < 2:
        return top.astype(np.float32)
    g = top - np.asarray(prof[0], np.float64)
    norm = float(np.linalg.norm(g))
    if norm < 1.0:
        return top.astype(np.float32)
    h, w = valid.shape
    f = min(1.0, 128.0 / w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    m = cv2.resize(valid.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    c = cv2.resize(rgb[:rows].astype(np.float32) * valid[..., None], size, interpolation=cv2.INTER_AREA)
    sigma = max(1.0, size[0] / 32.0)
    low = wide_blur(c, sigma) / np.maximum(wide_blur(m, sigma), 1e-3)[..., None]
    px = low[m > 0.9].astype(np.float64)
    if len(px) < 8:
        return top.astype(np.float32)
    t = px @ (g / norm)
    z = px[t >= np.quantile(t, 1.0 - ZENITH_SHARE)].mean(axis=0)
    return (z if float((z - top) @ g) > 0 else top).astype(np.float32)


def dome_profile(phi: np.ndarray, phis: np.ndarray, prof: np.ndarray, zenith: np.ndarray) -> np.ndarray:
    """(k, 3) colour at elevations ``phi`` (k,): the painting's profile ``prof`` over ``phis``
    (increasing), then from its top a smooth turn to ``zenith`` at pi / 2."""
    base = np.stack([np.interp(phi, phis, prof[:, c]) for c in range(3)], -1)
    t = np.clip((phi - phis[-1]) / max(math.pi / 2 - phis[-1], 1e-6), 0, 1)[:, None]
    t = t * t * (3 - 2 * t)
    return (base + (np.asarray(zenith)[None, :] - np.asarray(prof[-1])[None, :]) * t).astype(np.float32)


def _dome(strip: np.ndarray, cap: np.ndarray, theta: np.ndarray, phi: np.ndarray, base: np.ndarray,
          pw: int) -> np.ndarray:
    """The dome (k, pw, 3) in the panorama rows of elevations ``phi`` (k, 1): the detail
    ``strip`` (periodic, as wide as the circle) laid along the horizon, pixel for pixel, up to
    the cap's elevations, the detail ``cap`` laid in the dome's polar coordinates round the
    zenith (where the strip's rows pinch), cross-faded between them, plus the colour ``base``
    (k, 3). Neither repeats within its part of the dome; the strip keeps the painting's strokes
    parallel to the horizon all round."""
    k = phi.shape[0]
    sh, sw = strip.shape[:2]
    rows = (math.pi / 2 - phi[:, 0]) * (pw / (2 * math.pi))       # (k,) pixels from the zenith
    r_cap = (math.pi / 2 - DOME_CAP[1]) * (pw / (2 * math.pi))
    su = np.broadcast_to(((np.arange(pw) + 0.5) * (sw / pw) - 0.5)[None, :], (k, pw)).astype(np.float32)
    sv = np.broadcast_to(((rows - r_cap) % sh)[:, None], (k, pw)).astype(np.float32)
    dome = cv2.remap(strip, su, sv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
    wc = np.clip((phi[:, 0] - DOME_CAP[0]) / (DOME_CAP[1] - DOME_CAP[0]), 0, 1)
    up = np.flatnonzero(wc > 0)
    if len(up):
        N = cap.shape[0]
        rho = rows[up, None]
        du = (rho * np.sin(theta) + N / 2.0).astype(np.float32)
        dv = (rho * np.cos(theta) + N / 2.0).astype(np.float32)
        top = cv2.remap(cap, du, dv, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        w = wc[up, None, None].astype(np.float32)
        dome[up] = dome[up] * (1 - w) + top * w
    dome += base[:, None, :]
    return dome


def _dome_detail(ex: np.ndarray, valid: np.ndarray | None, block: int, overlap: int, pw: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(strip, cap): the dome's two detail textures quilted from the exemplar ``ex``, each big
    enough to cover its part of the dome once (no tile repeated across the sky). Blocks come
    in patches of neighbouring exemplar positions (quilt_tile's ``weight``): the painting's
    larger cloud shapes come whole, not as an even carpet of single puffs."""
    step = block - overlap
    # What the sky shows once (a lone cloud, the moon, a branch or a tower's tip let in by the
    # sky mask) would come back as stamps all over the dome; a cloudy sky's clouds are its
    # material and stay.
    ex = fill_rare(ex, valid, seed)
    forbid = _detail_outliers(ex, valid)
    weight = np.ones(ex.shape[:2], np.float32) if valid is None else valid.astype(np.float32)
    span = (math.pi / 2 - (math.pi / 2 - DOME_CAP[1])) * (pw / (2 * math.pi))  # rows from the cap's top to the horizon
    n_x = max(2, int(round(pw / step)))
    n_y = max(2, int(math.ceil(span / step)))
    strip = quilt_tile(ex, n_y, n_x, block, overlap, seed=seed + 1, valid=valid, forbid=forbid, weight=weight,
                       candidates=DOME_CANDIDATES, reuse=DOME_REUSE, feather=DOME_FEATHER * overlap)
    r = (math.pi / 2 - DOME_CAP[0]) * (pw / (2 * math.pi))
    n = max(2, int(math.ceil(2 * r / step)))
    cap = quilt_tile(ex, n, n, block, overlap, seed=seed + 2, valid=valid, forbid=forbid, weight=weight,
                     candidates=DOME_CANDIDATES, reuse=DOME_REUSE, feather=DOME_FEATHER * overlap)
    return strip, cap


def match_edge_light(P: np.ndarray, S: np.ndarray, inside: np.ndarray, reach: float) -> np.ndarray:
    """``S`` (h, w, 3) float32 with its large-scale colour pulled to the painting ``P``'s along
    the frame ``inside`` (h, w) bool: the difference of the two, blurred, on a ring just inside
    the frame, spread outward (push-pull) and faded to nothing ``reach`` pixels from the frame
    (the multiband blend joins the fine bands; this carries the coarse ones past its reach, so
    the continuation is as light as the painting beside it). Works at 1/16 of the size."""
    h, w = inside.shape
    f = 16
    sw, sh = max(4, w // f), max(4, h // f)
    m = cv2.resize(inside.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    diff = cv2.resize(np.asarray(P, np.float32) - S, (sw, sh), interpolation=cv2.INTER_AREA)
    ring = (m > 0.999) & (cv2.erode((m > 0.999).astype(np.uint8), np.ones((5, 5), np.uint8)) == 0)
    if not ring.any():
        return S
    wt = ring.astype(np.float32)
    d = cv2.GaussianBlur(diff * wt[..., None], (0, 0), 2.0) / np.maximum(cv2.GaussianBlur(wt, (0, 0), 2.0), 1e-3)[..., None]
    d = push_pull(d, wt)
    out_d = cv2.distanceTransform((m < 0.999).astype(np.uint8), cv2.DIST_L2, 5) * f  # px from the frame
    fade = np.clip(1.0 - out_d / max(reach, 1.0), 0, 1) * (m < 0.999)
    # No wrap is needed: the fade ends EDGE_REACH from the frame, far from the seam behind.
    corr = cv2.resize(d * fade[..., None], (w, h), interpolation=cv2.INTER_LINEAR)
    return S + corr


FRAME_REACH = 24 / 360
"""Share of the panorama's width over which :func:`meet_frame` fades its correction out."""
FRAME_SMOOTH = 0.01
"""Gaussian sigma of the frame's residual along the frame, as a share of the panorama's
width: only the edge's light is carried out (its texels one by one, a tree's crown or a dark
cloud at the top edge, drew streaks across the sky)."""


def meet_frame(P: np.ndarray, out: np.ndarray, inside: np.ndarray, reach: float,
               sky: np.ndarray | None = None, smooth: float = 3.0) -> np.ndarray:
    """``out`` (h, w, 3) float32 made equal to the painting ``P`` at the frame ``inside``
    (h, w) bool where the frame's edge is ``sky`` (h, w) float in [0, 1] (None: everywhere),
    with the difference fading to nothing ``reach`` pixels outside it; ``smooth``: the
    residual's Gaussian sigma along the frame, pixels.

    The multiband blend joins the two halfway at the frame; the viewer draws the painting's
    sky (the window) over the frame's inside, so only the outer half of the blend is ever
    seen and the frame's edge shows as a step. The residual on the frame's inner ring is
    smoothed along the ring, carried out to each pixel from its nearest ring pixel and faded
    with a smoothstep, so the continuation starts from the painting's own colour. Only the
    sky's edge: the land's layers reach past the frame (their margins), and carried out, a
    trunk or a photograph's black border at the edge would spread as a dark halo."""
    if not inside.any() or inside.all():
        return out
    rs, cs = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    h, w = inside.shape
    r = int(math.ceil(reach + 3 * smooth)) + 2
    y0, y1 = max(0, int(rs[0]) - r), min(h, int(rs[-1]) + 1 + r)
    x0, x1 = max(0, int(cs[0]) - r), min(w, int(cs[-1]) + 1 + r)
    box = inside[y0:y1, x0:x1].astype(np.uint8)
    ring = (box > 0) & (cv2.erode(box, np.ones((3, 3), np.uint8), borderValue=1) == 0)
    if not ring.any():
        return out
    wt = ring.astype(np.float32)
    # Land texels of the ring count as no residual (sky 0), smoothed like the rest: the
    # correction fades out along the frame where its edge turns from sky to a crown of trees.
    share = wt if sky is None else wt * np.clip(np.asarray(sky[y0:y1, x0:x1], np.float32), 0.0, 1.0)
    res = (np.asarray(P[y0:y1, x0:x1], np.float32) - out[y0:y1, x0:x1]) * share[..., None]
    res = cv2.GaussianBlur(res, (0, 0), smooth) / np.maximum(
        cv2.GaussianBlur(wt, (0, 0), smooth), 1e-6)[..., None]
    # Distance to, and label of, the nearest ring pixel (ring pixels are the zeros).
    _, lab = cv2.distanceTransformWithLabels((~ring).astype(np.uint8), cv2.DIST_L2, 5,
                                             labelType=cv2.DIST_LABEL_PIXEL)
    ry, rx = np.nonzero(ring)
    at = np.zeros(int(lab.max()) + 1, np.int64)
    at[lab[ry, rx]] = np.arange(len(ry))
    near = at[lab]
    # The mask-5 distance is within 2 % of the Euclidean; the distance to the ring pixel
    # found is exact (the slow reference's nearest can differ where two are almost as near).
    yy, xx = np.mgrid[0:y1 - y0, 0:x1 - x0]
    dist = np.hypot(yy - ry[near], xx - rx[near])
    t = np.clip(1.0 - dist / max(reach, 1.0), 0.0, 1.0)
    fade = (t * t * (3.0 - 2.0 * t)) * (box == 0)
    fixed = out.copy()
    fixed[y0:y1, x0:x1] += res[ry[near], rx[near]] * fade[..., None]
    return fixed


def meet_frame_reference(P: np.ndarray, out: np.ndarray, inside: np.ndarray, reach: float,
                         sky: np.ndarray | None = None, smooth: float = 3.0) -> np.ndarray:
    """:func:`meet_frame` by a brute-force nearest-ring search per pixel (slow; tests)."""
    if not inside.any() or inside.all():
        return out
    box = inside.astype(np.uint8)
    ring = (box > 0) & (cv2.erode(box, np.ones((3, 3), np.uint8), borderValue=1) == 0)
    wt = ring.astype(np.float32)
    share = wt if sky is None else wt * np.clip(np.asarray(sky, np.float32), 0.0, 1.0)
    res = (np.asarray(P, np.float32) - out) * share[..., None]
    res = cv2.GaussianBlur(res, (0, 0), smooth) / np.maximum(
        cv2.GaussianBlur(wt, (0, 0), smooth), 1e-6)[..., None]
    ry, rx = np.nonzero(ring)
    fixed = out.copy()
    for y, x in zip(*np.nonzero(~inside)):
        d2 = (ry - y) ** 2 + (rx - x) ** 2
        k = int(np.argmin(d2))
        t = min(max(1.0 - math.sqrt(d2[k]) / max(reach, 1.0), 0.0), 1.0)
        fixed[y, x] += res[ry[k], rx[k]] * (t * t * (3.0 - 2.0 * t))
    return fixed


def band_scales(src: np.ndarray, cost: np.ndarray, anchor: float, sky_rows: np.ndarray,
                scales: tuple[float, ...] = BAND_SCALES) -> tuple[np.ndarray, np.ndarray]:
    """The far band's source ``src`` (h, w, 4: colour and sky channel) followed by copies of it
    shrunk by each of ``scales`` about row ``anchor`` (the horizon: farther land lies nearer
    it), each after one barred column, and the per-column ``cost`` (w,) extended to match.

    Rows a copy leaves above its top show ``sky_rows`` (h, 3), the dome's colour per row, as
    sky (so the dome shows there, as over the painting's own sky); where the
    copy's top is not sky (a tree reaching the band's top) the column is barred, so no block
    shows a cut crown.
    """
    h, w, c = src.shape
    parts, costs = [src], [np.asarray(cost, np.float64)]
    for s in scales:
        sw = int(round(w * s))
        if sw < 2 or not 0 < s < 1:
            continue
        x = (np.arange(sw, dtype=np.float32) + 0.5) / s - 0.5
        y = anchor + (np.arange(h, dtype=np.float32) - anchor) / s
        mx, my = np.meshgrid(x, y)
        sigma = 0.5 * math.sqrt(1.0 / (s * s) - 1.0)  # against aliasing: what the shrink drops
        soft = cv2.GaussianBlur(np.ascontiguousarray(src), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
        small = cv2.remap(soft, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(h, sw, c)
        k = np.interp(x, np.arange(w), costs[0])
        # The copy's sky is the dome's colour (the dome then shows there): the painting's sky
        # shrunk would bring its higher, darker rows down to the horizon.
        fill = np.concatenate([sky_rows, np.full((h, 1), SKY_CHANNEL, np.float32)], axis=1)[:, None, :]
        a = np.clip(small[..., 3:] / SKY_CHANNEL, 0, 1)
        small = np.concatenate([small[..., :3] * (1 - a) + fill[..., :3] * a, small[..., 3:]], axis=2)
        top = np.ones(sw)
        gap = int(np.count_nonzero(my[:, 0] < 0))
        if gap:  # above the shrunk land: sky too
            top = np.clip(small[gap, :, 3] / SKY_CHANNEL, 0, 1)
            f = np.clip((gap + 2.0 - np.arange(h)) / 4.0, 0, 1)[:, None, None].astype(np.float32)
            small = fill * f + small * (1 - f)
        parts += [src[:, :1], small]
        costs += [np.array([SCALE_BAR]), k + SCALE_BAR * (top < 0.5)]
    return np.concatenate(parts, axis=1), np.concatenate(costs)


def _dome_through(band: np.ndarray, base: np.ndarray, dome: np.ndarray, r0: int, ka: int) -> np.ndarray:
    """The band's colour (rows, cols, 3), with the dome shown through its top ``ka`` rows where
    the copied columns show sky of the sky's own colour (one sky all round, no column stripes);
    branches, birds and roofs drawn over the sky (or wrongly called sky) stay. ``base``: the
    dome's colour profile by panorama row; ``dome``: the dome's rows ``r0`` to ``r0 + ka`` at the band's columns; ``r0``: the
    band's first panorama row."""
    land = band[..., :3]
    if ka > 0:
        skyw = np.clip(band[:ka, :, 3] / SKY_CHANNEL, 0, 1)
        dist = np.sqrt(((land[:ka] - base[r0:r0 + ka, None, :]) ** 2).sum(axis=2))
        wsky = (skyw * np.clip(2.0 - dist / SKY_ALIKE, 0, 1))[..., None]
        land[:ka] = land[:ka] * (1 - wsky) + dome[:ka] * wsky
    return land


def straight_edged(rgb: np.ndarray, sky: np.ndarray, side: int = 1024) -> np.ndarray:
    """(h, w) bool: what the ``sky`` mask (h, w) holds among long straight edges: walls and
    their quoins, a tower, masts, trunks (clouds have none). Long is over STRAIGHT_LENGTH of the
    width (OpenCV's line segment detector on the painting reduced to ``side`` px); held means
    they are over STRAIGHT_DENSITY of a window STRAIGHT_WINDOW of the width wide (the stones
    between a wall's joints too). The dome is quilted from the sky without them: a white wall
    called sky came back as rows of stone blocks overhead."""
    H, W = sky.shape
    s = min(1.0, side / max(H, W))
    small = cv2.resize(rgb, (max(8, round(W * s)), max(8, round(H * s))), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(np.ascontiguousarray(small[..., :3]), cv2.COLOR_RGB2GRAY)
    found = cv2.createLineSegmentDetector().detect(grey)[0]
    lines = np.zeros((0, 4)) if found is None else found.reshape(-1, 4)
    long = lines[np.hypot(lines[:, 2] - lines[:, 0], lines[:, 3] - lines[:, 1]) > STRAIGHT_LENGTH * grey.shape[1]]
    drawn = np.zeros(grey.shape, np.uint8)
    for x0, y0, x1, y1 in long:
        cv2.line(drawn, (int(round(x0)), int(round(y0))), (int(round(x1)), int(round(y1))), 1, 1)
    k = max(3, int(STRAIGHT_WINDOW * grey.shape[1]))
    dense = (cv2.blur(drawn.astype(np.float32), (k, k)) > STRAIGHT_DENSITY).astype(np.uint8)
    return (cv2.resize(dense, (W, H), interpolation=cv2.INTER_NEAREST) > 0) & sky


def _dome_sky(rgb: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """The sky the dome is made of: ``sky`` less its :func:`straight_edged` part, unless that
    leaves too little to be a sky (:func:`_dome_rows`): the dome of an interior with a patch of
    sky stays that sky's colour, not its vaults and arches quilted into a jumble overhead."""
    kept = sky & ~straight_edged(rgb, sky)
    return kept if _dome_rows(kept)[1] is not None or _dome_rows(sky)[1] is None else sky


def band_object_share(src: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(w,) per column of the far band's source ``src`` (h, w, 4: colour and sky channel), the
    share of its rows above the horizon (``upper``, (h,) bool) that show land the rest of the
    band's land does not look like (:func:`.rare.rare_texels`: a face, a figure; not the
    trees or the buildings round a square, which come many times).

    Raises InputError unless ``src`` is (h, w, 4) and ``upper`` (h,).
    """
    if src.ndim != 3 or src.shape[2] != 4 or np.shape(upper) != src.shape[:1]:
        raise InputError(f"band_object_share needs an (h, w, 4) source and (h,) rows, got {src.shape} and "
                         f"{np.shape(upper)}")
    if not upper.any():
        return np.zeros(src.shape[1])
    top = src[upper]
    land = top[..., 3] < 0.5 * SKY_CHANNEL
    return (rare_texels(top[..., :3], land) & land).mean(axis=0)


def _frame_columns(cam: Camera, pw: int) -> tuple[int, int]:
    """(c0, c1): the panorama columns (of ``pw``) wholly inside the frame's side edges."""
    th_e = math.atan(cam.width / 2.0 / cam.focal)
    return (int(math.ceil((-th_e / math.pi + 1.0) / 2.0 * pw - 0.5)) + 1,
            int(math.floor((th_e / math.pi + 1.0) / 2.0 * pw - 0.5)))


def _painting_view(rgb: np.ndarray, sky: np.ndarray, near: np.ndarray, cam: Camera, theta: np.ndarray,
                   phi: np.ndarray, pw: int):
    """The painting seen in the panorama directions ``theta`` (1, n) x ``phi`` (m, 1) of a
    ``pw`` wide panorama: (colour (m, n, 3) float32, sky share (m, n) float32 of ``sky`` (H, W)
    bool, near objects (m, n) bool of ``near`` (any size), inside the frame (m, n) bool)."""
    H, W = rgb.shape[:2]
    px, py, inside = painting_coords(theta, phi, cam)
    P = cv2.remap(*_at_most(rgb, 2.0 * pw / (2 * math.pi) / cam.focal, px, py), cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_REPLICATE)
    nh, nw = near.shape
    near_p = cv2.remap(near.astype(np.uint8), (px + 0.5) * (nw / W) - 0.5, (py + 0.5) * (nh / H) - 0.5,
                       cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE) > 0
    sky_p = cv2.remap(sky.astype(np.float32), px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return P, sky_p, near_p, inside


def _far_band(P: np.ndarray, sky_p: np.ndarray, near_p: np.ndarray, S: np.ndarray, dome: np.ndarray,
              base: np.ndarray, phi: np.ndarray, pw: int, frame: tuple[int, int], horizon: float,
              seed: int) -> np.ndarray:
    """The far band laid into ``S`` (rows, pw, 3) float32, the ground's view in the band's
    panorama rows, and returned: the frame's columns ``frame`` (c0, c1) of the painting ``P``
    (rows, pw, 3) with its sky ``sky_p`` and near objects ``near_p`` (rows, pw) carried round
    the circle by :func:`.synth.quilt_strip`, the ``dome`` (ka, pw, 3) shown through the copied
    sky of its first ka rows (``base`` (>= 1, 3): the dome's colour by row from the band's
    first), giving way to the ground below the horizon. ``phi`` (rows, 1): the rows' elevations."""
    c0, c1 = frame
    r = phi.shape[0]
    block = max(8, int(round(BAND_BLOCK * pw)))
    overlap = max(2, block // 4)
    src = np.concatenate([P[:, c0:c1], SKY_CHANNEL * sky_p[:, c0:c1, None]], axis=2)
    block, overlap = fit_block((r, src.shape[1]), block, overlap)
    if src.shape[1] < block + 2 or r < block:
        return S
    upper = phi[:, 0] > horizon  # near objects above the horizon are not copied
    cost = NEAR_WEIGHT * near_p[upper][:, c0:c1].mean(axis=0) if upper.any() else np.zeros(src.shape[1])
    cost = cost + OBJECT_COST * (band_object_share(src, upper) > OBJECT_SHARE)
    width = pw - (c1 - c0)
    anchor = float(np.count_nonzero(upper))  # the horizon's row in the band (phi falls by row)
    sky_rows = base[np.clip(np.arange(r), 0, len(base) - 1)]
    wide, wide_cost = band_scales(src, cost, anchor, sky_rows)
    band = quilt_strip(wide, wide_cost, width, src[:, -overlap:], src[:, :overlap], block, overlap, seed=seed,
                       keep_ends=True, own=src.shape[1])
    cols = (c1 + np.arange(width)) % pw
    if 0 < dome.shape[0] < r:
        # Sky the copies show below eye level (the painted horizon lies lower) is the dome's
        # lowest rows mirrored: left as the copies' flat fill it read as grey slabs by the
        # trees, the lowest row repeated as streaks.
        ka = dome.shape[0]
        dome = np.concatenate([dome, dome[ka - 1 - np.arange(r - ka) % ka]])
    land = _dome_through(band, sky_rows, dome[:, cols], 0, dome.shape[0])
    # Below the horizon the band gives way to the ground.
    wb = np.clip((phi - horizon + HORIZON_FADE) / HORIZON_FADE, 0, 1)[..., None].astype(np.float32)
    S[:, cols] = land * wb + S[:, cols] * (1 - wb)
    S[:, c0:c1] = src[..., :3]
    return S


@dataclass(frozen=True)
class Band:
    """The far band at a finer scale than the panorama's, for its own mesh in front of it."""

    texture: np.ndarray
    """(rows, columns, 3) uint8: the band all round, columns as the panorama's (azimuth -pi to pi)."""
    top: float
    """Elevation of its first row's top edge, radians."""
    bottom: float
    """Elevation of its last row's bottom edge, radians."""


@dataclass(frozen=True)
class BandInput:
    """What :func:`_fine_band` makes the band from (as :func:`world_panorama` has them)."""

    rgb: np.ndarray
    sky: np.ndarray
    near: np.ndarray
    ground: Ground
    cam: Camera
    phis: np.ndarray
    prof: np.ndarray
    zenith: np.ndarray
    dome: np.ndarray
    """(ka, pw, 3) float32: the dome over the band's rows above the horizon, at the panorama's scale."""
    seed: int


BAND_TAPER = 0.15
"""Share of the band's rows at its top and bottom over which its finer detail fades in: the
dome above and the ground below are the panorama's, at its coarser scale."""


def _fine_band(b: BandInput, pw: int, ph: int, rows: tuple[int, int], horizon: float, f: int) -> np.ndarray:
    """(rows * f, pw * f, 3) float32: the far band's panorama rows ``rows`` (r0, r1) made at
    ``f`` times the panorama's scale (:func:`_far_band`, from the painting's finer pixels)."""
    r0, r1 = rows
    cam = b.cam
    pw2 = pw * f
    theta, phi = pano_angles(pw2, ph * f)
    phi = phi[r0 * f:r1 * f]
    P, sky, near, _ = _painting_view(b.rgb, b.sky, b.near, cam, theta, phi, pw2)
    S = _ground_view(theta, phi, b.ground, cam.position[1])
    ka = b.dome.shape[0] * f
    dome = cv2.resize(b.dome, (pw2, ka), interpolation=cv2.INTER_LINEAR) if ka else np.zeros((0, pw2, 3), np.float32)
    base = dome_profile(phi[:max(1, ka), 0], b.phis, b.prof, b.zenith)
    return _far_band(P, sky, near, S, dome, base, phi, pw2, _frame_columns(cam, pw2), horizon, b.seed)


def _band_texture(out: np.ndarray, fine: np.ndarray, reduced: np.ndarray, r0: int) -> Band:
    """The finished panorama ``out`` (ph, pw, 3) float32 over the band's rows (from ``r0``,
    as many as ``reduced`` has), enlarged to the ``fine`` band's size, with the fine band's
    detail (itself less ``reduced``, its reduction to the panorama's scale, which is what the
    panorama holds there) laid over it, fading in over BAND_TAPER of the rows at the top and
    bottom: the panorama's blends, edge light and frame correction stay exactly as they are."""
    ph = out.shape[0]
    n = reduced.shape[0]
    r1 = r0 + n
    size = (fine.shape[1], fine.shape[0])
    coarse = cv2.resize(reduced, size, interpolation=cv2.INTER_LINEAR)
    t = (np.arange(size[1]) + 0.5) / size[1]
    taper = np.clip(np.minimum(t, 1.0 - t) / BAND_TAPER, 0.0, 1.0)[:, None, None].astype(np.float32)
    hi = cv2.resize(np.ascontiguousarray(out[r0:r1]), size, interpolation=cv2.INTER_LINEAR) + (fine - coarse) * taper
    return Band(texture=np.clip(hi + 0.5, 0, 255).astype(np.uint8),
                top=math.pi / 2 - r0 * math.pi / ph, bottom=math.pi / 2 - r1 * math.pi / ph)


def world_panorama(rgb: np.ndarray, sky: np.ndarray, near: np.ndarray, gr: Ground, cam: Camera,
                   pw: int, seed: int = 0, horizon: float = 0.0,
                   band_scale: int = 1) -> tuple[np.ndarray, "Band | None"]:
    """(the (pw / 2, pw, 3) uint8 equirectangular panorama around the start pose, the far band
    at ``band_scale`` times its resolution or None when that is 1: :func:`_fine_band`).

    ``horizon`` (radians, at most 0): elevation down to which the far band reaches before it
    gives way to the ground (the painted horizon's, :func:`horizon_below`).

    ``rgb`` is the painting, ``sky`` and ``near`` (any size, resized) its sky and near-object
    masks, ``gr`` the ground.
    """
    ph = pw // 2
    H, W = rgb.shape[:2]
    theta, phi = pano_angles(pw, ph)
    sky_full = sky if sky.shape == (H, W) else cv2.resize(sky.astype(np.uint8), (W, H), interpolation=cv2.INTER_NEAREST) > 0
    P, sky_p, near_p, inside = _painting_view(rgb, sky_full, near, cam, theta, phi, pw)

    # The sky dome: detail quilted from the painting's sky (see _dome_source) over its colour profile.
    # The exemplar is taken at up to DOME_ZOOM times the panorama's scale and laid texel for
    # pixel: clouds overhead come larger than at the horizon, as they are nearer, with the
    # painting's own sharpness (its pixels are finer than the panorama's).
    pano_scale = pw / (2 * math.pi) / cam.focal
    zoom = max(1.0, min(DOME_ZOOM, 1.0 / pano_scale))
    dome_block = max(8, int(round(DOME_BLOCK * pw * zoom)))
    ex, valid, phis, prof = _dome_source(rgb, _dome_sky(rgb, sky_full), cam, pano_scale * zoom, dome_block)
    dome_block = _sky_block(valid, dome_block)
    dome_block, dome_overlap = fit_block(ex.shape, dome_block, max(2, int(dome_block * DOME_OVERLAP)))
    strip, cap = _dome_detail(ex, valid, dome_block, dome_overlap, pw, seed)
    zenith = zenith_colour(rgb, sky_full, phis, prof)

    # The far band: as high as the frame reaches at its side edges.
    th_e = math.atan(cam.width / 2.0 / cam.focal)
    ph_b = math.atan(cam.height / 2.0 / cam.focal * math.cos(th_e))
    horizon = min(0.0, float(horizon))
    rows = np.flatnonzero((phi[:, 0] <= ph_b) & (phi[:, 0] >= horizon - HORIZON_FADE))
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    c0, c1 = _frame_columns(cam, pw)
    S = _ground_view(theta, phi, gr, cam.position[1])
    # Only the rows the dome reaches (above the horizon) are made: the band's sky is the dome
    # too, so one sky comes down to the skyline all round.
    k = max(1, int(np.count_nonzero(phi[:, 0] > 0)))  # the top rows (phi falls by row)
    base = dome_profile(phi[:k, 0], phis, prof, zenith)
    dome = _dome(strip, cap, theta, phi[:k], base, pw)
    wd = np.clip((phi[:k] - (ph_b - DOME_FADE)) / DOME_FADE, 0, 1)[..., None].astype(np.float32)
    top = min(k, r1)
    fine = None
    if band_scale > 1:  # made finer, the panorama holds it reduced
        fine = _fine_band(BandInput(rgb, sky_full, near, gr, cam, phis, prof, zenith, dome[r0:top], seed),
                          pw, ph, (r0, r1), horizon, band_scale)
        reduced = cv2.resize(fine, (pw, r1 - r0), interpolation=cv2.INTER_AREA)
        S[r0:r1] = reduced
    else:
        S[r0:r1] = _far_band(P[r0:r1], sky_p[r0:r1], near_p[r0:r1], S[r0:r1], dome[r0:top], base[r0:k],
                             phi[r0:r1], pw, (c0, c1), horizon, seed)
    S[:k] = dome * wd + S[:k] * (1 - wd)
    S = match_edge_light(P, S, inside, EDGE_REACH * pw)
    out = meet_frame(P, multiband_blend(P, S, inside), inside, FRAME_REACH * pw, sky=sky_p,
                     smooth=FRAME_SMOOTH * pw)
    band = None if fine is None else _band_texture(out, fine, reduced, r0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), band


MAGNIFIED_DENSITY = 12.0
"""Texels per degree below which the panorama is drawn magnified on every display it is made
for (headsets resolve 20-25 pixels a degree; a 1280 px window at 55 degrees 23): it is then
written without mip levels (``Mesh.extras['mipmaps']``; KTX2: 0.75x the texels to encode)."""
PANO_LAT = 32
"""Vertex rows of the panorama sphere (5.6 degrees apart)."""


def _sphere_grid(cam: Camera, radius: float, theta: tuple[float, float], phi: tuple[float, float],
                 n_lon: int, n_lat: int):
    """(positions (k, 3) float32, uvs (k, 2) float32, the two triangles of each cell
    (n_lat, n_lon, 3) each): a latitude-longitude grid on the sphere of ``radius`` round the
    start camera, azimuths ``theta`` (from, to) along u, elevations ``phi`` (from, to) along v."""
    u = np.linspace(0.0, 1.0, n_lon + 1)
    v = np.linspace(0.0, 1.0, n_lat + 1)
    U, V = np.meshgrid(u, v)
    th = theta[0] + (theta[1] - theta[0]) * U
    ph = phi[0] + (phi[1] - phi[0]) * V
    x = radius * np.cos(ph) * np.sin(th)
    y = radius * np.sin(ph)
    z = -radius * np.cos(ph) * np.cos(th)
    pos = np.stack([x, y, z], -1).reshape(-1, 3) + np.asarray(cam.position)[None, :]
    uv = np.stack([U, V], -1).reshape(-1, 2)
    vid = np.arange((n_lat + 1) * (n_lon + 1)).reshape(n_lat + 1, n_lon + 1)
    a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
    return pos.astype(np.float32), uv.astype(np.float32), np.stack([a, c, d], -1), np.stack([a, d, b], -1)


def _magnified(width: int) -> dict:
    """A texture's ``Mesh.extras`` when ``width`` texels span the full circle: no mipmaps
    below MAGNIFIED_DENSITY texels a degree."""
    return {"mipmaps": False} if width / 360.0 < MAGNIFIED_DENSITY else {}


def pano_sphere(cam: Camera, radius: float, n_lon: int = 64, n_lat: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, faces, uvs) of a sphere around the start camera whose texture is the
    equirectangular panorama: the seam straight behind has its column twice (u = 0, u = 1),
    the poles one vertex per sector (no degenerate triangles)."""
    pos, uv, acd, adb = _sphere_grid(cam, radius, (-math.pi, math.pi), (math.pi / 2, -math.pi / 2), n_lon, n_lat)
    # Each quad's two triangles, but in the pole rows only the one not joining two pole vertices.
    faces = np.concatenate([acd[:-1].reshape(-1, 3), adb[1:].reshape(-1, 3)])
    return pos, faces.astype(np.uint32), uv


def squeeze_hidden_rows(pano: np.ndarray, uv: np.ndarray, n_lat: int,
                        below: float = HIDDEN_BELOW, shrink: int = HIDDEN_SHRINK) -> tuple[np.ndarray, np.ndarray]:
    """(panorama, uvs) with the rows past the first vertex row of :func:`pano_sphere` (``n_lat``
    rows) at least ``below`` radians under the horizon ``shrink`` times coarser (area averaged),
    the sphere's v remapped piecewise linearly. The break is at a vertex row, so every triangle
    samples one part only and the mapping stays exact. These texels are hidden by the ground:
    they cost encoding time (KTX2: 0.35x of the panorama's texels) and bytes, and show nothing."""
    ph, pw = pano.shape[:2]
    i0 = int(math.ceil((0.5 + below / math.pi) * n_lat))
    r0 = i0 * ph // n_lat
    low = ph - r0
    if i0 >= n_lat or r0 * n_lat != i0 * ph or low < 2 * shrink:
        return pano, uv
    h_low = max(1, low // shrink)
    out = np.concatenate([pano[:r0], cv2.resize(pano[r0:], (pw, h_low), interpolation=cv2.INTER_AREA)])
    v_px = uv[:, 1].astype(np.float64) * ph
    v_new = np.where(v_px <= r0, v_px, r0 + (v_px - r0) * (h_low / low))
    return out, np.stack([uv[:, 0], v_new / (r0 + h_low)], -1).astype(np.float32)


def window_quad(cam: Camera, distance: float, n: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, faces, uvs) of the painting's frame on the plane z = -distance in front of
    the start camera: the start view's projection there is affine, so the texture maps exactly."""
    f, W, H = cam.focal, cam.width, cam.height
    u = np.linspace(0.0, 1.0, n + 1)
    U, V = np.meshgrid(u, u)
    x = (U * W - W / 2.0) / f * distance
    y = -(V * H - H / 2.0) / f * distance
    pos = np.stack([x, y, np.full_like(x, -distance)], -1).reshape(-1, 3) + np.asarray(cam.position)[None, :]
    vid = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
    faces = np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)])
    uv = np.stack([U, V], -1).reshape(-1, 2)
    return pos.astype(np.float32), faces.astype(np.uint32), uv.astype(np.float32)


BAND_INSET = 0.99
"""The far band's mesh radius over the panorama sphere's: just in front of it."""
BAND_SEGMENTS = (32, 4)
"""(azimuth, elevation) segments of each half of the far band's mesh."""


def band_zone(cam: Camera, radius: float, band: Band, half: int,
              segments: tuple[int, int] = BAND_SEGMENTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, faces, uvs) of one half of the far band's sphere zone around the start
    camera: ``half`` 0 from behind on the left (azimuth -pi) to straight ahead, 1 from ahead
    to behind on the right; elevations ``band.bottom`` to ``band.top``. Its texture is that
    half of the band's columns (one per half: a headset's 2048 px texture limit)."""
    pos, uv, acd, adb = _sphere_grid(cam, radius, ((half - 1.0) * math.pi, half * math.pi),
                                     (band.top, band.bottom), *segments)
    faces = np.concatenate([acd.reshape(-1, 3), adb.reshape(-1, 3)])
    return pos, faces.astype(np.uint32), uv


def band_layers(band: Band, cam: Camera, radius: float) -> list[Layer]:
    """The far band's two layers, ``band_left`` and ``band_right``: opaque unlit halves
    (:func:`band_zone`) just inside the panorama sphere of ``radius``."""
    w = band.texture.shape[1]
    r = radius * BAND_INSET
    layers = []
    for half, name in ((0, "band_left"), (1, "band_right")):
        tex = np.ascontiguousarray(band.texture[:, half * (w // 2):(half + 1) * (w // 2)])
        pos, faces, uv = band_zone(cam, r, band, half)
        mesh = Mesh(name=name, positions=pos, faces=faces, uvs=uv, texture=tex, alpha_mode="OPAQUE", unlit=True,
                    extras=_magnified(w))
        layers.append(Layer(name=name, node=Node(name=name, mesh=mesh), depth_range=(r, r), kind="sky"))
    return layers


def backdrop_layers(pano: np.ndarray, window: np.ndarray, cam: Camera, distance: float,
                    horizon: float = 0.0, band: Band | None = None) -> list[Layer]:
    """The window (the painting's sky at ``distance``), the far band's finer texture when
    given (:func:`band_layers`) and the panorama sphere beyond them (far enough that the
    window's corners are inside it)."""
    corner = math.hypot(cam.width / 2.0, cam.height / 2.0) / cam.focal
    radius = distance * math.sqrt(1.0 + corner * corner) * 1.05
    pos, faces, uv = window_quad(cam, distance)
    win = Mesh(name="sky", positions=pos, faces=faces, uvs=uv, texture=window, alpha_mode="OPAQUE", unlit=True)
    pos, faces, uv = pano_sphere(cam, radius, n_lat=PANO_LAT)
    # The band shows down to ``horizon`` (the painted horizon below the eye): kept sharp there.
    below = max(HIDDEN_BELOW, -min(0.0, horizon) + HORIZON_FADE + math.radians(1.0))
    pano, uv = squeeze_hidden_rows(pano, uv, PANO_LAT, below=below)
    sph = Mesh(name="world", positions=pos, faces=faces, uvs=uv, texture=pano, alpha_mode="OPAQUE", unlit=True,
               extras=_magnified(pano.shape[1]))
    layers = [Layer(name="sky", node=Node(name="sky", mesh=win),
                    depth_range=(distance, distance * math.sqrt(1 + corner ** 2)), kind="sky")]
    if band is not None:
        layers += band_layers(band, cam, radius)
    return layers + [Layer(name="world", node=Node(name="world", mesh=sph), depth_range=(radius, radius), kind="sky")]
