"""Previews that show the world: the walk clip (2 m in, then a half turn, the eye on the
navmesh), look-around sheets (10 views of one scene, a row per scene of a folder), the
renderer's pitch, and walk nodes never drawn."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from paint2vr.errors import InputError
from paint2vr.export import ExportOptions, save_scene
from paint2vr.preview import (LOOK_VIEWS, PreviewOptions, SheetOptions, ground_heights, look_around_sheet, preview,
                              preview_frames, read_scene, walk_poses)
from paint2vr.preview.walk import ground_heights_reference
from paint2vr.render import render_scene

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viewer"))
from viewer_scenes import ground_height, painting_rgb, painting_scene, walkable_scene  # noqa: E402

PLAIN = ExportOptions(texture_format="png-jpeg", geometry_compression="none")
"""The preview reader knows no EXT_meshopt_compression (the quest profile's default now)."""
TILE = 48
TH = 36  # 4:3 tiles
LABEL = 12


@pytest.fixture(scope="module")
def walk_glb(tmp_path_factory) -> Path:
    return save_scene(walkable_scene(), tmp_path_factory.mktemp("walk") / "walk.glb", PLAIN)


@pytest.fixture(scope="module")
def flat_glb(tmp_path_factory) -> Path:
    return save_scene(painting_scene(animated=False), tmp_path_factory.mktemp("flat") / "flat.glb", PLAIN)


def magenta(rgb: np.ndarray) -> int:
    return int(((rgb[..., 0] > 150) & (rgb[..., 2] > 150) & (rgb[..., 1] < 100)).sum())


# -- the walk ---------------------------------------------------------------------------------

def test_ground_heights_match_the_reference():
    rng = np.random.default_rng(3)
    tri = rng.uniform(-2, 2, (40, 3, 3))
    x, z = rng.uniform(-2.5, 2.5, 200), rng.uniform(-2.5, 2.5, 200)
    got, ref = ground_heights(tri, x, z), ground_heights_reference(tri, x, z)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[~np.isnan(got)], ref[~np.isnan(ref)], atol=1e-9)
    assert np.isnan(got).any() and (~np.isnan(got)).any()


def test_walk_goes_in_then_turns_round_on_the_ground(walk_glb):
    scene = read_scene(walk_glb)
    off, yaw = walk_poses(scene, 20, 2.0)
    walking = yaw == 0
    assert walking.sum() >= 10 and yaw[-1] == pytest.approx(180.0)
    assert (np.diff(off[:, 2]) <= 1e-12).all() and off[-1, 2] == pytest.approx(-2.0)
    assert (np.diff(yaw) >= 0).all() and (off[~walking, 2] == pytest.approx(-2.0))
    # The eye keeps its height above the navmesh: it climbs the rise past z = -0.5.
    np.testing.assert_allclose(off[:, 1], ground_height(off[:, 2]), atol=1e-6)
    assert off[-1, 1] == pytest.approx(0.225)


def test_walk_without_a_navmesh_stays_level(flat_glb):
    off, yaw = walk_poses(read_scene(flat_glb), 12, 2.0)
    assert not off[:, 1].any() and off[-1, 2] == pytest.approx(-2.0) and yaw[-1] == pytest.approx(180.0)
    with pytest.raises(InputError):
        walk_poses(read_scene(flat_glb), 0, 2.0)


def test_walk_frames_differ_along_the_walk_and_hide_walk_nodes(walk_glb):
    scene = read_scene(walk_glb)
    frames = list(preview_frames(scene, PreviewOptions(width=64, fps=6, duration=2.0, motion="walk")))
    assert len(frames) == 12
    f = np.stack(frames).astype(np.int16)
    step = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3))
    assert (step[:6] > 0.05).all(), step  # walking in: every frame moves the view
    assert np.abs(f[0] - f[6]).mean() > 2 * step[0]  # 2 m in: the painting grew
    assert np.abs(f[0] - f[-1]).mean() > 20  # turned round: another view entirely
    assert all(magenta(fr) == 0 for fr in frames)  # the magenta navmesh and wall are not drawn
    # ... though the wall stands right behind the start: looking back from there would show it.
    assert magenta(render_scene(walkable_scene(), width=64, yaw_deg=180.0, pitch_deg=-30.0)[0]) == 0


