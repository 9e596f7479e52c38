"""Write and read reports as JSON Lines, one object per input file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from dicomscrub.errors import ConfigError, StorageError
from dicomscrub.report.models import FileReport
from dicomscrub.storage import local_path, read_bytes, write_atomic_file

if TYPE_CHECKING:
    from dicomscrub.storage.integrations import Integration

__all__ = ["ReportWriter", "iter_reports", "load_reports"]


class ReportWriter:
    """Append report lines as files finish; each line is flushed, so an interrupted job
    leaves a report that ``--resume`` can read. A remote report URL is written through
    a local temporary file and uploaded when the writer closes.
    """

    def __init__(
        self, url: str, *, append: bool = False, integration: Integration | None = None
    ) -> None:
        self.url = url
        self._integration = integration
        local = local_path(url)
        self._remote = local is None
        try:
            if local is None:
                fd, tmp = tempfile.mkstemp(prefix="dicomscrub-report-", suffix=".jsonl")
                os.close(fd)
                self._path = Path(tmp)
            else:
                self._path = local
                self._path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: IO[str] = self._path.open("a" if append else "w", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot write the report at {url}: {exc.strerror}") from None
        self.count = 0

    def write(self, report: FileReport) -> None:
        self._fh.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        if self._fh.closed:
            return
        self._fh.close()
        if self._remote:
            try:
                write_atomic_file(self.url, self._path, integration=self._integration)
            finally:
                self._path.unlink(missing_ok=True)

    def __enter__(self) -> ReportWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def iter_reports(text: str) -> Iterator[FileReport]:
    """Parse JSON Lines text; a torn last line (an interrupted write) is ignored."""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        yield FileReport.from_json(data)


def load_reports(url: str, *, integration: Integration | None = None) -> dict[str, FileReport]:
    """The last report of each input url in a report file; empty if there is none."""
    path = local_path(url)
    if path is not None:
        if not path.exists():
            return {}
        text = path.read_text(encoding="utf-8")
    else:
        try:
            text = read_bytes(url, integration=integration).decode("utf-8")
        except StorageError:
            return {}
    return {report.url: report for report in iter_reports(text)}
