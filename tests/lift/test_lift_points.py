"""Layered point clouds and PLY output."""

import numpy as np
import pytest

from paint2vr.depth.base import DepthMap, ModelInfo
from paint2vr.errors import InputError
from paint2vr.lift import lift
from paint2vr.lift.points import PointsOptions, add_layer_points, layer_points, write_ply
from paint2vr.painting import Painting


@pytest.fixture(scope="module")
def scene():
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[...] = (255, 0, 0)
    rgb[12:36, 20:44] = (0, 0, 255)
    depth = np.full((48, 64), 10.0, np.float32)
    depth[12:36, 20:44] = 4.0
    dm = DepthMap(depth=depth, sky=np.zeros((48, 64), bool), metric=True, model=ModelInfo("t"))
    return lift(Painting.from_array(rgb), dm)


def test_layer_points_colours_normals(scene):
    pts = layer_points(scene.layers[0], scene.camera.position)
    assert pts.is_points and len(pts.positions) > 50
    assert pts.colors.shape == (len(pts.positions), 4) and pts.colors.dtype == np.float32
    # The near layer is the blue square: linear blue, no red.
    assert np.median(pts.colors[:, 2]) > 0.9 and np.median(pts.colors[:, 0]) < 0.1
    z = -pts.positions[:, 2]
    assert np.allclose(np.median(z), 4.0, rtol=0.05)
    # Normals face the eye (which is at z = 0, in front of the points).
    assert (pts.normals[:, 2] > 0).mean() > 0.9


def test_voxel_downsampling_reduces_and_is_deterministic(scene):
    a = layer_points(scene.layers[1], scene.camera.position, PointsOptions(voxel=0.0, outlier_neighbours=0))
    b = layer_points(scene.layers[1], scene.camera.position, PointsOptions(voxel=0.05))
    c = layer_points(scene.layers[1], scene.camera.position, PointsOptions(voxel=0.05))
    assert len(b.positions) < len(a.positions)
    np.testing.assert_array_equal(b.positions, c.positions)


def test_write_ply_roundtrip(scene, tmp_path):
    import open3d as o3d
    add_layer_points(scene)
    assert all(l.points is not None for l in scene.layers if l.kind == "layer")
    out = write_ply(scene, tmp_path / "s.ply")
    pc = o3d.io.read_point_cloud(str(out))
    n = sum(len(l.points.positions) for l in scene.layers if l.points is not None)
    assert len(pc.points) == n and pc.has_colors()


def test_write_ply_bad_input(tmp_path):
    with pytest.raises(InputError):
        write_ply("nope", tmp_path / "x.ply")
