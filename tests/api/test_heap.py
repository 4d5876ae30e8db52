"""The process heap tuned for large numpy temporaries (paint2vr.heap)."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys

import pytest

heap = importlib.import_module("paint2vr.heap")

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="mallopt is glibc's")

_CHURN = """
import resource, sys
import numpy as np
if sys.argv[1] == "tuned":
    from paint2vr.heap import tune_heap
    assert tune_heap()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
keep = []
for i in range(60):  # a conversion's pattern: large temporaries alive together, small objects kept between
    tmp = [np.ones(s * 131072 + 1000 * (i % 7)) for s in (30, 2, 30)]  # MB each, under the 32 MiB ceiling
    keep = keep[-20:] + [np.ones(1000 + i)]
    del tmp
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    env = {**os.environ, "PAINT2VR_HEAP": ""}
    out = subprocess.run([sys.executable, "-c", _CHURN, mode], capture_output=True, text=True, env=env, check=True)
    return int(out.stdout.strip())


@glibc
def test_tuned_heap_reuses_pages_instead_of_faulting_them_anew():
    default, tuned = _faults("default"), _faults("tuned")
    assert default > 20_000  # the heap trimmed and regrown: fresh pages each time (~48,000 here)
    assert tuned < default / 5  # ~1,600 here


@glibc
def test_tune_heap_once(monkeypatch):
    monkeypatch.setattr(heap, "_done", None)
    monkeypatch.delenv(heap.HEAP_ENV, raising=False)
    assert heap.tune_heap() is True
    monkeypatch.setattr(heap, "_mallopt", lambda: pytest.fail("tuned twice"))
    assert heap.tune_heap() is True


def test_opt_out_and_no_mallopt(monkeypatch):
    monkeypatch.setattr(heap, "_done", None)
    monkeypatch.setenv(heap.HEAP_ENV, "default")
    assert heap.tune_heap() is False
    monkeypatch.setattr(heap, "_done", None)
    monkeypatch.delenv(heap.HEAP_ENV)
    monkeypatch.setattr(heap, "_mallopt", lambda: None)  # macOS, Windows, musl
    assert heap.tune_heap() is False


def test_mallopt_refusal_is_reported(monkeypatch):
    monkeypatch.setattr(heap, "_done", None)
    monkeypatch.delenv(heap.HEAP_ENV, raising=False)
    monkeypatch.setattr(heap, "_mallopt", lambda: (lambda p, v: 0))
    assert heap.tune_heap() is False
