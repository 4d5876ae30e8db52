"""Sparse morph targets, meshes shared by several nodes, draw-call split, viewer radius,
texture samplers: written files checked against the Khronos validator and decoded back."""

import json

import numpy as np
import pytest

from paint2vr.errors import BudgetError, ExportError
from paint2vr.export import ExportOptions, check_budget, draw_call_split, export_bytes, export_record, save_scene
from paint2vr.export.fit import fit_scene
from paint2vr.export.gltf import SPARSE_OVERHEAD
from paint2vr.export.inspect import inspect_file
from paint2vr.export.profiles import PROFILES, Profile
from paint2vr.io.gltf_read import GltfFile, parse_gltf
from paint2vr.scene import Clip, Effect, Node, Track

from scene_factory import PLAIN, grid_mesh, grid_scene, quad, small_scene

CLAMP_TO_EDGE = 33071


def _glb_doc(data: bytes) -> tuple[dict, GltfFile]:
    """The JSON as written, and the project's reader over it (one reader for the tests too)."""
    doc = parse_gltf(data)
    return doc.raw, doc


def _decode_vec3(doc: dict, gltf: GltfFile, index: int) -> np.ndarray:
    """A VEC3 accessor decoded by the reader; sparse indices must ascend strictly."""
    sp = doc["accessors"][index].get("sparse")
    if sp:
        view = gltf.view(sp["indices"]["bufferView"])[0]
        itype = {5121: "<u1", 5123: "<u2", 5125: "<u4"}[sp["indices"]["componentType"]]
        idx = np.frombuffer(view, itype, sp["count"], sp["indices"].get("byteOffset", 0))
        assert (np.diff(idx.astype(np.int64)) > 0).all(), "sparse indices must ascend strictly"
    return gltf.accessor(index)


def _sway_targets(n: int, moved: np.ndarray, k: int) -> list[np.ndarray]:
    out = []
    for j in range(k):
        t = np.zeros((n, 3), np.float32)
        t[moved, 0] = np.sin(moved * 0.01 + j).astype(np.float32) * 0.1
        t[moved, 2] = -0.05 * (j + 1)
        out.append(t)
    return out


def _morph_scene():
    """layer0 (10,800 vertices): 3 sparse targets + one all-zero; layer1 (69,000 vertices,
    uint32 indices): 1 sparse target and 1 that moves nearly every vertex (dense)."""
    scene = grid_scene()
    near = scene.layers[0].node.mesh
    n0 = near.positions.shape[0]
    near.morph_targets = _sway_targets(n0, np.arange(100, n0, 37), 3) + [np.zeros((n0, 3), np.float32)]
    big = grid_mesh("layer1", 300, 230, 20.0, scene.layers[1].node.mesh.texture)
    n1 = big.positions.shape[0]
    dense = _sway_targets(n1, np.arange(n1), 1)[0]
    dense[::50] = 0
    big.morph_targets = _sway_targets(n1, np.arange(5, n1, 211), 1) + [dense]
    scene.layers[1].node.mesh = big
    clip = Clip("sway", [Track(scene.layers[0].node, "weights", np.array([0, 1, 2], np.float32),
                               np.array([[0, 0, 0, 0], [1, 0.5, 0, 0], [0, 0, 0, 0]], np.float32))])
    scene.effects.append(Effect("sway", clips=[clip]))
    return scene


