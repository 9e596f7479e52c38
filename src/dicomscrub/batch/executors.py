"""Where per-file work runs: in this process, or in a pool of worker processes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from dicomscrub.errors import ConfigError

__all__ = ["EXECUTORS", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor"]

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Maps a function over tasks, yielding results in task order as they finish."""

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs every task in the calling process (``--workers 1``)."""

    def __init__(self, initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
        initializer(*initargs)

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        return map(fn, tasks)

    def close(self) -> None:
        return None


class ProcessExecutor:
    """A pool of worker processes; tasks stream through it, results come back in order.

    Workers are started with ``spawn`` so a pool created from a threaded program (the
    service) never inherits a lock held by another thread at fork time.
    """

    def __init__(
        self, workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._pool = ctx.Pool(workers, initializer=initializer, initargs=initargs)
        self._workers = workers

    def map(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        return self._pool.imap(fn, tasks, chunksize=4)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


EXECUTORS = ("serial", "process")


def default_workers() -> int:
    """The machine's cores (what ``--workers`` defaults to)."""
    return os.cpu_count() or 1


def make_executor(
    kind: str, workers: int, initializer: Callable[..., None], initargs: tuple[Any, ...]
) -> Executor:
    """An executor of ``kind`` (``process`` falls back to serial for one worker)."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if kind == "serial" or (kind == "process" and workers == 1):
        return SerialExecutor(initializer, initargs)
    if kind == "process":
        return ProcessExecutor(workers, initializer, initargs)
    raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
