"""Layer textures: colour that is never shown, made cheap to store.

Shared by lifting (which builds the layer textures) and export (which shrinks them to a
profile's size and coarsens again, so the hidden texels stay flat at the size written).
"""

from __future__ import annotations

import cv2
import numpy as np


HIDDEN_BAND = 8
"""Texels of true colour kept around a layer's alpha edge, enough for mip levels up to 1/8."""
HIDDEN_BLOCK = 16
"""Beyond the band, transparent texels hold the colour of their 16 x 16 block."""


def coarsen_hidden_texels(tex: np.ndarray) -> None:
    """Replace the colour of transparent texels far from any opaque one by a blocky average.

    They are never shown, and only the nearest ones reach shown pixels through bilinear and
    mip filtering; flat blocks make the PNG several times smaller and faster to encode
    (measured: 65 % of layer texels are transparent, 3.5x smaller files, 4x faster).
    """
    h, w = tex.shape[:2]
    if h < 2 * HIDDEN_BLOCK or w < 2 * HIDDEN_BLOCK:
        return
    # The band is found at 1/4 resolution (a cell is near if any texel in it is opaque):
    # 10x cheaper than a full-resolution dilation and at least as wide.
    q = 4
    opaque = cv2.copyMakeBorder((tex[..., 3] > 0).view(np.uint8) * np.uint8(255), 0, -h % q, 0, -w % q,
                                cv2.BORDER_CONSTANT)
    small_a = cv2.resize(opaque, (opaque.shape[1] // q, opaque.shape[0] // q), interpolation=cv2.INTER_AREA) > 0
    k = 2 * (-(-HIDDEN_BAND // q)) + 1
    near_small = cv2.dilate(small_a.view(np.uint8), np.ones((k, k), np.uint8))
    if near_small.all():
        return
    # Whole blocks only (an exact block mean); the few rows and columns past the last whole
    # block keep their colour. Hidden texels are transparent, so the block's alpha is 0 too
    # and each texel is copied as one uint32 (3x faster than per channel, measured).
    hb, wb = h // HIDDEN_BLOCK * HIDDEN_BLOCK, w // HIDDEN_BLOCK * HIDDEN_BLOCK
    small = cv2.resize(tex[:hb, :wb], (wb // HIDDEN_BLOCK, hb // HIDDEN_BLOCK),
                       interpolation=cv2.INTER_AREA)
    small[..., 3] = 0
    coarse = cv2.resize(small, (wb, hb), interpolation=cv2.INTER_NEAREST)
    hidden = cv2.resize(near_small, (near_small.shape[1] * q, near_small.shape[0] * q),
                        interpolation=cv2.INTER_NEAREST)[:hb, :wb] == 0
    texels = tex.view(np.uint32).reshape(h, w)[:hb, :wb]
    np.copyto(texels, coarse.view(np.uint32).reshape(hb, wb), where=hidden)


def coarsen_hidden_texels_reference(tex: np.ndarray) -> None:
    """Slow reference of :func:`coarsen_hidden_texels`: texel by texel, block by block."""
    h, w = tex.shape[:2]
    if h < 2 * HIDDEN_BLOCK or w < 2 * HIDDEN_BLOCK:
        return
    q, band = 4, -(-HIDDEN_BAND // 4)
    opaque = tex[..., 3] > 0
    cells = np.array([[opaque[y:y + q, x:x + q].any() for x in range(0, w, q)] for y in range(0, h, q)])
    hb, wb = h // HIDDEN_BLOCK * HIDDEN_BLOCK, w // HIDDEN_BLOCK * HIDDEN_BLOCK
    src = tex.copy()
    for y in range(hb):
        for x in range(wb):
            cy, cx = y // q, x // q
            if cells[max(0, cy - band):cy + band + 1, max(0, cx - band):cx + band + 1].any():
                continue
            by, bx = y // HIDDEN_BLOCK * HIDDEN_BLOCK, x // HIDDEN_BLOCK * HIDDEN_BLOCK
            block = src[by:by + HIDDEN_BLOCK, bx:bx + HIDDEN_BLOCK, :3].reshape(-1, 3).astype(np.float64)
            tex[y, x, :3] = np.floor(block.mean(axis=0) + 0.5)
            tex[y, x, 3] = 0


BLEED_BAND = HIDDEN_BAND
"""Transparent texels within this many texels of an opaque one take its colour (edge bleeding)."""


def bleed_edge_colours(tex: np.ndarray, band: int = BLEED_BAND) -> np.ndarray:
    """A copy of an RGBA texture whose transparent texels near opaque ones hold the colour of
    the nearest opaque texel (alpha unchanged).

    Under a layer's transparent texels the lift keeps the painting's colour there, which is
    another layer's (a dark tree trunk in the hole it leaves in the far layer). Bilinear and
    mip filtering at the alpha edge mix those texels in: the dark dashed seams Eevee showed
    along layer edges. With the layer's own colour bled out, filtering never pulls in a
    foreign colour, in any client (three.js, Blender, a headset) and at any mip level up to
    1/``band``. Texels farther out keep theirs (:func:`coarsen_hidden_texels` flattens them).
    """
    out = np.array(tex, copy=True)
    opaque = tex[..., 3] >= 128
    if opaque.all() or not opaque.any():
        return out
    dist, labels = cv2.distanceTransformWithLabels((~opaque).view(np.uint8), cv2.DIST_L2, 5,
                                                   labelType=cv2.DIST_LABEL_PIXEL)
    # labels name the nearest opaque texel; map each label to that texel's flat index
    ys, xs = np.nonzero(opaque)
    by_label = np.zeros(int(labels.max()) + 1, np.int64)
    by_label[labels[ys, xs]] = ys * tex.shape[1] + xs
    near = (~opaque) & (dist <= band)
    src = by_label[labels[near]]
    flat = out.reshape(-1, 4)
    flat[np.flatnonzero(near.ravel()), :3] = tex.reshape(-1, 4)[src, :3]
    return out


def bleed_edge_colours_reference(tex: np.ndarray, band: int = BLEED_BAND) -> np.ndarray:
    """Slow reference of :func:`bleed_edge_colours`: for each transparent texel, the nearest
    opaque texel by brute force (Euclidean distance; ties may pick another equally near texel)."""
    out = np.array(tex, copy=True)
    opaque = tex[..., 3] >= 128
    ys, xs = np.nonzero(opaque)
    if ys.size == 0:
        return out
    for y, x in zip(*np.nonzero(~opaque)):
        d2 = (ys - y) ** 2 + (xs - x) ** 2
        k = int(np.argmin(d2))
        if d2[k] <= band * band:
            out[y, x, :3] = tex[ys[k], xs[k], :3]
    return out
