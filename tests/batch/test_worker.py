"""The per-file boundary: every failure becomes a report error with a stable code."""

from __future__ import annotations

from pathlib import Path

import pytest

from dicomscrub.batch.executors import ProcessExecutor
from dicomscrub.batch.worker import (
    HeaderTask,
    ProcessTask,
    WorkerContext,
    read_header,
    report_error,
    scrub_one,
)
from dicomscrub.conditions import parse_condition
from dicomscrub.errors import FILE_ERROR_CODES, FileError, StorageError
from dicomscrub.profile.policy import PixelMode, Policy
from dicomscrub.report.models import ReportError
from tests.factories import write_phi_file


def context(
    key: bytes, *, dry_run: bool = False, conditions: tuple[str, ...] = ()
) -> WorkerContext:
    return WorkerContext(
        policy=Policy(key=key),
        conditions=tuple(parse_condition(c) for c in conditions),
        input_integration=None,
        output_integration=None,
        dry_run=dry_run,
        record_actions=dry_run,
    )


@pytest.mark.parametrize(
    ("exc", "writing", "code"),
    [
        (FileError("truncated"), False, "truncated"),
        (StorageError("cannot read: gone", url="/x/y.dcm"), False, "unreadable"),
        (StorageError("cannot write: denied", url="/x/y.dcm"), True, "output-unwritable"),
        (StorageError("503", url="s3://b/k.dcm", retryable=True), True, "storage"),
        (StorageError("403", url="s3://b/k.dcm"), False, "storage"),
        (ZeroDivisionError("boom"), False, "internal"),
    ],
)
def test_report_error_codes(exc: BaseException, writing: bool, code: str) -> None:
    error = report_error(exc, writing=writing)
    assert error.code == code
    assert error.code in FILE_ERROR_CODES
    assert "boom" not in error.message  # unexpected errors name their type only


def test_read_header_keeps_uids_and_condition_outcomes(tmp_path: Path, key: bytes) -> None:
    path, _ = write_phi_file(tmp_path, rows=32, columns=32, modality="MR")
    info = read_header(context(key, conditions=("Modality in CT",)), HeaderTask(str(path)))
    assert info.error is None
    assert info.series and info.study and info.sop
    assert info.passed is False
    assert info.evaluations[0]["tag_value"] == "MR"


def test_read_header_of_a_missing_file(tmp_path: Path, key: bytes) -> None:
    info = read_header(context(key), HeaderTask(str(tmp_path / "absent.dcm")))
    assert info.error == ReportError("unreadable", info.error.message if info.error else "")


def test_scrub_one_writes_and_dry_run_does_not(tmp_path: Path, key: bytes) -> None:
    path, _ = write_phi_file(tmp_path, rows=32, columns=32)
    out = tmp_path / "o" / "x.dcm"
    done = scrub_one(context(key), ProcessTask(str(path), str(out)))
    assert done.error is None
    assert out.is_file()
    assert done.actions is None
    dry_out = tmp_path / "dry" / "x.dcm"
    dry = scrub_one(context(key, dry_run=True), ProcessTask(str(path), str(dry_out)))
    assert dry.error is None
    assert not dry_out.exists()
    assert dry.actions
    assert (dry.study_deid, dry.series_deid) == (done.study_deid, done.series_deid)


def test_scrub_one_never_raises_on_a_bad_file(tmp_path: Path, key: bytes) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\x00" * 10)
    outcome = scrub_one(context(key), ProcessTask(str(bad), str(tmp_path / "o.dcm")))
    assert outcome.error is not None
    assert outcome.error.code == "not-dicom"
    assert not (tmp_path / "o.dcm").exists()


def _opencv_threads(context: WorkerContext, task: int) -> int:
    import cv2

    return int(cv2.getNumThreads())


@pytest.mark.parametrize(
    ("pixels", "expected"), [(PixelMode.SENSITIVE_TEXT, 1), (PixelMode.NONE, None)]
)
def test_pool_workers_of_a_pixel_job_use_one_opencv_thread(
    key: bytes, pixels: PixelMode, expected: int | None
) -> None:
    cv2 = pytest.importorskip("cv2")
    context = WorkerContext(Policy(key=key, pixels=pixels), (), None, None, False, False)
    pool = ProcessExecutor(2, context, may_fork=False)
    try:
        threads = set(pool.map(_opencv_threads, range(4)))
    finally:
        pool.close()
    # Without pixel work a worker keeps OpenCV's default (a thread per core here).
    assert threads == {expected if expected is not None else cv2.getNumThreads()}
