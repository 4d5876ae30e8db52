"""Triangle and point rasterisation into a z-buffer, in numpy (no display, no GPU).

Conventions: screen x to the right, y down, pixel (i, j) has its centre at (i + 0.5, j + 0.5);
a pixel belongs to a triangle when its centre is inside or on an edge. Textures are sampled
perspective-correct (glTF uv: origin at the texture's top-left, v down), with clamp-to-edge
addressing, anisotropically as a GPU does (:func:`footprints`): each fragment's footprint in
the texture (its uv Jacobian) gives up to :data:`ANISOTROPY` trilinear taps along its long axis
at the mip level of its length over the taps, so the ground towards the horizon keeps its
detail and does not alias (the viewer asks three.js for the same 8).

Ties in depth go to the primitive with the smaller ``key`` (its draw order), so the fast
rasteriser and the slow reference agree pixel for pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..color import linear_to_srgb, srgb_to_linear

NEAR = 0.01
"""Near plane in metres: triangles with a vertex nearer than this are not drawn."""
MASK_CUTOFF = 0.5
"""glTF's default alpha cutoff for alpha_mode MASK."""
ANISOTROPY = 8
"""Most taps along a fragment's stretched footprint (the viewer's three.js anisotropy)."""
_CHUNK = 2_000_000
"""Candidate pixels per vectorised batch (bounds memory)."""


