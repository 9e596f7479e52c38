"""Which failures are transient, and how retries end."""

from __future__ import annotations

import errno

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from dicomscrub.errors import StorageError
from dicomscrub.storage.retry import RetryPolicy, call_with_retries, is_transient


def _client_error(status: int, code: str) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "PutObject")  # type: ignore[arg-type]


def _wrapped(cause: BaseException) -> OSError:
    """An OSError raised from ``cause``, as s3fs translates botocore errors."""
    try:
        raise OSError(errno.EIO, "translated") from cause
    except OSError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), True),
        (TimeoutError("timed out"), True),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True),
        (_wrapped(_client_error(503, "ServiceUnavailable")), True),
        (_wrapped(_client_error(500, "InternalError")), True),
        (_wrapped(_client_error(400, "SlowDown")), True),
        (_wrapped(_client_error(429, "TooManyRequests")), True),
        (_wrapped(_client_error(403, "AccessDenied")), False),
        (_wrapped(_client_error(400, "InvalidArgument")), False),
        (FileNotFoundError("nope"), False),
        (PermissionError("denied"), False),
        (ValueError("not a storage error"), False),
    ],
)
def test_is_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_retries_then_succeeds() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError(errno.ECONNRESET, "reset")
        return "done"

    assert (
        call_with_retries(flaky, url="s3://b/k", what="write", policy=RetryPolicy(5, 0.0)) == "done"
    )
    assert len(calls) == 3


def test_gives_up_with_retryable_error() -> None:
    calls: list[int] = []

    def down() -> None:
        calls.append(1)
        raise _wrapped(_client_error(503, "SlowDown"))

    with pytest.raises(StorageError) as info:
        call_with_retries(down, url="s3://b/k", what="write", policy=RetryPolicy(3, 0.0))
    assert len(calls) == 3
    assert info.value.retryable is True
    assert info.value.url == "s3://b/k"
    assert "after 3 attempts" in str(info.value)


def test_final_error_is_not_retried() -> None:
    calls: list[int] = []

    def missing() -> None:
        calls.append(1)
        raise FileNotFoundError("s3://b/k")

    with pytest.raises(StorageError, match="not found") as info:
        call_with_retries(missing, url="s3://b/k", what="read", policy=RetryPolicy(5, 0.0))
    assert len(calls) == 1
    assert info.value.retryable is False


def test_backoff_grows_and_is_capped() -> None:
    delays = list(RetryPolicy(attempts=8, base_delay=1.0, max_delay=4.0).delays())
    assert len(delays) == 7
    assert all(0 <= d <= 4.0 for d in delays)
    assert all(d <= 2**i for i, d in enumerate(delays))


def test_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DICOMSCRUB_STORAGE_ATTEMPTS", "7")
    monkeypatch.setenv("DICOMSCRUB_STORAGE_BACKOFF", "0.5")
    assert RetryPolicy.from_env() == RetryPolicy(attempts=7, base_delay=0.5)
