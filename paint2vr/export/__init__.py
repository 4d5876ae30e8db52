"""Export stage: Scene -> GLB / glTF (+ .bin + textures) / PLY files with provenance.

:func:`save_scene` picks the format from the file name, fits the scene to the profile's
budgets (:mod:`.fit`: decimated layers, point clouds or splats; textures downscaled to fit
the file-size budget) and writes every file atomically. See docs/export.md.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ..config import check_options, opt, options_to_dict
from ..errors import BudgetError, InputError
from ..scene import Scene
from ..io.atomic import write_atomic, write_atomic_group
from .fit import Fitted, draw_call_split, draw_calls_over, fit_scene, written_meshes
from ..codecs.ktx2 import Ktx2Options, check_ktx2_options
from .gltf import (DEFAULT_GLTF_OPTIONS, TEXTURE_FORMATS, GltfFiles, GltfOptions, build_gltf, texture_size,
                   to_glb_bytes, to_gltf_files)
from .ply import ply_bytes
from .profiles import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from .provenance import provenance_record
from .texture_memory import MIN_TEXTURE, fit_texture_memory

log = logging.getLogger(__name__)

FORMATS = {".glb": "glb", ".gltf": "gltf", ".ply": "ply"}


@dataclass(frozen=True)
class ExportOptions:
    """Options of :func:`save_scene`."""

    profile: str = DEFAULT_PROFILE
    """Export profile (budgets and geometry mode): quest, desktop, points or splat."""
    sidecar: bool = False
    """Also write the provenance record as JSON next to the scene (<name>.provenance.json)."""
    jpeg_quality: int = opt(DEFAULT_GLTF_OPTIONS.jpeg_quality, ge=1, le=100)
    """JPEG quality for opaque textures."""
    reduce: bool = True
    """Reduce a scene over its profile's budgets to fit (decimate layer meshes, subsample points, downscale textures); with --no-reduce it is refused."""
    max_texture: int = opt(0, ge=0, le=16384, flag="export_max_texture", aliases=("texture_size",))
    """Longest side of exported textures in pixels; 0 uses the profile's limit, which also caps larger values (formerly texture_size)."""
    splat_attributes: Literal["legacy", "ratified"] = "legacy"
    """Splat profile attribute names: legacy (_SCALE/_ROTATION, valid for the Khronos validator) or ratified (KHR_gaussian_splatting:SCALE/..., the current spec)."""
    sparse_morph_targets: bool = True
    """Write morph targets (sway) as sparse accessors when smaller; off writes them dense, for loaders without sparse-accessor support."""
    texture_format: str = "auto"
    """Texture encoding: auto (the profile's: ktx2 for quest, png-jpeg otherwise), png-jpeg, webp (EXT_texture_webp) or ktx2 (KTX2 / Basis Universal, KHR_texture_basisu)."""
    geometry_compression: str = "auto"
    """Geometry compression: auto (the profile's: meshopt for quest, none otherwise), none or meshopt (EXT_meshopt_compression)."""
    ktx2_mode: str = "auto"
    """KTX2 codec: etc1s (small files), uastc (near-lossless, larger files) or auto (ETC1S; UASTC where ETC1S measures below 30 dB PSNR, and for the textures whose ETC1S error the start view shows most of per added byte, within a byte budget: export/texture_choice.py)."""
    etc1s_quality: int = 255
    """ETC1S quality 1-255 (higher: better and larger; 255 keeps the rendered view near 30 dB PSNR, 128 lost 2 dB on Hunters in the Snow)."""
    webp_quality: int = 90
    """Quality of lossy WebP colour (alpha is lossless)."""
    png_compression: int = opt(DEFAULT_GLTF_OPTIONS.png_compression, ge=0, le=9)
    """zlib level of PNG textures (those with alpha): 0 stores them (about 4x larger, 10x faster to write: the studio's live 3D view), 9 is smallest."""


DEFAULT_EXPORT_OPTIONS = ExportOptions()


