"""convert: painting file -> Scene, the stages in order, with every option recorded.

:class:`ConvertOptions` is the one options tree: every stage's options class is reachable
from it (``options.depth.prior.far``, ``options.lift.max_layers``, ``options.effects.snow``,
``options.export.profile``). :func:`convert_options` is the one way a mapping (the Python
API's keywords, a manifest row's options, a config file, the command line) becomes it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import cv2

from .config import coerce_options, opt, options_to_dict
from .depth import DepthMap
from .depth import stage as depth_stage
from .depth.stage import DEFAULT_DEPTH_OPTIONS, DepthOptions
from .edit import Edits, apply_depth_edits, apply_scene_edits, edits_sha256, read_edits
from .effects import stage as effects_stage
from .effects.stage import DEFAULT_EFFECTS_OPTIONS, EffectsOptions
from .export import DEFAULT_EXPORT_OPTIONS, ExportOptions
from .lift import DEFAULT_LIFT_OPTIONS, LiftOptions
from .lift import stage as lift_stage
from .painting import DEFAULT_LOAD_OPTIONS, LoadOptions, Painting, PaintingInfo, load_painting
from .scene import Scene

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertOptions:
    """Every option of a conversion, stage by stage (one frozen dataclass per stage)."""

    seed: int = opt(0, ge=-(2 ** 63) + 1, le=2 ** 63 - 1)
    """Seed of every random choice; the same inputs, options and seed give identical bytes."""
    edits: str | None = None
    """A designer's edits file (JSON, written by 'paint2vr studio'; docs/studio.md) applied to depth and layers."""
    load: LoadOptions = DEFAULT_LOAD_OPTIONS
    """Image loading limits."""
    depth: DepthOptions = DEFAULT_DEPTH_OPTIONS
    """Where depth comes from: a depth file, the built-in prior or a learned model."""
    lift: LiftOptions = DEFAULT_LIFT_OPTIONS
    """Layering, filling and meshing."""
    effects: EffectsOptions = DEFAULT_EFFECTS_OPTIONS
    """Which effects, and each effect's options."""
    export: ExportOptions = DEFAULT_EXPORT_OPTIONS
    """How the scene is written (used by the CLI, batch and save_scene)."""


DEFAULT_CONVERT_OPTIONS = ConvertOptions()

SHORTHANDS = {"model": ("depth", "model"), "commercial": ("depth", "commercial"),
              "device": ("depth", "transformers", "device")}
"""Flat keys accepted for the most used nested fields (the public API's keywords since 0.1):
``model``, ``commercial``, ``device``; ``depth`` given as a path means ``depth.file``;
``effects`` given as names ('snow,birds' or a list) means ``effects.names``; and
``effect_options`` ({effect: options}) fills ``effects.<effect>``."""


