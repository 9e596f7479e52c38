"""The whole dicomscrub exception hierarchy.

::

    DicomscrubError
    ├── ConfigError(ValueError)   fatal; raised before any file is touched (CLI exit 2)
    ├── FileError                 one file failed; carries a stable ``code``
    └── StorageError(OSError)     a read or write failed; carries ``url`` and ``retryable``

Messages name tags and codes, never the values of attributes: a message may end up in a
log or a report that leaves the hospital.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "FILE_ERROR_CODES",
    "ConfigError",
    "DicomscrubError",
    "FileError",
    "StorageError",
]

#: Stable per-file error codes, as they appear in reports (``error.code``).
FILE_ERROR_CODES: Final[dict[str, str]] = {
    "not-dicom": "the input is not a DICOM file",
    "truncated": "the file ends before its last element",
    "unreadable": "the input could not be read",
    "missing-series-uid": "SeriesInstanceUID (0020,000E) is absent or empty",
    "missing-sop-uid": "SOPInstanceUID (0008,0018) is absent or empty",
    "missing-sop-class": "SOPClassUID (0008,0016) is absent from the data set and file meta",
    "unsupported-sop-class": "files of this SOP class are not de-identified (e.g. DICOMDIR)",
    "duplicate-sop-instance": "another input of this job has the same SOPInstanceUID",
    "output-is-input": "the output location equals an input location",
    "output-unwritable": "the output location could not be written",
    "output-collision": "an earlier input of this job is written to the same output location",
    "pixel-decode": "pixel data needs redaction but cannot be decoded",
    "pixel-encode": "redacted pixel data could not be encoded",
    "scrub": "the header could not be de-identified",
    "storage": "object storage failed after retries",
    "internal": "an unexpected error; see the message",
}


class DicomscrubError(Exception):
    """Base class of every error dicomscrub raises on purpose."""


class ConfigError(DicomscrubError, ValueError):
    """A setting, option, profile or argument is invalid. Nothing has been touched."""


class FileError(DicomscrubError):
    """Processing one file failed; the batch goes on.

    ``code`` is one of :data:`FILE_ERROR_CODES` and never changes meaning between
    releases; ``message`` names tags, never values.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in FILE_ERROR_CODES:
            raise ValueError(f"unknown file error code {code!r}")
        self.code = code
        self.message = message or FILE_ERROR_CODES[code]
        super().__init__(f"{code}: {self.message}")


class StorageError(DicomscrubError, OSError):
    """Reading, listing or writing a URL failed.

    ``retryable`` is true for transient failures (5xx, timeouts, throttling, a refused
    connection) that a later attempt or ``--resume`` may get past.
    """

    def __init__(self, message: str, *, url: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.url = url
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.args[0]} ({self.url})"