def _check_options(options: ExportOptions) -> Profile:
    check_options(options)
    profile = get_profile(options.profile)
    if 0 < options.max_texture < 16:
        raise InputError(f"max_texture must be 0 (the profile's) or at least 16, got {options.max_texture}")
    if options.texture_format not in ("auto", *TEXTURE_FORMATS):
        raise InputError(f"texture_format must be auto or one of {', '.join(TEXTURE_FORMATS)}, "
                         f"got {options.texture_format!r}")
    if options.geometry_compression not in ("auto", "none", "meshopt"):
        raise InputError(f"geometry_compression must be auto, none or meshopt, got {options.geometry_compression!r}")
    if not 1 <= options.webp_quality <= 100:
        raise InputError(f"webp_quality must be within [1, 100], got {options.webp_quality}")
    check_ktx2_options(_ktx2_options(options))
    return profile


def _ktx2_options(options: ExportOptions) -> Ktx2Options:
    return Ktx2Options(mode=options.ktx2_mode, etc1s_quality=options.etc1s_quality)  # type: ignore[arg-type]


def _gltf_options(options: ExportOptions, profile: Profile, limit: int) -> GltfOptions:
    """The writer's options: the profile's texture format and geometry compression unless set."""
    fmt = profile.texture_format if options.texture_format == "auto" else options.texture_format
    geo = options.geometry_compression
    return replace(DEFAULT_GLTF_OPTIONS, max_texture=limit, jpeg_quality=options.jpeg_quality,
                   sparse_morph_targets=options.sparse_morph_targets, texture_format=fmt,
                   webp_quality=options.webp_quality, ktx2=_ktx2_options(options),
                   png_compression=options.png_compression, meshopt=profile.meshopt if geo == "auto" else geo == "meshopt")


def check_budget(scene: Scene, profile: Profile, fitted: Fitted | None = None) -> None:
    """Raise BudgetError naming the budget (triangles, draw calls or points) a scene exceeds
    as it would be written (after ``fitted``'s reductions, if given). Draw calls are one per
    node with a mesh (a shared mesh counts once per node); the message splits them into
    layers and effects (:func:`~.fit.draw_call_split`)."""
    meshes = written_meshes(scene, fitted)
    tris = sum(m.triangle_count for m in meshes)
    if tris > profile.max_triangles:
        raise BudgetError(f"{tris:,} triangles is over the {profile.name} triangle budget of "
                          f"{profile.max_triangles:,}",
                          hint="allow reduction (--reduce), lower --max-triangles or pick --profile desktop")
    over = draw_calls_over(scene, profile, fitted)
    if over is not None:
        raise over
    points = sum(m.positions.shape[0] for m in meshes if m.is_points)
    if profile.max_points and points > profile.max_points:
        raise BudgetError(f"{points:,} points is over the {profile.name} point budget of {profile.max_points:,}",
                          hint="allow reduction (--reduce)")


def _texture_reductions(scene: Scene, fitted: Fitted, limit: int) -> list[dict[str, Any]]:
    out, seen = [], set()
    for mesh in written_meshes(scene, fitted):
        tex = mesh.texture
        if tex is None or mesh.is_points or id(tex) in seen:
            continue
        seen.add(id(tex))
        size = texture_size(tex.shape, limit)
        if size != (tex.shape[1], tex.shape[0]):
            out.append({"what": "texture", "mesh": mesh.name, "from": [tex.shape[1], tex.shape[0]],
                        "to": list(size)})
    return out


def _export_record(options: ExportOptions, fitted: Fitted, scene: Scene, limit: int) -> dict[str, Any]:
    return {"export": {**options_to_dict(options), "texture_limit": limit,
                       "reductions": fitted.reductions + _texture_reductions(scene, fitted, limit)}}


