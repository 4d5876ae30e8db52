"""paint2vr: turn paintings into layered, animated 3D scenes for VR headsets.

The one-liner::

    import paint2vr
    scene = paint2vr.convert("painting.jpg", effects=("snow", "birds"))
    scene.save("scene.glb")

and the stages one by one, with a designer's edits between them::

    painting = paint2vr.load_painting("painting.jpg")
    depth = paint2vr.estimate_depth(painting)                 # or read_depth_file(...)
    depth = paint2vr.mark_sky(depth, paint2vr.load_mask("sky.png", depth.shape))
    scene = paint2vr.lift(painting, depth, paint2vr.LiftOptions(max_layers=3))
    scene = paint2vr.add_effects(scene, ["snow"], seed=1)
    paint2vr.save_scene(scene, "scene.glb", paint2vr.ExportOptions(profile="desktop"))
"""

from __future__ import annotations

import os
from typing import Any

from .depth import (DepthEstimator, DepthMap, ModelInfo, PriorOptions, estimate_depth, get_estimator,
                    read_depth_file, write_depth)
from .edit import (drop_layer, load_mask, mark_foreground, mark_sky, merge_layers, move_layer,
                   paint_depth, replace_depth)
from .depth import DepthOptions, HintOptions, TransformersOptions
from .effects import EFFECTS, EffectsOptions, add_effects, suggest_effects
from .errors import (BatchError, BudgetError, DepthFileError, ExportError, ImageLoadError, InputError,
                     LicenseError, ManifestError, ModelError, ModelNotFoundError, OptionError, Paint2VRError,
                     UnsafeModelError)
from .export import PROFILES, ExportOptions, save_scene
from .lift import LiftOptions, lift
from .painting import LoadOptions, Painting, PaintingInfo, load_painting
from .pipeline import DEFAULT_CONVERT_OPTIONS, ConvertOptions, convert_options, convert_painting
from .pipeline import convert as _convert_file
from .render import render_scene
from .scene import Camera, Clip, Effect, Layer, Mesh, Node, Scene, Track


def convert(path: str | os.PathLike[str], info: PaintingInfo | None = None, **options: Any) -> Scene:
    """Painting file -> Scene, with :class:`ConvertOptions` fields as keyword arguments.

    Nested options may be given as dataclasses (``lift=LiftOptions(...)``) or as dicts of
    fields (``lift={"max_layers": 3}``, ``depth={"prior": {"far": 60}}``); the shorthands
    ``effects="snow,birds"``, ``model=``, ``device=``, ``commercial=``, ``depth="map.png"`` and
    ``effect_options={"snow": {"density": 2}}`` are accepted too. Unknown names and bad
    values raise :class:`OptionError` (an :class:`InputError`) naming the dotted field.
    """
    return _convert_file(path, convert_options(options), info)


__version__ = "0.1.0"

__all__ = [
    # one-liner and stages
    "convert", "convert_options", "convert_painting", "load_painting", "estimate_depth", "get_estimator", "read_depth_file",
    "write_depth", "lift", "add_effects", "suggest_effects", "save_scene", "render_scene",
    # designer edits
    "load_mask", "replace_depth", "paint_depth", "mark_sky", "mark_foreground",
    "drop_layer", "move_layer", "merge_layers",
    # data model
    "Painting", "PaintingInfo", "DepthMap", "ModelInfo", "DepthEstimator", "Scene", "Layer", "Mesh", "Node",
    "Camera", "Effect", "Clip", "Track",
    # options
    "ConvertOptions", "LoadOptions", "DepthOptions", "HintOptions", "PriorOptions", "TransformersOptions", "LiftOptions",
    "EffectsOptions", "ExportOptions", "EFFECTS", "PROFILES",
    # errors
    "Paint2VRError", "InputError", "OptionError", "ImageLoadError", "DepthFileError", "ManifestError", "ModelError",
    "ModelNotFoundError", "UnsafeModelError", "LicenseError", "BudgetError", "ExportError", "BatchError",
    "__version__",
]
