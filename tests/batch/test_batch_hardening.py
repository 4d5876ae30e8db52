"""Faults an unlucky operator meets (issue 19, items 1-9): SIGTERM, a full disk, a lost or
damaged job store, long ids, hostile per-item options, non-regular inputs, unreachable
object stores, a killed worker. Each test reproduces the fault and checks the clean outcome."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from batch_fakes import dying_scene_fn, fake_scene_fn, make_items, write_manifest  # noqa: E402

import paint2vr.export.files as files_mod  # noqa: E402
from paint2vr.batch import BatchOptions, ManifestOptions, check_manifest, run_batch  # noqa: E402
from paint2vr.batch.state import JobStore  # noqa: E402
from paint2vr.cli.main import main  # noqa: E402
from paint2vr.errors import BatchError, InputError, ManifestError  # noqa: E402
from paint2vr.pipeline import DEFAULT_CONVERT_OPTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
INLINE = BatchOptions(inline=True, retry_backoff=0.0)


def audit_matches_disk(out: Path) -> None:
    """The last audit line of every id names the output that is on disk, byte for byte."""
    last: dict[str, dict] = {}
    for line in (out / "audit.jsonl").read_text().splitlines():
        rec = json.loads(line)
        last[rec["id"]] = rec
    assert last
    for item_id, rec in last.items():
        assert rec["status"] == "done", rec
        data = (out / rec["output"]).read_bytes()
        assert rec["output_sha256"] == hashlib.sha256(data).hexdigest(), item_id
    seqs = [json.loads(x)["seq"] for x in (out / "audit.jsonl").read_text().splitlines()]
    assert seqs == sorted(set(seqs)), "audit seq numbers repeat"


# -- 1. SIGTERM ---------------------------------------------------------------------------

def _session_processes(sid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, ProcessLookupError, PermissionError):
            continue
    return found


def test_sigterm_stops_like_ctrl_c_and_leaves_no_process(tmp_path):
    rows = make_items(tmp_path / "in", 40)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests' / 'batch'}")
    proc = subprocess.Popen([sys.executable, "-m", "paint2vr.cli.main", "batch", str(m), "--out", str(out),
                             "--workers", "2", "--no-progress"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = out / ".paint2vr" / "jobs.sqlite"
    deadline = time.time() + 240
    done = 0
    while time.time() < deadline and proc.poll() is None and done < 2:
        time.sleep(0.2)
        try:
            with sqlite3.connect(db, timeout=1) as con:
                done = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        except sqlite3.Error:
            pass
    assert proc.poll() is None and done >= 2, "the run ended before it could be stopped"
    assert len(_session_processes(proc.pid)) >= 3  # the run, the forkserver, its workers
    proc.send_signal(signal.SIGTERM)  # to the main process only, as docker stop does
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr[-2000:]
    assert "interrupted" in stderr and "Traceback" not in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True and report["done"] >= 2
    deadline = time.time() + 15
    while _session_processes(proc.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert _session_processes(proc.pid) == [], "worker or forkserver processes left behind"
    audit_matches_disk(out)


# -- 2. disk full -------------------------------------------------------------------------

def test_disk_full_stops_the_run_with_one_line_and_resumes(tmp_path, monkeypatch, capsys):
    rows = make_items(tmp_path / "in", 5)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    real = files_mod.write_atomic
    calls = {"n": 0}

    def full_after_two(path, data):
        if path.name == "report.json":
            return real(path, data)
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(files_mod, "write_atomic", full_after_two)
    with pytest.raises(BatchError) as info:
        run_batch(m, out, BatchOptions(inline=True, window=1), scene_fn=fake_scene_fn)
    msg = str(info.value)
    assert "output disk is full" in msg and str(out) in msg and "cannot read" not in msg
    assert calls["n"] == 3, "the run went on after the disk was full"
    with _store(out) as store:
        assert store.counts() == {"done": 2}  # the item that hit the full disk is not recorded
    monkeypatch.setattr(files_mod, "write_atomic", real)
    rep = run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert (rep.done, rep.skipped, rep.failed) == (3, 2, 0)
    audit_matches_disk(out)


class _store:
    def __init__(self, out: Path) -> None:
        self.s = JobStore(out / ".paint2vr" / "jobs.sqlite")

    def __enter__(self) -> JobStore:
        return self.s

    def __exit__(self, *exc) -> None:
        self.s.close()


def test_disk_full_in_the_job_store_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    rows = make_items(tmp_path / "in", 3)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)

    def full(self, rec, seconds=0.0):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(JobStore, "record", full)
    with pytest.raises(BatchError, match="output disk is full"):
        run_batch(m, tmp_path / "out", INLINE, scene_fn=fake_scene_fn)
    monkeypatch.setattr(JobStore, "sync_audit", lambda self, path: (_ for _ in ()).throw(
        OSError(errno.ENOSPC, "No space left on device")))
    code = main(["batch", str(m), "--out", str(tmp_path / "out2"), "--inline", "--no-progress"])
    err = capsys.readouterr().err
    assert code == BatchError.exit_code and "output disk is full" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


# -- 3. job store lost, 4. job store damaged ----------------------------------------------

@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_lost_job_store_then_rerun_keeps_the_audit_log_true(tmp_path, how):
    rows = make_items(tmp_path / "in", 3)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    if how == "deleted":
        import shutil
        shutil.rmtree(out / ".paint2vr")
    else:
        for p in (out / ".paint2vr").glob("jobs.sqlite*"):
            os.truncate(p, 0)
    opts = DEFAULT_CONVERT_OPTIONS.__class__(**{**DEFAULT_CONVERT_OPTIONS.__dict__, "seed": 5})
    rep = run_batch(m, out, INLINE, convert_options=opts, scene_fn=fake_scene_fn)
    assert rep.done == 3
    audit_matches_disk(out)


def test_damaged_job_store_is_one_line_and_rebuilds_from_the_audit_log(tmp_path, capsys):
    rows = make_items(tmp_path / "in", 4)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    db = out / ".paint2vr" / "jobs.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.truncate(db, 1000)
    with pytest.raises(BatchError, match="job store is damaged") as info:
        run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert "--rebuild-store" in str(info.value)
    code = main(["batch", str(m), "--out", str(out), "--inline", "--no-progress"])
    err = capsys.readouterr().err
    assert code == BatchError.exit_code and len(err.strip().splitlines()) == 1 and "--rebuild-store" in err
    # one output lost meanwhile: it is redone; the others are verified and skipped
    lost = json.loads((out / "audit.jsonl").read_text().splitlines()[0])["output"]
    (out / lost).unlink()
    rep = run_batch(m, out, BatchOptions(inline=True, rebuild_store=True), scene_fn=fake_scene_fn)
    assert (rep.done, rep.skipped, rep.failed) == (1, 3, 0)
    assert (out / ".paint2vr" / "jobs.sqlite.damaged").is_file()
    audit_matches_disk(out)
    rep = run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert rep.skipped == 4


# -- 5. ids whose derived file names would not fit ----------------------------------------

def test_id_too_long_in_bytes_is_refused_at_the_check(tmp_path):
    rows = make_items(tmp_path / "in", 2)
    rows[1]["id"] = "é" * 120  # 240 bytes: <id>.provenance.json's temporary would not fit 255
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    with pytest.raises(ManifestError) as info:
        check_manifest(m)
    assert [ln for ln, _ in info.value.problems] == [3]
    assert "bytes" in info.value.problems[0][1]


def test_longest_allowed_id_runs_with_sidecar(tmp_path):
    from paint2vr.batch.layout import NAME_MAX_BYTES, longest_derived_name
    from paint2vr.export import ExportOptions
    rows = make_items(tmp_path / "in", 1)
    rows[0]["id"] = "é" * 112  # 224 bytes: the most that fits
    assert longest_derived_name(rows[0]["id"]) == NAME_MAX_BYTES
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    rep = run_batch(m, tmp_path / "out", INLINE, export_options=ExportOptions(sidecar=True),
                    scene_fn=fake_scene_fn)
    assert rep.done == 1, rep.failures
    rows[0]["id"] += "x"
    with pytest.raises(ManifestError):
        check_manifest(write_manifest(tmp_path / "in" / "m2.csv", rows))


# -- 6. hostile per-item options ----------------------------------------------------------

def test_deeply_nested_options_are_a_manifest_error_with_the_line(tmp_path):
    rows = make_items(tmp_path / "in", 2)
    m = tmp_path / "in" / "m.csv"
    write_manifest(m, rows[:1])
    deep = "[" * 50_000 + "]" * 50_000  # within csv's field limit
    with open(m, "a", encoding="utf-8") as fh:
        fh.write(f"p1,img/p1.png,CC0,Painter 1,Work 1,Anon,{deep}\n")
    with pytest.raises(ManifestError) as info:
        check_manifest(m)
    assert info.value.problems[0][0] == 3 and "deep" in info.value.problems[0][1]
    j = tmp_path / "in" / "m.jsonl"
    deep = '{"lift": ' * 100_000 + "1" + "}" * 100_000
    j.write_text(json.dumps(rows[0]) + "\n" + '{"id": "x", "options": ' + deep + "}\n")
    with pytest.raises(ManifestError) as info:
        check_manifest(j)
    assert info.value.problems[0][0] == 2 and "deep" in info.value.problems[0][1]
    with open(m, "a", encoding="utf-8") as fh:  # over csv's field limit: still a line number
        fh.write("p2,img/p1.png,CC0,Painter 1,Work 1,Anon," + "x" * 200_000 + "\n")
    with pytest.raises(ManifestError) as info:
        check_manifest(m)
    assert info.value.problems[-1][0] == 4


@pytest.mark.parametrize("options, why", [
    ({"effects": ["snow", "volcano"]}, "unknown effect 'volcano'"),
    ({"effects": ["snow"], "effect_options": {"snow": {"density": 1e308}}}, "density"),
    ({"effects": ["snow"], "effect_options": {"snow": "heavy"}}, "must be an object"),
    ({"lift": {"adaptive_mesh": "no"}}, "true or false"),
    ({"lift": {"max_layers": 1e308}}, "integer"),
    ({"lift": "fast"}, "must be an object"),
    ({"effects": ["mist"], "effect_options": {"snow": {"density": 2}}}, "not being added"),
])
def test_bad_per_item_options_are_refused_at_the_check(tmp_path, options, why):
    rows = make_items(tmp_path / "in", 2)
    rows[1]["options"] = options
    m = write_manifest(tmp_path / "in" / "m.jsonl", rows)
    with pytest.raises(ManifestError) as info:
        run_batch(m, tmp_path / "out", INLINE, scene_fn=fake_scene_fn)
    assert [ln for ln, _ in info.value.problems] == [2] and why in info.value.problems[0][1]
    assert not (tmp_path / "out").exists()  # refused before anything was written


# -- 7. non-regular and oversized inputs --------------------------------------------------

RUN_NO_CHECK = """
import sys, json
sys.path.insert(0, sys.argv[3])
from batch_fakes import fake_scene_fn
from paint2vr.batch import BatchOptions, ManifestOptions, run_batch
r = run_batch(sys.argv[1], sys.argv[2], BatchOptions(inline=True, retries=0,
              manifest=ManifestOptions(check_locations=False)), scene_fn=fake_scene_fn)
