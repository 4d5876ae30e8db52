"""run_batch end to end (local engine): layout, skip, retry, failures, depth batching, CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from batch_fakes import FakeEstimator, fake_scene_fn, make_items, make_png, write_manifest  # noqa: E402

import paint2vr.batch.worker as worker_mod  # noqa: E402
from paint2vr.batch import BatchOptions, run_batch, shard_of  # noqa: E402
from paint2vr.batch.layout import FolderLock  # noqa: E402
from paint2vr.errors import BatchError, ManifestError  # noqa: E402

INLINE = BatchOptions(inline=True, retry_backoff=0.0)


def audit_lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()]


def test_inline_run_layout_report_audit_and_skip(tmp_path, gltf_validator):
    rows = make_items(tmp_path / "in", 4)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    seen = []
    rep = run_batch(m, out, INLINE, scene_fn=fake_scene_fn, on_progress=lambda p: seen.append(p.finished))
    assert (rep.done, rep.skipped, rep.failed, rep.total) == (4, 0, 0, 4)
    assert seen == [1, 2, 3, 4]
    glbs = sorted(out.glob("*/*.glb"))
    assert sorted(g.relative_to(out).as_posix() for g in glbs) == sorted(f"{shard_of(f'p{i}')}/p{i}.glb" for i in range(4))
    gltf_validator(*glbs)
    report = json.loads((out / "report.json").read_text())
    assert report["done"] == 4 and report["failures"] == [] and "load" in report["stages"]
    lines = audit_lines(out)
    assert sorted(x["id"] for x in lines) == ["p0", "p1", "p2", "p3"]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4]
    import hashlib
    for x in lines:
        assert x["output_sha256"] == hashlib.sha256((out / x["output"]).read_bytes()).hexdigest()
        src = tmp_path / "in" / "img" / f"{x['id']}.png"
        assert x["input_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    # same inputs and options: everything skipped, nothing rewritten, no new audit lines
    before = {g: g.stat().st_mtime_ns for g in glbs}
    rep2 = run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert (rep2.done, rep2.skipped) == (0, 4)
    assert {g: g.stat().st_mtime_ns for g in glbs} == before
    assert len(audit_lines(out)) == 4
    # a changed input (new content) is redone even though the id is the same
    make_png(tmp_path / "in" / "img" / "p2.png", 99)
    rep3 = run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert (rep3.done, rep3.skipped) == (1, 3)
    # changed options: all redone
    from paint2vr.pipeline import DEFAULT_CONVERT_OPTIONS
    import dataclasses
    rep4 = run_batch(m, out, INLINE, dataclasses.replace(DEFAULT_CONVERT_OPTIONS, seed=3), scene_fn=fake_scene_fn)
    assert rep4.done == 4


def test_per_item_options_change_the_hash(tmp_path):
    rows = make_items(tmp_path / "in", 2)
    rows[1]["options"] = {"seed": 42}
    m = write_manifest(tmp_path / "in" / "m.jsonl", rows)
    run_batch(m, tmp_path / "out", INLINE, scene_fn=fake_scene_fn)
    a, b = audit_lines(tmp_path / "out")
    assert a["options_hash"] != b["options_hash"]
    rows[1]["options"] = {"seed": "x"}
    write_manifest(tmp_path / "in" / "m.jsonl", rows)
    with pytest.raises(ManifestError, match="seed"):
        run_batch(m, tmp_path / "out2", INLINE, scene_fn=fake_scene_fn)


def test_bad_manifest_writes_nothing(tmp_path):
    rows = make_items(tmp_path / "in", 2)
    rows[1]["license"] = ""
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    with pytest.raises(ManifestError) as ei:
        run_batch(m, tmp_path / "out", INLINE, scene_fn=fake_scene_fn)
    assert ei.value.problems == [(3, "missing licence (column 'license')")]
    assert not (tmp_path / "out").exists()


def test_corrupt_and_missing_inputs_do_not_stop_the_run(tmp_path):
    rows = make_items(tmp_path / "in", 4)
    (tmp_path / "in" / "img" / "p1.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    (tmp_path / "in" / "img" / "p2.png").unlink()  # vanished after the check
    opts = BatchOptions(inline=True, retry_backoff=0.0,
                        manifest=BatchOptions().manifest.__class__(check_locations=False))
    rep = run_batch(m, tmp_path / "out", opts, scene_fn=fake_scene_fn)
    assert (rep.done, rep.failed) == (2, 2)
    errs = {f["id"]: f["error"] for f in rep.failures}
    assert "ImageLoadError" in errs["p1"] and "cannot read" in errs["p2"]
    assert [f["line"] for f in rep.failures] == [3, 4]
    assert {x["status"] for x in audit_lines(tmp_path / "out")} == {"done", "failed"}


def test_transient_read_errors_are_retried(tmp_path, monkeypatch):
    rows = make_items(tmp_path / "in", 2)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    real = worker_mod.read_input
    calls: dict[str, int] = {}

    def flaky(location: str, config):
        calls[location] = calls.get(location, 0) + 1
        if location.endswith("p0.png") and calls[location] <= 2:
            raise OSError(5, "Input/output error")
        if location.endswith("p1.png"):
            raise ConnectionError("reset by peer")
        return real(location, config)

    monkeypatch.setattr(worker_mod, "read_input", flaky)
    rep = run_batch(m, tmp_path / "out", BatchOptions(inline=True, retries=2, retry_backoff=0.0),
                    scene_fn=fake_scene_fn)
    assert (rep.done, rep.failed) == (1, 1)
    f = rep.failures[0]
    assert f["id"] == "p1" and f["attempts"] == 3 and "after 3 attempt(s)" in f["error"]
    assert sorted(calls.values()) == [3, 3]


def test_learned_depth_runs_batched_in_the_main_process(tmp_path, gltf_validator):
    rows = make_items(tmp_path / "in", 5)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    est = FakeEstimator()
    rep = run_batch(m, tmp_path / "out", BatchOptions(inline=True, depth_batch_size=2), estimator=est)
    assert est.batches == [2, 2, 1]
    assert rep.done == 5 and "depth" in rep.stages and rep.stages["depth"]["count"] == 5
    gltf_validator(*sorted((tmp_path / "out").glob("*/*.glb")))
    # resume: the main process checks the input hash before running depth again
    rep2 = run_batch(m, tmp_path / "out", BatchOptions(inline=True, depth_batch_size=2), estimator=est)
    assert rep2.skipped == 5 and est.batches == [2, 2, 1]


def test_worker_processes_with_the_prior_and_fake_estimator(tmp_path, gltf_validator):
    rows = make_items(tmp_path / "in", 6)
    m = write_manifest(tmp_path / "in" / "m.parquet", rows)
    rep = run_batch(m, tmp_path / "out", BatchOptions(workers=2, window=3))
    assert (rep.done, rep.failed) == (6, 0) and rep.workers == 2
    rep = run_batch(m, tmp_path / "out2", BatchOptions(workers=2, depth_batch_size=4), estimator=FakeEstimator())
    assert rep.done == 6
    gltf_validator(*sorted((tmp_path / "out").glob("*/*.glb")), *sorted((tmp_path / "out2").glob("*/*.glb")))


def test_locked_folder_and_escaping_symlink_are_refused(tmp_path):
    rows = make_items(tmp_path / "in", 1)
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    out = tmp_path / "out"
    with FolderLock(out):
        with pytest.raises(BatchError, match="another batch run"):
            run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert not list(out.glob("*/*.glb"))
    (out / "ab").mkdir()
    (out / "ab" / "link").symlink_to(tmp_path / "in")
    with pytest.raises(BatchError, match="outside"):
        run_batch(m, out, INLINE, scene_fn=fake_scene_fn)
    assert not (out / ".paint2vr" / "jobs.sqlite").exists()


def test_cli_batch(tmp_path, capsys):
    from paint2vr.cli.main import main
    rows = make_items(tmp_path / "in", 2)
    rows[1]["path"] = "img/none.png"
    m = write_manifest(tmp_path / "in" / "m.csv", rows)
    assert main(["batch", str(m), "--out", str(tmp_path / "out"), "--inline"]) == 2
    err = capsys.readouterr().err
    assert "m.csv:3: cannot read" in err
    rows.pop()
    write_manifest(m, rows)
    assert main(["batch", str(m), "--out", str(tmp_path / "out"), "--workers", "1", "--seed", "4", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["done"] == 1 and rep["workers"] == 1
    assert (tmp_path / "out" / shard_of("p0") / "p0.glb").read_bytes()[:4] == b"glTF"