def _nested(out: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        value = out.get(key)
        if not isinstance(value, dict):
            value = {} if value is None else (options_to_dict(value) if hasattr(value, "__dataclass_fields__")
                                               else value)
            if not isinstance(value, dict):
                return out  # a bad value: coerce_options names it
            out[key] = value
        out = value
    return out


def expand_shorthands(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the :data:`SHORTHANDS` written as nested keys."""
    out: dict[str, Any] = {}
    later: list[tuple[tuple[str, ...], Any]] = []
    for key, value in data.items():
        if key in SHORTHANDS:
            later.append((SHORTHANDS[key], value))
        elif key == "depth" and (value is None or isinstance(value, (str, os.PathLike))):
            later.append((("depth", "file"), value))
        elif key == "effects" and isinstance(value, (str, list, tuple)):
            later.append((("effects", "names"), value))
        elif key == "effect_options" and isinstance(value, Mapping):
            later += [(("effects", str(name)), opts) for name, opts in value.items()]
        else:
            out[key] = dict(value) if isinstance(value, Mapping) else value
    for path, value in later:
        _nested(out, path[:-1])[path[-1]] = value
    return out


def convert_options(data: Mapping[str, Any] | ConvertOptions | None = None,
                    base: ConvertOptions = DEFAULT_CONVERT_OPTIONS, *, strict: bool = False) -> ConvertOptions:
    """The options tree from a mapping of its fields (nested mappings or options instances,
    plus the :data:`SHORTHANDS`) applied on ``base``, checked.

    ``strict`` (manifests' JSON): values must already have their types (no text read as a
    number or a flag).

    Raises:
        OptionError: an unknown key or a bad value, naming the dotted field (``lift.max_layers``),
        what it expects and what it got.
    """
    if isinstance(data, ConvertOptions):
        return coerce_options(ConvertOptions, data)
    return coerce_options(ConvertOptions, expand_shorthands(data or {}), "", base, strict=strict)


StageTimer = Callable[[str, float], None]


@dataclass
class _Run:
    """What the stages hand on: the painting, then its depth, then the scene."""

    painting: Painting
    depth: DepthMap | None = None
    scene: Scene | None = None
    edits: Edits | None = None


def estimate_or_read_depth(painting: Painting, options: ConvertOptions) -> DepthMap:
    """The depth map for ``painting`` (the depth stage), with ``options.edits`` applied: the
    built-in estimator is re-run with the edits' horizon and vanishing point as its hints."""
    edits = load_edits(options)
    if edits is None:
        return depth_stage.stage(painting, options.depth)
    depth_options, rest = with_depth_hints(options.depth, edits)
    depth = depth_stage.stage(painting, depth_options)
    if not rest.changes_depth:
        return dataclasses.replace(depth, extras={**depth.extras, "edited": True})
    edited = apply_depth_edits(depth, painting.rgb, rest)
    return dataclasses.replace(edited, extras={**edited.extras, "edited": True})


def with_depth_hints(options: depth_stage.DepthOptions, edits: Edits) -> tuple[depth_stage.DepthOptions, Edits]:
    """Depth options whose built-in estimator takes the edits' horizon and vanishing point as
    designer's hints (``depth.hints``), and the edits left to apply on its output. A depth file or a learned
    model keeps the edits whole (the horizon then re-scales the ground rows)."""
    if options.file or options.model != "prior" or (edits.horizon is None and edits.vanishing_point is None):
        return options, edits
    hints = options.hints
    hints = dataclasses.replace(
        hints, horizon=edits.horizon if edits.horizon is not None else hints.horizon,
        vanishing_point=edits.vanishing_point if edits.vanishing_point is not None else hints.vanishing_point)
    return (dataclasses.replace(options, hints=hints),
            dataclasses.replace(edits, horizon=None, vanishing_point=None))


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


RANGE_CONFIDENCE = 0.2
"""Depth confidence of a learned model whose metres came from the range mapping (no ground found:
the prior's near/far put on its disparity percentiles, a guess)."""
METRIC_CONFIDENCE = 0.6
"""Depth confidence of a metric model's own metres (no ground fit to judge them by)."""
GROUND_R2 = (0.9, 1.0)
"""A ground fit's weighted R^2 over this range maps linearly to confidence 0.5-1 (0.9 is the fit's
default acceptance, ``ScaleOptions.min_r2``)."""


def _share(x: Any) -> float | None:
    """``x`` as a confidence in [0, 1], or None when it is not a finite number."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return round(min(1.0, max(0.0, float(x))), 4)


def _estimated_confidence(depth: DepthMap) -> dict[str, Any]:
    """How sure the estimate is, before any edit: the estimator's own scalar
    ``extras['confidence']`` when it gives one; for a learned model, its scale fit
    (``extras['scale']``: the ground line's R^2, low for the range fallback); else the land's
    mean of the per-pixel ``DepthMap.confidence`` (the built-in prior until it reports a scalar)."""
    given = _share(depth.extras.get("confidence"))
    if given is not None:
        return {"value": given, "basis": "estimator"}
    scale = depth.extras.get("scale")
    if isinstance(scale, Mapping):
        method = scale.get("method")
        if method == "range":
            return {"value": RANGE_CONFIDENCE, "basis": "scale:range"}
        if method == "metric":
            return {"value": METRIC_CONFIDENCE, "basis": "scale:metric"}
        r2 = _share(scale.get("r2"))
        lo, hi = GROUND_R2
        value = 0.5 if r2 is None else 0.5 + 0.5 * min(1.0, max(0.0, (r2 - lo) / (hi - lo)))
        return {"value": round(value, 4), "basis": f"scale:{method}"}
    conf = depth.confidence
    land = ~depth.sky
    if conf is None or not land.any():
        return {"value": None, "basis": "none"}
    if conf.shape != depth.shape:
        conf = cv2.resize(conf, depth.shape[::-1], interpolation=cv2.INTER_LINEAR)
    return {"value": _share(float(conf[land].mean())), "basis": "pixels"}


def depth_confidence(depth: DepthMap, source: str, edited: bool) -> dict[str, Any]:
    """``provenance['depth_confidence']``: ``value`` in [0, 1] (None: unknown), the review
    queue's order (least sure first), and its ``basis``. Depth a designer made is sure: a depth
    file (1, or the ``confidence`` its reader gives) and any depth with edits applied (1; the
    automatic ``estimate`` kept beside it)."""
    if source == "file":
        given = _share(depth.extras.get("confidence"))
        return {"value": 1.0 if given is None else given, "basis": "file"}
    estimate = _estimated_confidence(depth)
    if edited:
        return {"value": 1.0, "basis": "edits", "estimate": estimate}
    return estimate


def _depth(run: _Run, o: ConvertOptions) -> None:
    run.depth = edit_depth(run.painting, run.depth, o) if run.depth is not None else \
        estimate_or_read_depth(run.painting, o)


def _lift(run: _Run, o: ConvertOptions) -> None:
    run.scene = lift_stage.stage(lift_stage.LiftInput(run.painting, run.depth), o.lift)
    prov = run.scene.provenance
    prov["sha256"] = run.painting.sha256
    if any(run.painting.border):  # what loading cut off, at the loaded size
        prov["border_cut_px"] = dict(zip(("top", "bottom", "left", "right"), run.painting.border))
    prov["depth_model"] = options_to_dict(run.depth.model)
    prov["depth_source"] = "file" if o.depth.file else "estimate"
    if "scale" in run.depth.extras:  # how a learned model's metres were fixed
        prov["depth_scale"] = run.depth.extras["scale"]
    prov["options"] = options_to_dict(o)  # the whole tree, recorded once, here
    prov["seed"] = o.seed
    run.edits = load_edits(o)
    prov["depth_confidence"] = depth_confidence(run.depth, prov["depth_source"], run.edits is not None)
    if run.edits is not None:
        prov["edits"] = {"file": Path(o.edits).name, "sha256": edits_sha256(o.edits)}
        apply_scene_edits(run.scene, run.edits)


def _effects(run: _Run, o: ConvertOptions) -> None:
    effects = o.effects
    if run.edits is not None and run.edits.effects is not None:  # the designer's choice wins
        chosen = {"names": list(run.edits.effects), **{k: v for k, v in run.edits.effects.items() if v}}
        effects = coerce_options(EffectsOptions, chosen, "edits.effects")
    run.scene = effects_stage.stage(run.scene, effects, seed=o.seed, painting=run.painting, depth=run.depth)


PIPELINE: tuple[tuple[str, Callable[[_Run, ConvertOptions], None]], ...] = (
    ("depth", _depth), ("lift", _lift), ("effects", _effects))
"""The stages :func:`convert_painting` runs, in order (loading comes first in :func:`convert`)."""


def convert_painting(painting: Painting, options: ConvertOptions = DEFAULT_CONVERT_OPTIONS,
                     depth: DepthMap | None = None, on_stage: StageTimer | None = None) -> Scene:
    """Painting (and optionally its depth) -> Scene with layers and effects.

    ``on_stage(name, seconds)`` is called after each stage that ran, for progress and profiles.
    """
    options = convert_options(options)
    run = _Run(painting, depth)
    for name, step in PIPELINE:
        if name == "effects" and not options.effects.names and not options.edits:
            continue
        t0 = time.perf_counter()
        step(run, options)
        if on_stage is not None and not (name == "depth" and depth is not None):  # given depth: timed by its maker
            on_stage(name, time.perf_counter() - t0)
    return run.scene  # type: ignore[return-value]


def convert(path: str | os.PathLike[str], options: ConvertOptions = DEFAULT_CONVERT_OPTIONS,
            info: PaintingInfo | None = None, on_stage: StageTimer | None = None) -> Scene:
    """Painting file -> Scene. ``scene.save('x.glb')`` writes it."""
    t0 = time.perf_counter()
    painting = load_painting(Path(path), info, options.load)
    if on_stage is not None:
        on_stage("load", time.perf_counter() - t0)
    return convert_painting(painting, options, on_stage=on_stage)
