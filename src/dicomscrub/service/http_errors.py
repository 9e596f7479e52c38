"""The one JSON shape of every 4xx and 5xx answer.

::

    {"error": {"status": 422, "code": "invalid-payload", "message": "...",
               "fields": [{"field": "save_conditions[0].dicom_tag", "message": "..."}]}}

``fields`` is empty unless the request body or query failed validation. Messages never
echo submitted values: a payload may hold credentials or PHI.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dicomscrub.logsafe import log_unexpected

__all__ = ["ApiError", "error_body", "install_error_handlers"]

log = logging.getLogger("dicomscrub.service")

CODES: Final[dict[int, str]] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    422: "invalid-payload",
    429: "too-many-requests",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """Raised by routes to answer with an error of the common shape."""

    def __init__(self, status: int, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or CODES.get(status, "error")
        self.message = message


def error_body(
    status: int, message: str, *, code: str | None = None, fields: Sequence[dict[str, str]] = ()
) -> dict[str, Any]:
    """The JSON body of an error answer."""
    return {
        "error": {
            "status": status,
            "code": code or CODES.get(status, "error"),
            "message": message,
            "fields": list(fields),
        }
    }


def _field_name(loc: Sequence[int | str]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif str(part).startswith(("function-", "model-")):
            continue  # pydantic's names for validators, not fields
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _clean(message: str) -> str:
    # pydantic prefixes messages of ValueErrors raised in validators.
    return message.removeprefix("Value error, ")


async def _on_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(error_body(exc.status, exc.message, code=exc.code), exc.status, headers)


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    return JSONResponse(
        error_body(exc.status_code, message), exc.status_code, getattr(exc, "headers", None)
    )


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": _field_name(err.get("loc", ())), "message": _clean(str(err.get("msg", "")))}
        for err in exc.errors()
    ]
    names = ", ".join(sorted({f["field"] for f in fields}))
    return JSONResponse(error_body(422, f"invalid request: {names}", fields=fields), 422)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    # The last resort for bugs: log where it happened for the operator, never the
    # exception's text (it may quote a value), and answer in the common shape.
    log_unexpected(log, "unhandled error", exc)
    return JSONResponse(error_body(500, "internal server error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the common shape."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)
