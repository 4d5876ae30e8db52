"""The depth interface every estimator implements, and the DepthMap it returns."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

import cv2
import numpy as np

from ..errors import InputError


@dataclass(frozen=True)
class ModelInfo:
    """What produced a depth map; recorded in provenance."""

    name: str
    """Registry name, local path or 'prior'."""
    revision: str = ""
    """Hub revision (commit) or version of the estimator."""
    license: str = ""
    """Licence of the weights as the model card states it."""
    commercial: bool = True
    """Whether the licence allows commercial use."""


@dataclass(eq=False)
class DepthMap:
    """Per-pixel depth for one painting, at the painting's full resolution.

    Attributes:
        depth: (H, W) float32 metres along the camera's view axis, nearer = smaller; finite
            everywhere (sky pixels hold the backdrop distance).
        sky: (H, W) bool, True for pixels at infinity.
        metric: True if the estimator claims metres; False if the scale was assumed.
        model: what made it.
        confidence: optional float32 in [0, 1], (H, W) or a lower resolution of the same
            image (a model's own output size); consumers resize it.
        edges: optional float32 in [0, 1], strength of occlusion edges; (H, W) or lower
            resolution, like ``confidence``.
    """

    depth: np.ndarray
    sky: np.ndarray
    metric: bool
    model: ModelInfo
    confidence: np.ndarray | None = None
    edges: np.ndarray | None = None
    extras: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = self.depth
        if not isinstance(d, np.ndarray) or d.ndim != 2 or d.dtype != np.float32:
            raise InputError(f"DepthMap.depth must be float32 (H, W), got "
                             f"{getattr(d, 'dtype', type(d).__name__)} {getattr(d, 'shape', '')}")
        if not np.isfinite(d).all() or (d <= 0).any():
            raise InputError("DepthMap.depth must be finite and > 0 everywhere")
        if self.sky.shape != d.shape or self.sky.dtype != bool:
            raise InputError(f"DepthMap.sky must be bool {d.shape}, got {self.sky.dtype} {self.sky.shape}")
        for name in ("confidence", "edges"):
            a = getattr(self, name)
            if a is not None and (not isinstance(a, np.ndarray) or a.ndim != 2 or min(a.shape) < 1):
                raise InputError(f"DepthMap.{name} must be a 2-D array, got "
                                 f"{getattr(a, 'shape', type(a).__name__)}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.depth.shape  # type: ignore[return-value]

    def _repr_png_(self) -> bytes:
        from PIL import Image
        d = np.log(self.depth)
        lo, hi = float(d.min()), float(d.max())
        g = ((hi - d) / max(hi - lo, 1e-6) * 255).astype(np.uint8)
        g[self.sky] = 0
        img = Image.fromarray(g)
        img.thumbnail((512, 512))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def __repr__(self) -> str:
        d = self.depth[~self.sky] if (~self.sky).any() else self.depth
        return (f"DepthMap({self.shape[1]}x{self.shape[0]}, {float(d.min()):.2f}-{float(d.max()):.2f} m, "
                f"sky {self.sky.mean():.0%}, {'metric' if self.metric else 'relative'}, model={self.model.name})")


@runtime_checkable
class DepthEstimator(Protocol):
    """A batch of paintings in, one :class:`DepthMap` per painting out (full resolution)."""

    info: ModelInfo

    def estimate(self, images: Sequence[np.ndarray]) -> list[DepthMap]:
        """``images``: (H, W, 3) uint8 arrays, sizes may differ."""
        ...


def edge_strength(logd: np.ndarray) -> np.ndarray:
    """Occlusion-edge strength in [0, 1]: the log-depth range in a 3x3 window, 1 at a 40 % jump."""
    if min(logd.shape) < 2:
        return np.zeros(logd.shape, np.float32)
    k = np.ones((3, 3), np.uint8)
    jump = cv2.dilate(logd, k) - cv2.erode(logd, k)
    return np.clip(jump / math.log(1.4), 0.0, 1.0).astype(np.float32)
