"""The one PLY layout (paint2vr.io.ply): what paint2vr writes opens in open3d, plyfile and
trimesh, with the provenance record intact however long it is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paint2vr.errors import InputError
from paint2vr.export import ExportOptions, save_scene
from paint2vr.io.ply import MAX_LINE, encode_ply, ply_layers, ply_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))
from scene_factory import grid_scene  # noqa: E402


def _long_record_scene():
    scene = grid_scene(nx=10, ny=8)
    # a provenance record like a real convert's (1.5 KB+), with spaces and non-ASCII text
    scene.provenance.update({"note": "Breezing Up (A Fair Wind), Winslow Homer — " * 40,
                             "lift": {f"option_{i}": i * 0.5 for i in range(60)}})
    return scene


@pytest.fixture(scope="module")
def ply(tmp_path_factory):
    out = save_scene(_long_record_scene(), tmp_path_factory.mktemp("ply") / "s.ply", ExportOptions(sidecar=True))
    return out


def test_header_lines_are_short_and_the_record_round_trips(ply):
    head = ply.read_bytes().split(b"end_header\n", 1)[0].decode("ascii").splitlines()
    assert max(map(len, head)) <= MAX_LINE
    comments = [l[len("comment "):] for l in head if l.startswith("comment ")]
    record = ply_record(comments)
    sidecar = json.loads((ply.parent / "s.provenance.json").read_text())
    assert record == sidecar and record["note"].startswith("Breezing Up (A Fair Wind), Winslow Homer —")
    assert len(json.dumps(record)) > 3000 and ply_layers(comments) == ["layer0", "layer1", "sky"]


def test_open3d_reads_it(ply):
    # in a child process: on a 1 KiB+ header line open3d aborts the whole process
    # ("RPly: Line too long", "buffer overflow detected"), as it did on paint2vr's PLY before
    code = ("import open3d as o3d, sys; pc = o3d.io.read_point_cloud(sys.argv[1], format='ply'); "
            "print(len(pc.points), pc.has_colors())")
    run = subprocess.run([sys.executable, "-c", code, str(ply)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.split() == ["158", "True"]


def test_plyfile_reads_it(ply):
    import plyfile
    data = plyfile.PlyData.read(str(ply))
    v = data["vertex"]
    assert v.count == 158
    assert [p.name for p in v.properties] == ["x", "y", "z", "red", "green", "blue", "alpha", "layer"]
    assert np.bincount(v["layer"]).tolist() == [74, 80, 4]
    assert ply_record(data.comments)["lift"]["option_3"] == 1.5


def test_trimesh_reads_it(ply):
    import trimesh
    cloud = trimesh.load(ply)
    assert len(cloud.vertices) == 158 and cloud.colors.shape == (158, 4)


def test_lift_points_write_the_same_layout_with_normals(tmp_path):
    import open3d as o3d
    import plyfile
    from paint2vr.lift.points import write_ply
    from paint2vr.scene import Mesh
    rng = np.random.default_rng(0)
    pts = Mesh(name="cloud", positions=rng.normal(size=(50, 3)).astype(np.float32), faces=None,
               colors=np.full((50, 4), 0.5, np.float32), normals=np.tile(np.float32([0, 0, 1]), (50, 1)))
    out = write_ply(pts, tmp_path / "c.ply")
    data = plyfile.PlyData.read(str(out))
    assert [p.name for p in data["vertex"].properties][:6] == ["x", "y", "z", "nx", "ny", "nz"]
    pc = o3d.io.read_point_cloud(str(out))
    assert len(pc.points) == 50 and pc.has_normals()
    assert data["vertex"]["red"][0] == round(255 * (1.055 * 0.5 ** (1 / 2.4) - 0.055))  # linear -> sRGB


def test_bad_inputs_and_broken_records():
    with pytest.raises(InputError, match=r"\(N, 3\)"):
        encode_ply(np.zeros((3, 2)), np.zeros((3, 4), np.uint8))
    with pytest.raises(InputError, match="uint8"):
        encode_ply(np.zeros((3, 3)), np.zeros((3, 4)))
    assert ply_record(["layers a b"]) is None
    with pytest.raises(InputError, match="chunks"):
        ply_record(["paint2vr_record 2/2 {}"])
