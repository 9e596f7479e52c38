"""Progress on a terminal (a redrawn bar) or plain lines elsewhere (logs, CI)."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

__all__ = ["Progress"]

_BAR_WIDTH = 30


class Progress:
    """Reports ``done / total`` to ``stream``: a bar on a TTY, else a line every few seconds.

    Plain lines go out for the first file, then at most one per ``interval`` seconds,
    and for the last file, so a log of a long job stays short.
    """

    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self._last = -math.inf

    def _rate(self, done: int, now: float) -> str:
        elapsed = now - self.started
        return f"{done / elapsed:.1f} files/s" if elapsed >= 0.5 else "- files/s"

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.tty:
            filled = _BAR_WIDTH * done // max(total, 1)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} files  {self._rate(done, now)}")
            if done == total:
                self.stream.write("\n")
            self.stream.flush()
        elif done == total or now - self._last >= self.interval:
            self._last = now
            self.stream.write(f"progress: {done}/{total} files ({self._rate(done, now)})\n")
            self.stream.flush()
