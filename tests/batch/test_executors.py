"""Executors: results in task order, the job's context passed along, bad settings refused."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from dicomscrub.batch.executors import (
    CHUNK,
    IN_FLIGHT_PER_WORKER,
    ProcessExecutor,
    SerialExecutor,
    default_workers,
    make_executor,
)
from dicomscrub.errors import ConfigError


def scale(context: int, task: int) -> tuple[int, int, int]:
    """A per-file function: the context times the task, and the pid that ran it."""
    return task, context * task, os.getpid()


def test_serial_runs_lazily_in_this_process() -> None:
    pulled: list[int] = []

    def tasks() -> Iterator[int]:
        for i in range(5):
            pulled.append(i)
            yield i

    results = SerialExecutor(3).map(scale, tasks())
    assert pulled == []
    assert next(results) == (0, 0, os.getpid())
    assert pulled == [0]
    assert [r[1] for r in results] == [3, 6, 9, 12]


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessExecutor]:
    """One pool of two workers whose context is 7 (starting a pool takes seconds)."""
    executor = ProcessExecutor(2, 7)
    yield executor
    executor.close()


def test_process_pool_keeps_order_and_context(pool: ProcessExecutor) -> None:
    results = list(pool.map(scale, range(40)))
    assert [r[0] for r in results] == list(range(40))
    assert [r[1] for r in results] == [7 * i for i in range(40)]
    assert os.getpid() not in {r[2] for r in results}


def test_process_pool_pulls_tasks_as_results_are_taken(pool: ProcessExecutor) -> None:
    pulled: list[int] = []

    def tasks() -> Iterator[int]:
        for i in range(100):
            pulled.append(i)
            yield i

    results = pool.map(scale, tasks())
    next(results)
    # A bounded window of chunks is in flight, not the whole job.
    assert len(pulled) <= 2 * IN_FLIGHT_PER_WORKER * CHUNK + CHUNK < 100
    assert len(list(results)) == 99


def test_serial_executors_in_threads_keep_their_own_context() -> None:
    outcomes: dict[int, list[int]] = {}

    def run(context: int) -> None:
        outcomes[context] = [r[1] for r in SerialExecutor(context).map(scale, range(200))]

    threads = [threading.Thread(target=run, args=(c,)) for c in (2, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == {2: [2 * i for i in range(200)], 5: [5 * i for i in range(200)]}


@pytest.mark.parametrize(
    ("kind", "workers", "expected"),
    [
        ("process", 1, SerialExecutor),
        ("serial", 4, SerialExecutor),
        ("process", 2, ProcessExecutor),
    ],
)
def test_make_executor_picks(kind: str, workers: int, expected: type) -> None:
    executor = make_executor(kind, workers, None)
    try:
        assert isinstance(executor, expected)
    finally:
        executor.close()


@pytest.mark.parametrize(("kind", "workers"), [("process", 0), ("serial", -1), ("threads", 2)])
def test_make_executor_refuses(kind: str, workers: int) -> None:
    with pytest.raises(ConfigError):
        make_executor(kind, workers, None)


def test_default_workers_is_the_cpu_count() -> None:
    assert default_workers() == (os.cpu_count() or 1)


def test_workers_fork_only_from_a_single_threaded_process() -> None:
    from dicomscrub.batch.executors import _start_method

    # A fresh interpreter has one thread (this one may have others, left by other tests).
    code = (
        "from dicomscrub.batch.executors import _start_method as m; print(m().get_start_method())"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == "fork"
    assert _start_method(may_fork=False).get_start_method() == "forkserver"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method().get_start_method() == "forkserver"
    finally:
        stop.set()
        other.join()
