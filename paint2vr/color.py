"""sRGB <-> linear transfer functions, for the whole library (glTF COLOR_0 and colour
factors are linear; textures, images and PLY colours are sRGB)."""

from __future__ import annotations

import numpy as np


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB values in [0, 1] -> linear, float32 (IEC 61966-2-1; float32 is ample for 8-bit colour)."""
    c = np.asarray(c, dtype=np.float32)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear values in [0, 1] -> sRGB, float32."""
    c = np.clip(np.asarray(c, dtype=np.float32), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055).astype(np.float32)
