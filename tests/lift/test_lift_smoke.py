"""First smoke test of the lifting stage (deeper tests live in the other test_lift_* files)."""

import numpy as np

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.lift import lift
from paint2vr.painting import Painting


def test_lift_smoke_two_planes():
    rgb = np.zeros((60, 90, 3), np.uint8)
    rgb[:, :, 0] = np.arange(90, dtype=np.uint8)[None, :] * 2
    depth = np.full((60, 90), 20.0, np.float32)
    depth[20:50, 30:60] = 5.0
    dm = DepthMap(depth=depth, sky=np.zeros((60, 90), bool), metric=True, model=ModelInfo("t"))
    scene = lift(Painting.from_array(rgb), dm)
    kinds = [l.kind for l in scene.layers]
    assert kinds.count("layer") >= 2 and kinds[-1] == "sky"
    assert scene.layers[0].name == "layer0"
    m = scene.layers[0].node.mesh
    assert m.alpha_mode == "MASK" and m.texture.shape[2] == 4
