"""S3 specifics against moto on 127.0.0.1: pagination, URL forms, retries, access errors."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import boto3
import pytest

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage import (
    check_access,
    delete,
    exists,
    iter_inputs,
    open_read,
    read_bytes,
    same_location,
    write_atomic,
)
from dicomscrub.storage import fs as storage_fs
from dicomscrub.storage.integrations import Integration
from tests.storage.servers import (
    MOTO_KEY,
    MOTO_SECRET,
    FlakyProxy,
    Server,
    StaticServer,
    moto_server,
    moto_subprocess,
    s3_integration,
    seed_objects,
)

pytestmark = pytest.mark.slow


def _client(server: Server) -> object:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=MOTO_KEY,
        aws_secret_access_key=MOTO_SECRET,
        region_name="us-east-1",
    )


def test_prefix_with_thousands_of_keys_is_paginated(moto: Server, s3_bucket: str) -> None:
    keys = [f"raw/{i // 100:03d}/{i:05d}.dcm" for i in range(2_500)]
    seed_objects(s3_bucket, keys, b"x")
    refs = list(iter_inputs([f"s3://{s3_bucket}/raw/"], integration=moto.integration))
    assert len(refs) == 2_500  # more than one page of 1,000
    assert [r.relpath for r in refs] == sorted(k.removeprefix("raw/") for k in keys)
    assert refs[0].url == f"s3://{s3_bucket}/raw/000/00000.dcm"


@pytest.mark.parametrize(
    "form",
    [
        "https://{b}.s3.us-east-1.amazonaws.com/{k}",
        "https://{b}.s3.amazonaws.com/{k}",
        "https://s3.us-east-1.amazonaws.com/{b}/{k}",
        "https://s3.amazonaws.com/{b}/{k}",
        "{endpoint}/{b}/{k}",
    ],
)
def test_https_forms_read_the_same_object(moto: Server, s3_bucket: str, form: str) -> None:
    write_atomic(f"s3://{s3_bucket}/raw/a b.dcm", b"payload", integration=moto.integration)
    url = form.format(b=s3_bucket, k="raw/a%20b.dcm", endpoint=moto.endpoint)
    # The AWS host names are normalised to bucket and key, then sent to the integration's
    # endpoint (moto here, AWS in production).
    assert read_bytes(url, integration=moto.integration) == b"payload"
    assert exists(url, integration=moto.integration)
    assert same_location(
        url.replace(moto.endpoint, "https://s3.amazonaws.com"), f"s3://{s3_bucket}/raw/a b.dcm"
    )
    with open_read(url, integration=moto.integration) as fh:
        assert fh.read() == b"payload"


def test_delete_removes_an_object_and_ignores_a_missing_one(moto: Server, s3_bucket: str) -> None:
    url = f"s3://{s3_bucket}/dup/out.dcm"
    write_atomic(url, [b"pay", b"load"], integration=moto.integration)
    assert read_bytes(url, integration=moto.integration) == b"payload"
    delete(url, integration=moto.integration)
    assert not exists(url, integration=moto.integration)
    delete(url, integration=moto.integration)  # already gone: not an error


def test_environment_configuration_without_integration(
    moto: Server, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_atomic(f"s3://{s3_bucket}/env.dcm", b"env", integration=moto.integration)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MOTO_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MOTO_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert read_bytes(f"s3://{s3_bucket}/env.dcm") == b"env"
    check_access(f"s3://{s3_bucket}/", write=True)


def test_write_retries_transient_503_then_succeeds(moto: Server, s3_bucket: str) -> None:
    with FlakyProxy(moto.endpoint, failures=2) as proxy:
        flaky = s3_integration(proxy.endpoint, name="flaky")
        write_atomic(f"s3://{s3_bucket}/retry.dcm", b"complete", integration=flaky)
        assert proxy.requests == 3
    assert read_bytes(f"s3://{s3_bucket}/retry.dcm", integration=moto.integration) == b"complete"


def test_write_gives_up_with_retryable_error_and_no_object(moto: Server, s3_bucket: str) -> None:
    with FlakyProxy(moto.endpoint, failures=1_000) as proxy:
        flaky = s3_integration(proxy.endpoint, name="flaky")
        with pytest.raises(StorageError) as info:
            write_atomic(f"s3://{s3_bucket}/never.dcm", b"x", integration=flaky)
        assert proxy.requests == 4  # DICOMSCRUB_STORAGE_ATTEMPTS in conftest
    assert info.value.retryable is True
    assert "503" in str(info.value)
    assert not exists(f"s3://{s3_bucket}/never.dcm", integration=moto.integration)


def test_plain_https_read_retries_5xx(tmp_path: Path) -> None:
    (tmp_path / "public.dcm").write_bytes(b"public")
    with StaticServer(tmp_path) as files, FlakyProxy(files.endpoint, failures=2) as proxy:
        url = f"{proxy.endpoint}/public.dcm?X-Signature=abc"
        assert read_bytes(url) == b"public"
        assert proxy.requests >= 3
        with pytest.raises(ConfigError, match="read-only"):
            check_access(url, write=True)
        with pytest.raises(StorageError, match="read-only"):
            write_atomic(url, b"x")


def test_stopped_server_gives_retryable_error() -> None:
    with moto_server() as server:
        integration = server.integration
    with pytest.raises(StorageError) as info:
        read_bytes("s3://gone-bucket/x.dcm", integration=integration)
    assert info.value.retryable is True
    with pytest.raises(ConfigError, match="unreachable"):
        check_access("s3://gone-bucket/", integration=integration, write=False)


def test_bad_credentials_are_a_config_error() -> None:
    # moto enforces signatures and IAM only when told so at start-up.
    with moto_subprocess({"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as server:
        with pytest.raises(ConfigError, match="access denied"):
            check_access("s3://any-bucket/raw/", integration=server.integration, write=False)
        with pytest.raises(ConfigError, match="access denied"):
            check_access("s3://any-bucket/out/", integration=server.integration, write=True)


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = storage_fs.Backend(
        "s3", "s3", "dicomscrub_no_such_package", "pip install 'dicomscrub[s3]'"
    )
    monkeypatch.setitem(storage_fs.BACKENDS, "s3", missing)
    with pytest.raises(ConfigError, match=r"dicomscrub\[s3\]"):
        check_access("s3://bucket/raw/", write=False)


def test_integration_of_another_kind_is_refused(moto: Server) -> None:
    gcs = Integration(name="g", kind="gcs", anonymous=True)
    with pytest.raises(ConfigError, match="gs:// URLs, not s3://"):
        check_access("s3://bucket/raw/", integration=gcs, write=False)


def test_large_object_streams_through_bounded_memory() -> None:
    size = 64 * 2**20
    # moto in its own process, so that only the reading side is measured here.
    with moto_subprocess({}) as server:
        client = _client(server)
        client.create_bucket(Bucket="large")  # type: ignore[attr-defined]
        client.put_object(Bucket="large", Key="large.bin", Body=b"\x07" * size)  # type: ignore[attr-defined]
        client.put_object(Bucket="large", Key="small.bin", Body=b"x")  # type: ignore[attr-defined]
        # The first read loads botocore's service models (~10 MiB): not per file.
        assert read_bytes("s3://large/small.bin", integration=server.integration) == b"x"
        tracemalloc.start()
        try:
            total = 0
            with open_read("s3://large/large.bin", integration=server.integration) as fh:
                while chunk := fh.read(2**20):
                    total += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert total == size
    # A few read-ahead blocks (2 MiB each, copied by the HTTP stack), never the object.
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB object"


def test_large_object_is_uploaded_in_parts(moto: Server, s3_bucket: str) -> None:
    # Above s3fs's threshold (2 x 50 MiB) the upload is multipart: S3 shows the object
    # only once CompleteMultipartUpload has run, so no reader sees part of it.
    payload = bytes(range(256)) * (105 * 2**20 // 256)
    url = f"s3://{s3_bucket}/multipart.bin"
    write_atomic(url, payload, integration=moto.integration)
    head = _client(moto).head_object(Bucket=s3_bucket, Key="multipart.bin")  # type: ignore[attr-defined]
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].strip('"').endswith("-3")  # three parts of at most 50 MiB
    assert read_bytes(url, integration=moto.integration) == payload


def test_buckets_named_in_a_local_list_file_are_checked(
    moto: Server, s3_bucket: str, tmp_path: Path
) -> None:
    write_atomic(f"s3://{s3_bucket}/a.dcm", b"x", integration=moto.integration)
    listing = tmp_path / "urls.txt"
    listing.write_text(f"s3://{s3_bucket}/a.dcm\n")
    check_access(str(listing), integration=moto.integration, write=False)
    listing.write_text(f"s3://{s3_bucket}/a.dcm\ns3://missing-bucket-zz9/b.dcm\n")
    with pytest.raises(ConfigError, match="'missing-bucket-zz9' not found"):
        check_access(str(listing), integration=moto.integration, write=False)
