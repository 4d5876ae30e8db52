"""Read back what a GLB / .gltf file holds: provenance, layers, geometry, textures,
animations, and how it compares with an export profile's budgets."""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import InputError
from .profiles import PROFILES, get_profile
from .provenance import PROVENANCE_KEY

_TRIANGLE_MODES = {4: lambda n: n // 3, 5: lambda n: max(0, n - 2), 6: lambda n: max(0, n - 2)}


@dataclass
class TextureReport:
    """One image of the file."""

    width: int
    height: int
    mime: str
    bytes: int


@dataclass
class AnimationReport:
    """One animation: its name, length in seconds and number of channels."""

    name: str
    duration: float
    channels: int


@dataclass
class BudgetCheck:
    """One budget of the profile against the file's value."""

    name: str
    value: float
    limit: float
    ok: bool


@dataclass
class FileReport:
    """What :func:`inspect_file` found in a glTF file."""

    path: str
    format: str
    """'glb' or 'gltf'."""
    file_bytes: int
    """Size on disk, for .gltf including its .bin and texture files."""
    copyright: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)
    """The whole asset.extras['paint2vr'] record ({} when absent)."""
    layers: list[str] = field(default_factory=list)
    triangles: int = 0
    points: int = 0
    draw_calls: int = 0
    """Primitives drawn: one per primitive of every node instance (a shared mesh counts per node)."""
    layer_draw_calls: int = 0
    """Of ``draw_calls``, those under a layer root node (``extras.paint2vr.layer``)."""
    effect_draw_calls: int = 0
    """Of ``draw_calls``, the rest: effects (and anything else a foreign file holds)."""
    meshes: int = 0
    """glTF meshes stored (a mesh shared by several nodes is stored once)."""
    morph_targets: int = 0
    """Morph targets over all stored primitives."""
    morph_bytes: int = 0
    """Bytes of morph-target data (buffer views of dense and sparse accessors)."""
    textures: list[TextureReport] = field(default_factory=list)
    animations: list[AnimationReport] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    cameras: int = 0
    profile: str = ""
    """Profile the budgets were checked against ('' when unknown)."""
    budgets: list[BudgetCheck] = field(default_factory=list)

    @property
    def within_budget(self) -> bool:
        return all(b.ok for b in self.budgets)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "within_budget": self.within_budget}

    def format_report(self) -> str:
        """A human-readable summary, one fact per line."""
        src = self.provenance.get("source", {}) if isinstance(self.provenance.get("source"), dict) else {}
        dm = self.provenance.get("depth_model")
        if isinstance(dm, dict):
            depth = " ".join(str(x) for x in (dm.get("name", ""), f"rev {dm['revision']}" if dm.get("revision")
                                               else "", f"({dm['license']})" if dm.get("license") else "") if x)
        else:
            depth = str(dm or "")
        lines = [f"{self.path}  ({self.format}, {self.file_bytes / 2**20:.2f} MiB)"]
        lines.append(f"  title:       {src.get('title', '') or '-'}")
        lines.append(f"  artist:      {src.get('artist', '') or '-'}")
        lines.append(f"  licence:     {src.get('license', '') or '-'}")
        lines.append(f"  copyright:   {self.copyright or '-'}")
        lines.append(f"  source:      {src.get('id', '') or '-'}  sha256 {src.get('sha256', '') or '-'}")
        lines.append(f"  depth model: {depth or '-'}")
        if "seed" in self.provenance:
            lines.append(f"  seed:        {self.provenance['seed']}")
        lines.append(f"  paint2vr:    {self.provenance.get('paint2vr_version', '-')}")
        lines.append(f"  layers:      {len(self.layers)} ({', '.join(self.layers) or 'none'})")
        lines.append(f"  triangles:   {self.triangles:,}")
        if self.points:
            lines.append(f"  points:      {self.points:,}")
        lines.append(f"  draw calls:  {self.draw_calls} (layers {self.layer_draw_calls}, "
                     f"effects {self.effect_draw_calls})")
        if self.morph_targets:
            lines.append(f"  morph:       {self.morph_targets} targets, {self.morph_bytes / 2**20:.2f} MiB")
        sizes = ", ".join(f"{t.width}x{t.height} {t.mime.split('/')[-1]}" for t in self.textures)
        lines.append(f"  textures:    {len(self.textures)}" + (f" ({sizes})" if sizes else ""))
        if self.animations:
            lines.append(f"  animations:  {len(self.animations)}")
            for a in self.animations:
                lines.append(f"    {a.name or '(unnamed)'}: {a.duration:.2f} s, {a.channels} channels")
        else:
            lines.append("  animations:  none")
        if self.extensions:
            lines.append(f"  extensions:  {', '.join(self.extensions)}")
        if self.profile:
            lines.append(f"  budgets ({self.profile}): {'within' if self.within_budget else 'OVER'}")
            for b in self.budgets:
                lines.append(f"    {b.name:<12} {_num(b.value):>12} / {_num(b.limit):<12} {'ok' if b.ok else 'OVER'}")
        return "\n".join(lines)


