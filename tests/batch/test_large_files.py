"""Large files go disk to disk: the bytes of the in-memory path, in bounded memory."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_files
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    RLELossless,
)

from dicomscrub.batch import worker
from dicomscrub.batch.worker import ProcessTask, WorkerContext, scrub_one
from dicomscrub.errors import FileError
from dicomscrub.pipeline import scrub_bytes, scrub_file
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import PixelMode, Policy
from dicomscrub.storage import Integration, read_bytes, write_atomic
from tests.factories import make_dataset, make_patients, save, write_series
from tests.storage.servers import Server, create_bucket, moto_server

KEY = b"large-files-test-key-0123456789ab"
FILES = sorted(p for p in (Path(f) for f in get_testdata_files("**/*")) if p.is_file())


def _id(path: Path) -> str:
    return path.parent.name + "/" + path.name if path.parent.name != "test_files" else path.name


def _both(data: bytes, path: Path, policy: Policy, defer_size: int) -> tuple[object, object]:
    """What scrub_bytes and scrub_file give for one file: bytes, or the error code."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            in_memory: object = scrub_bytes(data, policy)[0]
        except FileError as exc:
            in_memory = exc.code
        out = io.BytesIO()
        try:
            with path.open("rb") as source:
                scrub_file(source, out, policy, defer_size=defer_size)
            on_disk: object = out.getvalue()
        except FileError as exc:
            on_disk = exc.code
    return in_memory, on_disk


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scrub_file_writes_the_bytes_scrub_bytes_writes(path: Path) -> None:
    # A tiny defer size leaves every value over 64 bytes on disk, pixel data included.
    in_memory, on_disk = _both(path.read_bytes(), path, Policy(key=KEY), 64)
    assert on_disk == in_memory


@pytest.mark.parametrize(
    "options",
    [
        frozenset({Option.RETAIN_SAFE_PRIVATE, Option.RETAIN_DEVICE_IDENTITY}),
        frozenset({Option.RETAIN_LONGITUDINAL_FULL_DATES, Option.RETAIN_UIDS}),
    ],
    ids=["private-safe", "dates-uids"],
)
@pytest.mark.parametrize(
    "syntax",
    [ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless],
    ids=["explicit", "implicit", "rle"],
)
def test_synthetic_series_come_out_identical(
    tmp_path: Path, syntax: str, options: frozenset[Option]
) -> None:
    patient = make_patients(1, 3)[0]
    paths = write_series(tmp_path, patient, n=2, rows=64, columns=48, transfer_syntax=syntax)
    for path in paths:
        policy = Policy(key=KEY, options=options)
        in_memory, on_disk = _both(path.read_bytes(), path, policy, 256)
        assert isinstance(in_memory, bytes)
        assert on_disk == in_memory


def test_a_cut_deferred_value_is_truncated_as_in_memory(tmp_path: Path) -> None:
    patient = make_patients(1)[0]
    whole = save(make_dataset(patient, rows=64, columns=64), tmp_path / "whole.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(whole[:-1000])
    in_memory, on_disk = _both(cut.read_bytes(), cut, Policy(key=KEY), 256)
    assert in_memory == on_disk == "truncated"


def _context(*, dry_run: bool = False, integration: Integration | None = None) -> WorkerContext:
    return WorkerContext(
        policy=Policy(key=KEY),
        conditions=(),
        input_integration=integration,
        output_integration=integration,
        dry_run=dry_run,
        record_actions=dry_run,
    )


def _phi_file(folder: Path, frames: int = 40) -> Path:
    """A multi-frame 8-bit file of ``frames`` 256 x 256 frames (64 KiB each)."""
    ds = make_dataset(make_patients(1, 5)[0], rows=256, columns=256)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = frames
    ds.PixelData = bytes(range(256)) * (256 * frames)
    return save(ds, folder / "big.dcm")


def test_scrub_one_goes_disk_to_disk_above_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _phi_file(tmp_path / "in")
    expected, _ = scrub_bytes(src.read_bytes(), Policy(key=KEY))
    monkeypatch.setattr(worker, "LARGE_FILE", 1 << 20)
    out = tmp_path / "out" / "sub" / "big.dcm"
    outcome = scrub_one(_context(), ProcessTask(str(src), str(out)))
    assert outcome.error is None
    assert out.read_bytes() == expected
    assert sorted(p.name for p in out.parent.iterdir()) == ["big.dcm"]  # no temporary left
    assert outcome.actions_applied > 0 and outcome.series_deid

    dry = scrub_one(_context(dry_run=True), ProcessTask(str(src), str(tmp_path / "dry.dcm")))
    assert dry.error is None and dry.actions is not None
    assert not (tmp_path / "dry.dcm").exists()


def test_large_files_still_get_pixel_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "LARGE_FILE", 0)
    src = _phi_file(tmp_path, frames=2)
    policy = Policy(key=KEY, pixels=PixelMode.ALL_TEXT)
    expected, _ = scrub_bytes(src.read_bytes(), policy)
    ctx = WorkerContext(policy, (), None, None, False, False)
    outcome = scrub_one(ctx, ProcessTask(str(src), str(tmp_path / "o.dcm")))
    assert outcome.error is None and outcome.pixel_regions is not None
    assert (tmp_path / "o.dcm").read_bytes() == expected


