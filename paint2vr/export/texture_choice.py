"""Which KTX2 textures get UASTC: the ones the start view shows most error of per byte.

ETC1S (small) is the first encoding of every texture; UASTC (near-lossless, 1.5-5x the bytes)
replaces it where it buys the most of the start view's quality. A texture's weight is the
share of the start view it is frontmost in (occlusion and cut-outs included: a layer behind
another counts only where it shows), so the view's squared error from textures is about
``sum(share * etc1s_mse)``. Greedily, by squared error removed per added byte, textures are
upgraded within a byte budget (a fraction of the ETC1S texture bytes, which keeps the quest
file well under a third of the desktop's) until the predicted texture PSNR of the start view
reaches a target. UASTC is encoded only for the textures picked: its error is taken as a
constant near-lossless level and its size estimated from the block count; the actual bytes
are checked against the budget afterwards (:func:`within_budget`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..codecs.ktx2 import DEFAULT_KTX2_OPTIONS, decode_ktx2
from ..errors import InputError
from ..render import start_view_coverage
from ..scene import Mesh, Node, Scene

if TYPE_CHECKING:
    from .gltf import GltfOptions

Encoder = Callable[[list[np.ndarray], "GltfOptions", "list[bool] | None"], list[tuple[bytes, str]]]
"""The writer's texture encoder (``gltf.encode_textures``), passed in: gltf imports this module."""


@dataclass(frozen=True)
class TextureChoiceOptions:
    """How the quest export chooses UASTC textures (KTX2 mode auto)."""

    budget_fraction: float = 0.4
    """UASTC may add at most this fraction of all textures' ETC1S bytes (0: ETC1S only, except the floor). From the size target (quest <= 1/3 of desktop) with margin: textures are 40-60 % of a quest file, and the shared paintings' ETC1S quest files are 3.7-9.8x smaller than the desktop's; 40 % more texture bytes keeps the closest (3.7x, textures 41 %) above 3.1x."""
    target_psnr: float = 34.0
    """Stop upgrading once the predicted PSNR (dB) of the start view's texture error reaches this (the whole view, geometry included, measures 1-5 dB lower)."""
    floor_psnr: float = DEFAULT_KTX2_OPTIONS.auto_min_psnr
    """A shown texture whose ETC1S PSNR (dB, over its opaque texels) is below this gets UASTC whatever the budget (the writer passes its KTX2 options' auto_min_psnr)."""
    uastc_psnr: float = 38.0
    """Assumed PSNR (dB) of UASTC level 1 (measured 37.3-41.6 on layers, 41.9-47.7 on opaque textures)."""
    uastc_block_bytes: float = 10.0
    """Estimated UASTC bytes per 4x4 block of level 0, mips and zstd included (measured 6.8-10 on layers with alpha, 18-21 on opaque textures): orders the candidates; the actual bytes decide the budget."""
    coverage_width: int = 128
    """Width (px) of the start-view render that measures each texture's share (128: 0.3-0.4 CPU s on a 240k-triangle scene, most of it per triangle; shares within a few % of 192 px)."""


DEFAULT_TEXTURE_CHOICE_OPTIONS = TextureChoiceOptions()


@dataclass(frozen=True)
class Candidate:
    """One texture as the choice sees it."""

    view_share: float
    """Fraction of the start view's pixels that show this texture (0-1)."""
    etc1s_bytes: int
    etc1s_mse: float
    """Mean squared error of the ETC1S colour over the opaque texels (8-bit units)."""
    uastc_bytes: float
    """UASTC bytes: estimated before it is encoded, actual after."""


def check_choice_options(options: TextureChoiceOptions) -> None:
    if not 0 <= options.budget_fraction <= 10:
        raise InputError(f"budget_fraction must be within [0, 10], got {options.budget_fraction}")
    for name in ("target_psnr", "floor_psnr", "uastc_psnr"):
        v = getattr(options, name)
        if not (math.isfinite(v) and 0 < v < 100):
            raise InputError(f"{name} must be a PSNR within (0, 100) dB, got {v}")
    if not options.uastc_block_bytes > 0:
        raise InputError(f"uastc_block_bytes must be > 0, got {options.uastc_block_bytes}")
    if options.coverage_width < 8:
        raise InputError(f"coverage_width must be >= 8, got {options.coverage_width}")


def mse_at(psnr_db: float) -> float:
    return 255.0 ** 2 / 10 ** (psnr_db / 10)


