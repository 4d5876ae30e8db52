"""A built glTF document's buffer views compressed with ``EXT_meshopt_compression``.

Index views become ``TRIANGLES`` streams, vertex attributes, morph targets, animation keys
and sparse values ``ATTRIBUTES`` streams; float vertex data (positions, normals, morph
offsets, colours) goes through the ``EXPONENTIAL`` filter first (a shared exponent per
vector, ``bits`` of mantissa: 1.2 cm at 100 m for the default 14 bits, below a pixel of a
headset there). Images and 2-byte sparse indices
stay as they are. The uncompressed layout lives in a fallback buffer without data
(``fallback: true``), so the extension is required, as three.js and gltfpack expect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..codecs import meshopt

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
EXTENSION = meshopt.EXTENSION


def _accessors_by_view(doc: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for acc in doc.accessors:
        if acc.bufferView is not None:
            out.setdefault(acc.bufferView, []).append(acc)
        sparse = acc.sparse
        if sparse is not None:
            out.setdefault(sparse.values.bufferView, []).append((acc, "sparse"))
    return out


def _plan(view: Any, users: list[Any]) -> tuple[str, int, str] | None:
    """(mode, stride, filter) for a view, or None to keep it uncompressed."""
    if len(users) != 1:
        return None  # images have none; our writer gives each accessor its own view
    user = users[0]
    acc, sparse = (user[0], True) if isinstance(user, tuple) else (user, False)
    stride = _SIZES[acc.componentType] * _COMPONENTS[acc.type]
    if view.target == ELEMENT_ARRAY_BUFFER and acc.type == "SCALAR" and acc.count % 3 == 0:
        return "TRIANGLES", stride, "NONE"
    if stride % 4 or stride > 256:
        return None
    vertex_float = acc.componentType == 5126 and (view.target == ARRAY_BUFFER or sparse)
    return "ATTRIBUTES", stride, "EXPONENTIAL" if vertex_float and acc.type in ("VEC3", "VEC4") else "NONE"


def _decoded_minmax(user: Any, values: np.ndarray) -> None:
    """min/max of what a reader decodes (the filter rounds values); a sparse accessor's
    include the zeros of the rows it does not store."""
    acc, sparse = (user[0], True) if isinstance(user, tuple) else (user, False)
    if acc.min is None or acc.max is None or not values.size:
        return
    lo, hi = values.min(axis=0), values.max(axis=0)
    if sparse and acc.sparse.count < acc.count:
        lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    acc.min = [float(x) for x in lo]
    acc.max = [float(x) for x in hi]


def compress_views(doc: Any, blob: bytes, bits: int = 14) -> tuple[bytes, int]:
    """Rewrite ``doc``'s buffer views (all in buffer 0, ``blob``) in place; returns the new
    buffer-0 bytes and the fallback buffer's length. The caller appends the fallback buffer
    (index 1, no data, ``extensions: {EXT_meshopt_compression: {fallback: true}}``)."""
    users = _accessors_by_view(doc)
    out, fallback = bytearray(), 0
    for i, view in enumerate(doc.bufferViews):
        data = blob[view.byteOffset or 0:(view.byteOffset or 0) + view.byteLength]
        plan = _plan(view, users.get(i, []))
        out.extend(b"\0" * ((-len(out)) % 4))
        if plan is None:
            view.byteOffset = len(out)
            out.extend(data)
            continue
        mode, stride, filt = plan
        count = view.byteLength // stride
        if mode == "TRIANGLES":
            idx = np.frombuffer(data, np.uint16 if stride == 2 else np.uint32)
            stream = meshopt.encode_triangles(idx, int(idx.max()) + 1 if idx.size else 0)
        elif filt == "EXPONENTIAL":
            values = np.frombuffer(data, np.float32).reshape(count, stride // 4)
            words = meshopt.exp_filter(values, bits)
            _decoded_minmax(users[i][0], meshopt.exp_decode(words))
            stream = meshopt.encode_attributes(words.tobytes(), count, stride)
        else:
            stream = meshopt.encode_attributes(data, count, stride)
        ext = {"buffer": 0, "byteOffset": len(out), "byteLength": len(stream), "byteStride": stride,
               "count": count, "mode": mode}
        if filt != "NONE":
            ext["filter"] = filt
        out.extend(stream)
        fallback += (-fallback) % 4
        view.buffer, view.byteOffset = 1, fallback
        view.extensions = {**(view.extensions or {}), EXTENSION: ext}
        fallback += view.byteLength
    return bytes(out), fallback
