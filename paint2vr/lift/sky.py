"""The sky backdrop: a large box around the eye whose front face carries the painted sky.

The front face is the plane z = -R, on which the start camera's projection is affine, so the
painted sky maps onto it exactly; the face's grid lines pass through the texture's edges.
Every other direction keeps its elevation and takes its azimuth clamped to the frame: turning
the head shows the texture's side edge at the same height (sky above, land below, one
horizon all around), looking up or down its top or bottom edge. The texture's outer ring is
made smooth and its left and right edges equal (:func:`smooth_border`), so the clamped colours
form no streaks and meet behind the viewer without a seam; the box's vertices on that back
seam are doubled (u = 0 on the left, u = 1 on the right) so no triangle sweeps the texture.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..scene import Camera, Layer, Mesh, Node
from .fill import extend_color, push_pull
from .raster import FrameRaster, frame_raster, resize


def _lines(lo: float, hi: float, a: float, b: float, n_in: int, n_out: int) -> np.ndarray:
    """Grid coordinates on [lo, hi] with extra lines at the texture edges a < b inside it."""
    a, b = max(lo, min(a, hi)), max(lo, min(b, hi))
    parts = [np.linspace(lo, a, n_out + 1), np.linspace(a, b, n_in + 1), np.linspace(b, hi, n_out + 1)]
    return np.unique(np.concatenate(parts))


def sky_box(camera: Camera, rect: tuple[float, float, float, float], radius: float,
            n: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions (N, 3) float32, faces (M, 3) uint32, uvs (N, 2) float32) of the sky box.

    ``rect`` = (u0, v0, u1, v1) is the texture's extent in the camera's pixel coordinates.
    """
    u0, v0, u1, v1 = rect
    f, cx, cy = camera.focal, camera.width / 2.0, camera.height / 2.0
    R = float(radius)
    # Front face in camera-relative coordinates (x right, y up, z = -R).
    xs = _lines(-R, R, (u0 - cx) / f * R, (u1 - cx) / f * R, n, 4)
    xs = np.unique(np.concatenate([xs, [0.0]]))  # the back seam (x = 0 behind) is a grid line
    ys = _lines(-R, R, -(v1 - cy) / f * R, -(v0 - cy) / f * R, n, 4)
    zs = np.linspace(-R, R, n + 1)
    # Every face uses the same lines per axis, so shared box edges have identical vertices
    # (no T-junction cracks).
    def plane(a: np.ndarray, b: np.ndarray, axis: int, value: float) -> np.ndarray:
        ga, gb = np.meshgrid(a, b)
        cols = [ga, gb]
        cols.insert(axis, np.full_like(ga, value))
        return np.stack(cols, -1)
    faces_xyz = [plane(xs, ys, 2, -R), plane(xs, ys, 2, R),      # front, back
                 plane(ys, zs, 0, -R), plane(ys, zs, 0, R),      # left, right (y, z)
                 plane(xs, zs, 1, R), plane(xs, zs, 1, -R)]      # top, bottom (x, z)
    pos, tri = [], []
    base = 0
    for g in faces_xyz:
        ny, nx = g.shape[:2]
        vid = np.arange(ny * nx).reshape(ny, nx) + base
        a, b, c, d = vid[:-1, :-1], vid[:-1, 1:], vid[1:, :-1], vid[1:, 1:]
        tri.append(np.concatenate([np.stack([a, c, d], -1).reshape(-1, 3),
                                   np.stack([a, d, b], -1).reshape(-1, 3)]))
        pos.append(g.reshape(-1, 3))
        base += ny * nx
    p = np.concatenate(pos)
    faces = np.concatenate(tri).astype(np.int64)
    uv = direction_uv(p, camera, rect)
    # Back seam: vertices straight behind (x = 0, z > 0) got u = 1; faces on its left side
    # use copies with u = 0.
    seam = (np.abs(p[:, 0]) < 1e-9 * R) & (p[:, 2] > 1e-9 * R)
    if seam.any():
        ids = np.flatnonzero(seam)
        copy_of = np.full(len(p), -1)
        copy_of[ids] = len(p) + np.arange(len(ids))
        left = p[faces, 0].mean(axis=1) < 0
        sub = faces[left]
        hit = seam[sub]
        sub[hit] = copy_of[sub[hit]]
        faces[left] = sub
        p = np.concatenate([p, p[ids]])
        uv = np.concatenate([uv, np.stack([np.zeros(len(ids)), uv[ids, 1]], -1)])
    world = p + np.asarray(camera.position)[None, :]
    return world.astype(np.float32), faces.astype(np.uint32), uv.astype(np.float32)


