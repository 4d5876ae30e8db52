"""Unit tests of the exporter's helpers: decimation, point sampling, splats, colours, files."""

import os

import numpy as np
import pytest

from paint2vr.errors import BudgetError, ExportError, InputError
from paint2vr.color import linear_to_srgb, srgb_to_linear
from paint2vr.export.decimate import _depth_bins, cluster, cluster_keys, cluster_reference, decimate_mesh
from paint2vr.export.files import write_atomic_group
from paint2vr.export.points import (allocate, layer_points, mesh_vertex_points, sample_texture,
                                    subsample_indices, subsample_points)
from paint2vr.export.splat import SH_C0, facing_quaternions, nearest_neighbour_distance, splat_mesh
from paint2vr.scene import Layer, Mesh, Node

from scene_factory import grid_mesh, grid_scene


def _rotate(q, v):
    x, y, z, w = q
    u = np.array([x, y, z])
    return 2 * u.dot(v) * u + (w * w - u.dot(u)) * v + 2 * w * np.cross(u, v)


def test_cluster_matches_reference():
    mesh = grid_mesh("g", 23, 17, 5.0, np.zeros((8, 8, 3), np.uint8))
    keys, bins = cluster_keys(mesh, None), _depth_bins(mesh, None)
    for grid in (1, 3, 7, 16, 40):
        fast, slow = cluster(keys, bins, mesh.faces, grid), cluster_reference(keys, bins, mesh.faces, grid)
        assert np.array_equal(fast.vertices, slow.vertices), grid
        assert np.array_equal(fast.faces, slow.faces), grid


def test_decimate_mesh_budget_attributes_and_passthrough():
    tex = np.zeros((8, 8, 3), np.uint8)
    mesh = grid_mesh("g", 60, 40, 5.0, tex)
    assert mesh.triangle_count == 2 * 59 * 39
    assert decimate_mesh(mesh, 10_000) is mesh
    small = decimate_mesh(mesh, 1_000)
    assert 700 < small.triangle_count <= 1_000
    assert small.texture is tex and small.uvs.shape == (small.positions.shape[0], 2)
    # kept vertices are original vertices (no averaging), so they stay on the surface
    orig = {tuple(p) for p in mesh.positions.tolist()}
    assert all(tuple(p) in orig for p in small.positions.tolist())
    assert int(small.faces.max()) < small.positions.shape[0]
    with pytest.raises(BudgetError, match="1 triangles"):
        decimate_mesh(mesh, 1)


def test_decimate_keeps_depth_tear_apart():
    # two grids at very different depths sharing the same UVs must not be merged together
    a, b = grid_mesh("a", 20, 20, 5.0, np.zeros((4, 4, 3), np.uint8)), grid_mesh("b", 20, 20, 50.0, np.zeros((4, 4, 3), np.uint8))
    n = a.positions.shape[0]
    both = Mesh("ab", np.concatenate([a.positions, b.positions]), np.concatenate([a.faces, b.faces + n]),
                uvs=np.concatenate([a.uvs, b.uvs]))
    out = decimate_mesh(both, 200)
    z = -out.positions[out.faces][:, :, 2]
    assert ((z.max(1) / z.min(1)) < 2).all()  # no triangle spans the two grids


def test_sample_texture_and_vertex_points():
    tex = np.zeros((2, 4, 4), np.uint8)
    tex[..., 0] = np.arange(8).reshape(2, 4) * 30
    tex[..., 3] = 255
    tex[1, 3, 3] = 0
    uv = np.array([[0.0, 0.0], [0.99, 0.99], [0.3, 0.6], [1.0, 1.0]], np.float32)
    assert sample_texture(tex, uv)[:, 0].tolist() == [0, 210, 150, 210]
    mesh = Mesh("m", np.zeros((4, 3), np.float32), uvs=uv, texture=tex, alpha_mode="MASK")
    pts = mesh_vertex_points(mesh)
    assert pts.is_points and pts.positions.shape == (2, 3)  # the two transparent texels dropped
    assert pts.colors[:, 0] == pytest.approx(srgb_to_linear(np.array([0, 150]) / 255.0))
    assert pts.colors[:, 3].tolist() == [1.0, 1.0]


def test_layer_points_prefers_layer_points():
    mesh = grid_mesh("g", 5, 5, 5.0, np.zeros((4, 4, 3), np.uint8))
    cloud = Mesh("c", np.ones((7, 3), np.float32), colors=np.full((7, 4), 0.5, np.float32))
    assert layer_points(Layer("l", Node("l", mesh), (1, 2), points=cloud)).positions.shape == (7, 3)
    assert layer_points(Layer("l", Node("l", mesh), (1, 2))).positions.shape == (25, 3)
    assert layer_points(Layer("l", Node("l"), (1, 2))) is None
    with pytest.raises(InputError, match="POINTS mesh"):
        layer_points(Layer("l", Node("l"), (1, 2), points=mesh))


def test_subsample_and_allocate_exact():
    assert subsample_indices(10, 4).tolist() == [0, 2, 5, 7]
    assert subsample_indices(3, 5).tolist() == [0, 1, 2]
    assert subsample_indices(3, 0).tolist() == []
    assert allocate([100, 300], 1000) == [100, 300]
    assert allocate([100, 300], 200) == [50, 150]
    m = Mesh("p", np.arange(30, dtype=np.float32).reshape(10, 3), colors=np.zeros((10, 4), np.float32))
    assert subsample_points(m, 4).positions[:, 0].tolist() == [0, 6, 15, 21]


