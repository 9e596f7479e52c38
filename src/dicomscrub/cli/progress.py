"""Progress on a terminal (a redrawn bar) or plain lines elsewhere (logs, CI)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Reports ``done / total`` to ``stream``: a bar on a TTY, else a line every few seconds."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = interval
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        if self.tty:
            width = 30
            filled = int(width * done / max(total, 1))
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} files  {rate:6.1f} files/s")
            if done == total:
                self.stream.write("\n")
            self.stream.flush()
        elif done == total or now - self._last >= self.interval:
            self._last = now
            self.stream.write(f"progress: {done}/{total} files ({rate:.1f} files/s)\n")
            self.stream.flush()
