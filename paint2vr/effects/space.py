"""What effects know of a scene: its lifted layers in world space, measured once.

:class:`SceneSpace` holds a conservative height field of the lifted layers (the highest
surface in each ground cell, so a particle kept above it is never inside geometry), a coarse
image-space sky mask (pixels no land layer covers) and the volume in front of the viewer that
particles fill; :func:`scene_space` measures a scene and caches the result per scene. Every
fast path here has a slow, obvious reference it is tested against.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import cv2
import numpy as np

from ..errors import InputError
from ..scene import Camera, Mesh, Node, Scene


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
    around: float = 20.0
    """Radius (metres) of the volume filled all round the start pose (360 degrees): snow and
    rain fall behind and beside the visitor too, not only in the painting's frustum."""
    behind: float = 0.0
    """How far (metres) the land reaches behind the start pose (0: nothing behind, the
    painting alone; more when the world is continued all round, e.g. an extended ground)."""

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


def _open_sky(open_: np.ndarray) -> np.ndarray:
    """Open cells connected to the top row (4-connected flood fill), one cell of margin
    kept from the land."""
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
    er = sky.copy()
    er[1:] &= sky[:-1]
    er[:-1] &= sky[1:]
    er[:, 1:] &= sky[:, :-1]
    er[:, :-1] &= sky[:, 1:]
    return er


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
    around = float(np.clip(far, AROUND_MIN, AROUND_MAX))

    # Height field over the volume's footprint (in front, and all round) and the layers' own.
    px, py, pz = cam.position
    hw = max(math.tan(cam.xfov / 2.0) * 1.3 * far + 3.0, around) + 10.0
    xs = [px - hw, px + hw]
    zs = [pz - far - 10.0, pz + around + 10.0]
    if len(tri):
        flat = tri.reshape(-1, 3)
        xs += [float(flat[:, 0].min()), float(flat[:, 0].max())]
        zs += [float(flat[:, 2].min()), float(flat[:, 2].max())]
    x0, x1 = min(xs), max(xs)
    z0, z1 = min(zs), max(zs)
    cell = max(0.25, max(x1 - x0, z1 - z0) / 256.0)
    shape = (int(math.ceil((z1 - z0) / cell)) + 1, int(math.ceil((x1 - x0) / cell)) + 1)
    behind = 0.0
    if len(tri):
        # Exact per-cell maximum of the triangles (cells no triangle reaches are holes, and
        # fill_holes_max gives them their highest neighbour: errors only go upwards).
        grid = rasterise_max(tri, x0, z0, cell, shape)
        land_back = float(tri[:, :, 2].max())
        behind = max(0.0, land_back - pz)
        floor_behind(grid, z0, cell, land_back)
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
    er = _open_sky(~covered)

    # Ground level: low percentile of the height field inside the view wedge.
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]]
    gx, gz = x0 + (cc + 0.5) * cell, z0 + (rr + 0.5) * cell
    d = pz - gz
    inview = (d > near) & (d < far) & (np.abs(gx - px) < d * math.tan(cam.xfov / 2.0))
    ground = float(np.percentile(grid[inview], 5)) if inview.any() else 0.0
    return SceneSpace(camera=cam, near=near, far=far, sky_depth=sky_depth, height=hf, surface=surface, ground=ground,
                      sky_mask=er, sky_cell=sky_cell, around=around, behind=behind)


AROUND_MIN, AROUND_MAX = 12.0, 30.0
"""Bounds (metres) of the all-round volume's radius (the land's far depth, clipped)."""


def floor_behind(grid: np.ndarray, z0: float, cell: float, land_back: float) -> None:
    """Give the empty rows behind everything the land covers (a painting seen from its front
    only has nothing behind the visitor) the ground's level, in place: left as holes they
    would take the heights of whatever stands nearest (a tree card), and snow falling behind
    the visitor would vanish in mid-air. The level is y = 0, the ground under the start pose
    (ARCHITECTURE.md), or lower where the nearest land row is lower."""
    first = int(math.floor((land_back - z0) / cell)) + 2  # a cell's margin past the land
    if first >= grid.shape[0]:
        return
    near_row = grid[max(first - 3, 0):first]
    level = min(0.0, float(near_row[np.isfinite(near_row)].min())) if np.isfinite(near_row).any() else 0.0
    rows = grid[first:]
    rows[~np.isfinite(rows)] = level
