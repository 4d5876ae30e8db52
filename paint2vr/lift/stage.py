"""The lifting stage: painting + depth map -> layered, textured 3D scene.

Steps (all geometry at a reduced working resolution, textures at full resolution up to
``max_texture``):

1. pad the painting beyond its frame by ``margin`` (colour stretched with growing blur and
   a fine grain, disparity extrapolated);
2. cut the depth into layers at its occlusion edges (:mod:`.layers`);
3. behind each layer's nearer neighbours, fill colour and disparity by push-pull, as far as
   ``walkable_radius`` of head motion can reveal, with the layer's own texture grain re-added
   (:mod:`.fill`);
4. mesh each layer's filled depth, never across a depth jump, within a triangle budget
   (:mod:`.mesh`), with an RGBA texture whose alpha is the layer's coverage;
5. put the sky on a large box around the eye (:mod:`.sky`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from ..config import check_options, opt, options_to_dict
from ..depth.base import DepthMap
from ..errors import InputError, OptionError
from ..painting import Painting
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, Layer, Mesh, Node, Scene, camera_for_image
from ..texture import coarsen_hidden_texels
from .fill import extend_color, extend_disparity, push_pull
from .inpaint import fill_offsets
from .layers import choose_cuts, label_layers
from .mesh import drop_stretched, max_pool_cells, uniform_grid_mesh
from .quadtree import Lattice, Plan, count_triangles, make_lattice, planarity_errors, quadtree_mesh, quadtree_plan
from .raster import FrameRaster, frame_raster, nearest_index, resize
from .sky import sky_layer, sky_texture
from .world import WorkView, build_world

NAME = "lift"
log = logging.getLogger("paint2vr." + NAME)


class LiftInput(NamedTuple):
    """The lift stage's input: the painting and its depth map."""

    painting: Painting
    depth: DepthMap


@dataclass(frozen=True)
class LiftOptions:
    """Options of :func:`lift`."""

    fov_deg: float | None = opt(None, ge=1.0, le=170.0)
    """Field of view across the painting's longer side, in degrees; unset: the one the depth
    estimator assumed (its camera hint), else 55."""
    eye_height: float | None = opt(None, gt=0.0, lt=100.0)
    """Standing eye height above the lifted ground, in metres; unset: the one the depth
    estimator assumed (its camera hint), else 1.6."""
    n_layers: int | None = opt(None, ge=1, le=64)
    """Exact number of depth layers; None chooses it from the depth edges (up to max_layers)."""
    max_layers: int = opt(6, ge=1, le=64)
    """Most depth layers the automatic choice may cut."""
    max_jump: float = opt(0.1, gt=0.0, lt=10.0)
    """Relative depth step between neighbouring pixels that counts as an occlusion edge;
    no triangle joins depths further apart than this."""
    min_cut_reveal: float = opt(0.002, ge=0.0)
    """A cut becomes a layer boundary only if the background that walkable_radius of head motion
    can reveal along the occlusion edges it separates is at least this fraction of the
    image's area."""
    walkable_radius: float = opt(0.5, ge=0.0, le=10.0, aliases=("walk_radius",))
    """How far (metres) the viewer may move from the start pose: the head motion the
    disocclusion fill is sized for (the scene's walkable radius; formerly walk_radius)."""
    fill_motion: float = opt(2.0, ge=0.0, le=10.0)
    """Sideways head motion (metres) the fill behind nearer layers is sized for: what
    stepping this far beside a tree, a figure or a column reveals of the background (never
    less than walkable_radius). Each hidden pixel is filled out to the parallax its own
    occluder's depth gives over this motion, so near occluders get wide fills, far ones
    narrow (the cost follows what can be seen)."""
    margin: float = opt(0.0, ge=0.0, le=1.0)
    """How far the layers extend beyond the painting's frame, as a fraction of its size (their
    margins are stretched colour; with ``world`` the synthesised surroundings continue the
    painting beyond its frame instead)."""
    max_triangles: int = opt(300_000, ge=1000)
    """Triangle budget of the whole scene (layers and sky)."""
    max_texture: int = opt(4096, ge=16, le=16384)
    """Longest side of any layer texture, in pixels."""
    sky_texture: int = opt(1024, ge=16, le=16384)
    """Longest side of the sky texture, in pixels."""
    world: bool = True
    """Continue the painting all around and overhead (panorama, ground, walkable zone:
    :mod:`.world`); False keeps only the sky box behind the painting."""
    world_texture: int = opt(2048, ge=64, le=16384)
    """Width of the surroundings' equirectangular panorama, in pixels (its height is half)."""
    band_scale: int = opt(2, ge=1, le=4)
    """Resolution of the far band (the surroundings round the horizon, where a visitor looks
    most) over the panorama's: 2 doubles it, as its own layer in front of the panorama (a
    2048 px panorama shows 5.7 texels a degree, a headset 20-25 pixels); 1: the panorama only."""
    ground_texture: int = opt(512, ge=32, le=8192)
    """Side of the ground's periodic texture tile, in pixels."""
    ground_radius: float = opt(150.0, ge=1.0)
    """How far the ground extends around the start pose, in metres."""
    walk_zone: float = opt(2.5, ge=0.0)
    """Radius of the walkable zone around the start pose, in metres (less where objects stand)."""
    world_seed: int = 0
    """Seed of the surroundings' synthesis (same seed, same world)."""
    sky_distance: float = opt(500.0, gt=1.0)
    """Half-size of the sky box, in metres; layers are kept nearer than 0.8 of it."""
    work_pixels: int = opt(600_000, ge=1024)
    """Most pixels of the reduced resolution at which layers are cut, filled and meshed
    (below that, the working grid has a quarter of the painting's pixels)."""
    max_stretch: float | None = opt(3.0, gt=0.0, le=1000.0)
    """Drop a layer's triangles whose disparity (1/depth) changes faster than this, in 1/m
    per radian of view (the parallax 1 m of head motion shows across a triangle, per pixel
    of its size), where the sky or a farther layer (its own pixels or its fill) shows what
    they cover: the rubber sheets joining a figure's edge to what is behind it, which
    stepping aside stretches into streaks. Real surfaces stay far below (the ground seen
    from eye height h: 1/h, 0.6 at 1.6 m; a wall passed at x metres: 1/x); None keeps every
    triangle."""
    adaptive_mesh: bool = True
    """Mesh layers as restricted quadtrees (fine along silhouettes and depth jumps, coarse on
    planes); False uses one uniform step per scene (the coarsest that fits the budget)."""


    def _check_fields(self, where: str) -> None:
        if self.ground_radius > 0.5 * self.sky_distance:
            raise OptionError(f"{where}.ground_radius", f"<= sky_distance / 2 ({0.5 * self.sky_distance:g}) metres",
                              self.ground_radius)
        if self.walk_zone > self.ground_radius:
            raise OptionError(f"{where}.walk_zone", f"<= ground_radius ({self.ground_radius:g}) metres",
                              self.walk_zone)

