"""Ground to walk on: one ground surface around the visitor, its texture quilted from the
painting's own ground, and the walkable zone (navigation mesh and collider).

The ground is the plane through the painting's nearest ground (the median height of the
land along the painting's bottom rows, lifted into the world), extended ``radius`` metres in
every direction; inside the start camera's view beyond the painting's bottom edge it is
left out (the lifted layers show the painted ground there, so the start view stays the
painting). Its texture is a periodic tile quilted (:mod:`.synth`) from the painted ground
resampled in the picture (:func:`ground_exemplar`), of the near ground's material only
(:mod:`.material`).

The walkable zone is that plane within ``walk_zone`` metres of the start, minus what stands
on it: every lifted pixel between knee and head height within reach, widened by a body's
radius and by how far the object extends behind its visible face, and only the part
connected to the start. It is written as a triangle mesh node ``paint2vr_navmesh`` and the
obstacles' vertical faces as ``paint2vr_collider`` (docs/lift.md; both hidden in viewers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..color import linear_to_srgb, srgb_to_linear
from ..errors import InputError
from ..scene import Camera, Layer, Mesh, Node
from .material import near_material
from .rare import fill_rare
from .synth import fit_block, fitting_block, quilt_tile

NAVMESH = "paint2vr_navmesh"
COLLIDER = "paint2vr_collider"
CELL = 0.1
"""Side of the walkable zone's grid cells, metres."""
KNEE, HEAD = 0.3, 2.0
"""Heights above the ground between which a lifted surface is an obstacle, metres."""
BODY = 0.25
"""The visitor's radius: obstacles are widened by it, metres."""
BEHIND = 0.6
"""How far an object is taken to extend behind its visible face, metres."""
TILE_BLOCKS = 10
"""Blocks per side of the ground tile."""
TILE_FEATHER = 0.25
"""Softening of the ground tile's block seams (Gaussian sigma, as a share of the overlap):
a hard cut between a dark and a light block reads as a laid paving slab."""
GROUND_SLOPE = (0.35, 3.0)
"""Range of a land pixel's disparity slope down the picture, over a level plane's seen from
the lifted eye height, within which the depth calls it ground (a level plane: 1 at any
horizon; an upright object, a figure, trunk or wall: about 0)."""
OCTAVE_SHARE = 0.35
"""Weight of a ground texel of the tile's sources at each doubling of distance beyond the
painting's bottom edge, against one an octave nearer: the ground the visitor stands on
(the painting's near ground) weighs most, and a big far expanse (a frozen lake, a far
field) does not outweigh it by its size; the field beyond is drawn on too."""
ANCHOR_REACH = 0.5
"""Blocks from its drawn anchor within which each block of the ground tile takes its
candidates (each block draws its own anchor): the exemplar is a few blocks high, and
matching over a wider reach drifts to its flattest part (a frozen pond, still water),
whose overlaps match best, whatever its weight."""
NEAR_FADE = 0.5
"""Share of the bottom edge's distance under which the ground shows its tile's own colours:
between it and the edge its colour fades to the painted bottom edge's."""
EDGE_COLUMNS = 0.03
"""Share of the painting's width, at each side edge, whose colour the ground beside the
frame takes on (:func:`edge_profiles`)."""
EDGE_SPAN = 0.35
"""Radians of azimuth beyond each side edge of the start view over which the ground's colour
fades from the painting's edge colour to its own (no colour step at the frame's edge)."""