def predicted_psnr(shares: np.ndarray, mse: np.ndarray) -> float:
    """PSNR (dB) of the start view's texture error: ``sum(share * mse)`` as its mean."""
    total = float(np.dot(shares, mse))
    return math.inf if total <= 0 else 10 * math.log10(255.0 ** 2 / total)


def _check(cands: Sequence[Candidate]) -> None:
    for c in cands:
        if not (0 <= c.view_share <= 1 and c.etc1s_bytes >= 0 and c.uastc_bytes >= 0
                and math.isfinite(c.etc1s_mse) and c.etc1s_mse >= 0):
            raise InputError(f"a texture candidate needs a share in [0, 1], bytes >= 0 and a finite MSE >= 0, got {c}")


def _gain_cost(cands: Sequence[Candidate], options: TextureChoiceOptions) -> tuple[np.ndarray, np.ndarray]:
    """Squared error removed from the start view (share-weighted) and bytes added, per texture."""
    share = np.array([c.view_share for c in cands], float)
    mse = np.array([c.etc1s_mse for c in cands], float)
    gain = share * np.maximum(mse - mse_at(options.uastc_psnr), 0.0)
    cost = np.array([max(c.uastc_bytes - c.etc1s_bytes, 1.0) for c in cands], float)
    return gain, cost


def choose_uastc(cands: Sequence[Candidate], options: TextureChoiceOptions = DEFAULT_TEXTURE_CHOICE_OPTIONS
                 ) -> list[int]:
    """Indices of the textures to encode as UASTC, in the order they were picked: first the
    shown ones below ``floor_psnr``, then greedily by gain per added byte while the added
    bytes fit the budget and the predicted PSNR is below the target (one that does not fit
    is skipped, a cheaper one may still)."""
    check_choice_options(options)
    _check(cands)
    if not cands:
        return []
    gain, cost = _gain_cost(cands, options)
    share = np.array([c.view_share for c in cands], float)
    mse = np.array([c.etc1s_mse for c in cands], float)
    budget = options.budget_fraction * sum(c.etc1s_bytes for c in cands)
    floor = [i for i in range(len(cands)) if share[i] > 0 and mse[i] > mse_at(options.floor_psnr)]
    picked, spent = list(floor), float(cost[floor].sum())
    mse[floor] = np.minimum(mse[floor], mse_at(options.uastc_psnr))
    for i in np.argsort(-gain / cost, kind="stable"):
        if predicted_psnr(share, mse) >= options.target_psnr:
            break
        if i in picked or gain[i] <= 0 or spent + cost[i] > budget:
            continue
        picked.append(int(i))
        spent += cost[i]
        mse[i] = min(mse[i], mse_at(options.uastc_psnr))
    return picked


def choose_uastc_reference(cands: Sequence[Candidate],
                           options: TextureChoiceOptions = DEFAULT_TEXTURE_CHOICE_OPTIONS) -> list[int]:
    """Slow, obvious :func:`choose_uastc`: each step scans every texture for the best one left."""
    check_choice_options(options)
    _check(cands)
    uastc_mse = 255.0 ** 2 / 10 ** (options.uastc_psnr / 10)
    floor_mse = 255.0 ** 2 / 10 ** (options.floor_psnr / 10)
    budget = options.budget_fraction * sum(c.etc1s_bytes for c in cands)
    mse = [c.etc1s_mse for c in cands]
    picked = [i for i, c in enumerate(cands) if c.view_share > 0 and c.etc1s_mse > floor_mse]
    spent = 0.0
    for i in picked:
        spent += max(cands[i].uastc_bytes - cands[i].etc1s_bytes, 1.0)
        mse[i] = min(mse[i], uastc_mse)
    while True:
        total = sum(c.view_share * m for c, m in zip(cands, mse))
        if total <= 0 or 10 * math.log10(255.0 ** 2 / total) >= options.target_psnr:
            return picked
        best, best_slope = None, -1.0
        for i, c in enumerate(cands):
            cost = max(c.uastc_bytes - c.etc1s_bytes, 1.0)
            gain = c.view_share * max(c.etc1s_mse - uastc_mse, 0.0)
            if i in picked or gain <= 0 or spent + cost > budget:
                continue
            if gain / cost > best_slope:
                best, best_slope = i, gain / cost
        if best is None:
            return picked
        picked.append(best)
        spent += max(cands[best].uastc_bytes - cands[best].etc1s_bytes, 1.0)
        mse[best] = min(mse[best], uastc_mse)


