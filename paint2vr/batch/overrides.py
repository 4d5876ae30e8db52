"""A manifest row's 'options': JSON values -> ConvertOptions, strictly typed and range-checked.

Run for every row when the manifest is checked, so a bad value is a manifest error with its
line number before any work starts, not a failure of each item later. JSON has its own
types: a flag must be true or false (the string "no" is refused, not read as True), a
number must be a finite number, a section (lift, effect_options.<effect>) must be an object.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any

from ..config import replace_options
from ..errors import InputError

MAX_INT = 2 ** 53
"""Largest integer magnitude accepted for an integer field (beyond it JSON loses exactness)."""


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint))


def json_value(value: Any, hint: Any, where: str) -> Any:
    """``value`` (parsed JSON) as the Python value of a field typed ``hint``, or InputError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return json_value(value, inner[0], where)
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where} must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
            raise InputError(f"{where} must be an integer (|n| <= 2**53), got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"{where} must be a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise InputError(f"{where} must be a string, got {value!r}")
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, list) or len(value) != len(args):
            raise InputError(f"{where} must be a list of {len(args)} values, got {value!r}")
        return tuple(json_value(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    raise InputError(f"{where} cannot be set from a manifest (type {_type_name(hint)})")


def json_section(base: Any, value: Any, where: str) -> Any:
    """``base`` (an options dataclass) with the fields of the JSON object ``value`` applied."""
    if not isinstance(value, dict):
        raise InputError(f"{where} must be an object of {type(base).__name__} fields, got {value!r}")
    hints = typing.get_type_hints(type(base))
    names = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(value) - names)
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}",
                         hint=f"{type(base).__name__} fields are: {', '.join(sorted(names))}")
    return replace_options(base, **{k: json_value(v, hints[k], f"{where}.{k}") for k, v in value.items()})


def _effect_names(value: Any) -> tuple[str, ...]:
    from ..effects import EFFECTS
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise InputError(f"options.effects must be a list of names, got {value!r}")
    names = tuple(v.strip().lower() for v in value)
    for n in names:
        if n not in EFFECTS:
            raise InputError(f"options.effects: unknown effect {n!r}", hint=f"effects are: {', '.join(EFFECTS)}")
    if len(set(names)) != len(names):
        raise InputError(f"options.effects names an effect twice: {list(names)}")
    return names


def _effect_options(value: Any, names: tuple[str, ...]) -> dict[str, Any]:
    from ..effects import EFFECTS
    from ..effects.registry import validate_options
    if not isinstance(value, dict):
        raise InputError(f"options.effect_options must be an object, got {value!r}")
    out: dict[str, Any] = {}
    for name, section in value.items():
        if name not in EFFECTS:
            raise InputError(f"options.effect_options: unknown effect {name!r}",
                             hint=f"effects are: {', '.join(EFFECTS)}")
        if name not in names:
            raise InputError(f"options.effect_options.{name}: the effect is not in this item's effects "
                             f"({', '.join(names) or 'none'})")
        opts = json_section(EFFECTS[name].default, section, f"options.effect_options.{name}")
        validate_options(name, opts)
        out[name] = opts
    return out


def item_options(base: Any, overrides: dict[str, Any]) -> Any:
    """ConvertOptions with a row's 'options' applied (InputError on bad fields or values)."""
    from ..lift.stage import _check_options as check_lift
    changes: dict[str, Any] = {}
    for key in overrides:
        if key not in ("effects", "seed", "effect_options", "lift"):
            raise InputError(f"options.{key} cannot be set per item")
    names = _effect_names(overrides["effects"]) if "effects" in overrides else tuple(base.effects)
    if "effects" in overrides:
        changes["effects"] = names
    if "seed" in overrides:
        seed = overrides["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or abs(seed) >= 2 ** 63:
            raise InputError(f"options.seed must be an integer (|n| < 2**63), got {seed!r}")
        changes["seed"] = seed
    if "effect_options" in overrides:
        changes["effect_options"] = _effect_options(overrides["effect_options"], names)
    if "lift" in overrides:
        changes["lift"] = json_section(base.lift, overrides["lift"], "options.lift")
        check_lift(changes["lift"])
    return replace_options(base, **changes) if changes else base
