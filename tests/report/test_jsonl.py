"""JSON Lines reports: written line by line, read back tolerating a torn last line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.report.jsonl import ReportWriter, iter_reports, load_reports
from dicomscrub.report.models import FileReport, FileStatus


def reports(n: int) -> list[FileReport]:
    return [FileReport(url=f"in/{i}.dcm", status=FileStatus.SAVED) for i in range(n)]


def test_each_line_is_on_disk_once_written(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "r.jsonl"
    writer = ReportWriter(str(path))
    for report in reports(3):
        writer.write(report)
        # flushed per line: a crash now leaves every written line readable
        assert len(path.read_text(encoding="utf-8").splitlines()) == writer.count
    writer.close()
    writer.close()  # closing twice is harmless
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["url"] for line in lines] == ["in/0.dcm", "in/1.dcm", "in/2.dcm"]


def test_writer_truncates_unless_appending(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    for append in (False, False, True):
        with ReportWriter(f"file://{path}", append=append) as writer:
            writer.write(reports(1)[0])
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_unwritable_report_location_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot write the report"):
        ReportWriter(str(tmp_path / "file" / "r.jsonl"))


def test_torn_and_blank_lines_are_ignored() -> None:
    lines = [json.dumps(r.to_json()) for r in reports(3)]
    text = lines[0] + "\n\n" + lines[1] + "\n" + lines[2][: len(lines[2]) // 2]
    assert [r.url for r in iter_reports(text)] == ["in/0.dcm", "in/1.dcm"]


def test_load_reports_keeps_the_last_of_each_url(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    first = FileReport(url="a.dcm", status=FileStatus.FAILED)
    second = FileReport(url="a.dcm", status=FileStatus.SAVED, url_deid="out/a.dcm")
    with ReportWriter(str(path)) as writer:
        writer.write(first)
        writer.write(second)
    assert load_reports(str(path)) == {"a.dcm": second}
    assert load_reports(str(tmp_path / "absent.jsonl")) == {}


def test_non_ascii_urls_survive(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    with ReportWriter(str(path)) as writer:
        writer.write(FileReport(url="dossier/Überweisung é.dcm"))
    assert list(load_reports(str(path))) == ["dossier/Überweisung é.dcm"]
