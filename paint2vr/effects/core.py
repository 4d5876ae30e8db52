"""The shared core of every effect: scene-aware space, looping timelines, particle baking.

An effect only knows the scene through :class:`SceneSpace`: a conservative height field of
the lifted layers (the highest surface in each ground cell, so a particle kept above it is
never inside geometry), a coarse image-space sky mask (pixels no land layer covers) and the
volume in front of the viewer that particles fill.

Particles are cheap on a headset because they are baked: each *group* is one mesh of many
small particles (one draw call) on one node whose looping translation track moves them all;
per-particle variety lives in the baked positions. A falling group drops a fixed distance per
cycle, then its scale steps to 0 for an instant while it jumps back up (a respawn nobody
sees), so each particle's start height is chosen to land exactly on the surface below its
path. Groups are staggered in phase, so particles keep falling at every moment.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..color import srgb_to_linear
from ..errors import InputError
from ..scene import Camera, Clip, Effect, Mesh, Node, Scene, Track

EPS_JUMP = 1e-3
"""Seconds a respawning group spends (invisible) moving back to its start."""


# -- colours -------------------------------------------------------------------------------

def rgba(color: tuple[float, float, float], alpha: float = 1.0) -> tuple[float, float, float, float]:
    lin = srgb_to_linear(color)
    return (float(lin[0]), float(lin[1]), float(lin[2]), float(alpha))


# -- geometry of the scene ---------------------------------------------------------------

def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (x, y, z, w) -> (..., 3, 3) rotation matrices."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def node_matrix(node: Node) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = quat_to_matrix(np.asarray(node.rotation)) * np.asarray(node.scale)[None, :]
    m[:3, 3] = node.translation
    return m


def world_meshes(node: Node, parent: np.ndarray | None = None) -> list[tuple[Mesh, np.ndarray]]:
    """Every triangle mesh under ``node`` with its (N, 3) world-space vertex positions."""
    m = node_matrix(node) if parent is None else parent @ node_matrix(node)
    out: list[tuple[Mesh, np.ndarray]] = []
    if node.mesh is not None and node.mesh.faces is not None and node.mesh.faces.size:
        p = node.mesh.positions.astype(np.float64)
        out.append((node.mesh, p @ m[:3, :3].T + m[:3, 3]))
    for c in node.children:
        out.extend(world_meshes(c, m))
    return out


def sample_triangles(tri: np.ndarray, extent: np.ndarray, spacing: float, max_level: int = 32) -> np.ndarray:
    """Points on triangles ``tri`` (T, 3, D) no farther apart than ``spacing`` (in the units
    of ``extent``, each triangle's longest edge there), at most ``max_level`` per edge."""
    level = np.clip(np.ceil(extent / max(spacing, 1e-9)), 1, max_level).astype(np.int64)
    level = 2 ** np.ceil(np.log2(level)).astype(np.int64)  # few distinct levels -> few passes
    out = [tri.reshape(-1, tri.shape[-1])]
    for n in np.unique(level):
        if n <= 1:
            continue
        i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = (i + j) <= n
        a, b = i[keep] / n, j[keep] / n
        t = tri[level == n]
        pts = (t[:, None, 0] * (1 - a - b)[None, :, None] + t[:, None, 1] * a[None, :, None]
               + t[:, None, 2] * b[None, :, None])
        out.append(pts.reshape(-1, tri.shape[-1]))
    return np.concatenate(out, axis=0)


def _edge_extent(tri: np.ndarray) -> np.ndarray:
    """Each triangle's longest edge (T, 3, D) -> (T,). Per-coordinate sums of squares give
    the same values as np.linalg.norm, without its (T, 3, D) stack and small-axis reductions."""
    def length(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = b - a
        sq = d[:, 0] * d[:, 0]
        for k in range(1, d.shape[1]):
            sq += d[:, k] * d[:, k]
        return np.sqrt(sq)
    return np.maximum(np.maximum(length(tri[:, 0], tri[:, 1]), length(tri[:, 1], tri[:, 2])),
                      length(tri[:, 2], tri[:, 0]))


def _min3(a: np.ndarray) -> np.ndarray:
    """(T, 3) -> (T,) minimum; pairwise ufuncs are much faster than a length-3 axis reduction."""
    return np.minimum(np.minimum(a[:, 0], a[:, 1]), a[:, 2])


def _max3(a: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(a[:, 0], a[:, 1]), a[:, 2])


def _max_filter3_reference(a: np.ndarray) -> np.ndarray:
    """Slow obvious 3x3 maximum (edges replicated), the reference for :func:`_max_filter3`."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return np.max(np.stack([p[i:i + h, j:j + w] for i in range(3) for j in range(3)]), axis=0)


def _max_filter3(a: np.ndarray) -> np.ndarray:
    """3x3 maximum with edges replicated: OpenCV's dilation (exact; 3x faster than pairwise
    numpy maxima, measured). Replicated borders keep -inf cells -inf (its default border
    value is -DBL_MAX)."""
    import cv2

    return cv2.dilate(a, _K3, borderType=cv2.BORDER_REPLICATE)


_K3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class HeightField:
    """The highest lifted surface (metres, y) over a grid of ground cells (x, z).

    ``grid[r, c]`` covers x in ``x0 + c * cell`` .. ``+ cell`` and z in ``z0 + r * cell`` ..;
    it is already max-filtered over neighbouring cells, so any point of a cell, or of a path
    whose samples are at most one cell apart, is safe above it.
    """

    x0: float
    z0: float
    cell: float
    grid: np.ndarray

    def at(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        c = np.clip(np.floor((np.asarray(x) - self.x0) / self.cell), 0, self.grid.shape[1] - 1).astype(np.int64)
        r = np.clip(np.floor((np.asarray(z) - self.z0) / self.cell), 0, self.grid.shape[0] - 1).astype(np.int64)
        return self.grid[r, c]


def height_field_reference(points: np.ndarray, x0: float, z0: float, cell: float, shape: tuple[int, int]) -> np.ndarray:
    """Slow obvious per-point maximum, the reference for :func:`build_height_field`'s scatter."""
    grid = np.full(shape, -np.inf)
    for x, y, z in points:
        c = min(max(int(math.floor((x - x0) / cell)), 0), shape[1] - 1)
        r = min(max(int(math.floor((z - z0) / cell)), 0), shape[0] - 1)
        grid[r, c] = max(grid[r, c], y)
    return grid


def scatter_max(points: np.ndarray, x0: float, z0: float, cell: float, shape: tuple[int, int]) -> np.ndarray:
    grid = np.full(shape[0] * shape[1], -np.inf)
    c = np.clip(np.floor((points[:, 0] - x0) / cell), 0, shape[1] - 1).astype(np.int64)
    r = np.clip(np.floor((points[:, 2] - z0) / cell), 0, shape[0] - 1).astype(np.int64)
    np.maximum.at(grid, r * shape[1] + c, points[:, 1])
    return grid.reshape(shape)


def _line_crossings(tri: np.ndarray, axis: int, origin: float, cell: float):
    """Where the grid lines ``coord[axis] = origin + k * cell`` cross triangles (T, 3, 3).

    Returns per (triangle, line) pair: the triangle and line indices (P,), and for each of
    the three edges a (P,) other coordinate, height y and validity of its crossing.
    """
    g = (tri[:, :, axis] - origin) / cell
    lo = np.ceil(_min3(g)).astype(np.int64)
    n = np.maximum(np.floor(_max3(g)).astype(np.int64) - lo + 1, 0)
    ti = np.repeat(np.arange(len(tri)), n)
    k = lo[ti] + np.arange(len(ti)) - (np.cumsum(n) - n)[ti]
    line = origin + k * cell
    other = 2 - axis  # x <-> z
    cross = []
    # Each vertex's coordinates gathered once into contiguous arrays (faster arithmetic below).
    g_, o_, y_ = ([np.take(tri[:, v, c], ti) for v in range(3)] for c in (axis, other, 1))
    for e in range(3):
        a, b = e, (e + 1) % 3
        ga, gb = g_[a], g_[b]
        d = gb - ga
        ok = ((ga - line) * (gb - line) <= 0) & (d != 0)
        f = np.where(ok, (line - ga) / np.where(d != 0, d, 1.0), 0.0)
        cross.append((o_[a] + f * (o_[b] - o_[a]), y_[a] + f * (y_[b] - y_[a]), ok))
    return ti, k, cross


def rasterise_max(tri: np.ndarray, x0: float, z0: float, cell: float, shape: tuple[int, int]) -> np.ndarray:
    """The exact highest point of triangles (T, 3, 3) over each (z, x) grid cell; -inf where
    none lies. A plane's maximum over a triangle-cell polygon is at one of its corners:
    a triangle vertex, an edge's crossing of a grid line, or a grid corner inside the
    triangle, so those points alone are scattered (each to every cell it touches).
    Cells are clamped like :func:`scatter_max`; :func:`rasterise_max_reference` samples densely.
    """
    h, w = shape
    grid = np.full(h * w, -np.inf)

    def put(r: np.ndarray, c: np.ndarray, y: np.ndarray) -> None:
        np.maximum.at(grid, np.clip(r, 0, h - 1) * w + np.clip(c, 0, w - 1), y)

    if not len(tri):
        return grid.reshape(shape)
    flat = tri.reshape(-1, 3)
    put(np.floor((flat[:, 2] - z0) / cell).astype(np.int64), np.floor((flat[:, 0] - x0) / cell).astype(np.int64),
        flat[:, 1])
    # Only triangles spanning a grid line have crossings or inner corners.
    gx, gz = (tri[:, :, 0] - x0) / cell, (tri[:, :, 2] - z0) / cell
    fx, fz = np.floor(gx), np.floor(gz)
    span = (_max3(fx) > _min3(fx)) | (_max3(fz) > _min3(fz))
    span |= _max3(gx == fx) | _max3(gz == fz)
    tri = tri[span]
    # Edges across column lines x = x0 + c * cell: the crossing touches columns c - 1 and c.
    _, cl, cross = _line_crossings(tri, 0, x0, cell)
    for z, y, ok in cross:
        r = np.floor((z[ok] - z0) / cell).astype(np.int64)
        put(r, cl[ok] - 1, y[ok])
        put(r, cl[ok], y[ok])
    # Edges across row lines z = z0 + r * cell: rows r - 1 and r.
    ti, rl, cross = _line_crossings(tri, 2, z0, cell)
    for x, y, ok in cross:
        c = np.floor((x[ok] - x0) / cell).astype(np.int64)
        put(rl[ok] - 1, c, y[ok])
        put(rl[ok], c, y[ok])
    # Grid corners inside: on each row line, between the leftmost and rightmost crossing,
    # heights from the triangle's plane (kept within its vertices' heights: near-vertical
    # triangles have no inner corners worth the rounding).
    xl = np.minimum.reduce([np.where(ok, x, np.inf) for x, _, ok in cross])
    xr = np.maximum.reduce([np.where(ok, x, -np.inf) for x, _, ok in cross])
    has = np.isfinite(xl)
    klo = np.ceil((np.where(has, xl, 0.0) - x0) / cell).astype(np.int64)
    n = np.where(has, np.floor((np.where(has, xr, 0.0) - x0) / cell).astype(np.int64) - klo + 1, 0)
    n = np.maximum(n, 0)
    pi = np.repeat(np.arange(len(rl)), n)
    if len(pi):
        k = klo[pi] + np.arange(len(pi)) - (np.cumsum(n) - n)[pi]
        t = tri[ti[pi]]
        nrm = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
        ny = np.where(np.abs(nrm[:, 1]) > 1e-12, nrm[:, 1], 1e-12)
        dx, dz = x0 + k * cell - t[:, 0, 0], z0 + rl[pi] * cell - t[:, 0, 2]
        yc = np.clip(t[:, 0, 1] - (nrm[:, 0] * dx + nrm[:, 2] * dz) / ny, _min3(t[:, :, 1]), _max3(t[:, :, 1]))
        for dr in (-1, 0):
            for dc in (-1, 0):
                put(rl[pi] + dr, k + dc, yc)
    return grid.reshape(shape)


def rasterise_max_reference(tri: np.ndarray, x0: float, z0: float, cell: float, shape: tuple[int, int],
                            spacing: float | None = None) -> np.ndarray:
    """Slow reference: dense samples (``spacing``, default a tenth of a cell) per-point maxed.
    Never above :func:`rasterise_max`, and close below it."""
    sp = cell / 10.0 if spacing is None else spacing
    pts = sample_triangles(tri, _edge_extent(tri[:, :, [0, 2]]), sp, max_level=1 << 12)
    return height_field_reference(pts, x0, z0, cell, shape)


def fill_holes_max(grid: np.ndarray) -> np.ndarray:
    """Fill -inf cells from their filled neighbours, taking the highest (conservative: a
    cell hidden behind a tree gets the tree's height, never the ground below it)."""
    g = grid.copy()
    if not np.isfinite(g).any():
        return np.zeros_like(g)
    holes = ~np.isfinite(g)
    while holes.any():
        grown = _max_filter3(g)
        np.copyto(g, grown, where=holes)
        holes &= ~np.isfinite(grown)
    return g


def _mark_covered(covered: np.ndarray, u: np.ndarray, v: np.ndarray, z: np.ndarray, cell: float) -> None:
    """Mark the (gh, gw) cells of ``covered`` that image-space triangles (T, 3) touch:
    their corners, plus points at most half a cell apart on the triangles whose corners lie
    in more than one cell (a triangle inside one cell touches only its corners' cell, so
    sampling it adds nothing). Triangles with a corner behind the eye (z <= 0.05) or not
    finite are left out. Same cells as sampling every triangle (tested)."""
    gh, gw = covered.shape
    # A sum of the six coordinates is finite exactly when all are (for image coordinates).
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is nan: not finite, as wanted
        keep = (_min3(z) > 0.05) & np.isfinite(u[:, 0] + u[:, 1] + u[:, 2] + v[:, 0] + v[:, 1] + v[:, 2])
    u, v = u[keep], v[keep]
    cu, cv = np.floor(u / cell), np.floor(v / cell)

    def mark(c: np.ndarray, r: np.ndarray) -> None:
        ok = (c >= 0) & (c < gw) & (r >= 0) & (r < gh)
        covered[r[ok].astype(np.int64), c[ok].astype(np.int64)] = True

    mark(cu.ravel(), cv.ravel())
    multi = (_min3(cu) != _max3(cu)) | (_min3(cv) != _max3(cv))
    if multi.any():
        uv = np.stack([u[multi], v[multi]], -1)
        pts = sample_triangles(uv, _edge_extent(uv), cell * 0.5, max_level=64)
        mark(np.floor(pts[:, 0] / cell), np.floor(pts[:, 1] / cell))


def _mark_covered_reference(covered: np.ndarray, u: np.ndarray, v: np.ndarray, z: np.ndarray, cell: float) -> None:
    """Obvious version of :func:`_mark_covered`: every kept triangle sampled."""
    gh, gw = covered.shape
    keep = (z > 0.05).all(axis=1) & np.isfinite(u).all(axis=1) & np.isfinite(v).all(axis=1)
    uv = np.stack([u[keep], v[keep]], -1)
    pts = sample_triangles(uv, _edge_extent(uv), cell * 0.5, max_level=64)
    c = np.floor(pts[:, 0] / cell).astype(np.int64)
    r = np.floor(pts[:, 1] / cell).astype(np.int64)
    ok = (c >= 0) & (c < gw) & (r >= 0) & (r < gh)
    covered[r[ok], c[ok]] = True


@dataclass(frozen=True)
class SceneSpace:
    """What effects know of a scene: camera, land depth range, height field, sky mask, volume."""

    camera: Camera
    near: float
    """Nearest land view depth (metres)."""
    far: float
    """Farthest land view depth used for effects (metres)."""
    sky_depth: float
    """View depth of the sky backdrop (metres)."""
    height: HeightField
    """The safe height field (max-filtered): keep sampled path points above it."""
    surface: HeightField
    """The highest surface per cell itself (holes filled), for checking results."""
    ground: float
    """A low ground level (metres): the 5th percentile of the height field in view."""
    sky_mask: np.ndarray
    """(gh, gw) bool over the image, True where no land layer covers the cell."""
    sky_cell: float
    """Pixels per sky-mask cell."""

    def half_width(self, depth: np.ndarray | float, margin: float = 1.3) -> np.ndarray:
        """Half the width (metres) of the filled volume at a view depth: past the frame edges."""
        return np.asarray(depth) * math.tan(self.camera.xfov / 2.0) * margin + 3.0

    def in_sky(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> True where they project inside the image onto open sky."""
        u, v, z = self.camera.project(points)
        gh, gw = self.sky_mask.shape
        ok = (z > 0) & np.isfinite(u) & np.isfinite(v)
        c = np.floor(np.where(ok, u, -1) / self.sky_cell).astype(np.int64)
        r = np.floor(np.where(ok, v, -1) / self.sky_cell).astype(np.int64)
        ok &= (c >= 0) & (c < gw) & (r >= 0) & (r < gh)
        out = np.zeros(ok.shape, dtype=bool)
        out[ok] = self.sky_mask[r[ok], c[ok]]
        return out


_SPACES: "weakref.WeakKeyDictionary[Scene, tuple[tuple, SceneSpace]]" = weakref.WeakKeyDictionary()


def _space_key(scene: Scene, max_far: float, sky_grid: int) -> tuple:
    """What a SceneSpace depends on: the camera and the layers' geometry objects."""
    geo = tuple((layer.kind, layer.depth_range, id(layer.node), layer.node.translation, layer.node.rotation,
                 layer.node.scale, id(layer.node.mesh), id(getattr(layer.node.mesh, "positions", None)))
                for layer in scene.layers)
    return (scene.camera, max_far, sky_grid, geo)


def scene_space(scene: Scene, max_far: float = 60.0, sky_grid: int = 64) -> SceneSpace:
    """Measure ``scene`` for effects (see :class:`SceneSpace`).

    Cached per scene while its camera and layer geometry stay the same objects: several
    effects added to one scene measure it once (effects add nodes, never move the land).
    """
    if not isinstance(scene, Scene):
        raise InputError(f"expected a paint2vr Scene, got {type(scene).__name__}")
    key = _space_key(scene, max_far, sky_grid)
    hit = _SPACES.get(scene)
    if hit is not None and hit[0] == key:
        return hit[1]
    space = _measure_space(scene, max_far, sky_grid)
    _SPACES[scene] = (key, space)
    return space


def _measure_space(scene: Scene, max_far: float, sky_grid: int) -> SceneSpace:
    cam = scene.camera
    land = [lw for layer in scene.layers if layer.kind != "sky" for lw in world_meshes(layer.node)]
    sky_layers = [layer for layer in scene.layers if layer.kind == "sky"]
    sky_depth = min((float(l.depth_range[0]) for l in sky_layers), default=200.0)
    faces = [m.faces.astype(np.int64) for m, _ in land]
    tri = np.concatenate([w[f] for (_, w), f in zip(land, faces)], axis=0) if land else np.zeros((0, 3, 3))
    # Project each vertex once and gather per triangle corner (same values as projecting tri).
    uvz = [cam.project(w) for _, w in land]
    tri_u, tri_v, tri_z = ((np.concatenate([p[i][f] for p, f in zip(uvz, faces)], axis=0).reshape(-1)
                            if land else np.zeros(0)) for i in range(3))

    # Land depth range from the layers' vertices in front of the camera.
    if len(tri):
        z = tri_z[tri_z > 0.05]
    else:
        z = np.zeros(0)
    near = float(np.percentile(z, 1)) if z.size else 2.0
    far = float(min(np.percentile(z, 99), max_far)) if z.size else 30.0
    far = max(far, near + 5.0)

    # Height field over the volume's footprint and the layers' own.
    hw = math.tan(cam.xfov / 2.0) * 1.3 * far + 3.0 + 10.0
    px, py, pz = cam.position
    xs = [px - hw, px + hw]
    zs = [pz - far - 10.0, pz + 10.0]
    if len(tri):
        flat = tri.reshape(-1, 3)
        xs += [float(flat[:, 0].min()), float(flat[:, 0].max())]
        zs += [float(flat[:, 2].min()), float(flat[:, 2].max())]
    x0, x1 = min(xs), max(xs)
    z0, z1 = min(zs), max(zs)
    cell = max(0.25, max(x1 - x0, z1 - z0) / 256.0)
    shape = (int(math.ceil((z1 - z0) / cell)) + 1, int(math.ceil((x1 - x0) / cell)) + 1)
    if len(tri):
        # Exact per-cell maximum of the triangles (cells no triangle reaches are holes, and
        # fill_holes_max gives them their highest neighbour: errors only go upwards).
        grid = rasterise_max(tri, x0, z0, cell, shape)
    else:
        grid = np.zeros(shape)
    surface = HeightField(x0=x0, z0=z0, cell=cell, grid=fill_holes_max(grid).astype(np.float32))
    grid = _max_filter3(surface.grid)
    hf = HeightField(x0=x0, z0=z0, cell=cell, grid=grid)

    # Image-space sky: cells no land triangle covers, connected to the top edge.
    sky_cell = max(cam.width, cam.height) / float(sky_grid)
    gw, gh = int(math.ceil(cam.width / sky_cell)), int(math.ceil(cam.height / sky_cell))
    covered = np.zeros((gh, gw), dtype=bool)
    if len(tri):
        _mark_covered(covered, tri_u.reshape(-1, 3), tri_v.reshape(-1, 3), tri_z.reshape(-1, 3), sky_cell)
    open_ = ~covered
    sky = np.zeros_like(open_)
    sky[0] = open_[0]
    while True:  # flood fill from the top row through open cells (4-connected)
        grown = sky.copy()
        grown[1:] |= sky[:-1]
        grown[:-1] |= sky[1:]
        grown[:, 1:] |= sky[:, :-1]
        grown[:, :-1] |= sky[:, 1:]
        grown &= open_
        if (grown == sky).all():
            break
        sky = grown
    # Keep one cell of margin from the land.
    er = sky.copy()
    er[1:] &= sky[:-1]
    er[:-1] &= sky[1:]
    er[:, 1:] &= sky[:, :-1]
    er[:, :-1] &= sky[:, 1:]

    # Ground level: low percentile of the height field inside the view wedge.
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]]
    gx, gz = x0 + (cc + 0.5) * cell, z0 + (rr + 0.5) * cell
    d = pz - gz
    inview = (d > near) & (d < far) & (np.abs(gx - px) < d * math.tan(cam.xfov / 2.0))
    ground = float(np.percentile(grid[inview], 5)) if inview.any() else 0.0
    return SceneSpace(camera=cam, near=near, far=far, sky_depth=sky_depth, height=hf, surface=surface, ground=ground,
                      sky_mask=er, sky_cell=sky_cell)


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


