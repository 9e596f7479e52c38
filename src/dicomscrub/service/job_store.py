"""Jobs and their per-file reports in the database.

Both the web server (submit, read, cancel) and the job processes (claim, record
progress, finish) go through these functions; every one opens its own short session,
so they are safe from any thread or process.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dicomscrub.report.models import FileReport, FileStatus
from dicomscrub.service.db import JobFileRow, JobRow, utcnow

__all__ = [
    "JobState",
    "JobView",
    "claim_job",
    "create_job",
    "finish_job",
    "get_job",
    "is_cancel_requested",
    "list_jobs",
    "list_pending",
    "previous_reports",
    "record_report",
    "report_page",
    "request_cancel",
    "requeue_interrupted",
    "requeue_job",
    "saved_urls",
]


class JobState(StrEnum):
    """Where a job is in its life; the last three are final."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        """Whether the job will not change any more."""
        return self in (JobState.DONE, JobState.ERROR, JobState.CANCELLED)

    @property
    def reference_status(self) -> str:
        """The reference API's status: DONE, ERROR or PENDING."""
        if self is JobState.DONE:
            return "DONE"
        if self in (JobState.ERROR, JobState.CANCELLED):
            return "ERROR"
        return "PENDING"


@dataclass(frozen=True)
class JobView:
    """A snapshot of one job, detached from the database."""

    id: str
    owner: str
    state: JobState
    payload: dict[str, Any]
    timestamp: int
    total: int
    processed: int
    attempts: int
    cancel_requested: bool
    error_message: str | None
    summary: dict[str, Any] | None
    urls: list[str]
    created_at: dt.datetime
    finished_at: dt.datetime | None


