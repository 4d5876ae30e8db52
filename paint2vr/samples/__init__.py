"""Synthetic painterly scenes with known depth, and the project's sample painting.

``python -m paint2vr.samples assets/`` regenerates ``sample_painting.png``,
``sample_depth.npy`` and ``sample_depth.png`` byte-identically.
"""

from __future__ import annotations

import io
import os
from pathlib import Path


from ..errors import InputError
from ..io.atomic import write_atomic
from .scenes import KINDS, MAX_GROUND, SKY_DEPTH, make_scene

SAMPLE_SIZE = (1024, 683)
"""(width, height) of the sample painting."""
SAMPLE_KIND = "landscape"
SAMPLE_SEED = 7

__all__ = ["KINDS", "MAX_GROUND", "SKY_DEPTH", "SAMPLE_SIZE", "make_scene", "write_sample"]


def write_sample(assets_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write sample_painting.png, sample_depth.npy (metres, sky = inf) and sample_depth.png
    (16-bit log depth, see :mod:`paint2vr.depth.files`) into ``assets_dir``; returns the paths."""
    from PIL import Image

    from ..depth.base import DepthMap, ModelInfo
    from ..depth.files import write_depth

    d = Path(assets_dir)
    if d.exists() and not d.is_dir():
        raise InputError(f"{d} is not a folder")
    d.mkdir(parents=True, exist_ok=True)
    rgb, depth, sky = make_scene(SAMPLE_KIND, *SAMPLE_SIZE, seed=SAMPLE_SEED)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", optimize=False)
    out = {"painting": d / "sample_painting.png", "depth_npy": d / "sample_depth.npy",
           "depth_png": d / "sample_depth.png"}
    write_atomic(out["painting"], buf.getvalue())
    dm = DepthMap(depth=depth, sky=sky, metric=True,
                  model=ModelInfo(name=f"samples:{SAMPLE_KIND}:{SAMPLE_SEED}", license="Apache-2.0"))
    write_depth(dm, out["depth_npy"])
    write_depth(dm, out["depth_png"])
    return out