def test_walk_clip_file(flat_glb, tmp_path):
    out = preview(flat_glb, tmp_path / "walk.gif", PreviewOptions(width=48, fps=4, duration=2.0, motion="walk"))
    frames = iio.imread(out, index=None)
    assert frames.shape[0] >= 5  # 8 frames; the GIF writer merges the identical last ones (all behind)
    assert np.abs(frames[0].astype(int) - frames[3].astype(int)).mean() > 1


def test_renderer_pitch_looks_up_and_down():
    scene = painting_scene(animated=False)
    _, level = render_scene(scene, width=64)
    _, up = render_scene(scene, width=64, pitch_deg=30.0)
    _, down = render_scene(scene, width=64, pitch_deg=-30.0)
    _, overhead = render_scene(scene, width=64, pitch_deg=80.0)
    assert level.mean() > 0.9  # the painting fills the view
    assert 0.1 < up.mean() < 0.8 and 0.1 < down.mean() < 0.8  # tilted: partly past it
    assert not overhead.any()
    assert up[-1].mean() > up[0].mean()  # looking up, the painting is at the bottom
    assert down[0].mean() > down[-1].mean()


# -- look-around sheets -----------------------------------------------------------------------

def tiles_of(sheet: np.ndarray, rows: int, cols: int, top: int = 0) -> list[np.ndarray]:
    out = []
    for r in range(rows):
        for c in range(cols):
            y = top + r * (TH + LABEL)
            out.append(sheet[y:y + TH, c * TILE:(c + 1) * TILE])
    return out


def test_look_around_sheet_has_ten_labelled_tiles(flat_glb, tmp_path):
    res = look_around_sheet(flat_glb, tmp_path / "look.png", SheetOptions(tile_width=TILE, label_height=LABEL))
    assert res.count == 1 and not res.failures
    sheet = np.asarray(Image.open(res.path).convert("RGB"))
    assert sheet.shape == (2 * (TH + LABEL), 5 * TILE, 3)
    assert len(LOOK_VIEWS) == 10
    tiles = tiles_of(sheet, 2, 5)
    assert len(tiles) == 10
    # Heading 0 shows the painting; behind it (135-225 degrees) and straight up nothing is drawn.
    p = painting_rgb().astype(float)
    assert np.abs(tiles[0].reshape(-1, 3).mean(0) - p.reshape(-1, 3).mean(0)).max() < 25
    for i in (3, 4, 5, 9):
        assert tiles[i].max() == 0, LOOK_VIEWS[i][0]
    # The labels are drawn under each tile.
    strip = sheet[TH:TH + LABEL, :TILE]
    assert strip.max() > 150


def test_look_around_of_a_folder_one_row_per_scene(flat_glb, walk_glb, tmp_path):
    folder = tmp_path / "scenes"
    folder.mkdir()
    (folder / "a.glb").write_bytes(flat_glb.read_bytes())
    (folder / "b.glb").write_bytes(walk_glb.read_bytes())
    (folder / "c.glb").write_bytes(b"not a scene")
    res = look_around_sheet(folder, tmp_path / "all.png", SheetOptions(tile_width=TILE, label_height=LABEL))
    assert res.count == 3 and [p.name for p, _ in res.failures] == ["c.glb"]
    sheet = np.asarray(Image.open(res.path).convert("RGB"))
    row_h = LABEL + TH + LABEL
    assert sheet.shape == (3 * row_h, 10 * TILE, 3)
    a = tiles_of(sheet, 1, 10, top=LABEL)
    c = tiles_of(sheet, 1, 10, top=2 * row_h + LABEL)
    assert a[0].std() > 5 and a[4].max() == 0
    assert all((t == 96).all() for t in c)  # the unreadable scene: a grey row
    assert magenta(sheet) == 0


def test_look_around_errors(flat_glb, tmp_path):
    with pytest.raises(InputError, match="image"):
        look_around_sheet(flat_glb, tmp_path / "x.gif")
    with pytest.raises(InputError):
        look_around_sheet(tmp_path / "missing.glb", tmp_path / "x.png")
    with pytest.raises(InputError, match="walk_distance"):
        look_around_sheet(flat_glb, tmp_path / "x.png", preview=PreviewOptions(walk_distance=-1.0))


