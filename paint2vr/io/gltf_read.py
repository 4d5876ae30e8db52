"""Read glTF 2.0 files, whoever wrote them: one reader for inspect, preview and the tests.

pygltflib parses the container (GLB chunks or .gltf JSON) into its data model; this module
resolves buffers (the GLB's BIN chunk, external ``.bin`` files, ``data:`` URIs), decodes
accessors (strided, normalised and quantised integers as ``KHR_mesh_quantization`` allows,
sparse, and ``EXT_meshopt_compression`` buffer views, decoded by meshoptimizer with their
filters) and images (PNG, JPEG, and WebP through ``EXT_texture_webp``, decoded by Pillow;
KTX2 through ``KHR_texture_basisu``, transcoded by the ``basisu`` tool as a Quest samples it:
:mod:`paint2vr.codecs`). A missing codec raises ``CodecMissingError`` naming the install
command. Data it cannot decode is refused with :class:`~paint2vr.errors.UnsupportedExtensionError`
naming the extension, when it is used, not when the file is opened, so that inspect can still
report what such a file holds: ``KHR_draco_mesh_compression`` geometry (no maintained Python
decoder ships wheels).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import io
import json
import os
import struct
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pygltflib

from ..errors import InputError, UnsupportedExtensionError

COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_NORM = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}
MESHOPT = "EXT_meshopt_compression"
DRACO = "KHR_draco_mesh_compression"
WEBP = "EXT_texture_webp"
BASISU = "KHR_texture_basisu"
KTX2_MAGIC = b"\xabKTX 20\xbb\r\n\x1a\n"
_MIME_BY_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8", "image/jpeg"), (KTX2_MAGIC, "image/ktx2"))


@dataclass(frozen=True)
class ImageInfo:
    """One image of the file, from its header only (nothing decoded)."""

    width: int
    height: int
    mime: str
    bytes: int


def _mime_of(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((m for magic, m in _MIME_BY_MAGIC if data.startswith(magic)), "")


class GltfFile:
    """A parsed glTF file: ``gltf`` is pygltflib's document; data comes decoded from the methods."""

    def __init__(self, path: Path, gltf: pygltflib.GLTF2, raw: dict[str, Any], fmt: str,
                 blob: bytes | None) -> None:
        self.path = path
        self.gltf = gltf
        self.raw = raw
        """The JSON as parsed, for the few fields pygltflib's model drops (``nodes[i].weights``)."""
        self.format = fmt
        """'glb' or 'gltf'."""
        self._blob = blob
        self._buffers: dict[int, bytes] = {}

    # -- the document ---------------------------------------------------------------------
    @property
    def extensions_used(self) -> list[str]:
        return list(self.gltf.extensionsUsed or [])

    @property
    def extensions_required(self) -> list[str]:
        return list(self.gltf.extensionsRequired or [])

    def node_weights(self, index: int) -> list[float] | None:
        """A node's morph weights (pygltflib's Node has no such field), else its mesh's, else None."""
        raw = (self.raw.get("nodes") or [])[index]
        weights = raw.get("weights") if isinstance(raw, dict) else None
        mesh = self.gltf.nodes[index].mesh
        if weights is None and mesh is not None:
            weights = self.gltf.meshes[mesh].weights or None
        return None if weights is None else [float(w) for w in weights]

    @property
    def asset_extras(self) -> dict[str, Any]:
        extras = self.gltf.asset.extras if self.gltf.asset is not None else None
        return extras if isinstance(extras, dict) else {}

    def external_files(self) -> list[Path]:
        """Local files the document references (buffers, images), each once, sorted."""
        uris = [b.uri for b in self.gltf.buffers if b.uri] + [i.uri for i in self.gltf.images if i.uri]
        return sorted({self._local(u) for u in uris if not u.startswith("data:")})

    @property
    def file_bytes(self) -> int:
        """Bytes on disk: the file and every local file it references."""
        return self.path.stat().st_size + sum(f.stat().st_size for f in self.external_files())

    # -- buffers --------------------------------------------------------------------------
    def _local(self, uri: str) -> Path:
        if "://" in uri:
            raise InputError(f"{self.path}: external resource {uri[:40]!r} is not a local file")
        return self.path.parent / unquote(uri)

    def _uri_bytes(self, uri: str) -> bytes:
        if uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            try:
                return base64.b64decode(payload, validate=True) if head.endswith(";base64") \
                    else unquote(payload).encode("latin-1")
            except (binascii.Error, ValueError) as exc:
                raise InputError(f"{self.path}: a data: URI is not valid base64 ({exc})") from exc
        target = self._local(uri)
        if not target.is_file():
            raise InputError(f"{self.path}: referenced file {target.name!r} is missing",
                             hint="copy the .bin and texture files next to the .gltf")
        return target.read_bytes()

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            buf = self.gltf.buffers[index]
            if (buf.extensions or {}).get(MESHOPT, {}).get("fallback"):
                raise UnsupportedExtensionError(
                    f"{self.path}: buffer {index} is only a fallback for {MESHOPT} data, which "
                    "paint2vr cannot decode", extension=MESHOPT,
                    hint="decompress it first: gltf-transform copy in.glb out.glb")
            self._buffers[index] = (self._blob or b"") if buf.uri is None else self._uri_bytes(buf.uri)
        return self._buffers[index]

    def view(self, index: int) -> tuple[bytes, int | None]:
        """A buffer view's bytes and its byte stride (None when tightly packed); an
        ``EXT_meshopt_compression`` view is decoded (meshoptimizer) and cached."""
        bv = self.gltf.bufferViews[index]
        ext = (bv.extensions or {}).get(MESHOPT)
        if ext is not None:
            return self._meshopt_view(index, ext), int(ext["byteStride"])
        data = self.buffer(bv.buffer)
        start = bv.byteOffset or 0
        if start + bv.byteLength > len(data):
            raise InputError(f"{self.path}: buffer view {index} runs past the end of buffer {bv.buffer}")
        return data[start:start + bv.byteLength], bv.byteStride

    def _meshopt_view(self, index: int, ext: dict[str, Any]) -> bytes:
        key = -1 - index  # decoded views share the buffer cache under negative keys
        if key not in self._buffers:
            from ..codecs.meshopt import decode_stream

            try:
                source = self.buffer(int(ext.get("buffer", 0)))
                start, length = int(ext.get("byteOffset", 0)), int(ext["byteLength"])
                count, stride, mode = int(ext["count"]), int(ext["byteStride"]), str(ext["mode"])
            except (KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{self.path}: buffer view {index} has a malformed {MESHOPT} object ({exc})") from exc
            if start + length > len(source):
                raise InputError(f"{self.path}: buffer view {index}'s {MESHOPT} data runs past its buffer")
            self._buffers[key] = decode_stream(source[start:start + length], count, stride, mode,
                                               str(ext.get("filter", "NONE")))
        return self._buffers[key]

    # -- accessors ------------------------------------------------------------------------
    def accessor(self, index: int) -> np.ndarray:
        """Accessor -> (count, components) array, (count,) for SCALAR; float32 for floats and
        normalized integers, the stored integer type otherwise (quantised positions included:
        their node's transform scales them)."""
        acc = self.gltf.accessors[index]
        if acc.type not in COMPONENTS or acc.componentType not in DTYPES:
            raise InputError(f"{self.path}: accessor {index} has type {acc.type!r} / {acc.componentType!r}")
        comps, count = COMPONENTS[acc.type], acc.count
        dtype = np.dtype(DTYPES[acc.componentType]).newbyteorder("<")
        if acc.bufferView is None:
            out = np.zeros((count, comps), dtype)
        else:
            out = self._rows(acc.bufferView, acc.byteOffset or 0, count, comps, dtype, index)
        if acc.sparse is not None and acc.sparse.count:
            out = self._apply_sparse(out.copy(), acc.sparse, dtype, comps, index)
        if acc.normalized and dtype.kind != "f":
            out = np.maximum(out.astype(np.float32) / _NORM[acc.componentType], -1.0)
        elif dtype.kind == "f":
            out = out.astype(np.float32)
        return out[:, 0] if comps == 1 else out

    def _rows(self, view: int, offset: int, count: int, comps: int, dtype: np.dtype, index: int) -> np.ndarray:
        data, stride = self.view(view)
        elem = comps * dtype.itemsize
        stride = stride or elem
        if count and offset + stride * (count - 1) + elem > len(data):
            raise InputError(f"{self.path}: accessor {index} runs past the end of its buffer view")
        if stride != elem and count:
            raw = np.frombuffer(data, np.uint8, count=stride * (count - 1) + elem, offset=offset)
            rows = np.lib.stride_tricks.as_strided(raw, (count, elem), (stride, 1))
            return np.ascontiguousarray(rows).view(dtype).reshape(count, comps)
        return np.frombuffer(data, dtype, count=count * comps, offset=offset).reshape(count, comps)

    def _apply_sparse(self, out: np.ndarray, sparse: Any, dtype: np.dtype, comps: int, index: int) -> np.ndarray:
        """Overwrite the rows a sparse accessor names with its values."""
        n = int(sparse.count)
        ind, val = sparse.indices, sparse.values
        if ind.componentType not in (5121, 5123, 5125):
            raise InputError(f"{self.path}: sparse accessor {index} has index type {ind.componentType}")
        idtype = np.dtype(DTYPES[ind.componentType]).newbyteorder("<")
        idx = self._rows(ind.bufferView, ind.byteOffset or 0, n, 1, idtype, index)[:, 0].astype(np.int64)
        vals = self._rows(val.bufferView, val.byteOffset or 0, n, comps, dtype, index)
        if n and (idx.min() < 0 or idx.max() >= out.shape[0]):
            raise InputError(f"{self.path}: sparse accessor {index} has indices outside its {out.shape[0]} rows")
        out[idx] = vals
        return out

    def refuse_compressed(self, accessor_index: int) -> None:
        """Raise when an accessor's data is compressed with an extension paint2vr cannot decode."""
        acc = self.gltf.accessors[accessor_index]
        if acc.bufferView is not None and MESHOPT in (self.gltf.bufferViews[acc.bufferView].extensions or {}):
            self.view(acc.bufferView)  # meshopt is decoded; raises when the codec is missing or the data bad

    def refuse_draco(self, primitive: Any, what: str) -> None:
        if DRACO in (primitive.extensions or {}):
            raise UnsupportedExtensionError(f"{self.path}: {what} is compressed with {DRACO}, which "
                                            "paint2vr cannot decode", extension=DRACO,
                                            hint="decompress it first: gltf-transform copy in.glb out.glb")

    # -- images ---------------------------------------------------------------------------
    def image_bytes(self, index: int) -> bytes:
        img = self.gltf.images[index]
        if img.bufferView is not None:
            return self.view(img.bufferView)[0]
        if img.uri:
            return self._uri_bytes(img.uri)
        raise InputError(f"{self.path}: image {index} has no data")

    def image_info(self, index: int) -> ImageInfo:
        """Size and type of an image from its header (KTX2 included)."""
        from PIL import Image, UnidentifiedImageError

        data = self.image_bytes(index)
        mime = self.gltf.images[index].mimeType or _mime_of(data)
        if data.startswith(KTX2_MAGIC):
            if len(data) < 28:
                raise InputError(f"{self.path}: image {index} is a truncated KTX2 file")
            width, height = struct.unpack_from("<II", data, 20)
            return ImageInfo(width, height, "image/ktx2", len(data))
        try:
            with Image.open(io.BytesIO(data)) as im:
                return ImageInfo(im.size[0], im.size[1], mime or Image.MIME.get(im.format or "", ""), len(data))
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"{self.path}: image {index} cannot be read ({exc})") from exc

    def texture_source(self, texture_index: int) -> int | None:
        """The image a texture shows that Pillow can decode: the ``EXT_texture_webp`` source, else
        the plain source; a texture with only a KTX2 (``KHR_texture_basisu``) image is refused."""
        tex = self.gltf.textures[texture_index]
        ext = tex.extensions or {}
        webp = (ext.get(WEBP) or {}).get("source")
        if webp is not None:
            return int(webp)
        if tex.source is not None and not self.image_bytes(tex.source).startswith(KTX2_MAGIC):
            return tex.source
        basisu = (ext.get(BASISU) or {}).get("source")
        if basisu is not None:
            return int(basisu)  # decoded by :meth:`image` through basisu's transcoder
        if tex.source is not None:
            raise UnsupportedExtensionError(
                f"{self.path}: texture {texture_index} is a KTX2 / Basis Universal image ({BASISU}), which "
                "paint2vr cannot decode", extension=BASISU,
                hint="decompress it first: gltf-transform ktxdecompress in.glb out.glb")
        return None

    def _ktx2_image(self, data: bytes, max_side: int | None) -> np.ndarray:
        """KTX2 -> uint8 RGBA (RGB when opaque) through basisu's transcoder, as a Quest samples it."""
        import cv2

        from ..codecs.ktx2 import decode_ktx2, ktx2_info

        rgba = decode_ktx2(data)
        if not ktx2_info(data).has_alpha:
            rgba = np.ascontiguousarray(rgba[..., :3])
        h, w = rgba.shape[:2]
        if max_side and max(w, h) > max_side:
            s = max_side / max(w, h)
            rgba = cv2.resize(rgba, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
        return rgba

    def image(self, index: int, max_side: int | None = None) -> np.ndarray:
        """Decode an image to uint8 RGB or RGBA, its longer side at most ``max_side`` (box filter)."""
        from PIL import Image, UnidentifiedImageError

        data = self.image_bytes(index)
        if data.startswith(KTX2_MAGIC):
            return self._ktx2_image(data, max_side)
        try:
            with Image.open(io.BytesIO(data)) as img:
                rgba = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
                img = img.convert("RGBA" if rgba else "RGB")
                if max_side and max(img.size) > max_side:
                    s = max_side / max(img.size)
                    img = img.resize((max(1, round(img.size[0] * s)), max(1, round(img.size[1] * s))),
                                     Image.Resampling.BOX)
                return np.asarray(img, dtype=np.uint8).copy()
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"{self.path}: image {index} cannot be decoded ({exc})") from exc


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> dict[str, tuple[type | None, bool]]:
    """pygltflib dataclass -> {field: (nested pygltflib dataclass or None, is a list)}."""
    out: dict[str, tuple[type | None, bool]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)] if typing.get_origin(hint) is typing.Union \
            else [hint]
        inner, listed = (args[0] if args else hint), False
        if typing.get_origin(inner) in (list, typing.List):
            inner, listed = typing.get_args(inner)[0], True
        nested = dataclasses.is_dataclass(inner) or inner is pygltflib.Attributes
        out[name] = (inner if nested else None, listed)
    return out


