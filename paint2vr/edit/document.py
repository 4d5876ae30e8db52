"""The designer's edits file: a small, versioned JSON document (docs/studio.md).

Coordinates are fractions of the painting's width and height, origin at the top left;
depths are metres. The document is parsed into frozen dataclasses here, once, and every
malformed key is refused with one line naming it (``regions[2].depth: expected ...``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

EDITS_VERSION = 1
"""The version this code writes and reads (the value of the ``paint2vr_edits`` key)."""
MAX_EDITS_BYTES = 4 * 1024 * 1024
"""Largest edits file read (bytes): a hand-made document is a few KB."""
MAX_POLYGONS = 512
"""Most polygons in one list (sky, not_sky, ground, regions)."""
MAX_POINTS = 4096
"""Most vertices in one polygon."""
MAX_PINS = 1024
"""Most depth pins."""
COORD_RANGE = (-0.5, 1.5)
"""Allowed range of a coordinate fraction (a little outside the frame is allowed: lassos overshoot)."""
DEPTH_RANGE = (0.05, 100_000.0)
"""Allowed depth, metres."""

Point = tuple[float, float]
Polygon = tuple[Point, ...]


class EditsError(InputError):
    """An edits document that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Region:
    """A lassoed region whose depth the designer set or pushed."""

    polygon: Polygon
    """The lasso, fractions of width and height."""
    depth: float | None = None
    """The region's median depth becomes this many metres (its relief kept)."""
    scale: float | None = None
    """Or: multiply the region's depth by this factor (< 1 nearer, > 1 farther)."""


@dataclass(frozen=True)
class Pin:
    """A depth pin: the depth holds at the point and spreads edge-aware around it."""

    x: float
    """Fraction of the width, from the left."""
    y: float
    """Fraction of the height, from the top."""
    depth: float
    """Metres."""


@dataclass(frozen=True)
class Edits:
    """One painting's designer edits (``paint2vr_edits`` version 1)."""

    horizon: float | None = None
    """Horizon row, fraction of the height from the top (may lie above the frame: high viewpoints)."""
    vanishing_point: Point | None = None
    """The main vanishing point, fractions of width and height."""
    sky: tuple[Polygon, ...] = ()
    """Polygons that are sky."""
    not_sky: tuple[Polygon, ...] = ()
    """Polygons that are not sky (erased sky)."""
    ground: tuple[Polygon, ...] = ()
    """Polygons that are ground: their depth becomes the ground plane's."""
    regions: tuple[Region, ...] = ()
    """Regions with a set or pushed depth, applied in order."""
    pins: tuple[Pin, ...] = ()
    """Depth pins."""
    drop_layers: tuple[str, ...] = ()
    """Names of scene layers to drop."""
    merge_layers: tuple[tuple[str, ...], ...] = ()
    """Groups of scene layers to merge, each into one."""
    effects: dict[str, Any] | None = None
    """Effects to use instead of the run's: {name: {option: value}}; {} means none."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys this version does not know, kept so a round trip loses nothing."""

    @property
    def is_empty(self) -> bool:
        return self == Edits(extra=self.extra)

    @property
    def changes_depth(self) -> bool:
        return bool(self.horizon is not None or self.sky or self.not_sky or self.ground
                    or self.regions or self.pins or self.vanishing_point is not None)


DEFAULT_EDITS = Edits()

_KNOWN = ("paint2vr_edits", "horizon", "vanishing_point", "sky", "not_sky", "ground", "regions",
          "pins", "layers", "effects")


# -- parsing ------------------------------------------------------------------------------------

