"""Texture coordinates stored as integer steps of a texel (quantised UVs for meshopt).

A layer's vertices sit on the painting's pixel lattice, so its UVs address texel corners
exactly (Hunters in the Snow: every layer vertex at a whole texel). Stored as 16-bit
normalised ``round(uv * 65535)`` those corners become steps of 91.02 units (720 px
texture), and meshopt's byte-wise delta codec pays for the fraction; stored as the texel
index itself (``uv * size * sub`` with ``sub = 1``) the same UVs take half the bytes
(measured, Hunters' six layers: 0.62 -> 0.32 MB) and lose nothing. The integers are written
as normalised uint16 (core glTF) and a ``KHR_texture_transform`` scale of
``65535 / (padded size * sub)`` on the material's texture maps them back.

Per axis, ``sub`` is the coarsest power of two up to :data:`MAX_SUB` whose grid holds every
UV within :data:`GRID_TOLERANCE` texel; UVs on no such grid (a downscaled texture) take the
finest grid that fits 16 bits, at most ``MAX_SUB`` steps a texel: an error of at most
1/64 texel, a quarter of the 1/256 texel GPUs filter at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

MAX_SUB = 32
"""Finest grid, in steps per texel (rounding error at most half a step)."""
GRID_TOLERANCE = 1e-3
"""Texels a UV may lie off a grid and still count as on it: float32 UVs of texel corners of
textures up to 2048 texels miss it by at most 1.3e-4 texel."""
TEXTURE_TRANSFORM = "KHR_texture_transform"


@dataclass(frozen=True)
class UvGrid:
    """How one mesh's UVs are stored: integer steps of ``1 / sub`` texel of a texture
    ``padded`` texels wide and high."""

    sub: tuple[int, int]
    """Steps per texel, (u, v)."""
    padded: tuple[int, int]
    """(w, h) of the texture as written (KTX2: padded to whole 4 x 4 blocks)."""

    @property
    def steps(self) -> tuple[int, int]:
        """Grid steps across the whole texture per axis (at most 65535)."""
        return (self.padded[0] * self.sub[0], self.padded[1] * self.sub[1])

    @property
    def scale(self) -> tuple[float, float]:
        """The KHR_texture_transform scale that turns the stored q / 65535 into q / steps."""
        return (65535.0 / self.steps[0], 65535.0 / self.steps[1])


def axis_sub(t: np.ndarray, size: int, max_sub: int = MAX_SUB, tol: float = GRID_TOLERANCE) -> int:
    """Steps per texel for texel coordinates ``t`` (uv * texels) along an axis of ``size``
    texels as written: the coarsest power of two up to ``max_sub`` on whose grid every value
    lies within ``tol`` texel, else the finest grid that fits 16 bits (at most ``max_sub``)."""
    if not 1 <= size <= 65535:
        raise InputError(f"an axis of {size} texels cannot be stored as 16-bit texel steps")
    finest = min(max_sub, 65535 // size)
    t = np.asarray(t, np.float64)
    sub = 1
    while sub <= finest:
        if not t.size or float(np.abs(t * sub - np.round(t * sub)).max()) <= tol * sub:
            return sub
        sub *= 2
    return finest


def uv_grid(uvs: np.ndarray, texels: tuple[int, int], padded: tuple[int, int]) -> UvGrid | None:
    """The grid for UVs (N, 2) that address a texture written ``texels`` (w, h) wide and high
    and padded to ``padded`` (KTX2's whole blocks; UVs address the unpadded texels). None when
    a UV lies outside [0, 1] (a tiling texture) or an axis is too long for 16-bit steps."""
    uvs = np.asarray(uvs, np.float64)
    if uvs.ndim != 2 or uvs.shape[1] != 2:
        raise InputError(f"UVs must be (N, 2), got {uvs.shape}")
    if min(texels) < 1 or padded[0] < texels[0] or padded[1] < texels[1]:
        raise InputError(f"a texture of {texels} texels cannot be padded to {padded}")
    if uvs.size and (not np.isfinite(uvs).all() or uvs.min() < 0.0 or uvs.max() > 1.0):
        return None
    if max(padded) > 65535:
        return None
    sub = (axis_sub(uvs[:, 0] * texels[0], padded[0]), axis_sub(uvs[:, 1] * texels[1], padded[1]))
    return UvGrid(sub, (int(padded[0]), int(padded[1])))


def quantize_uvs(uvs: np.ndarray, texels: tuple[int, int], grid: UvGrid) -> np.ndarray:
    """uint16 (N, 2): each UV's nearest grid step, ``round(uv * texels * sub)``; decoded as
    ``q / steps`` it addresses the padded texture where ``uv`` addressed the unpadded one."""
    t = np.asarray(uvs, np.float64) * (np.asarray(texels, np.float64) * np.asarray(grid.sub, np.float64))
    return np.clip(np.round(t), 0, 65535).astype(np.uint16)


def quantize_uvs_reference(uvs: np.ndarray, texels: tuple[int, int], grid: UvGrid) -> np.ndarray:
    """:func:`quantize_uvs` one value at a time, for tests."""
    out = np.zeros((len(uvs), 2), np.uint16)
    for i, uv in enumerate(uvs):
        for a in (0, 1):
            out[i, a] = min(65535, max(0, int(round(float(uv[a]) * texels[a] * grid.sub[a]))))
    return out


def decode_uvs(q: np.ndarray, grid: UvGrid) -> np.ndarray:
    """What a reader samples with: the normalised uint16 times the transform's scale (q / steps)."""
    return (np.asarray(q, np.float64) / 65535.0 * np.asarray(grid.scale)).astype(np.float32)
