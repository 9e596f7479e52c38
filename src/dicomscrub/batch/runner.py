"""run_batch: from a job's inputs to written outputs and one report per input.

1. Expand the inputs and read every header (no pixel data) to evaluate the save
   conditions; only small facts per file are kept, so memory does not grow with the
   size of the files.
2. Group by SeriesInstanceUID: a series is saved only when every file of it passes.
3. De-identify and write the files of saved series, streaming them through the
   executor; each file's report is emitted as it finishes.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from dicomscrub.batch.executors import make_executor
from dicomscrub.batch.spec import JobSpec
from dicomscrub.batch.worker import (
    HeaderTask,
    ProcessTask,
    WorkerContext,
    init_worker,
    read_header,
    scrub_one,
)
from dicomscrub.conditions import aggregate_series, series_key
from dicomscrub.errors import ConfigError
from dicomscrub.report.jsonl import ReportWriter, load_reports
from dicomscrub.report.models import FileReport, FileStatus, ReportError
from dicomscrub.storage import InputRef, exists, iter_inputs, output_url, same_location
from dicomscrub.storage.naming import check_name_template

__all__ = ["BatchSummary", "default_report_url", "run_batch"]

log = logging.getLogger("dicomscrub.batch")


@dataclass
class BatchSummary:
    """Counts of a finished job, and the URLs it wrote."""

    total: int = 0
    saved: int = 0
    skipped: int = 0
    failed: int = 0
    failures_by_code: dict[str, int] = field(default_factory=dict)
    output_urls: list[str] = field(default_factory=list)
    report_url: str | None = None
    cancelled: bool = False


def default_report_url(spec: JobSpec) -> str:
    """Where the report goes without ``--report``: beside the outputs (or in the cwd)."""
    base = spec.out.rstrip("/") if spec.out else "."
    return f"{base}/dicomscrub-report-{spec.timestamp}.jsonl"


def _io(integration: Any) -> dict[str, Any]:
    return {} if integration is None else {"integration": integration}


def _check_job(spec: JobSpec) -> list[InputRef]:
    check_name_template(spec.name_template)
    try:
        from dicomscrub.storage import check_access  # type: ignore[attr-defined]
    except ImportError:
        check_access = None
    if check_access is not None:
        for src in spec.sources:
            if "://" in src and not src.startswith("file://"):
                check_access(src, write=False, **_io(spec.input_integration))
        if spec.out is not None and not spec.dry_run:
            check_access(spec.out, write=True, **_io(spec.output_integration))
    refs = list(iter_inputs(spec.sources, **_io(spec.input_integration)))
    if not refs:
        raise ConfigError("the job has no input files")
    return refs


def run_batch(
    spec: JobSpec,
    *,
    on_report: Callable[[FileReport], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    previous: Mapping[str, FileReport] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Run one job. Raises :class:`ConfigError` before touching any file if it is invalid.

    ``previous`` maps input URLs to reports of an earlier, interrupted run of the same
    job (``--resume`` reads them from the report file): an input reported saved whose
    output exists is not processed again. ``on_progress(done, total)`` is called as
    files finish; ``should_cancel`` is polled between files.
    """
    refs = _check_job(spec)
    report_url = spec.report_url or default_report_url(spec)
    if spec.resume and previous is None:
        previous = load_reports(report_url)
    previous = previous or {}
    input_urls = {ref.url for ref in refs}
    ctx = WorkerContext(
        policy=spec.policy,
        conditions=spec.conditions,
        input_integration=spec.input_integration,
        output_integration=spec.output_integration,
        dry_run=spec.dry_run,
        record_actions=spec.dry_run,
    )
    summary = BatchSummary(total=len(refs), report_url=report_url)
    executor = make_executor(spec.executor, spec.workers, init_worker, (ctx,))
    writer = ReportWriter(report_url)
    done = 0

    def emit(report: FileReport) -> None:
        nonlocal done
        done += 1
        writer.write(report)
        if report.status is FileStatus.SAVED:
            summary.saved += 1
            if report.url_deid and not spec.dry_run:
                summary.output_urls.append(report.url_deid)
        elif report.status is FileStatus.SKIPPED:
            summary.skipped += 1
        else:
            summary.failed += 1
            code = report.error.code if report.error else "internal"
            summary.failures_by_code[code] = summary.failures_by_code.get(code, 0) + 1
        if on_report is not None:
            on_report(report)
        if on_progress is not None:
            on_progress(done, summary.total)

    try:
        headers = list(executor.map(read_header, (HeaderTask(r.url) for r in refs)))
        by_url = {ref.url: ref for ref in refs}
        sop_seen: Counter[str] = Counter()
        for info in headers:
            if "error" not in info:
                sop_seen[info["sop"]] += 1
                if sop_seen[info["sop"]] > 1:
                    info["error"] = {
                        "code": "duplicate-sop-instance",
                        "message": "SOPInstanceUID (0008,0018) repeats an earlier input of this job",
                    }
        verdicts = aggregate_series(
            (i["url"], i.get("series"), bool(i.get("passed", True)))
            for i in headers
            if "error" not in i
        )
        pending: list[tuple[dict[str, Any], FileReport, str | None]] = []
        for info in headers:
            report = FileReport(url=info["url"])
            report.StudyInstanceUID = info.get("study")
            report.SeriesInstanceUID = info.get("series")
            report.save_conditions_evaluations = info.get("evaluations", [])
            report.save_condition = bool(info.get("passed", False))
            if "error" in info:
                report.save_condition_series_agg = False
                report.status = FileStatus.FAILED
                report.error = ReportError(**info["error"])
                emit(report)
                continue
            verdict = verdicts[series_key(info["url"], info["series"])]
            report.save_condition_series_agg = verdict.saved
            report.save_disabling_urls_series_agg = list(verdict.disabling_urls)
            if not verdict.saved:
                report.status = FileStatus.SKIPPED
                emit(report)
                continue
            ref = by_url[info["url"]]
            out = output_url(
                ref, out=spec.out, template=spec.name_template, timestamp=spec.timestamp
            )
            if same_location(out, ref.url) or (out in input_urls):
                report.status = FileStatus.FAILED
                report.error = ReportError(
                    "output-is-input", "the output location equals an input location"
                )
                emit(report)
                continue
            earlier = previous.get(info["url"])
            if (
                earlier is not None
                and earlier.status is FileStatus.SAVED
                and earlier.url_deid == out
                and not spec.dry_run
                and exists(out, **_io(spec.output_integration))
            ):
                emit(earlier)
                continue
            pending.append((info, report, out))
        results = executor.map(scrub_one, _tasks(pending, should_cancel, summary))
        for (_info, report, out), result in zip(pending, results, strict=False):
            _finish(report, result, out, spec)
            emit(report)
    finally:
        executor.close()
        writer.close()
    return summary


def _tasks(
    pending: list[tuple[dict[str, Any], FileReport, str | None]],
    should_cancel: Callable[[], bool] | None,
    summary: BatchSummary,
) -> Iterator[ProcessTask]:
    for info, _report, out in pending:
        if should_cancel is not None and should_cancel():
            summary.cancelled = True
            return
        yield ProcessTask(info["url"], out)


def _finish(report: FileReport, result: dict[str, Any], out: str | None, spec: JobSpec) -> None:
    report.StudyInstanceUID_deid = result.get("study_deid")
    report.SeriesInstanceUID_deid = result.get("series_deid")
    report.actions_applied = int(result.get("actions_applied", 0))
    report.pixel_regions = result.get("pixel_regions")
    report.actions = result.get("actions")
    if "error" in result:
        report.status = FileStatus.FAILED
        report.error = ReportError(**result["error"])
        report.StudyInstanceUID_deid = None
        report.SeriesInstanceUID_deid = None
        return
    report.status = FileStatus.SAVED
    report.url_deid = None if spec.dry_run else out


