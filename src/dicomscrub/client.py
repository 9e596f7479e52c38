"""A client for ``dicomscrub serve`` with the reference API's names.

A script written for the reference API keeps working after changing its import and the
client's construction::

    from dicomscrub.client import (
        DeidentifyRedactTextMode,
        SaveDeidentifiedDicomConditionIn,
        SaveDeidentifiedDicomConditionNotSubstr,
        UserClient,
    )

    client = UserClient("http://dicomscrub.internal:8000", api_key)
    integration = next(i for i in client.get_cloud_integrations() if i.title == "research")
    urls = client.deidentify_dicom_files(
        dicom_urls=series_urls,
        integration_hash=integration.id,
        redact_pixels_mode=DeidentifyRedactTextMode.REDACT_SENSITIVE_TEXT,
        save_conditions=[
            SaveDeidentifiedDicomConditionIn(value=["CT", "MR"], dicom_tag="Modality"),
            SaveDeidentifiedDicomConditionNotSubstr(value="PRIMARY", dicom_tag="ImageType"),
        ],
        upload_dir="s3://clean/study-1/",
    )

Only httpx is needed: nothing of the server side is imported. Exceptions::

    DicomscrubClientError
    ├── ApiError            the server answered with an error (``.status``, ``.code``, ``.fields``)
    ├── JobFailedError      the job ended with status ERROR (``.uuid``, ``.state``)
    └── JobTimeoutError     the job did not end within the time the caller allowed
"""

from __future__ import annotations

import time
import uuid as uuid_module
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import httpx

__all__ = [
    "ApiError",
    "CloudIntegration",
    "DeidentifyRedactTextMode",
    "DicomscrubClientError",
    "JobFailedError",
    "JobTimeoutError",
    "SaveDeidentifiedDicomCondition",
    "SaveDeidentifiedDicomConditionIn",
    "SaveDeidentifiedDicomConditionNotSubstr",
    "UserClient",
]

#: The longest wait the server grants one long-poll request.
MAX_POLL_SECONDS: Final = 60.0
#: Statuses worth retrying: the server or a proxy is busy or restarting.
_TRANSIENT_STATUS: Final = frozenset({408, 429, 500, 502, 503, 504})


class DicomscrubClientError(Exception):
    """Base class of the client's errors."""


