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
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Protocol

from dicomscrub.errors import ConfigError

__all__ = [
    "EXECUTORS",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "default_workers",
    "make_executor",
    "thread_map",
]

#: A per-file function: ``fn(context, task) -> result``; it must not raise.
TaskFn = Callable[[Any, Any], Any]

EXECUTORS = ("serial", "process")

#: Tasks submitted per worker ahead of the caller: enough to keep every worker busy
#: while results travel back, few enough that a cancel is noticed soon.
IN_FLIGHT_PER_WORKER = 3
#: Tasks sent to a worker in one message: per-file work is a few milliseconds, so one
#: message per file would spend as long on pickling and queue hand-offs as on the work.
CHUNK = 8


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
    """Keep ``context`` for this worker's tasks; let it set the process up if it can
    (``context.enter_worker()``, e.g. one OpenCV thread per worker)."""
    global _WORKER_CONTEXT
    _WORKER_CONTEXT = context
    enter = getattr(context, "enter_worker", None)
    if callable(enter):
        enter()


def _start_method(*, may_fork: bool = True) -> multiprocessing.context.BaseContext:
    """``fork`` from a single-threaded process (the CLI), else a ``forkserver``.

    A forked worker starts at once with everything the parent imported; the forkserver
    first imports the engine itself (about half a second, during which no file is
    processed). Forking is safe only while no other thread exists (one holding a lock
    at that instant would leave it held forever in the child), so a threaded program
    (the service, or a job whose object-storage client runs its event-loop thread)
    gets the forkserver. ``may_fork=False`` asks for the forkserver too: native threads
    (onnxruntime's, once a model has run here) are invisible to :mod:`threading`.
    """
    if (
        may_fork
        and threading.active_count() == 1
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["dicomscrub.batch.worker"])
    return ctx


def _noop() -> None:
    return None


def thread_map(fn: TaskFn, context: Any, tasks: Iterable[Any], threads: int) -> Iterator[Any]:
    """``fn(context, task)`` for each task in order, ``threads`` at a time, in this
    process: for the header pass, which waits on storage more than it computes."""
    if threads <= 1:
        yield from (fn(context, task) for task in tasks)
        return
    window = threads * 2
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dicomscrub-headers") as pool:
        in_flight: deque[Future[Any]] = deque()
        for task in tasks:
            in_flight.append(pool.submit(fn, context, task))
            if len(in_flight) >= window:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def _call_chunk(fn: TaskFn, tasks: list[Any]) -> list[Any]:
    return [fn(_WORKER_CONTEXT, task) for task in tasks]


class ProcessExecutor:
    """A pool of worker processes; tasks stream through it, results come back in order.

    Workers are forked from this process when it has a single thread, else from a
    ``forkserver`` that has already imported the engine (see :func:`_start_method`):
    either way a worker is ready in milliseconds instead of re-importing pydicom and
    numpy as ``spawn`` would, and a pool created from a threaded program (the service)
    never inherits a lock held by another thread at fork time. At most
    ``workers * IN_FLIGHT_PER_WORKER`` chunks of :data:`CHUNK` tasks are submitted
    ahead of the results the caller has taken, so the task iterator (and its cancel
    check) advances with the job, and results waiting to be taken stay few. A worker
    that dies (killed, out of memory) raises ``BrokenProcessPool`` instead of hanging the job.
    """

    def __init__(self, workers: int, context: Any, *, may_fork: bool = True) -> None:
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_start_method(may_fork=may_fork),
            initializer=_set_worker_context,
            initargs=(context,),
        )
        self._window = workers * IN_FLIGHT_PER_WORKER
        self._workers = workers

    def map(self, fn: TaskFn, tasks: Iterable[Any]) -> Iterator[Any]:
        call = functools.partial(_call_chunk, fn)
        in_flight: deque[Future[list[Any]]] = deque()
        chunk: list[Any] = []
        for task in tasks:
            chunk.append(task)
            if len(chunk) < CHUNK:
                continue
            in_flight.append(self._pool.submit(call, chunk))
            chunk = []
            if len(in_flight) >= self._window:
                yield from in_flight.popleft().result()
        if chunk:
            in_flight.append(self._pool.submit(call, chunk))
        while in_flight:
            yield from in_flight.popleft().result()

    def warm(self) -> None:
        """Start the workers now (from a forkserver they take ~0.5 s to import), so
        they are ready by the time the parent has read the headers."""
        for _ in range(self._workers):
            self._pool.submit(_noop)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def default_workers() -> int:
    """The machine's cores (what ``--workers`` defaults to)."""
    return os.cpu_count() or 1


def make_executor(kind: str, workers: int, context: Any, *, may_fork: bool = True) -> Executor:
    """An executor of ``kind`` (``process`` with one worker runs serially, in-process);
    ``may_fork`` as for :func:`_start_method`."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    if kind not in EXECUTORS:
        raise ConfigError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")
    if kind == "serial" or workers == 1:
        return SerialExecutor(context)
    return ProcessExecutor(workers, context, may_fork=may_fork)
