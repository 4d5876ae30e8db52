"""What the CLI prints: convert's summary line matches the file it wrote; a closed pipe is not an error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paint2vr.cli.main import main
from paint2vr.export.inspect import inspect_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def painting(tmp_path_factory):
    rng = np.random.default_rng(0)
    v = np.linspace(0, 1, 72)[:, None, None]
    img = np.clip(np.array([90, 130, 200]) * (1 - v) + np.array([170, 130, 60]) * v + rng.normal(0, 12, (72, 96, 3)),
                  0, 255).astype(np.uint8)
    path = tmp_path_factory.mktemp("cli") / "painting.png"
    Image.fromarray(img).save(path)
    return path


def _convert(painting: Path, out: Path, capsys, *extra: str) -> str:
    assert main(["convert", str(painting), "-o", str(out), *extra]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(str(out))
    return line


def _mib(line: str) -> float:
    return float(re.search(r"  ([0-9.]+) MiB", line).group(1))


def test_gltf_summary_counts_every_file_and_layers_like_the_log(painting, tmp_path, capsys, caplog):
    caplog.set_level("INFO")
    line = _convert(painting, tmp_path / "s.gltf", capsys)
    on_disk = sum(p.stat().st_size for p in tmp_path.iterdir())
    assert _mib(line) == pytest.approx(on_disk / 2**20, abs=0.006)  # was the JSON alone
    rep = inspect_file(tmp_path / "s.gltf")
    assert f"  {rep.triangles:,} triangles  " in line
    logged = int(re.search(r"into (\d+) layers", caplog.text).group(1))
    assert f"  {logged} layers + sky  " in line and len(rep.layers) > logged  # + sky and the world's layers


def test_ply_and_points_summaries_name_points_not_triangles(painting, tmp_path, capsys):
    line = _convert(painting, tmp_path / "s.ply", capsys)
    head = (tmp_path / "s.ply").read_bytes().split(b"end_header", 1)[0].decode()
    n = int(re.search(r"element vertex (\d+)", head).group(1))
    assert f"  {n:,} points  " in line and "triangles" not in line
    line = _convert(painting, tmp_path / "p.glb", capsys, "--profile", "points")
    rep = inspect_file(tmp_path / "p.glb")
    assert rep.points and f"  {rep.points:,} points  " in line
    assert f"{rep.triangles:,} triangles" in line if rep.triangles else "triangles" not in line
    line = _convert(painting, tmp_path / "q.glb", capsys, "--profile", "splat")
    assert f"  {inspect_file(tmp_path / 'q.glb').points:,} splats  " in line


def test_inspect_into_a_closed_pipe_is_quiet():
    r, w = os.pipe()
    os.close(r)  # the reader ('| head') has gone before paint2vr writes
    try:
        run = subprocess.run([sys.executable, "-m", "paint2vr.cli.main", "inspect", str(FIXTURES / "source.glb")],
                             stdout=w, stderr=subprocess.PIPE, text=True, timeout=120,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(w)
    assert "BrokenPipeError" not in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 141


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_progress_in_logs_is_plain_periodic_lines():
    import io
    from paint2vr.cli.progress import ProgressDisplay
    out, clock = io.StringIO(), _Clock()
    with ProgressDisplay("batch", 30, unit="painting", stream=out, interval=10.0, clock=clock) as d:
        for i in range(1, 31):
            clock.t = float(i)
            d.update(i, done=i, failed=0)
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert [l.split(": ")[2].split()[0] for l in lines] == ["1/30", "11/30", "21/30", "30/30"]
    assert lines[-1].startswith("paint2vr: batch: 30/30 paintings (done 30, failed 0)")


class _Tty(__import__("io").StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_in_a_terminal_shows_its_counters_and_logs_above_it(monkeypatch):
    import logging
    from paint2vr.cli.progress import ProgressDisplay
    tty = _Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    handler = logging.StreamHandler(sys.stderr)
    logging.getLogger().addHandler(handler)
    try:
        with ProgressDisplay("batch", 5, unit="painting") as d:
            for i in range(1, 6):
                if i == 3:
                    logging.getLogger("paint2vr.batch.runner").warning("item c (line 4) failed: boom")
                d.update(i, done=i - 1, skipped=0, failed=1 if i >= 3 else 0)
    finally:
        logging.getLogger().removeHandler(handler)
    screens = tty.getvalue().replace("\r", "\n").splitlines()
    assert "item c (line 4) failed: boom" in screens  # a line of its own, not inside the bar
    last = [s for s in screens if "5/5" in s][-1]
    assert "done=4" in last and "failed=1" in last  # 4 + 0 + 1 = 5: the counters of that redraw


def test_batch_in_a_log_prints_progress_and_each_failure_once(painting, tmp_path):
    manifest = tmp_path / "m.csv"
    (tmp_path / "notes.png").write_text("not an image, a text file\n")
    manifest.write_text("id,path,license,attribution\n"
                        f"good,{painting},CC0,me\n"
                        f"bad,{tmp_path / 'notes.png'},CC0,me\n")
    run = subprocess.run([sys.executable, "-m", "paint2vr.cli.main", "batch", str(manifest), "--out",
                          str(tmp_path / "out"), "--inline"], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    both = run.stdout + run.stderr
    assert run.returncode == 1, both
    assert "\r" not in run.stderr
    assert "paint2vr: batch: 2/2 paintings (done 1, skipped 0, failed 1)" in run.stderr  # was silent until the end
    assert both.count("is a text file, not an image") == 1, both  # was printed twice