print(json.dumps({f["id"]: f["error"] for f in r.failures}))
"""


def test_fifo_dev_zero_and_sparse_inputs_are_refused_without_reading(tmp_path):
    rows = make_items(tmp_path / "in", 4)
    img = tmp_path / "in" / "img"
    (img / "p0.png").unlink()
    os.mkfifo(img / "p0.png")
    (img / "p1.png").unlink()
    os.symlink("/dev/zero", img / "p1.png")
    with open(img / "p2.png", "wb") as fh:
        fh.truncate(3_000_000_000)  # sparse: 3 GB that take no space
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-c", RUN_NO_CHECK, str(m), str(tmp_path / "out"),
                           str(ROOT / "tests" / "batch")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = json.loads(proc.stdout.strip().splitlines()[-1])
    assert time.time() - t0 < 60
    assert "not a regular file" in errors["p0"] and "not a regular file" in errors["p1"]
    assert "3000000000 bytes, over the limit" in errors["p2"]
    assert set(errors) == {"p0", "p1", "p2"}


def test_the_read_helper_refuses_devices_on_the_open_handle(tmp_path):
    from paint2vr.io.reading import read_regular
    os.symlink("/dev/zero", tmp_path / "swapped.png")
    with pytest.raises(InputError, match="not a regular file"):
        read_regular(tmp_path / "swapped.png", 1000)
    os.mkfifo(tmp_path / "fifo.png")
    with pytest.raises(InputError, match="not a regular file"):
        read_regular(tmp_path / "fifo.png", 1000)
    (tmp_path / "big.png").write_bytes(b"x" * 1001)
    with pytest.raises(InputError, match="over the limit"):
        read_regular(tmp_path / "big.png", 1000)
    assert read_regular(tmp_path / "big.png", 1001) == b"x" * 1001


# -- 8. object stores: no credentials, an endpoint that never answers ---------------------

@pytest.fixture
def s3_env(monkeypatch, tmp_path):
    pytest.importorskip("s3fs")
    for k in list(os.environ):
        if k.startswith("AWS_"):
            monkeypatch.delenv(k)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import s3fs
    s3fs.S3FileSystem.clear_instance_cache()
    yield monkeypatch
    s3fs.S3FileSystem.clear_instance_cache()


def _s3_manifest(tmp_path: Path) -> Path:
    rows = [{"id": "a", "path": "s3://bucket/a.png", "license": "CC0", "attribution": "A"}]
    return write_manifest(tmp_path / "m.csv", rows)


def test_s3_without_credentials_says_so(tmp_path, s3_env):
    with pytest.raises(ManifestError) as info:
        check_manifest(_s3_manifest(tmp_path), ManifestOptions(remote_timeout=2.0))
    assert "no credentials" in info.value.problems[0][1]


def test_s3_endpoint_that_never_answers_is_bounded(tmp_path, s3_env):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])  # accept, never answer
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    s3_env.setenv("AWS_ACCESS_KEY_ID", "test")
    s3_env.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3_env.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{srv.getsockname()[1]}")
    t0 = time.time()
    try:
        with pytest.raises(ManifestError) as info:
            check_manifest(_s3_manifest(tmp_path), ManifestOptions(remote_timeout=1.0))
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()
    assert time.time() - t0 < 20
    assert "did not answer in time" in info.value.problems[0][1]
    assert held, "the client never reached the local endpoint"


# -- 9. one worker killed -----------------------------------------------------------------

def test_a_killed_worker_fails_only_its_own_item(tmp_path):
    rows = make_items(tmp_path / "in", 8)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    rep = run_batch(m, tmp_path / "out", BatchOptions(workers=3, window=8, retry_backoff=0.0),
                    scene_fn=dying_scene_fn)
    assert (rep.done, rep.failed) == (7, 1), rep.failures
    assert rep.failures[0]["id"] == "p3" and "worker process died" in rep.failures[0]["error"]
    audit_matches_disk_except(tmp_path / "out", {"p3"})


def audit_matches_disk_except(out: Path, failed: set[str]) -> None:
    last: dict[str, dict] = {}
    for line in (out / "audit.jsonl").read_text().splitlines():
        rec = json.loads(line)
        last[rec["id"]] = rec
    assert {i for i, r in last.items() if r["status"] == "failed"} == failed
    for rec in last.values():
        if rec["status"] == "done":
            assert rec["output_sha256"] == hashlib.sha256((out / rec["output"]).read_bytes()).hexdigest()


def test_culprits_are_the_workers_killed_by_a_signal(tmp_path):
    """A sibling that exits 1 when the broken pool's pipes close is not blamed beside the
    worker the OOM killer ended; exit codes count only when no worker was killed."""
    import signal
    from types import SimpleNamespace

    from paint2vr.batch.runner import _culprits
    for pid, item in ((11, "p2"), (12, "p3"), (13, "p4"), (14, "p5")):
        (tmp_path / f"running-{pid}").write_text(item, encoding="utf-8")
    procs = {11: SimpleNamespace(exitcode=1), 12: SimpleNamespace(exitcode=-signal.SIGKILL),
             13: SimpleNamespace(exitcode=-signal.SIGTERM), 14: SimpleNamespace(exitcode=0)}
    assert _culprits(procs, str(tmp_path)) == {"p3"}
    del procs[12]
    assert _culprits(procs, str(tmp_path)) == {"p2"}
