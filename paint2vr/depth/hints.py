"""A designer's hints about the camera that saw the painting: one set, ``depth.hints``, that
every depth source able to use them honours.

* the built-in prior (:class:`.prior.PriorOptions`) takes all four: the horizon row, the
  central vanishing point, the eye height and the field of view;
* a learned relative model's metric fit (:class:`.scale.ScaleOptions`) takes the eye height,
  the field of view and the horizon (the vanishing point's row when only it is given: a
  vanishing point lies on the horizon).

Those estimator options keep their fields (they are the estimators' own Python API); in the
options tree (``depth.prior.*``, ``depth.transformers.scale.*``, the ``--prior-*`` and
``--model-scale-*`` flags) those fields are the hints' former names, still accepted with a
warning and moved here (:data:`MOVED_HINTS`, :func:`fold_hints`).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from ..config import opt
from ..errors import OptionError
from ..scene import DEFAULT_EYE_HEIGHT, DEFAULT_FOV_DEG
from .prior import PriorOptions
from .scale import ScaleOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HintOptions:
    """A designer's hints about the painting's camera, for the built-in prior and for a
    learned model's metric scale."""

    horizon: float | None = opt(None, ge=-2.0, le=3.0)
    """The horizon (eye level) as a fraction of the painting's height from the top; it may
    lie outside [0, 1] (a high viewpoint's horizon above the top edge); None: the estimator
    finds it."""
    vanishing_point: tuple[float, float] | None = opt(None, each=(-2.0, 3.0))
    """The central vanishing point (x, y) as fractions of the width and height: it sets the
    horizon when ``horizon`` is unset, and, for the built-in prior in a view with no sky, the
    box room's centre."""
    eye_height: float = opt(DEFAULT_EYE_HEIGHT, gt=0.0, lt=1000.0)
    """The painter's eye height above the ground, in metres (a street seen from a window:
    8-15 m); it turns the ground's rows into metres."""
    fov_deg: float = opt(DEFAULT_FOV_DEG, ge=1.0, le=170.0)
    """Field of view across the painting's longer side, in degrees."""


DEFAULT_HINT_OPTIONS = HintOptions()

MOVED_HINTS: dict[str, str] = {
    "prior.horizon": "hints.horizon",
    "prior.vanishing_point": "hints.vanishing_point",
    "prior.eye_height": "hints.eye_height",
    "prior.fov_deg": "hints.fov_deg",
    "transformers.scale.horizon": "hints.horizon",
    "transformers.scale.eye_height": "hints.eye_height",
    "transformers.scale.fov_deg": "hints.fov_deg",
}
"""The hints' former places in the depth options (paths under ``depth``) -> their place now."""


def prior_with_hints(prior: PriorOptions, hints: HintOptions) -> PriorOptions:
    """The built-in prior's options with the hints in its fields."""
    return dataclasses.replace(prior, horizon=hints.horizon, vanishing_point=hints.vanishing_point,
                               eye_height=hints.eye_height, fov_deg=hints.fov_deg)


def scale_with_hints(scale: ScaleOptions, hints: HintOptions) -> ScaleOptions:
    """A learned model's scale options with the hints in their fields; the vanishing point's
    row stands for an unset horizon."""
    horizon = hints.horizon
    if horizon is None and hints.vanishing_point is not None:
        horizon = float(hints.vanishing_point[1])
    return dataclasses.replace(scale, horizon=horizon, eye_height=hints.eye_height, fov_deg=hints.fov_deg)


def _get(obj: Any, path: str) -> Any:
    for key in path.split("."):
        obj = getattr(obj, key)
    return obj


def _with(obj: Any, path: str, value: Any) -> Any:
    """``obj`` (an options dataclass) with the field at dotted ``path`` replaced."""
    head, _, rest = path.partition(".")
    return dataclasses.replace(obj, **{head: _with(getattr(obj, head), rest, value) if rest else value})


def fold_hints(options: Any, where: str = "depth") -> dict[str, Any]:
    """The field changes of depth options ``options`` that move hints given at a former place
    (:data:`MOVED_HINTS`, any value but the default) into ``hints``, resetting that place;
    {} when there are none. A hint given at a former place wins over ``hints`` (the former
    places are reset on every fold, so a value there is the latest given). Logs a
    deprecation warning per former name used.

    Raises:
        OptionError: two former places of one hint given different values.
    """
    found: dict[str, tuple[str, Any]] = {}
    parts: dict[str, Any] = {}
    for old, new in MOVED_HINTS.items():
        name = new.split(".", 1)[1]
        value, default = _get(options, old), getattr(DEFAULT_HINT_OPTIONS, name)
        if value == default:
            continue
        if name in found and found[name][1] != value:
            raise OptionError(f"{where}.{old}", f"{found[name][1]!r}, the value of {where}.{found[name][0]} "
                                                f"(both are former names of {where}.{new})", value)
        log.warning("option %r is deprecated: use %r", f"{where}.{old}", f"{where}.{new}")
        found[name] = (old, value)
        top, rest = old.split(".", 1)
        parts[top] = _with(parts.get(top, getattr(options, top)), rest, default)
    if not found:
        return {}
    return parts | {"hints": dataclasses.replace(options.hints, **{n: v for n, (_, v) in found.items()})}