DEFAULT_LIFT_OPTIONS = LiftOptions()


def lift(painting: Painting, depth: DepthMap, options: LiftOptions = DEFAULT_LIFT_OPTIONS) -> Scene:
    """Lift a painting into a layered 3D scene seen from the painter's eye.

    The steps: the depth on a working grid with margins (:func:`_working_geometry`), cuts
    into layers at occlusion edges, each layer filled where nearer layers hide it
    (:func:`_layer_fills`), meshed within the triangle budget (:func:`_mesh_plans`) and
    textured at full resolution (:func:`_layer`), then the sky backdrop (:mod:`.sky`).

    Raises:
        InputError: the depth map does not match the painting, or an option is out of range.
    """
    t_start = time.perf_counter()
    if not isinstance(painting, Painting):
        raise InputError(f"lift expects a Painting, got {type(painting).__name__}",
                         hint="wrap arrays with Painting.from_array(rgb)")
    if not isinstance(depth, DepthMap):
        raise InputError(f"lift expects a DepthMap, got {type(depth).__name__}")
    H, W = painting.height, painting.width
    if depth.shape != (H, W):
        raise InputError(f"depth map is {depth.shape[1]}x{depth.shape[0]} but the painting is {W}x{H} "
                         f"(expected depth shape {(H, W)}, got {depth.shape})",
                         hint="estimate depth at the painting's resolution or resize the depth map")
    check_options(options)
    o = options
    hints = depth.camera_hints()
    fov = float(_first(o.fov_deg, hints.fov_deg, DEFAULT_FOV_DEG))
    eye = float(_first(o.eye_height, hints.eye_height, DEFAULT_EYE_HEIGHT))
    cam = camera_for_image(W, H, fov, eye)

    wk = _working_geometry(painting, depth, cam, o)
    g = wk.g
    # Edge weights are disparity differences; times f_w * walk they are revealed pixels per
    # edge pixel, so the floor is an area.
    reveal_scale = wk.f_w * max(o.walkable_radius, 0.05)
    cuts = choose_cuts(wk.logd, ~wk.sky, o.max_jump, o.n_layers, o.max_layers,
                       o.min_cut_reveal * g.w * g.h / reveal_scale, wk.edges)
    labels = label_layers(wk.logd, wk.sky, cuts)
    present = [k for k in range(len(cuts) + 1) if (labels == k).any()]
    if not present:  # all sky: one layer would be empty; the sky box carries the painting
        log.warning("the depth map marks every pixel as sky; the scene has only the sky backdrop")
    fills = _layer_fills(wk, labels, present, o)
    covers = [cv2.dilate((f.own | f.fill).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0 for f in fills]
    meshing, step = _mesh_plans(fills, covers, wk, o)
    tx = _texture_raster(painting, depth, wk, cuts, o)

    layers, far_gone = _layer_meshes(fills, covers, meshing, step, wk, tx, cam, o)
    sky_tex, sg = sky_texture(painting.rgb, wk.sky, tx.rgb, tx.grid, cam, o.sky_texture, o.margin,
                              smooth=not o.world)
    if far_gone is not None:
        sky_tex = show_behind(sky_tex, sg, far_gone, tx, _far_band(fills[-1], wk, o))
    walk = None
    if o.world:
        world_layers, walk, _ = _world(painting, depth, wk, labels, sky_tex, sg, cam, o)
        layers += world_layers
    else:
        layers.append(sky_layer(sky_tex, sg, cam, o.sky_distance))

    preview = resize(painting.rgb, *_fit(W, H, 256), cv2.INTER_AREA)
    scene = Scene(info=painting.info, camera=cam, layers=layers, preview_rgb=np.ascontiguousarray(preview),
                  walkable_radius=o.walkable_radius)
    scene.provenance["lift"] = options_to_dict(o)
    if walk is not None:
        scene.provenance["walk_zone"] = walk
    scene.provenance["lift_result"] = {
        "fov_deg": fov, "eye_height": eye, "cuts_m": [float(x) for x in np.exp(cuts)],
        "layers": len(layers) - 1, "triangles": scene.triangle_count, "grid_step": step,
        "work_size": [g.w, g.h], "horizon_row": hints.horizon_row}  # no timings: deterministic
    depth_layers = sum(1 for layer in layers if layer.kind == "layer")
    log.info("lifted %dx%d into %d layers (+ %d world and sky), %d triangles in %.2f s", W, H, depth_layers,
             len(layers) - depth_layers, scene.triangle_count, time.perf_counter() - t_start)
    return scene


def _world(painting: Painting, depth: DepthMap, wk: "_Work", labels: np.ndarray, sky_tex: np.ndarray,
           sg: FrameRaster, cam, o: LiftOptions) -> tuple[list[Layer], dict, dict]:
    """The world around the painting (:func:`.world.build_world`) from the working grid's
    frame: land nearer than the farthest land layer counts as near."""
    g = wk.g
    iw, ih = g.inner
    inner = (slice(g.my, g.my + ih), slice(g.mx, g.mx + iw))
    land = ~wk.sky[inner]
    lab = labels[inner]
    far = int(lab[land].max()) if land.any() else 0
    wv = WorkView(dep=wk.dep[inner], land=land, near=land & (lab < far),
                  px=(np.arange(iw) + 0.5) / g.sx, py=(np.arange(ih) + 0.5) / g.sy)
    # The window carries the sky texture's frame (its margins lie outside the window).
    window = np.ascontiguousarray(sky_tex[sg.my:sg.my + sg.inner[1], sg.mx:sg.mx + sg.inner[0]])
    sky = depth.sky if painting.alpha is None else (depth.sky | ~painting.alpha)
    return build_world(painting.rgb, depth.depth, sky, window, wv, cam, o.sky_distance, o.world_texture,
                       o.ground_texture, o.ground_radius, o.walk_zone, o.world_seed,
                       room=bool(depth.extras.get("box_room", False)), horizon_row=depth.camera_hints().horizon_row,
                       band_scale=o.band_scale)


def stage(inputs: LiftInput, options: LiftOptions = DEFAULT_LIFT_OPTIONS) -> Scene:
    """The stage contract's form of :func:`lift`: ``(painting, depth)`` -> Scene."""
    painting, depth = inputs
    return lift(painting, depth, options)


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)  # type: ignore[return-value]


