"""Offscreen rendering of scenes: a z-buffered numpy rasteriser (no display, no GPU)."""

from .scene_render import render_scene

__all__ = ["render_scene"]
