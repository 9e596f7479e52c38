"""The work done for one file (in this process or a worker), and the per-file failure boundary.

Both per-file functions take the job's :class:`WorkerContext` and one task, and never
raise: any failure becomes a :class:`~dicomscrub.report.models.ReportError` in their
result. Results are small (UIDs, counts, condition outcomes); datasets never leave the
function that read them.

A file larger than :data:`LARGE_FILE` under a header-only policy is de-identified from
disk to disk (:func:`~dicomscrub.pipeline.scrub_file`): a remote input is first copied to
a temporary file, the output is written to one and then renamed or uploaded, so memory
stays bounded whatever the file's size. Everything else is done in memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

from pydicom.dataset import Dataset

from dicomscrub.conditions import Condition, evaluate_conditions
from dicomscrub.errors import FileError, StorageError
from dicomscrub.fastvalues import uid_of
from dicomscrub.logsafe import log_unexpected
from dicomscrub.pipeline import OnRead, ScrubResult, read_dataset, scrub_file, scrub_to_parts
from dicomscrub.profile.policy import PixelMode, Policy
from dicomscrub.report.models import ReportError
from dicomscrub.storage import local_path, open_read, read_bytes, write_atomic, write_atomic_file
from dicomscrub.storage.integrations import Integration

__all__ = [
    "LARGE_FILE",
    "HeaderInfo",
    "HeaderTask",
    "ProcessTask",
    "ScrubOutcome",
    "WorkerContext",
    "check_identity",
    "original_uids",
    "read_header",
    "scrub_one",
]

log = logging.getLogger("dicomscrub.batch")

#: Files larger than this are de-identified from disk to disk when only the header
#: changes; smaller ones are faster in memory.
LARGE_FILE: Final = 64 * 2**20
#: A remote input's first read: a file shorter than this is small, with no size query.
_PROBE: Final = 2 * 2**20
_COPY_CHUNK: Final = 2**20


@dataclass(frozen=True)
class WorkerContext:
    """What every per-file call of a job needs; sent once to each worker process."""

    policy: Policy
    conditions: tuple[Condition, ...]
    input_integration: Integration | None
    output_integration: Integration | None
    dry_run: bool
    record_actions: bool

    def enter_worker(self) -> None:
        """Set up a pool worker process for this job (each worker has a core to itself)."""
        if self.policy.pixels is not PixelMode.NONE:
            from dicomscrub.pixels.finders import use_one_core

            use_one_core()


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
    """What de-identifying one file gave: the original and new UIDs, counts, and dry-run
    actions.

    ``read`` says the file parsed; ``identified`` that it also has a SeriesInstanceUID and
    a SOPInstanceUID (what the header pass checks), whatever happened after.
    """

    url: str
    study: str | None = None
    series: str | None = None
    sop: str | None = None
    read: bool = False
    identified: bool = False
    study_deid: str | None = None
    series_deid: str | None = None
    actions_applied: int = 0
    pixel_regions: list[dict[str, Any]] | None = None
    actions: list[dict[str, Any]] | None = None
    error: ReportError | None = None


_STUDY_UID: Final = 0x0020000D
_SERIES_UID: Final = 0x0020000E
_SOP_UID: Final = 0x00080018


def report_error(exc: BaseException, *, writing: bool = False) -> ReportError:
    """The report's ``error`` for an exception raised while handling one file."""
    if isinstance(exc, FileError):
        return ReportError(exc.code, exc.message)
    if isinstance(exc, StorageError):
        remote = local_path(exc.url) is None
        message = str(exc.args[0])
        if writing and not exc.retryable and not remote:
            return ReportError("output-unwritable", message)
        if exc.retryable or remote:
            return ReportError("storage", message + (" (retryable)" if exc.retryable else ""))
        return ReportError("unreadable", message)
    return ReportError("internal", f"{type(exc).__name__} while processing the file")


def original_uids(ds: Dataset) -> tuple[str | None, str | None, str | None]:
    """The (Study, Series, SOP) Instance UIDs of ``ds`` as read."""
    return (
        uid_of(ds, _STUDY_UID),
        uid_of(ds, _SERIES_UID),
        uid_of(ds, _SOP_UID),
    )


def check_identity(series: str | None, sop: str | None) -> None:
    """Raise the error of a file that cannot be placed in a series or told apart."""
    if series is None:
        raise FileError("missing-series-uid")
    if sop is None:
        raise FileError("missing-sop-uid")


def read_header(ctx: WorkerContext, task: HeaderTask) -> HeaderInfo:
    """Read one file's header (no pixel data) and evaluate the save conditions."""
    info = HeaderInfo(task.url)
    try:
        with open_read(task.url, integration=ctx.input_integration) as fh:
            ds = read_dataset(fh, headers_only=True)
        info.study, info.series, info.sop = original_uids(ds)
        evaluations, info.passed = evaluate_conditions(ctx.conditions, ds)
        info.evaluations = [e.to_json() for e in evaluations]
        check_identity(info.series, info.sop)
    except Exception as exc:  # noqa: BLE001 - the per-file failure boundary: this file fails, not the job
        info.error = report_error(exc)
        if not isinstance(exc, FileError | StorageError):
            log_unexpected(log, "unexpected error reading a header", exc)
    return info