@dataclass(frozen=True)
class _Work:
    """The depth on the working grid, margins included."""

    g: FrameRaster
    dep: np.ndarray
    """(h, w) float32 metres: the painting's depth inside, extrapolated in the margins."""
    disp: np.ndarray
    """1 / dep."""
    logd: np.ndarray
    sky: np.ndarray
    """(h, w) bool."""
    rgb: np.ndarray
    """(h, w, 3) float32 extended painting."""
    edges: np.ndarray | None
    zmax: float
    """Farthest land depth kept (0.8 of the sky distance)."""
    dmin: float
    """Nearest land depth."""
    f_w: float
    """The camera's focal length in working pixels."""


def _working_geometry(painting: Painting, depth: DepthMap, cam, o: LiftOptions) -> _Work:
    """The working grid scales with the painting (a quarter of its pixels, i.e. half its
    resolution) up to work_pixels: small paintings pay no fixed cost."""
    H, W = painting.height, painting.width
    zmax = 0.8 * o.sky_distance
    padded = W * H * (1 + 2 * o.margin) ** 2
    ws = min(1.0, math.sqrt(min(o.work_pixels, max(WORK_MIN_PIXELS, WORK_FRACTION * padded)) / padded))
    g = frame_raster(W, H, ws, o.margin)
    iw, ih = g.inner
    d_in = np.minimum(resize(depth.depth, iw, ih, cv2.INTER_NEAREST), zmax)
    sky_in = resize(depth.sky.astype(np.uint8), iw, ih, cv2.INTER_NEAREST) > 0
    if painting.alpha is not None:  # transparent pixels of the painting count as sky
        sky_in |= resize(painting.alpha.astype(np.uint8), iw, ih, cv2.INTER_NEAREST) == 0
    land = ~sky_in
    dmin = float(d_in[land].min()) if land.any() else zmax
    # Extrapolate land disparity into the margins; sky pixels borrow it from neighbours first.
    disp_in = 1.0 / d_in
    if land.any() and sky_in.any():
        disp_in = push_pull(disp_in, land.astype(np.float32))
    disp = extend_disparity(disp_in, g.mx, g.my, 1.0 / zmax, 1.5 / dmin)
    sky = cv2.copyMakeBorder(sky_in.astype(np.uint8), g.my, g.my, g.mx, g.mx, cv2.BORDER_REPLICATE) > 0
    dep = (1.0 / disp).astype(np.float32)
    rgb_w = extend_color(resize(painting.rgb, iw, ih, cv2.INTER_AREA).astype(np.float32), g.mx, g.my)
    edges = None
    if depth.edges is not None:
        e = resize(np.asarray(depth.edges, np.float32), iw, ih, cv2.INTER_LINEAR)
        edges = cv2.copyMakeBorder(e, g.my, g.my, g.mx, g.mx, cv2.BORDER_REPLICATE)
    return _Work(g, dep, disp, np.log(dep), sky, rgb_w, edges, zmax, dmin, cam.focal * g.sx)


