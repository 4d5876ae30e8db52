"""Small image helpers shared by the built-in estimator's modules."""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError


def check_rgb(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"expected a uint8 (H, W, 3) image, got "
                         f"{getattr(rgb, 'dtype', type(rgb).__name__)} {getattr(rgb, 'shape', '')}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise InputError(f"empty image: shape {rgb.shape}")


def resize_to(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    s = min(1.0, side / max(h, w))
    sw, sh = max(1, round(w * s)), max(1, round(h * s))
    if (sw, sh) == (w, h):
        return rgb
    return cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)


def grad(x: np.ndarray) -> np.ndarray:
    if min(x.shape) < 2:
        return np.zeros_like(x)
    return np.hypot(cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3))
