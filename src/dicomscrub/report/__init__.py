"""Per-file reports: the reference API's JSON object per input, plus our additions."""

from dicomscrub.report.models import ReportError, FileReport, FileStatus

__all__ = ["ReportError", "FileReport", "FileStatus"]
