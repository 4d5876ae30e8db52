"""Read back what a GLB / .gltf file holds: provenance, layers, geometry, textures,
animations, and how it compares with an export profile's budgets."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..codecs.gpu_memory import ktx2_bytes, mib, rgba8_bytes
from ..codecs.ktx2 import KTX2_MAGIC, ktx2_info
from ..errors import InputError, UnsupportedExtensionError
from ..io.gltf_read import GltfFile, read_gltf
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
    gpu_bytes: int = 0
    """GPU memory as a headset stores it: RGBA8 + mips for JPEG/PNG/WebP, the transcoded
    block format (ETC1/ETC2/ASTC) + mips for KTX2."""
    codec: str = ""
    """For KTX2: etc1s or uastc."""


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
    texture_gpu_bytes: int = 0
    """GPU memory of all textures as the headset stores them (see TextureReport.gpu_bytes)."""
    texture_rgba8_bytes: int = 0
    """What the same textures would take as RGBA8 with mips (uncompressed), for comparison."""
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
        cut = self.provenance.get("border_cut_px")
        if isinstance(cut, dict):  # what loading cut off the photograph
            lines.append("  border cut:  " + ", ".join(f"{k} {cut.get(k, 0)}" for k in ("top", "bottom", "left", "right"))
                         + " px (a photograph's uniform border)")
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
        if self.textures:
            ratio = self.texture_rgba8_bytes / max(1, self.texture_gpu_bytes)
            lines.append(f"  texture GPU: {mib(self.texture_gpu_bytes):.1f} MiB "
                         f"({ratio:.1f}x below RGBA8's {mib(self.texture_rgba8_bytes):.1f} MiB)")
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


def _accessor_max(doc: GltfFile, index: int) -> float:
    """An animation's last key time: the accessor's declared max, else read from its data."""
    acc = doc.gltf.accessors[index]
    if acc.max:
        return float(acc.max[0])
    if acc.componentType != 5126 or acc.bufferView is None or not acc.count:
        return 0.0
    try:
        return float(doc.accessor(index).max())
    except UnsupportedExtensionError:  # meshopt-compressed keys: the duration stays unknown
        return 0.0


def _morph_stats(doc: GltfFile) -> tuple[int, int]:
    """(morph targets, bytes of their buffer views) over the stored meshes."""
    views = doc.gltf.bufferViews
    targets, used = 0, set()
    for mesh in doc.gltf.meshes:
        for prim in mesh.primitives:
            for target in prim.targets or []:
                targets += 1
                indices = target.values() if isinstance(target, dict) else \
                    [v for v in vars(target).values() if isinstance(v, int)]
                for index in indices:
                    acc = doc.gltf.accessors[index]
                    sparse = acc.sparse
                    used.update(v for v in (acc.bufferView, sparse and sparse.indices.bufferView,
                                            sparse and sparse.values.bufferView) if v is not None)
    return targets, sum(views[v].byteLength for v in used)


def _draws(doc: GltfFile, report: FileReport) -> None:
    """Count layers, draw calls, triangles and points over every node instance of the default scene."""
    gltf = doc.gltf
    scene = gltf.scenes[gltf.scene or 0] if gltf.scenes else None
    stack = [(i, False) for i in reversed(scene.nodes or [])] if scene is not None else []
    while stack:  # depth first
        index, in_layer = stack.pop()
        node = gltf.nodes[index]
        info = (node.extras or {}).get(PROVENANCE_KEY)
        if isinstance(info, dict) and "layer" in info:
            report.layers.append(str(info["layer"]))
            in_layer = True
        if node.mesh is not None:
            for prim in gltf.meshes[node.mesh].primitives:
                report.draw_calls += 1
                if in_layer:
                    report.layer_draw_calls += 1
                else:
                    report.effect_draw_calls += 1
                mode = 4 if prim.mode is None else prim.mode
                n = gltf.accessors[prim.indices].count if prim.indices is not None else \
                    gltf.accessors[prim.attributes.POSITION].count
                if mode == 0:
                    report.points += n
                elif mode in _TRIANGLE_MODES:
                    report.triangles += _TRIANGLE_MODES[mode](n)
        stack.extend((c, in_layer) for c in reversed(node.children or []))


def _texture(doc: GltfFile, index: int) -> TextureReport:
    """One image's size and GPU memory, from its header (a KTX2's data format descriptor)."""
    info = doc.image_info(index)
    data = doc.image_bytes(index)
    if data.startswith(KTX2_MAGIC):
        try:
            k = ktx2_info(data)
        except InputError:  # a header without a data format descriptor: size known, format not
            return TextureReport(width=info.width, height=info.height, mime="image/ktx2", bytes=info.bytes,
                                 gpu_bytes=rgba8_bytes(info.width, info.height))
        return TextureReport(width=k.width, height=k.height, mime="image/ktx2", bytes=info.bytes,
                             gpu_bytes=ktx2_bytes(k), codec=k.codec)
    return TextureReport(width=info.width, height=info.height, mime=info.mime, bytes=info.bytes,
                         gpu_bytes=rgba8_bytes(info.width, info.height))


def inspect_file(path: str | os.PathLike[str], profile: str | None = None) -> FileReport:
    """Read a .glb or .gltf file and report what it holds.

    Budgets are checked against ``profile``, else the profile named in the file's
    provenance (``export.profile``); none when neither is known.

    Raises:
        InputError: the file is missing or not glTF; an unknown profile name.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    doc = read_gltf(p)
    record = doc.asset_extras.get(PROVENANCE_KEY) or {}
    size = doc.file_bytes
    report = FileReport(path=str(p), format=doc.format, file_bytes=size,
                        copyright=doc.gltf.asset.copyright or "", provenance=record,
                        extensions=sorted(doc.extensions_used), cameras=len(doc.gltf.cameras))
    report.meshes = len(doc.gltf.meshes)
    try:
        report.morph_targets, report.morph_bytes = _morph_stats(doc)
        _draws(doc, report)
        report.textures = [_texture(doc, i) for i in range(len(doc.gltf.images))]
        report.texture_gpu_bytes = sum(t.gpu_bytes for t in report.textures)
        report.texture_rgba8_bytes = sum(rgba8_bytes(t.width, t.height) for t in report.textures)
        for anim in doc.gltf.animations:
            duration = max((_accessor_max(doc, s.input) for s in anim.samplers), default=0.0)
            report.animations.append(AnimationReport(name=anim.name or "", duration=duration,
                                                     channels=len(anim.channels)))
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InputError(f"{p}: malformed glTF ({type(exc).__name__}: {exc})",
                         hint="check it with the Khronos glTF-Validator") from exc
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
            if prof.max_texture_mib:
                checks.append(("texture MiB", round(mib(report.texture_gpu_bytes), 2), prof.max_texture_mib))
            if prof.max_points:
                checks.append(("points", report.points, prof.max_points))
            report.budgets = [BudgetCheck(n, v, lim, v <= lim) for n, v, lim in checks]
    return report
