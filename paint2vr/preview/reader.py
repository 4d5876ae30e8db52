"""glTF/GLB -> :class:`~paint2vr.scene.Scene`, for previews of files already written.

Reads what paint2vr's exporter writes (and most simple glTF): meshes (one Mesh per
primitive), textures, node TRS, morph targets and weights, animations, the start camera and
the provenance record. Root nodes that an animation moves become effect nodes, the others
layers, so :func:`paint2vr.render.render_scene` can pose them at any time.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..export.uv_grid import TEXTURE_TRANSFORM
from ..io.gltf_read import GltfFile, read_gltf
from ..painting import PaintingInfo
from ..scene import WALK_MESH_KEY, WALK_ROLES, Camera, Clip, Effect, Layer, Mesh, Node, Scene, Track

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadOptions:
    """Options of :func:`read_scene`."""

    max_texture: int | None = None
    """Downscale textures so their longer side is at most this many pixels (None keeps them);
    previews are small, and smaller textures render much faster."""
    camera_height: int = 480
    """Pixel height given to the start camera (its width follows the glTF aspect ratio)."""


DEFAULT_READ_OPTIONS = ReadOptions()



REPEAT = 10497
"""glTF's sampler wrap mode REPEAT (also its default)."""


def _material(doc: GltfFile, index: int | None, textures: dict[int, np.ndarray],
              options: ReadOptions) -> dict[str, Any]:
    """Mesh keyword arguments from a material: texture, alpha mode, unlit, sides, base colour."""
    out: dict[str, Any] = {"texture": None, "alpha_mode": "OPAQUE", "unlit": False, "double_sided": False,
                           "base_color": (1.0, 1.0, 1.0, 1.0)}
    if index is None:
        return out
    mat = doc.gltf.materials[index]
    out["alpha_mode"] = mat.alphaMode or "OPAQUE"
    out["double_sided"] = bool(mat.doubleSided)
    out["unlit"] = "KHR_materials_unlit" in (mat.extensions or {})
    pbr = mat.pbrMetallicRoughness
    if pbr is None:
        return out
    if pbr.baseColorFactor is not None:
        out["base_color"] = tuple(float(x) for x in pbr.baseColorFactor)
    if pbr.baseColorTexture is not None:
        source = doc.texture_source(pbr.baseColorTexture.index)
        if source is not None:
            if source not in textures:
                textures[source] = doc.image(source, options.max_texture)
            out["texture"] = textures[source]
            if _repeats(doc, pbr.baseColorTexture.index):
                out["extras"] = {"wrap": "repeat"}
            out["uv_transform"] = uv_transform((pbr.baseColorTexture.extensions or {}).get(TEXTURE_TRANSFORM))
    return out


def uv_transform(ext: dict[str, Any] | None) -> np.ndarray | None:
    """KHR_texture_transform as a 2 x 3 matrix on (u, v, 1): translation * rotation * scale,
    the extension's order and rotation sense; None without the extension."""
    if not ext:
        return None
    sx, sy = (float(x) for x in ext.get("scale", (1.0, 1.0)))
    ox, oy = (float(x) for x in ext.get("offset", (0.0, 0.0)))
    r = float(ext.get("rotation", 0.0))
    c, s = math.cos(r), math.sin(r)
    return np.array([[c * sx, s * sy, ox], [-s * sx, c * sy, oy]], np.float64)


def apply_uv_transform(uvs: np.ndarray | None, matrix: np.ndarray | None) -> np.ndarray | None:
    """UVs (N, 2) as the texture is sampled with them: ``matrix`` (:func:`uv_transform`) applied."""
    if uvs is None or matrix is None:
        return uvs
    out = np.asarray(uvs, np.float64) @ matrix[:, :2].T + matrix[:, 2]
    return np.ascontiguousarray(out, np.float32)


def _repeats(doc: GltfFile, texture_index: int) -> bool:
    """True if the texture's sampler tiles it (REPEAT on both axes, glTF's default without a
    sampler), as paint2vr's ground does: the renderer must wrap, not clamp, its uvs."""
    tex = doc.gltf.textures[texture_index]
    if tex.sampler is None:
        return True
    smp = doc.gltf.samplers[tex.sampler]
    return all(w in (None, REPEAT) for w in (smp.wrapS, smp.wrapT))


