"""The output fit of a learned depth model: its raw output -> metres, sky and a DepthMap.

A model's output, cropped to the painting at the model's resolution, is disparity-like (a
'relative' model: larger = nearer) or metres (a 'metric' one). :class:`ModelOutput` turns it
into metres: a small "fit map" (block means of the crop, about ``fit_side`` px long side)
carries the fit of :mod:`.fit` (sky connected to the top edge, the range mapping) and
:mod:`.scale` (the model's own ground and the camera); on the device the same fit runs batched
(:mod:`.device_fit`), and only its few numbers come back. It then builds the DepthMap: eager
(the reference path, :func:`.fit.apply_fit`) or lazy (:class:`.fit.LazyMaps`), with the
``extras`` saying how the scale was fixed. The range hint (near/far and a sky hint) comes from
the built-in prior run on a small copy (``prior_side``), or the prior's default near/far.

It holds no model and no device: :mod:`.runner` runs the model and hands it the crops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from .base import DepthMap, ModelInfo
from .device_fit import _SWEEPS, fit_pooled_torch
from .fit import (_LAZY_NAMES, DepthFit, LazyMaps, RangeHint, _fit_factors, _prior_sky, _provably_valid,
                  apply_fit, block_mean, fit_depth, fit_from_stats, scale_extras)
from .model_options import TransformersOptions
from .prior import PriorEstimator
from .scale import FitFrame, fit_frame

METRIC_MODEL_TYPES = ("zoedepth", "depth_pro", "glpn")
"""transformers model types whose output is metres even when their config does not say so."""


def output_kind(config: Any, kind: str | None = None) -> str:
    """'relative' or 'metric': ``kind`` when given, else what the model's config says."""
    if kind is not None:
        return kind
    mt = getattr(config, "model_type", "")
    if getattr(config, "depth_estimation_type", None) == "metric" or mt in METRIC_MODEL_TYPES:
        return "metric"
    return "relative"


