"""The lifting stage: painting + depth map -> layered, textured 3D scene.

Steps (all geometry at a reduced working resolution, textures at full resolution up to
``max_texture``):

1. pad the painting beyond its frame by ``margin`` (colour stretched with growing blur and
   a fine grain, disparity extrapolated);
2. cut the depth into layers at its occlusion edges (:mod:`.layers`);
3. behind each layer's nearer neighbours, fill colour and disparity by push-pull, as far as
   ``walk_radius`` of head motion can reveal, with the layer's own texture grain re-added
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

import cv2
import numpy as np

from ..config import options_to_dict
from ..depth.base import DepthMap
from ..errors import InputError
from ..painting import Painting
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG, Layer, Mesh, Node, Scene, camera_for_image
from ..texture import coarsen_hidden_texels
from .fill import FILL_GRAIN_SIGMA, add_fill_grain, extend_colour, extend_disparity, push_pull
from .layers import choose_cuts, label_layers
from .mesh import max_pool_cells, uniform_grid_mesh
from .quadtree import Lattice, Plan, count_triangles, make_lattice, planarity_errors, quadtree_mesh, quadtree_plan
from .sky import sky_box, smooth_border

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiftOptions:
    """Options of :func:`lift`."""

    fov_deg: float | None = None
    """Field of view across the painting's longer side, in degrees; None takes the depth
    map's own (``DepthMap.extras['fov_deg']``) or else 55 degrees."""
    eye_height: float | None = None
    """Standing eye height above the lifted ground, in metres; None takes
    ``DepthMap.extras['eye_height']`` or else 1.6."""
    n_layers: int | None = None
    """Exact number of depth layers; None chooses it from the depth edges (up to max_layers)."""
    max_layers: int = 6
    """Most depth layers the automatic choice may cut."""
    max_jump: float = 0.1
    """Relative depth step between neighbouring pixels that counts as an occlusion edge;
    no triangle joins depths further apart than this."""
    min_cut_reveal: float = 0.002
    """A cut becomes a layer boundary only if the background that walk_radius of head motion
    can reveal along the occlusion edges it separates is at least this fraction of the
    image's area."""
    walk_radius: float = 0.5
    """Head motion (metres) the disocclusion fill is sized for."""
    margin: float = 0.15
    """How far the scene extends beyond the painting's frame, as a fraction of its size."""
    max_triangles: int = 300_000
    """Triangle budget of the whole scene (layers and sky)."""
    max_texture: int = 4096
    """Longest side of any layer texture, in pixels."""
    sky_texture: int = 1024
    """Longest side of the sky texture, in pixels."""
    sky_distance: float = 500.0
    """Half-size of the sky box, in metres; layers are kept nearer than 0.8 of it."""
    work_pixels: int = 600_000
    """Most pixels of the reduced resolution at which layers are cut, filled and meshed
    (below that, the working grid has a quarter of the painting's pixels)."""
    adaptive_mesh: bool = True
    """Mesh layers as restricted quadtrees (fine along silhouettes and depth jumps, coarse on
    planes); False uses one uniform step per scene (the coarsest that fits the budget)."""


DEFAULT_LIFT_OPTIONS = LiftOptions()


def _check_options(o: LiftOptions) -> None:
    def bad(name: str, want: str) -> InputError:
        return InputError(f"LiftOptions.{name} must be {want}, got {getattr(o, name)!r}")
    if o.fov_deg is not None and not 1.0 <= o.fov_deg <= 170.0:
        raise bad("fov_deg", "within [1, 170] degrees or None")
    if o.eye_height is not None and not 0.0 < o.eye_height < 100.0:
        raise bad("eye_height", "in (0, 100) metres or None")
    if o.n_layers is not None and not 1 <= o.n_layers <= 64:
        raise bad("n_layers", "an integer in [1, 64] or None")
    if not 1 <= o.max_layers <= 64:
        raise bad("max_layers", "an integer in [1, 64]")
    if not 0.0 < o.max_jump < 10.0:
        raise bad("max_jump", "in (0, 10)")
    if not o.min_cut_reveal >= 0.0:
        raise bad("min_cut_reveal", ">= 0")
    if not 0.0 <= o.walk_radius <= 10.0:
        raise bad("walk_radius", "in [0, 10] metres")
    if not 0.0 <= o.margin <= 1.0:
        raise bad("margin", "in [0, 1]")
    if o.max_triangles < 1000:
        raise bad("max_triangles", ">= 1000")
    if not 16 <= o.max_texture <= 16384:
        raise bad("max_texture", "in [16, 16384]")
    if not 16 <= o.sky_texture <= 16384:
        raise bad("sky_texture", "in [16, 16384]")
    if not o.sky_distance > 1.0:
        raise bad("sky_distance", "> 1 metre")
    if o.work_pixels < 1024:
        raise bad("work_pixels", ">= 1024")


