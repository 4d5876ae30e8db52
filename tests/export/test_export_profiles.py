"""Profiles: every one valid, within its budgets, deterministic; reduction and refusal."""

import dataclasses
import json

import numpy as np
import pygltflib
import pytest
import trimesh

from p2v_testing import validate_gltf
from paint2vr.errors import BudgetError, InputError
from paint2vr.export import ExportOptions, export_bytes, save_scene
from paint2vr.export.inspect import inspect_file
from paint2vr.export.profiles import PROFILES, Profile

from scene_factory import PLAIN, grid_scene, small_scene


@pytest.fixture
def tight(monkeypatch):
    """A profile with small budgets, registered as 'tight'."""
    def make(**budgets):
        base = dict(name="tight", geometry="mesh", max_triangles=300_000, max_draw_calls=64,
                    max_texture=4096, max_file_mb=48.0, max_points=0)
        prof = Profile(**{**base, **budgets})
        monkeypatch.setitem(PROFILES, "tight", prof)
        return prof
    return make


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_valid_and_within_budget(tmp_path, gltf_validator, profile):
    scene = grid_scene()
    glb = save_scene(scene, tmp_path / f"{profile}.glb", ExportOptions(profile=profile))
    gltf = save_scene(scene, tmp_path / f"{profile}.gltf", ExportOptions(profile=profile))
    gltf_validator(glb, gltf, allow_warnings=False)
    for path in (glb, gltf):
        rep = inspect_file(path)
        assert rep.profile == profile and rep.within_budget, rep.format_report()
        assert rep.layers == ["layer0", "layer1", "sky"]
        assert rep.cameras == 1
    rep = inspect_file(glb)
    if PROFILES[profile].geometry == "mesh":
        assert rep.triangles == scene.triangle_count and rep.points == 0
        compressed = (["EXT_meshopt_compression", "KHR_texture_basisu", "KHR_texture_transform"]
                      if profile == "quest" else [])
        assert rep.extensions == sorted(["KHR_materials_unlit", *compressed])
    else:
        # the two grid layers become points (opaque vertices only), the sky stays a quad
        n_hole = int(((np.linspace(0, 1, 120) * 96 // 1 >= 32) & (np.linspace(0, 1, 120) * 96 // 1 < 64)).sum()
                     * ((np.linspace(0, 1, 90) * 64 // 1 >= 21) & (np.linspace(0, 1, 90) * 64 // 1 < 42)).sum())
        assert rep.points == 2 * 120 * 90 - n_hole
        assert rep.triangles == 2
    if profile == "splat":
        assert "KHR_gaussian_splatting" in rep.extensions
        doc = pygltflib.GLTF2().load(str(glb))
        prims = [m.primitives[0] for m in doc.meshes if m.primitives[0].mode == pygltflib.POINTS]
        assert len(prims) == 2
        for prim in prims:
            assert prim.extensions["KHR_gaussian_splatting"]["kernel"] == "ellipse"
            attrs = prim.attributes.__dict__
            assert attrs["COLOR_0"] is not None and attrs["_SCALE"] is not None and attrs["_ROTATION"] is not None


def test_gltf_files_written_and_trimesh_round_trip(tmp_path, gltf_validator):
    out = save_scene(small_scene(), tmp_path / "s.gltf", ExportOptions(**PLAIN))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["s.bin", "s.gltf", "s_0.png", "s_1.jpg"]  # nothing temporary left behind
    doc = json.loads(out.read_text())
    assert doc["buffers"][0]["uri"] == "s.bin"
    assert [i["uri"] for i in doc["images"]] == ["s_0.png", "s_1.jpg"]
    assert doc["asset"]["extras"]["paint2vr"]["source"]["license"] == "CC0"
    gltf_validator(out, allow_warnings=False)
    loaded = trimesh.load(out)
    assert len(loaded.geometry) == 3
    textured = [g for g in loaded.geometry.values()
                if getattr(getattr(g.visual, "material", None), "baseColorTexture", None) is not None]
    assert len(textured) == 2
    assert loaded.camera.name == "start"
    assert loaded.camera.fov[1] == pytest.approx(np.degrees(small_scene().camera.yfov))
    assert np.allclose(loaded.camera_transform[:3, 3], [0.0, 1.6, 0.0])


def test_gltf_name_with_space_is_escaped(tmp_path, gltf_validator):
    out = save_scene(small_scene(), tmp_path / "my scene.gltf")
    doc = json.loads(out.read_text())
    assert doc["buffers"][0]["uri"] == "my%20scene.bin"
    assert (tmp_path / "my scene.bin").exists()
    gltf_validator(out, allow_warnings=False)


@pytest.mark.parametrize("profile", ["quest", "points", "splat"])
def test_deterministic_bytes_glb_and_gltf(tmp_path, profile):
    opts = ExportOptions(profile=profile)
    assert export_bytes(grid_scene(), opts) == export_bytes(grid_scene(), opts)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    save_scene(grid_scene(), a / "x.gltf", opts)
    save_scene(grid_scene(), b / "x.gltf", opts)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_decimation_fits_budget_and_keeps_sky(tmp_path, gltf_validator, tight):
    scene = grid_scene()  # 2 * 21,182 + 2 triangles
    tight(max_triangles=5_000)
    out = save_scene(scene, tmp_path / "t.glb", ExportOptions(profile="tight"))
    gltf_validator(out, allow_warnings=False)
    rep = inspect_file(out)
    assert 4_000 <= rep.triangles <= 5_000
    red = rep.provenance["export"]["reductions"]
    assert [r["layer"] for r in red] == ["layer0", "layer1"]
    assert all(r["what"] == "triangles" and r["from"] == 21_182 for r in red)
    doc = pygltflib.GLTF2().load(str(out))
    sky = next(m for m in doc.meshes if m.name == "sky")
    assert doc.accessors[sky.primitives[0].indices].count == 6
    assert scene.triangle_count == 2 * 21_182 + 2  # the scene itself is untouched


def test_no_reduce_refuses_with_budget_named(tight):
    tight(max_triangles=5_000)
    with pytest.raises(BudgetError, match="42,366 triangles is over the tight triangle budget of 5,000"):
        export_bytes(grid_scene(), ExportOptions(profile="tight", reduce=False))


def test_draw_call_budget_named(tight):
    tight(max_draw_calls=2)
    with pytest.raises(BudgetError, match=r"3 draw calls \(3 layers \+ 0 effects\) is over the tight draw-call budget of 2"):
        export_bytes(grid_scene(), ExportOptions(profile="tight"))


def test_point_budget_subsamples_or_refuses(tight):
    tight(geometry="points", max_points=1_000)
    data = export_bytes(grid_scene(), ExportOptions(profile="tight"))
    doc = pygltflib.GLTF2.load_from_bytes(data)
    counts = [doc.accessors[m.primitives[0].attributes.POSITION].count for m in doc.meshes
              if m.primitives[0].mode == pygltflib.POINTS]
    assert sum(counts) <= 1_000 and sum(counts) >= 990
    with pytest.raises(BudgetError, match="points is over the tight point budget of 1,000"):
        export_bytes(grid_scene(), ExportOptions(profile="tight", reduce=False))


def test_file_size_budget_downscales_textures_or_refuses(tmp_path, tight, gltf_validator):
    rng = np.random.default_rng(5)
    scene = small_scene(with_effect=False)
    big = rng.integers(0, 255, (1024, 1024, 3), dtype=np.uint8)  # noise: ~3 MB as JPEG
    scene.layers[1].node.mesh.texture = big
    tight(max_file_mb=0.5)
    out = save_scene(scene, tmp_path / "f.glb", ExportOptions(profile="tight"))
    gltf_validator(out, allow_warnings=False)
    rep = inspect_file(out)
    assert rep.file_bytes <= 0.5 * 2**20
    # 4096 and 1024 px (the texture's own size) are over 0.5 MiB, 512 px fits
    assert len(export_bytes(scene, ExportOptions(profile="desktop"))) > 0.5 * 2**20
    assert max(t.width for t in rep.textures) == 512
    assert rep.provenance["export"]["texture_limit"] == 512
    assert {"what": "texture", "mesh": "sky", "from": [1024, 1024], "to": [512, 512]} \
        in rep.provenance["export"]["reductions"]
    with pytest.raises(BudgetError, match="over the tight file-size budget of 0.5 MiB"):
        export_bytes(scene, ExportOptions(profile="tight", reduce=False))


def test_profile_texture_limit_and_option(tmp_path):
    scene = grid_scene(tex_size=(3000, 200))
    rep = inspect_file(save_scene(scene, tmp_path / "q.glb"))
    # KTX2 (quest): padded to whole 4 x 4 blocks (137 -> 140 rows), UVs scaled to match
    assert sorted((t.width, t.height) for t in rep.textures) == [(48, 32), (2048, 140), (2048, 140)]
    rep = inspect_file(save_scene(scene, tmp_path / "p.glb", ExportOptions(texture_format="png-jpeg")))
    assert sorted((t.width, t.height) for t in rep.textures) == [(48, 32), (2048, 137), (2048, 137)]
    rep = inspect_file(save_scene(scene, tmp_path / "m.glb", ExportOptions(max_texture=512)))
    assert max(t.width for t in rep.textures) == 512
    rep = inspect_file(save_scene(scene, tmp_path / "d.glb", ExportOptions(profile="desktop")))
    assert max(t.width for t in rep.textures) == 3000


def test_bad_options(tmp_path):
    for bad in (dict(jpeg_quality=0), dict(max_texture=-1), dict(max_texture=8),
                dict(splat_attributes="new")):
        with pytest.raises(InputError):
            export_bytes(small_scene(), dataclasses.replace(ExportOptions(), **bad))
    assert not list(tmp_path.iterdir())


def test_ratified_splat_attributes(tmp_path):
    out = save_scene(grid_scene(), tmp_path / "r.glb", ExportOptions(profile="splat", splat_attributes="ratified"))
    doc = pygltflib.GLTF2().load(str(out))
    prim = next(m.primitives[0] for m in doc.meshes if m.name == "layer1_points")
    attrs = {k: v for k, v in prim.attributes.__dict__.items() if v is not None}
    assert set(attrs) == {"POSITION", "COLOR_0", "KHR_gaussian_splatting:SCALE", "KHR_gaussian_splatting:ROTATION",
                          "KHR_gaussian_splatting:OPACITY", "KHR_gaussian_splatting:SH_DEGREE_0_COEF_0"}
    assert prim.extensions["KHR_gaussian_splatting"]["colorSpace"] == "srgb_rec709_display"
    # the validator predates the ratified names: those, and only those, are its errors
    [rep] = validate_gltf(out)
    errors = [m for m in rep["issues"]["messages"] if m["severity"] == 0]
    assert errors and all(m["code"] == "MESH_PRIMITIVE_INVALID_ATTRIBUTE"
                          and "/attributes/KHR_gaussian_splatting:" in m["pointer"] for m in errors)
    assert rep["issues"]["numWarnings"] == 0
