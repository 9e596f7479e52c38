"""run_batch: from a job's inputs to written outputs and one report per input.

1. Validate the job and expand its inputs; a bad setting raises ``ConfigError`` here,
   before any file is read or written.
2. Read every header (no pixel data) to evaluate the save conditions. Only small facts
   per file are kept (:class:`~dicomscrub.batch.worker.HeaderInfo`), so memory does not
   grow with the size of the files.
3. Group by SeriesInstanceUID: a series is saved only when every file of it passes.
   Decide each input's fate (failed, skipped, already done by an earlier run, or to be
   processed) and its output location.
4. Stream the files to process through the executor. Reports are emitted in input
   order: a report decided in step 3 waits only for the results of the inputs before
   it, which the executor returns in order, so nothing but small reports is held.

A job without save conditions skips step 2 (see :func:`_reads_headers_first`): every
readable file is then saved, and the one read that de-identifies a file also gives
what the header pass would have (its original UIDs, the missing-UID checks), so each
file is read once instead of twice. A repeated SOPInstanceUID is then found as the
results come back, in input order, and the later file's output is removed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from dicomscrub.batch.executors import ProcessExecutor, make_executor, thread_map
from dicomscrub.batch.spec import JobSpec
from dicomscrub.batch.worker import (
    HeaderInfo,
    HeaderTask,
    ProcessTask,
    ScrubOutcome,
    WorkerContext,
    read_header,
    scrub_one,
)
from dicomscrub.conditions import SeriesVerdict, aggregate_series, series_key
from dicomscrub.errors import ConfigError, FileError, StorageError
from dicomscrub.pipeline import DEFER_SIZE, read_dataset
from dicomscrub.profile.policy import PixelMode
from dicomscrub.report.jsonl import ReportWriter, load_reports
from dicomscrub.report.models import FileReport, FileStatus, ReportError
from dicomscrub.storage import (
    InputRef,
    check_access,
    delete,
    exists,
    iter_inputs,
    local_path,
    output_url,
    same_location,
)
from dicomscrub.storage.naming import check_name_template

__all__ = ["BatchSummary", "default_report_url", "run_batch"]

log = logging.getLogger("dicomscrub.batch")

#: Threads reading headers from object storage (local files are read one by one).
HEADER_THREADS = 16

T = TypeVar("T")


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

    def add(self, report: FileReport, *, dry_run: bool) -> None:
        """Count one emitted report."""
        if report.status is FileStatus.SAVED:
            self.saved += 1
            if report.url_deid and not dry_run:
                self.output_urls.append(report.url_deid)
        elif report.status is FileStatus.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
            code = report.error.code if report.error else "internal"
            self.failures_by_code[code] = self.failures_by_code.get(code, 0) + 1


@dataclass
class _Planned:
    """One input's report, and the task still to run for it (None: the report is final)."""

    report: FileReport
    task: ProcessTask | None = None


def default_report_url(spec: JobSpec) -> str:
    """Where the report goes without ``--report``: beside the outputs (or in the cwd)."""
    base = spec.out.rstrip("/") if spec.out else "."
    return f"{base}/dicomscrub-report-{spec.timestamp}.jsonl"


def _is_remote(url: str) -> bool:
    return local_path(url) is None


def _check_job(spec: JobSpec) -> list[InputRef]:
    """Validate ``spec`` and list its inputs; raises ConfigError, touches no file."""
    check_name_template(spec.name_template)
    if spec.workers < 1:
        raise ConfigError("--workers must be at least 1")
    for src in spec.sources:
        if _is_remote(src):
            check_access(src, write=False, integration=spec.input_integration)
            if spec.out is None and not spec.dry_run:
                # Outputs go beside the sources: the source location must take writes.
                check_access(src, write=True, integration=spec.output_integration)
    if spec.out is not None and not spec.dry_run:
        check_access(spec.out, write=True, integration=spec.output_integration)
    refs = list(iter_inputs(spec.sources, integration=spec.input_integration))
    if not refs:
        raise ConfigError("the job has no input files")
    return refs


_DUPLICATE = ReportError(
    "duplicate-sop-instance", "SOPInstanceUID (0008,0018) repeats an earlier input of this job"
)


def _mark_duplicates(headers: Sequence[HeaderInfo]) -> None:
    """Fail every input whose SOPInstanceUID an earlier input of the job already has."""
    seen: set[str] = set()
    for info in headers:
        if info.error is not None or info.sop is None:
            continue
        if info.sop in seen:
            info.error = _DUPLICATE
        seen.add(info.sop)


def _header_report(info: HeaderInfo, verdicts: Mapping[str, SeriesVerdict]) -> FileReport:
    report = FileReport(
        url=info.url,
        StudyInstanceUID=info.study,
        SeriesInstanceUID=info.series,
        save_conditions_evaluations=info.evaluations,
        save_condition=info.passed,
        save_condition_series_agg=False,
    )
    if info.error is not None:
        report.status = FileStatus.FAILED
        report.error = info.error
        return report
    verdict = verdicts[series_key(info.url, info.series)]
    report.save_condition_series_agg = verdict.saved
    report.save_disabling_urls_series_agg = list(verdict.disabling_urls)
    report.status = FileStatus.SAVED if verdict.saved else FileStatus.SKIPPED
    return report


