"""Where per-file work runs: in this process, or in a pool of worker processes.

Every per-file function takes ``(context, task)``: the context (the job's policy,
conditions, integrations) is the same for all tasks of a job. The serial executor
passes its own context object; a worker process receives the context once, when it
starts, and keeps it for the pool's lifetime. No context lives in a module global of
the calling process, so two jobs run from threads of one process cannot see each
other's key or policy.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

from dicomscrub.errors import ConfigError

__all__ = [
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "make_executor",
]

#: A per-file function: ``fn(context, task) -> result``; it must not raise.
TaskFn = Callable[[Any, Any], Any]

EXECUTORS = ("serial", "process")

#: Tasks submitted per worker ahead of the caller: enough to keep every worker busy
#: while results travel back, few enough that a cancel is noticed soon.
IN_FLIGHT_PER_WORKER = 4


class Executor(Protocol):
    """Maps a per-file function over tasks, yielding results in task order."""

    def map(self, fn: TaskFn, tasks: Iterable[Any]) -> Iterator[Any]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs every task in the calling process (``--workers 1``), lazily, in order."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def map(self, fn: TaskFn, tasks: Iterable[Any]) -> Iterator[Any]:
        return (fn(self._context, task) for task in tasks)

    def close(self) -> None:
        return None


# Set once in each pool worker process by its initializer; never in the parent.
_WORKER_CONTEXT: Any = None


def _set_worker_context(context: Any) -> None:
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context


def _call_with_worker_context(fn: TaskFn, task: Any) -> Any:
    return fn(_WORKER_CONTEXT, task)


class ProcessExecutor:
    """A pool of worker processes; tasks stream through it, results come back in order.

    Workers are started with ``spawn`` so a pool created from a threaded program (the
    service) never inherits a lock held by another thread at fork time. At most
    ``workers * IN_FLIGHT_PER_WORKER`` tasks are submitted ahead of the results the
    caller has taken, so the task iterator (and its cancel check) advances with the
    job, and results waiting to be taken stay few. A worker that dies (killed, out of
    memory) raises ``BrokenProcessPool`` instead of hanging the job.
    """

    def __init__(self, workers: int, context: Any) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_set_worker_context,
            initargs=(context,),
        )
        self._window = workers * IN_FLIGHT_PER_WORKER

    def map(self, fn: TaskFn, tasks: Iterable[Any]) -> Iterator[Any]:
        call = functools.partial(_call_with_worker_context, fn)
        in_flight: deque[Future[Any]] = deque()
        for task in tasks:
            in_flight.append(self._pool.submit(call, task))
            if len(in_flight) >= self._window:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """The machine's cores (what ``--workers`` defaults to)."""
    return os.cpu_count() or 1


def make_executor(kind: str, workers: int, context: Any) -> Executor:
    """An executor of ``kind`` (``process`` with one worker runs serially, in-process)."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if kind not in EXECUTORS:
        raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if kind == "serial" or workers == 1:
        return SerialExecutor(context)
    return ProcessExecutor(workers, context)
