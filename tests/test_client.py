"""The client with the reference API's names, against a real server and S3 on loopback."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pydicom
import pytest

from dicomscrub.client import (
    ApiError,
    DeidentifyRedactTextMode,
    JobFailedError,
    SaveDeidentifiedDicomConditionIn,
    SaveDeidentifiedDicomConditionNotSubstr,
    UserClient,
)
from dicomscrub.synthetic.patients import make_patients, planted_phi, write_series
from tests.service.servers import S3Server, ServiceProcess, s3_server, service

__all__ = ["s3_server", "service"]

pytestmark = pytest.mark.slow


def _upload_series(
    s3: S3Server, tmp: Path, name: str, modality: str, image_types: list[list[str]], seed: int
) -> list[str]:
    """Write one synthetic series locally, set each file's ImageType, upload it to s3://raw."""
    patient = make_patients(3, seed=11)[seed]
    paths = write_series(tmp / name, patient, n=len(image_types), modality=modality, seed=seed)
    client = s3.client()
    urls = []
    for path, image_type in zip(paths, image_types, strict=True):
        ds = pydicom.dcmread(path)
        ds.ImageType = image_type
        ds.save_as(path)
        key = f"hospital/{name}/{path.name}"
        client.upload_file(str(path), "raw", key)
        urls.append(f"s3://raw/{key}")
    return urls


@pytest.fixture(scope="module")
def api_key(service: ServiceProcess) -> str:
    return service.new_key("research-it")


@pytest.fixture(scope="module")
def user_client(service: ServiceProcess, api_key: str) -> Iterator[UserClient]:
    with UserClient(service.url, api_key) as client:
        yield client


def test_reference_tutorial_flow(
    service: ServiceProcess, user_client: UserClient, s3_server: S3Server, tmp_path: Path
) -> None:
    s3 = s3_server.client()
    s3.create_bucket(Bucket="raw")
    s3.create_bucket(Bucket="clean")
    secondary = ["DERIVED", "SECONDARY", "AXIAL"]
    primary = ["ORIGINAL", "PRIMARY", "AXIAL"]
    kept = _upload_series(s3_server, tmp_path, "ct_kept", "CT", [secondary] * 3, seed=0)
    mixed = _upload_series(s3_server, tmp_path, "ct_mixed", "CT", [secondary, primary], seed=1)
    mr = _upload_series(s3_server, tmp_path, "mr_primary", "MR", [primary] * 2, seed=2)
    # Registering the integration is the operator's job, done once.
    user_client.create_cloud_integration(
        "Hospital research bucket",
        "s3",
        endpoint_url=s3_server.endpoint_url,
        credentials={
            "access_key_id": s3_server.access_key_id,
            "secret_access_key": s3_server.secret_access_key,
        },
    )

    # The tutorial: find the integration by title, two conditions, deidentify, report.
    integration = next(
        i for i in user_client.get_cloud_integrations() if i.title == "Hospital research bucket"
    )
    conditions = [
        SaveDeidentifiedDicomConditionIn(value=["ct", "mr"], dicom_tag="Modality"),
        SaveDeidentifiedDicomConditionNotSubstr(value="PRIMARY", dicom_tag="ImageType"),
    ]
    urls = user_client.deidentify_dicom_files(
        dicom_urls=kept + mixed + mr,
        integration_hash=integration.id,
        redact_dicom_tags=True,
        redact_pixels_mode=DeidentifyRedactTextMode.REDACT_NO_TEXT,
        save_conditions=conditions,
        upload_dir="s3://clean/deid/",
    )

    assert len(urls) == 3
    assert all(u.startswith("s3://clean/deid/") for u in urls)
    stored = {o["Key"] for o in s3.list_objects_v2(Bucket="clean")["Contents"]}
    assert {u.removeprefix("s3://clean/") for u in urls} <= stored
    assert not any(
        k.endswith(".dcm") and k not in {u.removeprefix("s3://clean/") for u in urls}
        for k in stored
    )
    phi = planted_phi(make_patients(3, seed=11)[0])
    for url in urls:
        body = s3.get_object(Bucket="clean", Key=url.removeprefix("s3://clean/"))["Body"].read()
        assert not [s for s in phi if len(s) >= 6 and s.encode() in body]

    report = {r["url"]: r for r in user_client.get_deidentification_report()}
    assert set(report) == set(kept + mixed + mr)
    for url in kept:
        assert report[url]["save_condition_series_agg"] is True
        assert report[url]["url_deid"] in urls
        assert [e["evaluated_value"] for e in report[url]["save_conditions_evaluations"]] == [
            True,
            True,
        ]
    assert report[mixed[0]]["save_condition"] is True
    assert report[mixed[0]]["save_condition_series_agg"] is False
    assert report[mixed[0]]["save_disabling_urls_series_agg"] == [mixed[1]]
    assert report[mixed[0]]["url_deid"] is None
    assert (
        report[mr[0]]["save_conditions_evaluations"][1]["tag_value"] == "ORIGINAL\\PRIMARY\\AXIAL"
    )

    # The credentials were never echoed, nor logged by the server or its job processes.
    secret = s3_server.secret_access_key
    listing = httpx.get(
        f"{service.url}/integrations",
        headers={"Authorization": user_client._http.headers["Authorization"]},
    )
    assert secret not in listing.text
    assert secret not in service.log_text()


