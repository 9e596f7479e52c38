"""``/dicom-deidentification``: submit, long-poll, report, list and cancel jobs."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from starlette.concurrency import run_in_threadpool

from dicomscrub.service.context import Context, Owner, ServiceContext
from dicomscrub.service.http_errors import ApiError
from dicomscrub.service.integration_store import get_integration_info
from dicomscrub.service.job_store import (
    JobState,
    JobView,
    create_job,
    get_job,
    list_jobs,
    report_page,
    request_cancel,
)
from dicomscrub.service.schemas import (
    DeidentifyRequest,
    JobCreated,
    JobList,
    JobResult,
    JobSummaryOut,
    ReportPage,
)

__all__ = ["router"]

router = APIRouter(prefix="/dicom-deidentification", tags=["jobs"])

#: A long-poll re-reads the job at least this often, in case a wake-up was missed.
_RECHECK_SECONDS = 5.0


def _not_found(job_id: str) -> ApiError:
    return ApiError(404, f"no job {job_id}")


def _result(job: JobView) -> JobResult:
    return JobResult(
        status=job.state.reference_status,
        urls=job.urls if job.state is JobState.DONE else [],
        state=job.state.value,
        total=job.total,
        processed=job.processed,
        error=job.error_message,
    )


@router.post("", status_code=201)
async def submit(
    payload: Annotated[DeidentifyRequest, Body()], context: Context, owner: Owner
) -> JobCreated:
    """Queue a job; answers its UUID at once."""
    if payload.integration_uuid is not None:
        found = await run_in_threadpool(
            get_integration_info,
            context.engine,
            context.vault,
            str(payload.integration_uuid),
            owner=owner,
        )
        if found is None:
            raise ApiError(422, "integration_uuid: no such integration", code="invalid-payload")
    job_id = await run_in_threadpool(
        create_job,
        context.engine,
        owner=owner,
        payload=payload.model_dump(mode="json"),
        timestamp=int(time.time()),
    )
    context.metrics.jobs_submitted.inc()
    context.job_submitted()
    return JobCreated(uuid=job_id)


@router.get("")
async def list_owner_jobs(
    context: Context,
    owner: Owner,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobList:
    """The caller's jobs, newest first."""
    jobs = await run_in_threadpool(
        list_jobs, context.engine, owner=owner, limit=limit + 1, offset=offset
    )
    more = len(jobs) > limit
    return JobList(
        jobs=[
            JobSummaryOut(
                uuid=j.id,
                status=j.state.reference_status,
                state=j.state.value,
                total=j.total,
                processed=j.processed,
                created_at=j.created_at.isoformat(),
                finished_at=j.finished_at.isoformat() if j.finished_at else None,
            )
            for j in jobs[:limit]
        ],
        next_offset=offset + limit if more else None,
    )


async def _wait_for_end(
    context: ServiceContext, job_id: str, owner: str, timeout: float
) -> JobView:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        with context.events.waiter(job_id) as ended:
            job = await run_in_threadpool(get_job, context.engine, job_id, owner=owner)
            if job is None:
                raise _not_found(job_id)
            remaining = deadline - loop.time()
            if job.state.is_final or remaining <= 0:
                return job
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended, min(remaining, _RECHECK_SECONDS))


@router.get("/{job_id}")
async def get_result(
    job_id: uuid.UUID,
    context: Context,
    owner: Owner,
    timeout_seconds: Annotated[float, Query(ge=0)] = 0,
) -> JobResult:
    """The job's status and outputs; waits up to ``timeout_seconds`` (capped) for its end."""
    timeout = min(timeout_seconds, context.settings.max_poll_seconds)
    return _result(await _wait_for_end(context, str(job_id), owner, timeout))


@router.get("/{job_id}/report")
async def get_report(
    job_id: uuid.UUID,
    context: Context,
    owner: Owner,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ReportPage:
    """The per-file reports persisted so far, in the order files finished."""
    job = await run_in_threadpool(get_job, context.engine, str(job_id), owner=owner)
    if job is None:
        raise _not_found(str(job_id))
    reports, total = await run_in_threadpool(
        report_page, context.engine, str(job_id), limit=limit, offset=offset
    )
    end = offset + len(reports)
    return ReportPage(reports=reports, total=total, next_offset=end if end < total else None)


@router.delete("/{job_id}")
async def cancel(job_id: uuid.UUID, context: Context, owner: Owner) -> dict[str, Any]:
    """Cancel a pending or running job (a running one stops between files)."""
    job = await run_in_threadpool(get_job, context.engine, str(job_id), owner=owner)
    if job is None:
        raise _not_found(str(job_id))
    if job.state.is_final:
        raise ApiError(409, f"job {job_id} has already ended ({job.state.value})")
    state = await run_in_threadpool(request_cancel, context.engine, str(job_id))
    if state is JobState.CANCELLED:
        context.metrics.jobs_finished.labels(state.value).inc()
        context.events.notify(str(job_id))
    return {"uuid": str(job_id), "state": state.value, "cancel_requested": True}
