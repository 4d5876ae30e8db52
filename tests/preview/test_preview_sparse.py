"""The preview reader decodes sparse morph targets (the exporter writes sway's that way)."""

import numpy as np

from paint2vr.export import save_scene
from paint2vr.preview import read_scene
from paint2vr.scene import Layer, Mesh, Node, Scene, camera_for_image
from paint2vr.painting import PaintingInfo


def test_sparse_morph_targets_round_trip(tmp_path):
    n = 400
    pos = np.zeros((n, 3), np.float32)
    pos[:, 0] = np.arange(n) / n
    pos[:, 2] = -5
    faces = np.stack([np.arange(n - 2), np.arange(1, n - 1), np.arange(2, n)], 1).astype(np.uint32)
    target = np.zeros((n, 3), np.float32)
    target[[3, 50, 399]] = [[0, 1, 0], [0.5, 0, 0], [0, 0, -2]]
    mesh = Mesh("m", pos, faces, colors=np.ones((n, 4), np.float32), morph_targets=[target])
    scene = Scene(info=PaintingInfo(id="s"), camera=camera_for_image(64, 48))
    scene.layers.append(Layer("layer0", Node("layer0", mesh=mesh, weights=[0.25]), (5, 5)))
    path = save_scene(scene, tmp_path / "s.glb")
    doc_json = path.read_bytes()
    assert b'"sparse"' in doc_json
    back = read_scene(path)
    meshes = back.meshes()
    assert len(meshes) == 1
    np.testing.assert_array_equal(meshes[0].morph_targets[0], target)