def _view(row: JobRow, processed: int) -> JobView:
    return JobView(
        id=row.id,
        owner=row.owner,
        state=JobState(row.state),
        payload=dict(row.payload),
        timestamp=row.timestamp,
        total=row.total,
        processed=processed,
        attempts=row.attempts,
        cancel_requested=row.cancel_requested,
        error_message=row.error_message,
        summary=row.summary,
        urls=list(row.urls or []),
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


def _processed(session: Session, job_id: str) -> int:
    count = session.scalar(select(func.count()).where(JobFileRow.job_id == job_id))
    return int(count or 0)


def create_job(engine: Engine, *, owner: str, payload: dict[str, Any], timestamp: int) -> str:
    """Store a new pending job; returns its UUID."""
    job_id = str(uuid.uuid4())
    with Session(engine) as session, session.begin():
        session.add(
            JobRow(
                id=job_id,
                owner=owner,
                state=JobState.PENDING.value,
                payload=payload,
                timestamp=timestamp,
                total=len(payload.get("dicom_urls", [])),
                attempts=0,
                cancel_requested=False,
                created_at=utcnow(),
            )
        )
    return job_id


def get_job(engine: Engine, job_id: str, *, owner: str | None = None) -> JobView | None:
    """The job ``job_id``; None when it does not exist or belongs to another owner."""
    with Session(engine) as session:
        row = session.get(JobRow, job_id)
        if row is None or (owner is not None and row.owner != owner):
            return None
        return _view(row, _processed(session, job_id))


def list_jobs(engine: Engine, *, owner: str, limit: int, offset: int) -> list[JobView]:
    """The owner's jobs, newest first."""
    with Session(engine) as session:
        counts = (
            select(JobFileRow.job_id, func.count().label("n"))
            .group_by(JobFileRow.job_id)
            .subquery()
        )
        rows = session.execute(
            select(JobRow, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.job_id == JobRow.id)
            .where(JobRow.owner == owner)
            .order_by(JobRow.created_at.desc(), JobRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_view(row, int(n)) for row, n in rows]


def report_page(
    engine: Engine, job_id: str, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Reports of ``job_id`` in the order they finished, and how many there are."""
    with Session(engine) as session:
        reports = session.scalars(
            select(JobFileRow.report)
            .where(JobFileRow.job_id == job_id)
            .order_by(JobFileRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [dict(r) for r in reports], _processed(session, job_id)


def request_cancel(engine: Engine, job_id: str) -> JobState:
    """Ask a job to stop; a pending job is cancelled at once. Returns the new state."""
    with Session(engine) as session, session.begin():
        row = session.get(JobRow, job_id, with_for_update=True)
        if row is None:
            raise KeyError(job_id)
        state = JobState(row.state)
        if state is JobState.PENDING:
            row.state = JobState.CANCELLED.value
            row.finished_at = utcnow()
            row.urls = []
            return JobState.CANCELLED
        if state is JobState.RUNNING:
            row.cancel_requested = True
        return state


def is_cancel_requested(engine: Engine, job_id: str) -> bool:
    """Whether someone asked ``job_id`` to stop."""
    with Session(engine) as session:
        return bool(session.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))


def list_pending(engine: Engine, limit: int) -> list[str]:
    """Ids of pending jobs, oldest first."""
    with Session(engine) as session:
        return list(
            session.scalars(
                select(JobRow.id)
                .where(JobRow.state == JobState.PENDING.value)
                .order_by(JobRow.created_at, JobRow.id)
                .limit(limit)
            )
        )


def claim_job(engine: Engine, job_id: str) -> bool:
    """Move a pending job to running; False if it is no longer pending."""
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.PENDING.value)
            .values(
                state=JobState.RUNNING.value,
                attempts=JobRow.attempts + 1,
                started_at=utcnow(),
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def requeue_interrupted(engine: Engine) -> list[str]:
    """Make jobs left running by a stopped server pending again; returns their ids.

    One server owns the database: whatever is "running" at its start was running in
    a process that no longer exists.
    """
    with Session(engine) as session, session.begin():
        ids = list(session.scalars(select(JobRow.id).where(JobRow.state == JobState.RUNNING.value)))
        if ids:
            session.execute(
                update(JobRow).where(JobRow.id.in_(ids)).values(state=JobState.PENDING.value)
            )
        return ids


def requeue_job(engine: Engine, job_id: str) -> None:
    """Put one running job back to pending (its worker process died)."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.RUNNING.value)
            .values(state=JobState.PENDING.value)
        )


def record_report(engine: Engine, job_id: str, report: FileReport) -> None:
    """Persist the report of one input (replacing that input's earlier report)."""
    data = report.to_json()
    with Session(engine) as session, session.begin():
        row = session.scalar(
            select(JobFileRow).where(JobFileRow.job_id == job_id, JobFileRow.url == report.url)
        )
        if row is None:
            session.add(
                JobFileRow(job_id=job_id, url=report.url, status=report.status.value, report=data)
            )
        else:
            row.status = report.status.value
            row.report = data


def previous_reports(engine: Engine, job_id: str) -> dict[str, FileReport]:
    """Reports persisted by an earlier, interrupted run of ``job_id``, by input URL."""
    with Session(engine) as session:
        rows = session.scalars(select(JobFileRow.report).where(JobFileRow.job_id == job_id))
        return {r["url"]: FileReport.from_json(dict(r)) for r in rows}


def saved_urls(engine: Engine, job_id: str) -> list[str]:
    """The written outputs of ``job_id``, in the order the inputs finished."""
    with Session(engine) as session:
        rows = session.scalars(
            select(JobFileRow.report)
            .where(JobFileRow.job_id == job_id, JobFileRow.status == FileStatus.SAVED.value)
            .order_by(JobFileRow.id)
        )
        return [r["url_deid"] for r in rows if r.get("url_deid")]


def finish_job(
    engine: Engine,
    job_id: str,
    *,
    state: JobState,
    summary: dict[str, Any] | None = None,
    error_message: str | None = None,
    urls: Sequence[str] = (),
) -> None:
    """Record how a job ended."""
    with Session(engine) as session, session.begin():
        row = session.get(JobRow, job_id)
        if row is None:
            return
        row.state = state.value
        row.summary = summary
        row.error_message = error_message
        row.urls = list(urls)
        row.finished_at = utcnow()
        if summary is not None:
            row.total = int(summary.get("total", row.total))
