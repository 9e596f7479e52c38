"""One suite every object-store backend must pass: S3 (moto), GCS (emulator), Azure (Azurite)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.storage import (
    InputRef,
    check_access,
    exists,
    iter_inputs,
    open_read,
    output_url,
    read_bytes,
    same_location,
    write_atomic,
)
from dicomscrub.storage.fs import READ_BLOCK_SIZE
from dicomscrub.storage.integrations import Integration
from tests.storage.conftest import GCS_BUCKET
from tests.storage.servers import Server

pytestmark = pytest.mark.slow


@dataclass
class Store:
    """A fresh, empty prefix in one backend and the integration that reaches it."""

    base: str
    integration: Integration
    missing_bucket: str


def _azure_container(server: Server) -> str:
    from azure.storage.blob import BlobServiceClient

    name = f"c{uuid.uuid4().hex[:12]}"
    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={server.integration.credentials['account_key']};"
        f"BlobEndpoint={server.endpoint};"
    )
    BlobServiceClient.from_connection_string(conn).create_container(name)
    return name


@pytest.fixture(params=["s3", "gcs", "azure"])
def store(request: pytest.FixtureRequest, unique: Callable[[str], str]) -> Store:
    if request.param == "s3":
        server: Server = request.getfixturevalue("moto")
        bucket = request.getfixturevalue("s3_bucket")
        return Store(f"s3://{bucket}/", server.integration, "s3://no-such-bucket-x1/")
    if request.param == "gcs":
        server = request.getfixturevalue("gcs")
        return Store(f"gs://{GCS_BUCKET}/{unique('t')}/", server.integration, "gs://nobkt/")
    server = request.getfixturevalue("azurite")
    return Store(f"az://{_azure_container(server)}/", server.integration, "az://nocontainer/")


def test_round_trip(store: Store) -> None:
    url = store.base + "raw/a.dcm"
    payload = bytes(range(256)) * 1000
    write_atomic(url, payload, integration=store.integration)
    assert read_bytes(url, integration=store.integration) == payload
    assert exists(url, integration=store.integration)
    assert not exists(store.base + "raw/b.dcm", integration=store.integration)


def test_overwrite_replaces_whole_object(store: Store) -> None:
    url = store.base + "x.bin"
    write_atomic(url, b"A" * 5000, integration=store.integration)
    write_atomic(url, b"B" * 10, integration=store.integration)
    assert read_bytes(url, integration=store.integration) == b"B" * 10


def test_open_read_streams_and_seeks(store: Store) -> None:
    url = store.base + "big.bin"
    payload = bytes(i % 251 for i in range(3 * 2**20 + 17))
    write_atomic(url, payload, integration=store.integration)
    with open_read(url, integration=store.integration) as fh:
        assert fh.read(10) == payload[:10]
        fh.seek(2**21)
        assert fh.read(100) == payload[2**21 : 2**21 + 100]
        assert fh.tell() == 2**21 + 100
        fh.seek(0)
        assert fh.read() == payload


def test_dicom_file_reads_back_through_open_read(store: Store) -> None:
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    url = store.base + "series/CT_small.dcm"
    write_atomic(url, Path(path).read_bytes(), integration=store.integration)
    with open_read(url, integration=store.integration) as fh:
        ds = pydicom.dcmread(fh)
    assert ds.SOPInstanceUID == pydicom.dcmread(path).SOPInstanceUID


def test_prefix_is_listed_recursively_in_order(store: Store) -> None:
    names = ["raw/b.dcm", "raw/a.dcm", "raw/sub/c.dcm", "raw/.hidden", "other/d.dcm"]
    for name in names:
        write_atomic(store.base + name, b"x", integration=store.integration)
    refs = list(iter_inputs([store.base + "raw/"], integration=store.integration))
    assert refs == [
        InputRef(store.base + "raw/a.dcm", "a.dcm"),
        InputRef(store.base + "raw/b.dcm", "b.dcm"),
        InputRef(store.base + "raw/sub/c.dcm", "sub/c.dcm"),
    ]
    # Without the trailing slash the prefix is recognised as a folder too.
    without_slash = list(iter_inputs([store.base + "raw"], integration=store.integration))
    assert [r.relpath for r in without_slash] == ["a.dcm", "b.dcm", "sub/c.dcm"]


def test_single_object_and_glob_inputs(store: Store) -> None:
    for name in ["g/one.dcm", "g/two.dcm", "g/three.txt.bak"]:
        write_atomic(store.base + name, b"x", integration=store.integration)
    single = list(iter_inputs([store.base + "g/one.dcm"], integration=store.integration))
    assert single == [InputRef(store.base + "g/one.dcm", "one.dcm")]
    globbed = list(iter_inputs([store.base + "g/*.dcm"], integration=store.integration))
    assert [r.relpath for r in globbed] == ["one.dcm", "two.dcm"]


def test_remote_list_file_names_inputs(store: Store) -> None:
    for name in ["l/a.dcm", "l/b.dcm"]:
        write_atomic(store.base + name, b"x", integration=store.integration)
    listing = f"{store.base}l/a.dcm\n# comment\n{store.base}l/b.dcm\n"
    write_atomic(store.base + "inputs.txt", listing.encode(), integration=store.integration)
    refs = list(iter_inputs([store.base + "inputs.txt"], integration=store.integration))
    assert [r.url for r in refs] == [store.base + "l/a.dcm", store.base + "l/b.dcm"]


def test_output_beside_source_and_under_out(store: Store) -> None:
    ref = InputRef(store.base + "raw/sub/x.dcm", "sub/x.dcm")
    beside = output_url(ref, out=None, template="deid_{timestamp}_{name}", timestamp=7)
    assert beside == store.base + "raw/sub/deid_7_x.dcm"
    under = output_url(
        ref, out=store.base + "clean/", template="deid_{timestamp}_{name}", timestamp=7
    )
    assert under == store.base + "clean/sub/deid_7_x.dcm"
    write_atomic(under, b"out", integration=store.integration)
    assert read_bytes(under, integration=store.integration) == b"out"
    assert not same_location(ref.url, under)
    assert same_location(ref.url, ref.url)


def test_check_access_probe_leaves_nothing(store: Store) -> None:
    write_atomic(store.base + "in/a.dcm", b"x", integration=store.integration)
    check_access(store.base + "in/", integration=store.integration, write=False)
    check_access(store.base + "in/a.dcm", integration=store.integration, write=False)
    check_access(store.base + "out/", integration=store.integration, write=True, probe=True)
    listed = list(iter_inputs([store.base], integration=store.integration))
    assert [r.relpath for r in listed] == ["in/a.dcm"]
    with pytest.raises(ConfigError, match="input not found"):
        check_access(store.base + "in/missing.dcm", integration=store.integration, write=False)


def test_missing_bucket_is_a_config_error(store: Store) -> None:
    with pytest.raises(ConfigError, match="not found"):
        check_access(store.missing_bucket + "raw/", integration=store.integration, write=False)
    with pytest.raises(ConfigError, match="not found"):
        check_access(store.missing_bucket + "out/", integration=store.integration, write=True)


def test_reading_a_missing_object_is_a_final_storage_error(store: Store) -> None:
    with pytest.raises(StorageError) as info:
        read_bytes(store.base + "nothing-here.dcm", integration=store.integration)
    assert info.value.retryable is False
    assert "not found" in str(info.value)


@pytest.mark.parametrize("size", [0, 1, READ_BLOCK_SIZE - 1, READ_BLOCK_SIZE, READ_BLOCK_SIZE + 1])
def test_open_read_at_block_edges(store: Store, size: int) -> None:
    url = store.base + f"edge-{size}.bin"
    payload = bytes(i % 253 for i in range(size))
    write_atomic(url, payload, integration=store.integration)
    with open_read(url, integration=store.integration) as fh:
        assert fh.read() == payload
        assert fh.read(10) == b""
        fh.seek(-min(size, 5), 2)
        assert fh.read() == payload[len(payload) - min(size, 5) :]


def test_open_read_of_missing_object_fails_on_read(store: Store) -> None:
    with (
        pytest.raises(StorageError, match="not found"),
        open_read(store.base + "absent.dcm", integration=store.integration) as fh,
    ):
        fh.read(1)
