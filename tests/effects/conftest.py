"""Fixtures of the effects tests (the scenes live in effects_scenes.py)."""

from effects_scenes import scene  # noqa: F401  (fixture)
