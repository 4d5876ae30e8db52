"""The one atomic write: a temporary name in the target folder, fsync, then ``os.replace``.

Readers never see a partial file, and a failure at any point (an exception in the writer,
a full disk, Ctrl-C) leaves the target as it was and no temporary behind. Temporaries are
named ``.<name>.<random>.part<suffix>`` so a crashed run's leftovers are recognisable
(the batch runner sweeps them).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import ExportError

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp makes 0600 files, outputs get the usual 0666 & ~umask


def _folder(target: Path) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"{target}: the folder {folder} does not exist", hint="create it first")
    return folder


NAME_MAX = 255
"""Longest file name (bytes) assumed when the file system does not say."""
TEMP_EXTRA = len(".") + len(".XXXXXXXX.part")
"""Bytes a temporary adds to the target's name ('.<name>.<8 random>.part')."""


def write_failed(target: Path, exc: OSError) -> ExportError:
    """One line for an OSError while writing ``target``; ``errno`` is kept on the error
    (callers tell a full disk, errno.ENOSPC, from other failures)."""
    why = exc.strerror or str(exc)
    err = ExportError(f"{target}: cannot write the file ({why})",
                      hint="check the folder's free space and permissions, or pick another output")
    err.errno = exc.errno  # type: ignore[attr-defined]
    return err


def check_target(path: str | os.PathLike[str]) -> Path:
    """Refuse, before any work, an output that cannot be written atomically (ExportError, one
    line): a directory of that name, a name too long for its temporary, a folder that is not
    writable, an immutable file."""
    target = Path(path)
    folder = _folder(target)
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = NAME_MAX
    size = len(os.fsencode(target.name))
    if size + TEMP_EXTRA > limit:
        raise ExportError(f"{target}: the file name is {size} bytes; with its temporary's "
                          f"{TEMP_EXTRA} it is over the folder's limit of {limit}",
                          hint=f"use a name of at most {limit - TEMP_EXTRA} bytes")
    if target.is_dir():
        raise ExportError(f"{target}: is a directory", hint="give a file name, for example scene.glb")
    if _immutable(target):
        raise ExportError(f"{target}: the file is immutable (chattr +i); it cannot be replaced",
                          hint="remove the flag (chattr -i) or pick another output")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise write_failed(target, exc) from None
    return target


def _immutable(target: Path) -> bool:
    """True if ``target`` carries the Linux immutable or append-only flag (False elsewhere)."""
    try:
        import array
        import fcntl
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    except (ImportError, OSError):
        return False
    try:
        buf = array.array("l", [0])
        fcntl.ioctl(fd, 0x80086601, buf)  # FS_IOC_GETFLAGS
        return bool(buf[0] & (0x10 | 0x20))  # FS_IMMUTABLE_FL | FS_APPEND_FL
    except OSError:
        return False
    finally:
        os.close(fd)


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _sync(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that needs a file name (open3d,
    ffmpeg); when the block ends without an exception the file is synced and renamed onto
    ``path``, otherwise it is removed. ``suffix`` (e.g. ``".mp4"``) ends the temporary's name,
    for writers that choose the format by it."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".part{suffix}", dir=_folder(target))
    os.close(fd)
    try:
        yield Path(tmp)
        if not os.path.exists(tmp):
            raise ExportError(f"{target}: the writer left no file")
        _sync(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise


def _write_temp(target: Path, data: bytes) -> str:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=_folder(target))
    except OSError as exc:
        raise write_failed(target, exc) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
    except OSError as exc:
        _unlink(tmp)
        raise write_failed(target, exc) from exc
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _replace(tmp: str, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise write_failed(target, exc) from exc


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers never see a partial file; returns the path."""
    target = Path(path)
    tmp = _write_temp(target, data)
    try:
        _replace(tmp, target)
    except BaseException:
        _unlink(tmp)
        raise
    return target


def write_atomic_group(files: Sequence[tuple[str | os.PathLike[str], bytes]]) -> list[Path]:
    """Write several files that belong together: all to temporaries first, then rename them
    in the given order (put the file that references the others last, e.g. the .gltf).

    If writing any temporary fails, nothing is renamed and the temporaries are removed.
    """
    targets = [Path(p) for p, _ in files]
    if len(set(targets)) != len(targets):
        raise ExportError("two output files would have the same name: "
                          + ", ".join(sorted({str(t) for t in targets if targets.count(t) > 1})))
    temps: list[str] = []
    try:
        for target, (_, data) in zip(targets, files):
            temps.append(_write_temp(target, data))
        for i, (tmp, target) in enumerate(zip(temps, targets)):
            _replace(tmp, target)
            temps[i] = ""
    finally:
        for tmp in temps:
            if tmp:
                _unlink(tmp)
    return targets


def replace_folder(staging: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Move a complete ``staging`` folder (made beside ``target``) into place, replacing an
    older ``target``: for downloads and installs that fill a folder (model weights, three.js)."""
    import shutil
    dest = Path(target)
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(staging, dest)
    return dest


__all__ = ["atomic_path", "check_target", "replace_folder", "write_atomic", "write_atomic_group", "write_failed"]