def test_srgb_round_trip_and_known_values():
    x = np.linspace(0, 1, 11)
    assert linear_to_srgb(srgb_to_linear(x)) == pytest.approx(x, abs=1e-6)
    assert float(srgb_to_linear(np.array(0.5))) == pytest.approx(0.21404, abs=1e-5)


def test_facing_quaternions_turn_minus_z_onto_direction():
    dirs = np.array([[0, 0, -1], [1, 0, 0], [0, 1, 0], [0.3, -0.4, -0.5], [0, 0, 1]], float)
    q = facing_quaternions(dirs)
    assert np.linalg.norm(q, axis=1) == pytest.approx(np.ones(5))
    assert q[0].tolist() == [0, 0, 0, 1]
    for qi, d in zip(q, dirs):
        assert _rotate(qi.astype(float), np.array([0, 0, -1.0])) == pytest.approx(d / np.linalg.norm(d), abs=1e-6)


def test_splat_mesh_values():
    pos = np.array([[0, 0, -5], [0.1, 0, -5], [0, 0.3, -5]], np.float32)
    cols = np.array([[0.5, 0.5, 0.5, 1.0], [0, 0, 0, 0.5], [1, 1, 1, 1]], np.float32)
    assert nearest_neighbour_distance(pos) == pytest.approx([0.1, 0.1, 0.3], abs=1e-6)
    m = splat_mesh(Mesh("p", pos, colors=cols), np.zeros(3), "ratified")
    a = m.extras["attributes"]
    assert np.exp(a["KHR_gaussian_splatting:SCALE"][0]) == pytest.approx([0.05, 0.05, 0.005])
    assert a["KHR_gaussian_splatting:OPACITY"].tolist() == [1.0, 0.5, 1.0]
    # diffuse colour = SH0 * C0 + 0.5 gives back the sRGB colour
    srgb = a["KHR_gaussian_splatting:SH_DEGREE_0_COEF_0"] * SH_C0 + 0.5
    assert srgb == pytest.approx(linear_to_srgb(cols[:, :3]), abs=1e-6)
    legacy = splat_mesh(Mesh("p", pos, colors=cols), np.zeros(3)).extras["attributes"]
    assert set(legacy) == {"_SCALE", "_ROTATION"} and legacy["_SCALE"][0] == pytest.approx([0.05, 0.05, 0.005])
    with pytest.raises(InputError):
        splat_mesh(Mesh("t", pos, faces=np.array([[0, 1, 2]], np.uint32)), np.zeros(3))


def test_write_atomic_group_all_or_nothing(tmp_path):
    write_atomic_group([(tmp_path / "a.bin", b"1"), (tmp_path / "a.gltf", b"2")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "a.gltf"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "a.gltf").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(ExportError, match="does not exist"):
        write_atomic_group([(tmp_path / "b.bin", b"1"), (tmp_path / "nope" / "b.gltf", b"2")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "a.gltf"]  # no temporaries left
    with pytest.raises(ExportError, match="same name"):
        write_atomic_group([(tmp_path / "c", b"1"), (tmp_path / "c", b"2")])


def test_ply_output(tmp_path):
    from paint2vr.export import ExportOptions, save_scene
    scene = grid_scene(nx=10, ny=8)
    out = save_scene(scene, tmp_path / "s.ply", ExportOptions(sidecar=True))
    data = out.read_bytes()
    head, body = data.split(b"end_header\n", 1)
    lines = head.decode().splitlines()
    assert lines[1] == "format binary_little_endian 1.0"
    assert "comment layers layer0 layer1 sky" in lines
    n = int(next(l for l in lines if l.startswith("element vertex")).split()[-1])
    v = np.frombuffer(body, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"),
                                   ("b", "u1"), ("a", "u1"), ("layer", "u1")])
    # 3 x 2 of the near layer's 10 x 8 vertices fall in its transparent hole
    assert len(v) == n == 74 + 80 + 4
    assert np.bincount(v["layer"]).tolist() == [74, 80, 4]
    assert np.allclose(np.stack([v["x"], v["y"], v["z"]], 1)[74:154], scene.layers[1].node.mesh.positions)
    tex = scene.layers[1].node.mesh.texture
    assert v["r"][74] == tex[0, 0, 0] and v["a"][74] == 255  # sRGB bytes round trip exactly
    import trimesh
    assert len(trimesh.load(out).vertices) == n
    assert save_scene(scene, tmp_path / "t.ply", ExportOptions(sidecar=True)).read_bytes() == data
    assert (tmp_path / "s.provenance.json").exists()


def test_provenance_record_plain_and_stable():
    from paint2vr.export.provenance import provenance_record
    scene = grid_scene(nx=4, ny=4)
    scene.provenance.update({"lift_result": {"layers": 2, "seconds": 1.23}, "options": {"far": float("inf")}})
    rec = provenance_record(scene)
    assert rec["lift_result"] == {"layers": 2}
    assert rec["options"] == {"far": "inf"}
    assert rec["depth_model"]["revision"] == "1" and rec["seed"] == 3 and rec["record_version"] == 1
    assert rec["source"] == {"id": "grid", "title": "Grid", "artist": "Test", "license": "CC0",
                             "attribution": "", "sha256": "cd" * 32}