def _num(v: float) -> str:
    return f"{v:,.1f}" if isinstance(v, float) and not v.is_integer() else f"{int(v):,}"


def _read_document(path: Path) -> tuple[dict[str, Any], bytes | None, str]:
    data = path.read_bytes()
    if data[:4] == b"glTF":
        if len(data) < 20:
            raise InputError(f"{path}: truncated GLB ({len(data)} bytes)")
        _, _, total = struct.unpack_from("<4sII", data, 0)
        jlen, jtype = struct.unpack_from("<II", data, 12)
        if jtype != 0x4E4F534A or 20 + jlen > len(data):
            raise InputError(f"{path}: corrupt GLB (no JSON chunk)")
        doc = json.loads(data[20:20 + jlen])
        off = 20 + jlen
        blob = None
        if off + 8 <= len(data):
            blen, btype = struct.unpack_from("<II", data, off)
            if btype == 0x004E4942:
                blob = data[off + 8:off + 8 + blen]
        return doc, blob, "glb"
    try:
        return json.loads(data), None, "gltf"
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: not a glTF file (neither GLB nor JSON)",
                         hint="inspect reads .glb and .gltf files") from None


def _external(path: Path, uri: str) -> Path:
    if uri.startswith("data:") or "://" in uri:
        raise InputError(f"{path}: external resource {uri[:40]!r} is not a local file")
    return path.parent / unquote(uri)


def _buffer_bytes(path: Path, doc: dict[str, Any], blob: bytes | None, index: int) -> bytes:
    buf = doc["buffers"][index]
    if "uri" in buf:
        return _external(path, buf["uri"]).read_bytes()
    return blob or b""


def _image_bytes(path: Path, doc: dict[str, Any], blob: bytes | None, image: dict[str, Any]) -> bytes:
    if "uri" in image:
        return _external(path, image["uri"]).read_bytes()
    view = doc["bufferViews"][image["bufferView"]]
    data = _buffer_bytes(path, doc, blob, view["buffer"])
    start = view.get("byteOffset", 0)
    return data[start:start + view["byteLength"]]


def _accessor_max(path: Path, doc: dict[str, Any], blob: bytes | None, index: int) -> float:
    acc = doc["accessors"][index]
    if acc.get("max"):
        return float(acc["max"][0])
    if acc.get("componentType") != 5126 or "bufferView" not in acc or not acc.get("count"):
        return 0.0
    import numpy as np
    view = doc["bufferViews"][acc["bufferView"]]
    data = _buffer_bytes(path, doc, blob, view["buffer"])
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    return float(np.frombuffer(data, "<f4", count=acc["count"], offset=start).max())


def _morph_stats(doc: dict[str, Any]) -> tuple[int, int]:
    """(morph targets, bytes of their buffer views) over the stored meshes."""
    views = doc.get("bufferViews", [])
    targets, used = 0, set()
    for mesh in doc.get("meshes", []):
        for prim in mesh.get("primitives", []):
            for target in prim.get("targets", []):
                targets += 1
                for index in target.values():
                    acc = doc["accessors"][index]
                    used.update(v for v in (acc.get("bufferView"),
                                            (acc.get("sparse") or {}).get("indices", {}).get("bufferView"),
                                            (acc.get("sparse") or {}).get("values", {}).get("bufferView"))
                                if v is not None)
    return targets, sum(views[v]["byteLength"] for v in used)