def scrub_one(ctx: WorkerContext, task: ProcessTask) -> ScrubOutcome:
    """De-identify one file and write it (unless dry run); never raises."""
    outcome = ScrubOutcome(task.url)
    writing = False

    def identify(ds: Dataset) -> None:
        outcome.read = True
        outcome.study, outcome.series, outcome.sop = original_uids(ds)
        check_identity(outcome.series, outcome.sop)
        outcome.identified = True

    try:
        on_disk = _on_disk(ctx.policy)
        with _input(task.url, ctx.input_integration, large=on_disk) as source:
            if isinstance(source, Path):
                writing = True  # from here on, failures are about the output
                result = _scrub_to_output(ctx, task, source, identify)
            else:
                parts, result = scrub_to_parts(source, ctx.policy, on_read=identify)
                del source  # the source bytes are not needed while the output is written
                if not ctx.dry_run and task.out_url is not None:
                    writing = True
                    write_atomic(task.out_url, parts, integration=ctx.output_integration)
        ds = result.dataset
        outcome.study_deid = uid_of(ds, _STUDY_UID)
        outcome.series_deid = uid_of(ds, _SERIES_UID)
        outcome.actions_applied = result.actions_applied
        outcome.pixel_regions = result.pixel_regions if result.pixels_processed else None
        if ctx.record_actions and result.header is not None:
            outcome.actions = [a.to_json() for a in result.header.actions]
    except Exception as exc:  # noqa: BLE001 - the per-file failure boundary: this file fails, not the job
        outcome.error = report_error(exc, writing=writing)
        outcome.study_deid = outcome.series_deid = None
        outcome.actions_applied, outcome.pixel_regions, outcome.actions = 0, None, None
        if not isinstance(exc, FileError | StorageError):
            log_unexpected(log, "unexpected error processing a file", exc)
        elif isinstance(exc, FileError) and not outcome.read:
            _identify_from_header(ctx, outcome)
    return outcome


_IDENTITY_ERRORS: Final = frozenset({"missing-series-uid", "missing-sop-uid"})


def _identify_from_header(ctx: WorkerContext, outcome: ScrubOutcome) -> None:
    """Give a file that could not be read whole what the header pass finds in its header
    alone: a file cut inside its pixel data still has its UIDs (and may lack one, which
    the header pass reports first)."""
    info = read_header(ctx, HeaderTask(outcome.url))
    if info.error is not None and info.error.code not in _IDENTITY_ERRORS:
        return
    outcome.read = True
    outcome.study, outcome.series, outcome.sop = info.study, info.series, info.sop
    if info.error is None:
        outcome.identified = True
    else:
        outcome.error = info.error


def _on_disk(policy: Policy) -> bool:
    """Whether large files may go disk to disk: pixel redaction needs the pixels in memory."""
    return policy.pixels is PixelMode.NONE and policy.pixel_rules is None


@contextlib.contextmanager
def _input(url: str, integration: Integration | None, *, large: bool) -> Iterator[bytes | Path]:
    """The input's bytes, or, when ``large`` allows and it is over :data:`LARGE_FILE`, a
    local file's path (the input itself, or a temporary copy of a remote one, removed
    afterwards). pydicom parses bytes in memory faster than it reads a file element by
    element (measured: 0.59 against 0.69 ms for a 512x512 CT file)."""
    path = local_path(url)
    if path is not None:
        if large and _size(path) > LARGE_FILE:
            yield path
        else:
            yield read_bytes(url, integration=integration)
        return
    if not large:
        yield read_bytes(url, integration=integration)
        return
    with open_read(url, integration=integration) as fh:
        head = fh.read(_PROBE)
        if len(head) < _PROBE or fh.seek(0, os.SEEK_END) <= LARGE_FILE:
            fh.seek(len(head))
            yield head + fh.read()
            return
        fh.seek(0)
        with _temporary(None, url) as (tmp, out):
            shutil.copyfileobj(fh, out, _COPY_CHUNK)
            out.close()
            yield tmp


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # read_bytes raises the error with its message


@contextlib.contextmanager
def _temporary(folder: Path | None, url: str) -> Iterator[tuple[Path, BinaryIO]]:
    """A new temporary file (in ``folder``, else the system's) and its handle, removed
    afterwards unless it was renamed away; OSError becomes StorageError for ``url``."""
    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".dicomscrub-", suffix=".part", dir=folder)
    except OSError as exc:
        raise StorageError(
            f"cannot create a temporary file: {exc.strerror or exc}", url=url
        ) from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w+b") as fh:
            try:
                yield tmp, fh
            except OSError as exc:
                if isinstance(exc, StorageError):
                    raise
                raise StorageError(
                    f"cannot use a temporary file: {exc.strerror or exc}", url=url
                ) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _scrub_to_output(
    ctx: WorkerContext, task: ProcessTask, source: Path, on_read: OnRead
) -> ScrubResult:
    """De-identify the file at ``source`` into a temporary file, then put it in place."""
    with source.open("rb") as src:
        if ctx.dry_run or task.out_url is None:
            with Path(os.devnull).open("wb") as sink:
                return scrub_file(src, sink, ctx.policy, on_read=on_read)
        out_path = local_path(task.out_url)
        # Locally the temporary file goes next to the output, so a rename puts it there.
        folder = out_path.parent if out_path is not None else None
        with _temporary(folder, task.out_url) as (tmp, out):
            result = scrub_file(src, out, ctx.policy, on_read=on_read)
            out.close()
            write_atomic_file(task.out_url, tmp, integration=ctx.output_integration)
    return result
