"""The job dispatcher: a thread beside the web server feeding jobs to worker processes.

Jobs never run on the event loop nor in the web server's process. The dispatcher
thread claims pending jobs (oldest first, at most ``job_processes`` at a time) and
submits each to a ``spawn`` process pool; when a run returns, it records metrics and
wakes the job's long-polling requests. A worker that dies (killed, out of memory) breaks
the pool: its jobs go back to pending, up to :data:`MAX_ATTEMPTS` runs, and a new pool
is made.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dicomscrub.logsafe import log_unexpected
from dicomscrub.service.execution import JobOutcome, execute_job, init_job_process
from dicomscrub.service.job_store import (
    JobState,
    claim_job,
    finish_job,
    get_job,
    list_pending,
    requeue_interrupted,
    requeue_job,
)
from dicomscrub.service.metrics import ServiceMetrics
from dicomscrub.service.settings import ServiceSettings

__all__ = ["MAX_ATTEMPTS", "Dispatcher"]

log = logging.getLogger("dicomscrub.service")

#: Runs a job gets before a crashing job is given up as ERROR.
MAX_ATTEMPTS: Final = 5
#: How often the dispatcher looks for pending jobs when nobody wakes it.
_IDLE_SECONDS: Final = 1.0


class Dispatcher:
    """Claims pending jobs and runs them in a pool of job processes."""

    def __init__(
        self,
        engine: Engine,
        settings: ServiceSettings,
        key: bytes,
        metrics: ServiceMetrics,
        on_job_end: Callable[[str], None],
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._key = key
        self._metrics = metrics
        self._on_job_end = on_job_end
        self._ctx = multiprocessing.get_context("spawn")
        self._stop_event = self._ctx.Event()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, Future[JobOutcome]] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False
        self._thread = threading.Thread(target=self._loop, name="job-dispatcher", daemon=True)

    def start(self) -> None:
        """Queue again what a previous server left running, then start dispatching."""
        resumed = requeue_interrupted(self._engine)
        if resumed:
            log.info("resuming %d interrupted job(s)", len(resumed))
            self._metrics.job_restarts.inc(len(resumed))
        self._thread.start()

    def wake(self) -> None:
        """Look for pending jobs now (a job was just submitted)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask running jobs to stop between files, then shut the pool down.

        Interrupted jobs stay "running" in the database and resume at the next start.
        """
        self._stopping.set()
        self._stop_event.set()
        self._wake.set()
        self._thread.join(timeout)
        with self._lock:
            pool = self._pool
            self._pool = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _make_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._settings.job_processes,
            mp_context=self._ctx,
            initializer=init_job_process,
            initargs=(os.getpid(), self._stop_event, self._settings.log_level),
        )

    def _loop(self) -> None:
        # The processes of the pool are started from this thread; with PR_SET_PDEATHSIG
        # they die with it, so it must live as long as the server: nothing may end it.
        while not self._stopping.is_set():
            try:
                self._dispatch_pending()
            except BrokenProcessPool:
                self._broken = True
            except (OSError, SQLAlchemyError) as exc:
                # A database hiccup must not end this thread (see above); try again soon.
                log.error("dispatcher: %s", type(exc).__name__)
            self._wake.wait(_IDLE_SECONDS)
            self._wake.clear()

    def _dispatch_pending(self) -> None:
        with self._lock:
            if self._broken and not self._running:
                # Every job of the broken pool has been accounted for: start afresh.
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._broken = False
            if self._broken:
                return
            free = self._settings.job_processes - len(self._running)
        if free <= 0:
            return
        for job_id in list_pending(self._engine, free):
            if self._stopping.is_set() or not claim_job(self._engine, job_id):
                continue
            with self._lock:
                if self._pool is None:
                    self._pool = self._make_pool()
                future = self._pool.submit(execute_job, self._settings, self._key, job_id)
                self._running[job_id] = future
            self._metrics.jobs_running.inc()
            future.add_done_callback(functools.partial(self._done, job_id))

    def _done(self, job_id: str, future: Future[JobOutcome]) -> None:
        with self._lock:
            self._running.pop(job_id, None)
        self._metrics.jobs_running.dec()
        # exception() hands over whatever ended the run without re-raising it here.
        error = None if future.cancelled() else future.exception()
        if future.cancelled():
            pass  # the pool was shut down before the job started; it is resumed at start
        elif isinstance(error, BrokenProcessPool):
            self._broken = True
            self._after_crash(job_id)
        elif error is not None:
            # A bug in the service's job code, not in a file (run_batch reports those).
            log_unexpected(log, f"job {job_id}", error)
            finish_job(self._engine, job_id, state=JobState.ERROR, error_message="internal error")
            self._metrics.jobs_finished.labels(JobState.ERROR.value).inc()
        else:
            self._record(future.result())
        self._on_job_end(job_id)
        self._wake.set()

    def _record(self, outcome: JobOutcome) -> None:
        if outcome.state == "interrupted":
            return
        self._metrics.jobs_finished.labels(outcome.state).inc()
        self._metrics.job_duration.observe(outcome.seconds)
        for status, count in (
            ("saved", outcome.saved),
            ("skipped", outcome.skipped),
            ("failed", outcome.failed),
        ):
            self._metrics.files.labels(status).inc(count)

    def _after_crash(self, job_id: str) -> None:
        """A worker process died under ``job_id``: run it again, or give it up."""
        if self._stopping.is_set():
            return
        job = get_job(self._engine, job_id)
        if job is None or job.state.is_final:
            return
        if job.attempts >= MAX_ATTEMPTS:
            finish_job(
                self._engine,
                job_id,
                state=JobState.ERROR,
                error_message=f"the job's worker process died {job.attempts} times",
            )
            self._metrics.jobs_finished.labels(JobState.ERROR.value).inc()
            return
        log.warning("job %s: worker process died; queued again", job_id)
        self._metrics.job_restarts.inc()
        requeue_job(self._engine, job_id)