class _Fill(NamedTuple):
    """One layer on the working grid (a tuple, as :func:`_plan_meshes` unpacks it)."""

    k: int
    own: np.ndarray
    """Pixels of this layer."""
    fill: np.ndarray
    """Pixels of nearer layers that head motion can reveal behind them: filled."""
    d_k: np.ndarray
    """The layer's mesh depth: its own, the fill kept behind nearer layers."""
    ext_k: np.ndarray
    """The layer's depth extended everywhere."""
    offset: np.ndarray | None
    """(h, w, 2) int32 working-grid offsets (dy, dx) from each fill pixel to the layer pixel
    whose colour it copies (:func:`.inpaint.fill_offsets`), or None when no fill is shown."""


def _layer_meshes(fills: list[_Fill], covers: list[np.ndarray], meshing, step: int, wk: _Work, tx: _Texture,
                  cam, o: LiftOptions) -> tuple[list[Layer], np.ndarray | None]:
    """(each layer's textured mesh (quadtree or uniform grid), the working pixels where the
    farthest layer's triangles were dropped or None), without the triangles that stretch
    across a depth discontinuity where a farther layer or the sky shows what they cover
    (``max_stretch``). With the world, the farthest layer has the backdrop (the window and
    the panorama) behind all of it, so its stretched triangles go everywhere; the window
    then shows what they covered (:func:`show_behind`)."""
    # backed[n]: working pixels where something beyond layer n has content (the sky, a
    # farther layer's own pixels or its shown fill).
    backed, behind = [], wk.sky.copy()
    for f in reversed(fills):
        backed.append(behind.copy())
        behind |= f.own | f.fill
    backed.reverse()
    if o.world and backed:
        backed[-1] = np.ones_like(backed[-1])
    far_gone = None
    # Where nearer layers dropped triangles, the nearest farther layer with fill there shows
    # the painting's colour instead of its fill, so the start view is unchanged.
    pending = np.zeros_like(wk.sky)
    layers: list[Layer] = []
    for n, f in enumerate(fills):
        if o.adaptive_mesh:
            lat, plan = meshing[n]
            rows, cols, zs, faces = quadtree_mesh(f.d_k, f.ext_k, lat, plan, o.max_jump)
        else:
            rows, cols, zs, faces = uniform_grid_mesh(f.d_k, f.ext_k, covers[n], step, o.max_jump)
        takeover = pending & f.fill
        pending &= ~(f.own | f.fill)
        if o.max_stretch is not None:
            (rows, cols, zs, faces), gone = drop_stretched(rows, cols, zs, faces, backed[n], wk.f_w, o.max_stretch)
            pending |= cv2.dilate(gone.view(np.uint8), _GROW) > 0
            if o.world and n == len(fills) - 1 and gone.any():
                far_gone = gone
        if len(faces):
            layers.append(_layer(f"layer{len(layers)}", f, rows, cols, zs, faces, wk, tx, cam, takeover))
    return layers, far_gone


