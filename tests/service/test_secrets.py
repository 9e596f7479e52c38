"""An integration's secret never appears in a response, a log line, or the database file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydicom.data import get_testdata_file

from tests.service.servers import S3Server, ServiceProcess, auth

pytestmark = pytest.mark.slow


def test_secret_is_sealed_and_never_shown(
    service: ServiceProcess, s3_server: S3Server, tmp_path: Path
) -> None:
    s3 = s3_server.client()
    s3.create_bucket(Bucket="secret-test")
    s3.upload_file(get_testdata_file("CT_small.dcm"), "secret-test", "in/CT_small.dcm")
    key = service.new_key("secret-keeper")
    secret = s3_server.secret_access_key
    responses: list[str] = []

    def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        response = httpx.request(
            method, f"{service.url}{path}", headers=auth(key), timeout=90, **kwargs
        )  # type: ignore[arg-type]
        responses.append(response.text + str(response.headers))
        return response

    created = call(
        "POST",
        "/integrations",
        json={
            "title": "secret bucket",
            "kind": "s3",
            "endpoint_url": s3_server.endpoint_url,
            "credentials": {
                "access_key_id": s3_server.access_key_id,
                "secret_access_key": secret,
            },
        },
    ).json()
    call("GET", "/integrations")
    call("GET", f"/integrations/{created['id']}")
    # A credential name the kind does not know: refused, the value not echoed.
    call(
        "POST",
        "/integrations",
        json={"title": "bad", "kind": "s3", "credentials": {"password": secret}},
    )
    job = call(
        "POST",
        "/dicom-deidentification",
        json={
            "integration_uuid": created["id"],
            "dicom_urls": ["s3://secret-test/in/CT_small.dcm"],
            "upload_dir": "s3://secret-test/out/",
        },
    ).json()
    call("GET", f"/dicom-deidentification/{job['uuid']}", params={"timeout_seconds": 60})
    call("GET", f"/dicom-deidentification/{job['uuid']}/report")
    call("GET", "/dicom-deidentification")
    call("GET", "/metrics")
    # A job against a wrong endpoint fails: its error must not quote the credentials either.
    wrong = call(
        "POST",
        "/integrations",
        json={
            "title": "wrong endpoint",
            "kind": "s3",
            "endpoint_url": "http://127.0.0.1:9",
            "credentials": {"access_key_id": "x", "secret_access_key": secret},
        },
    ).json()
    failing = call(
        "POST",
        "/dicom-deidentification",
        json={"integration_uuid": wrong["id"], "dicom_urls": ["s3://nowhere/a.dcm"]},
    ).json()
    call("GET", f"/dicom-deidentification/{failing['uuid']}", params={"timeout_seconds": 60})
    call("GET", f"/dicom-deidentification/{failing['uuid']}/report")

    assert all(secret not in text for text in responses)
    log = service.log_text()
    assert "POST /integrations" in log  # the log was captured
    assert secret not in log
    for path in service.data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
