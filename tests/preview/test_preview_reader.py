"""GLB -> Scene reader: round trips of what the exporter writes, and bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.export import ExportOptions, save_scene
from paint2vr.preview import ReadOptions, read_scene
from paint2vr.preview.reader import _quat_from_matrix
from paint2vr.render import render_scene
from paint2vr.render.scene_render import quat_to_matrix

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viewer"))
from viewer_scenes import painting_rgb, painting_scene  # noqa: E402


@pytest.fixture(scope="module")
def glb(tmp_path_factory) -> Path:
    # uncompressed: the round trip below is checked bit for bit (the quest default is lossy
    # KTX2 + meshopt; tests/io/test_gltf_read.py reads that back)
    return save_scene(painting_scene(), tmp_path_factory.mktemp("reader") / "scene.glb",
                      ExportOptions(texture_format="png-jpeg", geometry_compression="none"))


def test_round_trip_structure(glb):
    original = painting_scene()
    scene = read_scene(glb)
    assert [l.name for l in scene.layers] == ["sky"] and scene.layers[0].kind == "sky"
    assert [n.name for e in scene.effects for n in e.nodes] == ["bird0"]
    assert scene.info.id == "p1" and scene.info.title == "Test painting" and scene.info.license == "CC0"
    assert scene.provenance["sha256"] == "cd" * 32 and scene.provenance["seed"] == 1
    cam = scene.camera
    assert cam.position == (0.0, 1.6, 0.0)
    assert cam.yfov == pytest.approx(original.camera.yfov, rel=1e-6)
    assert cam.aspect == pytest.approx(original.camera.aspect, rel=1e-3)
    sky = scene.layers[0].node.mesh
    src = original.layers[0].node.mesh
    np.testing.assert_array_equal(sky.positions, src.positions)
    np.testing.assert_array_equal(sky.faces, src.faces)
    np.testing.assert_array_equal(sky.uvs, src.uvs)
    assert sky.texture.shape == (48, 64, 3)
    assert np.abs(sky.texture.astype(int) - painting_rgb()).mean() < 3  # JPEG in the GLB
    assert sky.unlit and sky.alpha_mode == "OPAQUE"
    bird = scene.effects[0].nodes[0]
    assert bird.translation == (-2.0, 1.8, -8.0) and bird.weights == [0.0]
    np.testing.assert_array_equal(bird.mesh.morph_targets[0], original.effects[0].nodes[0].mesh.morph_targets[0])
    np.testing.assert_allclose(bird.mesh.colors, 1.0)
    (clip,) = scene.effects[0].clips
    assert clip.name == "birds" and clip.duration == 2.0
    assert {t.path: t.values.shape for t in clip.tracks} == {"translation": (3, 3), "weights": (3, 1)}
    assert all(t.node is bird for t in clip.tracks)


@pytest.mark.parametrize("time", [None, 0.5, 1.25])
def test_renders_like_the_original(glb, time):
    a, ca = render_scene(painting_scene(), width=64, time=time)
    b, cb = render_scene(read_scene(glb), width=64, time=time)
    assert (ca == cb).all()
    assert np.abs(a.astype(int) - b).mean() < 2.5  # only the JPEG texture differs


def test_max_texture_downscales(glb):
    scene = read_scene(glb, ReadOptions(max_texture=16, camera_height=30))
    assert scene.layers[0].node.mesh.texture.shape == (12, 16, 3)
    assert scene.camera.height == 30 and scene.camera.width == 40


def test_walk_radius_from_provenance(tmp_path):
    scene = painting_scene()
    scene.walkable_radius = 0.8  # the exporter records it as provenance['viewer']
    scene.provenance["lift"] = {"walk_radius": 0.3}
    assert read_scene(save_scene(scene, tmp_path / "w.glb")).walkable_radius == 0.8


def test_quaternion_from_matrix_matches_renderer():
    rng = np.random.default_rng(3)
    quats = list(rng.normal(size=(20, 4))) + [np.array([0, 1, 0, 0.0]), np.array([1, 0, 0, 0.0]),
                                             np.array([0, 0, 1, 1e-9])]
    for q in quats:
        q = q / np.linalg.norm(q)
        got = np.asarray(_quat_from_matrix(quat_to_matrix(q)))
        np.testing.assert_allclose(quat_to_matrix(got), quat_to_matrix(q), atol=1e-6)


def _write_gltf(folder: Path, doc: dict, blob: bytes = b"") -> Path:
    (folder / "b.bin").write_bytes(blob)
    path = folder / "t.gltf"
    path.write_text(json.dumps(doc))
    return path


def test_gltf_with_matrix_stride_and_normalized_colours(tmp_path):
    # Interleaved POSITION (3 floats) + COLOR_0 (4 normalized ubytes) with byteStride 16.
    pos = np.array([[0, 0, -2], [1, 0, -2], [0, 1, -2]], np.float32)
    cols = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 128]], np.uint8)
    blob = b"".join(p.tobytes() + c.tobytes() for p, c in zip(pos, cols))
    m = np.eye(4)
    m[:3, 3] = (1, 2, 3)
    m[0, 0] = 2.0
    doc = {"asset": {"version": "2.0"}, "scene": 0, "scenes": [{"nodes": [0]}],
           "nodes": [{"name": "tri", "mesh": 0, "matrix": list(m.T.ravel())}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "COLOR_0": 1}}]}],
           "buffers": [{"uri": "b.bin", "byteLength": len(blob)}],
           "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": len(blob), "byteStride": 16}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                         {"bufferView": 0, "byteOffset": 12, "componentType": 5121, "normalized": True,
                          "count": 3, "type": "VEC4"}]}
    scene = read_scene(_write_gltf(tmp_path, doc, blob))
    node = scene.layers[0].node
    assert node.translation == (1.0, 2.0, 3.0) and node.scale == (2.0, 1.0, 1.0)
    np.testing.assert_allclose(node.rotation, (0, 0, 0, 1), atol=1e-9)
    np.testing.assert_array_equal(node.mesh.positions, pos)
    np.testing.assert_allclose(node.mesh.colors, cols / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(node.mesh.faces, [[0, 1, 2]])
    assert scene.camera.position == (0.0, 1.6, 0.0)  # no camera: the default start pose


@pytest.mark.parametrize("content,match", [
    (b"glTF\x02\x00\x00\x00\x0c\x00\x00\x00", "no JSON chunk"),
    (b"{not json", "cannot read the glTF"),
    (b'{"nodes": []}', "no 'asset'"),
])
def test_bad_files(tmp_path, content, match):
    path = tmp_path / ("x.glb" if content.startswith(b"glTF") else "x.gltf")
    path.write_bytes(content)
    with pytest.raises(InputError, match=match):
        read_scene(path)


def test_bad_arguments_and_malformed(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_scene(tmp_path / "missing.glb")
    with pytest.raises(InputError, match="expected a .glb or .gltf"):
        read_scene(tmp_path / "x.obj")
    (tmp_path / "a.glb").write_bytes(b"")
    with pytest.raises(InputError, match="max_texture"):
        read_scene(tmp_path / "a.glb", ReadOptions(max_texture=0))
    doc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 5}]}
    with pytest.raises(InputError, match="malformed glTF"):
        read_scene(_write_gltf(tmp_path, doc))
    cyc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"children": [1]}, {"children": [0]}]}
    with pytest.raises(InputError, match="cycle"):
        read_scene(_write_gltf(tmp_path, cyc))


def test_a_repeating_texture_is_read_as_one_and_written_back_as_one(tmp_path, gltf_validator):
    """The ground's REPEAT sampler survives reading (Mesh.extras['wrap']), so previews tile
    it (instead of streaking its edge texels) and a re-saved file keeps tiling it."""
    from paint2vr.scene import Layer, Mesh, Node
    scene = painting_scene()
    pos = np.array([[-5, 0, -1], [5, 0, -1], [-5, 0, -11], [5, 0, -11]], np.float32)
    ground = Mesh(name="ground", positions=pos, faces=np.array([[0, 1, 2], [1, 3, 2]], np.uint32),
                  uvs=np.array([[0, 0], [4, 0], [0, 4], [4, 4]], np.float32),
                  texture=np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8),
                  extras={"wrap": "repeat"})
    scene.layers.append(Layer(name="ground", node=Node(name="ground", mesh=ground), depth_range=(1, 11)))
    first = save_scene(scene, tmp_path / "a.glb", ExportOptions(profile="desktop"))
    read = read_scene(first)
    wraps = {l.node.mesh.name: l.node.mesh.extras.get("wrap") for l in read.layers if l.node.mesh is not None}
    assert wraps.pop("ground") == "repeat" and set(wraps.values()) == {None}
    again = save_scene(read, tmp_path / "b.glb", ExportOptions(profile="desktop"))
    gltf_validator(again)
    doc = json.loads(_json_chunk(again))
    assert [(s["wrapS"], s["wrapT"]) for s in doc["samplers"]] == [(33071, 33071), (10497, 10497)]


def _json_chunk(path: Path) -> bytes:
    data = path.read_bytes()
    n = int.from_bytes(data[12:16], "little")
    return data[20:20 + n]


def test_walk_meshes_are_stored_not_instanced_and_read_back(tmp_path):
    import struct

    from paint2vr.export.gltf import glb_container
    from paint2vr.preview import navmesh_triangles
    from viewer_scenes import walkable_scene
    original = walkable_scene()
    path = save_scene(original, tmp_path / "walk.glb", ExportOptions(geometry_compression="none"))
    raw = path.read_bytes()
    n = struct.unpack("<I", raw[12:16])[0]
    data, blob = json.loads(raw[20:20 + n]), raw[20 + n + 8:]
    walk = [g for g in data["nodes"] if g.get("extras", {}).get("paint2vr_role") in ("navmesh", "collider")]
    assert len(walk) == 2 and all("mesh" not in g for g in walk)  # no client draws them
    assert {data["meshes"][g["extras"]["paint2vr_mesh"]]["name"] for g in walk} == {"paint2vr_navmesh", "paint2vr_collider"}
    nav = next(c.mesh for c in original.layers[0].node.children if c.extras.get("paint2vr_role") == "navmesh")
    scene = read_scene(path)
    assert len(navmesh_triangles(scene)) == len(nav.faces)  # the reader finds the stored mesh
    walk[0]["extras"]["paint2vr_mesh"] = 99
    bad = tmp_path / "bad.glb"
    bad.write_bytes(glb_container(data, blob))
    with pytest.raises(InputError, match="names mesh 99"):
        read_scene(bad)
