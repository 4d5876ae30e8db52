"""Quest geometry before meshopt: UVs as whole texel steps (KHR_texture_transform maps them
back) and identical vertices merged; each against its slow reference and through the file."""

import json
import struct

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.export import ExportOptions, export_bytes, save_scene
from paint2vr.export.uv_grid import (MAX_SUB, UvGrid, axis_sub, decode_uvs, quantize_uvs,
                                     quantize_uvs_reference, uv_grid)
from paint2vr.export.weld import weld_identical, weld_map, weld_map_reference
from paint2vr.preview.reader import apply_uv_transform, read_scene, uv_transform
from paint2vr.scene import Mesh

from scene_factory import PLAIN, grid_mesh, grid_scene


def _glb_json(data: bytes) -> dict:
    n = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + n])


# -- uv_grid ------------------------------------------------------------------------------

def test_axis_sub_exact_values():
    corners = np.arange(0, 721) / 720 * 720  # texel corners of a 720 px axis
    assert axis_sub(corners, 720) == 1
    assert axis_sub(np.arange(0, 1441) / 2, 720) == 2  # half texels
    assert axis_sub(np.array([0.25, 3.75]), 720) == 4
    assert axis_sub(np.array([0.1234567]), 720) == MAX_SUB  # on no grid: the finest
    assert axis_sub(np.array([0.1234567]), 2048) == 31  # 2048 * 32 would not fit 16 bits
    assert axis_sub(np.array([0.5 + 4e-4]), 720) == 2  # float32 noise within the tolerance
    assert axis_sub(np.array([0.5 + 4e-3]), 720) == MAX_SUB
    assert axis_sub(np.zeros(0), 16) == 1


def test_axis_sub_bad_sizes():
    with pytest.raises(InputError):
        axis_sub(np.zeros(3), 0)
    with pytest.raises(InputError):
        axis_sub(np.zeros(3), 70000)


def test_uv_grid_shapes_and_refusals():
    uv = np.array([[0, 0], [1, 1], [0.5, 0.25]], np.float32)
    grid = uv_grid(uv, (720, 510), (720, 512))
    assert grid == UvGrid((1, 2), (720, 512))  # v: 0.25 * 510 = 127.5 texels
    assert grid.steps == (720, 1024) and grid.scale == (65535 / 720, 65535 / 1024)
    assert uv_grid(uv * 3 - 1, (720, 512), (720, 512)) is None  # tiling UVs stay float
    assert uv_grid(np.array([[np.nan, 0]]), (8, 8), (8, 8)) is None
    with pytest.raises(InputError):
        uv_grid(np.zeros((3, 3)), (8, 8), (8, 8))
    with pytest.raises(InputError):
        uv_grid(uv, (8, 8), (4, 8))  # padding smaller than the texture


def test_quantize_uvs_against_reference_and_error_bound():
    rng = np.random.default_rng(3)
    uv = rng.random((500, 2)).astype(np.float32)
    uv[:4] = [[0, 0], [1, 1], [0, 1], [1, 0]]
    for texels, padded in (((720, 510), (720, 512)), ((2048, 1021), (2048, 1024)), ((5, 3), (8, 4))):
        grid = uv_grid(uv, texels, padded)
        q = quantize_uvs(uv, texels, grid)
        assert q.dtype == np.uint16 and q.shape == (500, 2)
        np.testing.assert_array_equal(q, quantize_uvs_reference(uv, texels, grid))
        got = decode_uvs(q, grid).astype(np.float64)
        want = uv.astype(np.float64) * np.array(texels) / np.array(padded)  # addresses the padded texture
        err_texels = np.abs(got - want) * np.array(padded)
        assert (err_texels <= 0.5 / np.array(grid.sub) + 1e-4).all()
        assert err_texels.max() <= 1 / 62 + 1e-4  # at most about 1/64 texel


def test_texel_corner_uvs_are_exact():
    texels = (720, 454)
    k = np.stack(np.meshgrid(np.arange(0, 721, 2), np.arange(0, 455, 2)), -1).reshape(-1, 2)
    uv = (k / np.array(texels)).astype(np.float32)
    grid = uv_grid(uv, texels, (720, 456))
    assert grid.sub == (1, 1)
    q = quantize_uvs(uv, texels, grid)
    np.testing.assert_array_equal(q, k)  # the texel index itself
    np.testing.assert_allclose(decode_uvs(q, grid), k / np.array([720, 456]), atol=1e-7)


# -- weld ---------------------------------------------------------------------------------

def _dup_mesh() -> Mesh:
    pos = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 0], [-0.0, 0, 0]],
                   np.float32)
    uv = np.array([[0, 0], [1, 0], [0, 1], [1, 0], [0, 1], [1, 1], [0, 0.5], [0, 0]], np.float32)
    faces = np.array([[0, 1, 2], [3, 5, 4], [0, 1, 6], [7, 1, 0]], np.uint32)
    return Mesh(name="m", positions=pos, faces=faces, uvs=uv)


def test_weld_map_exact_values_and_reference():
    mesh = _dup_mesh()
    kept, new = weld_map(mesh)
    # 3 and 4 repeat 1 and 2; 6 differs from 0 by its UV; 7 is -0.0, bitwise not 0.0
    assert kept.tolist() == [0, 1, 2, 5, 6, 7]
    assert new.tolist() == [0, 1, 2, 1, 2, 3, 4, 5]
    ref_kept, ref_new = weld_map_reference(mesh)
    assert kept.tolist() == ref_kept.tolist() and new.tolist() == ref_new.tolist()


