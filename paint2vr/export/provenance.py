"""The provenance record written into every exported file (asset.extras['paint2vr'])."""

from __future__ import annotations

import json
from typing import Any

from ..scene import Scene

PROVENANCE_KEY = "paint2vr"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("paint2vr")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


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
    }
    for key, value in scene.provenance.items():
        if key != "sha256":
            record[key] = value
    # Round-trip through JSON so the record is plain data (and fails early if it is not).
    return json.loads(json.dumps(record, sort_keys=True))


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