@dataclass(frozen=True)
class _Output:
    """Where one input is written, and whether that location is an input's."""

    url: str
    is_input: bool


def _outputs(spec: JobSpec, refs: Sequence[InputRef]) -> list[_Output]:
    """Each input's output location, in input order (worked out once per job)."""
    input_urls = {ref.url for ref in refs}
    outputs = []
    for ref in refs:
        out = output_url(ref, out=spec.out, template=spec.name_template, timestamp=spec.timestamp)
        outputs.append(_Output(out, out in input_urls or same_location(out, ref.url)))
    return outputs


def _reads_headers_first(
    spec: JobSpec, outputs: Sequence[_Output], previous: Mapping[str, FileReport]
) -> bool:
    """Whether every header is read in a pass of its own before any file is processed.

    Save conditions need that pass: a series is written only when all its files pass.
    Without them it is skipped (see the module docstring), except when the job resumes
    an earlier run (inputs done then still count for the duplicate check, unread) or
    when two inputs would be written to one output or an output is an input: which
    input keeps the output depends on which ones are readable, known only from the pass.
    """
    if spec.conditions or previous or any(o.is_input for o in outputs):
        return True
    return len({o.url for o in outputs}) != len(outputs)


def _plan(
    spec: JobSpec,
    refs: Sequence[InputRef],
    outputs: Sequence[_Output],
    headers: Sequence[HeaderInfo] | None,
    previous: Mapping[str, FileReport],
) -> list[_Planned]:
    """Decide, in input order, what happens to each input (see the module docstring).

    Without ``headers`` (no header pass), every input is planned to be processed; what
    the pass would have decided is settled from its result (:func:`_settle_identity`).
    """
    reports: Iterable[FileReport]
    if headers is None:
        reports = (FileReport(url=ref.url, status=FileStatus.SAVED) for ref in refs)
    else:
        _mark_duplicates(headers)
        verdicts = aggregate_series(
            (info.url, info.series, info.passed) for info in headers if info.error is None
        )
        reports = (_header_report(info, verdicts) for info in headers)
    claimed: set[str] = set()
    plan: list[_Planned] = []
    for ref, output, report in zip(refs, outputs, reports, strict=True):
        if report.status is not FileStatus.SAVED:
            plan.append(_Planned(report))
            continue
        out = output.url
        if output.is_input:
            report.status = FileStatus.FAILED
            report.error = ReportError(
                "output-is-input", "the output location equals an input location"
            )
        elif out in claimed:
            # Two inputs named alike in different source folders, given as separate
            # SRCs, would overwrite each other's output.
            report.status = FileStatus.FAILED
            report.error = ReportError(
                "output-collision", "an earlier input of this job is written to the same output"
            )
        if report.status is FileStatus.FAILED:
            plan.append(_Planned(report))
            continue
        claimed.add(out)
        earlier = previous.get(ref.url)
        if (
            earlier is not None
            and earlier.status is FileStatus.SAVED
            and earlier.url_deid == out
            and not spec.dry_run
            and _output_intact(out, spec)
        ):
            plan.append(_Planned(earlier))
            continue
        plan.append(_Planned(report, ProcessTask(ref.url, out)))
    return plan


def _output_intact(url: str, spec: JobSpec) -> bool:
    """Whether an earlier run's output at ``url`` is there, whole.

    Local outputs are not flushed to disk one by one (see :mod:`dicomscrub.storage.io`),
    so after a power failure an output reported saved may be empty or cut short: it is
    read to its end again (large values are left on disk). An object store shows only
    complete objects.
    """
    path = local_path(url)
    if path is None:
        return exists(url, integration=spec.output_integration)
    try:
        with path.open("rb") as fh:
            read_dataset(fh, defer_size=DEFER_SIZE)
    except (OSError, FileError, ValueError):
        return False
    return True


def _settle_identity(
    item: _Planned, outcome: ScrubOutcome, seen: set[str], spec: JobSpec
) -> ScrubOutcome:
    """Fill in, from a processed file's result, what the header pass would have found;
    a repeated SOPInstanceUID fails the later file and removes its output again."""
    report, task = item.report, item.task
    report.StudyInstanceUID, report.SeriesInstanceUID = outcome.study, outcome.series
    report.save_condition = outcome.read
    report.save_condition_series_agg = outcome.identified
    if not outcome.identified or outcome.sop is None:
        return outcome
    if outcome.sop not in seen:
        seen.add(outcome.sop)
        return outcome
    report.save_condition_series_agg = False
    error = _DUPLICATE
    if outcome.error is None and task is not None and task.out_url and not spec.dry_run:
        try:
            delete(task.out_url, integration=spec.output_integration)
        except StorageError:
            error = ReportError(
                _DUPLICATE.code, _DUPLICATE.message + "; its output could not be removed"
            )
    return ScrubOutcome(
        outcome.url,
        study=outcome.study,
        series=outcome.series,
        sop=outcome.sop,
        read=True,
        identified=True,
        error=error,
    )


