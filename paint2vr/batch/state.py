"""The job store (SQLite, WAL) and the audit log it feeds.

Every finished item is one transaction: its row in ``items`` and a new row in ``audit``
(with an increasing ``seq``). ``DIR/audit.jsonl`` is an append-only copy of the ``audit``
table; each line carries its ``seq``, so after a crash :meth:`JobStore.sync_audit` drops a
torn last line and appends exactly the rows the file lacks: no line is lost or doubled.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import BatchError

REBUILD_HINT = "rebuild it from the outputs and audit.jsonl: paint2vr batch MANIFEST --out DIR --rebuild-store"

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY, line INTEGER, status TEXT NOT NULL, options_hash TEXT,
    input_sha256 TEXT, input_fingerprint TEXT, output TEXT, output_sha256 TEXT,
    output_bytes INTEGER, attempts INTEGER, error TEXT, seconds REAL, updated REAL);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, status TEXT NOT NULL,
    input_sha256 TEXT, output_sha256 TEXT, options_hash TEXT, output TEXT, error TEXT,
    time REAL);
"""


@dataclass(frozen=True)
class ItemRecord:
    """The stored state of one item."""

    id: str
    status: str
    """'done' or 'failed'."""
    options_hash: str
    input_sha256: str
    input_fingerprint: str
    output: str
    output_sha256: str
    output_bytes: int
    attempts: int
    error: str
    line: int = 0


class JobStore:
    """DIR/.paint2vr/jobs.sqlite, opened by the one process that holds the folder lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a commit survives a killed process
            self.db.executescript(SCHEMA)
            self.db.execute("SELECT COUNT(*) FROM items").fetchone()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if is_disk_full(exc):
                raise
            raise damaged_store(path, exc) from None

    def continue_audit(self, last_seq: int) -> None:
        """Number new audit rows after ``last_seq`` (the audit log's last line) when the store
        is behind the log: a store lost or replaced must not reuse sequence numbers the log
        already holds, or sync_audit would skip its rows."""
        top = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]
        known = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        if max(top, known[0] if known else 0) >= last_seq:
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM sqlite_sequence WHERE name = 'audit'")
            self.db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('audit', ?)", (last_seq,))

    def close(self) -> None:
        self.db.close()

    def get(self, item_id: str) -> ItemRecord | None:
        row = self.db.execute(
            "SELECT id, status, options_hash, input_sha256, input_fingerprint, output, output_sha256, "
            "output_bytes, attempts, error, line FROM items WHERE id = ?", (item_id,)).fetchone()
        return ItemRecord(*(v if v is not None else d for v, d in
                            zip(row, ("", "", "", "", "", "", "", 0, 0, "", 0)))) if row else None

    def get_many(self, ids: list[str]) -> dict[str, ItemRecord]:
        out: dict[str, ItemRecord] = {}
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = self.db.execute(
                "SELECT id, status, options_hash, input_sha256, input_fingerprint, output, output_sha256, "
                f"output_bytes, attempts, error, line FROM items WHERE id IN ({','.join('?' * len(part))})",
                part).fetchall()
            for row in rows:
                out[row[0]] = ItemRecord(*(v if v is not None else d for v, d in
                                           zip(row, ("", "", "", "", "", "", "", 0, 0, "", 0))))
        return out

    def record(self, rec: ItemRecord, seconds: float = 0.0) -> None:
        """Store a finished item and its audit row in one transaction."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO items (id, line, status, options_hash, input_sha256, "
                "input_fingerprint, output, output_sha256, output_bytes, attempts, error, seconds, updated) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (rec.id, rec.line, rec.status, rec.options_hash, rec.input_sha256, rec.input_fingerprint,
                 rec.output, rec.output_sha256, rec.output_bytes, rec.attempts, rec.error, seconds, now))
            self.db.execute(
                "INSERT INTO audit (id, status, input_sha256, output_sha256, options_hash, output, error, time) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (rec.id, rec.status, rec.input_sha256, rec.output_sha256, rec.options_hash, rec.output,
                 rec.error, now))

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall())

    def failures(self) -> Iterator[tuple[str, int, str, int]]:
        """(id, line, error, attempts) of every failed item."""
        yield from self.db.execute(
            "SELECT id, line, error, attempts FROM items WHERE status = 'failed' ORDER BY line")

    def sync_audit(self, path: Path) -> int:
        """Append the audit rows ``path`` lacks (repairing a torn last line); returns how many."""
        last = _last_seq(path)
        n = 0
        rows = self.db.execute(
            "SELECT seq, id, status, input_sha256, output_sha256, options_hash, output, error, time "
            "FROM audit WHERE seq > ? ORDER BY seq", (last,))
        with open(path, "a", encoding="utf-8") as fh:
            for seq, item_id, status, ins, outs, opth, output, error, t in rows:
                rec: dict[str, Any] = {"seq": seq, "id": item_id, "status": status, "input_sha256": ins,
                                       "output_sha256": outs, "options_hash": opth, "output": output,
                                       "time": round(t, 3)}
                if error:
                    rec["error"] = error
                fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
            fh.flush()
            os.fsync(fh.fileno())
        return n


