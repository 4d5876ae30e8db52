"""glTF/GLB -> :class:`~paint2vr.scene.Scene`, for previews of files already written.

Reads what paint2vr's exporter writes (and most simple glTF): meshes (one Mesh per
primitive), textures, node TRS, morph targets and weights, animations, the start camera and
the provenance record. Root nodes that an animation moves become effect nodes, the others
layers, so :func:`paint2vr.render.render_scene` can pose them at any time.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np

from ..errors import InputError
from ..painting import PaintingInfo
from ..scene import Camera, Clip, Effect, Layer, Mesh, Node, Scene, Track

log = logging.getLogger(__name__)

_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NORM = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}


@dataclass(frozen=True)
class ReadOptions:
    """Options of :func:`read_scene`."""

    max_texture: int | None = None
    """Downscale textures so their longer side is at most this many pixels (None keeps them);
    previews are small, and smaller textures render much faster."""
    camera_height: int = 480
    """Pixel height given to the start camera (its width follows the glTF aspect ratio)."""


DEFAULT_READ_OPTIONS = ReadOptions()


class _Doc:
    """A glTF document (plain JSON dicts, so every field and extra is kept) and its binary data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = path.read_bytes()
        self.blob = b""
        try:
            if data[:4] == b"glTF":
                _magic, _version, length = struct.unpack_from("<4sII", data, 0)
                offset, json_bytes = 12, None
                while offset + 8 <= min(length, len(data)):
                    size, kind = struct.unpack_from("<I4s", data, offset)
                    chunk = data[offset + 8:offset + 8 + size]
                    if kind == b"JSON":
                        json_bytes = chunk
                    elif kind == b"BIN\0":
                        self.blob = chunk
                    offset += 8 + size
                if json_bytes is None:
                    raise ValueError("no JSON chunk")
                self.json = json.loads(json_bytes)
            else:
                self.json = json.loads(data)
            if not isinstance(self.json, dict) or "asset" not in self.json:
                raise ValueError("no 'asset' object")
        except (ValueError, struct.error, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read the glTF ({exc})", hint="is it a .glb/.gltf file?") from exc
        self._buffers: dict[int, bytes] = {}

    def get(self, kind: str) -> list[dict[str, Any]]:
        return self.json.get(kind) or []

    def _uri(self, uri: str) -> bytes:
        if uri.startswith("data:"):
            return base64.b64decode(uri.split(",", 1)[1])
        return (self.path.parent / unquote(uri)).read_bytes()

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            uri = self.get("buffers")[index].get("uri")
            self._buffers[index] = self.blob if uri is None else self._uri(uri)
        return self._buffers[index]

    def view_bytes(self, index: int) -> tuple[bytes, int | None]:
        view = self.get("bufferViews")[index]
        start = view.get("byteOffset", 0)
        return self.buffer(view["buffer"])[start:start + view["byteLength"]], view.get("byteStride")

    def accessor(self, index: int) -> np.ndarray:
        """Accessor -> (count, components) array, (count,) for SCALAR; float32 for floats and
        normalized integers, integers otherwise."""
        acc = self.get("accessors")[index]
        comps = _COMPONENTS[acc["type"]]
        ctype = acc["componentType"]
        dtype = np.dtype(_DTYPES[ctype]).newbyteorder("<")
        count = acc["count"]
        if acc.get("bufferView") is None:
            out = np.zeros((count, comps), dtype)
        else:
            data, stride = self.view_bytes(acc["bufferView"])
            offset = acc.get("byteOffset", 0)
            elem = comps * dtype.itemsize
            if stride and stride != elem and count:
                raw = np.frombuffer(data, np.uint8, count=stride * (count - 1) + elem, offset=offset)
                rows = np.lib.stride_tricks.as_strided(raw, (count, elem), (stride, 1))
                out = np.ascontiguousarray(rows).view(dtype).reshape(count, comps)
            else:
                out = np.frombuffer(data, dtype, count=count * comps, offset=offset).reshape(count, comps)
        sparse = acc.get("sparse")
        if sparse:
            out = self._apply_sparse(out.copy(), sparse, dtype, comps, index)
        if acc.get("normalized"):
            out = np.maximum(out.astype(np.float32) / _NORM[ctype], -1.0)
        elif dtype.kind == "f":
            out = out.astype(np.float32)
        return out[:, 0] if comps == 1 else out

    def _apply_sparse(self, out: np.ndarray, sparse: dict, dtype: np.dtype, comps: int,
                      index: int) -> np.ndarray:
        """Overwrite the rows a sparse accessor names with its values."""
        n = int(sparse.get("count", 0))
        ind, val = sparse.get("indices", {}), sparse.get("values", {})
        idata, _ = self.view_bytes(ind["bufferView"])
        idtype = np.dtype(_DTYPES[ind["componentType"]]).newbyteorder("<")
        idx = np.frombuffer(idata, idtype, count=n, offset=ind.get("byteOffset", 0)).astype(np.int64)
        vdata, _ = self.view_bytes(val["bufferView"])
        vals = np.frombuffer(vdata, dtype, count=n * comps, offset=val.get("byteOffset", 0)).reshape(n, comps)
        if n and (idx.min() < 0 or idx.max() >= out.shape[0]):
            raise InputError(f"{self.path}: sparse accessor {index} has indices outside its {out.shape[0]} rows")
        out[idx] = vals
        return out

    def image(self, index: int, max_side: int | None) -> np.ndarray:
        from PIL import Image
        info = self.get("images")[index]
        if info.get("bufferView") is not None:
            data = self.view_bytes(info["bufferView"])[0]
        elif info.get("uri"):
            data = self._uri(info["uri"])
        else:
            raise InputError(f"{self.path}: image {index} has no data")
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGBA" if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info else "RGB")
            if max_side and max(img.size) > max_side:
                s = max_side / max(img.size)
                img = img.resize((max(1, round(img.size[0] * s)), max(1, round(img.size[1] * s))),
                                 Image.Resampling.BOX)
            return np.asarray(img, dtype=np.uint8).copy()


def _mesh(doc: _Doc, mesh_index: int, prim_index: int, textures: dict[int, np.ndarray],
          options: ReadOptions) -> Mesh:
    gm = doc.get("meshes")[mesh_index]
    prim = gm["primitives"][prim_index]
    attrs = prim.get("attributes", {})
    if attrs.get("POSITION") is None:
        raise InputError(f"{doc.path}: mesh {gm.get('name') or mesh_index} has no POSITION")
    pos = np.ascontiguousarray(doc.accessor(attrs["POSITION"]), np.float32)
    n = len(pos)
    mode = prim.get("mode", 4)
    faces = None
    if mode == 4:
        idx = doc.accessor(prim["indices"]) if prim.get("indices") is not None else np.arange(n)
        faces = np.ascontiguousarray(np.asarray(idx, np.uint32).reshape(-1, 3))
    elif mode != 0:
        log.warning("%s: primitive mode %s of mesh %r is not drawn in previews", doc.path, mode, gm.get("name"))
        faces = np.zeros((0, 3), np.uint32)

    def attr(name: str) -> np.ndarray | None:
        return None if attrs.get(name) is None else np.ascontiguousarray(doc.accessor(attrs[name]), np.float32)
    colors = attr("COLOR_0")
    if colors is not None and colors.shape[1] == 3:
        colors = np.ascontiguousarray(np.concatenate([colors, np.ones((n, 1), np.float32)], 1))
    targets = [np.ascontiguousarray(doc.accessor(t["POSITION"]), np.float32)
               if t.get("POSITION") is not None else np.zeros((n, 3), np.float32)
               for t in prim.get("targets", [])]
    texture, alpha_mode, unlit, double_sided, base = None, "OPAQUE", False, False, (1.0, 1.0, 1.0, 1.0)
    if prim.get("material") is not None:
        mat = doc.get("materials")[prim["material"]]
        alpha_mode = mat.get("alphaMode", "OPAQUE")
        double_sided = bool(mat.get("doubleSided", False))
        unlit = "KHR_materials_unlit" in (mat.get("extensions") or {})
        pbr = mat.get("pbrMetallicRoughness") or {}
        base = tuple(float(x) for x in pbr.get("baseColorFactor", base))  # type: ignore[assignment]
        if pbr.get("baseColorTexture") is not None:
            source = doc.get("textures")[pbr["baseColorTexture"]["index"]].get("source")
            if source is not None:
                if source not in textures:
                    textures[source] = doc.image(source, options.max_texture)
                texture = textures[source]
    name = gm.get("name") or f"mesh{mesh_index}"
    if len(gm["primitives"]) > 1:
        name = f"{name}.{prim_index}"
    return Mesh(name=name, positions=pos, faces=faces, uvs=attr("TEXCOORD_0"), colors=colors,
                normals=attr("NORMAL"), texture=texture, morph_targets=targets,
                alpha_mode=alpha_mode, unlit=unlit, double_sided=double_sided, base_color=base)  # type: ignore[arg-type]


def _quat_from_matrix(r: np.ndarray) -> tuple[float, float, float, float]:
    """Rotation matrix -> unit quaternion (x, y, z, w), stable for every rotation."""
    tr = r[0, 0] + r[1, 1] + r[2, 2]
    if tr > 0:
        s = 2 * math.sqrt(tr + 1)
        q = ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    else:
        i = int(np.argmax(np.diag(r)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2 * math.sqrt(max(1e-12, 1 + r[i, i] - r[j, j] - r[k, k]))
        v = [0.0, 0.0, 0.0]
        v[i] = s / 4
        v[j] = (r[j, i] + r[i, j]) / s
        v[k] = (r[k, i] + r[i, k]) / s
        q = (v[0], v[1], v[2], (r[k, j] - r[j, k]) / s)
    return tuple(float(x) for x in q)  # type: ignore[return-value]


def _trs(gn: dict[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    if "matrix" in gn:
        m = np.asarray(gn["matrix"], np.float64).reshape(4, 4).T  # glTF matrices are column-major
        s = np.linalg.norm(m[:3, :3], axis=0)
        r = m[:3, :3] / np.where(s == 0, 1, s)
        return tuple(float(x) for x in m[:3, 3]), _quat_from_matrix(r), tuple(float(x) for x in s)
    return (tuple(float(x) for x in gn.get("translation", (0.0, 0.0, 0.0))),
            tuple(float(x) for x in gn.get("rotation", (0.0, 0.0, 0.0, 1.0))),
            tuple(float(x) for x in gn.get("scale", (1.0, 1.0, 1.0))))


def read_scene(path: str | os.PathLike[str], options: ReadOptions = DEFAULT_READ_OPTIONS) -> Scene:
    """Load a .glb/.gltf file into a :class:`Scene` (layers, effects with clips, camera, provenance).

    Raises:
        InputError: the file is missing, not glTF, or uses something previews cannot read.
    """
    p = Path(path)
    if p.suffix.lower() not in (".glb", ".gltf"):
        raise InputError(f"{p}: expected a .glb or .gltf file, got {p.suffix or 'no extension'!r}")
    if not p.is_file():
        raise InputError(f"{p}: no such file", hint="check the path")
    if options.max_texture is not None and options.max_texture < 1:
        raise InputError(f"max_texture must be >= 1 or None, got {options.max_texture}")
    if options.camera_height < 1:
        raise InputError(f"camera_height must be >= 1, got {options.camera_height}")
    doc = _Doc(p)
    gnodes = doc.get("nodes")
    textures: dict[int, np.ndarray] = {}
    nodes: list[Node | None] = [None] * len(gnodes)
    try:
        def build(i: int, depth: int = 0) -> Node:
            if depth > 64 or nodes[i] is not None:
                raise InputError(f"{p}: node {i} is part of a cycle or nested too deeply")
            gn = gnodes[i]
            t, r, s = _trs(gn)
            node = Node(name=gn.get("name") or f"node{i}", translation=t, rotation=r, scale=s,  # type: ignore[arg-type]
                        extras=dict(gn.get("extras") or {}))
            nodes[i] = node
            if gn.get("mesh") is not None:
                gm = doc.get("meshes")[gn["mesh"]]
                meshes = [_mesh(doc, gn["mesh"], k, textures, options) for k in range(len(gm["primitives"]))]
                weights = gn.get("weights", gm.get("weights"))
                node.mesh = meshes[0]
                node.weights = [float(w) for w in weights] if weights is not None else None
                for extra in meshes[1:]:  # further primitives ride along as children (no morph weights)
                    node.children.append(Node(name=extra.name, mesh=extra))
            node.children.extend(build(c, depth + 1) for c in gn.get("children", []))
            return node

        scenes = doc.get("scenes")
        roots_idx = list(scenes[doc.json.get("scene", 0)].get("nodes", [])) if scenes else list(range(len(gnodes)))
        roots = [build(i) for i in roots_idx]

        clips: list[Clip] = []
        animated: set[int] = set()
        for a_i, anim in enumerate(doc.get("animations")):
            tracks: list[Track] = []
            for ch in anim.get("channels", []):
                target = ch.get("target", {})
                node = nodes[target["node"]] if target.get("node") is not None else None
                if node is None or target.get("path") not in ("translation", "rotation", "scale", "weights"):
                    continue
                sampler = anim["samplers"][ch["sampler"]]
                interp = sampler.get("interpolation", "LINEAR")
                times = np.asarray(doc.accessor(sampler["input"]), np.float32).reshape(-1)
                values = np.asarray(doc.accessor(sampler["output"]), np.float32)
                width = {"translation": 3, "scale": 3, "rotation": 4}.get(target["path"])
                if width is None:  # weights: n_targets per key (times 3 for cubic splines)
                    rows = len(times) * (3 if interp == "CUBICSPLINE" else 1)
                    width = max(1, values.size // max(rows, 1))
                tracks.append(Track(node, target["path"], times, values.reshape(-1, width), interp))
                animated.add(id(node))
            if tracks:
                clips.append(Clip(anim.get("name") or f"animation{a_i}", tracks))
    except (KeyError, IndexError, TypeError) as exc:
        raise InputError(f"{p}: malformed glTF ({type(exc).__name__}: {exc})",
                         hint="check it with the Khronos glTF-Validator") from exc

    def moves(node: Node) -> bool:
        return id(node) in animated or any(moves(c) for c in node.children)

    # Provenance and the start camera.
    asset = doc.json.get("asset") or {}
    extras = asset.get("extras") or {}
    record = dict(extras.get("paint2vr") or {}) if isinstance(extras, dict) else {}
    src = record.get("source") if isinstance(record.get("source"), dict) else {}
    info = PaintingInfo(id=str(src.get("id") or p.stem), title=str(src.get("title", "")),
                        artist=str(src.get("artist", "")), license=str(src.get("license", "")),
                        attribution=str(src.get("attribution") or asset.get("copyright") or ""), source=str(p))
    yfov, aspect, position = math.radians(55.0), 4 / 3, (0.0, 1.6, 0.0)
    with_camera = [i for i, gn in enumerate(gnodes) if gn.get("camera") is not None]
    named = [i for i in with_camera if gnodes[i].get("name") == "start_camera"]
    start = (named or with_camera or [None])[0]
    if start is not None:
        gn = gnodes[start]
        persp = (doc.get("cameras")[gn["camera"]] or {}).get("perspective") or {}
        yfov = float(persp.get("yfov", yfov))
        aspect = float(persp.get("aspectRatio") or aspect)
        if nodes[start] is not None:  # world position (paint2vr puts the camera at the root)
            position = tuple(float(x) for x in nodes[start].translation)  # type: ignore[union-attr, assignment]
        if tuple(gn.get("rotation", (0, 0, 0, 1))) != (0, 0, 0, 1):
            log.warning("%s: the start camera is rotated; previews look down -Z from its position", p)
    else:
        log.warning("%s: no camera node; previewing from (0, 1.6, 0) looking down -Z", p)
    h = options.camera_height
    camera = Camera(width=max(1, round(h * aspect)), height=h, yfov=yfov, position=position)  # type: ignore[arg-type]

    scene = Scene(info=info, camera=camera)
    lift = record.get("lift") if isinstance(record.get("lift"), dict) else {}
    viewer = record.get("viewer") if isinstance(record.get("viewer"), dict) else {}
    for value in (viewer.get("walkable_radius"), record.get("walkable_radius"), lift.get("walk_radius")):
        if isinstance(value, (int, float)) and value > 0:
            scene.walkable_radius = float(value)
            break
    scene.provenance.update(record)
    scene.provenance["sha256"] = str(src.get("sha256", ""))
    for node in roots:
        if moves(node) or (node.mesh is None and not node.children):
            continue
        kind = "sky" if node.name == "sky" else "layer"
        scene.layers.append(Layer(node.name, node, (0.0, 0.0), kind=kind))  # type: ignore[arg-type]
    effect_nodes = [n for n in roots if moves(n)]
    if effect_nodes or clips:
        scene.effects.append(Effect("animations", nodes=effect_nodes, clips=clips))
    return scene


__all__ = ["DEFAULT_READ_OPTIONS", "ReadOptions", "read_scene"]