EDGE_RING = 2
"""Working pixels along the grid's border that are never fill: there the layers' meshes end
at pixel centres, each a little differently, and a wide fill reaching the border behind
nearer layers would show past their edge from the start pose."""
FAR_BAND_MAX = 0.1
"""Widest band (share of the window texture's width) the window is coloured in beside the
farthest layer's dropped triangles."""


def _far_band(f: _Fill, wk: _Work, o: LiftOptions) -> float:
    """Working pixels of the farthest layer that fill_motion reveals behind its own nearest
    part: the parallax between its nearest and farthest depths."""
    z = wk.dep[f.own]
    return float(fill_band(float(z.min()), float(z.max()), wk.f_w, max(o.fill_motion, o.walkable_radius)))


def show_behind(window: np.ndarray, sg: FrameRaster, gone: np.ndarray, tx: _Texture, band: float) -> np.ndarray:
    """The sky texture (raster ``sg``) with the painting's own colours where the farthest
    layer's triangles were dropped (``gone``, working grid: the start view is unchanged) and,
    out to ``band`` working pixels around them, those colours continued by push-pull (what
    stepping aside shows behind the layer's nearer part is its farther part's colours, not
    the sky the texture carries above the horizon)."""
    h, w = window.shape[:2]
    g = resize(gone.view(np.uint8), w, h, cv2.INTER_NEAREST) > 0
    if not g.any():
        return window
    k = int(min(FAR_BAND_MAX * w, math.ceil(band * w / gone.shape[1])))
    paint = resize(tx.rgb, w, h, cv2.INTER_AREA).astype(np.float32)
    out = window.copy()
    if k > 0:
        near = cv2.dilate(g.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))) > 0
        sky_s = resize(tx.sky.view(np.uint8), w, h, cv2.INTER_NEAREST) > 0
        ring = near & ~g & ~sky_s
        if ring.any():
            ext = push_pull(paint, g.astype(np.float32))
            out[ring] = np.clip(ext[ring] + 0.5, 0, 255).astype(np.uint8)
    out[g] = np.clip(paint[g] + 0.5, 0, 255).astype(np.uint8)
    return out


def _layer_fills(wk: _Work, labels: np.ndarray, present: list[int], o: LiftOptions) -> list[_Fill]:
    """Each present layer, filled in a band behind nearer layers sized for fill_motion:
    a nearer pixel at depth z is filled when it lies within f * motion * (1/z - 1/z_own)
    (plus 3 pixels) of the layer, z_own the layer's nearest depth (:func:`fill_band`).

    The fill is computed inside the layer's own extent grown by the band (every known pixel
    and every filled one lie there; the meshes and textures read nothing outside), so a
    layer that is a strip of the picture costs a strip.
    """
    dep, disp, sky, rgb_w = wk.dep, wk.disp, wk.sky, wk.rgb
    H, W = dep.shape
    inside = np.zeros((H, W), bool)
    inside[EDGE_RING:H - EDGE_RING, EDGE_RING:W - EDGE_RING] = True
    out = []
    for k in present:
        own_full = labels == k
        front_full = (labels < k) & ~sky
        motion = max(o.fill_motion, o.walkable_radius)
        band = 0.0
        z_own = float(dep[own_full].min())
        if front_full.any():
            band = fill_band(float(dep[front_full].min()), z_own, wk.f_w, motion)
        ys, xs = np.nonzero(own_full.any(axis=1))[0], np.nonzero(own_full.any(axis=0))[0]
        m = int(math.ceil(band)) + 4  # the band, the cover's dilation and the lattice's extra pixel
        box = (slice(max(0, ys[0] - m), min(H, ys[-1] + 1 + m)), slice(max(0, xs[0] - m), min(W, xs[-1] + 1 + m)))
        own, front = own_full[box], front_full[box]
        if front.any():
            dist = cv2.distanceTransform((~own).astype(np.uint8), cv2.DIST_L2, 5)
            fill = front & (dist <= fill_band(dep[box], z_own, wk.f_w, motion)) & inside[box]
        else:
            fill = np.zeros_like(own)
        # Depth: push-pull of disparity (planes stay planes behind objects); colour: exemplar
        # offsets into the layer's own pixels (:mod:`.inpaint`), applied at full resolution.
        filled = push_pull(disp[box], own.astype(np.float32))[..., None]
        ext_k = dep.copy()  # outside the box nothing reads it
        ext_k[box] = 1.0 / np.clip(filled[..., 0], 1.0 / wk.zmax, 1.5 / wk.dmin)
        ext_k[own_full] = dep[own_full]
        # The layer's own and farther pixels keep their true depth (seams between layers
        # then lie on the same surface); nearer pixels take the fill, kept behind them.
        d_k = np.where(labels < k, np.maximum(ext_k, dep * 1.001), dep).astype(np.float32)
        fill_full = np.zeros_like(own_full)
        fill_full[box] = fill
        offset = None
        if fill.any():
            offset = np.zeros(rgb_w.shape[:2] + (2,), np.int32)
            offset[box] = fill_offsets(rgb_w[box], own, fill, seed=k)
        out.append(_Fill(k, own_full, fill_full, d_k, ext_k, offset))
    return out


