"""What the studio edits: one painting, or the review queue of a batch output folder.

A batch folder's items come from the manifest its last run names (``report.json``); each
item's edits live beside its scene as ``<shard>/<id>.edits.json``. An item needs a re-run
when its edits file differs (sha256) from the one its scene was made with, as the scene's
provenance records: the state is derived from the files, so nothing can drift out of step.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..batch.layout import EDITS_SUFFIX
from ..errors import InputError

log = logging.getLogger("paint2vr.studio")

THUMB_SIDE = 256
"""Long side of a queue thumbnail, pixels."""


def edits_path_for(painting: Path, out: Path | None = None) -> Path:
    """Where a single painting's edits are written: ``<out or its folder>/<stem>.edits.json``."""
    return (out if out is not None else painting.parent) / (painting.stem + EDITS_SUFFIX)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@dataclass
class QueueItem:
    """One painting the studio can open."""

    id: str
    """The painting's id (its file stem for a single painting)."""
    painting: Path
    """The painting file."""
    edits: Path
    """Its edits file (may not exist yet)."""
    scene: Path | None = None
    """The batch's scene for it, when there is one."""
    confidence: float | None = None
    """The depth confidence the pipeline recorded (None: not recorded, listed first)."""
    scene_edits_sha256: str | None = None
    """The sha256 of the edits file the scene was made with (provenance), if any."""

    def needs_rerun(self) -> bool:
        """True when the edits file exists and the scene was not made with exactly it."""
        current = _sha256(self.edits)
        return current is not None and current != self.scene_edits_sha256

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "confidence": self.confidence, "edited": self.edits.is_file(),
                "needs_rerun": self.needs_rerun(), "scene": self.scene is not None}

    def thumbnail(self) -> bytes:
        """A small PNG of the painting."""
        try:
            with Image.open(self.painting) as img:
                img.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
                img = img.convert("RGB")
                img.thumbnail((THUMB_SIDE, THUMB_SIDE))
                buf = io.BytesIO()
                img.save(buf, format="PNG")
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise InputError(f"{self.painting}: cannot make a thumbnail ({exc})") from None
        return buf.getvalue()


def single_item(painting: str | Path, out: str | Path | None = None) -> QueueItem:
    """The studio item of one painting file."""
    p = Path(painting)
    if not p.is_file():
        raise InputError(f"{p}: no such painting file")
    return QueueItem(id=p.stem, painting=p, edits=edits_path_for(p, Path(out) if out is not None else None))


def scene_record(scene: Path) -> tuple[float | None, str | None]:
    """(depth confidence, edits sha256) from a scene's provenance."""
    from ..export.inspect import inspect_file
    try:
        prov = inspect_file(scene).provenance
    except Exception as exc:  # noqa: BLE001 - a damaged scene is listed, not fatal
        log.warning("%s: cannot read its provenance (%s)", scene, exc)
        return None, None
    conf = prov.get("depth_confidence")
    conf = float(conf) if isinstance(conf, (int, float)) and math.isfinite(conf) else None
    edits = prov.get("edits") if isinstance(prov.get("edits"), dict) else {}
    return conf, edits.get("sha256")


def batch_items(folder: str | Path) -> list[QueueItem]:
    """The review queue of a batch output folder, least confident first.

    Raises:
        InputError: the folder has no report.json naming its manifest.
    """
    from ..batch.layout import output_relpath
    from ..batch.manifest import iter_manifest
    out = Path(folder)
    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        manifest = report["manifest"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{out}: not a batch output folder (no readable report.json naming its manifest: {exc})",
                         hint="run 'paint2vr batch MANIFEST --out DIR' first") from None
    items = []
    for item in (i for chunk in iter_manifest(manifest) for i in chunk):
        scene = out / output_relpath(item.id)
        conf, sha = scene_record(scene) if scene.is_file() else (None, None)
        items.append(QueueItem(id=item.id, painting=Path(item.location), edits=out / output_relpath(item.id, EDITS_SUFFIX),
                               scene=scene if scene.is_file() else None, confidence=conf, scene_edits_sha256=sha))
    items.sort(key=lambda i: (i.confidence is not None, i.confidence or 0.0, i.id))
    return items


__all__ = ["EDITS_SUFFIX", "QueueItem", "batch_items", "edits_path_for", "scene_record", "single_item"]
