"""Run one job inside a job process: build its JobSpec and hand it to ``run_batch``.

This is the service's side of the engine seam. Everything here runs in a worker process
of the dispatcher's pool, never in the web server: the process reads the job from the
database, opens the integration's credentials, persists each file's report as it
finishes (that is the progress a restarted server resumes from), and records the end.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy.engine import Engine

from dicomscrub.batch.runner import BatchSummary, run_batch
from dicomscrub.batch.spec import JobSpec
from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.profile.options import parse_options
from dicomscrub.profile.policy import PixelMode, Policy
from dicomscrub.service.db import make_engine
from dicomscrub.service.integration_store import open_integration
from dicomscrub.service.job_store import (
    JobState,
    JobView,
    finish_job,
    get_job,
    is_cancel_requested,
    previous_reports,
    record_report,
    saved_urls,
)
from dicomscrub.service.schemas import DeidentifyRequest
from dicomscrub.service.settings import ServiceSettings
from dicomscrub.service.vault import load_vault

__all__ = ["JobOutcome", "build_spec", "execute_job", "init_job_process"]

log = logging.getLogger("dicomscrub.service.jobs")

_PR_SET_PDEATHSIG = 1
_parent_pid: int | None = None
_stop_event: Any = None


@dataclass(frozen=True)
class JobOutcome:
    """What the dispatcher learns when a job run returns."""

    job_id: str
    state: str  # a JobState value, or "interrupted" when the server is stopping
    seconds: float
    saved: int = 0
    skipped: int = 0
    failed: int = 0


def init_job_process(parent_pid: int, stop_event: Any, log_level: str) -> None:
    """Initializer of each job process: die with the server, log like the server."""
    global _parent_pid, _stop_event
    _parent_pid = parent_pid
    _stop_event = stop_event
    if sys.platform.startswith("linux"):
        # If the server is killed (kill -9) its job processes must not go on writing:
        # the restarted server resumes the job and would write those files again.
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)  # the server died before prctl took effect
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s [job %(process)d] %(name)s: %(message)s",
    )


def _server_gone() -> bool:
    return _parent_pid is not None and os.getppid() != _parent_pid


def _stopping() -> bool:
    return bool(_stop_event is not None and _stop_event.is_set())


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


def build_spec(
    request: DeidentifyRequest,
    job: JobView,
    *,
    key: bytes,
    settings: ServiceSettings,
    integration: Any,
) -> JobSpec:
    """The engine's JobSpec for a stored request: the same spec the CLI would build."""
    policy = Policy(
        key=key,
        options=parse_options(request.options),
        redact_tags=request.redact_dicom_tags,
        pixels=PixelMode.from_reference(request.redact_pixels_mode.value),
    )
    workers = settings.job_workers
    return JobSpec(
        sources=tuple(request.dicom_urls),
        policy=policy,
        out=request.upload_dir,
        conditions=request.conditions(),
        # Fixed at submission: a resumed run names its outputs as the first run did.
        timestamp=job.timestamp,
        workers=workers,
        executor="process" if workers > 1 else "serial",
        report_url=str(settings.data_dir / "reports" / f"{job.id}.jsonl"),
        input_integration=integration,
        output_integration=integration,
    )


def _final_state(summary: BatchSummary) -> JobState:
    if summary.cancelled:
        return JobState.CANCELLED
    # A job whose every input failed did nothing useful: the reference's ERROR.
    if summary.total and summary.failed == summary.total:
        return JobState.ERROR
    return JobState.DONE


def _error_message(state: JobState, summary: BatchSummary) -> str | None:
    if state is JobState.CANCELLED:
        return "cancelled"
    if state is JobState.ERROR:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(summary.failures_by_code.items()))
        return f"every input failed ({codes})"
    return None


def _ordered_urls(engine: Engine, job_id: str, request: DeidentifyRequest) -> list[str]:
    """Written outputs: in the order of the request's inputs, then in finishing order."""
    position = {url: i for i, url in enumerate(request.dicom_urls)}
    finished = saved_urls(engine, job_id)
    rank = {url: i for i, url in enumerate(finished)}
    inputs = {
        report.url_deid: url
        for url, report in previous_reports(engine, job_id).items()
        if report.url_deid
    }
    return sorted(
        finished, key=lambda out: (position.get(inputs.get(out, ""), len(position)), rank[out])
    )


def execute_job(settings: ServiceSettings, key: bytes, job_id: str) -> JobOutcome:
    """Run (or resume) job ``job_id`` to its end and record the outcome."""
    start = time.perf_counter()
    engine = _engine(settings.effective_database_url)
    job = get_job(engine, job_id)
    if job is None:
        return JobOutcome(job_id, JobState.ERROR.value, 0.0)

    def fail(message: str) -> JobOutcome:
        finish_job(engine, job_id, state=JobState.ERROR, error_message=message)
        log.warning("job %s failed: %s", job_id, message)
        return JobOutcome(job_id, JobState.ERROR.value, time.perf_counter() - start)

    try:
        request = DeidentifyRequest.model_validate(job.payload)
        integration = None
        if request.integration_uuid is not None:
            vault = load_vault(settings.effective_secret_key_file)
            integration = open_integration(
                engine, vault, str(request.integration_uuid), owner=job.owner
            )
            if integration is None:
                return fail("the job's integration no longer exists")
        spec = build_spec(request, job, key=key, settings=settings, integration=integration)
        previous = previous_reports(engine, job_id)
        log.info("job %s: running (%d earlier reports)", job_id, len(previous))
        summary = run_batch(
            spec,
            on_report=lambda report: record_report(engine, job_id, report),
            should_cancel=lambda: (
                _server_gone() or _stopping() or is_cancel_requested(engine, job_id)
            ),
            previous=previous,
        )
    except ConfigError as exc:
        return fail(str(exc))
    except StorageError as exc:
        return fail(f"storage: {exc}")
    seconds = time.perf_counter() - start
    if summary.cancelled and (_stopping() or _server_gone()):
        # Not the user's cancel: the server is going away. The job stays "running" so the
        # next start queues it again and resumes from the reports persisted so far.
        log.info("job %s: interrupted by server shutdown", job_id)
        return JobOutcome(job_id, "interrupted", seconds)
    state = _final_state(summary)
    urls = _ordered_urls(engine, job_id, request)
    finish_job(
        engine,
        job_id,
        state=state,
        summary={
            "total": summary.total,
            "saved": summary.saved,
            "skipped": summary.skipped,
            "failed": summary.failed,
            "failures_by_code": dict(summary.failures_by_code),
        },
        error_message=_error_message(state, summary),
        urls=urls,
    )
    log.info(
        "job %s: %s (%d saved, %d skipped, %d failed)",
        job_id,
        state.value,
        summary.saved,
        summary.skipped,
        summary.failed,
    )
    return JobOutcome(job_id, state.value, seconds, summary.saved, summary.skipped, summary.failed)
