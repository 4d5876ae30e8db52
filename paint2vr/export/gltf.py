"""Scene -> glTF 2.0 (GLB bytes, or .gltf + .bin + textures) with pygltflib.

Each scene Node becomes a glTF node, each distinct Mesh object one glTF mesh with one
primitive and one material (a mesh shared by several nodes, like the birds', is written
once and referenced by every node; each node is still one draw call), each Clip one
animation. Morph targets are written as sparse accessors (zeros + moved rows) when that is
smaller than dense. A :class:`~.fit.Fitted` may replace the
mesh written for a node (decimated layers, point clouds, splats). Layer root nodes carry
``extras['paint2vr'] = {'layer', 'kind', 'depth_range'}`` so readers can find the layers,
effect root nodes ``extras['paint2vr'] = {'effect': name}``.
Walk nodes (navmesh, collider: ``paint2vr.scene.WALK_ROLES``) keep their mesh in the file but
name it in ``extras[WALK_MESH_KEY]`` instead of instancing it, so no client draws it.
Output is deterministic: no timestamps, stable ordering, and image encoders with fixed
settings.
"""

from __future__ import annotations

import io
import os
import json
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import cv2
import numpy as np
import pygltflib as g

from ..codecs.ktx2 import DEFAULT_KTX2_OPTIONS, Ktx2Options, encode_ktx2
from ..codecs.meshopt import optimize_triangle_order
from ..errors import ExportError
from ..scene import WALK_MESH_KEY, WALK_ROLES, Clip, Mesh, Node, Scene
from ..texture import bleed_edge_colours, coarsen_hidden_texels
from .fit import Fitted
from .meshopt_views import EXTENSION as MESHOPT, compress_views
from .uv_grid import TEXTURE_TRANSFORM, quantize_uvs, uv_grid
from .weld import weld_identical
from .provenance import PROVENANCE_KEY, copyright_line, package_version, provenance_record
from .texture_choice import DEFAULT_TEXTURE_CHOICE_OPTIONS, TextureChoiceOptions, encode_chosen, view_shares

UNLIT = "KHR_materials_unlit"
BASISU = "KHR_texture_basisu"
WEBP = "EXT_texture_webp"
TEXTURE_FORMATS = ("png-jpeg", "webp", "ktx2")
_SUFFIX = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/ktx2": "ktx2"}
SPARSE_OVERHEAD = 160
"""Bytes a sparse accessor costs beyond its data: the 'sparse' JSON object and a second
buffer view (measured ~130 bytes), plus alignment padding. Tiny targets (a bird's wings)
stay dense, where sparse would make the file larger."""


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
    sparse_morph_targets: bool = True
    """Write morph targets as sparse accessors when that makes the file smaller."""
    texture_format: str = "png-jpeg"
    """png-jpeg (JPEG when opaque, PNG with alpha), webp (EXT_texture_webp) or ktx2 (KHR_texture_basisu)."""
    webp_quality: int = 90
    """Quality of lossy WebP colour (alpha is stored losslessly)."""
    png_compression: int = 2
    """zlib level of PNG textures, 0 (stored) to 9."""
    ktx2: Ktx2Options = DEFAULT_KTX2_OPTIONS
    """How KTX2 textures are encoded (ETC1S / UASTC)."""
    texture_choice: TextureChoiceOptions = DEFAULT_TEXTURE_CHOICE_OPTIONS
    """KTX2 mode auto: which textures get UASTC, by what the start view shows of them (export/texture_choice.py)."""
    meshopt: bool = False
    """Compress geometry and animation buffers with EXT_meshopt_compression (UVs as 16-bit)."""
    meshopt_bits: int = 16
    """Mantissa bits of float vertex data under meshopt's exponential filter (16: the start view
    of Hunters in the Snow at one texel a pixel within 0.01 dB of float positions; 14 cost 0.9 dB)."""
    layer_depth_step: float = 1e-3
    """Relative depth between consecutive layers: layer k (0 nearest) is scaled about the eye
    by 1 + k * this, which leaves the start view unchanged and no two layers' surfaces at one
    depth (a layer's far side lies on the next layer's surface, from one depth map). Eevee's
    clipped materials drew such ties as empty pixels (Hunters at 360x256: 72 -> 0 with
    1e-3, BENCHMARKS.md); 0 writes the layers in place."""


DEFAULT_GLTF_OPTIONS = GltfOptions()