@dataclass(frozen=True)
class _Grid:
    """A raster covering the padded frame: pixel (i, j) centre <-> painting pixel coords."""

    w: int
    h: int
    mx: int
    """Margin columns on each side."""
    my: int
    sx: float
    """Raster pixels per painting pixel, horizontally."""
    sy: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        """(u0, v0, u1, v1): the raster's extent in painting pixel coordinates."""
        return (-self.mx / self.sx, -self.my / self.sy, (self.w - self.mx) / self.sx, (self.h - self.my) / self.sy)

    def to_painting(self, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (col + 0.5 - self.mx) / self.sx, (row + 0.5 - self.my) / self.sy


def _grid(width: int, height: int, scale: float, margin: float) -> _Grid:
    iw, ih = max(1, round(width * scale)), max(1, round(height * scale))
    mx, my = round(margin * iw), round(margin * ih)
    return _Grid(iw + 2 * mx, ih + 2 * my, mx, my, iw / width, ih / height)


def _resize(a: np.ndarray, w: int, h: int, interp: int) -> np.ndarray:
    if a.shape[1] == w and a.shape[0] == h:
        return a
    return cv2.resize(a, (w, h), interpolation=interp)


def lift(painting: Painting, depth: DepthMap, options: LiftOptions = DEFAULT_LIFT_OPTIONS) -> Scene:
    """Lift a painting into a layered 3D scene seen from the painter's eye.

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
    _check_options(options)
    o = options
    fov = float(o.fov_deg if o.fov_deg is not None else depth.extras.get("fov_deg", DEFAULT_FOV_DEG))
    eye = float(o.eye_height if o.eye_height is not None else depth.extras.get("eye_height", DEFAULT_EYE_HEIGHT))
    cam = camera_for_image(W, H, fov, eye)

    # --- working-resolution geometry
    R = o.sky_distance
    zmax = 0.8 * R
    # The working grid scales with the painting (a quarter of its pixels, i.e. half its
    # resolution) up to work_pixels: small paintings pay no fixed cost.
    padded = W * H * (1 + 2 * o.margin) ** 2
    ws = min(1.0, math.sqrt(min(o.work_pixels, max(WORK_MIN_PIXELS, WORK_FRACTION * padded)) / padded))
    g = _grid(W, H, ws, o.margin)
    iw, ih = g.w - 2 * g.mx, g.h - 2 * g.my
    d_in = np.minimum(_resize(depth.depth, iw, ih, cv2.INTER_NEAREST), zmax)
    sky_in = _resize(depth.sky.astype(np.uint8), iw, ih, cv2.INTER_NEAREST) > 0
    if painting.alpha is not None:  # transparent pixels of the painting count as sky
        sky_in |= _resize(painting.alpha.astype(np.uint8), iw, ih, cv2.INTER_NEAREST) == 0
    land = ~sky_in
    if land.any():
        dmin = float(d_in[land].min())
    else:
        dmin = zmax
    # Extrapolate land disparity into the margins; sky pixels borrow it from neighbours first.
    disp_in = 1.0 / d_in
    if land.any() and sky_in.any():
        disp_in = push_pull(disp_in, land.astype(np.float32))
    disp = extend_disparity(disp_in, g.mx, g.my, 1.0 / zmax, 1.5 / dmin)
    sky = cv2.copyMakeBorder(sky_in.astype(np.uint8), g.my, g.my, g.mx, g.mx, cv2.BORDER_REPLICATE) > 0
    dep = (1.0 / disp).astype(np.float32)
    logd = np.log(dep)
    rgb_in = _resize(painting.rgb, iw, ih, cv2.INTER_AREA)
    rgb_w = extend_colour(rgb_in.astype(np.float32), g.mx, g.my)
    edges = None
    if depth.edges is not None:
        e = _resize(np.asarray(depth.edges, np.float32), iw, ih, cv2.INTER_LINEAR)
        edges = cv2.copyMakeBorder(e, g.my, g.my, g.mx, g.mx, cv2.BORDER_REPLICATE)

    # --- layers
    f_w = cam.focal * g.sx
    # Edge weights are disparity differences; times f_w * walk they are revealed pixels per
    # edge pixel, so the floor is an area.
    reveal_scale = f_w * max(o.walk_radius, 0.05)
    cuts = choose_cuts(logd, ~sky, o.max_jump, o.n_layers, o.max_layers,
                       o.min_cut_reveal * g.w * g.h / reveal_scale, edges)
    labels = label_layers(logd, sky, cuts)
    present = [k for k in range(len(cuts) + 1) if (labels == k).any()]
    if not present:  # all sky: one layer would be empty; the sky box carries the painting
        log.warning("the depth map marks every pixel as sky; the scene has only the sky backdrop")

    # --- per-layer fill
    layer_data = []
    highpass = None
    for n, k in enumerate(present):
        own = labels == k
        front = (labels < k) & ~sky
        if front.any():
            z_front = float(dep[front].min())
            z_own = float(dep[own].min())
            band = f_w * o.walk_radius * max(0.0, 1.0 / z_front - 1.0 / z_own) + 3.0
            dist, nearest = cv2.distanceTransformWithLabels((~own).astype(np.uint8), cv2.DIST_L2, 5,
                                                            labelType=cv2.DIST_LABEL_PIXEL)
            fill = front & (dist <= band)
        else:
            fill = np.zeros_like(own)
        if fill.any():
            stack = np.concatenate([disp[..., None], rgb_w], axis=2)
            filled = push_pull(stack, own.astype(np.float32))
        else:  # no fill is shown: only the extended depth is needed (channels are independent)
            filled = push_pull(disp, own.astype(np.float32))[..., None]
        if fill.any():
            if highpass is None:
                highpass = rgb_w - cv2.GaussianBlur(rgb_w, (0, 0), FILL_GRAIN_SIGMA)
            add_fill_grain(filled[..., 1:], highpass, own, fill, dist, nearest)
        ext_k = (1.0 / np.clip(filled[..., 0], 1.0 / zmax, 1.5 / dmin)).astype(np.float32)
        ext_k[own] = dep[own]
        # The layer's own and farther pixels keep their true depth (seams between layers
        # then lie on the same surface); nearer pixels take the fill, kept behind them.
        d_k = np.where(labels < k, np.maximum(ext_k, dep * 1.001), dep).astype(np.float32)
        layer_data.append((k, own, fill, d_k, ext_k, filled[..., 1:] if fill.any() else None))

    # --- mesh budget: adaptive quadtrees, the finest (base step, tolerance) whose triangles fit
    sky_tris_est = 6 * 2 * 24 * 24
    budget = max(0, o.max_triangles - sky_tris_est)
    covers = [cv2.dilate((own | fill).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
              for (_, own, fill, _, _, _) in layer_data]
    if o.adaptive_mesh:
        meshing = _plan_meshes(layer_data, covers, budget, f_w * max(o.walk_radius, 0.05), o, max(g.w, g.h))
        step = meshing[0][0].base if meshing else 1
    else:
        step = 1
        while step < max(g.w, g.h) and sum(2 * int(max_pool_cells(c, step).sum()) for c in covers) > budget:
            step *= 2

    # --- texture raster (full resolution up to max_texture)
    ts = min(1.0, o.max_texture / (max(W, H) * (1 + 2 * o.margin)))
    tg = _grid(W, H, ts, o.margin)
    tiw, tih = tg.w - 2 * tg.mx, tg.h - 2 * tg.my
    rgb_t = extend_colour(_resize(painting.rgb, tiw, tih, cv2.INTER_AREA), tg.mx, tg.my)
    # Labels at texture resolution: interior from the full depth, margins from the work grid.
    d_t = _resize(dep, tg.w, tg.h, cv2.INTER_NEAREST)
    d_t[tg.my:tg.my + tih, tg.mx:tg.mx + tiw] = np.minimum(_resize(depth.depth, tiw, tih, cv2.INTER_NEAREST), zmax)
    sky_t = _resize(sky.astype(np.uint8), tg.w, tg.h, cv2.INTER_NEAREST) > 0
    sky_t[tg.my:tg.my + tih, tg.mx:tg.mx + tiw] = _resize(depth.sky.astype(np.uint8), tiw, tih, cv2.INTER_NEAREST) > 0
    if painting.alpha is not None:
        sky_t[tg.my:tg.my + tih, tg.mx:tg.mx + tiw] |= _resize(painting.alpha.astype(np.uint8), tiw, tih,
                                                               cv2.INTER_NEAREST) == 0
    labels_t = label_layers(np.log(d_t), sky_t, cuts)
    del d_t

    layers: list[Layer] = []
    grow = np.ones((3, 3), np.uint8)
    near_y, near_x = nearest_index(g.h, tg.h), nearest_index(g.w, tg.w)
    for n, (k, own, fill, d_k, ext_k, col_k) in enumerate(layer_data):
        if o.adaptive_mesh:
            lat, plan = meshing[n]
            rows, cols, zs, faces = quadtree_mesh(d_k, ext_k, lat, plan, o.max_jump)
        else:
            rows, cols, zs, faces = uniform_grid_mesh(d_k, ext_k, covers[n], step, o.max_jump)
        if len(faces) == 0:
            continue
        u, v = g.to_painting(cols.astype(np.float64), rows.astype(np.float64))
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
        lab = labels_t[ey0:ey1, ex0:ex1]
        inner = (slice(y0 - ey0, y1 - ey0), slice(x0 - ex0, x1 - ex0))
        own_t = lab == k
        # One texel of overlap into farther layers closes hairline seams between layers.
        seam = ((cv2.dilate(own_t.view(np.uint8), grow) > 0) & (lab > k) & ~sky_t[ey0:ey1, ex0:ex1])[inner]
        painted = own_t[inner] | seam
        fill_t = fill[near_y[y0:y1, None], near_x[None, x0:x1]]
        shown_fill = fill_t & (lab[inner] < k) & ~painted
        tex = np.empty((y1 - y0, x1 - x0, 4), np.uint8)
        # Fill colour only where the fill is shown; everywhere else the painting's own colour,
        # so that bilinear and mip filtering across the alpha edge blend the same colours the
        # painting shows there.
        tex[..., :3] = rgb_t[y0:y1, x0:x1]
        if shown_fill.any():
            # Resized whole as uint8 (4x less data than float; the fill is smooth anyway), then
            # cropped: OpenCV's resize beats an affine warp of the crop alone (measured).
            col_up = _resize((np.clip(col_k, 0, 255) + 0.5).astype(np.uint8), tg.w, tg.h,
                             cv2.INTER_LINEAR)[y0:y1, x0:x1]
            np.copyto(tex[..., :3], col_up, where=shown_fill[..., None])
        tex[..., 3] = (painted | shown_fill).view(np.uint8) * np.uint8(255)
        coarsen_hidden_texels(tex)
        su0 = tu0 + x0 / tg.w * (tu1 - tu0)
        su1 = tu0 + x1 / tg.w * (tu1 - tu0)
        sv0 = tv0 + y0 / tg.h * (tv1 - tv0)
        sv1 = tv0 + y1 / tg.h * (tv1 - tv0)
        uvs = np.stack([(u - su0) / (su1 - su0), (v - sv0) / (sv1 - sv0)], -1).astype(np.float32)
        name = f"layer{len(layers)}"
        mesh = Mesh(name=name, positions=pos, faces=faces, uvs=uvs, texture=tex,
                    alpha_mode="MASK", unlit=True)
        zo = dep[own]
        layers.append(Layer(name=name, node=Node(name=name, mesh=mesh),
                            depth_range=(float(zo.min()), float(zo.max())), kind="layer"))

    # --- sky
    ss = min(1.0, o.sky_texture / (max(W, H) * (1 + 2 * o.margin)))
    sg = _grid(W, H, ss, o.margin)
    if sg.w <= tg.w and sg.h <= tg.h:
        # The layers' extended raster, downsampled: the same margins to within a texel of
        # rounding, without extending the painting a second time (a tenth of lift at 1 MP).
        rgb_s = _resize(rgb_t, sg.w, sg.h, cv2.INTER_AREA).astype(np.float32)
    else:
        siw, sih = sg.w - 2 * sg.mx, sg.h - 2 * sg.my
        rgb_s = extend_colour(_resize(painting.rgb, siw, sih, cv2.INTER_AREA).astype(np.float32), sg.mx, sg.my)
    sky_s = _resize(sky.astype(np.uint8), sg.w, sg.h, cv2.INTER_NEAREST) > 0
    if sky_s.mean() > 0.005:
        # Shrink the sky mask a little so that no land colour bleeds into the backdrop.
        core = cv2.erode(sky_s.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        sky_rgb = push_pull(rgb_s, (core if core.any() else sky_s).astype(np.float32))
        # Behind land above eye level (hills, trees) the sky continues; below it the backdrop
        # is ground, seen past the layers' margins and all around when the head turns: fade
        # land there into the painting's own blurred colours instead of sky.
        row_h = cam.height / 2.0 * sg.sy + sg.my  # the level start camera's horizon
        fade = np.clip((np.arange(sg.h, dtype=np.float32) - row_h) / (GROUND_FADE * sg.h), 0, 1)[:, None]
        weight = (fade * ~sky_s)[..., None]
        ground = cv2.GaussianBlur(rgb_s, (0, 0), max(2.0, sg.w / 32))
        sky_rgb = sky_rgb * (1 - weight) + ground * weight
    else:
        sky_rgb = cv2.GaussianBlur(rgb_s, (0, 0), max(2.0, sg.w / 16))
    sky_tex = cv2.convertScaleAbs(smooth_border(sky_rgb))  # rounded, saturated uint8 (colours >= 0)
    spos, sfaces, suv = sky_box(cam, sg.rect, R)
    smesh = Mesh(name="sky", positions=spos, faces=sfaces, uvs=suv, texture=sky_tex,
                 alpha_mode="OPAQUE", unlit=True)
    layers.append(Layer(name="sky", node=Node(name="sky", mesh=smesh), depth_range=(R, R * math.sqrt(3)),
                        kind="sky"))

    preview = _resize(painting.rgb, *_fit(W, H, 256), cv2.INTER_AREA)
    scene = Scene(info=painting.info, camera=cam, layers=layers, preview_rgb=np.ascontiguousarray(preview),
                  walkable_radius=o.walk_radius)
    scene.provenance["lift"] = options_to_dict(o)
    scene.provenance["lift_result"] = {
        "fov_deg": fov, "eye_height": eye, "cuts_m": [float(x) for x in np.exp(cuts)],
        "layers": len(layers) - 1, "triangles": scene.triangle_count, "grid_step": step,
        "work_size": [g.w, g.h]}  # no timings: provenance must be deterministic
    log.info("lifted %dx%d into %d layers, %d triangles in %.2f s", W, H, len(layers) - 1,
             scene.triangle_count, time.perf_counter() - t_start)
    return scene


GROUND_FADE = 0.08
"""Share of the sky texture's height below the eye's horizon over which land in the backdrop
turns from continued sky into the painting's blurred ground colours."""
WORK_FRACTION = 0.25
"""Share of the (padded) painting's pixels the working grid has, before the work_pixels cap."""
WORK_MIN_PIXELS = 40_000
"""Smallest working grid (unless the painting itself is smaller)."""
MESH_TOLERANCES_PX = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Planarity tolerances tried, finest first, in pixels of parallax over walk_radius."""
TOP_CELL = 64
"""Side of the largest quadtree cell, in working pixels."""


def _plan_meshes(layer_data: list, covers: list[np.ndarray], budget: int, parallax: float,
                 o: LiftOptions, longest: int) -> list[tuple[Lattice, Plan]]:
    """One quadtree per layer: the smallest base step, then the smallest planarity
    tolerance, whose triangles all fit ``budget``. ``parallax`` turns disparity (1/m) into
    pixels of image motion over walk_radius."""
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


def nearest_index(src: int, dst: int) -> np.ndarray:
    """Source index of each of ``dst`` samples in cv2.resize's INTER_NEAREST from ``src``
    (floor(x * src / dst), as OpenCV computes it), so a crop of a nearest-neighbour resize
    can be taken without resizing the whole image."""
    return np.minimum(np.floor(np.arange(dst) * (1.0 / (dst / src))).astype(np.int64), src - 1)


def _fit(w: int, h: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))