def _build(cls: type, value: Any) -> Any:
    """JSON -> pygltflib's dataclasses, keeping known fields (dataclasses_json, which pygltflib
    uses, takes seconds on a paint2vr GLB's provenance and accessors; this takes milliseconds)."""
    if not isinstance(value, dict):
        raise ValueError(f"expected an object for {cls.__name__}, got {type(value).__name__}")
    if cls is pygltflib.Attributes:  # not a dataclass: it keeps custom attributes (_FOO) too
        return cls(**value)
    kwargs = {}
    for name, (nested, listed) in _field_types(cls).items():
        if name not in value:
            continue
        v = value[name]
        if nested is not None and v is not None:
            v = [_build(nested, x) for x in v] if listed else _build(nested, v)
        kwargs[name] = v
    return cls(**kwargs)


def _from_json(raw: Any, path: Path) -> pygltflib.GLTF2:
    if not isinstance(raw, dict) or not isinstance(raw.get("asset"), dict):
        raise InputError(f"{path}: cannot read the glTF (no 'asset' object)")
    gltf = _build(pygltflib.GLTF2, raw)
    for mesh in gltf.meshes:  # targets stay {attribute: accessor} maps, as pygltflib loads them
        for prim in mesh.primitives:
            prim.targets = [{k: v for k, v in vars(t).items() if v is not None} for t in prim.targets or []]
    return gltf


