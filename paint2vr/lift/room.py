"""An interior closed into a room: ceiling, side walls, far wall and the wall behind the
visitor, continued from the painting's own surfaces (the Tour-into-the-Picture box,
extended behind the visitor).

Used when the depth reads the painting as a box room (``DepthMap.extras['box_room']``, the
prior's layout). The box holds every lifted point (so it hides nothing painted: walls at
their least and greatest sideways position, the ceiling at their greatest height, the far
wall at their greatest distance), the wall behind the visitor beyond the walkable zone; the floor is the
ground (:mod:`.ground`). Each face is a rectified texture: the painting where it shows that
face (a texel projects into the frame and the painted depth there is the face's, within
:data:`VISIBLE`), and elsewhere a periodic tile quilted (:func:`.synth.quilt_tile`) from
what the painting shows of that face, joined by multiband blending; a face the painting
does not show (the wall behind the visitor, a side wall out of view) is quilted from the
one it resembles most (the far wall, the other side wall), and if the painting shows no
face at all, from the painting itself. The faces share one texture
atlas and one mesh, drawn just outside the painted layers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..scene import Camera, Layer, Mesh, Node
from .synth import fit_block, quilt_tile

VISIBLE = 0.12
"""Relative depth difference within which a painted pixel shows a face (not an object in front)."""
TEXEL_M = 0.02
"""Finest face texel, metres (about a pixel of a headset's view from 2 m); coarser where the
painting resolves its surfaces less (one painting pixel per texel where they are best
resolved, the 90th percentile over what it shows)."""
FACE_TEXELS = 1024
"""Most texels along either side of a face's texture."""
TILE_TEXELS = 192
"""Side of each face's periodic tile, texels."""
TILE_BLOCK = 24
"""Quilting block of the faces' tiles, texels."""
RESOLVED = 0.5
"""Least painting pixels between neighbouring texels (both ways) for a texel to serve as
quilting material: far along a foreshortened wall the painting is too coarse, stretched."""
MIN_KNOWN = 0.04
"""Share of a face the painting must show for the face to be quilted from itself."""
OUTSIDE = 1.01
"""The box is drawn this much outside the fitted planes (behind the painted layers)."""
FACES = ("ceiling", "left", "right", "far", "back")
DONORS = {"ceiling": ("far", "left", "right"), "left": ("right", "far"), "right": ("left", "far"),
          "far": ("left", "right", "ceiling"), "back": ("far", "left", "right")}
"""Where a face the painting does not show takes its material, in order of preference."""


@dataclass(frozen=True)
class Box:
    """The room's planes in world metres (y up, -z ahead; the start camera at the origin's
    x and z)."""

    x0: float
    x1: float
    floor: float
    ceiling: float
    far: float
    """z of the far wall (negative: ahead)."""
    back: float
    """z of the wall behind the visitor (positive)."""


def fit_box(points: np.ndarray, floor_y: float, cam: Camera, zone: float) -> Box:
    """The room around the lifted ``points`` (N, 3); the wall behind the visitor lies beyond
    the walkable zone (``zone`` metres around the start, plus half a metre; the side walls
    are the painted ones, which bound the zone as obstacles)."""
    cx, cy, cz = (float(c) for c in cam.position)
    reach = zone + 0.5
    if len(points) == 0:
        return Box(cx - reach, cx + reach, floor_y, cy + 1.0, cz - 2 * reach, cz + reach)
    x0 = min(float(points[:, 0].min()), cx - 0.5)
    x1 = max(float(points[:, 0].max()), cx + 0.5)
    top = max(float(points[:, 1].max()), cy + 0.3)
    far = min(float(points[:, 2].min()), cz - reach)
    return Box(x0, x1, floor_y, top, far, cz + reach)


def _face_grid(box: Box, face: str, texel: float) -> tuple[np.ndarray, tuple[int, int], np.ndarray]:
    """World points (rows, cols, 3) of a face's texel centres (rows top to bottom as seen
    from inside), the texture size, and the face's 4 corners (top-left, top-right,
    bottom-left, bottom-right) in the same order."""
    b = box
    spans = {  # (origin, axis along columns, axis along rows) seen from inside the room
        "far": ((b.x0, b.ceiling, b.far), (b.x1 - b.x0, 0, 0), (0, b.floor - b.ceiling, 0)),
        "back": ((b.x1, b.ceiling, b.back), (b.x0 - b.x1, 0, 0), (0, b.floor - b.ceiling, 0)),
        "left": ((b.x0, b.ceiling, b.back), (0, 0, b.far - b.back), (0, b.floor - b.ceiling, 0)),
        "right": ((b.x1, b.ceiling, b.far), (0, 0, b.back - b.far), (0, b.floor - b.ceiling, 0)),
        "ceiling": ((b.x0, b.ceiling, b.back), (b.x1 - b.x0, 0, 0), (0, 0, b.far - b.back)),
    }
    o, a, c = (np.asarray(v, np.float64) for v in spans[face])
    la, lc = float(np.linalg.norm(a)), float(np.linalg.norm(c))
    cols = int(np.clip(round(la / texel), 8, FACE_TEXELS))
    rows = int(np.clip(round(lc / texel), 8, FACE_TEXELS))
    s = (np.arange(cols) + 0.5) / cols
    t = (np.arange(rows) + 0.5) / rows
    pts = o + s[None, :, None] * a + t[:, None, None] * c
    corners = np.stack([o, o + a, o + c, o + a + c])
    return pts, (rows, cols), corners


def _painted(pts: np.ndarray, rgb: np.ndarray, depth: np.ndarray, cam: Camera,
             sky: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The painting's colour at each world point, whether the painting shows it there (or
    its ``sky`` in that direction: the room must not hide it from the start pose), whether
    it resolves it (:data:`RESOLVED`) and the painting pixels between neighbouring points
    (the lesser of the two directions)."""
    H, W = rgb.shape[:2]
    rel = pts - np.asarray(cam.position)[None, None, :]
    d = -rel[..., 2]
    safe = np.maximum(d, 1e-6)
    px = (W / 2.0 + cam.focal * rel[..., 0] / safe).astype(np.float32)
    py = (H / 2.0 - cam.focal * rel[..., 1] / safe).astype(np.float32)
    col = cv2.remap(rgb.astype(np.float32), px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    dp = cv2.remap(depth.astype(np.float32), px, py, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    inside = (d > 1e-3) & (px >= 0) & (px < W) & (py >= 0) & (py < H)
    shown = inside & (np.abs(dp - d) <= VISIBLE * d)
    if sky is not None:
        shown |= inside & (cv2.remap(sky.view(np.uint8), px, py, cv2.INTER_NEAREST,
                                     borderMode=cv2.BORDER_REPLICATE) > 0)
    step = np.minimum(np.hypot(np.gradient(px, axis=0), np.gradient(py, axis=0)),
                      np.hypot(np.gradient(px, axis=1), np.gradient(py, axis=1)))
    return col, shown, shown & (step >= RESOLVED), step


def _tile(ex: np.ndarray, shown: np.ndarray, resolved: np.ndarray, seed: int) -> np.ndarray | None:
    """A periodic tile quilted from what the painting shows of a face (where it resolves it,
    if enough), or None if too little is shown."""
    block = min(TILE_BLOCK, max(8, min(ex.shape[:2]) // 4))  # a small painting: small faces
    if shown.mean() < MIN_KNOWN or shown.sum() < 4 * block ** 2:
        return None
    valid = resolved if resolved.sum() >= 4 * block ** 2 else shown
    block, overlap = fit_block(ex.shape, block, max(2, block // 5))
    n = max(2, int(math.ceil(TILE_TEXELS / (block - overlap))))
    return quilt_tile(ex, n, n, block, overlap, seed=seed, valid=valid)


def room_textures(rgb: np.ndarray, depth: np.ndarray, box: Box, cam: Camera, seed: int = 0,
                  material: np.ndarray | None = None,
                  sky: np.ndarray | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each face's (texture (rows, cols, 3) uint8, corners (4, 3)); ``material`` (any size,
    bool) is where the painting may be quilted from when it shows no face (not its figures);
    ``sky`` (the painting's size) its sky, kept where the faces cover it from the start pose."""
    from .panorama import multiband_blend

    shown, tiles, grids = {}, {}, {}
    per_m = []
    for face in FACES:  # how finely the painting resolves the room, at a 5 cm probe
        pts, _, _ = _face_grid(box, face, 0.05)
        _, ok, _, step = _painted(pts, rgb, depth, cam)
        per_m.append(step[ok] / 0.05)
    both = np.concatenate(per_m)
    texel = max(TEXEL_M, 1.0 / float(np.percentile(both, 90))) if len(both) else TEXEL_M
    for k, face in enumerate(FACES):
        pts, size, corners = _face_grid(box, face, texel)
        col, ok, resolved, _ = _painted(pts, rgb, depth, cam)
        tiles[face] = _tile(col, ok, resolved, seed + k)  # from the face's own surface only
        if sky is not None and sky.any():
            col, ok, _, _ = _painted(pts, rgb, depth, cam, sky)
        shown[face], grids[face] = (col, ok), (size, corners)
    if all(t is None for t in tiles.values()):  # the painting shows no face: quilt the painting
        size = (max(16, rgb.shape[1] // 2), max(16, rgb.shape[0] // 2))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        ok = np.ones(small.shape[:2], bool) if material is None else \
            cv2.resize(material.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        tiles["far"] = _tile(small, ok, ok, seed)
    mean = rgb.reshape(-1, 3).astype(np.float32).mean(axis=0)
    out = {}
    for face in FACES:
        col, ok = shown[face]
        (rows, cols), corners = grids[face]
        tile = tiles[face]
        for donor in DONORS[face]:
            if tile is None:
                tile = tiles[donor]
        if tile is None:
            fill = np.broadcast_to(mean, (rows, cols, 3)).astype(np.float32)
        else:
            ty, tx = tile.shape[:2]
            fill = tile[np.arange(rows)[:, None] % ty, np.arange(cols)[None, :] % tx]
        tex = multiband_blend(col, fill, ok, levels=4) if ok.any() else fill
        out[face] = (np.clip(tex + 0.5, 0, 255).astype(np.uint8), corners)
    return out


def room_layer(rgb: np.ndarray, depth: np.ndarray, box: Box, cam: Camera, seed: int = 0,
               material: np.ndarray | None = None, sky: np.ndarray | None = None) -> Layer:
    """The room's ceiling and walls as one mesh (a quad per face, 8 x 8 cells) on one atlas
    (the faces stacked top to bottom, each at the atlas's width)."""
    tex = room_textures(rgb, depth, box, cam, seed, material, sky)
    width = max(t.shape[1] for t, _ in tex.values())
    bands = [cv2.resize(t, (width, t.shape[0]), interpolation=cv2.INTER_LINEAR) for t, _ in tex.values()]
    atlas = np.ascontiguousarray(np.concatenate(bands, axis=0))
    total = atlas.shape[0]
    centre = np.asarray(cam.position, np.float64)
    n = 8
    s = np.linspace(0.0, 1.0, n + 1)
    S, T = np.meshgrid(s, s)
    pos, uvs, faces = [], [], []
    row = 0
    for band, (_, corners) in zip(bands, tex.values()):
        tl, tr, bl, br = corners
        p = (tl[None, None] * ((1 - S) * (1 - T))[..., None] + tr[None, None] * (S * (1 - T))[..., None]
             + bl[None, None] * ((1 - S) * T)[..., None] + br[None, None] * (S * T)[..., None])
        p = centre + (p - centre) * OUTSIDE
        # Half a texel inside the band, so filtering never reads the neighbouring face.
        v0, v1 = (row + 0.5) / total, (row + band.shape[0] - 0.5) / total
        uv = np.stack([0.5 / width + S * (1 - 1.0 / width), v0 + T * (v1 - v0)], -1)
        base = len(pos) * (n + 1) ** 2
        vid = np.arange((n + 1) ** 2).reshape(n + 1, n + 1) + base
        a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
        faces.append(np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3), np.stack([a, d, b], -1).reshape(-1, 3)]))
        pos.append(p.reshape(-1, 3))
        uvs.append(uv.reshape(-1, 2))
        row += band.shape[0]
    mesh = Mesh(name="room", positions=np.concatenate(pos).astype(np.float32),
                faces=np.concatenate(faces).astype(np.uint32), uvs=np.concatenate(uvs).astype(np.float32),
                texture=atlas, alpha_mode="OPAQUE", unlit=True)
    far = float(np.linalg.norm(np.array([box.x1 - box.x0, box.ceiling - box.floor, box.back - box.far])))
    return Layer(name="room", node=Node(name="room", mesh=mesh), depth_range=(0.0, far), kind="ground")
