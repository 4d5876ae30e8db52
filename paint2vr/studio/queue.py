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
    """The depth confidence the pipeline recorded (provenance ``depth_confidence.value``; None:
    not recorded, listed first)."""
    confidence_basis: str = "none"
    """What that confidence rests on (``depth_confidence.basis``: estimator, scale:..., pixels,
    file, edits)."""
    scene_edits_sha256: str | None = None
    """The sha256 of the edits file the scene was made with (provenance), if any."""

    def needs_rerun(self) -> bool:
        """True when the edits file exists and the scene was not made with exactly it."""
        current = _sha256(self.edits)
        return current is not None and current != self.scene_edits_sha256

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "confidence": self.confidence, "confidence_basis": self.confidence_basis,
                "edited": self.edits.is_file(),
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


def confidence_of(record: Any) -> tuple[float | None, str]:
    """(value, basis) of a provenance ``depth_confidence`` record (a plain number is taken as
    the value); (None, 'none') when it holds no finite value."""
    value, basis = (record.get("value"), str(record.get("basis", ""))) if isinstance(record, dict) else (record, "")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None, "none"
    return float(value), basis


def read_provenance(scene: Path) -> dict[str, Any]:
    """A scene's provenance: from its sidecar ``<id>.provenance.json`` when the batch wrote one
    (the very record the GLB holds, cheap to read), else from the GLB."""
    side = scene.with_name(scene.stem + ".provenance.json")
    if side.is_file():
        try:
            record = json.loads(side.read_text(encoding="utf-8"))
            if isinstance(record, dict):
                return record
        except (OSError, ValueError) as exc:
            log.warning("%s: cannot read it (%s); reading the scene instead", side, exc)
    from ..export.inspect import inspect_file
    return inspect_file(scene).provenance


def scene_record(scene: Path) -> tuple[float | None, str, str | None]:
    """(depth confidence, its basis, edits sha256) from a scene's provenance."""
    try:
        prov = read_provenance(scene)
    except Exception as exc:  # noqa: BLE001 - a damaged scene is listed, not fatal
        log.warning("%s: cannot read its provenance (%s)", scene, exc)
        return None, "none", None
    conf, basis = confidence_of(prov.get("depth_confidence"))
    edits = prov.get("edits") if isinstance(prov.get("edits"), dict) else {}
    return conf, basis, edits.get("sha256")


def queue_order(item: "QueueItem") -> tuple[bool, float, str]:
    """Sort key of the review queue: least sure first (no recorded confidence before any), then id."""
    return (item.confidence is not None, item.confidence or 0.0, item.id)


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
        conf, basis, sha = scene_record(scene) if scene.is_file() else (None, "none", None)
        items.append(QueueItem(id=item.id, painting=Path(item.location), edits=out / output_relpath(item.id, EDITS_SUFFIX),
                               scene=scene if scene.is_file() else None, confidence=conf, confidence_basis=basis,
                               scene_edits_sha256=sha))
    items.sort(key=queue_order)
    return items


__all__ = ["EDITS_SUFFIX", "QueueItem", "batch_items", "confidence_of", "edits_path_for", "queue_order",
           "read_provenance", "scene_record", "single_item"]
