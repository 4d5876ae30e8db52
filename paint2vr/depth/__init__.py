"""Depth stage: painting -> DepthMap.

``get_estimator(None | 'prior' | registry name | local folder | hub id)`` picks an estimator;
``estimate_depth(painting)`` is the one-call convenience. torch/transformers are imported only
when a learned model is asked for.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..errors import InputError, LicenseError, ModelNotFoundError
from ..painting import Painting
from .base import DepthEstimator, DepthMap, ModelInfo
from .files import DEFAULT_READ_DEPTH_OPTIONS, ReadDepthOptions, read_depth_file, write_depth
from .prior import DEFAULT_PRIOR_OPTIONS, PriorEstimator, PriorOptions, detect_sky
from .registry import ModelEntry, check_license, get_entry, load_registry, local_folder, pull

log = logging.getLogger(__name__)

__all__ = ["DepthEstimator", "DepthMap", "ModelInfo", "PriorEstimator", "PriorOptions",
           "DEFAULT_PRIOR_OPTIONS", "get_estimator", "estimate_depth", "read_depth_file", "write_depth",
           "ReadDepthOptions", "DEFAULT_READ_DEPTH_OPTIONS", "detect_sky", "load_registry", "pull",
           "ModelEntry", "get_entry"]


def get_estimator(name_or_path: str | os.PathLike[str] | None = None, *, device: str = "auto",
                  batch_size: int = 4, commercial: bool = False) -> DepthEstimator:
    """The estimator for a name.

    - None or 'prior': the built-in :class:`PriorEstimator` (no weights).
    - a registry name (``paint2vr/depth/registry.toml``): its pulled folder under the user cache (``registry.weights_dir()/NAME``),
      else its hub id at the pinned revision (from the cache; offline fails fast).
    - an existing folder: that transformers checkpoint (safetensors only).
    - 'org/name': a hub id not in the registry (licence unknown: refused in commercial runs).

    Raises:
        LicenseError: ``commercial`` and the model's licence forbids or does not state it.
        ModelNotFoundError, UnsafeModelError: see :mod:`.transformers_backend`.
    """
    if name_or_path is None or str(name_or_path) in ("", "prior"):
        return PriorEstimator()
    name = str(name_or_path)
    from .transformers_backend import TransformersEstimator, TransformersOptions
    opts = TransformersOptions(device=device, batch_size=batch_size)
    registry = load_registry()
    if name in registry:
        e = registry[name]
        check_license(e, commercial)
        info = ModelInfo(name=e.name, revision=e.revision, license=e.license, commercial=e.commercial_use)
        opts = TransformersOptions(device=device, batch_size=batch_size, input_size=e.input_size, kind=e.kind)
        folder = local_folder(name)
        src = str(folder) if folder is not None else e.hub_id
        return TransformersEstimator(src, revision=e.revision, info=info, options=opts, pull_name=name)
    p = Path(name).expanduser()
    if p.is_dir():
        if commercial:
            log.warning("%s: local model of unknown licence used in a commercial run", p)
        info = ModelInfo(name=str(p), revision="local", license="unknown (local folder)", commercial=True)
        return TransformersEstimator(p, info=info, options=opts)
    if name.count("/") == 1 and not p.exists() and not name.startswith((".", "/")):
        if commercial:
            raise LicenseError(f"hub model {name!r} is not in the registry, so its licence is unknown",
                               hint="add it to paint2vr/depth/registry.toml with its licence, or drop --commercial")
        return TransformersEstimator(name, info=ModelInfo(name=name, revision="main", license="unknown",
                                                          commercial=False), options=opts)
    raise ModelNotFoundError(f"no depth model {name!r}: not 'prior', not in the registry and not a folder",
                             hint=f"known models: prior, {', '.join(sorted(registry))}")


def estimate_depth(painting: Painting | np.ndarray, estimator: DepthEstimator | None = None) -> DepthMap:
    """Depth of one painting (a :class:`Painting` or an (H, W, 3) uint8 array); prior by default."""
    rgb = painting.rgb if isinstance(painting, Painting) else painting
    if not isinstance(rgb, np.ndarray):
        raise InputError(f"estimate_depth needs a Painting or an (H, W, 3) uint8 array, got {type(painting).__name__}")
    est = estimator if estimator is not None else PriorEstimator()
    return est.estimate([rgb])[0]
