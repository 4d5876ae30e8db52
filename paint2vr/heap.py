"""The process heap, tuned for a conversion's many large numpy temporaries.

glibc's malloc hands blocks over its mmap threshold (128 KiB, rising with what it has freed,
up to 32 MiB) straight to the kernel and back, and trims its heap after every large free:
each of a conversion's thousands of 1-30 MB temporaries then comes as fresh zeroed pages, one
page fault each. On the 12 MP aqueduct (desktop profile, one core) that was 350,000 page faults
and 2.6-3.9 s of system CPU out of 10.4-11.7 s; with the threshold at its ceiling and the heap
kept (no trim, 256 MiB padding) 62,000 faults, 1.3-2.2 s and 9.3-10.3 s (BENCHMARKS.md,
session 9), for 7 % more peak memory.

This is process-wide, so only the edges call :func:`tune_heap`: the command line at start
and each batch worker process. Elsewhere than glibc (macOS, Windows, musl) it does nothing.
``PAINT2VR_HEAP=default`` leaves malloc as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

HEAP_ENV = "PAINT2VR_HEAP"
"""Environment variable: 'default' leaves malloc untuned."""
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
"""mallopt parameters (glibc's malloc.h)."""
MMAP_THRESHOLD = 32 * 1024 * 1024
"""Blocks from this size go to mmap: glibc's ceiling for the threshold on 64-bit systems."""
TRIM_THRESHOLD = 1 << 31
"""Free heap kept before it is given back to the kernel (the process ends soon anyway)."""
TOP_PAD = 256 * 1024 * 1024
"""Extra heap asked for each time it grows."""

_done: bool | None = None


def _mallopt():
    """glibc's mallopt, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        fn = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return fn


def tune_heap() -> bool:
    """Tune this process's malloc once (see the module's docstring); True when it was."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get(HEAP_ENV, "").strip().lower() == "default":
        return False
    fn = _mallopt()
    if fn is None:
        return False
    ok = all(fn(p, v) == 1 for p, v in ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
                                       (M_TOP_PAD, TOP_PAD)))
    log.debug("malloc tuned for large temporaries: %s", ok)
    _done = ok
    return ok