def test_failed_job_raises_and_api_errors_carry_fields(
    user_client: UserClient, tmp_path: Path
) -> None:
    bad = tmp_path / "plain.txt.dcm"
    bad.write_bytes(b"no dicom here" * 20)
    with pytest.raises(JobFailedError) as failed:
        user_client.deidentify_dicom_files([str(bad)], None)
    assert failed.value.state == "error"
    with pytest.raises(ApiError) as refused:
        user_client.deidentify_dicom_files_start([], None)
    assert refused.value.status == 422
    assert refused.value.fields[0]["field"] == "dicom_urls"


def test_conditions_serialize_as_the_reference() -> None:
    assert SaveDeidentifiedDicomConditionIn(["CT"], "Modality").to_dict() == {
        "value": ["CT"],
        "condition_type": "IN",
        "dicom_tag": "Modality",
    }
    assert SaveDeidentifiedDicomConditionNotSubstr("PRIMARY", "ImageType").to_dict() == {
        "value": "PRIMARY",
        "condition_type": "NOT_SUBSTR",
        "dicom_tag": "ImageType",
    }
    with pytest.raises(TypeError):
        SaveDeidentifiedDicomConditionIn("CT", "Modality")  # type: ignore[arg-type]
    assert [m.value for m in DeidentifyRedactTextMode] == [
        "REDACT_NO_TEXT",
        "REDACT_ALL_TEXT",
        "REDACT_SENSITIVE_TEXT",
    ]


def test_client_imports_nothing_of_the_server() -> None:
    code = (
        "import sys, dicomscrub.client; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn', 'sqlalchemy', 'alembic', 'cryptography') "
        "or m.startswith('dicomscrub.service')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_client_retries_through_a_server_restart(tmp_path: Path) -> None:
    from tests.service.servers import start_service

    server = start_service(tmp_path)
    try:
        key = server.new_key("retry")
        client = UserClient(server.url, key, backoff_seconds=0.2, retries=30)
        inputs = [str(p) for p in _local_examples(tmp_path / "in")]
        job = client.deidentify_dicom_files_start(inputs, None, upload_dir=str(tmp_path / "out"))
        server.stop()
        results: list[list[str]] = []
        poller = threading.Thread(
            target=lambda: results.append(client.deidentify_dicom_files_get_result(job, 60))
        )
        poller.start()  # the server is down: the poll retries on refused connections
        time.sleep(1.0)
        server.start()  # same port, same database
        poller.join(90)
        assert not poller.is_alive()
        assert len(results) == 1 and len(results[0]) == 2
    finally:
        server.stop()


def _local_examples(folder: Path) -> list[Path]:
    from tests.service.servers import copy_examples

    return [Path(p) for p in copy_examples(folder)]
