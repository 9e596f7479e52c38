"""Retries with exponential backoff and full jitter, and which failures are transient.

Cloud libraries raise their own exception trees (botocore, aiohttp, google-auth, azure-core),
often wrapped by fsspec into an ``OSError`` whose ``__cause__`` holds the original. This
module reads that chain by duck typing, so it needs none of those libraries installed, and
:func:`call_with_retries` is the one boundary where they become :class:`StorageError`.

The policy comes from the environment so that worker processes inherit it:
``DICOMSCRUB_STORAGE_ATTEMPTS`` (default 5) and ``DICOMSCRUB_STORAGE_BACKOFF`` (the first
delay in seconds, default 0.2; each later one doubles, up to 10 s, with full jitter).
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from dicomscrub.errors import ConfigError, StorageError

__all__ = ["RetryPolicy", "call_with_retries", "is_transient", "storage_errors"]

T = TypeVar("T")
log = logging.getLogger(__name__)

_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "ServerBusy",
        "OperationTimedOut",
    }
)
_TRANSIENT_TYPES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ResponseStreamingError",
        "IncompleteReadError",
        "ServerDisconnectedError",
        "ClientConnectorError",
        "ClientPayloadError",
        "ServiceRequestError",
        "ServiceResponseError",
        "TransportError",
    }
)
_TRANSIENT_ERRNO = frozenset(
    {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.ETIMEDOUT, errno.EPIPE}
)
# Base classes of the exceptions the optional cloud libraries raise, by dotted path.
_LIBRARY_ERRORS = (
    "botocore.exceptions.BotoCoreError",
    "botocore.exceptions.ClientError",
    "aiohttp.ClientError",
    "google.auth.exceptions.GoogleAuthError",
    "gcsfs.retry.HttpError",
    "azure.core.exceptions.AzureError",
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The policy set by ``DICOMSCRUB_STORAGE_ATTEMPTS`` / ``..._BACKOFF``, or the default."""
        try:
            attempts = int(os.environ.get("DICOMSCRUB_STORAGE_ATTEMPTS", cls.attempts))
            base = float(os.environ.get("DICOMSCRUB_STORAGE_BACKOFF", cls.base_delay))
        except ValueError:
            raise ConfigError("DICOMSCRUB_STORAGE_ATTEMPTS/_BACKOFF must be numbers") from None
        if attempts < 1 or base < 0:
            raise ConfigError("DICOMSCRUB_STORAGE_ATTEMPTS must be >= 1 and _BACKOFF >= 0")
        return cls(attempts=attempts, base_delay=base)

    def delays(self) -> Iterator[float]:
        """The waits before attempts 2, 3, ...: exponential, with full jitter."""
        for i in range(self.attempts - 1):
            yield random.uniform(0, min(self.max_delay, self.base_delay * 2**i))


@cache
def storage_errors() -> tuple[type[BaseException], ...]:
    """``OSError`` and the base errors of whichever cloud libraries are installed."""
    found: list[type[BaseException]] = [OSError]
    for dotted in _LIBRARY_ERRORS:
        module, _, name = dotted.rpartition(".")
        try:
            found.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    for attr in ("status", "status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    return None


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it wraps) is worth retrying.

    Transient: refused or reset connections, timeouts, HTTP 408/429/5xx and the services'
    throttling codes. Not transient: not found, access denied, bad requests.
    """
    for err in _chain(exc):
        if isinstance(err, FileNotFoundError | PermissionError | IsADirectoryError):
            return False
        if isinstance(err, ConnectionError | TimeoutError):
            return True
        if isinstance(err, OSError) and err.errno in _TRANSIENT_ERRNO:
            return True
        if _error_code(err) in _TRANSIENT_CODES:
            return True
        status = _status(err)
        if status is not None:
            return status in _TRANSIENT_STATUS
        if any(cls.__name__ in _TRANSIENT_TYPES for cls in type(err).__mro__):
            return True
    return False


def _describe(exc: BaseException) -> str:
    for err in _chain(exc):
        if isinstance(err, FileNotFoundError):
            return "not found"
        if isinstance(err, PermissionError):
            return "access denied"
        status = _status(err)
        if status in (401, 403):
            return f"access denied (HTTP {status})"
        if status is not None:
            code = _error_code(err)
            return f"HTTP {status}" + (f" {code}" if code else "")
    return type(exc).__name__


def call_with_retries(
    fn: Callable[[], T], *, url: str, what: str, policy: RetryPolicy | None = None
) -> T:
    """Call ``fn``, retrying transient storage failures; raise :class:`StorageError` after.

    ``what`` names the operation in the message ("read", "write", ...). A failure that is
    not transient is raised at once with ``retryable=False``.
    """
    policy = policy or RetryPolicy.from_env()
    delays = policy.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except storage_errors() as exc:
            transient = is_transient(exc)
            delay = next(delays, None) if transient else None
            if delay is None:
                tries = f" after {attempt} attempts" if attempt > 1 else ""
                raise StorageError(
                    f"cannot {what}: {_describe(exc)}{tries}", url=url, retryable=transient
                ) from exc
            log.debug("transient %s on %s (%s); retrying", what, url, type(exc).__name__)
            time.sleep(delay)
