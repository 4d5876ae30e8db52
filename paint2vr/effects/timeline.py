"""Looping timelines: key times, smooth periodic wander, closed loops, track evaluation."""

from __future__ import annotations

import math

import numpy as np

from ..scene import Track


# -- looping timelines -------------------------------------------------------------------

def loop_times(loop: float, keys: int) -> np.ndarray:
    """``keys + 1`` evenly spaced times from 0 to ``loop`` inclusive (float32)."""
    t = np.linspace(0.0, loop, keys + 1).astype(np.float32)
    t[-1] = np.float32(loop)
    return t


def fourier_loop(rng: np.random.Generator, t: np.ndarray, loop: float, amplitude: float,
                 harmonics: int = 3, shape: tuple[int, ...] = ()) -> np.ndarray:
    """A smooth random function of ``t`` with period ``loop`` (integer harmonics only), of
    roughly ``amplitude``; extra leading dims from ``shape``; result (*shape, len(t))."""
    out = np.zeros(shape + (len(t),))
    w = 2.0 * math.pi * np.asarray(t, dtype=np.float64) / loop
    for k in range(1, harmonics + 1):
        a = rng.normal(size=shape + (1,)) * amplitude / k
        ph = rng.uniform(0, 2 * math.pi, size=shape + (1,))
        out += a * np.sin(k * w + ph)
    return out / math.sqrt(sum(1.0 / k ** 2 for k in range(1, harmonics + 1)))


def close_loop(values: np.ndarray) -> np.ndarray:
    """Make the last key equal the first exactly (float rounding of periodic functions)."""
    values = np.array(values, dtype=np.float32)
    values[-1] = values[0]
    return values


def eval_track(track: Track, t: np.ndarray) -> np.ndarray:
    """Sample a LINEAR or STEP track at times ``t`` (clamped to its range); quaternions by
    normalised shortest-path lerp. The reference the tests (and budget checks) use."""
    times = np.asarray(track.times, dtype=np.float64)
    vals = np.asarray(track.values, dtype=np.float64)
    t = np.clip(np.asarray(t, dtype=np.float64), times[0], times[-1])
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    if track.interpolation == "STEP" or len(times) == 1:
        return vals[i]
    j = np.minimum(i + 1, len(times) - 1)
    span = np.where(j > i, times[j] - times[i], 1.0)
    a = ((t - times[i]) / span)[:, None]
    v0, v1 = vals[i], vals[j]
    if track.path == "rotation":
        v1 = np.where((np.sum(v0 * v1, -1) < 0)[:, None], -v1, v1)
        q = v0 * (1 - a) + v1 * a
        return q / np.linalg.norm(q, axis=-1, keepdims=True)
    return v0 * (1 - a) + v1 * a