class ApiError(DicomscrubClientError):
    """The server refused a request; ``fields`` lists invalid fields of a 422."""

    def __init__(
        self, status: int, code: str, message: str, fields: Sequence[dict[str, str]] = ()
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = list(fields)


class JobFailedError(DicomscrubClientError):
    """A de-identification job ended with status ERROR (or was cancelled)."""

    def __init__(self, job_uuid: str, state: str, message: str | None) -> None:
        super().__init__(f"job {job_uuid} ended {state}: {message or 'no detail'}")
        self.uuid = job_uuid
        self.state = state


class JobTimeoutError(DicomscrubClientError, TimeoutError):
    """The job was still pending when the caller's time ran out."""


class DeidentifyRedactTextMode(StrEnum):
    """What to do with text burned into the pixels."""

    REDACT_NO_TEXT = "REDACT_NO_TEXT"
    REDACT_ALL_TEXT = "REDACT_ALL_TEXT"
    REDACT_SENSITIVE_TEXT = "REDACT_SENSITIVE_TEXT"


@dataclass(frozen=True)
class SaveDeidentifiedDicomCondition:
    """A save condition: ``{value, condition_type, dicom_tag}`` (case-insensitive)."""

    value: str | list[str] | None
    dicom_tag: str
    condition_type: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the server expects."""
        value = list(self.value) if isinstance(self.value, list | tuple) else self.value
        return {"value": value, "condition_type": self.condition_type, "dicom_tag": self.dicom_tag}


class SaveDeidentifiedDicomConditionIn(SaveDeidentifiedDicomCondition):
    """True if any of ``value`` (a list) is contained in the attribute's value."""

    def __init__(self, value: Sequence[str], dicom_tag: str) -> None:
        if isinstance(value, str):
            raise TypeError("SaveDeidentifiedDicomConditionIn takes a list of strings")
        super().__init__(value=list(value), dicom_tag=dicom_tag, condition_type="IN")


class SaveDeidentifiedDicomConditionNotSubstr(SaveDeidentifiedDicomCondition):
    """True if ``value`` (a string) is not contained in the attribute's value."""

    def __init__(self, value: str, dicom_tag: str) -> None:
        super().__init__(value=value, dicom_tag=dicom_tag, condition_type="NOT_SUBSTR")


@dataclass(frozen=True)
class CloudIntegration:
    """A storage integration registered on the server (its secrets stay there)."""

    id: str
    title: str
    kind: str | None = None


class UserClient:
    """Talks to one dicomscrub server with one API key.

    ``retries`` is how many times in a row a transient failure (connection refused or
    reset, a timeout, 429 or 5xx) is retried, with exponential back-off from
    ``backoff_seconds``; a long-poll survives a server restart this way.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout_seconds: float = 30.0,
        retries: int = 8,
        backoff_seconds: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._base = url.rstrip("/")
        self._retries = retries
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._http = httpx.Client(
            base_url=self._base,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "dicomscrub-client"},
            timeout=timeout_seconds,
            transport=transport,
        )
        self.last_job_uuid: str | None = None

    def __repr__(self) -> str:
        return f"UserClient({self._base!r})"  # never the key

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> UserClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        read_timeout: float | None = None,
    ) -> Any:
        timeout = httpx.Timeout(self._timeout, read=read_timeout or self._timeout)
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method, path, json=json, params=params, timeout=timeout
                )
            except httpx.TransportError:
                if attempt >= self._retries:
                    raise
            else:
                if response.status_code < 400:
                    return response.json()
                if response.status_code not in _TRANSIENT_STATUS or attempt >= self._retries:
                    raise _api_error(response)
            time.sleep(min(self._backoff * 2**attempt, 10.0))
            attempt += 1

    # -- integrations ------------------------------------------------------------------

    def get_cloud_integrations(self) -> list[CloudIntegration]:
        """The integrations this key's owner registered."""
        return [
            CloudIntegration(id=item["id"], title=item["title"], kind=item.get("kind"))
            for item in self._request("GET", "/integrations")
        ]

    def create_cloud_integration(
        self,
        title: str,
        kind: str,
        *,
        credentials: dict[str, str] | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> CloudIntegration:
        """Register an integration; its credentials are sealed on the server."""
        item = self._request(
            "POST",
            "/integrations",
            json={
                "title": title,
                "kind": kind,
                "credentials": credentials or {},
                "endpoint_url": endpoint_url,
                "region": region,
            },
        )
        return CloudIntegration(id=item["id"], title=item["title"], kind=item.get("kind"))

    def delete_cloud_integration(self, integration_id: str) -> None:
        """Forget an integration."""
        self._request("DELETE", f"/integrations/{integration_id}")

    # -- de-identification -------------------------------------------------------------

    def deidentify_dicom_files_start(
        self,
        dicom_urls: Sequence[str],
        integration_hash: str | uuid_module.UUID | None,
        redact_dicom_tags: bool = True,
        redact_pixels_mode: DeidentifyRedactTextMode = DeidentifyRedactTextMode.REDACT_NO_TEXT,
        save_conditions: Sequence[SaveDeidentifiedDicomCondition] | None = None,
        upload_dir: str | None = None,
        **extras: Any,
    ) -> str:
        """Submit a job; returns its UUID. ``extras`` are dicomscrub's own fields
        (``options=["retain-uids"]``)."""
        payload: dict[str, Any] = {
            "integration_uuid": str(integration_hash) if integration_hash else None,
            "dicom_urls": list(dicom_urls),
            "redact_dicom_tags": redact_dicom_tags,
            "redact_pixels_mode": DeidentifyRedactTextMode(redact_pixels_mode).value,
            "save_conditions": [c.to_dict() for c in save_conditions] if save_conditions else None,
            "upload_dir": upload_dir,
            **extras,
        }
        # A retried POST could queue the job twice; only connection failures before the
        # request was sent are safe to retry, which httpx reports as ConnectError.
        job_uuid = str(self._submit(payload)["uuid"])
        self.last_job_uuid = job_uuid
        return job_uuid

    def _submit(self, payload: dict[str, Any]) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.post("/dicom-deidentification", json=payload)
            except httpx.ConnectError:
                if attempt >= self._retries:
                    raise
                time.sleep(min(self._backoff * 2**attempt, 10.0))
                attempt += 1
                continue
            if response.status_code >= 400:
                raise _api_error(response)
            return response.json()

    def deidentify_dicom_files_poll(
        self, uuid: str, timeout_seconds: float = MAX_POLL_SECONDS
    ) -> dict[str, Any]:
        """One long-poll: ``{status, urls, state, ...}`` after at most ``timeout_seconds``."""
        wait = max(0.0, min(timeout_seconds, MAX_POLL_SECONDS))
        result: dict[str, Any] = self._request(
            "GET",
            f"/dicom-deidentification/{uuid}",
            params={"timeout_seconds": wait},
            read_timeout=wait + self._timeout,
        )
        return result

    def deidentify_dicom_files_get_result(
        self, uuid: str, timeout_seconds: float = 7 * 24 * 3600
    ) -> list[str]:
        """Long-poll until the job ends; returns the written URLs.

        Raises :class:`JobFailedError` when the job ends with ERROR and
        :class:`JobTimeoutError` when it is still pending after ``timeout_seconds``.
        """
        deadline = time.monotonic() + timeout_seconds
        while True:
            remaining = deadline - time.monotonic()
            result = self.deidentify_dicom_files_poll(uuid, max(0.0, remaining))
            status = result.get("status")
            if status == "DONE":
                return list(result.get("urls") or [])
            if status == "ERROR":
                raise JobFailedError(uuid, str(result.get("state")), result.get("error"))
            if time.monotonic() >= deadline:
                raise JobTimeoutError(f"job {uuid} still pending after {timeout_seconds:g} s")

    def deidentify_dicom_files(
        self,
        dicom_urls: Sequence[str],
        integration_hash: str | uuid_module.UUID | None,
        redact_dicom_tags: bool = True,
        redact_pixels_mode: DeidentifyRedactTextMode = DeidentifyRedactTextMode.REDACT_NO_TEXT,
        save_conditions: Sequence[SaveDeidentifiedDicomCondition] | None = None,
        upload_dir: str | None = None,
        **extras: Any,
    ) -> list[str]:
        """Run a job to its end; returns the URLs of the written files.

        The job's UUID is kept in :attr:`last_job_uuid` for
        :meth:`get_deidentification_report`.
        """
        job_uuid = self.deidentify_dicom_files_start(
            dicom_urls,
            integration_hash,
            redact_dicom_tags=redact_dicom_tags,
            redact_pixels_mode=redact_pixels_mode,
            save_conditions=save_conditions,
            upload_dir=upload_dir,
            **extras,
        )
        return self.deidentify_dicom_files_get_result(job_uuid)

    def iter_deidentification_report(
        self, uuid: str, page_size: int = 1000
    ) -> Iterator[dict[str, Any]]:
        """The job's per-file reports, page by page."""
        offset: int | None = 0
        while offset is not None:
            page = self._request(
                "GET",
                f"/dicom-deidentification/{uuid}/report",
                params={"limit": page_size, "offset": offset},
            )
            yield from page["reports"]
            offset = page.get("next_offset")

    def get_deidentification_report(self, uuid: str | None = None) -> list[dict[str, Any]]:
        """Every per-file report of job ``uuid`` (default: the last job started here)."""
        job_uuid = uuid or self.last_job_uuid
        if job_uuid is None:
            raise DicomscrubClientError("no job started by this client; pass a uuid")
        return list(self.iter_deidentification_report(job_uuid))

    def list_deidentification_jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        """This owner's most recent jobs, newest first."""
        page = self._request("GET", "/dicom-deidentification", params={"limit": limit})
        return list(page["jobs"])

    def cancel_deidentification(self, uuid: str) -> None:
        """Cancel a pending or running job."""
        self._request("DELETE", f"/dicom-deidentification/{uuid}")


def _api_error(response: httpx.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(
            int(error["status"]), str(error["code"]), str(error["message"]), error.get("fields", [])
        )
    except (ValueError, KeyError, TypeError):
        return ApiError(response.status_code, "http-error", response.reason_phrase)