def fill_band(z_front, z_own: float, focal: float, motion: float):
    """Width (working pixels) of the background that ``motion`` metres of sideways head
    motion reveals beside an occluder at depth ``z_front`` (scalar or array) in front of a
    layer whose nearest depth is ``z_own``: the parallax between them, focal * motion *
    (1/z_front - 1/z_own), plus 3 pixels; none (3) where the occluder is not nearer."""
    return focal * motion * np.maximum(0.0, 1.0 / np.asarray(z_front, np.float64) - 1.0 / z_own) + 3.0


def _mesh_plans(fills: list[_Fill], covers: list[np.ndarray], wk: _Work, o: LiftOptions):
    """(adaptive quadtree plans or None, base step): the finest (base step, tolerance) whose
    triangles fit the budget left after the sky box."""
    sky_tris_est = 6 * 2 * 24 * 24 if not o.world else 40_000  # panorama, ground, navmesh, collider
    budget = max(0, o.max_triangles - sky_tris_est)
    longest = max(wk.g.w, wk.g.h)
    if o.adaptive_mesh:
        meshing = _plan_meshes(fills, covers, budget, wk.f_w * max(o.walkable_radius, 0.05), o, longest)
        return meshing, (meshing[0][0].base if meshing else 1)
    step = 1
    while step < longest and sum(2 * int(max_pool_cells(c, step).sum()) for c in covers) > budget:
        step *= 2
    return None, step


@dataclass(frozen=True)
class _Texture:
    """The full-resolution raster the layer textures are cut from."""

    grid: FrameRaster
    rgb: np.ndarray
    """(h, w, 3) uint8 extended painting."""
    labels: np.ndarray
    """(h, w) layer of each texel (interior from the full depth, margins from the work grid)."""
    sky: np.ndarray
    near_y: np.ndarray
    """Working-grid row of each texture row (nearest neighbour)."""
    near_x: np.ndarray


def _texture_raster(painting: Painting, depth: DepthMap, wk: _Work, cuts: np.ndarray, o: LiftOptions) -> _Texture:
    """Full resolution up to max_texture."""
    H, W = painting.height, painting.width
    tg = frame_raster(W, H, min(1.0, o.max_texture / (max(W, H) * (1 + 2 * o.margin))), o.margin)
    tiw, tih = tg.inner
    inside = (slice(tg.my, tg.my + tih), slice(tg.mx, tg.mx + tiw))
    rgb_t = extend_color(resize(painting.rgb, tiw, tih, cv2.INTER_AREA), tg.mx, tg.my)
    d_t = resize(wk.dep, tg.w, tg.h, cv2.INTER_NEAREST)
    d_t[inside] = np.minimum(resize(depth.depth, tiw, tih, cv2.INTER_NEAREST), wk.zmax)
    sky_t = resize(wk.sky.astype(np.uint8), tg.w, tg.h, cv2.INTER_NEAREST) > 0
    sky_t[inside] = resize(depth.sky.astype(np.uint8), tiw, tih, cv2.INTER_NEAREST) > 0
    if painting.alpha is not None:
        sky_t[inside] |= resize(painting.alpha.astype(np.uint8), tiw, tih, cv2.INTER_NEAREST) == 0
    labels_t = label_layers(np.log(d_t), sky_t, cuts)
    return _Texture(tg, rgb_t, labels_t, sky_t, nearest_index(wk.g.h, tg.h), nearest_index(wk.g.w, tg.w))


