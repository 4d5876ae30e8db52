"""Atomic file writing: temporary names in the target folder, then renames."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import ExportError

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp makes 0600 files, outputs get the usual 0666 & ~umask


def _check_folder(target: Path) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"{target}: the folder {folder} does not exist", hint="create it first")
    return folder


def _write_temp(target: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=_check_folder(target))
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


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
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