def _number(value: Any, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise EditsError(f"{key}: expected a number, got {value!r:.60}")
    if not lo <= value <= hi:
        raise EditsError(f"{key}: expected a number in [{lo:g}, {hi:g}], got {value!r}")
    return float(value)


def _list(value: Any, key: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise EditsError(f"{key}: expected a list, got {type(value).__name__}")
    if len(value) > limit:
        raise EditsError(f"{key}: at most {limit} entries, got {len(value)}")
    return value


def _point(value: Any, key: str) -> Point:
    if not isinstance(value, list) or len(value) != 2:
        raise EditsError(f"{key}: expected [x, y], got {value!r:.60}")
    lo, hi = COORD_RANGE
    return (_number(value[0], f"{key}[0]", lo, hi), _number(value[1], f"{key}[1]", lo, hi))


def _polygon(value: Any, key: str) -> Polygon:
    points = _list(value, key, MAX_POINTS)
    if len(points) < 3:
        raise EditsError(f"{key}: a polygon needs at least 3 points, got {len(points)}")
    return tuple(_point(p, f"{key}[{i}]") for i, p in enumerate(points))


def _polygons(doc: dict, key: str) -> tuple[Polygon, ...]:
    return tuple(_polygon(p, f"{key}[{i}]") for i, p in enumerate(_list(doc.get(key, []), key, MAX_POLYGONS)))


def _object(value: Any, key: str, allowed: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise EditsError(f"{key}: expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise EditsError(f"{key}.{unknown[0]}: unknown key (expected one of: {', '.join(allowed)})")
    return value


def _region(value: Any, key: str) -> Region:
    obj = _object(value, key, ("polygon", "depth", "scale"))
    if "polygon" not in obj:
        raise EditsError(f"{key}.polygon: missing")
    if ("depth" in obj) == ("scale" in obj):
        raise EditsError(f"{key}: expected exactly one of 'depth' (metres) or 'scale' (factor)")
    depth = _number(obj["depth"], f"{key}.depth", *DEPTH_RANGE) if "depth" in obj else None
    scale = _number(obj["scale"], f"{key}.scale", 0.01, 100.0) if "scale" in obj else None
    return Region(_polygon(obj["polygon"], f"{key}.polygon"), depth, scale)


def _pin(value: Any, key: str) -> Pin:
    obj = _object(value, key, ("x", "y", "depth"))
    for k in ("x", "y", "depth"):
        if k not in obj:
            raise EditsError(f"{key}.{k}: missing")
    return Pin(_number(obj["x"], f"{key}.x", 0.0, 1.0), _number(obj["y"], f"{key}.y", 0.0, 1.0),
               _number(obj["depth"], f"{key}.depth", *DEPTH_RANGE))


def _names(value: Any, key: str) -> tuple[str, ...]:
    out = []
    for i, v in enumerate(_list(value, key, MAX_POLYGONS)):
        if not isinstance(v, str) or not v or len(v) > 200:
            raise EditsError(f"{key}[{i}]: expected a layer name, got {v!r:.60}")
        out.append(v)
    return tuple(out)


def _layers(value: Any) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    obj = _object(value, "layers", ("drop", "merge"))
    drop = _names(obj.get("drop", []), "layers.drop")
    merge = tuple(_names(g, f"layers.merge[{i}]") for i, g in enumerate(_list(obj.get("merge", []), "layers.merge", 64)))
    for i, group in enumerate(merge):
        if len(group) < 2:
            raise EditsError(f"layers.merge[{i}]: a merge needs at least two layer names")
    return drop, merge


def _effects(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EditsError(f"effects: expected an object {{name: {{option: value}}}}, got {type(value).__name__}")
    out: dict[str, Any] = {}
    for name, opts in value.items():
        if not isinstance(opts, dict):
            raise EditsError(f"effects.{name}: expected an object of options, got {type(opts).__name__}")
        out[str(name)] = dict(opts)
    return out


def parse_edits(doc: Any) -> Edits:
    """An :class:`Edits` from a decoded JSON document.

    Raises:
        EditsError: naming the first bad key (expected versus actual).
    """
    if not isinstance(doc, dict):
        raise EditsError(f"edits: expected a JSON object, got {type(doc).__name__}")
    version = doc.get("paint2vr_edits")
    if version != EDITS_VERSION:
        raise EditsError(f"paint2vr_edits: expected {EDITS_VERSION}, got {version!r:.40}",
                         hint="an edits file starts with {\"paint2vr_edits\": 1, ...}")
    horizon = doc.get("horizon")
    vp = doc.get("vanishing_point")
    drop, merge = _layers(doc["layers"]) if "layers" in doc else ((), ())
    return Edits(
        horizon=None if horizon is None else _number(horizon, "horizon", -2.0, 3.0),
        vanishing_point=None if vp is None else _point(vp, "vanishing_point"),
        sky=_polygons(doc, "sky"), not_sky=_polygons(doc, "not_sky"), ground=_polygons(doc, "ground"),
        regions=tuple(_region(r, f"regions[{i}]") for i, r in enumerate(_list(doc.get("regions", []), "regions", MAX_POLYGONS))),
        pins=tuple(_pin(p, f"pins[{i}]") for i, p in enumerate(_list(doc.get("pins", []), "pins", MAX_PINS))),
        drop_layers=drop, merge_layers=merge,
        effects=_effects(doc["effects"]) if doc.get("effects") is not None else None,
        extra={k: v for k, v in doc.items() if k not in _KNOWN})


def edits_to_dict(edits: Edits) -> dict[str, Any]:
    """The JSON document of ``edits`` (only the keys that are set); ``parse_edits`` inverts it."""
    def poly(p: Polygon) -> list[list[float]]:
        return [list(pt) for pt in p]
    doc: dict[str, Any] = {"paint2vr_edits": EDITS_VERSION}
    if edits.horizon is not None:
        doc["horizon"] = edits.horizon
    if edits.vanishing_point is not None:
        doc["vanishing_point"] = list(edits.vanishing_point)
    for key in ("sky", "not_sky", "ground"):
        if getattr(edits, key):
            doc[key] = [poly(p) for p in getattr(edits, key)]
    if edits.regions:
        doc["regions"] = [{"polygon": poly(r.polygon), **({"depth": r.depth} if r.depth is not None else {"scale": r.scale})}
                          for r in edits.regions]
    if edits.pins:
        doc["pins"] = [{"x": p.x, "y": p.y, "depth": p.depth} for p in edits.pins]
    if edits.drop_layers or edits.merge_layers:
        doc["layers"] = {"drop": list(edits.drop_layers), "merge": [list(g) for g in edits.merge_layers]}
    if edits.effects is not None:
        doc["effects"] = edits.effects
    doc.update(edits.extra)
    return doc


def _max_nesting(text: str, limit: int) -> bool:
    """True when the JSON text nests brackets deeper than ``limit`` (checked before parsing:
    json's recursive parser would otherwise fail with RecursionError)."""
    depth, in_str, escape = 0, False, False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def loads_edits(text: str | bytes, source: str = "edits") -> Edits:
    """Parse an edits document from JSON text."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EditsError(f"{source}: not UTF-8 text ({exc.reason})") from None
    if len(text) > MAX_EDITS_BYTES:
        raise EditsError(f"{source}: {len(text)} characters, more than the {MAX_EDITS_BYTES} allowed")
    if _max_nesting(text, 16):
        raise EditsError(f"{source}: JSON nested deeper than 16 levels")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EditsError(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    try:
        return parse_edits(doc)
    except EditsError as exc:
        raise EditsError(f"{source}: {exc.message}", hint=exc.hint) from None


def read_edits(path: str | os.PathLike[str]) -> Edits:
    """Read and validate an edits file.

    Raises:
        EditsError: the file is missing, too large, not JSON, or a key is malformed.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_EDITS_BYTES + 1)
    except OSError as exc:
        raise EditsError(f"{p}: cannot read the edits file ({exc.strerror or exc})") from None
    return loads_edits(data, str(p))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def dumps_edits(edits: Edits) -> str:
    """The canonical JSON text of ``edits``: one top-level key a line (sorted, the version
    first), values compact, coordinates rounded to 1e-5 of the frame, a final newline."""
    doc = _rounded(edits_to_dict(edits))
    keys = ["paint2vr_edits"] + sorted(k for k in doc if k != "paint2vr_edits")
    lines = [f"  {json.dumps(k)}: {json.dumps(doc[k], separators=(',', ':'), sort_keys=True)}" for k in keys]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def edits_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of an edits file's bytes (recorded in provenance)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


__all__ = ["DEFAULT_EDITS", "EDITS_VERSION", "Edits", "EditsError", "Pin", "Region", "dumps_edits",
           "edits_sha256", "edits_to_dict", "loads_edits", "parse_edits", "read_edits"]
