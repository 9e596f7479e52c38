"""Without an integration, each cloud's standard environment configuration is used."""

from __future__ import annotations

import pytest

from dicomscrub.storage import check_access, read_bytes, write_atomic
from tests.storage.conftest import GCS_BUCKET
from tests.storage.servers import AZURITE_ACCOUNT, AZURITE_KEY, Server

pytestmark = pytest.mark.slow


def test_azure_connection_string_from_environment(
    azurite: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.storage.blob import BlobServiceClient

    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={azurite.endpoint};"
    )
    BlobServiceClient.from_connection_string(conn).create_container("envcontainer")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    write_atomic("az://envcontainer/x.dcm", b"from-env")
    assert read_bytes("az://envcontainer/x.dcm") == b"from-env"
    check_access("az://envcontainer/", write=True, probe=True)


def test_gcs_emulator_host_from_environment(gcs: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    write_atomic(f"gs://{GCS_BUCKET}/env/x.dcm", b"gcs-env", integration=gcs.integration)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
    assert read_bytes(f"gs://{GCS_BUCKET}/env/x.dcm") == b"gcs-env"
