"""The effect registry: names -> (options class, default options, function), and the driver
:func:`add_effects` plus the option parser the CLI uses."""

from __future__ import annotations

import logging
import typing
import zlib
from dataclasses import dataclass
from typing import Any, Callable

from ..config import check_options, coerce_options
from ..errors import InputError, OptionError
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
        o = effect_options(name, opts.get(name))
        effect = entry.function(scene, o, effect_seed(seed, name))
        scene.effects.append(effect)
        log.info("effect %s: %d nodes, %d tracks", name, len(effect.nodes),
                 sum(len(c.tracks) for c in effect.clips))
    scene.provenance.setdefault("effects", {})
    scene.provenance["effects"] = {"names": [e.name for e in scene.effects], "seed": seed,
                                   "options": {e.name: e.options for e in scene.effects}}
    return scene


def effect_option_items(items: list[str]) -> dict[str, dict[str, str]]:
    """``['snow.density=2', 'birds.count=5']`` -> ``{'snow': {'density': '2'}, 'birds': {'count': '5'}}``
    (the ``--effect-opt`` syntax; values stay text for :func:`paint2vr.config.coerce_options`)."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        if not isinstance(item, str) or "=" not in item or "." not in item.split("=", 1)[0]:
            raise InputError(f"effect option {item!r} is not of the form effect.field=value",
                             hint="for example snow.density=2")
        key, raw = item.split("=", 1)
        name, field = (s.strip() for s in key.split(".", 1))
        name = name.lower()
        if name not in EFFECTS:
            raise _unknown_effect(name)
        out.setdefault(name, {})[field] = raw.strip()
    return out


def effect_options(name: str, value: Any) -> Any:
    """Options of effect ``name`` from an options instance or a mapping of field changes on its
    defaults (the one coercion, :func:`paint2vr.config.coerce_options`)."""
    if name not in EFFECTS:
        raise _unknown_effect(name)
    entry = EFFECTS[name]
    if value is None:
        return entry.default
    if isinstance(value, typing.Mapping):
        return coerce_options(entry.options_class, value, name, entry.default)
    if not isinstance(value, entry.options_class):
        raise OptionError(name, f"{entry.options_class.__name__} or a mapping of its fields", type(value).__name__)
    check_options(value, name)
    return value


def parse_effect_options(items: list[str]) -> dict[str, Any]:
    """Parse ``['snow.density=2', 'birds.count=5']`` into ``{'snow': SnowOptions(density=2.0), ...}``
    (each on its effect's defaults). Raises InputError on an unknown effect or field or a bad
    value (values are checked against the limits declared on the options' fields)."""
    return {name: effect_options(name, changes) for name, changes in effect_option_items(items).items()}


def validate_options(name: str, options: Any) -> None:
    """Check ``options`` of effect ``name`` (what the effect itself does first)."""
    effect_options(name, options)
