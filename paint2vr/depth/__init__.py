"""Depth stage: painting -> DepthMap."""

from .base import DepthEstimator, DepthMap, ModelInfo
from .prior import DEFAULT_PRIOR_OPTIONS, PriorEstimator, PriorOptions

__all__ = ["DepthEstimator", "DepthMap", "ModelInfo", "PriorEstimator", "PriorOptions",
           "DEFAULT_PRIOR_OPTIONS"]