def test_cli_walk_and_look_around(flat_glb, tmp_path, capsys):
    from paint2vr.cli import preview_cmd
    parser = argparse.ArgumentParser()
    preview_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["preview", str(flat_glb), "--look-around", "-o", str(tmp_path / "s.png"),
                              "--tile-width", str(TILE), "--label-height", str(LABEL), "-q"])
    assert args.look_around is True and args.run(args) == 0
    assert Image.open(tmp_path / "s.png").size == (5 * TILE, 2 * (TH + LABEL))
    args = parser.parse_args(["preview", str(flat_glb.parent), "--look-around", "-o", str(tmp_path / "f.png"),
                              "--tile-width", str(TILE), "--label-height", str(LABEL), "-q"])
    assert args.run(args) == 0 and Image.open(tmp_path / "f.png").size == (10 * TILE, LABEL + TH + LABEL)
    args = parser.parse_args(["preview", str(flat_glb), "--motion", "walk", "--walk-distance", "1.5", "-o",
                              str(tmp_path / "w.gif"), "--width", "32", "--fps", "2", "--duration", "2", "-q"])
    assert (args.motion, args.walk_distance) == ("walk", 1.5) and args.run(args) == 0
    assert iio.imread(tmp_path / "w.gif", index=None).shape[0] >= 3
    assert "1 scenes  0 failed" in capsys.readouterr().out


# -- near-plane clipping ------------------------------------------------------------------

def test_clip_near_matches_the_polygon_reference():
    from paint2vr.render.clip import clip_near, clip_near_reference
    rng = np.random.default_rng(5)
    rel = rng.uniform(-3, 3, (60, 3))
    faces = rng.integers(0, 60, (80, 3))
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    uv = rng.uniform(0, 1, (60, 2)).astype(np.float32)
    pos, out, (uv2, none) = clip_near(rel, faces, [uv, None], 0.02)
    assert none is None and uv2.shape == (len(pos), 2) and (-pos[out, 2] >= 0.02 - 1e-9).all()
    ref = clip_near_reference(rel, faces, 0.02)
    # Same area in front, face by face summed (winding kept: signed areas in the view's xy).
    def area(tri):
        u, v = tri[:, 1, :2] - tri[:, 0, :2], tri[:, 2, :2] - tri[:, 0, :2]
        return 0.5 * (u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0])
    got = area(pos[out]).sum()
    want = sum(area(np.stack([p[[0, i, i + 1]] for i in range(1, len(p) - 1)])).sum() for p in ref)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    # Interpolated uvs lie on the cut edges: within the range of the original corners.
    assert (uv2 >= -1e-6).all() and (uv2 <= 1 + 1e-6).all()


def big_ground_scene(rows: int) -> object:
    """painting_scene plus a ground square 60 m across under the eye, in rows x rows cells."""
    from viewer_scenes import grid_mesh

    from paint2vr.scene import Layer, Node
    scene = painting_scene(animated=False)
    xs = np.linspace(-30, 30, rows + 1)
    mesh = grid_mesh("ground", xs, xs, np.zeros((rows + 1, rows + 1)))
    mesh.colors[:] = (0.2, 0.6, 0.2, 1.0)
    scene.layers.insert(0, Layer("ground", Node("ground", mesh), (0.0, 30.0)))
    return scene


def test_big_triangles_under_the_eye_are_clipped_not_dropped():
    coarse, fine = big_ground_scene(1), big_ground_scene(120)  # 2 triangles vs 28800
    for yaw, pitch in ((90.0, -60.0), (180.0, 0.0), (0.0, -60.0)):
        a, ca = render_scene(coarse, width=64, yaw_deg=yaw, pitch_deg=pitch)
        b, cb = render_scene(fine, width=64, yaw_deg=yaw, pitch_deg=pitch)
        assert ca.mean() == pytest.approx(cb.mean(), abs=0.02)  # the same ground drawn
        assert ca[-1].all()  # the view's bottom row: ground, no hole
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 3
