"""Bad output targets (issue 19, item 17): a directory named x.glb, an immutable file, a name
too long for its temporary. Each: one line, refused before the work, nothing partial left."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from paint2vr.cli.main import main
from paint2vr.errors import ExportError
from paint2vr.export import save_scene

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "viewer"))
from viewer_scenes import painting_scene  # noqa: E402


@pytest.fixture
def painting(tmp_path) -> Path:
    p = tmp_path / "p.png"
    Image.new("RGB", (64, 48), (120, 140, 160)).save(p)
    return p


def _immutable(path: Path) -> Path:
    path.write_bytes(b"old")
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)],
                                                          capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    return path


def _targets(tmp_path: Path, kind: str) -> Path:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    if kind == "directory":
        (out / "x.glb").mkdir()
        return out / "x.glb"
    if kind == "long name":
        return out / ("n" * 296 + ".glb")
    if kind == "long for its temporary":
        return out / ("n" * 246 + ".glb")  # 250 bytes: fits, but '.<name>.XXXXXXXX.part' does not
    return _immutable(out / "locked.glb")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize("kind", ["directory", "long name", "long for its temporary", "immutable"])
def test_cli_convert_refuses_bad_targets_in_one_line(tmp_path, painting, capsys, kind):
    target = _targets(tmp_path, kind)
    try:
        code = main(["convert", str(painting), "-o", str(target)])
        err = capsys.readouterr().err
        assert code == ExportError.exit_code, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert _leftovers(target.parent) == []
        if kind == "immutable":
            assert target.read_bytes() == b"old"
    finally:
        if kind == "immutable":
            subprocess.run(["chattr", "-i", str(target)], capture_output=True)


@pytest.mark.parametrize("kind", ["directory", "long name", "immutable"])
def test_save_scene_raises_export_error_and_leaves_nothing(tmp_path, kind):
    target = _targets(tmp_path, kind)
    try:
        with pytest.raises(ExportError) as info:
            save_scene(painting_scene(), target)
        assert "\n" not in str(info.value)
        assert _leftovers(target.parent) == []
    finally:
        if kind == "immutable":
            subprocess.run(["chattr", "-i", str(target)], capture_output=True)
