"""The per-file report.

One :class:`FileReport` per input file. Its JSON form has exactly the reference API's
keys (``url``, ``StudyInstanceUID``, ``StudyInstanceUID_deid``, ``SeriesInstanceUID``,
``SeriesInstanceUID_deid``, ``save_conditions_evaluations``, ``save_condition``,
``save_condition_series_agg``, ``save_disabling_urls_series_agg``, ``url_deid``) plus
``status``, ``error``, ``actions_applied`` and, when present, ``actions`` (dry run),
``pixel_regions`` and ``verification``. Values of attributes other than UIDs never
appear; the original UIDs do, because the reference reports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["REFERENCE_KEYS", "FileReport", "FileStatus", "ReportError"]

REFERENCE_KEYS = (
    "url",
    "StudyInstanceUID",
    "StudyInstanceUID_deid",
    "SeriesInstanceUID",
    "SeriesInstanceUID_deid",
    "save_conditions_evaluations",
    "save_condition",
    "save_condition_series_agg",
    "save_disabling_urls_series_agg",
    "url_deid",
)


class FileStatus(StrEnum):
    """What happened to one input."""

    SAVED = "saved"
    """De-identified and written (or, in a dry run, would have been)."""
    SKIPPED = "skipped"
    """Not written because its series failed the save conditions."""
    FAILED = "failed"
    """Not written because of an error; ``error`` says which."""


@dataclass(frozen=True)
class ReportError:
    """A report's ``error`` member: a stable code and a message that names no PHI."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class FileReport:
    """The outcome for one input file."""

    url: str
    status: FileStatus = FileStatus.FAILED
    StudyInstanceUID: str | None = None
    StudyInstanceUID_deid: str | None = None
    SeriesInstanceUID: str | None = None
    SeriesInstanceUID_deid: str | None = None
    save_conditions_evaluations: list[dict[str, Any]] = field(default_factory=list)
    save_condition: bool = True
    save_condition_series_agg: bool = True
    save_disabling_urls_series_agg: list[str] = field(default_factory=list)
    url_deid: str | None = None
    error: ReportError | None = None
    actions_applied: int = 0
    actions: list[dict[str, Any]] | None = None
    pixel_regions: list[dict[str, Any]] | None = None
    verification: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON-ready object (reference keys first)."""
        out: dict[str, Any] = {key: getattr(self, key) for key in REFERENCE_KEYS}
        out["save_disabling_urls_series_agg"] = list(self.save_disabling_urls_series_agg)
        out["status"] = self.status.value
        out["error"] = self.error.to_json() if self.error else None
        out["actions_applied"] = self.actions_applied
        for extra in ("actions", "pixel_regions", "verification"):
            value = getattr(self, extra)
            if value is not None:
                out[extra] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileReport:
        """Rebuild a report from :meth:`to_json` output (used by ``--resume``)."""
        error = data.get("error")
        return cls(
            url=data["url"],
            status=FileStatus(data["status"]),
            StudyInstanceUID=data.get("StudyInstanceUID"),
            StudyInstanceUID_deid=data.get("StudyInstanceUID_deid"),
            SeriesInstanceUID=data.get("SeriesInstanceUID"),
            SeriesInstanceUID_deid=data.get("SeriesInstanceUID_deid"),
            save_conditions_evaluations=list(data.get("save_conditions_evaluations") or []),
            save_condition=bool(data.get("save_condition", True)),
            save_condition_series_agg=bool(data.get("save_condition_series_agg", True)),
            save_disabling_urls_series_agg=list(data.get("save_disabling_urls_series_agg") or []),
            url_deid=data.get("url_deid"),
            error=ReportError(error["code"], error["message"]) if error else None,
            actions_applied=int(data.get("actions_applied", 0)),
            actions=data.get("actions"),
            pixel_regions=data.get("pixel_regions"),
            verification=data.get("verification"),
        )