@dataclass(frozen=True)
class Ground:
    """The ground plane and its texture."""

    y: float
    """World height of the plane, metres."""
    tile: np.ndarray
    """(n, n, 3) uint8 periodic texture."""
    tile_m: float
    """Metres one tile covers on the ground."""
    near_z: float
    """Distance (metres, along the view axis) of the painting's bottom edge on the plane."""
    profile_d: np.ndarray
    """(k,) increasing distances (metres) at which the painted ground's colour is known."""
    profile_gain: np.ndarray
    """(k, 3) linear gain per channel that turns the tile's mean colour into the painted
    ground's at each of ``profile_d`` (the ground fades with distance as in the painting)."""
    own_gain: np.ndarray | None = None
    """(3,) linear gain that shows the tile's own colours (the tile may be stored brighter);
    None: 1."""
    edge_gain: np.ndarray | None = None
    """(2, k, 3) linear gains (left, right side edge of the frame) that turn the tile's mean
    colour into the painting's along that edge at each of ``profile_d``; None: no edge
    colour (the ground beside the frame is as anywhere else)."""

    def side_gain(self, d: np.ndarray, side: int) -> np.ndarray:
        """(..., 3) linear colour gain along the frame's ``side`` edge (0 left, 1 right) at
        distances ``d`` along the view, clamped to the painted range; :meth:`gain` without
        an edge colour."""
        if self.edge_gain is None or len(self.profile_d) == 0:
            return self.gain(d)
        d = np.asarray(d, np.float64)
        e = self.edge_gain[side]
        return np.stack([np.interp(d, self.profile_d, e[:, c]) for c in range(3)], -1)

    def gain(self, d: np.ndarray) -> np.ndarray:
        """(..., 3) linear colour gain at distances ``d``: the painted ground's beyond the
        nearest painted distance (clamped to the painted range), fading from it to the
        tile's own colours (``own_gain``) nearer than that, reached at NEAR_FADE of it."""
        d = np.asarray(d, np.float64)
        own = np.ones(3) if self.own_gain is None else np.asarray(self.own_gain, np.float64)
        if len(self.profile_d) == 0:
            return np.broadcast_to(own, d.shape + (3,)).copy()
        g = np.stack([np.interp(d, self.profile_d, self.profile_gain[:, c]) for c in range(3)], -1)
        d0 = float(self.profile_d[0])
        t = np.clip((d - NEAR_FADE * d0) / max((1.0 - NEAR_FADE) * d0, 1e-9), 0.0, 1.0)[..., None]
        return own + (g - own) * t


def ground_height(dep: np.ndarray, land: np.ndarray, rows_py: np.ndarray, cam: Camera) -> float:
    """World height of the ground: the median height of land pixels in the working grid's
    bottom tenth (``rows_py``: each row's painting pixel row), clamped to within half the eye
    height of y = 0."""
    h = dep.shape[0]
    r0 = int(h * 0.9)
    eye = cam.position[1]
    ys = eye - dep[r0:] * (rows_py[r0:, None] - cam.height / 2.0) / cam.focal
    sel = land[r0:]
    y = float(np.median(ys[sel])) if sel.any() else 0.0
    return float(np.clip(y, -0.5 * eye, 0.5 * eye))


