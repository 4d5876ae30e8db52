import json

import numpy as np
import pygltflib
import pytest
import trimesh

from paint2vr.errors import BudgetError, InputError
from paint2vr.export import ExportOptions, export_bytes, save_scene
from paint2vr.export.gltf import encode_texture, DEFAULT_GLTF_OPTIONS
from paint2vr.export.profiles import PROFILES

from scene_factory import PLAIN, small_scene


def test_glb_validates_and_round_trips(tmp_path, gltf_validator):
    out = save_scene(small_scene(), tmp_path / "s.glb", ExportOptions(**PLAIN))
    gltf_validator(out, allow_warnings=False)
    doc = pygltflib.GLTF2().load(str(out))
    assert doc.asset.copyright == "Nobody, Test, CC0"
    record = doc.asset.extras["paint2vr"]
    assert record["source"]["sha256"] == "ab" * 32
    assert record["seed"] == 7
    assert record["export"]["profile"] == "quest"
    assert [c.type for c in doc.cameras] == ["perspective"]
    assert doc.extensionsUsed == ["KHR_materials_unlit"]
    assert all(m.extensions == {"KHR_materials_unlit": {}} for m in doc.materials)
    assert all(m.pbrMetallicRoughness.baseColorFactor == [1.0, 1.0, 1.0, 1.0] for m in doc.materials)
    assert len(doc.animations) == 1 and {c.target.path for c in doc.animations[0].channels} == {"translation", "weights"}
    loaded = trimesh.load(out)
    assert len(loaded.geometry) == 3
    assert any(isinstance(getattr(g.visual, "material", None), trimesh.visual.material.PBRMaterial)
               and g.visual.material.baseColorTexture is not None for g in loaded.geometry.values())


def test_textures_png_with_alpha_jpeg_without():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    assert encode_texture(rgba, DEFAULT_GLTF_OPTIONS)[1] == "image/jpeg"
    rgba[0, 0, 3] = 0
    assert encode_texture(rgba, DEFAULT_GLTF_OPTIONS)[1] == "image/png"


def test_png_texture_round_trips_exactly():
    import io
    from PIL import Image

    rgba = np.random.default_rng(3).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    data, mime = encode_texture(rgba, DEFAULT_GLTF_OPTIONS)
    assert mime == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    back = np.asarray(Image.open(io.BytesIO(data)))
    # alpha and every shown texel exactly; transparent texels hold their nearest opaque
    # neighbour's colour (edge bleeding, tests/export/test_export_edges.py)
    shown = rgba[..., 3] >= 128
    assert back.shape == rgba.shape and np.array_equal(back[..., 3], rgba[..., 3])
    assert np.array_equal(back[shown], rgba[shown])


def test_large_texture_shrunk_to_the_profile_cap():
    import dataclasses
    import io
    from PIL import Image

    opts = dataclasses.replace(DEFAULT_GLTF_OPTIONS, max_texture=64)
    rgba = np.zeros((100, 200, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :100, 3] = 255  # left half opaque
    data, mime = encode_texture(rgba, opts)
    back = np.asarray(Image.open(io.BytesIO(data)))
    assert mime == "image/png" and back.shape == (32, 64, 4)
    assert (back[:, :31, 3] == 255).all() and (back[:, 33:, 3] == 0).all() and (back[..., 0] == 200).all()
    data, mime = encode_texture(rgba[..., :3], opts)
    assert mime == "image/jpeg" and Image.open(io.BytesIO(data)).size == (64, 32)


def test_deterministic_bytes():
    assert export_bytes(small_scene()) == export_bytes(small_scene())


def test_sidecar_matches_embedded_record(tmp_path):
    out = save_scene(small_scene(), tmp_path / "s.glb", ExportOptions(sidecar=True))
    side = json.loads((tmp_path / "s.provenance.json").read_text())
    doc = pygltflib.GLTF2().load(str(out))
    assert side == doc.asset.extras["paint2vr"]


def test_over_budget_refused_with_budget_named(monkeypatch):
    scene = small_scene()
    monkeypatch.setitem(PROFILES, "tiny", PROFILES["quest"].__class__("tiny", "mesh", 2, 64, 64, 1.0))
    with pytest.raises(BudgetError, match="triangles is over the tiny triangle budget"):
        export_bytes(scene, ExportOptions(profile="tiny"))


def test_bad_suffix_and_profile(tmp_path):
    with pytest.raises(InputError, match="unsupported output type"):
        save_scene(small_scene(), tmp_path / "s.obj")
    with pytest.raises(InputError, match="unknown export profile"):
        export_bytes(small_scene(), ExportOptions(profile="nope"))
    assert not list(tmp_path.iterdir())


def test_the_record_names_the_libraries_and_numpy_simd_level(tmp_path):
    """The same inputs gave other bytes under another numpy SIMD level (AVX-512 against AVX2):
    each file says which versions and which level wrote it, read from package metadata."""
    import subprocess
    import sys
    from importlib.metadata import version

    from paint2vr.preview import read_scene
    path = save_scene(small_scene(), tmp_path / "s.glb", ExportOptions(**PLAIN))
    env = read_scene(path).provenance["environment"]
    assert env["libraries"]["numpy"] == version("numpy") == np.__version__
    assert env["libraries"]["pygltflib"] == version("pygltflib")
    assert set(env["libraries"]) <= {"numpy", "opencv-python-headless", "scipy", "pillow", "pygltflib",
                                     "meshoptimizer", "torch", "transformers"}
    from numpy._core._multiarray_umath import __cpu_dispatch__
    assert env["numpy_simd"] in set(__cpu_dispatch__) | {"baseline"}
    # with numpy held at AVX2 the record says so (and reports no AVX-512 level)
    from p2v_testing import reproducible_env
    code = "from paint2vr.export.provenance import environment; print(environment()['numpy_simd'])"
    held = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=reproducible_env())
    assert held.returncode == 0, held.stderr[-2000:]
    assert "512" not in held.stdout and "V4" not in held.stdout
