"""Per-file reports: the reference API's JSON object per input, plus our additions."""

from dicomscrub.report.models import FileReport, FileStatus, ReportError

__all__ = ["FileReport", "FileStatus", "ReportError"]