def within_budget(cands: Sequence[Candidate], picked: Sequence[int],
                  options: TextureChoiceOptions = DEFAULT_TEXTURE_CHOICE_OPTIONS) -> list[int]:
    """The picks kept once their actual UASTC bytes are known (``cands[i].uastc_bytes``): the
    floor's always, the others in pick order while the added bytes fit the budget."""
    check_choice_options(options)
    _check(cands)
    floor_mse = mse_at(options.floor_psnr)
    budget = options.budget_fraction * sum(c.etc1s_bytes for c in cands)
    kept, spent = [], 0.0
    for i in picked:
        c = cands[i]
        added = c.uastc_bytes - c.etc1s_bytes
        is_floor = c.view_share > 0 and c.etc1s_mse > floor_mse
        if is_floor or spent + added <= budget:
            kept.append(i)
            spent += added
    return kept


def view_shares(scene: Scene, textures: Sequence[np.ndarray], mesh_of: Callable[[Node], Mesh | None],
                width: int = DEFAULT_TEXTURE_CHOICE_OPTIONS.coverage_width) -> list[float]:
    """Fraction of the start view's pixels in which each texture is the frontmost one drawn
    (``mesh_of``: the mesh written for a node). Textures are matched by identity."""
    px: dict[int, int] = {}
    total = 0
    for _node, mesh, n in start_view_coverage(scene, width, mesh_of=mesh_of):
        total += n
        if mesh.texture is not None and not mesh.is_points:
            px[id(mesh.texture)] = px.get(id(mesh.texture), 0) + n
    return [px.get(id(t), 0) / total if total else 0.0 for t in textures]


def _etc1s_mse(tex: np.ndarray, data: bytes, max_texture: int) -> float:
    """MSE of the ETC1S file's colour (as a Quest samples it) over ``tex``'s opaque texels.
    Partly transparent ones are left out: the encoder's input has edge colours bled into
    them (export.gltf), so against ``tex`` they would count a difference ETC1S did not make
    (Breezing Up's layer1: 29.76 dB over alpha > 0, 30.68 over alpha 255 either way)."""
    from .gltf import _resize, texture_size

    size = texture_size(tex.shape, max_texture)
    ref = tex if size == (tex.shape[1], tex.shape[0]) else _resize(tex, size)
    got = decode_ktx2(data)[: ref.shape[0], : ref.shape[1], :3].astype(np.float32)
    err = ((got - ref[..., :3]) ** 2).mean(axis=2)
    shown = ref[..., 3] == 255 if ref.shape[2] == 4 else np.ones(err.shape, bool)
    return float(err[shown].mean()) if shown.any() else 0.0


def encode_chosen(textures: list[np.ndarray], shares: Sequence[float], options: "GltfOptions",
                  encode: Encoder, choice: TextureChoiceOptions = DEFAULT_TEXTURE_CHOICE_OPTIONS,
                  mipmaps: list[bool] | None = None) -> list[tuple[bytes, str]]:
    """KTX2 auto mode by the start view: every texture ETC1S, then UASTC for those
    :func:`choose_uastc` picks (encoded only for them) and :func:`within_budget` keeps.
    Only textures the view shows are measured (a transcode each). ``mipmaps``: each texture's
    (default all)."""
    choice = replace(choice, floor_psnr=options.ktx2.auto_min_psnr)
    check_choice_options(choice)
    if len(shares) != len(textures):
        raise InputError(f"one view share per texture: {len(textures)} textures, {len(shares)} shares")
    mips = mipmaps if mipmaps is not None else [True] * len(textures)
    etc1s = encode(textures, replace(options, ktx2=replace(options.ktx2, mode="etc1s")), mips)
    from .gltf import block_size, texture_size

    cands = []
    for tex, share, (data, _mime) in zip(textures, shares, etc1s):
        bw, bh = block_size(texture_size(tex.shape, options.max_texture))
        cands.append(Candidate(view_share=float(share), etc1s_bytes=len(data),
                               etc1s_mse=_etc1s_mse(tex, data, options.max_texture) if share > 0 else 0.0,
                               uastc_bytes=choice.uastc_block_bytes * bw * bh / 16))
    picked = choose_uastc(cands, choice)
    if not picked:
        return etc1s
    uastc = encode([textures[i] for i in picked], replace(options, ktx2=replace(options.ktx2, mode="uastc")),
                   [mips[i] for i in picked])
    actual = list(cands)
    for i, (data, _mime) in zip(picked, uastc):
        actual[i] = replace(cands[i], uastc_bytes=len(data))
    out = list(etc1s)
    for i in within_budget(actual, picked, choice):
        out[i] = uastc[picked.index(i)]
    return out
