"""One painting open in the studio: its base depth, the edits, and what the page shows.

The studio works on a copy of the painting at most :data:`WORK_PIXELS` in size, so a depth
update stays within about a second; edits are fractions of the frame, so they apply
unchanged to the full-size painting when a batch converts it. The 3D view is lifted from that
same copy with a lighter world (:func:`live_lift_options`: the surroundings' panorama and
ground tile at lower resolution, made the same way), so it comes within about 3 s; the lifted
scene is kept per depth, so a layer or effect edit only re-applies those and re-exports.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from ..depth.base import DepthMap
from ..edit import DEFAULT_EDITS, Edits, apply_depth_edits, apply_scene_edits, dumps_edits, loads_edits, read_edits
from ..edit.apply import horizon_row
from ..export import ExportOptions, export_bytes
from ..io.atomic import write_atomic
from ..painting import Painting, load_painting
from ..effects import EffectsOptions
from ..effects.stage import stage as effects_stage
from ..lift import LiftOptions
from ..scene import Scene
from ..depth.stage import stage as depth_stage
from ..pipeline import (DEFAULT_CONVERT_OPTIONS, ConvertOptions, convert_painting, estimate_or_read_depth,
                        with_depth_hints)

log = logging.getLogger("paint2vr.studio")

WORK_PIXELS = 1_000_000
"""Largest working copy (pixels) the studio edits and previews."""
LIVE_WORLD_TEXTURE = 1024
"""Widest panorama of the 3D view's world (convert's default is 2048): the same synthesis at
half the resolution, a quarter of the work."""
LIVE_GROUND_TEXTURE = 256
"""Largest ground tile of the 3D view's world (convert's default is 512)."""
PREVIEW_EXPORT = ExportOptions(profile="desktop", max_texture=1024, jpeg_quality=85, png_compression=0)
"""How the 3D view's scene is written (PNG textures stored: the page is on the same machine)."""
SKY_COLOUR = (235, 245, 255)
"""Sky in the depth overlay."""
LAYER_PALETTE = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
                 (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212))
"""One hue per layer in the layers overlay, nearest first."""


def _downscale(painting: Painting, pixels: int) -> Painting:
    h, w = painting.rgb.shape[:2]
    s = min(1.0, (pixels / (h * w)) ** 0.5)
    if s >= 1.0:
        return painting
    size = (max(1, round(w * s)), max(1, round(h * s)))
    rgb = cv2.resize(painting.rgb, size, interpolation=cv2.INTER_AREA)
    return dataclasses.replace(painting, rgb=rgb, alpha=None)


def live_lift_options(lift: LiftOptions) -> LiftOptions:
    """The lift options of the 3D view: ``lift`` with its world's panorama and ground tile
    capped at :data:`LIVE_WORLD_TEXTURE` / :data:`LIVE_GROUND_TEXTURE` pixels."""
    return dataclasses.replace(lift, world_texture=min(lift.world_texture, LIVE_WORLD_TEXTURE),
                               ground_texture=min(lift.ground_texture, LIVE_GROUND_TEXTURE))


def depth_key(edits: Edits) -> str:
    """What the lifted scene depends on among the edits: all but the layer and effect edits."""
    depth_only = dataclasses.replace(edits, drop_layers=(), merge_layers=(), effects=None)
    return hashlib.sha256(dumps_edits(depth_only).encode()).hexdigest()[:16]


def png_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def depth_colours(depth: DepthMap) -> np.ndarray:
    """(H, W, 3) uint8: log depth as a colour map (near = warm, far = cool), sky pale."""
    logd = np.log(np.maximum(depth.depth, 1e-3))
    land = ~depth.sky
    lo, hi = (np.percentile(logd[land], [1, 99]) if land.any() else (0.0, 1.0))
    t = np.clip((logd - lo) / max(hi - lo, 1e-6), 0, 1)
    code = np.round(255 * (1 - t)).astype(np.uint8)
    rgb = cv2.cvtColor(cv2.applyColorMap(code, cv2.COLORMAP_TURBO), cv2.COLOR_BGR2RGB)
    rgb[depth.sky] = SKY_COLOUR
    return rgb


