"""Log unexpected exceptions without their messages.

An exception raised while handling a file can carry a value of that file in its message
(pydicom's value validation quotes the value it rejects, for one), and a log line may
leave the hospital. So unexpected errors are logged by type and by where they were
raised: file, line and function of every frame, never the message.
"""

from __future__ import annotations

import logging
import traceback

__all__ = ["log_unexpected"]


def log_unexpected(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log ``exc`` at ERROR level as ``what``, its type and its frames, without its text."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in reversed(frames))
    log.error("%s: %s at %s", what, type(exc).__name__, where or "?")
