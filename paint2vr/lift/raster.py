"""Rasters over the padded frame (the painting plus its margins) and index helpers."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class FrameRaster:
    """A raster covering the padded frame: pixel (i, j) centre <-> painting pixel coords."""

    w: int
    h: int
    mx: int
    """Margin columns on each side."""
    my: int
    sx: float
    """Raster pixels per painting pixel, horizontally."""
    sy: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1): the raster's extent in painting pixel coordinates."""
        return (-self.mx / self.sx, -self.my / self.sy, (self.w - self.mx) / self.sx, (self.h - self.my) / self.sy)

    @property
    def inner(self) -> tuple[int, int]:
        """(width, height) of the painting inside the margins."""
        return self.w - 2 * self.mx, self.h - 2 * self.my

    def to_painting(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (col + 0.5 - self.mx) / self.sx, (row + 0.5 - self.my) / self.sy


def frame_raster(width: int, height: int, scale: float, margin: float) -> FrameRaster:
    """The raster of a ``width`` x ``height`` painting at ``scale``, ``margin`` (share of the
    scaled painting) added on every side."""
    iw, ih = max(1, round(width * scale)), max(1, round(height * scale))
    mx, my = round(margin * iw), round(margin * ih)
    return FrameRaster(iw + 2 * mx, ih + 2 * my, mx, my, iw / width, ih / height)


def resize(a: np.ndarray, w: int, h: int, interp: int) -> np.ndarray:
    """``cv2.resize`` to (w, h), or ``a`` itself when it already has that size."""
    if a.shape[1] == w and a.shape[0] == h:
        return a
    return cv2.resize(a, (w, h), interpolation=interp)


def nearest_index(src: int, dst: int) -> np.ndarray:
    """Source index of each of ``dst`` samples in cv2.resize's INTER_NEAREST from ``src``
    (floor(x * src / dst), as OpenCV computes it), so a crop of a nearest-neighbour resize
    can be taken without resizing the whole image."""
    return np.minimum(np.floor(np.arange(dst) * (1.0 / (dst / src))).astype(np.int64), src - 1)
