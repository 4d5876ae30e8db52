"""Triangles clipped at the near plane, in view space, before projection.

The rasteriser drops a triangle with any corner nearer than its near plane. Looking down or
sideways from inside a world, the ground's big triangles run from in front of the eye to
behind it; dropped whole they leave holes at the bottom of the view that three.js (which
clips) fills. Here each such triangle is cut at view depth ``near``: the part in front
becomes one triangle (one corner in front) or two (two corners in front), with positions,
texture coordinates and colours interpolated along the cut edges.
"""

from __future__ import annotations

import numpy as np

Attrs = list[np.ndarray | None]
"""Per-vertex arrays (N, k) interpolated with the positions (uvs, colours; None: absent)."""


def _cut(rel: np.ndarray, attrs: Attrs, a: np.ndarray, b: np.ndarray, near: float) -> list[np.ndarray | None]:
    """Points where edges a -> b (vertex indices) cross view depth ``near``, with attributes."""
    za, zb = -rel[a, 2], -rel[b, 2]
    t = ((near - za) / (zb - za))[:, None]
    out: list[np.ndarray | None] = [rel[a] + t * (rel[b] - rel[a])]
    for arr in attrs:
        out.append(None if arr is None else (arr[a] + t * (arr[b].astype(np.float64) - arr[a])).astype(arr.dtype))
    return out


def clip_near(rel: np.ndarray, faces: np.ndarray, attrs: Attrs, near: float) -> tuple[np.ndarray, np.ndarray, Attrs]:
    """(positions, faces, attributes) with every face cut at view depth ``near`` (view space:
    depth is -z): faces wholly in front unchanged and first, then the pieces of the cut ones;
    faces wholly behind dropped. New vertices are appended after the old ones."""
    inside = -rel[:, 2] > near
    fin = inside[faces]
    count = fin.sum(axis=1)
    keep = faces[count == 3]
    n = len(rel)
    pos_parts, attr_parts = [rel], [[a] for a in attrs]
    new_faces = [keep]
    for k in (1, 2):
        f = faces[count == k]
        if not len(f):
            continue
        # Rotate each face (keeping its winding) so that the odd corner comes first: the one
        # in front when one is, the one behind when two are.
        odd = fin[count == k] if k == 1 else ~fin[count == k]
        first = np.argmax(odd, axis=1)
        idx = (first[:, None] + np.arange(3)[None]) % 3
        f = np.take_along_axis(f, idx, axis=1)
        o, p, q = f[:, 0], f[:, 1], f[:, 2]
        op = _cut(rel, attrs, o, p, near)
        oq = _cut(rel, attrs, o, q, near)
        m = len(f)
        i_op = n + np.arange(m)
        i_oq = n + m + np.arange(m)
        n += 2 * m
        pos_parts += [op[0], oq[0]]
        for j in range(len(attrs)):
            attr_parts[j] += [op[j + 1], oq[j + 1]]
        if k == 1:  # o in front: the triangle o, cut(o, p), cut(o, q)
            new_faces.append(np.stack([o, i_op, i_oq], 1))
        else:  # o behind: the quad p, q, cut(o, q), cut(o, p) as two triangles
            new_faces += [np.stack([p, q, i_oq], 1), np.stack([p, i_oq, i_op], 1)]
    out_attrs = [None if parts[0] is None else np.concatenate(parts) for parts in attr_parts]
    return np.concatenate(pos_parts), np.concatenate(new_faces).astype(np.int64), out_attrs


def clip_near_reference(rel: np.ndarray, faces: np.ndarray, near: float) -> list[np.ndarray]:
    """Slow obvious clipping of each triangle (Sutherland-Hodgman against one plane), as
    polygons: the in-front part of each face (3 or 4 corners), faces behind left out."""
    out = []
    for face in faces:
        poly = [rel[i] for i in face]
        kept = []
        for i in range(3):
            a, b = poly[i], poly[(i + 1) % 3]
            ina, inb = -a[2] > near, -b[2] > near
            if ina:
                kept.append(a)
            if ina != inb:
                t = (near + a[2]) / (a[2] - b[2])
                kept.append(a + t * (b - a))
        if kept:
            out.append(np.array(kept))
    return out