def _shared_scene():
    """small_scene without its bird + a birds effect: 3 nodes sharing one textured mesh
    with a flap target, each animated."""
    scene = small_scene(with_effect=False)
    tex = np.full((8, 8, 3), 200, np.uint8)
    bird = quad("bird", 0.0, 0.3, tex)
    bird.morph_targets = [np.array([[0, 0.1, 0], [0, 0.1, 0], [0, 0, 0], [0, 0, 0]], np.float32)]
    nodes, tracks = [], []
    times = np.array([0, 1, 2], np.float32)
    for i in range(3):
        node = Node(f"bird{i}", mesh=bird, translation=(i - 1.0, 4.0, -10.0), weights=[0.25 * (i == 1)])
        nodes.append(node)
        tracks.append(Track(node, "weights", times, np.array([[0], [1], [0]], np.float32)))
    scene.effects.append(Effect("birds", nodes=nodes, clips=[Clip("birds", tracks)]))
    return scene


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Every file this module checks, validated in one validator run (it starts node)."""
    from p2v_testing import assert_valid_gltf
    folder = tmp_path_factory.mktemp("sparse")
    files = {
        "morph": save_scene(_morph_scene(), folder / "morph.glb", ExportOptions(**PLAIN)),
        "morph_dense": save_scene(_morph_scene(), folder / "morph_dense.glb",
                                  ExportOptions(sparse_morph_targets=False, **PLAIN)),
        "morph_points": save_scene(_morph_scene(), folder / "morph_points.glb", ExportOptions(profile="points")),
        "shared": save_scene(_shared_scene(), folder / "shared.glb"),
        "shared_gltf": save_scene(_shared_scene(), folder / "shared.gltf"),
    }
    assert_valid_gltf(*files.values(), allow_warnings=False)
    return files


def test_sparse_targets_decode_to_the_originals(written):
    scene = _morph_scene()
    doc, blob = _glb_doc(written["morph"].read_bytes())
    prims = {m["name"]: m["primitives"][0] for m in doc["meshes"]}
    for layer in scene.layers[:2]:
        mesh = layer.node.mesh
        targets = prims[mesh.name]["targets"]
        assert len(targets) == len(mesh.morph_targets)
        for t, want in zip(targets, mesh.morph_targets):
            acc = doc["accessors"][t["POSITION"]]
            np.testing.assert_array_equal(_decode_vec3(doc, blob, t["POSITION"]), want)
            # min/max of the whole decoded target (zeros included), exactly
            assert acc["min"] == [float(x) for x in want.min(0)] and acc["max"] == [float(x) for x in want.max(0)]


def test_sparse_chosen_only_when_smaller(written):
    doc, _ = _glb_doc(written["morph"].read_bytes())
    prims = {m["name"]: m["primitives"][0] for m in doc["meshes"]}
    acc = [doc["accessors"][t["POSITION"]] for t in prims["layer0"]["targets"]]
    assert all("sparse" in a and "bufferView" not in a for a in acc[:3])
    assert {a["sparse"]["indices"]["componentType"] for a in acc[:3]} == {5123}  # uint16: < 65,536 vertices
    assert "sparse" not in acc[3] and "bufferView" not in acc[3]  # all zeros: no data at all
    assert acc[3]["min"] == acc[3]["max"] == [0.0, 0.0, 0.0]
    big = [doc["accessors"][t["POSITION"]] for t in prims["layer1"]["targets"]]
    assert big[0]["sparse"]["indices"]["componentType"] == 5125  # uint32: 69,000 vertices
    assert "sparse" not in big[1] and "bufferView" in big[1]  # nearly all moved: dense is smaller
    for a in acc[:3] + big[:1]:  # sparse views are plain data, no vertex/index buffer target
        for part in ("indices", "values"):
            assert "target" not in doc["bufferViews"][a["sparse"][part]["bufferView"]]


def test_sparse_sizes_and_inspect(written):
    scene = _morph_scene()
    n0, n1 = (l.node.mesh.positions.shape[0] for l in scene.layers[:2])
    k0 = [int(np.any(t != 0, 1).sum()) for t in scene.layers[0].node.mesh.morph_targets[:3]]
    k1 = int(np.any(scene.layers[1].node.mesh.morph_targets[0] != 0, 1).sum())
    sparse_bytes = sum(k * 14 for k in k0) + k1 * 16 + n1 * 12
    dense_bytes = 4 * n0 * 12 + 2 * n1 * 12
    rep, rep_dense = inspect_file(written["morph"]), inspect_file(written["morph_dense"])
    assert (rep.morph_targets, rep.morph_bytes) == (6, sparse_bytes)
    assert (rep_dense.morph_targets, rep_dense.morph_bytes) == (6, dense_bytes)
    # the file shrinks by the data saved, give or take JSON and alignment
    saved = rep_dense.file_bytes - rep.file_bytes
    assert abs(saved - (dense_bytes - sparse_bytes)) < 6 * SPARSE_OVERHEAD
    assert f"  morph:       6 targets, {sparse_bytes / 2**20:.2f} MiB" in rep.format_report().splitlines()


def test_sparse_on_points_profile(written):
    doc, blob = _glb_doc(written["morph_points"].read_bytes())
    layer0 = next(m for m in doc["meshes"] if m["name"] == "layer0_points")["primitives"][0]
    assert layer0["mode"] == 0 and any("sparse" in doc["accessors"][t["POSITION"]] for t in layer0["targets"])


def test_sparse_bytes_deterministic():
    assert export_bytes(_morph_scene()) == export_bytes(_morph_scene())


def test_tiny_target_stays_dense():
    # 3 vertices, 1 moved: 14 bytes of sparse data, but the sparse JSON and view cost more
    doc, _ = _glb_doc(export_bytes(small_scene()))
    (t,) = next(m for m in doc["meshes"] if m["name"] == "bird")["primitives"][0]["targets"]
    assert "bufferView" in doc["accessors"][t["POSITION"]] and "sparse" not in doc["accessors"][t["POSITION"]]


@pytest.mark.parametrize("key", ["shared", "shared_gltf"])
def test_shared_mesh_written_once(written, key):
    path = written[key]
    doc = json.loads(path.read_bytes()) if key.endswith("gltf") else _glb_doc(path.read_bytes())[0]
    bird = [i for i, m in enumerate(doc["meshes"]) if m["name"] == "bird"]
    assert len(bird) == 1 and len(doc["meshes"]) == 3  # layer0, sky, one bird
    users = [n for n in doc["nodes"] if n.get("mesh") == bird[0]]
    assert [n["name"] for n in users] == ["bird0", "bird1", "bird2"]
    assert doc["meshes"][bird[0]]["weights"] == [0.0]
    assert [n.get("weights") for n in users] == [None, [0.25], None]  # zeros: the mesh's default
    assert all(n["extras"]["paint2vr"] == {"effect": "birds"} for n in users)
    assert len(doc["materials"]) == 3 and len(doc["textures"]) == 3 and len(doc["images"]) == 3
    channels = doc["animations"][0]["channels"]
    assert sorted(c["target"]["node"] for c in channels) == sorted(doc["nodes"].index(n) for n in users)
    rep = inspect_file(path)
    assert (rep.meshes, rep.draw_calls, rep.layer_draw_calls, rep.effect_draw_calls) == (3, 5, 2, 3)
    assert rep.triangles == 2 + 2 + 3 * 2  # each instance drawn
    assert "  draw calls:  5 (layers 2, effects 3)" in rep.format_report().splitlines()


def test_draw_call_split_and_budget(monkeypatch):
    scene = _shared_scene()
    assert draw_call_split(scene) == (2, 3)
    monkeypatch.setitem(PROFILES, "four", Profile("four", "mesh", 300_000, 4, 2048, 48.0))
    with pytest.raises(BudgetError, match=r"5 draw calls \(2 layers \+ 3 effects\) is over the four draw-call"):
        export_bytes(scene, ExportOptions(profile="four"))
    with pytest.raises(BudgetError, match=r"\(2 layers \+ 3 effects\)"):
        check_budget(scene, PROFILES["four"])
    # a layer node with children: children drawn as part of the layer
    scene.layers[0].node.children.append(Node("detail", mesh=quad("detail", 2.0, 0.5, None)))
    assert draw_call_split(scene, fit_scene(scene, PROFILES["quest"])) == (3, 3)


def test_quest_draw_calls_cover_layers_sky_and_effects():
    """The issue's rule: effects at default density add at most 32 draw calls; with the
    lift's default layers and the sky the quest budget must still hold them."""
    from paint2vr.lift import DEFAULT_LIFT_OPTIONS
    assert DEFAULT_LIFT_OPTIONS.max_layers + 1 + 32 <= PROFILES["quest"].max_draw_calls


