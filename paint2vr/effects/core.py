"""What every effect shares besides space, timelines and particles: colours and the size
budget of a baked effect (options are checked by :func:`paint2vr.config.check_options`
against the limits declared on their fields).

The effect modules build on :mod:`.space` (the scene as effects see it), :mod:`.timeline`
(looping keys) and :mod:`.particles` (baked particle groups).
"""

from __future__ import annotations

import numpy as np

from ..color import srgb_to_linear
from ..errors import InputError
from ..scene import Effect, Mesh, Node


# -- colours -------------------------------------------------------------------------------

def rgba(color: tuple[float, float, float], alpha: float = 1.0) -> tuple[float, float, float, float]:
    lin = srgb_to_linear(color)
    return (float(lin[0]), float(lin[1]), float(lin[2]), float(alpha))


# -- budgets -----------------------------------------------------------------

def _mesh_bytes(mesh: Mesh) -> int:
    n = mesh.positions.shape[0]
    b = mesh.positions.nbytes
    if mesh.faces is not None:
        b += mesh.faces.size * (2 if n < 65536 else 4)
    for a in (mesh.uvs, mesh.colors, mesh.normals):
        if a is not None:
            b += a.nbytes
    return b


def _morph_bytes(mesh: Mesh) -> int:
    """Morph targets as written: dense, or sparse (indices + moved rows) when that is smaller."""
    total = 0
    for t in mesh.morph_targets:
        moved = int(np.any(t != 0, axis=1).sum())
        total += min(t.nbytes, moved * (12 + 4))
    return total


def effect_budget(effect: Effect) -> tuple[int, int]:
    """(draw calls, bytes) an effect adds to an export: one draw call per mesh node; bytes of
    its own meshes (a mesh shared by several nodes counted once), of morph targets it adds to
    the scene's meshes (sparse when smaller, see the exporter note in docs/effects.md), and of
    its animation samplers (times + values)."""
    if not isinstance(effect, Effect):
        raise InputError(f"expected an Effect, got {type(effect).__name__}")
    draws, seen, nbytes = 0, set(), 0

    def walk(node: Node) -> None:
        nonlocal draws, nbytes
        if node.mesh is not None:
            draws += 1
            if id(node.mesh) not in seen:
                seen.add(id(node.mesh))
                nbytes += _mesh_bytes(node.mesh) + _morph_bytes(node.mesh)
        for c in node.children:
            walk(c)
    own = set()
    for n in effect.nodes:
        walk(n)
        own.add(id(n))
    for clip in effect.clips:
        for tr in clip.tracks:
            nbytes += np.asarray(tr.times, np.float32).nbytes + np.asarray(tr.values, np.float32).nbytes
            m = tr.node.mesh
            if tr.path == "weights" and m is not None and id(m) not in seen:
                seen.add(id(m))
                nbytes += _morph_bytes(m)
    return draws, nbytes