@dataclass(frozen=True)
class ModelOutput:
    """The fit of one estimator's outputs and the DepthMaps made of them (the options of the
    moment: a call builds one)."""

    kind: str
    """'relative' (disparity-like) or 'metric' (metres)."""
    info: ModelInfo
    """The model, as DepthMaps record it."""
    input_size: int
    """Short side the model sees (recorded in the extras)."""
    options: TransformersOptions
    """``fit_side``, ``prior_side`` and ``scale`` are read here."""
    prior: PriorEstimator
    """The built-in prior: the range hint's small run, and the sky's depth."""
    host_fit: Callable[..., DepthFit] = fit_depth
    """The host fit of a fit map (:func:`.fit.fit_depth`; called with positional arguments)."""
    sweeps: int = _SWEEPS
    """Rounds of the device's sky propagation before a sky counts as not converged."""

    @property
    def sky_depth(self) -> float:
        return self.prior.options.sky_depth

    def range_hint(self, rgb: np.ndarray) -> RangeHint:
        """Near/far of the ground plane and a sky hint, from the prior run on a small copy
        (``prior_side`` px long side), or the prior's default range when ``prior_side`` is 0."""
        po = self.prior.options
        side = self.options.prior_side
        if side <= 0:
            return RangeHint(po.near, po.far, None)
        h, w = rgb.shape[:2]
        s = min(1.0, side / max(h, w))
        if s == 1.0:
            small = rgb
        else:
            k = max(1, int(1 / s) // 2)  # stride first: area-averaging 1.5 MP costs ~5x more
            small = cv2.resize(rgb[::k, ::k], (max(1, round(w * s)), max(1, round(h * s))),
                               interpolation=cv2.INTER_AREA)
        prior = self.prior.estimate_one(np.ascontiguousarray(small))
        pl = prior.depth[~prior.sky] if (~prior.sky).any() else prior.depth.ravel()
        near, far = float(np.percentile(pl, 2)), float(np.percentile(pl, 98))
        return RangeHint(near, max(far, near * 1.5), prior.sky)

    # -- the fit map ------------------------------------------------------------------------
    def fit_factors(self, nh: int, nw: int) -> tuple[int, int]:
        """Block size (kh, kw) of an (nh, nw) crop's fit map."""
        return _fit_factors(nh, nw, self.options.fit_side)

    def fit_shape(self, nh: int, nw: int) -> tuple[int, int]:
        """(h, w) of an (nh, nw) crop's fit map."""
        kh, kw = self.fit_factors(nh, nw)
        return nh // kh, nw // kw

    def frame(self, nh: int, nw: int, sh: int) -> FitFrame:
        """Rows and focal length of the ``sh``-row fit map of an (nh, nw) crop."""
        return fit_frame(nh, nw, self.fit_factors(nh, nw)[0], sh, self.options.scale.fov_deg)

    # -- the fit: on the host (reference), on the device, and the device's numbers back --------
    def fit_crop(self, crop: np.ndarray, hint: RangeHint) -> DepthFit:
        """The reference fit of one float32 (nh, nw) crop: its block-mean fit map, fitted on the host."""
        nh, nw = crop.shape
        small = block_mean(crop, *self.fit_factors(nh, nw))
        return self.host_fit(small, self.kind, hint, self.sky_depth, self.options.scale,
                             self.frame(nh, nw, small.shape[0]))

    def fit_device(self, crops: Any, hints: Sequence[RangeHint]) -> tuple[Any, Any, Any]:
        """The fit of G crops of one (nh, nw) shape on their device ((G, nh, nw) float32
        tensor, one hint each) -> (fit maps, sky masks, (G, NSTATS) statistics), device
        tensors for :meth:`fit_from_device`."""
        nh, nw = crops.shape[1:]
        kh, kw = self.fit_factors(nh, nw)
        sh, sw = self.fit_shape(nh, nw)
        rows = self.frame(nh, nw, sh).rows
        return fit_pooled_torch(crops, (kh, kw), self.kind, self.prior_skies(hints, (sh, sw)), rows,
                                self.options.scale, self.sweeps)

    def prior_skies(self, hints: Sequence[RangeHint], shape: tuple[int, int]) -> np.ndarray | None:
        """The hints' skies at the fit maps' size, stacked; None without hints (the default:
        nothing to upload)."""
        if all(h.sky is None or not h.sky.size for h in hints):
            return None
        return np.stack([_prior_sky(h, shape) for h in hints])

    def fit_from_device(self, nh: int, nw: int, stats: np.ndarray, sky: np.ndarray, small: np.ndarray,
                        hint: RangeHint) -> DepthFit:
        """One crop's fit from the device's statistics and its small sky mask (host views of
        the copied batch). A sky whose propagation had not converged in the device's rounds
        (ragged noise; no real sky) is fitted here by the reference, on the fit map ``small``."""
        frame = self.frame(nh, nw, sky.shape[0])
        if stats[3]:  # converged
            return fit_from_stats(stats, self.kind, hint, self.sky_depth, sky.copy(),  # own memory: small
                                  self.options.scale, frame.focal)
        return self.host_fit(small, self.kind, hint, self.sky_depth, self.options.scale, frame)

    # -- DepthMaps ----------------------------------------------------------------------------
    def extras(self, fit: DepthFit) -> dict:
        return {"kind": self.kind, "input_size": self.input_size} | scale_extras(fit, self.info.name)

    def depth_map(self, crop: np.ndarray, shape: tuple[int, int], fit: DepthFit) -> DepthMap:
        """The eager DepthMap (reference): full-resolution depth and sky made now."""
        depth, sky, edges = apply_fit(crop, shape, fit)
        return DepthMap(depth=depth, sky=sky, metric=self.kind == "metric", model=self.info,
                        confidence=1.0 - 0.5 * edges, edges=edges, extras=self.extras(fit))

    def lazy_map(self, crop: np.ndarray, shape: tuple[int, int], fit: DepthFit) -> DepthMap:
        """A lazy DepthMap whose arrays :class:`LazyMaps` makes from the crop and the fit."""
        return DepthMap.lazy(shape, LazyMaps(crop, shape, fit), _LAZY_NAMES, metric=self.kind == "metric",
                             model=self.info, extras=self.extras(fit), check_values=not _provably_valid(fit))