def test_viewer_walkable_radius_in_record(tmp_path):
    scene = small_scene()
    scene.walkable_radius = 1.25
    scene.provenance["viewer"] = {"note": "kept"}
    record = export_record(scene)
    assert record["viewer"] == {"note": "kept", "walkable_radius": 1.25}
    out = save_scene(scene, tmp_path / "r.glb", ExportOptions(sidecar=True))
    assert inspect_file(out).provenance["viewer"]["walkable_radius"] == 1.25
    assert json.loads((tmp_path / "r.provenance.json").read_text())["viewer"]["walkable_radius"] == 1.25
    assert export_record(small_scene())["viewer"] == {"walkable_radius": 0.5}
    assert export_bytes(scene) == export_bytes(scene)


def test_samplers_clamp_to_edge(written):
    for key in ("morph", "shared"):
        doc, _ = _glb_doc(written[key].read_bytes())
        assert doc["samplers"] and all(s["wrapS"] == s["wrapT"] == CLAMP_TO_EDGE for s in doc["samplers"])
        assert all(t["sampler"] == 0 for t in doc["textures"])
        # every layer and sky texture goes through a clamping sampler
        layer_nodes = [n for n in doc["nodes"] if "layer" in (n.get("extras") or {}).get("paint2vr", {})]
        for n in layer_nodes:
            prim = doc["meshes"][n["mesh"]]["primitives"][0]
            tex = doc["materials"][prim["material"]]["pbrMetallicRoughness"]["baseColorTexture"]["index"]
            assert doc["samplers"][doc["textures"][tex]["sampler"]]["wrapS"] == CLAMP_TO_EDGE


def test_node_weights_written_and_checked():
    scene = small_scene()
    scene.effects[0].nodes[0].weights = [0.5]
    doc, _ = _glb_doc(export_bytes(scene))
    assert "weights" not in next(n for n in doc["nodes"] if n["name"] == "bird0")
    assert next(m for m in doc["meshes"] if m["name"] == "bird")["weights"] == [0.5]  # its only node's
    scene.effects[0].nodes[0].weights = [0.0, 1.0]
    with pytest.raises(ExportError, match="2 morph weights, its mesh 'bird' 1 morph targets"):
        export_bytes(scene)