def rectified_ground(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, cam: Camera, y: float,
                     max_side: int = 512) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The painting's ground seen from above: (rgb (h, w, 3) float32, valid (h, w) bool,
    metres per texel, near_z). The plane's strip from the bottom edge's distance to 1.3 times
    it, as wide as the frame there; texels whose painted depth is well in front of the plane
    (an object) or that are sky are invalid."""
    H, W = rgb.shape[:2]
    lift_h = cam.position[1] - y
    near_z = lift_h * cam.focal / max(1.0, H / 2.0)
    # Texels as fine as the painting resolves the plane along the view at the strip's near
    # edge (finer would stretch rows into streaks), and no finer than 1.5 pixels across.
    res = max(near_z / cam.focal * 1.5, near_z * near_z / (cam.focal * max(lift_h, 1e-3)))
    half_w = near_z * (W / 2.0) / cam.focal * 0.95
    nx = int(min(max_side, max(16, round(2 * half_w / res))))
    res = 2 * half_w / nx
    nz = int(min(max_side, max(16, round(0.3 * near_z / res))))
    xs = -half_w + (np.arange(nx) + 0.5) * res
    zs = near_z * 1.02 + (np.arange(nz)[::-1] + 0.5) * res  # far rows first: the tile's top is far
    X, Z = np.meshgrid(xs, zs)
    px = (W / 2.0 + cam.focal * X / Z).astype(np.float32)
    py = (H / 2.0 + cam.focal * lift_h / Z).astype(np.float32)
    out = cv2.remap(rgb, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    d = cv2.remap(depth.astype(np.float32, copy=False), px, py, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT)
    s = cv2.remap(sky.astype(np.uint8), px, py, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT) > 0
    valid = (d > 0.8 * Z) & ~s
    return out.astype(np.float32), valid, float(res), float(near_z)


def ground_mask(depth: np.ndarray, sky: np.ndarray, cam: Camera, lift_h: float,
                side: int = 512) -> np.ndarray:
    """(h, w) bool on the painting reduced to at most ``side`` px: the land the depth calls
    ground. Its disparity (1/depth) grows down the picture as a level plane's does (slope
    1 / (eye height * focal) per row, whatever the horizon), within GROUND_SLOPE of that at
    the lifted eye height ``lift_h``; figures, trunks and walls (constant depth up their
    height) are not ground. Pixels within the slope window of the sky are left out."""
    H, W = depth.shape
    s = min(1.0, side / max(H, W))
    w, h = max(8, round(W * s)), max(8, round(H * s))
    disp = cv2.resize((1.0 / np.maximum(depth.astype(np.float32, copy=False), 1e-3)), (w, h),
                      interpolation=cv2.INTER_AREA)
    disp = cv2.GaussianBlur(disp, (0, 0), 1.0)
    # Central difference over 2 rows each way, in disparity per painting row.
    grad = (np.roll(disp, -2, 0) - np.roll(disp, 2, 0)) / np.float32(4.0 * H / h)
    g = grad * np.float32(lift_h * cam.focal)
    land = cv2.resize((~sky).view(np.uint8) if sky.dtype == bool else (sky == 0).astype(np.uint8), (w, h),
                      interpolation=cv2.INTER_NEAREST)
    land = cv2.erode(land, np.ones((7, 7), np.uint8), borderValue=1) > 0
    out = land & (g > GROUND_SLOPE[0]) & (g < GROUND_SLOPE[1])
    out[:2] = out[-2:] = False  # the rolled difference wraps there
    return out


def exemplar_grid(shape: tuple[int, ...], cam: Camera, y: float, mask: np.ndarray,
                  max_side: int = 512) -> tuple[np.ndarray, float, float, float]:
    """Where :func:`ground_exemplar` samples a painting of ``shape`` (H, W, ...) whose ground
    is ``mask`` (:func:`ground_mask`): (rows (n,) float32, the painting row at each texel
    row's centre, far rows first; painting pixels per texel; metres per texel at the bottom
    edge; near_z)."""
    H, W = shape[:2]
    f = cam.focal
    lift_h = max(cam.position[1] - y, 1e-3)
    near_z = lift_h * f / max(1.0, H / 2.0)
    res = max(near_z / f * 1.5, near_z * near_z / (f * lift_h))
    sx = max(res * f / near_z, W / max_side)  # painting pixels per texel across
    nx = max(16, int(round(W / sx)))
    sx = W / nx
    mh = mask.shape[0]
    has = np.flatnonzero(mask.any(axis=1))
    # A level plane below the eye lies below the picture's centre row, whatever the mask says.
    top = max((has[0] + 0.5) * H / mh if len(has) else H / 2.0, H / 2.0 + 1.0)
    # Texel rows as tall as they are wide in the picture (sx painting rows each): the painted
    # touch keeps its shape. Rectified to the plane (rows as long as wide on the ground) a
    # stroke is stretched along the view by the foreshortening (3 to 10 times here), which
    # reads as streaks radiating from the visitor.
    n_rows = int(min(max_side, max(0.0, (H - top) / sx)))
    if n_rows < 16:  # little or no ground: the bottom sixteenth of the painting
        rows = np.linspace(H * 15.0 / 16.0, H - 0.5, 16).astype(np.float32)
    else:
        rows = (H - (np.arange(n_rows)[::-1] + 0.5) * sx).astype(np.float32)  # far rows first
    return rows, float(sx), float(res), float(near_z)


def ground_exemplar(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, cam: Camera, y: float,
                    max_side: int = 512, mask: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """All the painting's ground below the horizon row, resampled in the picture: (rgb (h, w,
    3) float32, valid (h, w) bool, weight (h, w) float32, metres per texel at the bottom
    edge, near_z).

    Texels are as wide as :func:`rectified_ground`'s at the bottom edge (the same number of
    painting pixels on every row) and as tall as they are wide in the picture, so each part
    of the ground keeps its painted touch, from the bottom edge up to the farthest ground
    (:func:`exemplar_grid`; rectified onto the plane, the foreshortened strokes would be
    stretched along the view into streaks). ``valid`` is the ground of ``mask`` (default
    :func:`ground_mask`); ``weight`` of a valid texel is OCTAVE_SHARE to the power of its
    doublings of distance beyond the bottom edge."""
    if mask is None:
        mask = ground_mask(depth, sky, cam, max(cam.position[1] - y, 1e-3))
    return _sample_exemplar(rgb, depth, mask, exemplar_grid(rgb.shape, cam, y, mask, max_side))


def _sample_exemplar(rgb: np.ndarray, depth: np.ndarray, mask: np.ndarray,
                     grid: tuple[np.ndarray, float, float, float]):
    """:func:`ground_exemplar` on the sampling ``grid`` (:func:`exemplar_grid`) of ``mask``."""
    H, W = rgb.shape[:2]
    vy, sx, res, near_z = grid
    nx = int(round(W / sx))
    mh, mw = mask.shape
    narrow = cv2.resize(rgb, (nx, H), interpolation=cv2.INTER_AREA).astype(np.float32)
    map_x = np.broadcast_to(np.arange(nx, dtype=np.float32)[None, :], (len(vy), nx))
    map_y = np.broadcast_to(vy[:, None] - 0.5, (len(vy), nx))
    ex = cv2.remap(narrow, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE)
    mi = np.clip((vy * (mh / H)).astype(np.int64), 0, mh - 1)
    mj = np.clip(((np.arange(nx) + 0.5) * sx * (mw / W)).astype(np.int64), 0, mw - 1)
    valid = mask[mi[:, None], mj[None, :]]
    if not valid.any():
        valid = np.ones_like(valid)
    dz = cv2.resize(depth.astype(np.float32, copy=False), (mw, mh), interpolation=cv2.INTER_NEAREST)[mi[:, None], mj[None, :]]
    octave = np.minimum(np.log2(np.maximum(dz / near_z, 1.0)), 12.0)
    weight = np.where(valid, OCTAVE_SHARE ** octave, 0.0)
    return ex, valid, weight.astype(np.float32), float(res), float(near_z)


def on_painting(texels: np.ndarray, shape: tuple[int, ...], rows: np.ndarray, step: float) -> np.ndarray:
    """(H, W) bool: ``texels`` (n, w) bool of an exemplar sampled at painting ``rows`` (n,)
    and every ``step`` painting pixels across (:func:`exemplar_grid`), laid back on the
    painting (nearest texel); pixels above or below the sampled rows are False."""
    H, W = shape[:2]
    n, w = texels.shape
    if len(rows) != n:
        raise InputError(f"on_painting needs a painting row per texel row: {n} rows of texels, {len(rows)} rows given")
    r = np.arange(H, dtype=np.float64) + 0.5
    i = np.clip(np.searchsorted(rows, r), 0, n - 1)  # rows increase down the picture
    j = i - 1
    nearest = np.where((j >= 0) & (np.abs(r - rows[np.maximum(j, 0)]) < np.abs(r - rows[i])), j, i)
    inside = (r >= rows[0] - step / 2.0) & (r <= rows[-1] + step / 2.0)
    cols = np.clip((np.arange(W) / step).astype(np.int64), 0, w - 1)
    return texels[nearest][:, cols] & inside[:, None]


_SRGB_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / np.float32(255.0)).reshape(1, 256)


def ground_profile_reference(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, cam: Camera, y: float,
                             tile_mean: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`ground_profile` by direct conversion and masked sums (slow; tests)."""
    H = rgb.shape[0]
    lift_h = cam.position[1] - y
    rows = np.arange(int(H / 2.0) + 2, H)
    if len(rows) < 4 or lift_h <= 0:
        return np.zeros(0), np.zeros((0, 3))
    d_row = lift_h * cam.focal / (rows + 0.5 - H / 2.0)
    lin = srgb_to_linear(rgb[rows].astype(np.float32) / 255.0)
    land = ~sky[rows] if keep is None else ~sky[rows] & keep[rows]
    on = land & (np.abs(depth[rows] - d_row[:, None]) < 0.25 * d_row[:, None])
    use = np.where(on.sum(axis=1, keepdims=True) > 8, on, land)
    cnt = use.sum(axis=1)
    mean = (lin * use[..., None]).sum(axis=1) / np.maximum(cnt, 1)[:, None]
    return _profile_samples(d_row, mean, cnt > 0, tile_mean)