def _mesh(doc: GltfFile, mesh_index: int, prim_index: int, textures: dict[int, np.ndarray],
          options: ReadOptions) -> Mesh:
    gm = doc.gltf.meshes[mesh_index]
    prim = gm.primitives[prim_index]
    label = gm.name or f"mesh {mesh_index}"
    doc.refuse_draco(prim, label)
    attrs = prim.attributes
    if attrs.POSITION is None:
        raise InputError(f"{doc.path}: mesh {label} has no POSITION")

    def attr(index: int | None) -> np.ndarray | None:
        if index is None:
            return None
        doc.refuse_compressed(index)
        return np.ascontiguousarray(doc.accessor(index), np.float32)
    pos = attr(attrs.POSITION)
    n = len(pos)
    mode = 4 if prim.mode is None else prim.mode
    faces = None
    if mode == 4:
        if prim.indices is not None:
            doc.refuse_compressed(prim.indices)
        idx = doc.accessor(prim.indices) if prim.indices is not None else np.arange(n)
        faces = np.ascontiguousarray(np.asarray(idx, np.uint32).reshape(-1, 3))
    elif mode != 0:
        log.warning("%s: primitive mode %s of mesh %r is not drawn in previews", doc.path, mode, gm.name)
        faces = np.zeros((0, 3), np.uint32)
    colors = attr(attrs.COLOR_0)
    if colors is not None and colors.shape[1] == 3:
        colors = np.ascontiguousarray(np.concatenate([colors, np.ones((n, 1), np.float32)], 1))
    targets = []
    for t in prim.targets or []:
        index = t.get("POSITION") if isinstance(t, dict) else getattr(t, "POSITION", None)
        targets.append(np.zeros((n, 3), np.float32) if index is None else attr(index))
    name = gm.name or f"mesh{mesh_index}"
    if len(gm.primitives) > 1:
        name = f"{name}.{prim_index}"
    material = _material(doc, prim.material, textures, options)
    uvs = apply_uv_transform(attr(attrs.TEXCOORD_0), material.pop("uv_transform", None))
    return Mesh(name=name, positions=pos, faces=faces, uvs=uvs, colors=colors,
                normals=attr(attrs.NORMAL), morph_targets=targets, **material)


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


def _trs(gn: Any) -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    if gn.matrix is not None:
        m = np.asarray(gn.matrix, np.float64).reshape(4, 4).T  # glTF matrices are column-major
        s = np.linalg.norm(m[:3, :3], axis=0)
        r = m[:3, :3] / np.where(s == 0, 1, s)
        return tuple(float(x) for x in m[:3, 3]), _quat_from_matrix(r), tuple(float(x) for x in s)
    return (tuple(float(x) for x in (gn.translation or (0.0, 0.0, 0.0))),
            tuple(float(x) for x in (gn.rotation or (0.0, 0.0, 0.0, 1.0))),
            tuple(float(x) for x in (gn.scale or (1.0, 1.0, 1.0))))


def _walk_mesh(doc: GltfFile, node: Node) -> int | None:
    """The mesh index a walk node (navmesh, collider) names in its extras instead of
    instancing it (``WALK_MESH_KEY``, taken out of the extras); None for other nodes."""
    if node.extras.get("paint2vr_role") not in WALK_ROLES or WALK_MESH_KEY not in node.extras:
        return None
    index = node.extras.pop(WALK_MESH_KEY)
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(doc.gltf.meshes):
        raise InputError(f"{doc.path}: walk node {node.name!r} names mesh {index!r}; the file has "
                         f"{len(doc.gltf.meshes)} meshes")
    return index


def _nodes(doc: GltfFile, options: ReadOptions) -> tuple[list[Node], list[Node | None]]:
    """The default scene's root nodes (built recursively) and every node by glTF index."""
    gnodes = doc.gltf.nodes
    textures: dict[int, np.ndarray] = {}
    nodes: list[Node | None] = [None] * len(gnodes)

    def build(i: int, depth: int = 0) -> Node:
        if depth > 64 or nodes[i] is not None:
            raise InputError(f"{doc.path}: node {i} is part of a cycle or nested too deeply")
        gn = gnodes[i]
        t, r, s = _trs(gn)
        node = Node(name=gn.name or f"node{i}", translation=t, rotation=r, scale=s,  # type: ignore[arg-type]
                    extras=dict(gn.extras or {}))
        nodes[i] = node
        mesh_i = gn.mesh if gn.mesh is not None else _walk_mesh(doc, node)
        if mesh_i is not None:
            gm = doc.gltf.meshes[mesh_i]
            meshes = [_mesh(doc, mesh_i, k, textures, options) for k in range(len(gm.primitives))]
            node.mesh = meshes[0]
            node.weights = doc.node_weights(i)
            for extra in meshes[1:]:  # further primitives ride along as children (no morph weights)
                node.children.append(Node(name=extra.name, mesh=extra))
        node.children.extend(build(c, depth + 1) for c in gn.children or [])
        return node

    scenes = doc.gltf.scenes
    roots_idx = list(scenes[doc.gltf.scene or 0].nodes or []) if scenes else list(range(len(gnodes)))
    return [build(i) for i in roots_idx], nodes


