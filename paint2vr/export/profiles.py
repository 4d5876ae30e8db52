"""Export profiles: what a target device can draw, as budgets a scene must fit.

The numbers and the reasoning behind them are in docs/export.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import InputError


@dataclass(frozen=True)
class Profile:
    """Budgets and geometry mode of one export target."""

    name: str
    """Profile name used on the command line."""
    geometry: Literal["mesh", "points", "splat"]
    """How layers are written: textured triangles, POINTS, or Gaussian splats on POINTS."""
    max_triangles: int
    """Triangles in the whole scene (layers and effects)."""
    max_draw_calls: int
    """Mesh primitives in the whole scene (one primitive is one draw call)."""
    max_texture: int
    """Longest texture side in pixels; larger textures are downscaled."""
    max_file_mb: float
    """File size in MiB (for .gltf: the .gltf, .bin and texture files together)."""
    description: str = ""
    """What the profile is for."""
    max_points: int = 0
    """Points (or splats) in all layers together; 0 for profiles that write no points."""
    max_texture_mib: float = 0.0
    """Texture GPU memory in MiB as the device stores it (RGBA8 + mips for JPEG/PNG/WebP, the transcoded block format for KTX2); 0 = no budget."""
    texture_format: str = "png-jpeg"
    """Texture encoding: png-jpeg, webp (EXT_texture_webp) or ktx2 (KHR_texture_basisu)."""
    meshopt: bool = False
    """Compress geometry and animation buffers with EXT_meshopt_compression."""

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


PROFILES: dict[str, Profile] = {
    "quest": Profile("quest", "mesh", max_triangles=300_000, max_draw_calls=64, max_texture=2048,
                     max_file_mb=48.0, max_texture_mib=96.0, texture_format="ktx2", meshopt=True,
                     description="standalone headsets (Meta Quest 2/3, Pico 4): default"),
    "desktop": Profile("desktop", "mesh", max_triangles=2_000_000, max_draw_calls=256, max_texture=8192,
                       max_file_mb=256.0, max_texture_mib=2048.0, description="PC VR and desktop viewers"),
    "points": Profile("points", "points", max_triangles=100_000, max_draw_calls=64, max_texture=2048,
                      max_file_mb=128.0, max_points=2_000_000, max_texture_mib=256.0,
                      description="layered point clouds as POINTS (COLOR_0), for inspection"),
    "splat": Profile("splat", "splat", max_triangles=100_000, max_draw_calls=64, max_texture=2048,
                     max_file_mb=128.0, max_points=1_000_000, max_texture_mib=256.0,
                     description="layers as Gaussian splats (KHR_gaussian_splatting, COLOR_0 fallback)"),
}
DEFAULT_PROFILE = "quest"


def get_profile(name: str) -> Profile:
    """The named profile, or InputError listing the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise InputError(f"unknown export profile {name!r}",
                         hint=f"choose one of: {', '.join(PROFILES)}") from None
