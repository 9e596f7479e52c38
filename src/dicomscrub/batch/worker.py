"""The work done for one file (in this process or a worker), and the per-file failure boundary.

Both per-file functions take the job's :class:`WorkerContext` and one task, and never
raise: any failure becomes a :class:`~dicomscrub.report.models.ReportError` in their
result. Results are small (UIDs, counts, condition outcomes); datasets never leave the
function that read them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from dicomscrub.conditions import Condition, evaluate_conditions
from dicomscrub.errors import FileError, StorageError
from dicomscrub.pipeline import read_dataset, scrub_bytes
from dicomscrub.profile.policy import Policy
from dicomscrub.report.models import ReportError
from dicomscrub.storage import open_read, read_bytes, write_atomic
from dicomscrub.storage.integrations import Integration

__all__ = [
    "HeaderInfo",
    "HeaderTask",
    "ProcessTask",
    "ScrubOutcome",
    "WorkerContext",
    "read_header",
    "scrub_one",
]

log = logging.getLogger("dicomscrub.batch")


@dataclass(frozen=True)
class WorkerContext:
    """What every per-file call of a job needs; sent once to each worker process."""

    policy: Policy
    conditions: tuple[Condition, ...]
    input_integration: Integration | None
    output_integration: Integration | None
    dry_run: bool
    record_actions: bool


@dataclass(frozen=True)
class HeaderTask:
    """Read the header of ``url``."""

    url: str


@dataclass(frozen=True)
class ProcessTask:
    """De-identify ``url`` and write it to ``out_url`` (not in a dry run)."""

    url: str
    out_url: str | None


@dataclass
class HeaderInfo:
    """The facts of one file's header the runner keeps: UIDs and condition outcomes."""

    url: str
    study: str | None = None
    series: str | None = None
    sop: str | None = None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    passed: bool = False
    error: ReportError | None = None


@dataclass
class ScrubOutcome:
    """What de-identifying one file gave: new UIDs, counts, and dry-run actions."""

    url: str
    study_deid: str | None = None
    series_deid: str | None = None
    actions_applied: int = 0
    pixel_regions: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None
    error: ReportError | None = None


def _kw(integration: Integration | None) -> dict[str, Any]:
    return {} if integration is None else {"integration": integration}


def _uid(value: object) -> str | None:
    return str(value or "").strip() or None


def report_error(exc: BaseException, *, writing: bool = False) -> ReportError:
    """The report's ``error`` for an exception raised while handling one file."""
    if isinstance(exc, FileError):
        return ReportError(exc.code, exc.message)
    if isinstance(exc, StorageError):
        remote = "://" in exc.url and not exc.url.startswith("file://")
        message = str(exc.args[0])
        if writing and not exc.retryable and not remote:
            return ReportError("output-unwritable", message)
        if exc.retryable or remote:
            return ReportError("storage", message + (" (retryable)" if exc.retryable else ""))
        return ReportError("unreadable", message)
    return ReportError("internal", f"{type(exc).__name__} while processing the file")


def read_header(ctx: WorkerContext, task: HeaderTask) -> HeaderInfo:
    """Read one file's header (no pixel data) and evaluate the save conditions."""
    info = HeaderInfo(task.url)
    try:
        with open_read(task.url, **_kw(ctx.input_integration)) as fh:
            ds = read_dataset(fh, headers_only=True)
        info.study = _uid(ds.get("StudyInstanceUID"))
        info.series = _uid(ds.get("SeriesInstanceUID"))
        info.sop = _uid(ds.get("SOPInstanceUID"))
        evaluations, info.passed = evaluate_conditions(ctx.conditions, ds)
        info.evaluations = [e.to_json() for e in evaluations]
        if info.series is None:
            raise FileError("missing-series-uid")
        if info.sop is None:
            raise FileError("missing-sop-uid")
    except Exception as exc:  # the per-file failure boundary: this file fails, not the job
        info.error = report_error(exc)
        if not isinstance(exc, FileError | StorageError):
            log.exception("unexpected error reading a header")
    return info


def scrub_one(ctx: WorkerContext, task: ProcessTask) -> ScrubOutcome:
    """De-identify one file and write it (unless dry run); never raises."""
    outcome = ScrubOutcome(task.url)
    writing = False
    try:
        data = read_bytes(task.url, **_kw(ctx.input_integration))
        new, result = scrub_bytes(data, ctx.policy)
        del data  # the source bytes are not needed while the output is written
        ds = result.dataset
        outcome.study_deid = _uid(ds.get("StudyInstanceUID"))
        outcome.series_deid = _uid(ds.get("SeriesInstanceUID"))
        outcome.actions_applied = result.actions_applied
        outcome.pixel_regions = result.pixel_regions if result.pixels_processed else None
        if ctx.record_actions and result.header is not None:
            outcome.actions = [a.to_json() for a in result.header.actions]
        if not ctx.dry_run and task.out_url is not None:
            writing = True
            write_atomic(task.out_url, new, **_kw(ctx.output_integration))
    except Exception as exc:  # the per-file failure boundary: this file fails, not the job
        outcome = ScrubOutcome(task.url, error=report_error(exc, writing=writing))
        if not isinstance(exc, FileError | StorageError):
            log.exception("unexpected error processing a file")
    return outcome
