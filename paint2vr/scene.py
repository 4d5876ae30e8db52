"""The scene data model every stage shares: meshes, nodes, animation clips, camera, layers.

World convention: glTF's right-handed, Y-up, metres. The ground under the painter is y = 0,
the start camera stands at ``Camera.position`` looking down -Z. Later stages (effects,
export, render) only read and add to a :class:`Scene`; none of them imports a later stage.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import InputError
from .painting import PaintingInfo

AlphaMode = Literal["OPAQUE", "MASK", "BLEND"]


@dataclass(frozen=True)
class Camera:
    """A pinhole camera at the painter's eye, looking down -Z.

    Pixel (u, v) with u to the right and v down, at view-axis depth z (metres), sits at
    ``position + (x, y, -z)`` with ``x = (u + 0.5 - cx) / f * z`` and ``y = -(v + 0.5 - cy) / f * z``.
    """

    width: int
    """Image width in pixels."""
    height: int
    """Image height in pixels."""
    yfov: float
    """Vertical field of view in radians."""
    position: tuple[float, float, float] = (0.0, 1.6, 0.0)
    """Eye position in metres (the start pose)."""

    @property
    def aspect(self) -> float:
        return self.width / self.height

    @property
    def focal(self) -> float:
        """Focal length in pixels (square pixels)."""
        return (self.height / 2.0) / math.tan(self.yfov / 2.0)

    @property
    def xfov(self) -> float:
        return 2.0 * math.atan(self.width / 2.0 / self.focal)

    def unproject(self, u: np.ndarray, v: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Pixel coordinates (pixel centres at +0.5) and view depth -> (..., 3) world points."""
        f = self.focal
        x = (u - self.width / 2.0) / f * z
        y = -(v - self.height / 2.0) / f * z
        px, py, pz = self.position
        return np.stack([x + px, y + py, pz - z], axis=-1).astype(np.float32)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World points (..., 3) -> (u, v, z) with z the view depth (positive in front)."""
        p = np.asarray(points, dtype=np.float64) - np.asarray(self.position)
        z = -p[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = p[..., 0] / z * self.focal + self.width / 2.0
            v = -p[..., 1] / z * self.focal + self.height / 2.0
        return u, v, z


@dataclass(eq=False)
class Mesh:
    """Geometry with one material: triangles, or points when ``faces`` is None.

    Attributes:
        positions: (N, 3) float32, metres.
        faces: (M, 3) uint32 vertex indices, or None for a POINTS primitive.
        uvs: (N, 2) float32 texture coordinates (glTF: origin top-left), or None.
        colors: (N, 4) float32 linear RGBA in [0, 1], or None.
        normals: (N, 3) float32, or None.
        texture: (h, w, 3|4) uint8 sRGB image, or None.
        morph_targets: list of (N, 3) float32 position offsets.
        alpha_mode: how texture alpha is used.
        unlit: KHR_materials_unlit (painted colours shown exactly).
        base_color: RGBA factor; 1 keeps the painting's colours exact.
        extras: extensions and per-primitive data an exporter profile understands
            (for example Gaussian-splat attributes).
    """

    name: str
    positions: np.ndarray
    faces: np.ndarray | None = None
    uvs: np.ndarray | None = None
    colors: np.ndarray | None = None
    normals: np.ndarray | None = None
    texture: np.ndarray | None = None
    morph_targets: list[np.ndarray] = field(default_factory=list)
    alpha_mode: AlphaMode = "OPAQUE"
    unlit: bool = True
    double_sided: bool = True
    base_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = _check("positions", self.positions, (None, 3), np.float32).shape[0]
        if self.faces is not None:
            _check("faces", self.faces, (None, 3), np.uint32)
            if self.faces.size and int(self.faces.max()) >= n:
                raise InputError(f"Mesh {self.name!r}: face index {int(self.faces.max())} >= {n} vertices")
        if self.uvs is not None:
            _check("uvs", self.uvs, (n, 2), np.float32)
        if self.colors is not None:
            _check("colors", self.colors, (n, 4), np.float32)
        if self.normals is not None:
            _check("normals", self.normals, (n, 3), np.float32)
        for t in self.morph_targets:
            _check("morph target", t, (n, 3), np.float32)
        if self.texture is not None and (self.texture.dtype != np.uint8 or self.texture.ndim != 3
                                         or self.texture.shape[2] not in (3, 4)):
            raise InputError(f"Mesh {self.name!r}: texture must be uint8 (h, w, 3|4), "
                             f"got {self.texture.dtype} {self.texture.shape}")

    @property
    def is_points(self) -> bool:
        return self.faces is None

    def __repr__(self) -> str:  # short: the arrays would be megabytes of text
        tex = "" if self.texture is None else f", texture {self.texture.shape[1]}x{self.texture.shape[0]}"
        what = "points" if self.faces is None else f"{self.triangle_count:,} triangles"
        morph = f", {len(self.morph_targets)} morph targets" if self.morph_targets else ""
        return f"Mesh({self.name!r}: {self.positions.shape[0]:,} vertices, {what}{tex}{morph})"

    @property
    def triangle_count(self) -> int:
        return 0 if self.faces is None else int(self.faces.shape[0])


def _check(name: str, arr: np.ndarray, shape: tuple[int | None, ...], dtype: type) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        got = f"{getattr(arr, 'dtype', type(arr).__name__)} {getattr(arr, 'shape', '')}"
        raise InputError(f"Mesh {name} must be {np.dtype(dtype).name} of shape {want}, got {got}")
    return arr


WALK_ROLES = frozenset({"navmesh", "collider"})
"""Node roles (extras ``paint2vr_role``) that say where a visitor may walk: walk data, never
scenery. A file holds their meshes without drawing them (:data:`WALK_MESH_KEY`)."""
WALK_MESH_KEY = "paint2vr_mesh"
"""Node extras key of a walk node's glTF mesh index: the mesh is written but no node instances
it (``node.mesh`` unset), so a client that knows nothing of walk data draws nothing (Blender's
importer, for one, honours no glTF visibility flag); the viewer and the reader load it from
here (docs/viewer.md)."""


@dataclass(eq=False)
class Node:
    """A scene-graph node: a transform, optionally a mesh, and children."""

    name: str
    mesh: Mesh | None = None
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rotation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    """Quaternion (x, y, z, w)."""
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    children: list["Node"] = field(default_factory=list)
    weights: list[float] | None = None
    """Default morph-target weights."""
    extras: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        mesh = f", mesh {self.mesh.name!r}" if self.mesh is not None else ""
        kids = f", {len(self.children)} children" if self.children else ""
        return f"Node({self.name!r}{mesh}{kids})"


@dataclass(eq=False)
class Track:
    """One animated property of one node, sampled at ``times``.

    ``values`` has shape (K, 3) for translation/scale, (K, 4) for rotation (x, y, z, w
    quaternions) and (K, n_targets) for weights.
    """

    node: Node
    path: Literal["translation", "rotation", "scale", "weights"]
    times: np.ndarray
    values: np.ndarray
    interpolation: Literal["LINEAR", "STEP", "CUBICSPLINE"] = "LINEAR"

    def __repr__(self) -> str:
        return f"Track({self.node.name!r}.{self.path}: {len(self.times)} keys, {self.interpolation})"


@dataclass(eq=False)
class Clip:
    """A named looping animation clip (glTF animation)."""

    name: str
    tracks: list[Track] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max((float(t.times[-1]) for t in self.tracks if len(t.times)), default=0.0)

    def __repr__(self) -> str:
        return f"Clip({self.name!r}: {len(self.tracks)} tracks, {self.duration:g} s)"


@dataclass(eq=False)
class Layer:
    """One depth layer of the lifted painting (or the sky backdrop).

    Attributes:
        name: 'sky', 'layer0' (nearest), 'layer1', ...
        node: the node holding the layer's mesh (triangles) and, optionally, its points.
        depth_range: (near, far) view depth in metres covered by the layer.
        kind: 'sky' for the far backdrop (the painting's sky window and the world's
            panorama), 'ground' for the ground continued around the visitor (it carries the
            hidden navmesh and collider nodes as children), 'layer' for the painting's layers.
        points: optional point cloud of the layer (for the points/splat profiles and PLY).
    """

    name: str
    node: Node
    depth_range: tuple[float, float]
    kind: Literal["layer", "sky", "ground"] = "layer"
    points: Mesh | None = None

    def __repr__(self) -> str:
        near, far = self.depth_range
        return f"Layer({self.name!r}, {self.kind}, {near:g}-{far:g} m, {self.node!r})"


@dataclass(eq=False)
class Effect:
    """An animated effect baked into nodes and clips (snow, birds, ...)."""

    name: str
    nodes: list[Node] = field(default_factory=list)
    clips: list[Clip] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        tracks = sum(len(c.tracks) for c in self.clips)
        return (f"Effect({self.name!r}: {len(self.nodes)} nodes, {len(self.clips)} clips, "
                f"{tracks} tracks)")


@dataclass(eq=False)
class Scene:
    """A lifted painting: camera, layers, effects and the record of how it was made.

    ``provenance`` accumulates, stage by stage, everything needed to reproduce the scene
    (source id and hash, licence, depth model, options, seed, version).
    """

    info: PaintingInfo
    camera: Camera
    layers: list[Layer] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    preview_rgb: np.ndarray | None = None
    """A small copy of the painting, for previews and reprs."""
    walkable_radius: float = 0.5
    """How far (metres) from the start pose the scene is built to be viewed."""

    def nodes(self) -> list[Node]:
        """All top-level nodes: layers first (near to far), then effects."""
        return [layer.node for layer in self.layers] + [n for e in self.effects for n in e.nodes]

    def meshes(self) -> list[Mesh]:
        out: list[Mesh] = []

        def walk(node: Node) -> None:
            if node.mesh is not None:
                out.append(node.mesh)
            for c in node.children:
                walk(c)
        for n in self.nodes():
            walk(n)
        return out

    @property
    def triangle_count(self) -> int:
        return sum(m.triangle_count for m in self.meshes())

    def layer(self, name: str) -> Layer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise InputError(f"no layer named {name!r}",
                         hint=f"layers are: {', '.join(l.name for l in self.layers)}")

    def __repr__(self) -> str:
        eff = ", ".join(e.name for e in self.effects) or "none"
        return (f"Scene({self.info.title or self.info.id or 'untitled'!r}: "
                f"{len(self.layers)} layers ({', '.join(l.name for l in self.layers)}), "
                f"{self.triangle_count:,} triangles, effects: {eff})")

    def save(self, path: str, profile: str = "quest", sidecar: bool = False) -> Any:
        """Write the scene (.glb) with an export profile; returns the path written.

        A convenience over :func:`paint2vr.export.save_scene`, imported lazily so the data
        model does not depend on the exporter."""
        from .export import ExportOptions, save_scene
        return save_scene(self, path, ExportOptions(profile=profile, sidecar=sidecar))

    def _repr_png_(self) -> bytes:
        from PIL import Image

        from .render import render_scene
        rgb, _ = render_scene(self, width=min(480, self.camera.width))
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, format="PNG")
        return buf.getvalue()


DEFAULT_FOV_DEG = 55.0
"""Field of view across the painting's longer side, in degrees: close to how a painting is
seen from a comfortable distance, and to the normal lenses painters' perspective matches."""
DEFAULT_EYE_HEIGHT = 1.6
"""Standing eye height above the lifted ground, in metres."""


def camera_for_image(width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG,
                     eye_height: float = DEFAULT_EYE_HEIGHT) -> Camera:
    """The start camera for an image: ``fov_deg`` spans the longer side."""
    if width < 1 or height < 1:
        raise InputError(f"image size must be positive, got {width}x{height}")
    if not 1.0 <= fov_deg <= 170.0:
        raise InputError(f"field of view must be within [1, 170] degrees, got {fov_deg}")
    half = math.tan(math.radians(fov_deg) / 2.0)
    if width >= height:
        yfov = 2.0 * math.atan(half * height / width)
    else:
        yfov = 2.0 * math.atan(half)
    return Camera(width=width, height=height, yfov=yfov, position=(0.0, float(eye_height), 0.0))

