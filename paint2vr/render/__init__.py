"""Offscreen rendering of scenes: a z-buffered numpy rasteriser (no display, no GPU)."""

from .scene_render import render_scene, start_view_coverage

__all__ = ["render_scene", "start_view_coverage"]