@dataclass
class Target:
    """The buffers one render writes into."""

    width: int
    height: int
    depth: np.ndarray = field(init=False)
    key: np.ndarray = field(init=False)
    rgba: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.width * self.height
        self.depth = np.full(n, np.inf, dtype=np.float64)
        self.key = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.rgba = np.zeros((n, 4), dtype=np.float32)

    def merge(self, pix: np.ndarray, z: np.ndarray, key: np.ndarray, rgba: np.ndarray) -> None:
        """Depth-test candidate fragments (any order, repeats allowed) against the buffers."""
        if pix.size == 0:
            return
        order = np.lexsort((key, z, pix))
        pix, z, key, rgba = pix[order], z[order], key[order], rgba[order]
        first = np.ones(pix.size, dtype=bool)
        first[1:] = pix[1:] != pix[:-1]
        pix, z, key, rgba = pix[first], z[first], key[first], rgba[first]
        zb, kb = self.depth[pix], self.key[pix]
        win = (z < zb) | ((z == zb) & (key < kb))
        p = pix[win]
        self.depth[p] = z[win]
        self.key[p] = key[win]
        self.rgba[p] = rgba[win]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        covered = np.isfinite(self.depth).reshape(self.height, self.width)
        rgb = np.clip(self.rgba[:, :3] * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return rgb.reshape(self.height, self.width, 3), covered


# ---------------------------------------------------------------- textures



def build_mips(texture: np.ndarray) -> list[np.ndarray]:
    """(h, w, 3|4) uint8 -> list of float32 RGBA levels in [0, 1], halving down to 1 pixel."""
    t = texture.astype(np.float32) / 255.0
    if t.shape[2] == 3:
        t = np.concatenate([t, np.ones(t.shape[:2] + (1,), np.float32)], axis=2)
    levels = [t]
    while max(t.shape[:2]) > 1:
        h, w = t.shape[:2]
        # Pad odd sizes by edge repetition so each level is an exact 2x2 box filter.
        if h % 2 or w % 2:
            t = np.pad(t, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        t = 0.25 * (t[0::2, 0::2] + t[1::2, 0::2] + t[0::2, 1::2] + t[1::2, 1::2])
        levels.append(t)
    return levels


def sample_bilinear(level: np.ndarray, u: np.ndarray, v: np.ndarray, repeat: bool = False) -> np.ndarray:
    """Bilinear lookup of (N,) uv in one mip level -> (N, 4): clamped to the edge, or with
    ``repeat`` wrapped round (a tiling texture, glTF's REPEAT)."""
    h, w = level.shape[:2]
    x = u * w - 0.5
    y = v * h - 0.5
    if not repeat:
        x = np.clip(x, 0.0, w - 1.0)
        y = np.clip(y, 0.0, h - 1.0)
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = (x - x0).astype(np.float32)[:, None]
    fy = (y - y0).astype(np.float32)[:, None]
    if repeat:
        x0, y0 = x0 % w, y0 % h
        x1, y1 = (x0 + 1) % w, (y0 + 1) % h
    else:
        x1 = np.minimum(x0 + 1, w - 1)
        y1 = np.minimum(y0 + 1, h - 1)
    top = level[y0, x0] * (1 - fx) + level[y0, x1] * fx
    bot = level[y1, x0] * (1 - fx) + level[y1, x1] * fx
    return top * (1 - fy) + bot * fy


def sample_mips(mips: list[np.ndarray], u: np.ndarray, v: np.ndarray, lod: np.ndarray,
                repeat: bool = False) -> np.ndarray:
    """Trilinear lookup: bilinear in the two mip levels around the fractional ``lod``."""
    lo = np.floor(lod).astype(np.int64)
    frac = (lod - lo).astype(np.float32)[:, None]
    out = np.empty((u.size, 4), dtype=np.float32)
    for lvl in np.unique(lo):
        m = lo == lvl
        a = sample_bilinear(mips[int(lvl)], u[m], v[m], repeat)
        nxt = int(min(lvl + 1, len(mips) - 1))
        fm = frac[m]
        if nxt != lvl and (fm > 0).any():
            a = a * (1 - fm) + sample_bilinear(mips[nxt], u[m], v[m], repeat) * fm
        out[m] = a
    return out


# ---------------------------------------------------------------- per-mesh input

@dataclass
class Prepared:
    """One mesh projected to the screen, with what shading needs."""

    sx: np.ndarray
    """(N,) float64 screen x of each vertex."""
    sy: np.ndarray
    z: np.ndarray
    """(N,) view depth (positive in front)."""
    faces: np.ndarray | None
    """(M, 3) int64 or None for points."""
    uvs: np.ndarray | None
    colors: np.ndarray | None
    """(N, 4) linear RGBA vertex colours or None."""
    mips: list[np.ndarray] | None
    alpha_mode: str
    base_color: tuple[float, float, float, float]
    key_offset: int
    """Draw-order key of this mesh's first primitive."""
    repeat: bool = False
    """The texture tiles (glTF REPEAT: the ground): uvs wrap instead of clamping."""


def footprints(p: Prepared, f: np.ndarray, lam: np.ndarray, depth: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per fragment of faces ``f`` (K, 3) with perspective weights ``lam`` (K, 3) at view depth
    ``depth`` (K,): (uv (K, 2), tap step (K, 2) in uv, taps (K,) int, mip level (K,)).

    The uv Jacobian of the perspective-correct interpolation, uv = sum(b_i uv_i / z_i) /
    sum(b_i / z_i) with screen barycentrics b, is d uv / dx = sum(db_i/dx / z_i (uv_i - uv)) *
    depth; the longer of its two columns (in texels) is the footprint's major axis, the shorter
    its minor. As a GPU: n = min(ceil(major / minor), ANISOTROPY) taps spread along the major
    axis, each at the mip level of major / n (at least the minor's)."""
    uvf = p.uvs[f].astype(np.float64)
    uv = np.einsum("kj,kjc->kc", lam, uvf)
    x, y, z = p.sx[f], p.sy[f], p.z[f]
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    dbdx = -np.stack([y[:, 2] - y[:, 1], y[:, 0] - y[:, 2], y[:, 1] - y[:, 0]], 1) / area[:, None]
    dbdy = np.stack([x[:, 2] - x[:, 1], x[:, 0] - x[:, 2], x[:, 1] - x[:, 0]], 1) / area[:, None]
    rel = uvf - uv[:, None, :]
    jx = np.einsum("kj,kjc->kc", dbdx / z, rel) * depth[:, None]
    jy = np.einsum("kj,kjc->kc", dbdy / z, rel) * depth[:, None]
    h, w = p.mips[0].shape[:2]
    texel = np.array([w, h], np.float64)
    lx, ly = np.hypot(*(jx * texel).T), np.hypot(*(jy * texel).T)
    major = np.where((lx >= ly)[:, None], jx, jy)
    big, small = np.maximum(lx, ly), np.minimum(lx, ly)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Rounding slack: a 1:1 footprint computes as 1 + 1e-15, which is one tap, level 0.
        n = np.nan_to_num(np.ceil(big / np.maximum(small, 1e-12) - 1e-6), nan=1.0, posinf=ANISOTROPY)
        n = np.clip(n, 1, ANISOTROPY).astype(np.int64)
        lod = np.log2(np.maximum(big / n, small))
    lod = np.nan_to_num(lod, nan=0.0, posinf=len(p.mips) - 1, neginf=0.0)
    lod = np.clip(np.where(lod < 1e-6, 0.0, lod), 0, len(p.mips) - 1)
    step = np.nan_to_num(major / n[:, None])
    return uv, step, n, lod


def sample_anisotropic(p: Prepared, uv: np.ndarray, step: np.ndarray, taps: np.ndarray,
                       lod: np.ndarray) -> np.ndarray:
    """(K, 4): per fragment the mean of its ``taps`` (K,) trilinear lookups at ``uv`` (K, 2) +
    (t + 0.5 - taps / 2) * ``step`` (K, 2), t < taps (one lookup at ``uv`` where taps is 1)."""
    out = np.zeros((len(uv), 4), np.float32)
    for t in range(int(taps.max()) if len(taps) else 0):
        m = np.nonzero(taps > t)[0]
        at = uv[m] + (t + 0.5 - taps[m] / 2.0)[:, None] * step[m]
        out[m] += sample_mips(p.mips, at[:, 0], at[:, 1], lod[m], p.repeat)
    return out / np.maximum(taps, 1)[:, None].astype(np.float32)


def _shade(p: Prepared, f: np.ndarray, lam: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fragments of faces ``f`` (K, 3) with perspective weights ``lam`` (K, 3) at view depth
    ``depth`` (K,) -> (rgba, keep)."""
    k = lam.shape[0]
    base = np.asarray(p.base_color, dtype=np.float32)
    if p.mips is not None and p.uvs is not None:
        uv, step, taps, lod = footprints(p, f, lam, depth)
        rgba = sample_anisotropic(p, uv, step, taps, lod)
    else:
        rgba = np.ones((k, 4), dtype=np.float32)
    if p.colors is not None or not np.all(base[:3] == 1.0):
        # Colour factors multiply in linear space, as glTF specifies.
        rgba[:, :3] = srgb_to_linear(rgba[:, :3])
        if p.colors is not None:
            rgba *= np.einsum("kj,kjc->kc", lam, p.colors[f].astype(np.float64)).astype(np.float32)
        rgba *= base
        rgba[:, :3] = linear_to_srgb(rgba[:, :3])
    else:
        rgba[:, 3] *= base[3]
    if p.alpha_mode == "OPAQUE":
        keep = np.ones(k, dtype=bool)
    else:  # MASK, and BLEND approximated as a mask (no order-dependent blending here)
        keep = rgba[:, 3] >= MASK_CUTOFF
    return rgba, keep


def _visible_faces(p: Prepared, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of faces worth rasterising and their integer pixel bounding boxes (K, 4)."""
    f = p.faces
    z = p.z[f]
    ok = (z > NEAR).all(axis=1)
    x, y = p.sx[f], p.sy[f]
    with np.errstate(invalid="ignore"):
        x0 = np.ceil(np.nanmin(x, axis=1) - 0.5)
        x1 = np.floor(np.nanmax(x, axis=1) - 0.5)
        y0 = np.ceil(np.nanmin(y, axis=1) - 0.5)
        y1 = np.floor(np.nanmax(y, axis=1) - 0.5)
    ok &= np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    ok &= (x1 >= 0) & (y1 >= 0) & (x0 <= width - 1) & (y0 <= height - 1) & (x0 <= x1) & (y0 <= y1)
    with np.errstate(invalid="ignore"):  # vertices behind the eye project to inf/nan
        area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    ok &= area != 0
    idx = np.nonzero(ok)[0]
    box = np.stack([np.clip(x0[idx], 0, width - 1), np.clip(y0[idx], 0, height - 1),
                    np.clip(x1[idx], 0, width - 1), np.clip(y1[idx], 0, height - 1)], axis=1).astype(np.int64)
    return idx, box


def _fragments(p: Prepared, fi: np.ndarray, px: np.ndarray, py: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage test of pixel centres (px, py) against faces ``fi`` (one pixel per row).

    Returns (inside mask, perspective-correct weights (K, 3), view depth (K,)).
    Shared by the fast and the reference rasteriser so both compute identical numbers.
    """
    f = p.faces[fi]
    x, y, z = p.sx[f], p.sy[f], p.z[f]
    cx, cy = px + 0.5, py + 0.5
    area = (x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0])
    w0 = (x[:, 2] - x[:, 1]) * (cy - y[:, 1]) - (cx - x[:, 1]) * (y[:, 2] - y[:, 1])
    w1 = (x[:, 0] - x[:, 2]) * (cy - y[:, 2]) - (cx - x[:, 2]) * (y[:, 0] - y[:, 2])
    w2 = (x[:, 1] - x[:, 0]) * (cy - y[:, 0]) - (cx - x[:, 0]) * (y[:, 1] - y[:, 0])
    s = np.sign(area)
    inside = (w0 * s >= 0) & (w1 * s >= 0) & (w2 * s >= 0)
    b = np.stack([w0, w1, w2], axis=1) / area[:, None]
    q = b / z
    zinv = q.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = q / zinv[:, None]
        depth = 1.0 / zinv
    inside &= zinv > 0
    return inside, lam, depth


def raster_triangles(p: Prepared, target: Target) -> None:
    """Vectorised rasteriser: faces are grouped by bounding-box size and done in batches."""
    if p.faces is None or len(p.faces) == 0:
        return
    idx, box = _visible_faces(p, target.width, target.height)
    if idx.size == 0:
        return
    bw = box[:, 2] - box[:, 0] + 1
    bh = box[:, 3] - box[:, 1] + 1
    # Power-of-two size classes keep the wasted candidates per face under 4x.
    cw = 1 << np.ceil(np.log2(bw)).astype(np.int64)
    ch = 1 << np.ceil(np.log2(bh)).astype(np.int64)
    # One sort of a scalar class key (np.unique over rows was a third of a coverage render).
    cls = cw * (1 << 32) + ch
    order = np.argsort(cls, kind="stable")
    keys, starts = np.unique(cls[order], return_index=True)
    for n, k in enumerate(keys):
        gw, gh = int(k >> 32), int(k & 0xFFFFFFFF)
        sel = order[starts[n]:starts[n + 1] if n + 1 < len(starts) else None]
        ox, oy = np.meshgrid(np.arange(gw), np.arange(gh))
        ox, oy = ox.ravel(), oy.ravel()
        per = max(1, _CHUNK // (gw * gh))
        for start in range(0, sel.size, per):
            s = sel[start:start + per]
            px = (box[s, 0][:, None] + ox[None, :])
            py = (box[s, 1][:, None] + oy[None, :])
            valid = (px <= box[s, 2][:, None]) & (py <= box[s, 3][:, None])
            rows = np.nonzero(valid)
            t = s[rows[0]]
            px, py = px[valid].astype(np.float64), py[valid].astype(np.float64)
            inside, lam, depth = _fragments(p, idx[t], px, py)
            t, px, py, lam, depth = t[inside], px[inside], py[inside], lam[inside], depth[inside]
            rgba, keep = _shade(p, p.faces[idx[t]], lam, depth)
            pix = (py[keep].astype(np.int64) * target.width + px[keep].astype(np.int64))
            target.merge(pix, depth[keep], p.key_offset + idx[t[keep]], rgba[keep])


def raster_triangles_reference(p: Prepared, target: Target) -> None:
    """Slow, obvious rasteriser: one face at a time, in draw order, strict depth test."""
    if p.faces is None or len(p.faces) == 0:
        return
    idx, box = _visible_faces(p, target.width, target.height)
    for n, fi in enumerate(idx):
        x0, y0, x1, y1 = box[n]
        gx, gy = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1))
        px, py = gx.ravel().astype(np.float64), gy.ravel().astype(np.float64)
        inside, lam, depth = _fragments(p, np.full(px.size, fi), px, py)
        if not inside.any():
            continue
        px, py, lam, depth = px[inside], py[inside], lam[inside], depth[inside]
        rgba, keep = _shade(p, p.faces[np.full(px.size, fi)], lam, depth)
        for j in np.nonzero(keep)[0]:
            pix = int(py[j]) * target.width + int(px[j])
            key = p.key_offset + int(fi)
            if depth[j] < target.depth[pix] or (depth[j] == target.depth[pix] and key < target.key[pix]):
                target.depth[pix] = depth[j]
                target.key[pix] = key
                target.rgba[pix] = rgba[j]


def raster_points(p: Prepared, target: Target) -> None:
    """Points as single pixels (the pixel containing the projected point)."""
    ok = (p.z > NEAR) & np.isfinite(p.sx) & np.isfinite(p.sy)
    px = np.floor(p.sx[ok]).astype(np.int64)
    py = np.floor(p.sy[ok]).astype(np.int64)
    inb = (px >= 0) & (py >= 0) & (px < target.width) & (py < target.height)
    ids = np.nonzero(ok)[0][inb]
    px, py = px[inb], py[inb]
    if p.colors is not None:
        rgba = p.colors[ids].astype(np.float32) * np.asarray(p.base_color, np.float32)
    else:
        rgba = np.tile(np.asarray(p.base_color, np.float32), (ids.size, 1))
    rgba[:, :3] = linear_to_srgb(rgba[:, :3])
    keep = np.ones(ids.size, bool) if p.alpha_mode == "OPAQUE" else rgba[:, 3] >= MASK_CUTOFF
    target.merge(py[keep] * target.width + px[keep], p.z[ids[keep]], p.key_offset + ids[keep], rgba[keep])