# -- particle groups ---------------------------------------------------------------------

@dataclass(frozen=True)
class GroupMotion:
    """How every particle group of an effect moves over one loop."""

    loop: float
    """Loop length (s)."""
    fall: float
    """Metres a group drops per cycle (0: hovering particles that never respawn)."""
    cycles: int
    """Falls per loop (the cycle is loop / cycles)."""
    drift: tuple[float, float]
    """Wind velocity (x, z) in m/s: how far a group drifts during a cycle."""
    sway: float
    """Amplitude (m) of the smooth looping wander added to each group."""
    keys_per_cycle: int = 24


def group_tracks(node: Node, motion: GroupMotion, phase: float, rng: np.random.Generator) -> list[Track]:
    """Translation (+ STEP scale when falling) tracks of one group, phase in (0, 1)."""
    loop, m = motion.loop, motion.cycles
    t = loop_times(loop, motion.keys_per_cycle * m).astype(np.float64)
    wander = fourier_loop(rng, t, loop, motion.sway, harmonics=3, shape=(3,)).T
    wander[:, 1] *= 0.5
    if motion.fall <= 0:
        return [Track(node, "translation", t.astype(np.float32), close_loop(wander))]
    period = loop / m
    # Respawn moments: where the phase-shifted sawtooth wraps, never at the loop's ends.
    jumps = (np.arange(m) + 1 - phase) * period
    near_jump = np.any(np.abs(t[:, None] - np.concatenate([jumps, jumps + EPS_JUMP])[None]) < 2 * EPS_JUMP, axis=1)
    t_all = np.unique(np.concatenate([t[~near_jump], jumps, jumps + EPS_JUMP]))
    t_all = t_all[(t_all >= 0) & (t_all <= loop)]
    w_all = np.stack([np.interp(t_all, t, wander[:, k]) for k in range(3)], -1)
    f = np.mod(t_all / period + phase, 1.0)
    for j in jumps:  # the sawtooth reaches exactly 1 at a jump, 0 just after
        f[np.isclose(t_all, j, atol=1e-9, rtol=0)] = 1.0
    cyc = period * f
    pos = np.stack([motion.drift[0] * cyc, -motion.fall * f, motion.drift[1] * cyc], -1) + w_all
    s_times = np.concatenate([[0.0], np.ravel(np.stack([jumps, jumps + EPS_JUMP], -1)), [loop]])
    s_vals = np.concatenate([[1.0], np.tile([0.0, 1.0], m), [1.0]])
    scale = np.repeat(s_vals[:, None], 3, axis=1)
    return [Track(node, "translation", t_all.astype(np.float32), close_loop(pos)),
            Track(node, "scale", s_times.astype(np.float32), scale.astype(np.float32), "STEP")]


