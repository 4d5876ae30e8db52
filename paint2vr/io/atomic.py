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
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=_folder(target))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers never see a partial file; returns the path."""
    target = Path(path)
    tmp = _write_temp(target, data)
    try:
        os.replace(tmp, target)
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
            os.replace(tmp, target)
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


__all__ = ["atomic_path", "replace_folder", "write_atomic", "write_atomic_group"]
