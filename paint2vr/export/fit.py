"""Fit a scene to an export profile: the geometry each node is written with.

Nothing in the scene is changed: the result maps nodes to the mesh to write in their place
(a decimated layer mesh, a layer's point cloud or splats), so animations that target the
scene's nodes stay valid. What was reduced is listed for the provenance record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import BudgetError
from ..scene import Mesh, Node, Scene
from .decimate import decimate_mesh
from .points import allocate, layer_points, subsample_points
from .profiles import Profile
from .splat import SplatAttributes, eye_in_node_space, splat_mesh


@dataclass
class Fitted:
    """The geometry to write for a scene under one profile."""

    meshes: dict[int, Mesh | None] = field(default_factory=dict)
    """id(node) -> mesh written for that node instead of ``node.mesh``."""
    reductions: list[dict[str, Any]] = field(default_factory=list)
    """What was reduced to fit, in order (JSON-ready)."""

    def mesh_of(self, node: Node) -> Mesh | None:
        return self.meshes.get(id(node), node.mesh)


def walk_nodes(scene: Scene) -> list[Node]:
    """Every node of the scene, depth first, in export order."""
    out: list[Node] = []

    def walk(n: Node) -> None:
        out.append(n)
        for c in n.children:
            walk(c)
    for n in scene.nodes():
        walk(n)
    return out


def written_meshes(scene: Scene, fitted: Fitted | None = None) -> list[Mesh]:
    """The meshes (one draw call each) the file will hold."""
    fitted = fitted or Fitted()
    return [m for n in walk_nodes(scene) if (m := fitted.mesh_of(n)) is not None]


def draw_call_split(scene: Scene, fitted: Fitted | None = None) -> tuple[int, int]:
    """(layer draw calls, effect draw calls) as written: one per node with a mesh, so a mesh
    shared by several nodes (the birds) counts once per node, though it is stored once."""
    fitted = fitted or Fitted()

    def count(root: Node) -> int:
        return (fitted.mesh_of(root) is not None) + sum(count(c) for c in root.children)
    layers = sum(count(l.node) for l in scene.layers)
    return layers, sum(count(n) for e in scene.effects for n in e.nodes)


def draw_calls_over(scene: Scene, profile: Profile, fitted: Fitted | None = None) -> BudgetError | None:
    """The BudgetError for a scene over the profile's draw-call budget (None when within),
    its message split into layers and effects so the user knows which to cut."""
    layers, effects = draw_call_split(scene, fitted)
    if layers + effects <= profile.max_draw_calls:
        return None
    return BudgetError(f"{layers + effects} draw calls ({layers} layers + {effects} effects) is over the "
                       f"{profile.name} draw-call budget of {profile.max_draw_calls}",
                       hint="use fewer effects (or lower their groups/count) or layers, or pick --profile desktop")


def _triangles_over(count: int, profile: Profile, hint: str) -> BudgetError:
    return BudgetError(f"{count:,} triangles is over the {profile.name} triangle budget of "
                       f"{profile.max_triangles:,}", hint=hint)


def _fit_mesh_layers(scene: Scene, profile: Profile, reduce: bool, fitted: Fitted) -> None:
    total = scene.triangle_count
    if total <= profile.max_triangles:
        return
    if not reduce:
        raise _triangles_over(total, profile, "allow reduction (--reduce) or pick --profile desktop")
    layers = [l for l in scene.layers if l.kind != "sky" and l.node.mesh is not None
              and l.node.mesh.triangle_count > 0]
    counts = [l.node.mesh.triangle_count for l in layers]  # type: ignore[union-attr]
    fixed = total - sum(counts)
    left = profile.max_triangles - fixed
    if left < 2 * max(1, len(layers)):
        raise _triangles_over(total, profile,
                              f"the sky and effects alone have {fixed:,} triangles; use fewer effects")
    for layer, target in zip(layers, allocate(counts, left)):
        mesh = layer.node.mesh
        if mesh is None:  # layers without a mesh were not counted above
            continue
        new = decimate_mesh(mesh, target, scene.camera)
        if new is not mesh:
            fitted.meshes[id(layer.node)] = new
            fitted.reductions.append({"what": "triangles", "layer": layer.name,
                                      "from": mesh.triangle_count, "to": new.triangle_count})


def _fit_point_layers(scene: Scene, profile: Profile, reduce: bool, fitted: Fitted,
                      splat_attributes: SplatAttributes) -> None:
    layers, clouds = [], []
    for layer in scene.layers:
        if layer.kind == "sky" and layer.node.mesh is not None:
            continue  # the sky stays a textured backdrop
        pts = layer_points(layer)
        if pts is None:
            continue
        layers.append(layer)
        clouds.append(pts)
    counts = [c.positions.shape[0] for c in clouds]
    if sum(counts) > profile.max_points and not reduce:
        raise BudgetError(f"{sum(counts):,} points is over the {profile.name} point budget of "
                          f"{profile.max_points:,}", hint="allow reduction (--reduce)")
    for layer, pts, target in zip(layers, clouds, allocate(counts, profile.max_points)):
        if target < pts.positions.shape[0]:
            fitted.reductions.append({"what": "points", "layer": layer.name,
                                      "from": pts.positions.shape[0], "to": target})
            pts = subsample_points(pts, target)
        if profile.geometry == "splat":
            pts = splat_mesh(pts, eye_in_node_space(scene.camera.position, layer.node), splat_attributes)
        fitted.meshes[id(layer.node)] = pts
    tris = sum(m.triangle_count for m in written_meshes(scene, fitted))
    if tris > profile.max_triangles:
        raise _triangles_over(tris, profile, "use fewer effects")


def fit_scene(scene: Scene, profile: Profile, reduce: bool = True,
              splat_attributes: SplatAttributes = "legacy") -> Fitted:
    """The geometry to write for ``scene`` under ``profile`` (see the module docstring).

    Raises:
        BudgetError: over a budget that cannot (or, with ``reduce=False``, may not) be met;
            the message names the budget.
    """
    fitted = Fitted()
    if profile.geometry == "mesh":
        _fit_mesh_layers(scene, profile, reduce, fitted)
    else:
        _fit_point_layers(scene, profile, reduce, fitted, splat_attributes)
    over = draw_calls_over(scene, profile, fitted)
    if over is not None:
        raise over
    return fitted