def test_a_failed_large_file_leaves_no_output_or_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _phi_file(tmp_path / "in", frames=4)
    src.write_bytes(src.read_bytes()[:-5000])  # cut inside the pixel data
    monkeypatch.setattr(worker, "LARGE_FILE", 1024)
    outcome = scrub_one(_context(), ProcessTask(str(src), str(tmp_path / "out" / "x.dcm")))
    assert outcome.error is not None and outcome.error.code == "truncated"
    assert list((tmp_path / "out").iterdir()) == []


@pytest.fixture(scope="module")
def moto() -> Iterator[Server]:
    with moto_server() as server:
        yield server


@pytest.mark.slow
def test_s3_input_and_output_go_through_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto: Server
) -> None:
    monkeypatch.setenv("DICOMSCRUB_STORAGE_BACKOFF", "0.01")
    bucket = f"bkt-{uuid.uuid4().hex[:12]}"
    create_bucket(moto, bucket)
    src = _phi_file(tmp_path, frames=60)  # ~3.8 MiB: more than the first ranged read
    expected, _ = scrub_bytes(src.read_bytes(), Policy(key=KEY))
    integ = moto.integration
    write_atomic(f"s3://{bucket}/in/big.dcm", src.read_bytes(), integration=integ)
    monkeypatch.setattr(worker, "LARGE_FILE", 3 << 20)
    ctx = _context(integration=integ)
    outcome = scrub_one(ctx, ProcessTask(f"s3://{bucket}/in/big.dcm", f"s3://{bucket}/o/big.dcm"))
    assert outcome.error is None
    assert read_bytes(f"s3://{bucket}/o/big.dcm", integration=integ) == expected

    local = tmp_path / "local" / "big.dcm"
    outcome = scrub_one(ctx, ProcessTask(f"s3://{bucket}/in/big.dcm", str(local)))
    assert outcome.error is None and local.read_bytes() == expected


OPTIONS = ("-q", "--workers", "1", "--timestamp", "1700000000")  # one worker: in-process
# VmHWM is the peak RSS of this process's own memory since its exec; ru_maxrss would
# also count the pytest process it was forked from.
MEASURE = """
import sys
from pathlib import Path
from dicomscrub.cli.main import main
code = main(sys.argv[1:])
status = Path("/proc/self/status").read_text()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
print(code, peak)
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_300_mb_file_is_deidentified_in_bounded_memory(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DICOMSCRUB_KEY_FILE", str(key_file))
    src = _phi_file(tmp_path / "in", frames=4600)  # 4600 x 64 KiB = 301 MB of pixels
    size = src.stat().st_size
    assert size > 300_000_000
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, "deidentify", str(src), *OPTIONS, "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    code, peak_kib = map(int, done.stdout.split()[-2:])
    assert code == 0, done.stderr
    written = list(out.rglob("*.dcm"))
    assert len(written) == 1 and abs(written[0].stat().st_size - size) < 10_000
    assert peak_kib < 150 * 1024, f"peak RSS {peak_kib // 1024} MiB"