def test_weld_against_reference_on_random_duplicates():
    rng = np.random.default_rng(8)
    base = rng.integers(0, 4, (300, 3)).astype(np.float32)  # many repeats
    uv = (base[:, :2] / 4).astype(np.float32)
    faces = rng.integers(0, 300, (400, 3)).astype(np.uint32)
    morph = [np.where(rng.random((300, 1)) < 0.1, 1.0, 0.0).astype(np.float32) * np.ones((1, 3), np.float32)]
    mesh = Mesh(name="r", positions=base, faces=faces, uvs=uv, morph_targets=morph,
                extras={"attributes": {"_F": (base[:, :1] > 1).astype(np.float32)}})
    kept, new = weld_map(mesh)
    ref_kept, ref_new = weld_map_reference(mesh)
    np.testing.assert_array_equal(kept, ref_kept)
    np.testing.assert_array_equal(new, ref_new)
    out = weld_identical(mesh)
    assert out.positions.shape[0] == kept.size < 300
    # every surviving triangle draws the same corners (positions, UVs, morph offsets) as before
    f = mesh.faces.astype(np.int64)
    ok = (new[f[:, 0]] != new[f[:, 1]]) & (new[f[:, 1]] != new[f[:, 2]]) & (new[f[:, 0]] != new[f[:, 2]])
    np.testing.assert_array_equal(out.positions[out.faces], mesh.positions[f[ok]])
    np.testing.assert_array_equal(out.uvs[out.faces], mesh.uvs[f[ok]])
    np.testing.assert_array_equal(out.morph_targets[0][out.faces], morph[0][f[ok]])
    np.testing.assert_array_equal(out.extras["attributes"]["_F"][out.faces], mesh.extras["attributes"]["_F"][f[ok]])
    # the dropped ones had two corners at one vertex: no area
    gone = mesh.positions[f[~ok]]
    assert np.allclose(np.cross(gone[:, 1] - gone[:, 0], gone[:, 2] - gone[:, 0]), 0)


def test_weld_leaves_distinct_meshes_and_points_alone():
    mesh = grid_mesh("g", 5, 4, 3.0, np.zeros((4, 4, 3), np.uint8))
    assert weld_identical(mesh) is mesh
    pts = Mesh(name="p", positions=np.zeros((4, 3), np.float32), faces=None)
    assert weld_identical(pts) is pts


# -- through the file -----------------------------------------------------------------------

def test_texture_transform_in_the_file_and_read_back(tmp_path, gltf_validator):
    scene = grid_scene(nx=49, ny=33, tex_size=(96, 64))  # vertices on every other texel corner
    quest = save_scene(scene, tmp_path / "q.glb")
    gltf_validator(quest, allow_warnings=False)
    doc = _glb_json(quest.read_bytes())
    assert "KHR_texture_transform" in doc["extensionsRequired"]
    scales = {m["name"]: m["pbrMetallicRoughness"]["baseColorTexture"]["extensions"]["KHR_texture_transform"]["scale"]
              for m in doc["materials"]}
    assert scales["layer0"] == [65535 / 96, 65535 / 64]  # whole texels, 96 x 64 needs no padding
    back = {layer.name: layer.node.mesh for layer in read_scene(quest).layers}
    for layer in scene.layers:
        mesh = layer.node.mesh
        got = np.sort(back[mesh.name].uvs[back[mesh.name].faces].reshape(-1, 2), axis=0)
        want = np.sort(mesh.uvs[mesh.faces].reshape(-1, 2), axis=0)
        np.testing.assert_allclose(got, want, atol=1e-6)  # texel corners: exact


def test_welding_and_texel_uvs_make_quest_geometry_smaller():
    scene = grid_scene(nx=49, ny=33, tex_size=(96, 64))
    mesh = scene.layers[0].node.mesh
    # split the near layer into separate triangles, as the lifted layers' jump copies are
    corners = mesh.faces.reshape(-1)
    scene.layers[0].node.mesh = Mesh(name=mesh.name, positions=mesh.positions[corners], uvs=mesh.uvs[corners],
                                     faces=np.arange(corners.size, dtype=np.uint32).reshape(-1, 3),
                                     texture=mesh.texture, alpha_mode=mesh.alpha_mode)
    doc = _glb_json(export_bytes(scene, ExportOptions(texture_format="png-jpeg")))
    prim = next(m["primitives"][0] for m in doc["meshes"] if m["name"] == "layer0")
    assert doc["accessors"][prim["attributes"]["POSITION"]]["count"] == 49 * 33  # welded back to the grid
    plain = _glb_json(export_bytes(scene, ExportOptions(**PLAIN)))
    prim = next(m["primitives"][0] for m in plain["meshes"] if m["name"] == "layer0")
    assert plain["accessors"][prim["attributes"]["POSITION"]]["count"] == corners.size  # uncompressed: as given


def test_uv_transform_matrix_follows_the_extension():
    m = uv_transform({"offset": [0.5, 0.25], "rotation": np.pi / 2, "scale": [2.0, 3.0]})
    uv = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    # scale, then rotate (the extension's sense: (u, v) -> (u cos + v sin, -u sin + v cos)), then offset
    np.testing.assert_allclose(apply_uv_transform(uv, m), [[0.5, 0.25 - 2.0], [0.5 + 3.0, 0.25]], atol=1e-6)
    assert uv_transform(None) is None and apply_uv_transform(uv, None) is uv
