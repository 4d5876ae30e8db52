"""``EXT_meshopt_compression`` buffers through the meshoptimizer library (PyPI ``meshoptimizer``,
the upstream project's Python bindings, built from its C++ source at install).

Encoding writes the extension's version-0 vertex codec (``ATTRIBUTES``) and version-1 index
codec (``TRIANGLES``), the formats three.js's MeshoptDecoder and gltfpack read; floating-point
attributes may first go through the ``EXPONENTIAL`` filter (8-bit exponent shared by a
vector, K-bit mantissa), which makes them compress several times better at a precision set
by K. Decoding (inspect, preview, tests) applies the codec, then the filter.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ..errors import CodecMissingError, InputError

EXTENSION = "EXT_meshopt_compression"
INSTALL_HINT = "install meshoptimizer: `pip install meshoptimizer==0.2.30a0` (needs a C++ compiler)"
_EXP_SHARED_VECTOR = 1  # meshopt_EncodeExpSharedVector


def _lib() -> Any:
    try:
        import meshoptimizer
        from meshoptimizer._loader import lib
    except ImportError as err:
        raise CodecMissingError(f"{EXTENSION} needs the meshoptimizer library, which is not installed",
                                hint=INSTALL_HINT) from err
    return meshoptimizer, lib


def encode_attributes(data: bytes | np.ndarray, count: int, stride: int) -> bytes:
    """``count`` elements of ``stride`` bytes (a multiple of 4, at most 256) -> ATTRIBUTES stream."""
    if stride % 4 or not 0 < stride <= 256:
        raise InputError(f"meshopt ATTRIBUTES need a stride that is a multiple of 4 up to 256, got {stride}")
    raw = np.frombuffer(bytes(data), np.uint8) if not isinstance(data, np.ndarray) else data.view(np.uint8).ravel()
    if raw.size != count * stride:
        raise InputError(f"{raw.size} bytes is not {count} elements of {stride} bytes")
    mo, _ = _lib()
    mo.encode_vertex_version(0)  # the extension's only vertex codec version
    return mo.encode_vertex_buffer(raw.reshape(count, stride), count, stride)


def encode_triangles(indices: np.ndarray, vertex_count: int) -> bytes:
    """Triangle list indices (a multiple of 3) -> TRIANGLES stream."""
    idx = np.ascontiguousarray(indices, dtype=np.uint32).ravel()
    if idx.size % 3:
        raise InputError(f"meshopt TRIANGLES need a multiple of 3 indices, got {idx.size}")
    mo, _ = _lib()
    mo.encode_index_version(1)
    return mo.encode_index_buffer(idx, idx.size, vertex_count)


def optimize_triangle_order(indices: np.ndarray, vertex_count: int) -> np.ndarray:
    """The same triangles reordered for the GPU's vertex cache (and a smaller TRIANGLES stream)."""
    idx = np.ascontiguousarray(indices, dtype=np.uint32).ravel()
    if idx.size == 0:
        return idx
    mo, _ = _lib()
    out = np.empty_like(idx)
    mo.optimize_vertex_cache(out, idx, idx.size, vertex_count)
    return out


def exp_filter(values: np.ndarray, bits: int) -> np.ndarray:
    """float32 (n, k) -> int32 (n, k) words of the EXPONENTIAL filter, one exponent per row."""
    vals = np.ascontiguousarray(values, dtype=np.float32)
    if vals.ndim != 2 or not 1 <= bits <= 24:
        raise InputError(f"exp_filter needs a 2-D float array and 1..24 bits, got {vals.shape}, {bits}")
    if not np.isfinite(vals).all():
        raise InputError("exp_filter needs finite values")
    _, lib = _lib()
    out = np.zeros(vals.shape, np.int32)
    if vals.size:
        lib.meshopt_encodeFilterExp(out.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(vals.shape[0]),
                                    ctypes.c_size_t(4 * vals.shape[1]), ctypes.c_int(bits),
                                    vals.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_EXP_SHARED_VECTOR))
    return out


def exp_decode(words: np.ndarray) -> np.ndarray:
    """Inverse of :func:`exp_filter` (the extension's decoding rule): m * 2**e, m the signed low
    24 bits, e the signed high 8 bits of each word. Vectorised numpy, no library needed."""
    w = np.asarray(words).view(np.int32)
    mantissa = (w << 8) >> 8
    exponent = w >> 24
    return np.ldexp(mantissa.astype(np.float64), exponent).astype(np.float32)


def decode_stream(source: bytes, count: int, stride: int, mode: str, filter_: str = "NONE") -> bytes:
    """One compressed buffer view -> its ``count * stride`` decoded bytes (mode ATTRIBUTES,
    TRIANGLES or INDICES; filter NONE, OCTAHEDRAL, QUATERNION or EXPONENTIAL)."""
    mo, lib = _lib()
    try:
        if mode == "ATTRIBUTES":
            raw = mo.decode_vertex_buffer(count, stride, source).view(np.uint8).ravel()
        elif mode in ("TRIANGLES", "INDICES"):
            if stride not in (2, 4):
                raise InputError(f"meshopt {mode} stride must be 2 or 4, got {stride}")
            fn = mo.decode_index_buffer if mode == "TRIANGLES" else mo.decode_index_sequence
            idx = fn(count, 4, source)
            raw = idx.astype(np.uint16 if stride == 2 else np.uint32).view(np.uint8)
        else:
            raise InputError(f"unknown {EXTENSION} mode {mode!r}")
    except RuntimeError as err:
        raise InputError(f"corrupt {EXTENSION} data: {err}") from None
    if filter_ == "EXPONENTIAL":
        raw = exp_decode(raw.view(np.int32)).view(np.uint8)
    elif filter_ in ("OCTAHEDRAL", "QUATERNION"):
        fn = lib.meshopt_decodeFilterOct if filter_ == "OCTAHEDRAL" else lib.meshopt_decodeFilterQuat
        raw = np.array(raw, copy=True)
        fn(raw.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(count), ctypes.c_size_t(stride))
    elif filter_ not in ("NONE", None):
        raise InputError(f"unknown {EXTENSION} filter {filter_!r}")
    return raw.tobytes()
