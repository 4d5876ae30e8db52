"""One progress display for the CLI (batch, preview): a bar in a terminal, plain lines in logs.

In a terminal: a tqdm bar on stderr; log records are written above it (tqdm's logging
redirect) instead of through it, and the counters shown are set before the bar redraws, so
'6/6' never shows counters that add up to 5. Elsewhere (a log file, CI, a pipe): no carriage
returns, one plain line at the start, then at most one every ``interval`` seconds, and one
at the end, so a long run shows it is alive.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Callable, TextIO


class ProgressDisplay:
    """``update(n, **counters)`` after each item; use as a context manager (closes the display)."""

    def __init__(self, label: str, total: int, *, unit: str = "item", stream: TextIO | None = None,
                 interval: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 terminal: bool | None = None) -> None:
        self.label, self.total, self.unit, self.interval, self.clock = label, total, unit, interval, clock
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._bar: Any = None
        self._redirect: contextlib.ExitStack | None = None
        self._last_line = -float("inf")
        self._start = clock()
        self._n = 0
        self._counters: dict[str, int] = {}

    def __enter__(self) -> "ProgressDisplay":
        if self.terminal:
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm
            self._bar = tqdm(total=self.total, unit=self.unit, file=self.stream, dynamic_ncols=True, smoothing=0.1,
                             desc=self.label)
            self._redirect = contextlib.ExitStack()
            self._redirect.enter_context(logging_redirect_tqdm())
        return self

    def update(self, n: int, **counters: int) -> None:
        """``n`` items finished of ``total``; ``counters`` (done=, failed=, ...) shown beside."""
        self._n, self._counters = n, dict(counters)
        if self._bar is not None:
            self._bar.set_postfix(counters, refresh=False)  # before the redraw that update() does
            self._bar.update(n - self._bar.n)
            return
        now = self.clock()
        if now - self._last_line >= self.interval or n >= self.total:
            self._line(now)

    def _line(self, now: float) -> None:
        self._last_line = now
        elapsed = now - self._start
        rate = f", {self._n / elapsed:.2f}/s" if elapsed > 0 and self._n else ""
        extra = " (" + ", ".join(f"{k} {v}" for k, v in self._counters.items()) + ")" if self._counters else ""
        print(f"paint2vr: {self.label}: {self._n}/{self.total} {self.unit}s{extra}{rate}, {elapsed:.0f} s",
              file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.refresh()
            self._bar.close()
            if self._redirect is not None:
                self._redirect.close()
        elif self._n < self.total and self._last_line != self.clock():
            self._line(self.clock())  # stopped early: say where


__all__ = ["ProgressDisplay"]
