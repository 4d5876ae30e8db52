"""convert: painting file -> Scene, the stages in order, with every option recorded."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .config import options_to_dict
from .depth import DepthMap, get_estimator, read_depth_file
from .edit import Edits, apply_depth_edits, apply_scene_edits, edits_sha256, read_edits
from .effects import add_effects, suggest_effects
from .lift import DEFAULT_LIFT_OPTIONS, LiftOptions, lift
from .painting import DEFAULT_LOAD_OPTIONS, LoadOptions, Painting, PaintingInfo, load_painting
from .scene import Scene

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertOptions:
    """Options of :func:`convert`: which depth, which effects, and the nested stage options."""

    model: str = "prior"
    """Depth model: 'prior' (built in, no weights), a registry name (see 'paint2vr models list') or a local folder."""
    depth: str | None = None
    """Use this depth map (16-bit PNG or .npy, as written by 'paint2vr depth') instead of estimating one."""
    edits: str | None = None
    """A designer's edits file (JSON, written by 'paint2vr studio'; docs/studio.md) applied to depth and layers."""
    effects: tuple[str, ...] = ()
    """Effects to add, for example snow,birds; 'auto' picks them from the painting."""
    seed: int = 0
    """Seed of every random choice; the same inputs, options and seed give identical bytes."""
    commercial: bool = False
    """The run is commercial: refuse depth models whose licence forbids commercial use."""
    device: str = "auto"
    """Device for learned depth models: auto, cpu, cuda or mps."""
    load: LoadOptions = DEFAULT_LOAD_OPTIONS
    """Image loading limits."""
    lift: LiftOptions = DEFAULT_LIFT_OPTIONS
    """Layering, filling and meshing."""
    effect_options: dict[str, Any] = field(default_factory=dict)
    """Per-effect options, {effect name: options dataclass or dict of fields}."""


DEFAULT_CONVERT_OPTIONS = ConvertOptions()

StageTimer = Callable[[str, float], None]


def estimate_or_read_depth(painting: Painting, options: ConvertOptions) -> DepthMap:
    """The depth map for ``painting``: from ``options.depth`` or the chosen estimator, with
    ``options.edits`` applied."""
    if options.depth:
        depth = read_depth_file(options.depth, painting.rgb.shape[:2])
    else:
        estimator = get_estimator(options.model, device=options.device, commercial=options.commercial)
        depth = estimator.estimate([painting.rgb])[0]
    return edit_depth(painting, depth, options)


def load_edits(options: ConvertOptions) -> Edits | None:
    """The parsed edits file of ``options`` (None when there is none)."""
    return read_edits(options.edits) if options.edits else None


def edit_depth(painting: Painting, depth: DepthMap, options: ConvertOptions) -> DepthMap:
    """``depth`` with the depth part of ``options.edits`` applied (marked in its extras, so
    a map is never edited twice)."""
    edits = load_edits(options)
    if edits is None or not edits.changes_depth or depth.extras.get("edited"):
        return depth
    edited = apply_depth_edits(depth, painting.rgb, edits)
    return dataclasses.replace(edited, extras={**edited.extras, "edited": True})


def _record_edits(scene: Scene, options: ConvertOptions) -> Edits | None:
    edits = load_edits(options)
    if edits is not None:
        scene.provenance["edits"] = {"file": Path(options.edits).name, "sha256": edits_sha256(options.edits)}
        apply_scene_edits(scene, edits)
    return edits


def convert_painting(painting: Painting, options: ConvertOptions = DEFAULT_CONVERT_OPTIONS,
                     depth: DepthMap | None = None, on_stage: StageTimer | None = None) -> Scene:
    """Painting (and optionally its depth) -> Scene with layers and effects.

    ``on_stage(name, seconds)`` is called after each stage, for progress and profiles.
    """
    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        if on_stage is not None:
            on_stage(name, time.perf_counter() - t0)
        return out

    if depth is None:
        depth = timed("depth", lambda: estimate_or_read_depth(painting, options))
    else:
        depth = edit_depth(painting, depth, options)
    scene: Scene = timed("lift", lambda: lift(painting, depth, options.lift))
    scene.provenance["sha256"] = painting.sha256
    scene.provenance["depth_model"] = dataclasses.asdict(depth.model)
    scene.provenance["depth_source"] = "file" if options.depth else "estimate"
    scene.provenance["options"] = options_to_dict(options)
    scene.provenance["seed"] = options.seed
    edits = _record_edits(scene, options)
    names = list(options.effects)
    effect_options = options.effect_options
    if edits is not None and edits.effects is not None:  # the designer's choice wins
        names, effect_options = list(edits.effects), {k: v for k, v in edits.effects.items() if v}
    if names == ["auto"]:
        names = suggest_effects(painting.rgb, depth)
        scene.provenance["effects_suggested"] = names
    if names:
        scene = timed("effects", lambda: add_effects(
            scene, names, effect_options or None, seed=options.seed))
    return scene


def convert(path: str | os.PathLike[str], options: ConvertOptions = DEFAULT_CONVERT_OPTIONS,
            info: PaintingInfo | None = None, on_stage: StageTimer | None = None) -> Scene:
    """Painting file -> Scene. ``scene.save('x.glb')`` writes it."""
    t0 = time.perf_counter()
    painting = load_painting(Path(path), info, options.load)
    if on_stage is not None:
        on_stage("load", time.perf_counter() - t0)
    return convert_painting(painting, options, on_stage=on_stage)
