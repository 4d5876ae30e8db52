"""Texture GPU memory of a scene as it will be written, and fitting it to a profile's budget.

Counted before encoding, from each texture's written size and alpha: RGBA8 with mips for
JPEG/PNG/WebP, the block format a Quest transcodes KTX2 to (see
:mod:`paint2vr.codecs.gpu_memory`). With the ``auto`` KTX2 mode an opaque texture may turn
out UASTC (16 bytes a block instead of ETC1's 8), so the budget counts 16 for it: the file
always fits; ``paint2vr inspect`` reports what it actually holds.
"""

from __future__ import annotations

import logging

import numpy as np

from ..codecs.gpu_memory import ktx2_bytes, mib, mip_sizes, rgba8_bytes
from ..codecs.ktx2 import Ktx2Info
from ..errors import BudgetError
from ..scene import Scene
from .fit import Fitted, written_meshes
from .gltf import block_size, texture_size
from .profiles import Profile

log = logging.getLogger(__name__)
MIN_TEXTURE = 256
"""Textures are never shrunk below this many pixels (longer side) to meet a budget."""


def texture_gpu_bytes(scene: Scene, fitted: Fitted | None, limit: int, fmt: str, ktx2_mode: str = "etc1s") -> int:
    """GPU bytes of the scene's distinct textures written at ``limit`` px in format ``fmt``."""
    total, seen = 0, set()
    for mesh in written_meshes(scene, fitted):
        tex = mesh.texture
        if tex is None or mesh.is_points or id(tex) in seen:
            continue
        seen.add(id(tex))
        w, h = texture_size(tex.shape, limit)
        if fmt != "ktx2":
            total += rgba8_bytes(w, h)
            continue
        w, h = block_size((w, h))
        alpha = tex.shape[2] == 4 and bool(np.any(tex[..., 3] < 255))
        codec = "uastc" if ktx2_mode != "etc1s" else "etc1s"
        total += ktx2_bytes(Ktx2Info(w, h, len(mip_sizes(w, h)), codec, alpha))  # type: ignore[arg-type]
    return total


def fit_texture_memory(scene: Scene, fitted: Fitted | None, profile: Profile, limit: int, fmt: str,
                       ktx2_mode: str, reduce: bool) -> int:
    """The texture limit (px) at which the scene's textures fit the profile's GPU-memory budget:
    ``limit`` halved (not below MIN_TEXTURE) while over it, or BudgetError naming the budget."""
    if not profile.max_texture_mib:
        return limit
    budget = profile.max_texture_mib * 2**20
    while (used := texture_gpu_bytes(scene, fitted, limit, fmt, ktx2_mode)) > budget:
        if not reduce or limit <= MIN_TEXTURE:
            raise BudgetError(f"textures take {mib(used):.1f} MiB of GPU memory, over the {profile.name} "
                              f"texture-memory budget of {profile.max_texture_mib:g} MiB",
                              hint="allow reduction (--reduce), lower --texture-size, use KTX2 textures "
                                   "(--texture-format ktx2) or pick --profile desktop")
        log.info("textures %.1f MiB over %g MiB; %d -> %d px", mib(used), profile.max_texture_mib,
                 limit, max(MIN_TEXTURE, limit // 2))
        limit = max(MIN_TEXTURE, limit // 2)
    return limit
