"""The effects stage: Scene -> Scene with animated effects, and its options (which effects,
and each effect's own options: one field per effect, its default the effect's DEFAULT_*).

Stage contract (ARCHITECTURE.md): ``NAME``, :class:`EffectsOptions`, ``DEFAULT_EFFECTS_OPTIONS``
and ``stage(scene, options) -> Scene`` (the seed, and for 'auto' the painting and its depth,
as keywords).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from ..config import check_options, opt
from ..errors import InputError, OptionError
from ..scene import Scene
from .birds import DEFAULT_BIRDS, BirdsOptions
from .fireflies import DEFAULT_DUST, DEFAULT_FIREFLIES, FirefliesOptions
from .leaves import DEFAULT_LEAVES, DEFAULT_PETALS, LeavesOptions
from .mist import DEFAULT_MIST, MistOptions
from .rain import DEFAULT_RAIN, RainOptions
from .snow import DEFAULT_SNOW, SnowOptions
from .sway import DEFAULT_SWAY, SwayOptions

NAME = "effects"
log = logging.getLogger("paint2vr." + NAME)
AUTO = "auto"
"""The effects name that lets :func:`paint2vr.effects.suggest_effects` choose."""


@dataclass(frozen=True)
class EffectsOptions:
    """Options of the effects stage: the names to add and every effect's options.

    Setting an effect's options while the effect is not among ``names`` is an error (it would
    do nothing); with ``names=('auto',)`` they apply to whichever effects are chosen.
    """

    names: tuple[str, ...] = opt((), flag="effects")
    """Effects to add, for example snow,birds; 'auto' picks them from the painting and says why (see 'paint2vr effects list')."""
    snow: SnowOptions = DEFAULT_SNOW
    """Falling snow that settles on the land."""
    rain: RainOptions = DEFAULT_RAIN
    """Rain streaks slanting with the wind."""
    leaves: LeavesOptions = DEFAULT_LEAVES
    """Tumbling autumn leaves."""
    petals: LeavesOptions = DEFAULT_PETALS
    """Drifting blossom petals."""
    fireflies: FirefliesOptions = DEFAULT_FIREFLIES
    """Blinking fireflies near the viewer."""
    dust: FirefliesOptions = DEFAULT_DUST
    """Dust motes floating in the air."""
    mist: MistOptions = DEFAULT_MIST
    """Drifting mist sheets over the land."""
    birds: BirdsOptions = DEFAULT_BIRDS
    """A flapping flock in the open sky."""
    sway: SwayOptions = DEFAULT_SWAY
    """Trees and foliage swaying in the wind."""

    @property
    def auto(self) -> bool:
        return self.names == (AUTO,)

    def options_for(self, name: str) -> object:
        """The options of effect ``name``."""
        return getattr(self, name)

    def changed(self) -> list[str]:
        """Effects whose options differ from their defaults."""
        return [f.name for f in dataclasses.fields(self)
                if f.name != "names" and getattr(self, f.name) != f.default]

    def _check_fields(self, where: str) -> None:
        effects = [f.name for f in dataclasses.fields(self) if f.name != "names"]
        for i, n in enumerate(self.names):
            if n not in effects and not (n == AUTO and len(self.names) == 1):
                raise OptionError(f"{where}.names[{i}]", f"one of {', '.join(effects)}, or 'auto' alone", n,
                                  message=f"{where}.names: unknown effect {n!r}",
                                  hint=f"effects are: {', '.join(effects)}, or 'auto' alone")
        dupes = sorted({n for n in self.names if self.names.count(n) > 1})
        if dupes:
            raise OptionError(f"{where}.names", "each effect once", ",".join(self.names))
        if not self.auto:
            idle = [n for n in self.changed() if n not in self.names]
            if idle:
                raise OptionError(f"{where}.{idle[0]}", f"set only for an effect being added "
                                  f"(effects: {', '.join(self.names) or 'none'})", "options set for it",
                                  message=f"options are set for effect {idle[0]!r}, which is not being added "
                                          f"(effects: {', '.join(self.names) or 'none'})",
                                  hint=f"add it, e.g. --effects {','.join((*self.names, idle[0]))}, or 'auto'")


DEFAULT_EFFECTS_OPTIONS = EffectsOptions()


def check_effects_options(options: EffectsOptions, where: str = "effects") -> None:
    if not isinstance(options, EffectsOptions):
        raise OptionError(where, "EffectsOptions", type(options).__name__)
    check_options(options, where)


def stage(scene: Scene, options: EffectsOptions = DEFAULT_EFFECTS_OPTIONS, *, seed: int = 0,
          painting: Any = None, depth: Any = None) -> Scene:
    """Add ``options.names`` to ``scene`` (the same object, returned); 'auto' chooses them from
    ``painting`` and ``depth``, logs which and why, and records both in the provenance."""
    from .registry import add_effects
    from .suggest import suggest_effects_why
    check_effects_options(options)
    names = list(options.names)
    if options.auto:
        if painting is None:
            raise InputError("effects 'auto' needs the painting to choose from",
                             hint="pass painting= (and depth=) to the effects stage")
        why = suggest_effects_why(painting.rgb, depth)
        names = list(why)
        for name, reason in why.items():
            log.info("auto effects: %s, because %s", name, reason)
        if not why:
            log.info("auto effects: none suits this painting")
        scene.provenance["effects_suggested"] = names
        scene.provenance["effects_auto"] = why
    if not names:
        return scene
    return add_effects(scene, names, {n: options.options_for(n) for n in names}, seed=seed)