def direction_uv(d: np.ndarray, camera: Camera, rect: tuple[float, float, float, float]) -> np.ndarray:
    """Texture (u, v) seen in camera-relative directions ``d`` (N, 3) (x right, y up, -z ahead).

    Inside the frame it is the start camera's projection. Outside, the azimuth is clamped to
    the frame's left or right edge and the elevation kept (v of the same elevation on that
    edge), so the edges continue around the viewer; straight behind counts as the right edge.
    """
    u0, v0, u1, v1 = rect
    f, cx, cy = camera.focal, camera.width / 2.0, camera.height / 2.0
    x, y, ahead = d[:, 0], d[:, 1], -d[:, 2]
    flat = np.hypot(x, ahead)
    theta = np.arctan2(x, ahead)  # azimuth, 0 ahead, + right, +-pi behind
    th = np.clip(theta, np.arctan((u0 - cx) / f), np.arctan((u1 - cx) / f))
    with np.errstate(divide="ignore", invalid="ignore"):
        tan_el = np.where(flat > 0, y / flat, np.sign(y) * 1e6)
    px = cx + f * np.tan(th)
    py = cy - f * np.clip(tan_el, -1e6, 1e6) / np.cos(th)
    return np.stack([np.clip((px - u0) / (u1 - u0), 0, 1), np.clip((py - v0) / (v1 - v0), 0, 1)], -1)


BORDER_RAMP = 0.06
"""Share of the texture's width over which its sides fade into the smooth ring."""
POLE_RAMP = 0.15
"""Share of the texture's height over which its top and bottom fade into one colour each
(wider than the sides: every direction from about 45 degrees up to the zenith falls there)."""


