"""Depth stage: painting -> DepthMap.

``get_estimator(None | 'prior' | registry name | local folder | hub id)`` picks an estimator;
``estimate_depth(painting)`` is the one-call convenience. torch/transformers are imported only
when a learned model is asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from ..errors import InputError, LicenseError, ModelNotFoundError
from ..painting import Painting
from .base import CameraHints, DepthEstimator, DepthMap, ModelInfo
from .model_options import DEFAULT_TRANSFORMERS_OPTIONS, TransformersOptions, check_model_options
from .files import DEFAULT_READ_DEPTH_OPTIONS, ReadDepthOptions, read_depth_file, write_depth
from .hints import DEFAULT_HINT_OPTIONS, HintOptions, prior_with_hints, scale_with_hints
from .prior import DEFAULT_PRIOR_OPTIONS, PriorEstimator, PriorOptions, detect_sky
from .registry import ModelEntry, check_license, get_entry, load_registry, local_folder, pull

log = logging.getLogger(__name__)

__all__ = ["DepthEstimator", "DepthMap", "ModelInfo", "PriorEstimator", "PriorOptions",
           "DEFAULT_PRIOR_OPTIONS", "get_estimator", "estimate_depth", "read_depth_file", "write_depth",
           "ReadDepthOptions", "DEFAULT_READ_DEPTH_OPTIONS", "detect_sky", "load_registry", "pull",
           "ModelEntry", "get_entry", "TransformersOptions", "DEFAULT_TRANSFORMERS_OPTIONS", "CameraHints",
           "DepthOptions", "DEFAULT_DEPTH_OPTIONS", "HintOptions", "DEFAULT_HINT_OPTIONS"]


def get_estimator(name_or_path: str | os.PathLike[str] | None = None, *, device: str | None = None,
                  batch_size: int | None = None, commercial: bool = False,
                  options: TransformersOptions = DEFAULT_TRANSFORMERS_OPTIONS,
                  prior: PriorOptions = DEFAULT_PRIOR_OPTIONS, hints: HintOptions | None = None) -> DepthEstimator:
    """The estimator for a name.

    - None or 'prior': the built-in :class:`PriorEstimator` (no weights).
    - a registry name (``paint2vr/depth/registry.toml``): its pulled folder under the user cache (``registry.weights_dir()/NAME``),
      else its hub id at the pinned revision (from the cache; offline fails fast).
    - an existing folder: that transformers checkpoint (safetensors only).
    - 'org/name': a hub id not in the registry (licence unknown: refused in commercial runs).

    ``options`` are the learned model's (``device``/``batch_size``, when given, replace theirs;
    a registry entry's input size and kind fill those left unset); ``prior`` the built-in's;
    ``hints`` (a designer's, :class:`HintOptions`), when given, replace the hint fields of both
    (the prior's, and the learned model's scale). Options are checked before anything is loaded.

    Raises:
        OptionError: a bad option. LicenseError: ``commercial`` and the model's licence
        forbids or does not state it. ModelNotFoundError, UnsafeModelError: see
        :mod:`.transformers_backend`.
    """
    if hints is not None:
        prior = prior_with_hints(prior, hints)
        options = dataclasses.replace(options, scale=scale_with_hints(options.scale, hints))
    if name_or_path is None or str(name_or_path) in ("", "prior"):
        return PriorEstimator(prior)
    name = str(name_or_path)
    changes = {k: v for k, v in (("device", device), ("batch_size", batch_size)) if v is not None}
    opts = dataclasses.replace(options, **changes) if changes else options
    check_model_options(opts)
    registry = load_registry()
    from .transformers_backend import TransformersEstimator
    if name in registry:
        e = registry[name]
        check_license(e, commercial)
        info = ModelInfo(name=e.name, revision=e.revision, license=e.license, commercial=e.commercial_use)
        opts = dataclasses.replace(opts, input_size=opts.input_size or e.input_size, kind=opts.kind or e.kind)
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


from .stage import DEFAULT_DEPTH_OPTIONS, DepthOptions  # noqa: E402  (the stage uses get_estimator)
