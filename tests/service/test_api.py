"""The HTTP API of a real ``dicomscrub serve``: jobs, auth, error shape, 422s, metrics."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest

from tests.service.servers import ServiceProcess, auth, copy_examples

JOBS = "/dicom-deidentification"


def _assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "fields"}
    assert error["status"] == status
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], list)
    return dict(error)


@pytest.fixture(scope="module")
def alice(service: ServiceProcess) -> str:
    return service.new_key("alice")


@pytest.fixture(scope="module")
def bob(service: ServiceProcess) -> str:
    return service.new_key("bob")


def _run_job(
    service: ServiceProcess, key: str, payload: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    created = httpx.post(f"{service.url}{JOBS}", json=payload, headers=auth(key), timeout=10)
    assert created.status_code == 201, created.text
    job_id = created.json()["uuid"]
    result = httpx.get(
        f"{service.url}{JOBS}/{job_id}",
        params={"timeout_seconds": 30},
        headers=auth(key),
        timeout=40,
    ).json()
    return job_id, result


def test_healthz_needs_no_key(service: ServiceProcess) -> None:
    response = httpx.get(f"{service.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_job_end_to_end_with_local_files_and_camel_case(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    inputs = copy_examples(tmp_path / "in")
    out = tmp_path / "out"
    job_id, result = _run_job(
        service,
        alice,
        {
            "dicomUrls": inputs,
            "uploadDir": str(out),
            "redactPixelsMode": "REDACT_NO_TEXT",
            "saveConditions": [
                {"value": ["ct", "mr"], "conditionType": "IN", "dicomTag": "Modality"}
            ],
        },
    )
    assert result["status"] == "DONE"
    assert result["state"] == "done"
    assert result["processed"] == result["total"] == 2
    written = sorted(p.name for p in out.iterdir() if p.suffix == ".dcm")
    assert [Path(u).name for u in result["urls"]] == [n for n in written if "CT" in n] + [
        n for n in written if "MR" in n
    ]
    for url in result["urls"]:
        ds = pydicom.dcmread(url)
        assert "PatientName" not in ds or str(ds.PatientName) != "CompressedSamples^CT1"
    report = httpx.get(f"{service.url}{JOBS}/{job_id}/report", headers=auth(alice)).json()
    assert report["total"] == 2 and report["next_offset"] is None
    assert {r["url"] for r in report["reports"]} == set(inputs)
    first = report["reports"][0]
    assert first["save_conditions_evaluations"][0]["evaluated_value"] is True
    assert first["save_condition_series_agg"] is True
    # Paging: one report per page.
    page = httpx.get(
        f"{service.url}{JOBS}/{job_id}/report",
        params={"limit": 1, "offset": 0},
        headers=auth(alice),
    ).json()
    assert len(page["reports"]) == 1 and page["next_offset"] == 1 and page["total"] == 2


def test_job_whose_every_input_fails_is_error(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    bad = tmp_path / "not-dicom.dcm"
    bad.write_bytes(b"this is not DICOM" * 10)
    _job_id, result = _run_job(
        service, alice, {"dicom_urls": [str(bad)], "upload_dir": str(tmp_path / "out")}
    )
    assert result["status"] == "ERROR"
    assert result["urls"] == []
    assert "every input failed" in result["error"]


def test_job_with_missing_input_is_error_naming_it(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    _job_id, result = _run_job(service, alice, {"dicom_urls": [str(tmp_path / "missing.dcm")]})
    assert result["status"] == "ERROR"
    assert "missing.dcm" in result["error"]


def test_long_poll_with_zero_timeout_answers_pending_at_once(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    inputs = copy_examples(tmp_path / "in")
    created = httpx.post(
        f"{service.url}{JOBS}",
        json={"dicom_urls": inputs, "upload_dir": str(tmp_path / "o")},
        headers=auth(alice),
    ).json()
    first = httpx.get(f"{service.url}{JOBS}/{created['uuid']}", headers=auth(alice)).json()
    assert first["status"] in ("PENDING", "DONE")
    listing = httpx.get(f"{service.url}{JOBS}", headers=auth(alice)).json()
    assert created["uuid"] in [j["uuid"] for j in listing["jobs"]]


def test_keys_are_required_and_owners_are_separated(
    service: ServiceProcess, alice: str, bob: str, tmp_path: Path
) -> None:
    job_id, _ = _run_job(service, alice, {"dicom_urls": copy_examples(tmp_path / "in")})
    url = f"{service.url}{JOBS}/{job_id}"
    no_key = httpx.get(url)
    assert _assert_error_shape(no_key, 401)["code"] == "unauthorized"
    assert no_key.headers["www-authenticate"] == "Bearer"
    _assert_error_shape(httpx.get(url, headers={"Authorization": "Basic abc"}), 401)
    _assert_error_shape(httpx.get(url, headers=auth("dsk_0_nonsense")), 401)
    # Another owner cannot tell the job exists.
    _assert_error_shape(httpx.get(url, headers=auth(bob)), 404)
    _assert_error_shape(httpx.get(f"{url}/report", headers=auth(bob)), 404)
    _assert_error_shape(httpx.delete(url, headers=auth(bob)), 404)
    bobs_jobs = httpx.get(f"{service.url}{JOBS}", headers=auth(bob)).json()["jobs"]
    assert job_id not in [j["uuid"] for j in bobs_jobs]
    # A revoked key is refused everywhere.
    doomed = service.new_key("alice")
    assert httpx.get(url, headers=auth(doomed)).status_code == 200
    service.revoke(doomed)
    for method, path in [
        ("GET", url),
        ("GET", f"{service.url}/integrations"),
        ("GET", f"{service.url}/metrics"),
        ("POST", f"{service.url}{JOBS}"),
    ]:
        _assert_error_shape(httpx.request(method, path, headers=auth(doomed), json={}), 401)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"dicom_urls": ["/x.dcm"], "redact_pixels_mode": "REDACT_SOME_TEXT"},
            "redact_pixels_mode",
        ),
        (
            {
                "dicom_urls": ["/x.dcm"],
                "save_conditions": [{"value": "a", "condition_type": "NOT_SUBSTR"}],
            },
            "save_conditions[0].dicom_tag",
        ),
        (
            {
                "dicom_urls": ["/x.dcm"],
                "save_conditions": [
                    {"value": "a", "condition_type": "NOT_SUBSTR", "dicom_tag": ""}
                ],
            },
            "save_conditions[0].dicom_tag",
        ),
        (
            {
                "dicom_urls": ["/x.dcm"],
                "save_conditions": [
                    {"value": "CT", "condition_type": "IN", "dicom_tag": "Modality"}
                ],
            },
            "save_conditions[0]",
        ),
        (
            {
                "dicom_urls": ["/x.dcm"],
                "save_conditions": [
                    {"value": ["CT"], "condition_type": "LIKE", "dicom_tag": "Modality"}
                ],
            },
            "save_conditions[0]",
        ),
        (
            {
                "dicom_urls": ["/x.dcm"],
                "save_conditions": [
                    {"value": ["CT"], "condition_type": "IN", "dicom_tag": "NoSuchKeyword"}
                ],
            },
            "save_conditions[0]",
        ),
        ({"dicom_urls": []}, "dicom_urls"),
        ({}, "dicom_urls"),
        ({"dicom_urls": ["ftp://host/file.dcm"]}, "dicom_urls"),
        ({"dicom_urls": ["/x.dcm"], "upload_dir": "gopher://x/"}, "upload_dir"),
        ({"dicom_urls": ["/x.dcm"], "options": ["retain-everything"]}, "options"),
        ({"dicom_urls": ["/x.dcm"], "colour": "blue"}, "colour"),
        ({"dicom_urls": ["/x.dcm"], "integration_uuid": "not-a-uuid"}, "integration_uuid"),
        ({"dicom_urls": ["/x.dcm"], "integration_uuid": str(uuid.uuid4())}, "integration_uuid"),
    ],
)
def test_invalid_payloads_are_422_naming_the_field(
    service: ServiceProcess, alice: str, payload: dict[str, Any], field: str
) -> None:
    response = httpx.post(f"{service.url}{JOBS}", json=payload, headers=auth(alice))
    error = _assert_error_shape(response, 422)
    assert error["code"] == "invalid-payload"
    assert field in error["message"]
    if error["fields"]:
        assert field in [f["field"] for f in error["fields"]]


def test_unknown_condition_type_message_names_the_field(
    service: ServiceProcess, alice: str
) -> None:
    payload = {
        "dicom_urls": ["/x.dcm"],
        "save_conditions": [{"value": ["CT"], "condition_type": "LIKE", "dicom_tag": "Modality"}],
    }
    error = _assert_error_shape(
        httpx.post(f"{service.url}{JOBS}", json=payload, headers=auth(alice)), 422
    )
    assert "condition_type" in error["fields"][0]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/no-such-route", None, 404),
        ("PUT", JOBS, {}, 405),
        ("GET", f"{JOBS}/{uuid.uuid4()}", None, 404),
        ("GET", f"{JOBS}/not-a-uuid", None, 422),
        ("GET", f"{JOBS}?limit=0", None, 422),
        ("GET", f"/integrations/{uuid.uuid4()}", None, 404),
        ("DELETE", f"/integrations/{uuid.uuid4()}", None, 404),
        ("POST", JOBS, "not json", 422),
    ],
)
def test_every_error_has_the_one_shape(
    service: ServiceProcess, alice: str, method: str, path: str, body: Any, status: int
) -> None:
    kwargs: dict[str, Any] = {"headers": auth(alice)}
    if isinstance(body, str):
        kwargs["content"] = body
        kwargs["headers"] = {**auth(alice), "content-type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    _assert_error_shape(httpx.request(method, f"{service.url}{path}", **kwargs), status)


def test_cancelling_a_finished_job_is_409(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    job_id, result = _run_job(service, alice, {"dicom_urls": copy_examples(tmp_path / "in")})
    assert result["status"] == "DONE"
    response = httpx.delete(f"{service.url}{JOBS}/{job_id}", headers=auth(alice))
    assert _assert_error_shape(response, 409)["code"] == "conflict"


def test_long_poll_timeout_is_capped(service: ServiceProcess, alice: str) -> None:
    response = httpx.get(
        f"{service.url}{JOBS}/{uuid.uuid4()}",
        params={"timeout_seconds": -1},
        headers=auth(alice),
    )
    assert _assert_error_shape(response, 422)["fields"][0]["field"] == "timeout_seconds"


def test_metrics_in_prometheus_format(service: ServiceProcess, alice: str, tmp_path: Path) -> None:
    _run_job(service, alice, {"dicom_urls": copy_examples(tmp_path / "in")})
    response = httpx.get(f"{service.url}/metrics", headers=auth(alice))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE dicomscrub_jobs_submitted_total counter" in text
    assert 'dicomscrub_jobs_finished_total{state="done"}' in text
    assert 'dicomscrub_files_total{status="saved"}' in text
    assert 'route="/dicom-deidentification/{job_id}"' in text
    # Per-job paths never become labels.
    assert f"{JOBS}/" + "0" * 8 not in text


def test_integrations_crud_by_owner(service: ServiceProcess, alice: str, bob: str) -> None:
    base = f"{service.url}/integrations"
    created = httpx.post(
        base,
        json={
            "title": "Research bucket",
            "kind": "s3",
            "endpointUrl": "http://127.0.0.1:9",
            "credentials": {"access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t-value"},
        },
        headers=auth(alice),
    )
    assert created.status_code == 201, created.text
    item = created.json()
    uuid.UUID(item["id"])
    assert item["title"] == "Research bucket"
    assert item["credential_names"] == ["access_key_id", "secret_access_key"]
    assert "s3cr3t-value" not in created.text
    listed = httpx.get(base, headers=auth(alice)).json()
    assert item["id"] in [i["id"] for i in listed]
    assert item["id"] not in [i["id"] for i in httpx.get(base, headers=auth(bob)).json()]
    _assert_error_shape(httpx.get(f"{base}/{item['id']}", headers=auth(bob)), 404)
    # Bob cannot use Alice's integration in a job.
    refused = httpx.post(
        f"{service.url}{JOBS}",
        json={"dicom_urls": ["s3://b/k.dcm"], "integration_uuid": item["id"]},
        headers=auth(bob),
    )
    assert "integration_uuid" in _assert_error_shape(refused, 422)["message"]
    assert httpx.delete(f"{base}/{item['id']}", headers=auth(alice)).status_code == 200
    _assert_error_shape(httpx.get(f"{base}/{item['id']}", headers=auth(alice)), 404)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x", "kind": "ftp"}, "kind"),
        ({"kind": "s3"}, "title"),
        ({"title": "x", "kind": "s3", "credentials": {"password": "hunter2-secret"}}, "body"),
        ({"title": "x", "kind": "s3", "endpoint_url": "ftp://h"}, "body"),
        # Longer than the database columns: a 422, not a 500 from PostgreSQL.
        ({"title": "x", "kind": "s3", "region": "r" * 101}, "region"),
        ({"title": "x", "kind": "s3", "endpoint_url": "http://h/" + "p" * 2000}, "endpoint_url"),
    ],
)
def test_invalid_integrations_are_422_without_echoing_secrets(
    service: ServiceProcess, alice: str, payload: dict[str, Any], field: str
) -> None:
    response = httpx.post(f"{service.url}/integrations", json=payload, headers=auth(alice))
    error = _assert_error_shape(response, 422)
    assert field in error["message"]
    assert "hunter2-secret" not in response.text


@pytest.mark.slow
def test_cancelling_a_running_job_stops_it_between_files(
    service: ServiceProcess, alice: str, tmp_path: Path
) -> None:
    from dicomscrub.synthetic.patients import make_patients, write_series

    patient = make_patients(1, seed=9)[0]
    paths = write_series(tmp_path / "in", patient, n=80, rows=192, columns=192)
    created = httpx.post(
        f"{service.url}{JOBS}",
        json={"dicom_urls": [str(tmp_path / "in")], "upload_dir": str(tmp_path / "out")},
        headers=auth(alice),
    ).json()
    url = f"{service.url}{JOBS}/{created['uuid']}"
    deadline = time.monotonic() + 60
    while httpx.get(url, headers=auth(alice)).json()["processed"] < 1:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    cancelled = httpx.delete(url, headers=auth(alice))
    assert cancelled.status_code == 200, cancelled.text
    result = httpx.get(url, params={"timeout_seconds": 30}, headers=auth(alice)).json()
    assert result["status"] == "ERROR"
    assert result["state"] == "cancelled"
    assert result["urls"] == []
    assert result["processed"] < len(paths)
    written = list((tmp_path / "out").glob("*.dcm"))
    assert len(written) < len(paths)