def _profile_samples(d_row, mean, ok, tile_mean):
    if ok.sum() < 2:
        return np.zeros(0), np.zeros((0, 3))
    d_row, mean = d_row[ok][::-1], mean[ok][::-1]  # increasing distance
    k = max(1, len(d_row) // 32)
    n = len(d_row) // k * k
    d_s = d_row[:n].reshape(-1, k).mean(axis=1)
    m_s = mean[:n].reshape(-1, k, 3).mean(axis=1)
    ref = srgb_to_linear(np.asarray(tile_mean, np.float32) / 255.0)
    return d_s, np.clip(m_s / np.maximum(ref, 1e-4), 0.25, 4.0)


def edge_profiles(rgb: np.ndarray, sky: np.ndarray, cam: Camera, y: float, tile_mean: np.ndarray,
                  distances: np.ndarray) -> np.ndarray | None:
    """(2, k, 3) linear gains over the tile's mean of the painting's land colour in its
    outermost EDGE_COLUMNS at each side (left, right), per row below the horizon, grouped
    and resampled at ``distances`` (those of :func:`ground_profile`); None when there are
    none. What the layers show at the frame's side edge, whatever stands there."""
    H, W = rgb.shape[:2]
    lift_h = cam.position[1] - y
    rows = np.arange(int(H / 2.0) + 2, H)
    if len(rows) < 4 or lift_h <= 0 or len(distances) < 2:
        return None
    d_row = lift_h * cam.focal / (rows + 0.5 - H / 2.0)
    k = max(2, int(round(EDGE_COLUMNS * W)))
    out = []
    for cols in (slice(0, k), slice(W - k, W)):
        lin = cv2.LUT(rgb[rows, cols], _SRGB_TO_LINEAR)
        land = ~sky[rows, cols]
        cnt = land.sum(axis=1)
        mean = (lin * land[..., None]).sum(axis=1) / np.maximum(cnt, 1)[:, None]
        d_s, g_s = _profile_samples(d_row, mean.astype(np.float64), cnt > 0, tile_mean)
        if len(d_s) < 2:
            return None
        out.append(np.stack([np.interp(distances, d_s, g_s[:, c]) for c in range(3)], -1))
    return np.stack(out)


def ground_profile(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, cam: Camera, y: float,
                   tile_mean: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(distances, linear gains): per painting row below the horizon, the distance at which
    the row meets the plane and the mean colour of its land pixels lying near the plane
    (else of all its land), over the tile's mean; rows are grouped 32 to a sample and smoothed.
    ``keep`` (H, W) bool: only those pixels count as land (the ground's material, not what
    stands on it); a row with none is left out."""
    H = rgb.shape[0]
    lift_h = cam.position[1] - y
    rows = np.arange(int(H / 2.0) + 2, H)
    if len(rows) < 4 or lift_h <= 0:
        return np.zeros(0), np.zeros((0, 3))
    d_row = lift_h * cam.focal / (rows + 0.5 - H / 2.0)
    d32 = d_row.astype(np.float32)[:, None]
    lin = cv2.LUT(rgb[rows], _SRGB_TO_LINEAR)  # float32 (n, W, 3), as srgb_to_linear(rgb / 255)
    land = ~sky[rows] if keep is None else ~sky[rows] & keep[rows]
    on = np.abs(depth[rows].astype(np.float32, copy=False) - d32) < np.float32(0.25) * d32  # float32, not 64
    on &= land
    use = np.where(on.sum(axis=1, keepdims=True) > 8, on, land)
    cnt = use.sum(axis=1)
    sums = np.matmul(use.astype(np.float32)[:, None, :], lin)[:, 0]  # each row's masked sum
    mean = sums.astype(np.float64) / np.maximum(cnt, 1)[:, None]
    return _profile_samples(d_row, mean, cnt > 0, tile_mean)


TILE_LIGHT = 0.4
"""Power of the ground source's large-scale lightness (its grey blurred over a block) the tile
keeps: shadows cast across the ground and a sunlit patch are light, not material; quilted
whole they are laid as dark and light slabs (Canaletto's shadowed square)."""
LIGHT_GAIN = (0.5, 2.0)
"""Least and greatest gain :func:`flatten_light` lays on a texel."""


def flatten_light(ex: np.ndarray, valid: np.ndarray, block: int, keep: float) -> np.ndarray:
    """``ex`` (h, w, 3) float32 with its large-scale lightness evened out: each texel times
    (mean / local) ** (1 - keep), where local is the valid texels' grey within about a block
    (a normalised Gaussian of sigma block / 2) and mean the valid texels' mean grey. A gain,
    not an offset: colours keep their hue and the detail its contrast to its surroundings."""
    if keep >= 1.0 or not valid.any():
        return ex
    grey = ex @ np.asarray([0.299, 0.587, 0.114], np.float32)
    wt = valid.astype(np.float32)
    sigma = max(1.0, block / 2.0)
    local = cv2.GaussianBlur(grey * wt, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(wt, (0, 0), sigma), 1e-3)
    mean = float(grey[valid].mean())
    gain = np.power(mean / np.maximum(local, 1.0), 1.0 - keep)
    return (ex * np.clip(gain, *LIGHT_GAIN)[..., None]).astype(np.float32)


def ground_tile(rgb: np.ndarray, depth: np.ndarray, sky: np.ndarray, cam: Camera, y: float, size: int,
                seed: int) -> Ground:
    """The periodic ground texture (``size`` px square) quilted from the painted ground
    (:func:`ground_exemplar`) that is of the near ground's material
    (:func:`.material.near_material`), its blocks drawn by the exemplar's distance weights;
    the far ground's colours come from the vertex colours (:func:`ground_profile`)."""
    mask = ground_mask(depth, sky, cam, max(cam.position[1] - y, 1e-3))
    grid = exemplar_grid(rgb.shape, cam, y, mask)
    ex, ground, weight, res, near_z = _sample_exemplar(rgb, depth, mask, grid)
    # What the depth calls ground takes in whatever fills the lower picture (a crowd, a robe,
    # a boat); the visitor stands on what the painting's nearest ground is made of, and the
    # ground's colour at each distance is that material's, not the robe's beside it.
    valid = near_material(ex, ground)
    weight = np.where(valid, weight, 0.0).astype(np.float32)
    keep = ~on_painting(ground & ~valid, rgb.shape, grid[0], grid[1])
    # What lies on the ground once (a figure's feet, a dropped cloak) is not its material:
    # copied into the tile it would be stamped all round the visitor.
    ex = fill_rare(ex, valid, seed)
    # Blocks small enough for several to fit in the near ground's rows and between what stands
    # on it (blocks must be mostly ground to be drawn), at most TILE_BLOCKS + 4 a side (the
    # quilting's cost): a tile quilted smaller than ``size`` is resized up to it.
    block = fitting_block(valid, max(8, min(size // TILE_BLOCKS, ex.shape[0] // 3)))
    overlap = max(2, block // 5)
    block, overlap = fit_block(ex.shape, block, overlap)
    ex = flatten_light(ex, valid, block, TILE_LIGHT)
    step = block - overlap
    n = max(2, min(TILE_BLOCKS + 4, int(math.ceil(size / step))))
    tile = quilt_tile(ex, n, n, block, overlap, seed=seed, valid=valid, weight=weight, reach=ANCHOR_REACH,
                      group=1, feather=TILE_FEATHER * overlap)
    tile_m = tile.shape[0] * res
    tile = cv2.resize(tile, (size, size), interpolation=cv2.INTER_AREA)
    tile8 = np.clip(tile + 0.5, 0, 255).astype(np.uint8)
    pd, pg = ground_profile(rgb, depth, sky, cam, y, tile8.reshape(-1, 3).mean(axis=0), keep)
    eg = edge_profiles(rgb, sky, cam, y, tile8.reshape(-1, 3).mean(axis=0), pd)
    if len(pg) and max(pg.max(), 0.0 if eg is None else eg.max()) > 1.0:
        # Vertex colours cannot exceed 1: brighten the tile by the largest gain instead.
        # At most 1 % of the tile's texels saturate (a brighter tile would lose its detail
        # to the clip; the farthest ground is then a little darker than painted).
        room = 1.0 / np.maximum(np.percentile(srgb_to_linear(tile8.reshape(-1, 3).astype(np.float32) / 255.0),
                                              99, axis=0), 1e-3)
        peak = pg.max(axis=0) if eg is None else np.maximum(pg.max(axis=0), eg.max(axis=(0, 1)))
        top = np.clip(peak, 1.0, np.maximum(room, 1.0))
        lin = srgb_to_linear(tile8.astype(np.float32) / 255.0) * top
        tile8 = np.clip(linear_to_srgb(np.clip(lin, 0, 1)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        pg = pg / top
        eg = None if eg is None else eg / top
        own = 1.0 / top
    else:
        own = np.ones(3)
    return Ground(y=y, tile=tile8, tile_m=tile_m, near_z=near_z, profile_d=pd, profile_gain=pg, own_gain=own,
                  edge_gain=eg)


def ground_layer(gr: Ground, cam: Camera, radius: float, half_angle: float) -> Layer:
    """The ground as a polar grid around the start, out to ``radius``, without the wedge
    the start camera sees beyond the painting's bottom edge (azimuth within ``half_angle``
    of ahead): there the lifted layers carry the painted ground."""
    n_a = 64
    a = np.linspace(-math.pi, math.pi, n_a + 1)
    fan = half_angle + EDGE_SPAN * np.linspace(0.0, 1.0, 9)  # finer where the edge colour fades
    a = np.unique(np.concatenate([a, fan, -fan]))
    r = np.concatenate([[0.0], np.geomspace(0.25, radius, 24)])
    r = np.unique(np.concatenate([r, [gr.near_z]]))
    A, R = np.meshgrid(a, r)  # (nr, na)
    x = R * np.sin(A) + cam.position[0]
    z = -R * np.cos(A) + cam.position[2]
    pos = np.stack([x, np.full_like(x, gr.y), z], -1).reshape(-1, 3).astype(np.float32)
    uv = np.stack([x / gr.tile_m, z / gr.tile_m], -1).reshape(-1, 2).astype(np.float32)
    nr, na = A.shape
    vid = np.arange(nr * na).reshape(nr, na)
    q0, q1, q2, q3 = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
    am = (A[:-1, :-1] + A[:-1, 1:]) / 2
    rm = (R[:-1, :-1] + R[1:, :-1]) / 2
    keep = ~((np.abs(am) < half_angle) & (rm > gr.near_z))
    inner = R[:-1, :-1] == 0  # the first ring: one triangle per sector (the centre is one point)
    t1 = np.stack([q0, q2, q3], -1)[keep]
    t2 = np.stack([q0, q3, q1], -1)[keep & ~inner]
    faces = np.concatenate([t1, t2]).astype(np.uint32)
    # Vertex colours carry the painted ground's fading with distance (glTF multiplies them
    # with the texture); within the painted range the ground meets the layers in colour.
    gain = _edge_faded_gain(gr, A.reshape(-1), R.reshape(-1), half_angle)
    colors = np.concatenate([gain, np.ones((len(gain), 1))], axis=1).astype(np.float32)
    mesh = Mesh(name="ground", positions=pos, faces=faces, uvs=uv, colors=np.clip(colors, 0, 1),
                texture=gr.tile, alpha_mode="OPAQUE", unlit=True, extras={"wrap": "repeat"})
    return Layer(name="ground", node=Node(name="ground", mesh=mesh), depth_range=(0.0, float(radius)), kind="ground")


def _edge_faded_gain(gr: Ground, a: np.ndarray, r: np.ndarray, half_angle: float) -> np.ndarray:
    """(n, 3) vertex gains at azimuths ``a`` (0 ahead, negative left) and radii ``r``: the
    painted ground's (:meth:`Ground.gain`), pulled beside each side edge of the start view
    to the painting's colour along that edge (at the same distance along the view), fading
    out over EDGE_SPAN of azimuth and nearer than the bottom edge."""
    g = gr.gain(r)
    if gr.edge_gain is None:
        return g
    along = np.maximum(r * np.cos(np.minimum(np.abs(a), half_angle)), 0.0)
    t = np.clip(1.0 - (np.abs(a) - half_angle) / EDGE_SPAN, 0.0, 1.0) * (np.abs(a) >= half_angle)
    t = t * np.clip((along - NEAR_FADE * gr.near_z) / max((1.0 - NEAR_FADE) * gr.near_z, 1e-9), 0.0, 1.0)
    t = (t * t * (3.0 - 2.0 * t))[:, None]  # smooth at both ends
    side = np.where(a < 0, 0, 1)
    e = np.where(side[:, None] == 0, gr.side_gain(along, 0), gr.side_gain(along, 1))
    return g + (e - g) * t


def walk_zone(points: np.ndarray, ground_y: float, start: tuple[float, float, float],
              radius: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(walkable (n, n) bool, obstacle (n, n) bool, origin offset) on a CELL grid centred on
    the start: the disc of ``radius`` minus obstacles, connected to the start.

    ``points`` (N, 3) are lifted world points; those between KNEE and HEAD above the ground
    are obstacles, each also BEHIND metres further from the eye, widened by BODY.
    """
    n = int(math.ceil(2 * (radius + 1.0) / CELL))
    half = n * CELL / 2.0
    sx, _, sz = start
    rel = points - np.array([sx, 0.0, sz])
    h = points[:, 1] - ground_y
    sel = (h > KNEE) & (h < HEAD) & (np.hypot(rel[:, 0], rel[:, 2]) < radius + 1.0 + BEHIND)
    p = rel[sel][:, [0, 2]]
    obstacle = np.zeros((n, n), bool)
    if len(p):
        dist = np.hypot(p[:, 0], p[:, 1])[:, None]
        ray = p / np.maximum(dist, 1e-6)
        for t in np.linspace(0.0, BEHIND, 4):
            q = p + ray * t
            ij = np.floor((q + half) / CELL).astype(np.int64)
            ok = (ij >= 0).all(axis=1) & (ij < n).all(axis=1)
            obstacle[ij[ok, 1], ij[ok, 0]] = True
    k = 2 * int(math.ceil(BODY / CELL)) + 1
    blocked = cv2.dilate(obstacle.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    c = (np.arange(n) + 0.5) * CELL - half
    disc = np.hypot(c[None, :], c[:, None]) <= radius
    free = disc & ~blocked
    _, lab = cv2.connectedComponents(free.astype(np.uint8), connectivity=4)
    mid = n // 2
    start_label = lab[mid, mid] if free[mid, mid] else 0
    walkable = (lab == start_label) & free if start_label else free & False
    return walkable, obstacle, half


def row_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, first column, end column) of every run of True along the rows of ``mask``."""
    m = np.pad(mask.astype(np.int8), ((0, 0), (1, 1)))
    d = np.diff(m, axis=1)
    sy, sx = np.nonzero(d == 1)
    ey, ex = np.nonzero(d == -1)
    return sy, sx, ex  # nonzero scans row-major: the k-th start and end belong together


def row_runs_slow(mask: np.ndarray) -> list[tuple[int, int, int]]:
    """Reference for :func:`row_runs`: a scan of each row."""
    out = []
    for y, row in enumerate(mask):
        x = 0
        while x < len(row):
            if row[x]:
                x0 = x
                while x < len(row) and row[x]:
                    x += 1
                out.append((y, x0, x))
            else:
                x += 1
    return out


def zone_meshes(walkable: np.ndarray, obstacle: np.ndarray, half: float, ground_y: float,
                start: tuple[float, float, float]) -> tuple[Node, Node | None]:
    """The navmesh node (walkable cells as quads on the plane) and the collider node (each
    obstacle cell's sides facing free ground, as walls from the ground to HEAD)."""
    n = walkable.shape[0]
    sx, _, sz = start
    grid = (np.arange(n + 1) * CELL - half).astype(np.float32)
    gx, gz = np.meshgrid(grid + sx, grid + sz)
    pos = np.stack([gx, np.full_like(gx, ground_y), gz], -1).reshape(-1, 3).astype(np.float32)
    vid = np.arange((n + 1) ** 2).reshape(n + 1, n + 1)
    iy, x0, x1 = row_runs(walkable)  # one quad per run of walkable cells along a row
    a, b, c, d = vid[iy, x0], vid[iy, x1], vid[iy + 1, x0], vid[iy + 1, x1]
    faces = np.concatenate([np.stack([a, c, d], -1), np.stack([a, d, b], -1)]).astype(np.int64)
    used, inv = np.unique(faces, return_inverse=True)
    nav = Mesh(name=NAVMESH, positions=pos[used], faces=inv.reshape(-1, 3).astype(np.uint32),
               base_color=(0.2, 0.8, 0.3, 1.0))
    navmesh = Node(name=NAVMESH, mesh=nav, extras={"paint2vr_role": "navmesh"})
    walls = []
    free = np.pad(~obstacle, 1, constant_values=True)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        nb = free[1 + dy:1 + dy + n, 1 + dx:1 + dx + n]
        oy, ox = np.nonzero(obstacle & nb)
        walls.append(np.stack([oy, ox, np.full_like(oy, dy), np.full_like(oy, dx)], -1))
    w = np.concatenate(walls)
    if not len(w):
        return navmesh, None
    # The wall's two ends on the cell's side towards the free neighbour.
    cy, cx = w[:, 0] + 0.5, w[:, 1] + 0.5
    ex, ey = cx + 0.5 * w[:, 3], cy + 0.5 * w[:, 2]
    tx, ty = 0.5 * np.abs(w[:, 2]), 0.5 * np.abs(w[:, 3])
    p0 = np.stack([ex - tx, ey - ty], -1) * CELL - half + [sx, sz]
    p1 = np.stack([ex + tx, ey + ty], -1) * CELL - half + [sx, sz]
    lo, hi = ground_y, ground_y + HEAD
    quad = np.stack([np.c_[p0[:, 0], np.full(len(w), lo), p0[:, 1]], np.c_[p1[:, 0], np.full(len(w), lo), p1[:, 1]],
                     np.c_[p1[:, 0], np.full(len(w), hi), p1[:, 1]], np.c_[p0[:, 0], np.full(len(w), hi), p0[:, 1]]], 1)
    cpos = quad.reshape(-1, 3).astype(np.float32)
    base = (np.arange(len(w)) * 4)[:, None]
    cfaces = np.concatenate([base + [0, 1, 2], base + [0, 2, 3]]).astype(np.uint32)
    col = Mesh(name=COLLIDER, positions=cpos, faces=cfaces, base_color=(0.8, 0.3, 0.2, 1.0))
    return navmesh, Node(name=COLLIDER, mesh=col, extras={"paint2vr_role": "collider"})
