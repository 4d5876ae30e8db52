"""Texture GPU memory as a standalone headset stores it.

JPEG, PNG and WebP are decoded to RGBA8 (4 bytes a texel) and the viewer builds the full
mip chain. KTX2 / Basis textures stay block-compressed: three.js's KTX2Loader transcodes
ETC1S to ETC1 (8 bytes per 4x4 block) when opaque, ETC2 RGBA (16 bytes a block) with alpha,
and UASTC to ASTC 4x4 (16 bytes a block) on a Quest; the file carries its mip levels.
"""

from __future__ import annotations

from .ktx2 import Ktx2Info


def mip_sizes(width: int, height: int, levels: int | None = None) -> list[tuple[int, int]]:
    """(w, h) of each mip level down to 1 x 1 (or the first ``levels``)."""
    out = [(max(1, width), max(1, height))]
    while out[-1] != (1, 1) and (levels is None or len(out) < levels):
        w, h = out[-1]
        out.append((max(1, w // 2), max(1, h // 2)))
    return out


def rgba8_bytes(width: int, height: int) -> int:
    """GPU bytes of a decoded image (JPEG/PNG/WebP): RGBA8 with a full mip chain."""
    return sum(w * h * 4 for w, h in mip_sizes(width, height))


def ktx2_bytes(info: Ktx2Info) -> int:
    """GPU bytes of a KTX2 texture in the block format a Quest transcodes it to, its mips included."""
    block = 8 if info.codec == "etc1s" and not info.has_alpha else 16
    if info.codec == "other":
        block = 64  # unknown payloads: counted as uncompressed RGBA8 (4 x 4 texels x 4 bytes)
    return sum(-(-w // 4) * -(-h // 4) * block for w, h in mip_sizes(info.width, info.height, info.levels))


def mib(n: int) -> float:
    return n / 2**20