def _parse_glb(path: Path, data: bytes) -> tuple[pygltflib.GLTF2, dict[str, Any], bytes | None]:
    """GLB container: 12-byte header, a JSON chunk, then an optional BIN chunk."""
    if len(data) < 20:
        raise InputError(f"{path}: cannot read the glTF (truncated GLB: {len(data)} bytes, no JSON chunk)")
    _magic, version, _length = struct.unpack_from("<4sII", data, 0)
    jlen, jtype = struct.unpack_from("<II", data, 12)
    if version != 2 or jtype != 0x4E4F534A or 20 + jlen > len(data):
        raise InputError(f"{path}: cannot read the glTF (no JSON chunk, or GLB version {version} is not 2)")
    raw = json.loads(data[20:20 + jlen])
    gltf = _from_json(raw, path)
    blob, off = None, 20 + jlen
    if off + 8 <= len(data):
        blen, btype = struct.unpack_from("<II", data, off)
        if btype == 0x004E4942:
            if off + 8 + blen > len(data):
                raise InputError(f"{path}: cannot read the glTF (truncated BIN chunk)")
            blob = data[off + 8:off + 8 + blen]
    return gltf, raw, blob


def read_gltf(path: str | os.PathLike[str]) -> GltfFile:
    """Open a .glb or .gltf file (the format is told by its first bytes, not its name).

    Raises:
        InputError: the file is missing, not glTF, or its JSON is malformed.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file", hint="check the path")
    return parse_gltf(p.read_bytes(), p)


def parse_gltf(data: bytes, path: str | os.PathLike[str] = "<bytes>") -> GltfFile:
    """Parse GLB or .gltf bytes; ``path`` names them in errors and anchors relative URIs."""
    p = Path(path)
    try:
        if data[:4] == b"glTF":
            gltf, raw, blob = _parse_glb(p, data)
            fmt = "glb"
        else:
            try:
                raw = json.loads(data)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise InputError(f"{p}: not a glTF file (neither GLB nor JSON): cannot read the glTF",
                                 hint="a .glb or .gltf file is expected") from None
            gltf, blob, fmt = _from_json(raw, p), None, "gltf"
    except (ValueError, TypeError, KeyError, AttributeError, struct.error) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{p}: malformed glTF ({type(exc).__name__}: {exc})",
                         hint="check it with the Khronos glTF-Validator") from exc
    return GltfFile(p, gltf, raw, fmt, blob)


__all__ = ["GltfFile", "ImageInfo", "parse_gltf", "read_gltf"]
