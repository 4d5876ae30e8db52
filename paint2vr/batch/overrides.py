"""A manifest row's 'options': JSON values -> ConvertOptions, strictly typed and range-checked.

Run for every row when the manifest is checked, so a bad value is a manifest error with its
line number before any work starts, not a failure of each item later. It is the one coercion
of the options tree (:func:`paint2vr.pipeline.convert_options`) in its strict mode: JSON has
its own types, so a flag must be true or false (the string "no" is refused, not read as
True), a number must be a finite number and an integer at most 2**53, a section (lift,
effect_options.<effect>) must be an object; limits are the ones declared on the fields.
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError

def item_options(base: Any, overrides: dict[str, Any]) -> Any:
    """ConvertOptions with a row's 'options' applied (OptionError, an InputError, naming the
    field on a bad key or value)."""
    from ..pipeline import convert_options
    from .manifest import PER_ITEM_FIELDS  # the rest are the run's: depth model, export, ...
    for key in overrides:
        if key not in PER_ITEM_FIELDS:
            raise InputError(f"options.{key} cannot be set per item", hint=f"a row may set {', '.join(PER_ITEM_FIELDS)}")
    return convert_options(overrides, base, strict=True) if overrides else base
