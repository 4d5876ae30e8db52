"""Lifting: a painting and its depth map become a layered, textured 3D scene.

Point clouds (``paint2vr.lift.points``: layer_points, add_layer_points, write_ply) need open3d
and are imported from that module on demand.
"""

from .stage import DEFAULT_LIFT_OPTIONS, LiftOptions, lift

__all__ = ["DEFAULT_LIFT_OPTIONS", "LiftOptions", "lift"]