def run_batch(
    spec: JobSpec,
    *,
    on_report: Callable[[FileReport], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    previous: Mapping[str, FileReport] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Run one job. Raises :class:`ConfigError` before touching any file if it is invalid.

    Reports are written to the report file and passed to ``on_report`` one per input,
    in input order. ``previous`` maps input URLs to reports of an earlier, interrupted
    run of the same job (``--resume`` reads them from the report file): an input
    reported saved whose output still exists is not processed again, and its earlier
    report is emitted. ``on_progress(done, total)`` is called as reports are emitted;
    ``should_cancel`` is polled before each file is handed to the executor, in both
    passes; a job cancelled while reading headers writes no report.
    """
    refs = _check_job(spec)
    report_url = spec.report_url or default_report_url(spec)
    if previous is None:
        previous = (
            load_reports(report_url, integration=spec.output_integration) if spec.resume else {}
        )
    context = WorkerContext(
        policy=spec.policy,
        conditions=spec.conditions,
        input_integration=spec.input_integration,
        output_integration=spec.output_integration,
        dry_run=spec.dry_run,
        record_actions=spec.dry_run,
    )
    summary = BatchSummary(total=len(refs), report_url=report_url)
    ocr = spec.policy.pixels is not PixelMode.NONE
    if ocr and not spec.dry_run:
        from dicomscrub.pixels.finders import prepare_models

        prepare_models(spec.policy.pixels)  # once here, not in every worker at once
    # Deriving a model runs onnxruntime here; its threads must not be forked.
    executor = make_executor(spec.executor, spec.workers, context, may_fork=not ocr)
    try:
        if isinstance(executor, ProcessExecutor):
            executor.warm()
        headers: list[HeaderInfo] | None = None
        outputs = _outputs(spec, refs)
        if _reads_headers_first(spec, outputs, previous):
            # Headers are read here, not in the pool: each is a small read and parse,
            # so shipping them to workers costs more than it saves; threads overlap
            # the waiting on object storage.
            remote = any(_is_remote(ref.url) for ref in refs)
            header_tasks = (HeaderTask(ref.url) for ref in refs)
            headers = list(
                thread_map(
                    read_header,
                    context,
                    _until_cancelled(header_tasks, should_cancel, summary),
                    HEADER_THREADS if remote else 1,
                )
            )
            if summary.cancelled:
                return summary  # before any report: a resume starts from the earlier ones
        seen: set[str] | None = set() if headers is None else None
        plan = _plan(spec, refs, outputs, headers, previous)
        del headers, refs, outputs
        with ReportWriter(report_url, integration=spec.output_integration) as writer:

            def emit(report: FileReport) -> None:
                writer.write(report)
                summary.add(report, dry_run=spec.dry_run)
                if on_report is not None:
                    on_report(report)
                if on_progress is not None:
                    on_progress(writer.count, summary.total)

            tasks = (item.task for item in plan if item.task is not None)
            outcomes = executor.map(scrub_one, _until_cancelled(tasks, should_cancel, summary))
            for item in plan:
                if item.task is not None:
                    outcome: ScrubOutcome | None = next(outcomes, None)
                    if outcome is None:
                        break  # cancelled: the remaining inputs are left for a resume
                    if seen is not None:
                        outcome = _settle_identity(item, outcome, seen, spec)
                    _finish_planned(item, outcome, dry_run=spec.dry_run)
                emit(item.report)
                item.report = _EMITTED
    finally:
        executor.close()
    return summary


#: Stands in for an emitted report, so the plan does not keep reports (dry-run actions
#: can be long) once they are written.
_EMITTED = FileReport(url="")


def _finish_planned(item: _Planned, outcome: ScrubOutcome, *, dry_run: bool) -> None:
    report, task = item.report, item.task
    if task is None or outcome.url != task.url:
        raise RuntimeError("executor returned results out of order")
    report.actions_applied = outcome.actions_applied
    report.pixel_regions = outcome.pixel_regions
    report.actions = outcome.actions
    if outcome.error is not None:
        report.status = FileStatus.FAILED
        report.error = outcome.error
        return
    report.StudyInstanceUID_deid = outcome.study_deid
    report.SeriesInstanceUID_deid = outcome.series_deid
    report.status = FileStatus.SAVED
    report.url_deid = None if dry_run else task.out_url


def _until_cancelled(
    tasks: Iterable[T], should_cancel: Callable[[], bool] | None, summary: BatchSummary
) -> Iterator[T]:
    """``tasks``, until ``should_cancel()`` says stop (polled before each one)."""
    for task in tasks:
        if should_cancel is not None and should_cancel():
            summary.cancelled = True
            return
        yield task