def visible_path(tracks: list[Track], loop: float, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, (S, 3) offsets) of a group over one loop at the moments it is visible."""
    t = np.linspace(0.0, loop, samples)
    tr = {k.path: k for k in tracks}
    if "scale" in tr:
        keys = tr["translation"].times.astype(np.float64)
        t = np.unique(np.concatenate([t, keys]))  # keys too: the path's corners
        vis = eval_track(tr["scale"], t)[:, 0] > 0
        t = t[vis]
    return t, eval_track(tr["translation"], t)


@dataclass(frozen=True)
class ParticleSpec:
    """What one particle effect bakes: count, groups, motion and a mesh builder."""

    name: str
    count: int
    groups: int
    motion: GroupMotion
    top: float
    """Height (m) above the ground level the falling volume reaches."""
    hover: tuple[float, float] = (0.0, 0.0)
    """For hovering particles, their height range above the surface (m)."""
    clearance: float = 0.05
    """Gap kept between a particle's centre and the surface (its size, roughly)."""
    near_bias: float = 1.5
    """Exponent > 1 puts more particles near the viewer (depth = near + span * r**bias)."""
    max_depth: float | None = None
    """Fill only this far (m), e.g. fireflies near the viewer; None: the whole land."""


def sample_volume_xz(space: SceneSpace, rng: np.random.Generator, n: int, bias: float,
                     max_depth: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, z) in front of and around the viewer, past the frame edges."""
    far = space.far if max_depth is None else min(space.far, max_depth)
    d = -2.0 + (far + 2.0) * rng.random(n) ** bias
    hw = space.half_width(np.maximum(d, 0.0))
    px, _, pz = space.camera.position
    x = px + (rng.random(n) * 2 - 1) * hw
    return x, pz - d


def bake_particles(space: SceneSpace, spec: ParticleSpec, rng: np.random.Generator,
                   make_mesh: Callable[[str, np.ndarray, np.ndarray, np.random.Generator], Mesh]) -> Effect:
    """Bake ``spec`` into ``spec.groups`` nodes+meshes and one looping clip.

    ``make_mesh(name, centres (n, 3) local, view_depths (n,), rng)`` builds each group's mesh.
    """
    mo = spec.motion
    nodes, tracks = [], []
    per = np.full(spec.groups, spec.count // spec.groups)
    per[: spec.count % spec.groups] += 1
    falling = mo.fall > 0
    tiers = max(1, int(round(spec.top / mo.fall))) if falling else 1
    for g in range(spec.groups):
        node = Node(f"{spec.name}_{g:02d}")
        phase = (g + 0.5) / spec.groups
        trk = group_tracks(node, mo, phase, rng)
        t_vis, path = visible_path(trk, mo.loop, 8 * mo.keys_per_cycle * mo.cycles + 1)
        n = int(per[g])
        x, z = sample_volume_xz(space, rng, n, spec.near_bias, spec.max_depth)
        # Put each particle where it passes its sample point at a random moment of its path.
        k = rng.integers(0, len(t_vis), size=n)
        bx, bz = x - path[k, 0], z - path[k, 2]
        # Lowest safe start height: above the surface under every visible point of its path.
        hs = space.height.at(bx[:, None] + path[None, :, 0], bz[:, None] + path[None, :, 2])
        need = np.max(hs - path[None, :, 1], axis=1) + spec.clearance
        if falling:
            # Tier k lands k * fall above the surface; the slab jitter keeps density even.
            tier = rng.integers(0, tiers, size=n)
            by = need + mo.fall * tier + rng.random(n) * mo.fall / spec.groups
        else:
            by = need + spec.hover[0] + rng.random(n) * (spec.hover[1] - spec.hover[0])
        centres = np.stack([bx, by, bz], -1)
        depth = np.maximum(space.camera.position[2] - bz, 0.5)
        node.mesh = make_mesh(node.name, centres.astype(np.float32), depth, rng)
        nodes.append(node)
        tracks.extend(trk)
    return Effect(name=spec.name, nodes=nodes, clips=[Clip(spec.name, tracks)])


# -- particle shapes ---------------------------------------------------------------------

def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.normal(size=(n, 4))
    return quat_to_matrix(q / np.linalg.norm(q, axis=1, keepdims=True))


_TETRA = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64) / math.sqrt(3)
_TETRA_F = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]], dtype=np.uint32)


def tetra_mesh(name: str, centres: np.ndarray, sizes: np.ndarray, rng: np.random.Generator,
               colors: np.ndarray | None = None, **mesh_kw) -> Mesh:
    """One randomly turned tetrahedron (visible from any side) per particle."""
    n = len(centres)
    rot = random_rotations(rng, n)
    v = np.einsum("nij,kj->nki", rot, _TETRA) * (sizes[:, None, None] / 2) + centres[:, None, :]
    faces = (_TETRA_F[None] + 4 * np.arange(n, dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    cols = None if colors is None else np.repeat(colors, 4, axis=0).astype(np.float32)
    return Mesh(name, v.reshape(-1, 3).astype(np.float32), faces.astype(np.uint32), colors=cols, **mesh_kw)


def quad_mesh(name: str, centres: np.ndarray, axis_a: np.ndarray, axis_b: np.ndarray,
              colors: np.ndarray | None = None, **mesh_kw) -> Mesh:
    """One flat diamond per particle, spanned by half-axes ``axis_a`` and ``axis_b`` (n, 3)."""
    n = len(centres)
    v = np.stack([centres + axis_a, centres + axis_b, centres - axis_a, centres - axis_b], 1)
    faces = (np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32)[None]
             + 4 * np.arange(n, dtype=np.uint32)[:, None, None]).reshape(-1, 3)
    cols = None if colors is None else np.repeat(colors, 4, axis=0).astype(np.float32)
    return Mesh(name, v.reshape(-1, 3).astype(np.float32), faces, colors=cols, **mesh_kw)


def wind_xz(speed: float, direction_deg: float) -> tuple[float, float]:
    """Wind velocity (x, z) in m/s; 0 degrees blows to the right, 90 away from the viewer."""
    a = math.radians(direction_deg)
    return (speed * math.cos(a), -speed * math.sin(a))


def falls_per_loop(speed: float, loop: float, height: float) -> int:
    """Whole falls per loop so that one fall is about ``height`` metres (seamless loop)."""
    return max(1, int(round(speed * loop / max(height, 1e-6))))


# -- options and budgets -----------------------------------------------------------------

def check_options(options: object, limits: dict[str, tuple[float, float]]) -> None:
    """Raise InputError for a field outside its [lo, hi] range, or a colour outside [0, 1]."""
    for f in dataclasses.fields(options):  # type: ignore[arg-type]
        v = getattr(options, f.name)
        if f.name in limits:
            lo, hi = limits[f.name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (lo <= v <= hi) or v != v:
                raise InputError(f"{type(options).__name__}.{f.name} must be within [{lo}, {hi}], got {v!r}",
                                 hint=f"the default is {f.default!r}")
        if f.name.endswith("color"):
            if (not isinstance(v, tuple) or len(v) != 3
                    or not all(isinstance(c, (int, float)) and 0.0 <= c <= 1.0 for c in v)):
                raise InputError(f"{type(options).__name__}.{f.name} must be 3 sRGB values in [0, 1], got {v!r}",
                                 hint="for example 1,0.9,0.8")


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