_GROW = np.ones((3, 3), np.uint8)


def _layer(name: str, f: _Fill, rows: np.ndarray, cols: np.ndarray, zs: np.ndarray, faces: np.ndarray,
           wk: _Work, tx: _Texture, cam, takeover: np.ndarray | None = None) -> Layer:
    """A layer's textured mesh from its vertices on the working grid; its fill shows the
    painting's own colour where ``takeover`` (working grid) is set."""
    g, tg, k = wk.g, tx.grid, f.k
    u, v = _to_frame_edges(g, cols, rows)
    pos = cam.unproject(u, v, zs.astype(np.float64))
    # Crop to the mesh's extent (plus a texel) to save texture memory; every per-layer
    # texture raster is built inside the crop only.
    tu0, tv0, tu1, tv1 = tg.rect
    cx = (u - tu0) / (tu1 - tu0) * tg.w
    cy = (v - tv0) / (tv1 - tv0) * tg.h
    x0, x1 = max(0, int(np.floor(cx.min())) - 1), min(tg.w, int(np.ceil(cx.max())) + 1)
    y0, y1 = max(0, int(np.floor(cy.min())) - 1), min(tg.h, int(np.ceil(cy.max())) + 1)
    # Texture: this layer's painted pixels, filled colour elsewhere; alpha = coverage.
    # The masks are cut one texel wider than the crop so the seam dilation sees its
    # neighbours exactly as at full size.
    ex0, ey0, ex1, ey1 = max(0, x0 - 1), max(0, y0 - 1), min(tg.w, x1 + 1), min(tg.h, y1 + 1)
    lab = tx.labels[ey0:ey1, ex0:ex1]
    inner = (slice(y0 - ey0, y1 - ey0), slice(x0 - ex0, x1 - ex0))
    own_t = lab == k
    # One texel of overlap into farther layers closes hairline seams between layers.
    seam = ((cv2.dilate(own_t.view(np.uint8), _GROW) > 0) & (lab > k) & ~tx.sky[ey0:ey1, ex0:ex1])[inner]
    painted = own_t[inner] | seam
    fill_t = f.fill[tx.near_y[y0:y1, None], tx.near_x[None, x0:x1]]
    shown_fill = fill_t & (lab[inner] < k) & ~painted
    if takeover is not None and takeover.any():
        keep = shown_fill & takeover[tx.near_y[y0:y1, None], tx.near_x[None, x0:x1]]
        painted |= keep
        shown_fill &= ~keep
    # Fill colour only where the fill is shown; everywhere else the painting's own colour,
    # so that bilinear and mip filtering across the alpha edge blend the same colours the
    # painting shows there.
    rgb = tx.rgb[y0:y1, x0:x1].copy()
    if shown_fill.any():
        _copy_fill(rgb, shown_fill, f.offset, tx, (y0, x0), (g.h, g.w))
    # Channels joined by OpenCV: faster than writing a strided (h, w, 4) view (same texels).
    tex = cv2.merge([rgb, (painted | shown_fill).view(np.uint8) * np.uint8(255)])
    coarsen_hidden_texels(tex)
    su0 = tu0 + x0 / tg.w * (tu1 - tu0)
    su1 = tu0 + x1 / tg.w * (tu1 - tu0)
    sv0 = tv0 + y0 / tg.h * (tv1 - tv0)
    sv1 = tv0 + y1 / tg.h * (tv1 - tv0)
    uvs = np.stack([(u - su0) / (su1 - su0), (v - sv0) / (sv1 - sv0)], -1).astype(np.float32)
    mesh = Mesh(name=name, positions=pos, faces=faces, uvs=uvs, texture=tex, alpha_mode="MASK", unlit=True)
    zo = wk.dep[f.own]
    return Layer(name=name, node=Node(name=name, mesh=mesh), depth_range=(float(zo.min()), float(zo.max())),
                 kind="layer")