def _render(scene: Scene, options: ExportOptions, fmt: str, stem: str) -> tuple[list[tuple[str, bytes]], dict]:
    """The files of one export as (name, bytes), the main file last, and the export record."""
    profile = _check_options(options)
    fitted = fit_scene(scene, profile, reduce=options.reduce, splat_attributes=options.splat_attributes)
    check_budget(scene, profile, fitted)
    limit = min(profile.max_texture, options.max_texture or profile.max_texture)
    tex_format = _gltf_options(options, profile, limit).texture_format
    limit = fit_texture_memory(scene, fitted, profile, limit, tex_format, options.ktx2_mode, options.reduce)
    has_textures = any(m.texture is not None and not m.is_points for m in written_meshes(scene, fitted))
    while True:
        extra = _export_record(options, fitted, scene, limit)
        gopts = _gltf_options(options, profile, limit)
        if fmt == "glb":
            files = [(f"{stem}.glb", to_glb_bytes(scene, gopts, extra, fitted))]
        else:
            out: GltfFiles = to_gltf_files(scene, stem, gopts, extra, fitted)
            files = [*out.files, (f"{stem}.gltf", out.gltf)]
        size = sum(len(d) for _, d in files)
        if size <= profile.max_file_bytes:
            return files, extra
        if not (options.reduce and has_textures and limit > MIN_TEXTURE):
            raise BudgetError(f"the {fmt} output is {size / 2**20:.1f} MiB, over the {profile.name} file-size "
                              f"budget of {profile.max_file_mb:g} MiB",
                              hint="lower --export-max-texture or --jpeg-quality, or pick --profile desktop")
        log.info("%s: %.1f MiB is over %g MiB; textures %d -> %d px", stem, size / 2**20,
                 profile.max_file_mb, limit, max(MIN_TEXTURE, limit // 2))
        limit = max(MIN_TEXTURE, limit // 2)


def export_bytes(scene: Scene, options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> bytes:
    """The scene as GLB bytes under ``options.profile``'s budgets."""
    files, _ = _render(scene, options, "glb", "scene")
    return files[-1][1]


def stage(scene: Scene, options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> bytes:
    """The stage contract's form of the export: Scene -> GLB bytes (see :func:`save_scene`)."""
    return export_bytes(scene, options)


def _full_record(scene: Scene, extra: dict[str, Any]) -> dict[str, Any]:
    """The provenance record of a file: the scene's, plus the export's own entry (one place)."""
    record = provenance_record(scene)
    record.update(json.loads(json.dumps(extra, sort_keys=True)))
    return record


def export_bytes_and_record(scene: Scene, options: ExportOptions = DEFAULT_EXPORT_OPTIONS
                            ) -> tuple[bytes, dict[str, Any]]:
    """GLB bytes and the provenance record they hold (for a sidecar with the same record)."""
    files, extra = _render(scene, options, "glb", "scene")
    return files[-1][1], _full_record(scene, extra)


def export_record(scene: Scene, options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> dict[str, Any]:
    """The provenance record a file exported with ``options`` would hold (without writing it)."""
    return export_bytes_and_record(scene, options)[1]


def save_scene(scene: Scene, path: str | os.PathLike[str],
               options: ExportOptions = DEFAULT_EXPORT_OPTIONS) -> Path:
    """Write ``scene`` to ``path`` atomically; returns the path.

    ``.glb``: one binary file. ``.gltf``: the JSON plus ``<stem>.bin`` and
    ``<stem>_<n>.jpg|png`` textures beside it (all written to temporaries, then renamed,
    the .gltf last). ``.ply``: the layered point cloud (see :mod:`.ply`; no budgets apply).
    With ``options.sidecar``, ``<stem>.provenance.json`` holds the same provenance record.

    Raises:
        InputError: unsupported extension or bad options. BudgetError: over the profile's
        budgets and not reducible. ExportError: the folder does not exist.
    """
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise InputError(f"{target}: unsupported output type {target.suffix!r}",
                         hint="use a .glb, .gltf or .ply file name")
    stem = target.stem
    if fmt == "ply":
        _check_options(options)
        record = provenance_record(scene)
        record["export"] = {**options_to_dict(options), "format": "ply"}
        files = [(target.name, ply_bytes(scene, record))]
    else:
        files, extra = _render(scene, options, fmt, stem)
        files[-1] = (target.name, files[-1][1])  # keep the suffix's spelling
        record = _full_record(scene, extra)
    if options.sidecar:
        side = (f"{stem}.provenance.json", (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())
        files.insert(0, side)
    folder = target.parent
    if len(files) == 1:
        write_atomic(folder / files[0][0], files[0][1])
    else:
        write_atomic_group([(folder / name, data) for name, data in files])
    return target


NAME = "export"

__all__ = ["DEFAULT_EXPORT_OPTIONS", "ExportOptions", "NAME", "stage", "export_bytes_and_record", "Fitted", "GltfOptions", "PROFILES", "Profile",
           "build_gltf", "check_budget", "draw_call_split", "export_bytes", "export_record", "fit_scene", "get_profile",
           "ply_bytes", "save_scene", "to_glb_bytes", "to_gltf_files"]
