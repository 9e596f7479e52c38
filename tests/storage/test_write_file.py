"""write_atomic_file: a finished local file renamed into place, or uploaded from disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dicomscrub.errors import StorageError
from dicomscrub.storage import exists, read_bytes, write_atomic_file
from tests.storage.servers import FlakyProxy, Server, s3_integration


def _file(folder: Path, data: bytes, name: str = ".part") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_local_file_is_renamed_into_place_and_creates_folders(tmp_path: Path) -> None:
    out = tmp_path / "out" / "a" / "b.dcm"
    source = _file(tmp_path / "out" / "a", b"complete")
    write_atomic_file(str(out), source)
    assert out.read_bytes() == b"complete"
    assert not source.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["b.dcm"]


def test_local_file_replaces_an_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "b.dcm"
    out.write_bytes(b"old")
    write_atomic_file(f"file://{out}", _file(tmp_path / "work", b"new"))
    assert out.read_bytes() == b"new"


def test_missing_source_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        write_atomic_file(str(tmp_path / "b.dcm"), tmp_path / "nothing.part")
    assert info.value.retryable is False
    assert not (tmp_path / "b.dcm").exists()


def test_writing_over_a_folder_fails_and_keeps_the_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "inside").write_bytes(b"x")
    with pytest.raises(StorageError):
        write_atomic_file(str(tmp_path / "taken"), _file(tmp_path, b"data"))
    assert (tmp_path / "taken" / "inside").read_bytes() == b"x"


@pytest.mark.slow
def test_s3_upload_of_a_multipart_sized_file(moto: Server, s3_bucket: str, tmp_path: Path) -> None:
    # Above s3fs's 50 MiB part size, so the upload is multipart and completes at the end.
    data = os.urandom(1 << 20) * 60
    source = _file(tmp_path, data)
    url = f"s3://{s3_bucket}/big/out.dcm"
    write_atomic_file(url, source, integration=moto.integration)
    assert read_bytes(url, integration=moto.integration) == data
    assert source.exists()  # uploaded, not moved: the caller removes it


def test_s3_upload_retries_transient_errors(moto: Server, s3_bucket: str, tmp_path: Path) -> None:
    source = _file(tmp_path, b"complete")
    with FlakyProxy(moto.endpoint, failures=2) as proxy:
        flaky = s3_integration(proxy.endpoint, name="flaky")
        write_atomic_file(f"s3://{s3_bucket}/retry.dcm", source, integration=flaky)
        assert proxy.requests == 3
    assert read_bytes(f"s3://{s3_bucket}/retry.dcm", integration=moto.integration) == b"complete"


def test_s3_upload_gives_up_retryable_with_no_object(
    moto: Server, s3_bucket: str, tmp_path: Path
) -> None:
    source = _file(tmp_path, b"x")
    with FlakyProxy(moto.endpoint, failures=1_000) as proxy:
        flaky = s3_integration(proxy.endpoint, name="flaky")
        with pytest.raises(StorageError) as info:
            write_atomic_file(f"s3://{s3_bucket}/never.dcm", source, integration=flaky)
    assert info.value.retryable is True
    assert not exists(f"s3://{s3_bucket}/never.dcm", integration=moto.integration)


@pytest.mark.parametrize("url", ["https://example.org/x.dcm", "s3://bucket/prefix/"])
def test_read_only_or_prefix_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot write"):
        write_atomic_file(url, _file(tmp_path, b"x"))
