"""Render a :class:`~paint2vr.scene.Scene` offscreen from (a moved copy of) its start camera."""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Sequence

import numpy as np

from ..errors import InputError
from ..scene import WALK_ROLES, Clip, Mesh, Node, Scene, Track
from .clip import clip_near
from .raster import (Prepared, Target, build_mips, raster_points, raster_triangles,
                     raster_triangles_reference)

log = logging.getLogger(__name__)

Rasteriser = Callable[[Prepared, Target], None]


def quat_to_matrix(q: Sequence[float]) -> np.ndarray:
    """Unit quaternion (x, y, z, w) -> 3x3 rotation matrix."""
    x, y, z, w = (float(c) for c in q)
    n = x * x + y * y + z * z + w * w
    if n == 0:
        return np.eye(3)
    s = 2.0 / n
    return np.array([
        [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
        [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
        [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
    ])


def trs_matrix(t: Sequence[float], r: Sequence[float], s: Sequence[float]) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(r) * np.asarray(s, dtype=np.float64)[None, :]
    m[:3, 3] = t
    return m


def _slerp(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    d = float(np.dot(a, b))
    if d < 0:
        b, d = -b, -d
    if d > 0.9995:
        q = a + f * (b - a)
    else:
        th = np.arccos(d)
        q = (np.sin((1 - f) * th) * a + np.sin(f * th) * b) / np.sin(th)
    return q / np.linalg.norm(q)


def sample_track(track: Track, t: float) -> np.ndarray:
    """Value of ``track`` at time ``t`` (clamped to its range; the caller loops the clip)."""
    times = np.asarray(track.times, dtype=np.float64)
    vals = np.asarray(track.values, dtype=np.float64)
    if track.interpolation == "CUBICSPLINE":
        vals = vals.reshape(len(times), 3, -1)[:, 1]  # keyframe values, tangents ignored
    vals = vals.reshape(len(times), -1)
    if t <= times[0] or len(times) == 1:
        return vals[0]
    if t >= times[-1]:
        return vals[-1]
    i = int(np.searchsorted(times, t, side="right")) - 1
    if track.interpolation == "STEP":
        return vals[i]
    f = (t - times[i]) / (times[i + 1] - times[i])
    if track.path == "rotation":
        return _slerp(vals[i], vals[i + 1], f)
    return vals[i] * (1 - f) + vals[i + 1] * f


def _animated(clips: Iterable[Clip], time: float | None) -> dict[int, dict[str, np.ndarray]]:
    """id(node) -> {path: value} for every animated property at ``time`` (clips loop)."""
    out: dict[int, dict[str, np.ndarray]] = {}
    if time is None:
        return out
    for clip in clips:
        dur = clip.duration
        t = float(time) % dur if dur > 0 else 0.0
        for tr in clip.tracks:
            out.setdefault(id(tr.node), {})[tr.path] = sample_track(tr, t)
    return out


CLIP_NEAR = 0.02
"""View depth (m) faces are cut at: in front of the rasteriser's own near plane (0.01 m)."""
HIDDEN_ROLES = WALK_ROLES
"""Node roles (extras ``paint2vr_role``) that say where a visitor may walk: never drawn."""


Item = tuple[Node, Mesh, np.ndarray, "list[float] | None"]
"""A drawn node, the mesh drawn for it, its world matrix and its morph weights."""


def _walk(node: Node, parent: np.ndarray, anim: dict[int, dict[str, np.ndarray]],
          out: list[Item], mesh_of: Callable[[Node], Mesh | None]) -> None:
    if node.extras.get("paint2vr_role") in HIDDEN_ROLES:
        return
    a = anim.get(id(node), {})
    m = parent @ trs_matrix(a.get("translation", node.translation), a.get("rotation", node.rotation),
                            a.get("scale", node.scale))
    mesh = mesh_of(node)
    if mesh is not None:
        w = a.get("weights", node.weights)
        out.append((node, mesh, m, None if w is None else list(np.asarray(w, dtype=np.float64))))
    for c in node.children:
        _walk(c, m, anim, out, mesh_of)


def _to_head(rel: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """Eye-relative world points in the turned and tilted head's frame."""
    if yaw_deg:
        # World -> view: undo the head's turn (a rotation by +yaw about Y).
        c, s_ = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
        rel = np.stack([c * rel[:, 0] - s_ * rel[:, 2], rel[:, 1], s_ * rel[:, 0] + c * rel[:, 2]], 1)
    if pitch_deg:
        # Then undo the tilt (a rotation by +pitch about the head's X axis).
        c, s_ = np.cos(np.radians(pitch_deg)), np.sin(np.radians(pitch_deg))
        rel = np.stack([rel[:, 0], c * rel[:, 1] + s_ * rel[:, 2], -s_ * rel[:, 1] + c * rel[:, 2]], 1)
    return rel


def render_scene(scene: Scene, width: int | None = None, eye_offset: Sequence[float] = (0.0, 0.0, 0.0),
                 time: float | None = None, *, layers: Sequence[str] | None = None,
                 reference: bool = False, yaw_deg: float = 0.0,
                 pitch_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Render every mesh of ``scene`` from its start camera moved by ``eye_offset`` (metres).

    The image has the camera's aspect ratio and field of view; ``width`` defaults to the
    camera's. ``time`` (seconds) poses animated nodes (clips loop); None uses rest poses.
    ``layers`` limits drawing to the named layers (effects are drawn only when it is None).
    ``reference`` uses the slow per-triangle rasteriser (for tests). ``yaw_deg`` turns the
    head about the vertical axis (positive = to the left), then ``pitch_deg`` tilts it
    (positive = up). Walk nodes (navmesh, collider) are not drawn.

    Returns:
        rgb: (h, w, 3) uint8 sRGB; black where nothing was drawn.
        covered: (h, w) bool, False where no primitive was drawn.
    """
    cam = scene.camera
    w = int(cam.width if width is None else width)
    if w < 1:
        raise InputError(f"render width must be >= 1, got {width}")
    off = np.asarray(eye_offset, dtype=np.float64)
    if off.shape != (3,) or not np.isfinite(off).all():
        raise InputError(f"eye_offset must be 3 finite numbers (metres), got {eye_offset!r}")
    h = max(1, int(round(w / cam.aspect)))
    f = cam.focal * w / cam.width
    eye = np.asarray(cam.position, dtype=np.float64) + off

    if layers is None:
        roots = scene.nodes()
    else:
        names = set(layers)
        unknown = names - {l.name for l in scene.layers}
        if unknown:
            raise InputError(f"no layer named {sorted(unknown)}",
                             hint=f"layers are: {', '.join(l.name for l in scene.layers)}")
        roots = [l.node for l in scene.layers if l.name in names]
    anim = _animated((c for e in scene.effects for c in e.clips), time)
    items: list[Item] = []
    for r in roots:
        _walk(r, np.eye(4), anim, items, lambda n: n.mesh)
    target = Target(w, h)
    _draw(items, target, eye, f, yaw_deg, pitch_deg, reference, lambda mesh: mesh.texture)
    return target.result()


def _draw(items: list[Item], target: Target, eye: np.ndarray, f: float, yaw_deg: float, pitch_deg: float,
          reference: bool, texture_of: Callable[[Mesh], np.ndarray | None]) -> list[int]:
    """Rasterise ``items`` into ``target``; returns each item's first draw-order key.
    ``texture_of`` gives the texture each mesh is sampled from (its own, or a stand-in)."""
    w, h = target.width, target.height
    tri = raster_triangles_reference if reference else raster_triangles
    key, starts = 0, []
    for _node, mesh, m, weights in items:
        starts.append(key)
        pos = mesh.positions.astype(np.float64)
        if weights and mesh.morph_targets:
            for wt, dt in zip(weights, mesh.morph_targets):
                if wt:
                    pos = pos + wt * dt.astype(np.float64)
        world = pos @ m[:3, :3].T + m[:3, 3]
        rel = _to_head(world - eye, yaw_deg, pitch_deg)
        faces = None if mesh.faces is None else mesh.faces.astype(np.int64)
        uvs, colors = mesh.uvs, mesh.colors
        if faces is not None and len(faces):
            front = -rel[faces, 2] > CLIP_NEAR
            if (front.any(axis=1) & ~front.all(axis=1)).any():  # faces across the near plane: cut them
                rel, faces, (uvs, colors) = clip_near(rel, faces, [uvs, colors], CLIP_NEAR)
        z = -rel[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            sx = rel[:, 0] / z * f + w / 2.0
            sy = -rel[:, 1] / z * f + h / 2.0
        prep = Prepared(sx=sx, sy=sy, z=z, faces=faces, uvs=uvs, colors=colors,
                        mips=None if (tex := texture_of(mesh)) is None else build_mips(tex),
                        alpha_mode=mesh.alpha_mode, base_color=mesh.base_color, key_offset=key,
                        repeat=mesh.extras.get("wrap") == "repeat")
        if mesh.faces is None:
            raster_points(prep, target)
            key += len(pos)
        else:
            tri(prep, target)
            key += len(faces)
    return starts


def _alpha_stand_in(texture: np.ndarray, max_side: int) -> np.ndarray:
    """White with ``texture``'s alpha, at most ``max_side`` texels a side: what a coverage
    render needs of a masked texture (its cut-outs), at a fraction of the mip-building cost."""
    import cv2

    h, w = texture.shape[:2]
    s = min(1.0, max_side / max(h, w))
    alpha = texture[..., 3]
    if s < 1.0:
        alpha = cv2.resize(alpha, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.full(alpha.shape + (4,), 255, np.uint8)
    out[..., 3] = alpha
    return out


def start_view_coverage(scene: Scene, width: int = 256, *, mesh_of: Callable[[Node], Mesh | None] | None = None,
                        max_texture: int = 512) -> list[tuple[Node, Mesh, int]]:
    """How many pixels of the start view (``width`` wide, rest poses) each drawn node's mesh
    is frontmost in: (node, mesh, pixels) per drawn node, in draw order. ``mesh_of`` gives the
    mesh drawn for a node (default its own: an exporter passes the fitted ones); masked
    textures are tested by their alpha at most ``max_texture`` texels a side."""
    if width < 1 or max_texture < 1:
        raise InputError(f"coverage width and max_texture must be >= 1, got {width}, {max_texture}")
    cam = scene.camera
    h = max(1, int(round(width / cam.aspect)))
    items: list[Item] = []
    for r in scene.nodes():
        _walk(r, np.eye(4), {}, items, mesh_of or (lambda n: n.mesh))
    stand_ins: dict[int, np.ndarray] = {}

    def texture_of(mesh: Mesh) -> np.ndarray | None:
        tex = mesh.texture
        if tex is None or mesh.alpha_mode == "OPAQUE" or tex.ndim != 3 or tex.shape[2] != 4:
            return None
        if id(tex) not in stand_ins:
            stand_ins[id(tex)] = _alpha_stand_in(tex, max_texture)
        return stand_ins[id(tex)]
    target = Target(width, h)
    starts = _draw(items, target, np.asarray(cam.position, np.float64), cam.focal * width / cam.width,
                   0.0, 0.0, False, texture_of)
    keys = target.key[np.isfinite(target.depth)]
    counts = np.bincount(np.searchsorted(np.asarray(starts), keys, side="right") - 1, minlength=len(items))
    return [(node, mesh, int(c)) for (node, mesh, _m, _w), c in zip(items, counts)]