def is_disk_full(exc: BaseException) -> bool:
    """True for 'no space left' (or quota) errors from the OS or SQLite."""
    import errno
    if isinstance(exc, OSError) or hasattr(exc, "errno"):  # OSError, or ExportError from io.atomic
        return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, sqlite3.Error) and ("disk is full" in str(exc) or "SQLITE_FULL" in str(exc))


def damaged_store(path: Path, exc: BaseException) -> BatchError:
    return BatchError(f"{path}: the job store is damaged ({' '.join(str(exc).split())})", hint=REBUILD_HINT)


def _audit_records(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("seq"), int) and isinstance(rec.get("id"), str):
                yield rec


def _verified(out: Path, rec: dict[str, Any]) -> int | None:
    """Size of the output ``rec`` names if it is a regular file with the recorded sha256."""
    import hashlib
    rel = rec.get("output")
    if not isinstance(rel, str) or not rel or rel.startswith("/") or ".." in rel.split("/"):
        return None
    target = out / rel
    try:
        if target.is_symlink() or not target.is_file():
            return None
        h = hashlib.sha256()
        with open(target, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return target.stat().st_size if h.hexdigest() == rec.get("output_sha256") else None


def rebuild_store(path: Path, audit_path: Path, out: Path) -> tuple[int, int]:
    """Replace a damaged or lost job store by one rebuilt from ``audit_path`` and the outputs.

    The damaged files are kept beside it (``jobs.sqlite.damaged``). Each id's last audit line
    that says 'done' becomes a 'done' record if its output is on disk with the recorded sha256
    (the next run then checks the input's sha256 before skipping it); anything else is left
    to be redone. Returns (items restored, items to redo).
    """
    for suffix in ("", "-wal", "-shm"):
        old = path.with_name(path.name + suffix)
        if old.exists():
            os.replace(old, old.with_name(old.name + ".damaged"))
    last: dict[str, dict[str, Any]] = {}
    top = 0
    for rec in _audit_records(audit_path):
        top = max(top, rec["seq"])
        last[rec["id"]] = rec
    store = JobStore(path)
    restored = 0
    try:
        store.continue_audit(top)
        with store.db:
            store.db.execute("BEGIN IMMEDIATE")
            for item_id, rec in last.items():
                size = _verified(out, rec) if rec.get("status") == "done" else None
                if size is None:
                    continue
                store.db.execute(
                    "INSERT OR REPLACE INTO items (id, line, status, options_hash, input_sha256, input_fingerprint, "
                    "output, output_sha256, output_bytes, attempts, error, seconds, updated) "
                    "VALUES (?,0,'done',?,?,'',?,?,?,1,'',0,?)",
                    (item_id, rec.get("options_hash") or "", rec.get("input_sha256") or "", rec["output"],
                     rec["output_sha256"], size, time.time()))
                restored += 1
    finally:
        store.close()
    return restored, len(last) - restored


def _last_seq(path: Path) -> int:
    """The seq of the last complete line of ``path`` (0 if none); truncates a torn last line."""
    if not path.exists():
        return 0
    with open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        block = 1 << 16
        start = max(0, size - block)
        while True:
            fh.seek(start)
            tail = fh.read(size - start)
            lines = tail.split(b"\n")
            complete = lines[:-1] if start == 0 else lines[1:-1]
            if complete or start == 0:
                break
            start = max(0, start - block)
        if lines[-1]:  # a line cut short by a crash: drop it, it is rewritten from the store
            fh.truncate(size - len(lines[-1]))
        for raw in reversed(complete):
            try:
                return int(json.loads(raw)["seq"])
            except (ValueError, KeyError, TypeError):
                continue
    return 0