def push_back(translation: list[float] | None, scale: list[float] | None, eye: tuple[float, float, float],
              factor: float) -> tuple[list[float], list[float]]:
    """A node's (translation, scale) after scaling it about ``eye`` by ``factor`` (uniform, so
    its rotation is unchanged): every point moves along its ray from the eye."""
    t = np.asarray(translation if translation is not None else (0.0, 0.0, 0.0), np.float64)
    sc = np.asarray(scale if scale is not None else (1.0, 1.0, 1.0), np.float64)
    e = np.asarray(eye, np.float64)
    return [float(x) for x in e + factor * (t - e)], [float(x) for x in factor * sc]


def texture_size(shape: tuple[int, ...], max_texture: int) -> tuple[int, int]:
    """(width, height) a texture of array shape (h, w, ...) is written at under ``max_texture``."""
    h, w = shape[0], shape[1]
    if max(w, h) <= max_texture:
        return w, h
    s = max_texture / max(w, h)
    return max(1, round(w * s)), max(1, round(h * s))


def block_size(size: tuple[int, int]) -> tuple[int, int]:
    """(w, h) padded up to multiples of 4, the size a KTX2 texture of written size ``size`` has.

    KTX2 textures are block-compressed on the GPU (4 x 4 texel blocks) and WebGL refuses a
    compressed level 0 whose sides are not multiples of 4 (the texture draws black). The
    texture is padded by repeating its last row and column, not resampled: resampling to
    powers of two cost 11 dB of PSNR in the rendered view (measured, Hunters in the Snow), as
    layer texels sit on the painting's pixel grid. UVs are scaled by :func:`uv_scale`."""
    return (-(-size[0] // 4) * 4, -(-size[1] // 4) * 4)


def uv_scale(tex_shape: tuple[int, ...], options: GltfOptions) -> tuple[float, float]:
    """Factor on (u, v) so that UVs address a texture's unpadded texels (1, 1 unless KTX2)."""
    if options.texture_format != "ktx2":
        return (1.0, 1.0)
    w, h = texture_size(tex_shape, options.max_texture)
    pw, ph = block_size((w, h))
    return (w / pw, h / ph)


def _resize(tex: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # Area averaging: the antialiased filter for shrinking, 4x faster than Pillow's
    # Lanczos (measured, 0.04 vs 0.16 s for a 3640 px layer). Colours are not
    # premultiplied: transparent texels near an alpha edge hold the painting's colour.
    tex = cv2.resize(tex, size, interpolation=cv2.INTER_AREA)
    if tex.shape[2] == 4:
        # Shrinking blurs the flat blocks of never-shown texels; flat again, the PNG
        # stays small (measured: Breezing Up, quest profile, 9.48 -> 9.03 MB).
        coarsen_hidden_texels(tex)
    return tex


def gpu_order(mesh: Mesh) -> Mesh:
    """The same mesh with triangles in vertex-cache order and vertices in first-use order
    (what meshoptimizer's vertex-cache and vertex-fetch optimisers do): faster to draw, and
    EXT_meshopt_compression's index and vertex codecs need it to compress well (measured,
    Hunters in the Snow: indices 2.4 -> 1.1 bytes a triangle). Every per-vertex array, morph
    targets included, follows the new order. Meshes without triangles come back unchanged."""
    if mesh.faces is None or not mesh.faces.size:
        return mesh
    n = mesh.positions.shape[0]
    idx = optimize_triangle_order(mesh.faces.reshape(-1), n)
    _, first = np.unique(idx, return_index=True)
    used = idx[np.sort(first)]
    order = np.concatenate([used, np.setdiff1d(np.arange(n, dtype=used.dtype), used)])
    new_of_old = np.empty(n, np.uint32)
    new_of_old[order] = np.arange(n, dtype=np.uint32)

    def take(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.ascontiguousarray(np.asarray(a)[order])
    extras = dict(mesh.extras)
    if "attributes" in extras:
        extras["attributes"] = {k: take(np.asarray(v)) for k, v in extras["attributes"].items()}
    return replace(mesh, positions=take(mesh.positions), faces=new_of_old[idx].reshape(-1, 3),
                   uvs=take(mesh.uvs), colors=take(mesh.colors), normals=take(mesh.normals),
                   morph_targets=[take(t) for t in mesh.morph_targets], extras=extras)


def encode_texture(tex: np.ndarray, options: GltfOptions, threads: int = 1,
                   mipmaps: bool = True) -> tuple[bytes, str]:
    """uint8 (h, w, 3|4) -> (encoded bytes, mime type) in ``options.texture_format``: JPEG when
    opaque, PNG when alpha matters; or WebP; or KTX2 (Basis Universal, with ``threads``
    encoder threads; without ``mipmaps``, level 0 alone)."""

    if tex.shape[2] == 4 and bool((tex[..., 3] == 255).all()):
        tex = tex[..., :3]
    elif tex.shape[2] == 4:
        tex = bleed_edge_colours(tex)  # no foreign colour at alpha edges (Eevee's dark seams)
    size = texture_size(tex.shape, options.max_texture)
    if size != (tex.shape[1], tex.shape[0]):
        tex = _resize(tex, size)
    tex = np.ascontiguousarray(tex)
    if options.texture_format == "ktx2":
        pw, ph = block_size(size)
        tex = cv2.copyMakeBorder(tex, 0, ph - size[1], 0, pw - size[0], cv2.BORDER_REPLICATE)
        return encode_ktx2(np.ascontiguousarray(tex), options.ktx2, threads=threads, mipmaps=mipmaps)[0], "image/ktx2"
    if options.texture_format == "webp":
        return _encode_webp(tex, options.webp_quality), "image/webp"
    if tex.shape[2] == 4:
        return _encode_png_rgba(tex, options.png_compression), "image/png"
    return _encode_jpeg(tex, options.jpeg_quality), "image/jpeg"


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def encode_textures(textures: list[np.ndarray], options: GltfOptions,
                    mipmaps: list[bool] | None = None) -> list[tuple[bytes, str]]:
    """:func:`encode_texture` for each texture (``mipmaps``: each one's, default all), KTX2 ones
    side by side: one basisu process per usable core (the bytes are the same as one at a time;
    basisu's own threads share what is left). Measured on a 1 MP painting's nine textures, 2
    cores: wall time 0.55x."""
    cores = usable_cores()
    mips = mipmaps if mipmaps is not None else [True] * len(textures)
    if options.texture_format != "ktx2" or len(textures) <= 1 or cores <= 1:
        return [encode_texture(t, options, cores if len(textures) == 1 else 1, m) for t, m in zip(textures, mips)]
    threads = max(1, cores // len(textures))
    with ThreadPoolExecutor(min(len(textures), cores)) as pool:
        return list(pool.map(lambda tm: encode_texture(tm[0], options, threads, tm[1]), zip(textures, mips)))


def _encode_jpeg(tex: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(tex))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, subsampling=0, optimize=False)
    return buf.getvalue()


def _encode_webp(tex: np.ndarray, quality: int) -> bytes:
    """Lossy WebP colour, lossless alpha (alpha edges stay exact). libwebp with fixed settings
    is deterministic."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(tex).save(buf, format="WEBP", quality=quality, method=4, alpha_quality=100, exact=True)
    return buf.getvalue()


def _encode_png_rgba(rgba: np.ndarray, level: int = 2) -> bytes:
    """uint8 (h, w, 4) -> PNG bytes, fast.

    zlib ``level`` (2 by default), each row filtered by the best of none/sub/up (libpng's fast
    filters; none at level 0, where filtering cannot pay).
    Measured on Breezing Up's layer textures (desktop profile, 23 M texels) against Pillow
    at level 3 with all five filters: 0.91 vs 1.47 s for 15.1 vs 14.6 MB; level 1 with "up"
    only was faster still (0.65 s) but 8 % larger.
    """
    filters = cv2.IMWRITE_PNG_FAST_FILTERS if level else cv2.IMWRITE_PNG_FILTER_NONE
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA),
                           [cv2.IMWRITE_PNG_COMPRESSION, int(level), cv2.IMWRITE_PNG_FILTER, filters])
    if not ok:
        raise ExportError(f"could not encode a {rgba.shape[1]}x{rgba.shape[0]} texture as PNG")
    return buf.tobytes()


@dataclass
class GltfFiles:
    """A scene as a .gltf document with its external files (see :func:`to_gltf_files`)."""

    gltf: bytes
    """The .gltf JSON."""
    files: list[tuple[str, bytes]] = field(default_factory=list)
    """(file name, bytes) of the .bin buffer and the textures, in a stable order."""


class _Builder:
    """Accumulates buffers, accessors and objects for one glTF document.

    With ``image_prefix`` set, textures become separate files named ``<prefix>_<n>.jpg|png``
    (collected in ``self.files``) instead of buffer views.
    """

    def __init__(self, options: GltfOptions, fitted: Fitted | None = None,
                 image_prefix: str | None = None) -> None:
        self.options = options
        self.fitted = fitted or Fitted()
        self.image_prefix = image_prefix
        self.files: list[tuple[str, bytes]] = []
        self.doc = g.GLTF2(scene=0, scenes=[g.Scene(nodes=[])], buffers=[g.Buffer(byteLength=0)])
        self.blob = bytearray()
        self.node_index: dict[int, int] = {}
        self.mesh_index: dict[int, int] = {}
        self.meshes_kept: list[Mesh] = []
        self.texture_index: dict[int, int] = {}
        self.encoded: dict[int, tuple[bytes, str]] = {}
        self.extensions: set[str] = set()
        self.required: set[str] = set()

    # -- buffers -------------------------------------------------------------
    def view(self, data: bytes, target: int | None = None, stride: int | None = None) -> int:
        pad = (-len(self.blob)) % 4
        self.blob.extend(b"\0" * pad)
        self.doc.bufferViews.append(g.BufferView(buffer=0, byteOffset=len(self.blob),
                                                 byteLength=len(data), target=target, byteStride=stride))
        self.blob.extend(data)
        return len(self.doc.bufferViews) - 1

    def accessor(self, arr: np.ndarray, kind: str, target: int | None = None,
                 minmax: bool = False, normalized: bool = False) -> int:
        arr = np.ascontiguousarray(arr)
        ctype = {np.dtype(np.float32): g.FLOAT, np.dtype(np.uint32): g.UNSIGNED_INT,
                 np.dtype(np.uint16): g.UNSIGNED_SHORT, np.dtype(np.uint8): g.UNSIGNED_BYTE}[arr.dtype]
        count = arr.shape[0]
        acc = g.Accessor(bufferView=self.view(arr.tobytes(), target), componentType=ctype,
                         count=count, type=kind, normalized=True if normalized else None)
        if minmax and count:
            flat = arr.reshape(count, -1)
            acc.min = [float(x) for x in flat.min(axis=0)]
            acc.max = [float(x) for x in flat.max(axis=0)]
        self.doc.accessors.append(acc)
        return len(self.doc.accessors) - 1

    def uv_accessor(self, uvs: np.ndarray, scale: tuple[float, float] = (1.0, 1.0),
                    texture: np.ndarray | None = None) -> tuple[int, tuple[float, float] | None]:
        """TEXCOORD_0 (times ``scale``, see :func:`uv_scale`) and the KHR_texture_transform scale
        its material needs (None: none). Float; or with meshopt, when every UV lies in [0, 1],
        normalised 16-bit: steps of the written ``texture``'s texels (:mod:`.uv_grid`: whole
        texels where the vertices sit on texel corners), else of 1/65535 (0.03 texel at 2048 px)."""
        uvs = np.asarray(uvs, dtype=np.float32)
        if not self.options.meshopt or not uvs.size or uvs.min() < 0.0 or uvs.max() > 1.0:
            scaled = uvs * np.asarray(scale, dtype=np.float32) if scale != (1.0, 1.0) else uvs
            return self.accessor(scaled, g.VEC2, g.ARRAY_BUFFER), None
        if texture is not None:
            texels = texture_size(texture.shape, self.options.max_texture)
            padded = block_size(texels) if self.options.texture_format == "ktx2" else texels
            grid = uv_grid(uvs, texels, padded)
            if grid is not None:
                q = quantize_uvs(uvs, texels, grid)
                return self.accessor(q, g.VEC2, g.ARRAY_BUFFER, normalized=True), grid.scale
        if scale != (1.0, 1.0):
            uvs = uvs * np.asarray(scale, dtype=np.float32)
        q = np.round(uvs * 65535.0).astype(np.uint16)
        return self.accessor(q, g.VEC2, g.ARRAY_BUFFER, normalized=True), None

    def morph_accessor(self, target: np.ndarray) -> int:
        """A morph target's POSITION accessor: sparse (zeros base, ascending indices of the
        moved vertices, their offsets) when that takes fewer bytes than dense.

        min/max always describe the whole decoded target (unmoved rows are zeros), as the
        spec requires for morph POSITION accessors."""
        target = np.ascontiguousarray(target, dtype=np.float32)
        n = target.shape[0]
        moved = np.flatnonzero(np.any(target != 0, axis=1))
        itype = np.uint16 if n <= 65536 else np.uint32
        sparse_bytes = moved.size * (12 + np.dtype(itype).itemsize) + SPARSE_OVERHEAD
        if not self.options.sparse_morph_targets or sparse_bytes >= target.nbytes:
            return self.accessor(target, g.VEC3, g.ARRAY_BUFFER, minmax=True)
        acc = g.Accessor(componentType=g.FLOAT, count=n, type=g.VEC3, byteOffset=None)  # no view
        if n:
            acc.min = [float(x) for x in target.min(axis=0)]
            acc.max = [float(x) for x in target.max(axis=0)]
        if moved.size:  # none moved: neither bufferView nor sparse, i.e. all zeros
            # sparse views carry no buffer target (they are not vertex or index buffers)
            ctype = g.UNSIGNED_SHORT if itype is np.uint16 else g.UNSIGNED_INT
            indices = g.AccessorSparseIndices(bufferView=self.view(moved.astype(itype).tobytes()),
                                              componentType=ctype)
            values = g.AccessorSparseValues(bufferView=self.view(target[moved].tobytes()))
            acc.sparse = g.Sparse(count=int(moved.size), indices=indices, values=values)
        self.doc.accessors.append(acc)
        return len(self.doc.accessors) - 1

    # -- objects -------------------------------------------------------------
    def material(self, mesh: Mesh, uv_transform: tuple[float, float] | None = None) -> int:
        """A material for ``mesh``; ``uv_transform``: the KHR_texture_transform scale its
        quantised UVs need (required: without it the texture would be misplaced)."""
        pbr = g.PbrMetallicRoughness(baseColorFactor=list(mesh.base_color), metallicFactor=0.0,
                                     roughnessFactor=1.0)
        if mesh.texture is not None and not mesh.is_points:
            pbr.baseColorTexture = g.TextureInfo(index=self.texture(mesh.texture, mesh.extras.get("wrap") == "repeat",
                                                                    bool(mesh.extras.get("mipmaps", True))))
            if uv_transform is not None:
                pbr.baseColorTexture.extensions = {TEXTURE_TRANSFORM: {"scale": [float(x) for x in uv_transform]}}
                self.required.add(TEXTURE_TRANSFORM)
        mat = g.Material(name=mesh.name, pbrMetallicRoughness=pbr, alphaMode=mesh.alpha_mode,
                         doubleSided=mesh.double_sided)
        if mesh.alpha_mode == "MASK":
            mat.alphaCutoff = 0.5
        if mesh.unlit:
            mat.extensions = {UNLIT: {}}
            self.extensions.add(UNLIT)
        self.doc.materials.append(mat)
        return len(self.doc.materials) - 1

    def texture(self, tex: np.ndarray, repeat: bool = False, mipmaps: bool = True) -> int:
        """The glTF texture for ``tex`` (one per distinct array object); ``repeat``: a tiling
        texture (``Mesh.extras['wrap'] == 'repeat'``, the ground) gets a REPEAT sampler;
        without ``mipmaps`` (``Mesh.extras['mipmaps'] is False``: a texture only ever drawn
        magnified, the panorama) a KTX2 texture has level 0 alone and its sampler minifies
        LINEAR (a mipmapped filter on one level leaves a WebGL texture incomplete)."""
        if id(tex) in self.texture_index:
            return self.texture_index[id(tex)]
        data, mime = self.encoded.pop(id(tex), None) or encode_texture(tex, self.options, mipmaps=mipmaps)
        if self.image_prefix is None:
            self.doc.images.append(g.Image(bufferView=self.view(data), mimeType=mime))
        else:
            name = f"{self.image_prefix}_{len(self.doc.images)}.{_SUFFIX[mime]}"
            self.files.append((name, data))
            self.doc.images.append(g.Image(uri=quote(name), mimeType=mime))
        source = len(self.doc.images) - 1
        sampler = self.sampler(repeat, mipmaps or mime != "image/ktx2")
        ext = {"image/ktx2": BASISU, "image/webp": WEBP}.get(mime)
        if ext is None:
            self.doc.textures.append(g.Texture(sampler=sampler, source=source))
        else:  # no fallback image: the extension is required
            self.doc.textures.append(g.Texture(sampler=sampler, extensions={ext: {"source": source}}))
            self.required.add(ext)
        self.texture_index[id(tex)] = len(self.doc.textures) - 1
        return len(self.doc.textures) - 1

    def sampler(self, repeat: bool, mipmaps: bool) -> int:
        """Index of the sampler (created on first use; the clamped mipmapped one is always 0)."""
        wrap = g.REPEAT if repeat else g.CLAMP_TO_EDGE
        minify = g.LINEAR_MIPMAP_LINEAR if mipmaps else g.LINEAR
        if not self.doc.samplers:
            self.doc.samplers.append(g.Sampler(magFilter=g.LINEAR, minFilter=g.LINEAR_MIPMAP_LINEAR,
                                               wrapS=g.CLAMP_TO_EDGE, wrapT=g.CLAMP_TO_EDGE))
        for i, s in enumerate(self.doc.samplers):
            if (s.wrapS, s.minFilter) == (wrap, minify):
                return i
        self.doc.samplers.append(g.Sampler(magFilter=g.LINEAR, minFilter=minify, wrapS=wrap, wrapT=wrap))
        return len(self.doc.samplers) - 1

    def encode_ahead(self, nodes: list[Node], scene: Scene | None = None) -> None:
        """Encode every texture the nodes (and their children) will write, all at once
        (:func:`encode_textures`), before the document is built in order; KTX2 auto with
        ``scene`` chooses UASTC textures by its start view (:func:`encode_chosen`)."""
        textures: dict[int, np.ndarray] = {}
        mipmaps: dict[int, bool] = {}

        def walk(node: Node) -> None:
            mesh = self.fitted.mesh_of(node)
            if mesh is not None and mesh.texture is not None and not mesh.is_points:
                textures.setdefault(id(mesh.texture), mesh.texture)
                mipmaps.setdefault(id(mesh.texture), bool(mesh.extras.get("mipmaps", True)))
            for child in node.children:
                walk(child)
        for node in nodes:
            walk(node)
        todo, opts, mips = list(textures.values()), self.options, [mipmaps[k] for k in textures]
        if scene is not None and todo and opts.texture_format == "ktx2" and opts.ktx2.mode == "auto":
            shares = view_shares(scene, todo, self.fitted.mesh_of, opts.texture_choice.coverage_width)
            self.encoded = dict(zip(textures, encode_chosen(todo, shares, opts, encode_textures, opts.texture_choice, mips)))
        else:
            self.encoded = dict(zip(textures, encode_textures(todo, opts, mips)))

    def mesh(self, mesh: Mesh, weights: list[float] | None = None) -> int:
        """The glTF mesh for ``mesh``: written once per Mesh object, shared by its nodes;
        ``weights`` (else zeros) become its default morph weights when it is first written."""
        if id(mesh) in self.mesh_index:
            return self.mesh_index[id(mesh)]
        # meshopt: identical vertices merged, then GPU order (what its codecs compress best)
        key, mesh = mesh, (gpu_order(weld_identical(mesh)) if self.options.meshopt else mesh)
        attrs = g.Attributes(POSITION=self.accessor(mesh.positions, g.VEC3, g.ARRAY_BUFFER, minmax=True))
        if mesh.normals is not None:
            attrs.NORMAL = self.accessor(mesh.normals, g.VEC3, g.ARRAY_BUFFER)
        uv_transform = None
        if mesh.uvs is not None:
            scale = uv_scale(mesh.texture.shape, self.options) if mesh.texture is not None else (1.0, 1.0)
            attrs.TEXCOORD_0, uv_transform = self.uv_accessor(mesh.uvs, scale, None if mesh.is_points else mesh.texture)
        if mesh.colors is not None and mesh.is_points:
            # 16-bit normalised: 8 bytes a point instead of 16, ample for linear colour
            q = np.round(np.clip(mesh.colors, 0.0, 1.0) * 65535.0).astype(np.uint16)
            attrs.COLOR_0 = self.accessor(q, g.VEC4, g.ARRAY_BUFFER, normalized=True)
        elif mesh.colors is not None:
            attrs.COLOR_0 = self.accessor(mesh.colors, g.VEC4, g.ARRAY_BUFFER)
        extra_attrs = mesh.extras.get("attributes", {})
        for name in sorted(extra_attrs):
            arr = np.asarray(extra_attrs[name], dtype=np.float32)
            kind = {1: g.SCALAR, 2: g.VEC2, 3: g.VEC3, 4: g.VEC4}[arr.shape[1] if arr.ndim == 2 else 1]
            setattr(attrs, name, self.accessor(arr, kind, g.ARRAY_BUFFER))
        prim = g.Primitive(attributes=attrs, material=self.material(mesh, uv_transform),
                           mode=g.POINTS if mesh.is_points else g.TRIANGLES)
        if mesh.faces is not None:
            idx = mesh.faces.reshape(-1)
            if mesh.positions.shape[0] < 65536:
                idx = idx.astype(np.uint16)
            prim.indices = self.accessor(idx, g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        if mesh.morph_targets:
            prim.targets = [{"POSITION": self.morph_accessor(t)} for t in mesh.morph_targets]
        prim_ext = mesh.extras.get("primitive_extensions")
        if prim_ext:
            prim.extensions = prim_ext
            self.extensions.update(prim_ext)
        gm = g.Mesh(name=mesh.name, primitives=[prim])
        if mesh.morph_targets:
            gm.weights = list(weights) if weights is not None else [0.0] * len(mesh.morph_targets)
        self.doc.meshes.append(gm)
        self.mesh_index[id(key)] = len(self.doc.meshes) - 1
        self.meshes_kept.append(key)  # keeps id(mesh) unique while the document is built
        return len(self.doc.meshes) - 1

    def node(self, node: Node) -> int:
        gn = g.Node(name=node.name)
        if node.translation != (0.0, 0.0, 0.0):
            gn.translation = [float(x) for x in node.translation]
        if node.rotation != (0.0, 0.0, 0.0, 1.0):
            gn.rotation = [float(x) for x in node.rotation]
        if node.scale != (1.0, 1.0, 1.0):
            gn.scale = [float(x) for x in node.scale]
        mesh = self.fitted.mesh_of(node)
        if mesh is not None:
            weights = None
            if node.weights is not None and mesh.morph_targets:
                if len(node.weights) != len(mesh.morph_targets):
                    raise ExportError(f"node {node.name!r} has {len(node.weights)} morph weights, its mesh "
                                      f"{mesh.name!r} {len(mesh.morph_targets)} morph targets",
                                      hint="give Node.weights one value per morph target, or None")
                weights = [float(w) for w in node.weights]
            gn.mesh = self.mesh(mesh, weights)
            # The mesh's default weights are its first node's; a node repeats them only when
            # it differs (else they are always overridden: the validator's UNUSED_MESH_WEIGHTS).
            # Not a pygltflib Node field: document_dict writes it.
            if weights is not None and weights != self.doc.meshes[gn.mesh].weights:
                gn.weights = weights  # type: ignore[attr-defined]
        extras = dict(node.extras)
        if mesh is not None and node.extras.get("paint2vr_role") in WALK_ROLES:
            # walk data: stored, not instanced (drawn by no client; the viewer finds it here)
            extras[WALK_MESH_KEY], gn.mesh = gn.mesh, None
        if extras:
            gn.extras = json.loads(json.dumps(extras, sort_keys=True))
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


def _build(scene: Scene, options: GltfOptions, extra_provenance: dict[str, Any] | None,
           fitted: Fitted | None, image_prefix: str | None) -> _Builder:
    b = _Builder(options, fitted, image_prefix)
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
    b.encode_ahead(scene.nodes(), scene)
    roots = [b.node(n) for n in scene.nodes()]
    rank = 0
    moved = {id(t.node) for e in scene.effects for c in e.clips for t in c.tracks if t.path != "weights"}
    for layer, index in zip(scene.layers, roots):
        gn = b.doc.nodes[index]
        gn.extras = {**(gn.extras or {}), PROVENANCE_KEY: {
            "layer": layer.name, "kind": layer.kind,
            "depth_range": [float(layer.depth_range[0]), float(layer.depth_range[1])]}}
        if layer.kind == "layer":  # layers come nearest first; an animated transform stays as is
            if rank and options.layer_depth_step and id(layer.node) not in moved:
                gn.translation, gn.scale = push_back(gn.translation, gn.scale, cam.position,
                                                     1.0 + rank * options.layer_depth_step)
            rank += 1
    effect_roots = [(e.name, b.node_index[id(n)]) for e in scene.effects for n in e.nodes]
    for name, index in effect_roots:  # so readers can tell effect draw calls from layers'
        gn = b.doc.nodes[index]
        gn.extras = {**(gn.extras or {}), PROVENANCE_KEY: {"effect": name}}
    b.doc.nodes.append(cam_node)
    roots.append(len(b.doc.nodes) - 1)
    b.doc.scenes[0].nodes = roots
    b.doc.scenes[0].name = scene.info.title or scene.info.id or "painting"
    for effect in scene.effects:
        for clip in effect.clips:
            b.animation(clip)
    if options.meshopt and b.doc.bufferViews:
        blob, fallback = compress_views(b.doc, bytes(b.blob), options.meshopt_bits)
        b.blob = bytearray(blob)
        if fallback:
            b.doc.buffers.append(g.Buffer(byteLength=fallback, extensions={MESHOPT: {"fallback": True}}))
            b.required.add(MESHOPT)
    b.extensions |= b.required
    if b.extensions:
        b.doc.extensionsUsed = sorted(b.extensions)
    if b.required:
        b.doc.extensionsRequired = sorted(b.required)
    b.doc.buffers[0].byteLength = len(b.blob)
    return b


def build_gltf(scene: Scene, options: GltfOptions = DEFAULT_GLTF_OPTIONS,
               extra_provenance: dict[str, Any] | None = None,
               fitted: Fitted | None = None) -> tuple[g.GLTF2, bytes]:
    """Build the glTF document and its binary buffer for ``scene`` (textures embedded)."""
    b = _build(scene, options, extra_provenance, fitted, None)
    return b.doc, bytes(b.blob)


def document_dict(doc: g.GLTF2) -> dict[str, Any]:
    """The document as a plain dict, with every ``extras`` kept exactly.

    pygltflib's own serialiser drops None, empty strings and empty lists everywhere,
    extras included, which would lose provenance fields such as an empty licence. Node
    ``weights`` (default morph weights), which pygltflib's Node lacks, are set as a plain
    attribute by the builder and written here.
    """
    data = g.delete_empty_keys(g.gltf_asdict(doc))
    if doc.asset.extras:
        data["asset"]["extras"] = doc.asset.extras
    for i, node in enumerate(doc.nodes):
        if node.extras:
            data["nodes"][i]["extras"] = node.extras
        if getattr(node, "weights", None):
            data["nodes"][i]["weights"] = node.weights
    return data


def glb_container(data: dict[str, Any], blob: bytes) -> bytes:
    """A GLB file: 12-byte header, JSON chunk (space padded), BIN chunk (zero padded)."""
    js = json.dumps(data, separators=(",", ":"), allow_nan=False).encode("utf-8")
    js += b" " * ((-len(js)) % 4)
    chunks = struct.pack("<II", len(js), 0x4E4F534A) + js
    if blob:
        bin_ = blob + b"\0" * ((-len(blob)) % 4)
        chunks += struct.pack("<II", len(bin_), 0x004E4942) + bin_
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def to_glb_bytes(scene: Scene, options: GltfOptions = DEFAULT_GLTF_OPTIONS,
                 extra_provenance: dict[str, Any] | None = None, fitted: Fitted | None = None) -> bytes:
    """The scene as GLB bytes."""
    doc, blob = build_gltf(scene, options, extra_provenance, fitted)
    return glb_container(document_dict(doc), blob)


def to_gltf_files(scene: Scene, stem: str, options: GltfOptions = DEFAULT_GLTF_OPTIONS,
                  extra_provenance: dict[str, Any] | None = None,
                  fitted: Fitted | None = None) -> GltfFiles:
    """The scene as a .gltf document referring to ``<stem>.bin`` and ``<stem>_<n>.jpg|png``."""
    if not stem or "/" in stem or "\\" in stem:
        raise ExportError(f"bad file stem {stem!r} for a .gltf's external files")
    b = _build(scene, options, extra_provenance, fitted, stem)
    bin_name = f"{stem}.bin"
    b.doc.buffers[0].uri = quote(bin_name)
    text = json.dumps(document_dict(b.doc), indent=1, allow_nan=False)
    return GltfFiles(gltf=(text + "\n").encode("utf-8"), files=[(bin_name, bytes(b.blob)), *b.files])
