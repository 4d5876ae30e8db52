"""Export stage: Scene -> GLB / glTF / PLY files with provenance."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from ..config import options_to_dict
from ..errors import BudgetError, InputError
from ..scene import Scene
from .files import write_atomic
from .gltf import DEFAULT_GLTF_OPTIONS, GltfOptions, build_gltf, to_glb_bytes
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from .provenance import provenance_record


@dataclass(frozen=True)
class ExportOptions:
    """Options of :func:`save_scene`."""

    profile: str = DEFAULT_PROFILE
    """Export profile (budgets and geometry mode): quest, desktop, points or splat."""
    sidecar: bool = False
    """Also write the provenance record as JSON next to the scene (<name>.provenance.json)."""
    jpeg_quality: int = DEFAULT_GLTF_OPTIONS.jpeg_quality
    """JPEG quality for opaque textures."""


DEFAULT_EXPORT_OPTIONS = ExportOptions()


def check_budget(scene: Scene, profile: Profile) -> None:
    """Raise BudgetError naming the budget a scene exceeds."""
    tris = scene.triangle_count
    if tris > profile.max_triangles:
        raise BudgetError(f"{tris:,} triangles is over the {profile.name} budget of "
                          f"{profile.max_triangles:,}",
                          hint="lower --triangle-budget or pick --profile desktop")
    calls = len(scene.meshes())
    if calls > profile.max_draw_calls:
        raise BudgetError(f"{calls} draw calls is over the {profile.name} budget of {profile.max_draw_calls}",
                          hint="use fewer effects or layers, or pick --profile desktop")


def export_bytes(scene: Scene, options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> bytes:
    """The scene as GLB bytes under ``options.profile``'s budgets."""
    profile = get_profile(options.profile)
    check_budget(scene, profile)
    gopts = replace(DEFAULT_GLTF_OPTIONS, max_texture=profile.max_texture, jpeg_quality=options.jpeg_quality)
    data = to_glb_bytes(scene, gopts, extra_provenance={"export": options_to_dict(options)})
    limit = int(profile.max_file_mb * 1024 * 1024)
    if len(data) > limit:
        raise BudgetError(f"the GLB is {len(data) / 2**20:.1f} MiB, over the {profile.name} budget of "
                          f"{profile.max_file_mb} MiB", hint="lower the texture size or pick --profile desktop")
    return data


def save_scene(scene: Scene, path: str | os.PathLike[str],
               options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> Path:
    """Write ``scene`` to ``path`` (.glb) atomically; returns the path.

    Raises:
        InputError: unsupported extension. BudgetError: over the profile's budgets.
    """
    target = Path(path)
    if target.suffix.lower() != ".glb":
        raise InputError(f"{target}: unsupported output type {target.suffix!r}", hint="use a .glb file name")
    data = export_bytes(scene, options)
    write_atomic(target, data)
    if options.sidecar:
        record = provenance_record(scene)
        record["export"] = options_to_dict(options)
        side = target.with_name(target.stem + ".provenance.json")
        write_atomic(side, (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
    return target


__all__ = ["DEFAULT_EXPORT_OPTIONS", "ExportOptions", "GltfOptions", "PROFILES", "Profile",
           "build_gltf", "check_budget", "export_bytes", "get_profile", "save_scene", "to_glb_bytes"]
