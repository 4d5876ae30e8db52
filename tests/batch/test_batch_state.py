"""Job store, audit log, lock, layout and the symlink guard."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from paint2vr.batch.layout import FolderLock, check_no_escaping_symlinks, output_relpath, shard_of
from paint2vr.batch.state import ItemRecord, JobStore
from paint2vr.errors import BatchError


def rec(i: str, status: str = "done") -> ItemRecord:
    return ItemRecord(id=i, status=status, options_hash="h", input_sha256="in" + i, input_fingerprint="",
                      output=output_relpath(i), output_sha256="out" + i, output_bytes=10, attempts=1,
                      error="" if status == "done" else "boom", line=2)


def test_shard_layout():
    assert shard_of("a") == hashlib.sha1(b"a").hexdigest()[:2] == "86"
    assert output_relpath("a") == "86/a.glb"
    assert len({shard_of(f"id{i}") for i in range(5000)}) == 256


def test_store_roundtrip_and_counts(tmp_path):
    s = JobStore(tmp_path / "j.sqlite")
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.record(rec("a"))
    s.record(rec("b", "failed"))
    s.record(rec("a"))  # redone: one item row, two audit rows
    assert s.get("a") == rec("a")
    assert s.get("zz") is None
    assert set(s.get_many(["a", "b", "c"])) == {"a", "b"}
    assert s.counts() == {"done": 1, "failed": 1}
    assert list(s.failures()) == [("b", 2, "boom", 1)]
    s.close()


def test_audit_sync_is_exactly_once_and_repairs_torn_lines(tmp_path):
    s = JobStore(tmp_path / "j.sqlite")
    audit = tmp_path / "audit.jsonl"
    for i in "abc":
        s.record(rec(i))
    assert s.sync_audit(audit) == 3
    assert s.sync_audit(audit) == 0
    with open(audit, "a") as fh:  # a crash in the middle of a line
        fh.write('{"seq": 4, "id": "d", "sta')
    s.record(rec("d"))
    assert s.sync_audit(audit) == 1
    lines = [json.loads(x) for x in audit.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4]
    assert [x["id"] for x in lines] == ["a", "b", "c", "d"]
    assert lines[0]["input_sha256"] == "ina" and lines[0]["output_sha256"] == "outa"
    s.close()


def test_lock_refuses_second_holder(tmp_path):
    with FolderLock(tmp_path):
        with pytest.raises(BatchError, match="another batch run"):
            FolderLock(tmp_path).acquire()
    FolderLock(tmp_path).acquire().release()  # free again


def test_symlink_guard(tmp_path):
    out = tmp_path / "out"
    (out / "ab").mkdir(parents=True)
    (out / "ab" / "x.glb").write_bytes(b"x")
    os.symlink(out / "ab" / "x.glb", out / "ab" / "inside.glb")
    check_no_escaping_symlinks(out)  # links inside are fine
    check_no_escaping_symlinks(tmp_path / "missing")
    os.symlink(tmp_path, out / "ab" / "up")
    with pytest.raises(BatchError, match="outside"):
        check_no_escaping_symlinks(out)
