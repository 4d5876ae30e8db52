"""Learned depth through Hugging Face ``transformers`` (AutoModelForDepthEstimation).

Works with any checkpoint that class loads: Depth Anything (V1/V2, relative and metric),
DPT / MiDaS, ZoeDepth, Depth Pro, GLPN. :class:`TransformersEstimator` is a thin
composition of the parts listed below.

Safety: weights are loaded with ``use_safetensors=True`` and ``trust_remote_code=False``; a
folder holding only pickled weights (``pytorch_model.bin``, ``.pt``, ``.ckpt``, ``.pth``) is
refused with :class:`UnsafeModelError` because unpickling runs arbitrary code.

Offline: with ``HF_HUB_OFFLINE`` set, or no route to the hub, a model that is neither a local
folder nor in the cache fails at once with :class:`ModelNotFoundError` naming
``paint2vr models pull NAME``.

Parts, each in its own module, composed here:

* :mod:`.hub` (with :mod:`.model_checks`): resolution of a folder or hub id, safety checks
  and loading;
* :mod:`.model_options`: the options, checked (with :func:`.scale.check_scale_options`)
  before anything is resolved or loaded;
* :mod:`.runner`: the device runner (device and dtype, the input geometry, preprocessing,
  batches, streams, the forward pass; the fast path and its numpy/cv2 reference);
* :mod:`.model_output`: the output fit (relative -> metric through :mod:`.fit`,
  :mod:`.device_fit` and :mod:`.scale`; sky; the DepthMaps and their extras).

Relative -> metric: relative models output disparity-like values d (larger = nearer). We
assume ``d = a / z + b``; a, b come from the model's own ground and the camera's geometry
(:mod:`.scale`, options ``scale``), or when no ground is found from the range mapping: the
98th / 2nd percentiles of d over land onto the near / far ends of the land depth range (the
built-in prior run on a small copy, ``prior_side`` px, or the prior's default near/far when
``prior_side`` is 0). Depth is ``z = a / (d - b)``, clipped. The result is marked
``metric=False``; ``extras['scale']`` says which method fixed it. Metric models' metres are
used as they are (``metric=True``).

Sky: models have no sky output. Sky = low-disparity pixels connected to the top edge, joined
with the prior's sky where the model also sees the region as far. The fit (sky and the
percentiles) is made on a small "fit map" (block means of the cropped model output, about
``fit_side`` px long side); the sky mask is then upsampled bilinearly and thresholded at 0.5.

:meth:`TransformersEstimator.estimate` is the fast path (:meth:`.runner.ModelRunner.run`:
batched, pipelined, lazy maps); :meth:`TransformersEstimator.estimate_reference` is its slow
numpy/cv2 version, one painting at a time, with eager maps.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from ..errors import InputError  # noqa: F401  (re-exported)
from .base import DepthMap, ModelInfo, edge_strength
from .device_fit import _SWEEPS, fit_depth_device, fit_depth_torch, top_connected_torch
from .fit import (DepthFit, LazyMaps, RangeHint, _fit_factors, _provably_valid,  # noqa: F401  (re-exported)
                  apply_fit, block_mean, derive_sky, fit_depth)
from .hub import PICKLE_SUFFIXES, check_folder, load_checkpoint, read_model_json  # noqa: F401  (re-exported)
from .model_options import DEFAULT_TRANSFORMERS_OPTIONS, TransformersOptions, check_model_options
from .model_output import ModelOutput, output_kind
from .prior import PriorEstimator
from .runner import ModelRunner, Plan, pick_device
from .scale import check_scale_options


class TransformersEstimator:
    """A transformers depth model behind the :class:`DepthEstimator` interface: its checkpoint
    (:mod:`.hub`), its device runner (:attr:`runner`) and its output fit (:meth:`output`)."""

    def __init__(self, source: str | os.PathLike[str], *, revision: str = "main", info: ModelInfo | None = None,
                 options: TransformersOptions = DEFAULT_TRANSFORMERS_OPTIONS, pull_name: str | None = None) -> None:
        check_model_options(options)  # before anything is resolved or loaded
        check_scale_options(options.scale)
        ck = load_checkpoint(str(source), revision, pull_name)  # resolution and safety: .hub
        self.config, self.model, self.proc = ck.config, ck.model, ck.proc
        self.runner = ModelRunner(ck.model, ck.config, ck.proc, options)
        self.kind = output_kind(ck.config, options.kind)
        self.info = info or ModelInfo(name=ck.source, revision=revision if not ck.local else "local",
                                      license="unknown", commercial=False)
        self._prior = PriorEstimator()

    @property
    def options(self) -> TransformersOptions:
        """The options; the runner and the output fit read them when used."""
        return self.runner.options

    @options.setter
    def options(self, options: TransformersOptions) -> None:
        self.runner.options = options

    @property
    def device(self) -> str:
        return self.runner.device

    @property
    def dtype(self) -> Any:
        return self.runner.dtype

    @property
    def input_size(self) -> int:
        return self.runner.input_size

    def output(self) -> ModelOutput:
        """The output fit for the current options."""
        return ModelOutput(self.kind, self.info, self.input_size, self.options, self._prior, fit_depth, _SWEEPS)

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """Depth of each painting: batched, pipelined, lazy maps (:meth:`.runner.ModelRunner.run`)."""
        return self.runner.run(images, self.output(), self._prepare_torch)

    def estimate_reference(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """Slow, obvious version of :meth:`estimate` (cv2, numpy, one painting at a time, eager
        maps); the tests check the fast path against it."""
        return self.runner.reference(images, self.output())

    def raw(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Model output per image at full resolution (disparity or metres), float32."""
        return self.runner.raw(images)

    # the parts' steps by their former names (tests and tools call and swap them)
    def _plan(self, h: int, w: int) -> Plan:
        return self.runner.plan(h, w)

    def _prepare(self, rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        return self.runner.prepare(rgb)

    def _prepare_torch(self, img: Any, p: Plan) -> Any:
        return self.runner.prepare_torch(img, p)

    def _batches(self, plans: list[Plan]) -> list[list[int]]:
        return self.runner.batches(plans)

    def _hint(self, rgb: np.ndarray) -> RangeHint:
        return self.output().range_hint(rgb)


__all__ = ["TransformersEstimator", "TransformersOptions", "DEFAULT_TRANSFORMERS_OPTIONS", "check_folder",
           "derive_sky", "pick_device", "fit_depth", "apply_fit", "block_mean", "edge_strength", "DepthFit",
           "RangeHint", "LazyMaps", "fit_depth_torch", "fit_depth_device", "top_connected_torch",
           "ModelRunner", "ModelOutput"]
