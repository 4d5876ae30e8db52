"""Scene -> glTF 2.0 (GLB bytes, or .gltf + .bin + textures) with pygltflib.

The mapping is 1:1: each scene Node becomes a glTF node, each Mesh one primitive of one
glTF mesh (one draw call), each Clip one animation. Output is deterministic: no
timestamps, stable ordering, and image encoders with fixed settings.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pygltflib as g

from ..errors import ExportError
from ..scene import Clip, Mesh, Node, Scene
from .provenance import PROVENANCE_KEY, copyright_line, package_version, provenance_record

UNLIT = "KHR_materials_unlit"


@dataclass(frozen=True)
class GltfOptions:
    """Options of the glTF writer."""

    max_texture: int = 4096
    """Longest side of any texture in pixels; larger textures are downscaled."""
    jpeg_quality: int = 90
    """JPEG quality for opaque textures (textures with alpha are PNG)."""
    znear: float = 0.05
    """Near clipping plane of the exported camera, metres."""
    zfar: float = 2000.0
    """Far clipping plane of the exported camera, metres."""


DEFAULT_GLTF_OPTIONS = GltfOptions()


def encode_texture(tex: np.ndarray, options: GltfOptions) -> tuple[bytes, str]:
    """uint8 (h, w, 3|4) -> (encoded bytes, mime type): JPEG when opaque, PNG when alpha matters."""
    from PIL import Image

    if tex.shape[2] == 4 and bool((tex[..., 3] == 255).all()):
        tex = tex[..., :3]
    img = Image.fromarray(np.ascontiguousarray(tex))
    if max(img.size) > options.max_texture:
        s = options.max_texture / max(img.size)
        img = img.resize((max(1, round(img.size[0] * s)), max(1, round(img.size[1] * s))),
                         Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if img.mode == "RGBA":
        img.save(buf, format="PNG", optimize=False, compress_level=6)
        return buf.getvalue(), "image/png"
    img.save(buf, format="JPEG", quality=options.jpeg_quality, subsampling=0, optimize=False)
    return buf.getvalue(), "image/jpeg"


class _Builder:
    """Accumulates buffers, accessors and objects for one glTF document."""

    def __init__(self, options: GltfOptions) -> None:
        self.options = options
        self.doc = g.GLTF2(scene=0, scenes=[g.Scene(nodes=[])], buffers=[g.Buffer(byteLength=0)])
        self.blob = bytearray()
        self.node_index: dict[int, int] = {}
        self.extensions: set[str] = set()

    # -- buffers -------------------------------------------------------------
    def view(self, data: bytes, target: int | None = None, stride: int | None = None) -> int:
        pad = (-len(self.blob)) % 4
        self.blob.extend(b"\0" * pad)
        self.doc.bufferViews.append(g.BufferView(buffer=0, byteOffset=len(self.blob),
                                                 byteLength=len(data), target=target, byteStride=stride))
        self.blob.extend(data)
        return len(self.doc.bufferViews) - 1

    def accessor(self, arr: np.ndarray, kind: str, target: int | None = None,
                 minmax: bool = False) -> int:
        arr = np.ascontiguousarray(arr)
        ctype = {np.dtype(np.float32): g.FLOAT, np.dtype(np.uint32): g.UNSIGNED_INT,
                 np.dtype(np.uint16): g.UNSIGNED_SHORT}[arr.dtype]
        count = arr.shape[0]
        acc = g.Accessor(bufferView=self.view(arr.tobytes(), target), componentType=ctype,
                         count=count, type=kind)
        if minmax and count:
            flat = arr.reshape(count, -1)
            acc.min = [float(x) for x in flat.min(axis=0)]
            acc.max = [float(x) for x in flat.max(axis=0)]
        self.doc.accessors.append(acc)
        return len(self.doc.accessors) - 1

    # -- objects -------------------------------------------------------------
    def material(self, mesh: Mesh) -> int:
        pbr = g.PbrMetallicRoughness(baseColorFactor=list(mesh.base_color), metallicFactor=0.0,
                                     roughnessFactor=1.0)
        if mesh.texture is not None:
            data, mime = encode_texture(mesh.texture, self.options)
            self.doc.images.append(g.Image(bufferView=self.view(data), mimeType=mime))
            if not self.doc.samplers:
                self.doc.samplers.append(g.Sampler(magFilter=g.LINEAR, minFilter=g.LINEAR_MIPMAP_LINEAR,
                                                   wrapS=g.CLAMP_TO_EDGE, wrapT=g.CLAMP_TO_EDGE))
            self.doc.textures.append(g.Texture(sampler=0, source=len(self.doc.images) - 1))
            pbr.baseColorTexture = g.TextureInfo(index=len(self.doc.textures) - 1)
        mat = g.Material(name=mesh.name, pbrMetallicRoughness=pbr, alphaMode=mesh.alpha_mode,
                         doubleSided=mesh.double_sided)
        if mesh.alpha_mode == "MASK":
            mat.alphaCutoff = 0.5
        if mesh.unlit:
            mat.extensions = {UNLIT: {}}
            self.extensions.add(UNLIT)
        self.doc.materials.append(mat)
        return len(self.doc.materials) - 1

    def mesh(self, mesh: Mesh) -> int:
        attrs = g.Attributes(POSITION=self.accessor(mesh.positions, g.VEC3, g.ARRAY_BUFFER, minmax=True))
        if mesh.normals is not None:
            attrs.NORMAL = self.accessor(mesh.normals, g.VEC3, g.ARRAY_BUFFER)
        if mesh.uvs is not None:
            attrs.TEXCOORD_0 = self.accessor(mesh.uvs, g.VEC2, g.ARRAY_BUFFER)
        if mesh.colors is not None:
            attrs.COLOR_0 = self.accessor(mesh.colors, g.VEC4, g.ARRAY_BUFFER)
        extra_attrs = mesh.extras.get("attributes", {})
        for name in sorted(extra_attrs):
            arr = np.asarray(extra_attrs[name], dtype=np.float32)
            kind = {1: g.SCALAR, 2: g.VEC2, 3: g.VEC3, 4: g.VEC4}[arr.shape[1] if arr.ndim == 2 else 1]
            setattr(attrs, name, self.accessor(arr, kind, g.ARRAY_BUFFER))
        prim = g.Primitive(attributes=attrs, material=self.material(mesh),
                           mode=g.POINTS if mesh.is_points else g.TRIANGLES)
        if mesh.faces is not None:
            idx = mesh.faces.reshape(-1)
            if mesh.positions.shape[0] < 65536:
                idx = idx.astype(np.uint16)
            prim.indices = self.accessor(idx, g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        if mesh.morph_targets:
            prim.targets = [{"POSITION": self.accessor(t, g.VEC3, g.ARRAY_BUFFER, minmax=True)}
                            for t in mesh.morph_targets]
        prim_ext = mesh.extras.get("primitive_extensions")
        if prim_ext:
            prim.extensions = prim_ext
            self.extensions.update(prim_ext)
        gm = g.Mesh(name=mesh.name, primitives=[prim])
        if mesh.morph_targets:
            gm.weights = [0.0] * len(mesh.morph_targets)
        self.doc.meshes.append(gm)
        return len(self.doc.meshes) - 1

    def node(self, node: Node) -> int:
        gn = g.Node(name=node.name)
        if node.translation != (0.0, 0.0, 0.0):
            gn.translation = [float(x) for x in node.translation]
        if node.rotation != (0.0, 0.0, 0.0, 1.0):
            gn.rotation = [float(x) for x in node.rotation]
        if node.scale != (1.0, 1.0, 1.0):
            gn.scale = [float(x) for x in node.scale]
        if node.mesh is not None:
            gn.mesh = self.mesh(node.mesh)
            if node.weights is not None:
                gn.weights = [float(w) for w in node.weights]
        if node.extras:
            gn.extras = node.extras
        self.doc.nodes.append(gn)
        index = len(self.doc.nodes) - 1
        self.node_index[id(node)] = index
        gn.children = [self.node(c) for c in node.children]
        return index

    def animation(self, clip: Clip) -> None:
        anim = g.Animation(name=clip.name, samplers=[], channels=[])
        for track in clip.tracks:
            if id(track.node) not in self.node_index:
                raise ExportError(f"animation {clip.name!r} targets node {track.node.name!r}, "
                                  "which is not in the scene")
            times = np.asarray(track.times, dtype=np.float32)
            values = np.asarray(track.values, dtype=np.float32)
            kind = {"translation": g.VEC3, "scale": g.VEC3, "rotation": g.VEC4}.get(track.path, g.SCALAR)
            out = values.reshape(-1) if kind == g.SCALAR else values
            anim.samplers.append(g.AnimationSampler(
                input=self.accessor(times, g.SCALAR, minmax=True),
                output=self.accessor(out, kind), interpolation=track.interpolation))
            anim.channels.append(g.AnimationChannel(
                sampler=len(anim.samplers) - 1,
                target=g.AnimationChannelTarget(node=self.node_index[id(track.node)], path=track.path)))
        if anim.channels:
            self.doc.animations.append(anim)


def build_gltf(scene: Scene, options: GltfOptions = DEFAULT_GLTF_OPTIONS,
               extra_provenance: dict[str, Any] | None = None) -> tuple[g.GLTF2, bytes]:
    """Build the glTF document and its binary buffer for ``scene``."""
    b = _Builder(options)
    record = provenance_record(scene)
    if extra_provenance:
        record.update(json.loads(json.dumps(extra_provenance, sort_keys=True)))
    b.doc.asset = g.Asset(version="2.0", generator=f"paint2vr {package_version()}",
                          copyright=copyright_line(scene) or None)
    b.doc.asset.extras = {PROVENANCE_KEY: record}
    cam = scene.camera
    b.doc.cameras.append(g.Camera(type="perspective", name="start", perspective=g.Perspective(
        aspectRatio=float(cam.aspect), yfov=float(cam.yfov), znear=options.znear, zfar=options.zfar)))
    cam_node = g.Node(name="start_camera", camera=0, translation=[float(x) for x in cam.position])
    roots = [b.node(n) for n in scene.nodes()]
    b.doc.nodes.append(cam_node)
    roots.append(len(b.doc.nodes) - 1)
    b.doc.scenes[0].nodes = roots
    b.doc.scenes[0].name = scene.info.title or scene.info.id or "painting"
    for effect in scene.effects:
        for clip in effect.clips:
            b.animation(clip)
    if b.extensions:
        b.doc.extensionsUsed = sorted(b.extensions)
    b.doc.buffers[0].byteLength = len(b.blob)
    return b.doc, bytes(b.blob)


def to_glb_bytes(scene: Scene, options: GltfOptions = DEFAULT_GLTF_OPTIONS,
                 extra_provenance: dict[str, Any] | None = None) -> bytes:
    """The scene as GLB bytes."""
    doc, blob = build_gltf(scene, options, extra_provenance)
    doc.set_binary_blob(blob)
    return b"".join(doc.save_to_bytes())
