"""Lifting: a painting and its depth map become a layered, textured 3D scene."""

from .stage import DEFAULT_LIFT_OPTIONS, LiftOptions, lift

__all__ = ["DEFAULT_LIFT_OPTIONS", "LiftOptions", "lift"]