def layer_colours(depth: DepthMap, ranges: list[tuple[float, float]]) -> np.ndarray:
    """(H, W, 3) uint8: the layer each land pixel falls in by depth, one hue per layer."""
    out = np.zeros(depth.shape + (3,), np.uint8)
    for i, (near, far) in enumerate(sorted(ranges)):
        m = (depth.depth >= near * 0.999) & (depth.depth <= far * 1.001) & ~depth.sky
        out[m] = LAYER_PALETTE[i % len(LAYER_PALETTE)]
    return out


class StudioSession:
    """One painting being edited: thread-safe (the server answers requests in threads)."""

    def __init__(self, painting_path: str | os.PathLike[str], edits_path: str | os.PathLike[str],
                 options: ConvertOptions = DEFAULT_CONVERT_OPTIONS, live_world: bool = True) -> None:
        self.painting_path = Path(painting_path)
        self.edits_path = Path(edits_path)
        self.options = dataclasses.replace(options, edits=None)
        self.scene_options = (dataclasses.replace(self.options, lift=live_lift_options(self.options.lift))
                              if live_world else self.options)
        """What the 3D view is lifted with (``live_world=False``: exactly convert's options)."""
        full = load_painting(self.painting_path, options=options.load)
        self.painting = _downscale(full, WORK_PIXELS)
        self.base_depth = estimate_or_read_depth(self.painting, self.options)
        self.edits = read_edits(self.edits_path) if self.edits_path.is_file() else DEFAULT_EDITS
        self._lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        self._hinted: tuple[Any, DepthMap] | None = None
        self._lifted: tuple[str, Scene] | None = None
        self.preview(self.edits)

    # -- what the page reads -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.painting.rgb.shape[:2]  # type: ignore[return-value]

    def state(self) -> dict[str, Any]:
        """The page's starting state: size, the saved edits, the estimator's horizon."""
        h, w = self.shape
        with self._lock:
            layers = [name for name, _ in self._cache.get("layers", [])]
            revision = self._cache["revision"]
        return {"width": w, "height": h, "name": self.painting_path.name,
                "edits": json.loads(dumps_edits(self.edits)),
                "horizon_estimate": horizon_row(self.base_depth) / h,
                "revision": revision, "layers": layers, "effects": effect_choices(),
                "default_effects": [n for n in self.options.effects.names if n != "auto"]}

    def preview(self, edits: Edits) -> dict[str, Any]:
        """Re-run depth with ``edits`` (not saved); the overlays and the 3D scene follow it."""
        t0 = time.perf_counter()
        revision = hashlib.sha256(dumps_edits(edits).encode()).hexdigest()[:16]
        with self._lock:
            if self._cache.get("revision") == revision:  # e.g. saving what was just previewed
                depth = self._cache["depth"]
            else:
                base, rest = self._hinted_base(edits)
                depth = apply_depth_edits(base, self.painting.rgb, rest) if rest.changes_depth else base
                self._cache = {"edits": edits, "depth": depth, "revision": revision}
        land = depth.depth[~depth.sky]
        return {"revision": revision, "seconds": round(time.perf_counter() - t0, 3),
                "horizon": horizon_row(depth) / self.shape[0],
                "land_m": [float(land.min()), float(land.max())] if land.size else None,
                "sky": float(depth.sky.mean())}

    def _hinted_base(self, edits: Edits) -> tuple[DepthMap, Edits]:
        """The estimate for the edits' horizon and vanishing point (the built-in estimator re-run
        with them as hints, kept for the last pair) and the edits left to apply on it."""
        options, rest = with_depth_hints(self.options.depth, edits)
        if options is self.options.depth:
            return self.base_depth, rest
        key = (options.hints.horizon, options.hints.vanishing_point)
        if self._hinted is None or self._hinted[0] != key:
            self._hinted = (key, depth_stage(self.painting, options))
        return self._hinted[1], rest

    def depth_png(self) -> bytes:
        with self._lock:
            depth = self._cache["depth"]
        return png_bytes(depth_colours(depth))

    def sky_png(self) -> bytes:
        """The sky mask as a grey image (white = sky)."""
        with self._lock:
            sky = self._cache["depth"].sky
        return png_bytes(np.repeat((sky * 255).astype(np.uint8)[..., None], 3, axis=2))

    def painting_png(self) -> bytes:
        return png_bytes(self.painting.rgb)

    def scene_glb(self) -> bytes:
        """The lifted scene for the current preview edits, as a GLB (made on first request)."""
        with self._lock:
            if "glb" in self._cache:
                return self._cache["glb"]
            edits, depth = self._cache["edits"], self._cache["depth"]
        scene = self._lift(edits, depth)
        apply_scene_edits(scene, edits)
        names = list(edits.effects) if edits.effects is not None else list(self.options.effects.names)
        chosen = tuple(n for n in names if n != "auto")
        if chosen:
            effects = EffectsOptions(names=chosen, **{n: self.options.effects.options_for(n) for n in chosen})
            scene = effects_stage(scene, effects, seed=self.options.seed, painting=self.painting, depth=depth)
        data = export_bytes(scene, PREVIEW_EXPORT)
        layers = [(l.name, l.depth_range) for l in scene.layers if l.kind != "sky"]
        with self._lock:
            if self._cache.get("edits") is edits:
                self._cache["glb"], self._cache["layers"] = data, layers
        return data

    def _lift(self, edits: Edits, depth: DepthMap) -> Scene:
        """A copy of the lifted scene (no effects, no layer edits) for ``depth``, lifted once per
        depth: layer and effect edits reuse it."""
        key = depth_key(edits)
        with self._lock:
            kept = self._lifted
        if kept is None or kept[0] != key:
            opts = dataclasses.replace(self.scene_options, effects=EffectsOptions(names=()))
            kept = (key, convert_painting(self.painting, opts, depth=depth))
            with self._lock:
                self._lifted = kept
        return copy.deepcopy(kept[1])

    def layers(self) -> list[str]:
        """The lifted scene's layer names (nearest first) for the current edits."""
        self.scene_glb()
        with self._lock:
            return [name for name, _ in self._cache.get("layers", [])]

    def layers_png(self) -> bytes:
        self.scene_glb()
        with self._lock:
            depth, layers = self._cache["depth"], self._cache.get("layers", [])
        return png_bytes(layer_colours(depth, [r for _, r in layers]))

    def save(self, edits: Edits) -> str:
        """Write ``edits`` atomically to the session's edits file; returns its sha256."""
        text = dumps_edits(edits).encode()
        write_atomic(self.edits_path, text)
        self.edits = edits
        log.info("saved %s", self.edits_path)
        return hashlib.sha256(text).hexdigest()

    def parse(self, body: bytes) -> Edits:
        return loads_edits(body, "request body")


MAIN_OPTIONS = ("density", "count", "strength", "amplitude", "opacity")
"""The option the studio shows beside each effect: the first of these it has."""


def effect_choices() -> list[dict[str, Any]]:
    """Each registered effect with its main option and that option's default."""
    from ..effects.registry import EFFECTS
    out = []
    for name, entry in EFFECTS.items():
        fields = {f.name for f in dataclasses.fields(entry.options_class)}
        option = next((o for o in MAIN_OPTIONS if o in fields), None)
        out.append({"name": name, "summary": entry.summary, "option": option,
                    "default": getattr(entry.default, option) if option else None})
    return out


__all__ = ["LIVE_GROUND_TEXTURE", "LIVE_WORLD_TEXTURE", "PREVIEW_EXPORT", "StudioSession", "WORK_PIXELS",
           "depth_colours", "depth_key", "live_lift_options"]