def _clips(doc: GltfFile, nodes: list[Node | None]) -> tuple[list[Clip], set[int]]:
    """Animations as clips, and the ids of the nodes they move."""
    clips: list[Clip] = []
    animated: set[int] = set()
    for a_i, anim in enumerate(doc.gltf.animations):
        tracks: list[Track] = []
        for ch in anim.channels:
            target = ch.target
            node = nodes[target.node] if target is not None and target.node is not None else None
            if node is None or target.path not in ("translation", "rotation", "scale", "weights"):
                continue
            sampler = anim.samplers[ch.sampler]
            interp = sampler.interpolation or "LINEAR"
            doc.refuse_compressed(sampler.output)
            times = np.asarray(doc.accessor(sampler.input), np.float32).reshape(-1)
            values = np.asarray(doc.accessor(sampler.output), np.float32)
            width = {"translation": 3, "scale": 3, "rotation": 4}.get(target.path)
            if width is None:  # weights: n_targets per key (times 3 for cubic splines)
                rows = len(times) * (3 if interp == "CUBICSPLINE" else 1)
                width = max(1, values.size // max(rows, 1))
            tracks.append(Track(node, target.path, times, values.reshape(-1, width), interp))
            animated.add(id(node))
        if tracks:
            clips.append(Clip(anim.name or f"animation{a_i}", tracks))
    return clips, animated


def _camera(doc: GltfFile, nodes: list[Node | None], options: ReadOptions) -> Camera:
    """The start camera: the node named start_camera, else the first with a camera."""
    gnodes = doc.gltf.nodes
    yfov, aspect, position = math.radians(55.0), 4 / 3, (0.0, 1.6, 0.0)
    with_camera = [i for i, gn in enumerate(gnodes) if gn.camera is not None]
    named = [i for i in with_camera if gnodes[i].name == "start_camera"]
    start = (named or with_camera or [None])[0]
    if start is not None:
        gn = gnodes[start]
        persp = doc.gltf.cameras[gn.camera].perspective
        if persp is not None:
            yfov = float(persp.yfov if persp.yfov is not None else yfov)
            aspect = float(persp.aspectRatio or aspect)
        if nodes[start] is not None:  # world position (paint2vr puts the camera at the root)
            position = tuple(float(x) for x in nodes[start].translation)  # type: ignore[union-attr, assignment]
        if tuple(gn.rotation or (0, 0, 0, 1)) != (0, 0, 0, 1):
            log.warning("%s: the start camera is rotated; previews look down -Z from its position", doc.path)
    else:
        log.warning("%s: no camera node; previewing from (0, 1.6, 0) looking down -Z", doc.path)
    h = options.camera_height
    return Camera(width=max(1, round(h * aspect)), height=h, yfov=yfov, position=position)  # type: ignore[arg-type]


def read_scene(path: str | os.PathLike[str], options: ReadOptions = DEFAULT_READ_OPTIONS) -> Scene:
    """Load a .glb/.gltf file into a :class:`Scene` (layers, effects with clips, camera, provenance).

    Raises:
        InputError: the file is missing, not glTF, or uses something previews cannot read
            (:class:`~paint2vr.errors.UnsupportedExtensionError` names the extension).
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
    doc = read_gltf(p)
    try:
        roots, nodes = _nodes(doc, options)
        clips, animated = _clips(doc, nodes)
        camera = _camera(doc, nodes, options)
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InputError(f"{p}: malformed glTF ({type(exc).__name__}: {exc})",
                         hint="check it with the Khronos glTF-Validator") from exc

    def moves(node: Node) -> bool:
        return id(node) in animated or any(moves(c) for c in node.children)

    record = doc.asset_extras.get("paint2vr")
    record = dict(record) if isinstance(record, dict) else {}
    src = record.get("source") if isinstance(record.get("source"), dict) else {}
    info = PaintingInfo(id=str(src.get("id") or p.stem), title=str(src.get("title", "")),
                        artist=str(src.get("artist", "")), license=str(src.get("license", "")),
                        attribution=str(src.get("attribution") or doc.gltf.asset.copyright or ""), source=str(p))
    scene = Scene(info=info, camera=camera)
    lift = record.get("lift") if isinstance(record.get("lift"), dict) else {}
    viewer = record.get("viewer") if isinstance(record.get("viewer"), dict) else {}
    for value in (viewer.get("walkable_radius"), record.get("walkable_radius"), lift.get("walkable_radius"),
                  lift.get("walk_radius")):  # files written before 0.2 say walk_radius
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
