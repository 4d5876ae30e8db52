"""The effect registry: names -> (options class, default options, function), and the driver
:func:`add_effects` plus the option parser the CLI uses."""

from __future__ import annotations

import dataclasses
import logging
import typing
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from ..config import replace_options
from ..errors import InputError
from ..scene import Effect, Scene
from .birds import DEFAULT_BIRDS, BirdsOptions, birds
from .fireflies import DEFAULT_DUST, DEFAULT_FIREFLIES, FirefliesOptions, dust, fireflies
from .leaves import DEFAULT_LEAVES, DEFAULT_PETALS, LeavesOptions, leaves, petals
from .mist import DEFAULT_MIST, MistOptions, mist
from .rain import DEFAULT_RAIN, RainOptions, rain
from .snow import DEFAULT_SNOW, SnowOptions, snow
from .sway import DEFAULT_SWAY, SwayOptions, sway

log = logging.getLogger(__name__)

EffectOptions = (SnowOptions | RainOptions | LeavesOptions | FirefliesOptions | MistOptions | BirdsOptions
                 | SwayOptions)


@dataclass(frozen=True)
class EffectEntry:
    """One registered effect."""

    options_class: type
    default: Any
    function: Callable[..., Effect]
    summary: str

    def __iter__(self):  # unpacks as (options class, function), the registry's documented shape
        return iter((self.options_class, self.function))


EFFECTS: dict[str, EffectEntry] = {
    "snow": EffectEntry(SnowOptions, DEFAULT_SNOW, snow, "falling snow that settles on the land"),
    "rain": EffectEntry(RainOptions, DEFAULT_RAIN, rain, "rain streaks slanting with the wind"),
    "leaves": EffectEntry(LeavesOptions, DEFAULT_LEAVES, leaves, "tumbling autumn leaves"),
    "petals": EffectEntry(LeavesOptions, DEFAULT_PETALS, petals, "drifting blossom petals"),
    "fireflies": EffectEntry(FirefliesOptions, DEFAULT_FIREFLIES, fireflies, "blinking fireflies near the viewer"),
    "dust": EffectEntry(FirefliesOptions, DEFAULT_DUST, dust, "dust motes floating in the air"),
    "mist": EffectEntry(MistOptions, DEFAULT_MIST, mist, "drifting mist sheets over the land"),
    "birds": EffectEntry(BirdsOptions, DEFAULT_BIRDS, birds, "a flapping flock in the open sky"),
    "sway": EffectEntry(SwayOptions, DEFAULT_SWAY, sway, "trees and foliage swaying in the wind"),
}


def _unknown_effect(name: object) -> InputError:
    return InputError(f"unknown effect {name!r}", hint=f"effects are: {', '.join(EFFECTS)}")


def effect_seed(seed: int, name: str) -> int:
    """Each effect's own seed: stable across runs and independent of the order effects are given."""
    return (int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2 ** 63)


def add_effects(scene: Scene, names: list[str], options: dict[str, Any] | None = None, seed: int = 0) -> Scene:
    """Bake the named effects into ``scene`` and return it (the same object, effects appended).

    ``options`` maps an effect name to its options (an options instance, or a dict of field
    changes on the effect's defaults). The result is the same for the same scene, names,
    options and seed. 'sway' changes the layer meshes in place (it adds morph targets).
    """
    if not isinstance(scene, Scene):
        raise InputError(f"expected a paint2vr Scene, got {type(scene).__name__}")
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be an integer, got {seed!r}")
    names = [str(n).strip().lower() for n in names]
    for n in names:
        if n not in EFFECTS:
            raise _unknown_effect(n)
    dupes = sorted({n for n in names if names.count(n) > 1} | {e.name for e in scene.effects if e.name in names})
    if dupes:
        raise InputError(f"effect(s) given twice: {', '.join(dupes)}", hint="each effect can be added once")
    opts = dict(options or {})
    for k in opts:
        if k not in EFFECTS:
            raise _unknown_effect(k)
        if k not in names:
            raise InputError(f"options given for effect {k!r}, which is not being added",
                             hint=f"add it to the effects list ({', '.join(names) or 'empty'})")
    for name in names:
        entry = EFFECTS[name]
        o = opts.get(name, entry.default)
        if isinstance(o, dict):
            o = replace_options(entry.default, **o)
        if not isinstance(o, entry.options_class):
            raise InputError(f"options for {name!r} must be {entry.options_class.__name__}, got {type(o).__name__}")
        effect = entry.function(scene, o, effect_seed(seed, name))
        scene.effects.append(effect)
        log.info("effect %s: %d nodes, %d tracks", name, len(effect.nodes),
                 sum(len(c.tracks) for c in effect.clips))
    scene.provenance.setdefault("effects", {})
    scene.provenance["effects"] = {"names": [e.name for e in scene.effects], "seed": seed,
                                   "options": {e.name: e.options for e in scene.effects}}
    return scene


def _coerce(cls: type, field: str, raw: str) -> Any:
    hint = typing.get_type_hints(cls)[field]
    origin = typing.get_origin(hint)
    try:
        if hint is bool:
            low = raw.strip().lower()
            if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return low in ("1", "true", "yes", "on")
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if origin is tuple:
            parts = [p for p in raw.replace(";", ",").split(",") if p.strip()]
            args = typing.get_args(hint)
            out = tuple(float(p) if a is float else int(p) for p, a in zip(parts, args))
            if len(parts) != len(args):
                raise ValueError(raw)
            return out
        return raw
    except ValueError:
        raise InputError(f"{cls.__name__}.{field} expects {getattr(hint, '__name__', str(hint))}, got {raw!r}",
                         hint="colours are written r,g,b with components in [0, 1]") from None


def parse_effect_options(items: list[str]) -> dict[str, Any]:
    """Parse ``['snow.density=2', 'birds.count=5']`` into ``{'snow': SnowOptions(density=2.0), ...}``
    (each on its effect's defaults). Raises InputError on an unknown effect or field or a bad
    value (values are range-checked by the options' limits)."""
    changes: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, str) or "=" not in item or "." not in item.split("=", 1)[0]:
            raise InputError(f"effect option {item!r} is not of the form effect.field=value",
                             hint="for example snow.density=2")
        key, raw = item.split("=", 1)
        name, field = (s.strip() for s in key.split(".", 1))
        name = name.lower()
        if name not in EFFECTS:
            raise _unknown_effect(name)
        entry = EFFECTS[name]
        fields = {f.name for f in dataclasses.fields(entry.options_class)}
        if field not in fields:
            raise InputError(f"unknown option {field!r} for effect {name!r}",
                             hint=f"{name} options are: {', '.join(sorted(fields))}")
        changes.setdefault(name, {})[field] = _coerce(entry.options_class, field, raw.strip())
    out: dict[str, Any] = {}
    for name, ch in changes.items():
        entry = EFFECTS[name]
        o = replace_options(entry.default, **ch)
        validate_options(name, o)
        out[name] = o
    return out


def validate_options(name: str, options: Any) -> None:
    """Range-check ``options`` of effect ``name`` (what the effect itself does first)."""
    from importlib import import_module
    mod = import_module(EFFECTS[name].function.__module__)
    from .core import check_options
    check_options(options, mod.LIMITS)
