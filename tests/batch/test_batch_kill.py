"""Reliability: kill -9 a running batch at random moments, resume, and check nothing is
lost, doubled or corrupt."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from batch_fakes import make_items, write_manifest  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
RUN = ("import sys; from paint2vr.batch import run_batch, BatchOptions; "
       "r = run_batch(sys.argv[1], sys.argv[2], BatchOptions(workers=2, window=4)); "
       "print(r.done, r.skipped, r.failed)")


def start(m: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RUN, str(m), str(out)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_and_resume(tmp_path, gltf_validator):
    n = 24
    rows = make_items(tmp_path / "in", n)
    (tmp_path / "in" / "img" / "p5.png").write_bytes(b"not an image")  # a corrupt input among them
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    rng = random.Random(7)
    progress: list[int] = []
    db_path = out / ".paint2vr" / "jobs.sqlite"

    def finished() -> int:
        if not db_path.exists():
            return 0
        try:
            db = sqlite3.connect(db_path, timeout=1)
            try:
                return db.execute("SELECT COUNT(*) FROM items WHERE status = 'done'").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return 0
    # Kill when the run has got to a random point in the middle of the work, however fast
    # or slow this machine is: as an OOM killer or power cut would, the run and its workers.
    for target in sorted(rng.sample(range(3, n - 6), 3)):
        proc = start(m, out)
        deadline = time.time() + 120
        while finished() < target and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.2))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close(), proc.stderr.close()
        progress.append(finished())
    # at least one kill landed in the middle of the work (not before it started or after it ended)
    assert any(0 < k < n - 1 for k in progress), progress
    # a second run while one holds the folder is refused
    first = start(m, out)
    deadline = time.time() + 30
    while not (out / ".paint2vr" / "lock").exists() or os.path.getsize(out / ".paint2vr" / "lock") == 0:
        assert time.time() < deadline
        time.sleep(0.05)
    time.sleep(0.3)
    second = subprocess.run([sys.executable, "-c", RUN, str(m), str(out)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    stdout, stderr = first.communicate(timeout=120)
    if "another batch run" not in second.stderr:  # the first run may already have finished
        assert second.returncode == 0, second.stderr[-2000:]
    else:
        assert "BatchError" in second.stderr
    assert first.returncode == 0, stderr[-2000:]
    # every item done exactly once (audit and state), the corrupt one failed with its reason
    lines = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()]
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    done = collections.Counter(x["id"] for x in lines if x["status"] == "done")
    assert set(done) == {f"p{i}" for i in range(n)} - {"p5"}
    assert set(done.values()) == {1}
    db = sqlite3.connect(out / ".paint2vr" / "jobs.sqlite")
    assert dict(db.execute("SELECT status, COUNT(*) FROM items GROUP BY status")) == {"done": n - 1, "failed": 1}
    err = db.execute("SELECT error FROM items WHERE id = 'p5'").fetchone()[0]
    assert "ImageLoadError" in err
    db.close()
    report = json.loads((out / "report.json").read_text())
    assert [f["id"] for f in report["failures"]] == ["p5"]
    # no partial files, and every scene validates
    leftovers = [p for p in out.rglob("*") if p.name.endswith(".part")
                 or (p.name.startswith(".") and p.name != ".paint2vr")]
    assert leftovers == []
    glbs = sorted(out.glob("*/*.glb"))
    assert len(glbs) == n - 1
    gltf_validator(*glbs)
