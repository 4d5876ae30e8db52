"""Bounded reads of untrusted input files: one helper that every input read goes through.

Only regular files are read. The file is opened first (``O_NONBLOCK``, so a FIFO cannot hang
the open) and checked with ``fstat`` on the open descriptor, so a file swapped for a FIFO or
a ``/dev/zero`` symlink after a check is not the one read; the size limit is checked on that
handle before any byte is read, and reads stop at the limit even if the file grows.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import InputError

BLOCK = 1 << 20
"""Bytes read at a time when hashing or copying."""


def _say(path: str | os.PathLike[str]) -> str:
    s = os.fspath(path)
    return s if s.isprintable() else repr(s)


def open_regular(path: str | os.PathLike[str], max_bytes: int, *,
                 error: type[InputError] = InputError, missing: type[InputError] | None = None) -> BinaryIO:
    """Open ``path`` for binary reading if it is a non-empty regular file of at most
    ``max_bytes`` bytes; else raise ``error`` (an InputError class) with a one-line reason
    (``missing`` instead, when given, for a file that does not exist: e.g. an error class that
    is also a ``FileNotFoundError``)."""
    def fail(what: str, hint: str) -> InputError:
        return error(f"{_say(path)}: {what}", hint=hint)

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise (missing or error)(f"{_say(path)}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise fail("is a directory, not an image file", "give the path of an image file") from None
    except PermissionError:
        raise fail("permission denied", "check the file's permissions") from None
    except OSError as exc:
        raise fail(f"cannot open ({exc.strerror or exc})", "check the path") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise fail("is a directory, not an image file", "give the path of an image file")
        if not stat.S_ISREG(st.st_mode):
            raise fail("not a regular file (a device, pipe or socket)", "give the path of an image file")
        if st.st_size == 0:
            raise fail("the file is empty (0 bytes)", "re-export or re-download it")
        if st.st_size > max_bytes:
            raise fail(f"the file is {st.st_size} bytes, over the limit of {max_bytes}",
                       "raise --max-file-bytes (LoadOptions.max_file_bytes) if the file is trusted")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_at_most(fh: BinaryIO, max_bytes: int, name: str = "input", *,
                 error: type[InputError] = InputError) -> bytes:
    """All of ``fh``, refusing (``error``) once more than ``max_bytes`` bytes have come."""
    data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise error(f"{_say(name)}: more than {max_bytes} bytes, over the limit",
                    hint="raise --max-file-bytes (LoadOptions.max_file_bytes) if the file is trusted")
    return data


def sha256_at_most(fh: BinaryIO, max_bytes: int, name: str = "input", *,
                   error: type[InputError] = InputError) -> str:
    """Hex sha256 of ``fh`` from its current position, read in blocks; refuses (``error``) a
    stream longer than ``max_bytes`` (a file that grew after its size was checked)."""
    h = hashlib.sha256()
    total = 0
    for block in iter(lambda: fh.read(BLOCK), b""):
        total += len(block)
        if total > max_bytes:
            raise error(f"{_say(name)}: more than {max_bytes} bytes, over the limit (did it grow while read?)",
                        hint="raise --max-file-bytes (LoadOptions.max_file_bytes) if the file is trusted")
        h.update(block)
    return h.hexdigest()


def read_regular(path: str | os.PathLike[str], max_bytes: int, *,
                 error: type[InputError] = InputError) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular`)."""
    with open_regular(Path(path), max_bytes, error=error) as fh:
        return read_at_most(fh, max_bytes, os.fspath(path), error=error)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


_BRACKET_STEP = np.zeros(256, np.int32)
_BRACKET_STEP[[ord("["), ord("{")]] = 1
_BRACKET_STEP[[ord("]"), ord("}")]] = -1


def json_depth(text: str, at_most: int = 1 << 30) -> int:
    """How deep objects and arrays nest in JSON ``text`` (brackets inside strings ignored),
    found without parsing it: cheap, and safe from the parser's recursion. Text with at most
    ``at_most`` opening brackets in all is not scanned (it cannot nest deeper)."""
    if text.count("[") + text.count("{") <= at_most:
        return min(text.count("[") + text.count("{"), at_most)
    bare = _JSON_STRING.sub("", text)
    codes = np.frombuffer(bare.encode("ascii", "replace"), np.uint8)
    return int(np.cumsum(_BRACKET_STEP[codes]).max(initial=0))


def parse_json_bounded(text: str | bytes, max_depth: int) -> object:
    """``json.loads`` of text nested at most ``max_depth`` deep (checked before parsing, so a
    hostile file cannot overflow the parser's recursion). ValueError says what is wrong."""
    import json
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    depth = json_depth(text, max_depth)
    if depth > max_depth:
        raise ValueError(f"JSON nested {depth} levels deep, over the limit of {max_depth}")
    try:
        return json.loads(text)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise ValueError("JSON nested too deep") from None
