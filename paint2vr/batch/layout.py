"""The output folder: sharded scene files, the job folder, the lock and the symlink guard.

Layout of an output folder DIR::

    DIR/<shard>/<id>.glb        shard = first 2 hex digits of sha1(id): 256 folders, so a
                                3.5M-item run puts ~14k files in each
    DIR/<shard>/<id>.edits.json a designer's edits saved in the studio's review queue
    DIR/report.json             the last run's report
    DIR/audit.jsonl             one line per finished item (see state.py)
    DIR/.paint2vr/jobs.sqlite   the job store (SQLite, WAL)
    DIR/.paint2vr/lock          held (flock) by the running batch
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from ..errors import BatchError

JOB_DIR = ".paint2vr"
EDITS_SUFFIX = ".edits.json"
"""A designer's edits of an item, saved by the studio's review queue as DIR/<shard>/<id>.edits.json."""
SHARD_CHARS = 2


def shard_of(item_id: str) -> str:
    """The shard folder name of an id: the first 2 hex digits of sha1(id as UTF-8)."""
    return hashlib.sha1(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:SHARD_CHARS]


def output_relpath(item_id: str, suffix: str = ".glb") -> str:
    """'<shard>/<id>.glb', relative to the output folder (always with '/')."""
    return f"{shard_of(item_id)}/{item_id}{suffix}"


NAME_MAX_BYTES = 255
"""Longest file name (one path component, in bytes) the usual file systems accept."""
DERIVED_SUFFIXES = (".glb", ".provenance.json")
"""What paint2vr writes per item: the scene and its optional provenance sidecar."""
TEMP_EXTRA_BYTES = len(".") + len(".XXXXXXXX.part")
"""write_atomic's temporary name: '.<name>.<8 random characters>.part'."""


def longest_derived_name(item_id: str) -> int:
    """Bytes of the longest file name derived from ``item_id`` (a temporary of its sidecar)."""
    return len(item_id.encode("utf-8", "surrogatepass")) + max(map(len, DERIVED_SUFFIXES)) + TEMP_EXTRA_BYTES


def check_no_escaping_symlinks(out: Path) -> None:
    """Refuse an output folder holding symlinks that point outside it (BatchError).

    Walks the whole tree without following links, before anything is written.
    """
    if not out.exists():
        return
    if out.is_symlink():
        out = out.resolve()
    root = out.resolve()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise BatchError(f"{folder}: cannot list the output folder ({exc.strerror})") from None
        for entry in entries:
            if entry.is_symlink():
                target = Path(os.path.realpath(entry.path))
                if target != root and root not in target.parents:
                    raise BatchError(f"{entry.path} is a symlink pointing outside the output folder "
                                     f"(to {target})",
                                     hint="remove it or pick another --out folder; nothing was written")
            elif entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))


class FolderLock:
    """An exclusive, non-blocking flock on DIR/.paint2vr/lock; released on close or process death."""

    def __init__(self, out: Path) -> None:
        self.path = out / JOB_DIR / "lock"
        self._fd: int | None = None

    def acquire(self) -> "FolderLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BatchError(f"{self.path.parent.parent}: another batch run is using this output folder",
                             hint="wait for it to finish, or pick another --out folder") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
