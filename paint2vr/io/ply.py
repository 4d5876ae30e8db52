"""The one PLY point-cloud file: binary little-endian, readable by open3d, plyfile and trimesh.

Vertex properties: ``x y z`` float32, optional ``nx ny nz`` float32, ``red green blue alpha``
uchar sRGB (as PLY readers expect), optional ``layer`` uchar (an index into the names on the
``comment layers`` lines). Every header line is short: open3d's PLY reader (RPly) aborts on
lines over 1 KiB ("Line too long"), so the provenance record, a compact JSON object, is cut
into ``comment paint2vr_record i/n CHUNK`` lines of at most :data:`MAX_LINE` characters
(spaces in it written as ``\\u0020``, so no reader's whitespace handling can change it) and
:func:`ply_record` joins them back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ExportError, InputError

MAX_LINE = 200
"""Longest header line written (RPly's limit is 1024)."""
FRAME_COMMENT = "paint2vr world frame: right-handed, Y up, metres, start camera looks down -Z"
_RECORD = "paint2vr_record"


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _header_comments(layer_names: Sequence[str], record: dict[str, Any] | None) -> list[str]:
    lines = [FRAME_COMMENT]
    names = " ".join(n.replace(" ", "_") for n in layer_names)
    while names:  # several 'comment layers' lines, each at most MAX_LINE long, split at spaces
        cut = len(names) if len(names) <= MAX_LINE - 16 else names.rfind(" ", 0, MAX_LINE - 16)
        if cut <= 0:
            raise ExportError(f"a layer name is too long for a PLY header line: {names[:40]!r}...")
        lines.append("layers " + names[:cut])
        names = names[cut:].lstrip(" ")
    if record is not None:
        text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        parts = _chunks(text.replace(" ", "\\u0020"), MAX_LINE - 40)
        lines += [f"{_RECORD} {i + 1}/{len(parts)} {p}" for i, p in enumerate(parts)]
    return lines


def encode_ply(positions: np.ndarray, colors: np.ndarray, *, normals: np.ndarray | None = None,
               layer_ids: np.ndarray | None = None, layer_names: Sequence[str] = (),
               record: dict[str, Any] | None = None) -> bytes:
    """Points as PLY bytes: ``positions`` (N, 3) float, ``colors`` (N, 4) uint8 sRGBA,
    ``normals`` (N, 3) float or None, ``layer_ids`` (N,) uint8 or None."""
    pos = np.asarray(positions)
    n = len(pos)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise InputError(f"PLY positions must be (N, 3), got {pos.shape}")
    if colors.shape != (n, 4) or colors.dtype != np.uint8:
        raise InputError(f"PLY colours must be (N, 4) uint8 sRGBA, got {colors.dtype} {colors.shape}")
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if normals is not None:
        fields += [("nx", "<f4"), ("ny", "<f4"), ("nz", "<f4")]
    fields += [("red", "u1"), ("green", "u1"), ("blue", "u1"), ("alpha", "u1")]
    if layer_ids is not None:
        fields.append(("layer", "u1"))
    vertex = np.zeros(n, dtype=fields)
    vertex["x"], vertex["y"], vertex["z"] = pos[:, 0], pos[:, 1], pos[:, 2]
    if normals is not None:
        vertex["nx"], vertex["ny"], vertex["nz"] = normals[:, 0], normals[:, 1], normals[:, 2]
    for i, ch in enumerate(("red", "green", "blue", "alpha")):
        vertex[ch] = colors[:, i]
    if layer_ids is not None:
        vertex["layer"] = layer_ids
    types = {"<f4": "float", "u1": "uchar"}
    header = ["ply", "format binary_little_endian 1.0"]
    header += ["comment " + c for c in _header_comments(layer_names, record)]
    header += [f"element vertex {n}"] + [f"property {types[t]} {name}" for name, t in fields] + ["end_header"]
    return ("\n".join(header) + "\n").encode("ascii") + vertex.tobytes()


_RECORD_LINE = re.compile(rf"^{_RECORD} (\d+)/(\d+) (\S*)$")


def ply_record(comments: Sequence[str]) -> dict[str, Any] | None:
    """The provenance record from a PLY header's comment lines (the text after ``comment``), or
    None when it has none. Raises InputError when the chunks are incomplete or not JSON."""
    parts: dict[int, str] = {}
    total = 0
    for line in comments:
        m = _RECORD_LINE.match(line.strip())
        if m:
            parts[int(m.group(1))] = m.group(3)
            total = int(m.group(2))
    if not parts:
        return None
    if sorted(parts) != list(range(1, total + 1)):
        raise InputError(f"the PLY provenance record has chunks {sorted(parts)} of {total}")
    try:
        return json.loads("".join(parts[i] for i in range(1, total + 1)))
    except json.JSONDecodeError as exc:
        raise InputError(f"the PLY provenance record is not JSON ({exc})") from exc


def ply_layers(comments: Sequence[str]) -> list[str]:
    """The layer names of a PLY header's ``layers`` comment lines, in order."""
    return [name for line in comments if line.startswith("layers ") for name in line.split()[1:]]


__all__ = ["FRAME_COMMENT", "MAX_LINE", "encode_ply", "ply_layers", "ply_record"]
