"""Effects: animated, looping, seeded additions to a lifted scene (snow, rain, leaves, petals,
fireflies, dust, mist, birds, sway), cheap enough for a standalone headset.

    add_effects(scene, ["snow", "birds"], {"snow": {"density": 2}}, seed=0)

Each effect is a function ``effect(scene, options, seed) -> Effect`` with a frozen options
dataclass and a DEFAULT_* constant next to it; :data:`EFFECTS` lists them.
"""

from .birds import DEFAULT_BIRDS, BirdsOptions, birds
from .core import effect_budget
from .space import SceneSpace, scene_space
from .timeline import eval_track
from .fireflies import DEFAULT_DUST, DEFAULT_FIREFLIES, FirefliesOptions, dust, fireflies
from .leaves import DEFAULT_LEAVES, DEFAULT_PETALS, LeavesOptions, leaves, petals
from .mist import DEFAULT_MIST, MistOptions, mist
from .rain import DEFAULT_RAIN, RainOptions, rain
from .registry import EFFECTS, EffectOptions, add_effects, effect_seed, parse_effect_options, validate_options
from .snow import DEFAULT_SNOW, SnowOptions, snow
from .stage import DEFAULT_EFFECTS_OPTIONS, EffectsOptions
from .suggest import suggest_effects, suggest_effects_why
from .sway import DEFAULT_SWAY, SwayOptions, sway

__all__ = [
    "EFFECTS", "EffectOptions", "EffectsOptions", "DEFAULT_EFFECTS_OPTIONS", "suggest_effects_why", "add_effects", "parse_effect_options", "validate_options", "effect_budget",
    "effect_seed", "suggest_effects", "eval_track", "scene_space", "SceneSpace",
    "snow", "SnowOptions", "DEFAULT_SNOW", "rain", "RainOptions", "DEFAULT_RAIN",
    "leaves", "petals", "LeavesOptions", "DEFAULT_LEAVES", "DEFAULT_PETALS",
    "fireflies", "dust", "FirefliesOptions", "DEFAULT_FIREFLIES", "DEFAULT_DUST",
    "mist", "MistOptions", "DEFAULT_MIST", "birds", "BirdsOptions", "DEFAULT_BIRDS",
    "sway", "SwayOptions", "DEFAULT_SWAY",
]
