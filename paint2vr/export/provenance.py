"""The provenance record written into every exported file (asset.extras['paint2vr'])."""

from __future__ import annotations

import json
import math
from typing import Any

from ..scene import Scene

PROVENANCE_KEY = "paint2vr"
VOLATILE_KEYS = frozenset({"seconds", "elapsed", "timings"})
"""Keys dropped from the record at any depth: run-time measurements, not inputs, which
would make identical inputs give different bytes."""
RECORD_VERSION = 1
"""Version of the record's layout (docs/export.md); bumped when fields change meaning."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("paint2vr")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


LIBRARIES = ("numpy", "opencv-python-headless", "scipy", "pillow", "pygltflib", "meshoptimizer",
             "torch", "transformers")
"""Installed distributions whose versions the record names: the same code gave other bytes
under other releases (and other CPUs), so an audit needs them. Read from the package
metadata, so nothing heavy is imported."""


def environment() -> dict[str, Any]:
    """The library versions (those installed, of :data:`LIBRARIES`) and numpy's SIMD level
    (its highest dispatch target on this CPU: AVX-512 kernels round float sums differently)."""
    from importlib.metadata import PackageNotFoundError, version

    libs = {}
    for name in LIBRARIES:
        try:
            libs[name] = version(name)
        except PackageNotFoundError:
            continue
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        simd = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    except ImportError:  # another numpy layout: say nothing rather than guess
        simd = []
    return {"libraries": libs, "numpy_simd": simd[-1] if simd else "baseline"}


def provenance_record(scene: Scene) -> dict[str, Any]:
    """Everything needed to reproduce ``scene`` bit for bit, as a JSON-ready dict.

    No timestamps or host names: the same inputs, options and seed give the same record.
    """
    info = scene.info
    record: dict[str, Any] = {
        "source": {
            "id": info.id,
            "title": info.title,
            "artist": info.artist,
            "license": info.license,
            "attribution": info.attribution,
            "sha256": scene.provenance.get("sha256", ""),
        },
        "paint2vr_version": package_version(),
        "record_version": RECORD_VERSION,
        "environment": environment(),
    }
    for key, value in scene.provenance.items():
        if key != "sha256":
            record[key] = value
    # How far the viewer may move from the start pose, in one place for viewers (they need
    # not know which stage's option set it).
    viewer = record.get("viewer") if isinstance(record.get("viewer"), dict) else {}
    record["viewer"] = {**viewer, "walkable_radius": float(scene.walkable_radius)}
    # Round-trip through JSON so the record is plain data (and fails early if it is not).
    return json.loads(json.dumps(plain_json(record), sort_keys=True, allow_nan=False))


def plain_json(value: Any) -> Any:
    """``value`` with non-finite floats as strings ('inf', 'nan'), JSON having no such
    numbers, and without :data:`VOLATILE_KEYS`."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items() if str(k) not in VOLATILE_KEYS}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value


def copyright_line(scene: Scene) -> str:
    """asset.copyright: the attribution, or 'artist, title' when there is none."""
    info = scene.info
    if info.attribution:
        return info.attribution
    parts = [p for p in (info.artist, info.title) if p]
    line = ", ".join(parts)
    if info.license:
        line = f"{line} ({info.license})" if line else info.license
    return line