def inspect_file(path: str | os.PathLike[str], profile: str | None = None) -> FileReport:
    """Read a .glb or .gltf file and report what it holds.

    Budgets are checked against ``profile``, else the profile named in the file's
    provenance (``export.profile``); none when neither is known.

    Raises:
        InputError: the file is missing or not glTF; an unknown profile name.
    """
    from PIL import Image

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    doc, blob, fmt = _read_document(p)
    asset = doc.get("asset", {})
    record = (asset.get("extras") or {}).get(PROVENANCE_KEY) or {}
    size = p.stat().st_size
    if fmt == "gltf":
        uris = [b["uri"] for b in doc.get("buffers", []) if "uri" in b]
        uris += [i["uri"] for i in doc.get("images", []) if "uri" in i]
        size += sum(_external(p, u).stat().st_size for u in sorted(set(uris)))
    report = FileReport(path=str(p), format=fmt, file_bytes=size, copyright=asset.get("copyright", ""),
                        provenance=record, extensions=sorted(doc.get("extensionsUsed", [])),
                        cameras=len(doc.get("cameras", [])))
    nodes = doc.get("nodes", [])
    meshes = doc.get("meshes", [])
    accessors = doc.get("accessors", [])
    scene = doc.get("scenes", [{}])[doc.get("scene", 0)] if doc.get("scenes") else {"nodes": []}
    report.meshes = len(meshes)
    report.morph_targets, report.morph_bytes = _morph_stats(doc)
    stack = [(i, False) for i in reversed(scene.get("nodes", []))]
    while stack:  # every node instance in the default scene, depth first
        index, in_layer = stack.pop()
        node = nodes[index]
        info = (node.get("extras") or {}).get(PROVENANCE_KEY)
        if isinstance(info, dict) and "layer" in info:
            report.layers.append(str(info["layer"]))
            in_layer = True
        if "mesh" in node:
            for prim in meshes[node["mesh"]].get("primitives", []):
                report.draw_calls += 1
                if in_layer:
                    report.layer_draw_calls += 1
                else:
                    report.effect_draw_calls += 1
                mode = prim.get("mode", 4)
                n = accessors[prim["indices"]]["count"] if "indices" in prim else \
                    accessors[prim["attributes"]["POSITION"]]["count"]
                if mode == 0:
                    report.points += n
                elif mode in _TRIANGLE_MODES:
                    report.triangles += _TRIANGLE_MODES[mode](n)
        stack.extend((c, in_layer) for c in reversed(node.get("children", [])))
    for image in doc.get("images", []):
        data = _image_bytes(p, doc, blob, image)
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            mime = image.get("mimeType") or Image.MIME.get(im.format or "", "")
        report.textures.append(TextureReport(width=w, height=h, mime=mime, bytes=len(data)))
    for anim in doc.get("animations", []):
        duration = max((_accessor_max(p, doc, blob, s["input"]) for s in anim.get("samplers", [])), default=0.0)
        report.animations.append(AnimationReport(name=anim.get("name", ""), duration=duration,
                                                 channels=len(anim.get("channels", []))))
    name = profile or ((record.get("export") or {}).get("profile") if isinstance(record, dict) else None)
    if name:
        prof = get_profile(name) if profile else PROFILES.get(name)
        if prof is not None:
            report.profile = prof.name
            checks = [("triangles", report.triangles, prof.max_triangles),
                      ("draw calls", report.draw_calls, prof.max_draw_calls),
                      ("texture px", max((max(t.width, t.height) for t in report.textures), default=0),
                       prof.max_texture),
                      ("file MiB", round(size / 2**20, 2), prof.max_file_mb)]
            if prof.max_points:
                checks.append(("points", report.points, prof.max_points))
            report.budgets = [BudgetCheck(n, v, lim, v <= lim) for n, v, lim in checks]
    return report
