"""Preview clips, stills and contact sheets, and the preview command."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from paint2vr.errors import ExportError, InputError
from paint2vr.export import save_scene
from paint2vr.preview import (PreviewOptions, ReadOptions, SheetOptions, camera_path, contact_sheet, find_scenes, frame_count,
                              preview, preview_frames, read_scene, still_frame, write_clip)
from paint2vr.render import render_scene

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viewer"))
from viewer_scenes import painting_rgb, painting_scene  # noqa: E402

SMALL = PreviewOptions(width=48, fps=4, duration=1.0)


@pytest.fixture(scope="module")
def glb(tmp_path_factory) -> Path:
    return save_scene(painting_scene(), tmp_path_factory.mktemp("prev") / "scene.glb")


# -- camera path -----------------------------------------------------------------------------

def test_camera_path_exact_values_and_bounds():
    r = 0.5
    np.testing.assert_allclose(camera_path(4, r, "dolly"),
                               [[0, 0, 0], [0.4, 0, -0.3], [0, 0, 0], [-0.4, 0, -0.3]], atol=1e-12)
    np.testing.assert_allclose(camera_path(4, r, "circle"),
                               [[0, 0, 0], [0.25, 0, -0.25], [0, 0, -0.5], [-0.25, 0, -0.25]], atol=1e-12)
    assert not camera_path(5, r, "still").any()
    for motion in ("dolly", "circle"):
        path = camera_path(97, r, motion)
        assert path.shape == (97, 3) and not path[:, 1].any()
        assert np.linalg.norm(path, axis=1).max() <= r + 1e-12  # inside the walkable zone
        assert (path[:, 2] <= 1e-12).all()  # never backs out of the painting's frame


def test_camera_path_bad_input():
    with pytest.raises(InputError, match="at least 1 frame"):
        camera_path(0, 0.5)
    with pytest.raises(InputError, match="radius"):
        camera_path(3, float("nan"))
    with pytest.raises(InputError, match="unknown camera motion"):
        camera_path(3, 0.5, "zoom")


@pytest.mark.parametrize("field,value", [("width", 4), ("fps", 0), ("duration", 0.0), ("motion", "zoom"),
                                         ("amplitude", 1.5), ("start_time", float("inf"))])
def test_bad_preview_options(field, value):
    import dataclasses
    with pytest.raises(InputError, match=field):
        list(preview_frames(painting_scene(), dataclasses.replace(SMALL, **{field: value})))


# -- frames ----------------------------------------------------------------------------------

def test_frames_follow_the_camera_path_and_the_clock():
    scene = painting_scene()
    calls = []
    frames = list(preview_frames(scene, SMALL, progress=lambda d, t: calls.append((d, t))))
    assert len(frames) == frame_count(SMALL) == 4 and calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert frames[0].shape == (36, 48, 3) and frames[0].dtype == np.uint8
    path = camera_path(4, scene.walkable_radius * SMALL.amplitude, "dolly")
    for i in (0, 1, 3):
        expected, _ = render_scene(scene, width=48, eye_offset=tuple(path[i]), time=i / 4)
        np.testing.assert_array_equal(frames[i], expected)
    assert all(np.abs(a.astype(int) - b).max() > 30 for a, b in zip(frames, frames[1:]))


def test_still_camera_only_the_animation_moves():
    scene = painting_scene()
    frames = list(preview_frames(scene, PreviewOptions(width=48, fps=4, duration=1.0, motion="still")))
    changed = np.abs(frames[0].astype(int) - frames[2]).max(axis=2) > 40
    assert 0 < changed.sum() < 0.05 * changed.size  # only the bird's pixels
    assert still_frame(scene, SMALL).shape == (36, 48, 3)


# -- files -----------------------------------------------------------------------------------

def test_png_preview(glb, tmp_path):
    out = preview(glb, tmp_path / "p.png", SMALL)
    img = np.asarray(Image.open(out))
    assert img.shape == (36, 48, 3)
    np.testing.assert_array_equal(img, still_frame(read_scene(glb, ReadOptions(max_texture=256)), SMALL))
    assert np.abs(img.reshape(-1, 3).mean(0) - painting_rgb().reshape(-1, 3).mean(0)).max() < 15


def test_gif_preview(glb, tmp_path):
    out = preview(glb, tmp_path / "p.gif", SMALL)
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.info["loop"] == 0 and im.info["duration"] == 250
    frames = iio.imread(out)
    first = list(preview_frames(read_scene(glb), SMALL))[0]
    assert np.abs(frames[0][..., :3].astype(int) - first).mean() < 6  # palette error only


def test_mp4_preview(glb, tmp_path):
    opts = PreviewOptions(width=50, fps=8, duration=1.0)
    out = preview(glb, tmp_path / "p.mp4", opts)
    frames = iio.imread(out)
    assert frames.shape[0] == 8 and frames.shape[1:3] == (38, 50)  # 50x37.5 -> even 50x38 (h rounded)
    ref = list(preview_frames(read_scene(glb), opts))
    assert np.abs(frames[0].astype(int) - ref[0][:38, :50]).mean() < 8
    assert not list(tmp_path.glob(".*part*"))  # temporary file renamed


def test_output_errors(glb, tmp_path):
    with pytest.raises(InputError, match="unsupported preview type"):
        preview(glb, tmp_path / "p.avi", SMALL)
    with pytest.raises(ExportError, match="does not exist"):
        preview(glb, tmp_path / "nope" / "p.gif", SMALL)
    with pytest.raises(InputError, match="uint8"):
        write_clip([np.zeros((4, 4), np.uint8)], tmp_path / "x.gif", 4)
    with pytest.raises(InputError, match="no frames"):
        write_clip([], tmp_path / "x.mp4", 4)
    assert not (tmp_path / "x.mp4").exists() and not list(tmp_path.glob(".*part*"))


# -- contact sheets --------------------------------------------------------------------------

def test_contact_sheet_layout_labels_and_failures(tmp_path):
    src = tmp_path / "scenes"
    (src / "b").mkdir(parents=True)
    (src / "a").mkdir()
    save_scene(painting_scene(sid="zeta"), src / "b" / "one.glb")
    save_scene(painting_scene(sid="alpha", animated=False), src / "a" / "two.glb")
    (src / "a" / "broken.glb").write_bytes(b"glTF nonsense")
    (src / "notes.txt").write_text("not a scene")
    assert [p.relative_to(src).as_posix() for p in find_scenes(src)] == ["a/broken.glb", "a/two.glb", "b/one.glb"]
    calls = []
    opts = SheetOptions(tile_width=64, columns=2, label_height=16)
    result = contact_sheet(src, tmp_path / "sheet.png", opts, progress=lambda d, t, p: calls.append((d, t, p.name)))
    assert calls == [(1, 3, "broken.glb"), (2, 3, "two.glb"), (3, 3, "one.glb")]
    assert result.count == 3 and [p.name for p, _ in result.failures] == ["broken.glb"]
    sheet = np.asarray(Image.open(result.path))
    assert sheet.shape == (2 * (48 + 16), 2 * 64, 3)
    broken, good = sheet[:48, :64], sheet[:48, 64:]
    assert (broken == 96).all()
    assert np.abs(good.reshape(-1, 3).mean(0) - painting_rgb().reshape(-1, 3).mean(0)).max() < 15
    label = sheet[48:64, 64:128]
    assert (label.max(axis=2) > 150).sum() > 10  # the id is written
    assert (sheet[64:112, 64:] == 32).all()  # the empty cell stays background


def test_contact_sheet_of_hundreds(tmp_path):
    src = tmp_path / "many"
    src.mkdir()
    first = save_scene(painting_scene(animated=False), src / "s000.glb")
    for i in range(1, 150):
        shutil.copyfile(first, src / f"s{i:03d}.glb")
    result = contact_sheet(src, tmp_path / "many.jpg", SheetOptions(tile_width=16, columns=15, label_height=8))
    assert result.count == 150 and not result.failures
    assert Image.open(result.path).size == (15 * 16, 10 * (12 + 8))


def test_contact_sheet_errors(tmp_path, glb):
    with pytest.raises(InputError, match="not a folder"):
        contact_sheet(tmp_path / "missing", tmp_path / "s.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no files matching"):
        contact_sheet(tmp_path / "empty", tmp_path / "s.png")
    with pytest.raises(InputError, match="contact sheet is an image"):
        contact_sheet(glb.parent, tmp_path / "s.gif")
    with pytest.raises(InputError, match="max_tiles"):
        contact_sheet(glb.parent, tmp_path / "s.png", SheetOptions(max_tiles=0))
    with pytest.raises(InputError, match="tile_width"):
        contact_sheet(glb.parent, tmp_path / "s.png", SheetOptions(tile_width=2))


# -- command line ----------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    from paint2vr.cli import preview_cmd
    parser = argparse.ArgumentParser()
    preview_cmd.register(parser.add_subparsers())
    return parser


def test_cli_preview_file_and_folder(glb, tmp_path, capsys):
    parser = _parser()
    args = parser.parse_args(["preview", str(glb), "-o", str(tmp_path / "c.gif"), "--width", "32", "--fps", "2",
                              "--duration", "1", "--motion", "circle", "-q"])
    assert (args.width, args.fps, args.duration, args.motion) == (32, 2, 1.0, "circle")
    assert args.run(args) == 0 and (tmp_path / "c.gif").exists()
    assert "c.gif" in capsys.readouterr().out
    args = parser.parse_args(["preview", str(glb.parent), "-o", str(tmp_path / "s.png"), "--tile-width", "32"])
    assert args.run(args) == 0
    captured = capsys.readouterr()
    assert "1 scenes  0 failed" in captured.out and "1/1" in captured.err
    assert Image.open(tmp_path / "s.png").size == (32, 24 + 18)
