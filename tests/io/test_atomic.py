"""The one atomic write (paint2vr.io.atomic): round trips, and failures that leave nothing behind."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from paint2vr.errors import ExportError
from paint2vr.io import atomic
from paint2vr.io.atomic import atomic_path, write_atomic, write_atomic_group


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_round_trip_and_mode(tmp_path):
    target = write_atomic(tmp_path / "a.bin", b"hello")
    assert target.read_bytes() == b"hello" and _names(tmp_path) == ["a.bin"]
    write_atomic(target, b"again")  # replaces
    assert target.read_bytes() == b"again"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600
    with atomic_path(tmp_path / "b.ply", ".ply") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".b.ply.") and tmp.suffix == ".ply"
        tmp.write_bytes(b"ply")
    assert (tmp_path / "b.ply").read_bytes() == b"ply" and _names(tmp_path) == ["a.bin", "b.ply"]


def test_failure_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = write_atomic(tmp_path / "a.bin", b"old")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    # A full disk is one ExportError line that keeps the errno (batch tells a full disk by it).
    with pytest.raises(ExportError, match="No space") as info:
        write_atomic(target, b"new" * 1000)
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(ExportError, match="No space"):
        write_atomic_group([(tmp_path / "x.bin", b"1"), (tmp_path / "x.gltf", b"2")])
    with pytest.raises((OSError, ExportError), match="No space"):
        with atomic_path(tmp_path / "c.bin") as tmp:
            tmp.write_bytes(b"partial")
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["a.bin"]


def test_exception_in_the_writer_and_interrupts_leave_nothing(tmp_path):
    for exc in (RuntimeError("writer crashed"), KeyboardInterrupt()):
        with pytest.raises(type(exc)):
            with atomic_path(tmp_path / "v.mp4", ".mp4") as tmp:
                tmp.write_bytes(b"half a video")
                raise exc
    assert _names(tmp_path) == []


def test_writer_that_writes_nothing_and_missing_folder(tmp_path):
    with pytest.raises(ExportError, match="left no file"):
        with atomic_path(tmp_path / "n.ply") as tmp:
            tmp.unlink()
    with pytest.raises(ExportError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "a.bin", b"x")
    assert _names(tmp_path) == []


def test_every_writer_uses_the_one_atomic_write():
    # no other module renames temporaries itself
    from pathlib import Path
    pkg = Path(atomic.__file__).resolve().parents[1]
    offenders = [str(p.relative_to(pkg)) for p in pkg.rglob("*.py")
                 if p.name != "atomic.py" and "os.replace(" in p.read_text()]
    assert offenders in ([], ["batch/state.py"]), offenders  # state.py moves a damaged store aside