def _to_frame_edges(g, cols: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Painting coordinates of mesh vertices at working pixel centres, those on the raster's
    outermost rows and columns moved out half a working pixel to its edge: meshes ending at
    the border pixels' centres leave a strip at the frame's edges (one pixel of the start
    view at 480 px) where the backdrop showed instead of the painting."""
    u, v = g.to_painting(cols.astype(np.float64), rows.astype(np.float64))
    u0, v0, u1, v1 = g.rect
    u = np.where(cols <= 0, u0, np.where(cols >= g.w - 1, u1, u))
    v = np.where(rows <= 0, v0, np.where(rows >= g.h - 1, v1, v))
    return u, v


def _copy_fill(rgb: np.ndarray, shown: np.ndarray, offset: np.ndarray, tx: _Texture, corner: tuple[int, int],
               work: tuple[int, int]) -> None:
    """Shown fill texels of a crop (corner (y0, x0) of the texture raster) copy the texel
    their working pixel's offset points to, scaled to texture texels: the painting's own
    full-resolution pixels of the layer, in place (inside the shown texels' bounding box only)."""
    tg = tx.grid
    rs, cs = np.flatnonzero(shown.any(axis=1)), np.flatnonzero(shown.any(axis=0))
    if not len(rs):
        return
    ra, rb, ca, cb = int(rs[0]), int(rs[-1]) + 1, int(cs[0]), int(cs[-1]) + 1
    rgb, shown = rgb[ra:rb, ca:cb], shown[ra:rb, ca:cb]  # views: the copy below writes through
    (y0, x0), (h, w) = (corner[0] + ra, corner[1] + ca), shown.shape
    ny, nx = tx.near_y[y0:y0 + h], tx.near_x[x0:x0 + w]
    o = offset[ny][:, nx].astype(np.float32)  # two 1-D takes: rows, then columns
    map_y = np.rint(o[..., 0] * np.float32(tg.h / work[0]))
    map_y += np.arange(y0, y0 + h, dtype=np.float32)[:, None]
    map_x = np.rint(o[..., 1] * np.float32(tg.w / work[1]))
    map_x += np.arange(x0, x0 + w, dtype=np.float32)[None, :]
    src = cv2.remap(tx.rgb, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    cv2.copyTo(src, shown.view(np.uint8), rgb)  # masked copy, in place


WORK_FRACTION = 0.25
"""Share of the (padded) painting's pixels the working grid has, before the work_pixels cap."""
WORK_MIN_PIXELS = 40_000
"""Smallest working grid (unless the painting itself is smaller)."""
MESH_TOLERANCES_PX = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Planarity tolerances tried, finest first, in pixels of parallax over walkable_radius."""
TOP_CELL = 64
"""Side of the largest quadtree cell, in working pixels."""


def _plan_meshes(layer_data: list, covers: list[np.ndarray], budget: int, parallax: float,
                 o: LiftOptions, longest: int) -> list[tuple[Lattice, Plan]]:
    """One quadtree per layer: the smallest base step, then the smallest planarity
    tolerance, whose triangles all fit ``budget``. ``parallax`` turns disparity (1/m) into
    pixels of image motion over walkable_radius."""
    base = 1
    while True:
        levels = max(1, int(math.log2(max(2, TOP_CELL // base))))
        lats = [make_lattice(d_k, cov, base, levels) for (_, _, _, d_k, _, _), cov in zip(layer_data, covers)]
        # Silhouettes and jumps alone (no planarity splits) are the fewest triangles any
        # tolerance gives: if even they overflow, skip this step's planarity errors, the
        # costliest part of planning (same result).
        if base < longest:
            none = [0.0] * (levels + 1)
            floor = sum(count_triangles(lat, quadtree_plan(lat, none, math.inf, o.max_jump), o.max_jump)
                        for lat in lats)
            if floor > budget:
                base = _next_base(base)
                continue
        errs = [planarity_errors(lat) for lat in lats]

        def fitting(tol_px: float) -> list[Plan] | None:
            plans = [quadtree_plan(lat, e, tol_px / parallax, o.max_jump) for lat, e in zip(lats, errs)]
            fits = sum(count_triangles(lat, p, o.max_jump) for lat, p in zip(lats, plans)) <= budget
            return plans if fits else None
        # A coarser tolerance never adds triangles: if the finest fits it is the answer (small
        # paintings: one plan), and if the coarsest does not fit, no finer one will, so go
        # straight to the next base step (same result, far fewer plans).
        finest = fitting(MESH_TOLERANCES_PX[0])
        if finest is not None:
            return list(zip(lats, finest))
        coarsest = fitting(MESH_TOLERANCES_PX[-1])
        if coarsest is not None:
            for tol_px in MESH_TOLERANCES_PX[1:-1]:
                plans = fitting(tol_px)
                if plans is not None:
                    return list(zip(lats, plans))
            return list(zip(lats, coarsest))
        if base >= longest:
            return list(zip(lats, [quadtree_plan(lat, e, MESH_TOLERANCES_PX[-1] / parallax, o.max_jump)
                                   for lat, e in zip(lats, errs)]))
        base = _next_base(base)


def _next_base(base: int) -> int:
    """Steps of about sqrt(2) (1, 2, 3, 4, 6, 9, ...): silhouette triangles scale with 1 / base."""
    return base + 1 if base < 2 else (base * 3 // 2 if base % 2 == 0 else base * 4 // 3)


def _fit(w: int, h: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))