def smooth_border(tex: np.ndarray) -> np.ndarray:
    """Make an (h, w, 3) float sky texture's outer ring smooth, for the clamped directions.

    The top and bottom edges become one colour each (their median: straight up and straight
    down all azimuths meet, so any pattern there would pinch into a streak); then the left
    and right edges become one profile (their mean, blurred down the edge: no seam where they
    meet behind the viewer, no horizontal streak from a dark feature at an edge). The texture
    fades into them over POLE_RAMP of its height and BORDER_RAMP of its width. Returns a new
    array.
    """
    out = np.asarray(tex, np.float32).copy()
    h, w = out.shape[:2]
    k = max(1, min(h // 2, int(round(POLE_RAMP * h))))
    # Fully one colour over the outer third of the band: near the poles the texture is
    # sampled from coarse mip levels, which average that many rows.
    ramp = np.clip((k - np.arange(k, dtype=np.float32)) / (k * 2 / 3), 0, 1)[:, None, None]  # 1 at the edge
    top, bottom = np.median(out[0], axis=0), np.median(out[-1], axis=0)
    out[:k] = out[:k] * (1 - ramp) + top * ramp
    out[h - k:] = out[h - k:] * (1 - ramp[::-1]) + bottom * ramp[::-1]
    side = cv2.GaussianBlur(((out[:, :1] + out[:, -1:]) / 2).copy(), (0, 0), sigmaX=1e-6,
                            sigmaY=max(1.0, h / 24), borderType=cv2.BORDER_REPLICATE)  # (h, 1, 3)
    k = max(1, min(w // 2, int(round(BORDER_RAMP * w))))
    ramp = np.clip(1.0 - np.arange(k, dtype=np.float32) / k, 0, 1)[None, :, None]
    out[:, :k] = out[:, :k] * (1 - ramp) + side * ramp
    out[:, w - k:] = out[:, w - k:] * (1 - ramp[:, ::-1]) + side * ramp[:, ::-1]
    return out


GROUND_FADE = 0.08
"""Share of the sky texture's height below the eye's horizon over which land in the backdrop
turns from continued sky into the painting's blurred ground colours."""


def sky_texture(painting_rgb: np.ndarray, sky: np.ndarray, rgb_t: np.ndarray, tg: FrameRaster,
                camera: Camera, max_side: int, margin: float, smooth: bool = True) -> tuple[np.ndarray, FrameRaster]:
    """(uint8 (h, w, 3) sky texture, its raster) at most ``max_side`` long.

    ``sky`` is the sky mask on any raster of the padded frame, ``rgb_t`` the layers' extended
    painting on raster ``tg``. The texture is the painting's sky, push-pulled over the land
    above eye level (the sky continues behind hills and trees) and fading below it into the
    painting's blurred colours (the ground seen past the layers' margins and all around); or
    the blurred painting when there is (almost) no sky; its outer ring smoothed by
    :func:`smooth_border` (unless ``smooth`` is False: the world's window shows the texture
    only inside the frame, where it must stay the painting's).
    """
    H, W = painting_rgb.shape[:2]
    sg = frame_raster(W, H, min(1.0, max_side / (max(W, H) * (1 + 2 * margin))), margin)
    if sg.w <= tg.w and sg.h <= tg.h:
        # The layers' extended raster, downsampled: the same margins to within a texel of
        # rounding, without extending the painting a second time (a tenth of lift at 1 MP).
        rgb_s = resize(rgb_t, sg.w, sg.h, cv2.INTER_AREA).astype(np.float32)
    else:
        siw, sih = sg.inner
        rgb_s = extend_color(resize(painting_rgb, siw, sih, cv2.INTER_AREA).astype(np.float32), sg.mx, sg.my)
    sky_s = resize(sky.astype(np.uint8), sg.w, sg.h, cv2.INTER_NEAREST) > 0
    if sky_s.mean() > 0.005:
        # Shrink the sky mask a little so that no land colour bleeds into the backdrop.
        core = cv2.erode(sky_s.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        sky_rgb = push_pull(rgb_s, (core if core.any() else sky_s).astype(np.float32))
        row_h = camera.height / 2.0 * sg.sy + sg.my  # the level start camera's horizon
        r0 = min(sg.h, max(0, int(math.floor(row_h))))  # rows above the horizon keep the sky
        fade = np.clip((np.arange(r0, sg.h, dtype=np.float32) - row_h) / (GROUND_FADE * sg.h), 0, 1)[:, None]
        weight = (fade * ~sky_s[r0:])[..., None]
        ground = wide_blur(rgb_s, max(2.0, sg.w / 32))[r0:]
        sky_rgb[r0:] = sky_rgb[r0:] * (1 - weight) + ground * weight
    else:
        sky_rgb = wide_blur(rgb_s, max(2.0, sg.w / 16))
    return cv2.convertScaleAbs(smooth_border(sky_rgb) if smooth else sky_rgb), sg  # rounded, saturated uint8 (colours >= 0)


def wide_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of large ``sigma`` (pixels), computed at 1/4 of the scale or less and
    upsampled: the same smooth result for a fraction of the cost (a direct sigma-32 blur of a
    1024 px float texture took 0.25 s)."""
    h, w = img.shape[:2]
    f = int(max(1, min(8, sigma // 4)))
    if f == 1:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    small = cv2.resize(img, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f, borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def sky_layer(texture: np.ndarray, sg: FrameRaster, camera: Camera, radius: float) -> Layer:
    """The backdrop layer: :func:`sky_box` of half-size ``radius`` carrying ``texture``."""
    pos, faces, uv = sky_box(camera, sg.rect, radius)
    mesh = Mesh(name="sky", positions=pos, faces=faces, uvs=uv, texture=texture, alpha_mode="OPAQUE", unlit=True)
    return Layer(name="sky", node=Node(name="sky", mesh=mesh), depth_range=(radius, radius * math.sqrt(3)),
                 kind="sky")
