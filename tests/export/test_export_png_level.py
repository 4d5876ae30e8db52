"""PNG textures at any zlib level decode to the same pixels: level 0 (stored, what the studio's
live 3D view writes) is larger and valid glTF."""

import numpy as np
import pytest

from paint2vr.errors import OptionError
from paint2vr.export import ExportOptions, save_scene
from paint2vr.io.gltf_read import read_gltf
from p2v_testing import assert_valid_gltf
from scene_factory import small_scene


def _png_images(path):
    doc = read_gltf(path)
    return [(doc.image(i), len(doc.image_bytes(i))) for i, img in enumerate(doc.gltf.images)
            if (img.mimeType or "") == "image/png"]


def test_png_levels_same_pixels(tmp_path):
    scene = small_scene(with_effect=False)
    out = {}
    for level in (0, 2, 9):
        path = tmp_path / f"l{level}.glb"
        save_scene(scene, path, ExportOptions(profile="desktop", png_compression=level))
        out[level] = _png_images(path)
        assert out[level], "the scene has a texture with alpha"
    assert_valid_gltf(tmp_path / "l0.glb")
    for level in (0, 9):
        for (a, _), (b, _) in zip(out[level], out[2]):
            np.testing.assert_array_equal(a, b)
    assert sum(n for _, n in out[0]) > sum(n for _, n in out[2])
    with pytest.raises(OptionError, match="png_compression"):
        save_scene(scene, tmp_path / "bad.glb", ExportOptions(profile="desktop", png_compression=10))
