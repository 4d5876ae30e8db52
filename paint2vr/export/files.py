"""Atomic file writing for the exporter and the batch runner: see :mod:`paint2vr.io.atomic`."""

from __future__ import annotations

from ..io.atomic import atomic_path, write_atomic, write_atomic_group

__all__ = ["atomic_path", "write_atomic", "write_atomic_group"]
