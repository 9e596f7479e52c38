"""``dicomscrub deidentify``: input forms, naming, dry run, resume, progress and summary."""

from __future__ import annotations

import io
import json
import os
import re
import select
from pathlib import Path
from typing import Any

import pytest

from dicomscrub.batch import BatchSummary
from dicomscrub.cli.deidentify_cmd import print_summary
from dicomscrub.cli.main import main
from dicomscrub.cli.progress import Progress
from tests.factories import find_phi, make_corpus, make_patients, planted_phi, write_series

T = "1700000001"


def cli(*args: str) -> int:
    return main(["deidentify", *args, "-q", "--workers", "1"])


def lines_of(report: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]


def series(folder: Path, n: int = 2, *, modality: str = "CT", index: int = 0) -> list[Path]:
    patient = make_patients(index + 1)[index]
    return write_series(folder, patient, n=n, modality=modality, rows=32, columns=32, seed=index)


def rel_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# -- inputs and naming ------------------------------------------------------------------------


def test_folder_is_walked_and_mirrored_under_out(tmp_path: Path, key_file: Path) -> None:
    corpus = make_corpus(
        tmp_path / "src", patients=2, series_per_patient=2, files_per_series=2, rows=32, columns=32
    )
    out = tmp_path / "out"
    assert (
        cli(str(corpus.root), "--out", str(out), "--key-file", str(key_file), "--timestamp", T) == 0
    )
    expected = sorted(
        f"{p.parent.relative_to(corpus.root).as_posix()}/deid_{T}_{p.name}" for p in corpus.paths
    )
    assert [f for f in rel_files(out) if f.endswith(".dcm")] == expected
    assert (out / f"dicomscrub-report-{T}.jsonl").is_file()


def test_relative_source_is_reported_as_named(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    series(tmp_path / "data" / "ct", 1)
    monkeypatch.chdir(tmp_path)
    assert cli("data", "--out", "out", "--key-file", str(key_file), "--timestamp", T) == 0
    (line,) = lines_of(tmp_path / "out" / f"dicomscrub-report-{T}.jsonl")
    assert line["url"] == "data/ct/IM0001.dcm"
    assert line["url_deid"] == f"out/ct/deid_{T}_IM0001.dcm"


def test_glob_selects_files(tmp_path: Path, key_file: Path) -> None:
    series(tmp_path / "src" / "ct", 2)
    series(tmp_path / "src" / "mr", 2, modality="MR", index=1)
    out = tmp_path / "out"
    pattern = f"{tmp_path}/src/*/IM0001.dcm"
    assert cli(pattern, "--out", str(out), "--key-file", str(key_file), "--timestamp", T) == 0
    assert [f for f in rel_files(out) if f.endswith(".dcm")] == [
        f"ct/deid_{T}_IM0001.dcm",
        f"mr/deid_{T}_IM0001.dcm",
    ]


def test_list_file_names_the_inputs(tmp_path: Path, key_file: Path) -> None:
    files = series(tmp_path / "src", 3)
    listing = tmp_path / "inputs.txt"
    listing.write_text(f"# chosen files\n{files[0]}\n\n{files[2]}\n", encoding="utf-8")
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    args = [str(listing), "--out", str(out), "--report", str(report), "--key-file", str(key_file)]
    assert cli(*args) == 0
    assert [line["url"] for line in lines_of(report)] == [str(files[0]), str(files[2])]


def test_without_out_outputs_go_beside_sources_with_one_timestamp(
    tmp_path: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = series(tmp_path / "src" / "a", 2) + series(tmp_path / "src" / "b", 2, index=1)
    monkeypatch.chdir(tmp_path)
    assert cli(str(tmp_path / "src"), "--key-file", str(key_file)) == 0
    written = sorted(tmp_path.joinpath("src").rglob("deid_*"))
    assert len(written) == len(files)
    stamps = {re.sub(r"^deid_(\d+)_IM000\d\.dcm$", r"\1", p.name) for p in written}
    assert len(stamps) == 1
    (stamp,) = stamps
    assert {p.parent for p in written} == {p.parent for p in files}
    # The report defaults to the working folder when outputs are beside the sources.
    assert len(lines_of(tmp_path / f"dicomscrub-report-{stamp}.jsonl")) == len(files)


def test_name_template(tmp_path: Path, key_file: Path) -> None:
    series(tmp_path / "src", 1)
    out = tmp_path / "out"
    args = ["--out", str(out), "--key-file", str(key_file), "--timestamp", T]
    assert (
        cli(
            str(tmp_path / "src"),
            *args,
            "--name-template",
            "{stem}.anon{T}{suffix}".replace("{T}", "_{timestamp}"),
        )
        == 0
    )
    assert (out / f"IM0001.anon_{T}.dcm").is_file()


def test_output_equal_to_input_fails_and_keeps_the_source(tmp_path: Path, key_file: Path) -> None:
    (path,) = series(tmp_path / "src", 1)
    before = path.read_bytes()
    report = tmp_path / "r.jsonl"
    args = [str(tmp_path / "src"), "--name-template", "{name}", "--report", str(report)]
    assert cli(*args, "--key-file", str(key_file)) == 1
    assert lines_of(report)[0]["error"]["code"] == "output-is-input"
    assert path.read_bytes() == before


def test_conditions_file_in_reference_form(tmp_path: Path, key_file: Path) -> None:
    series(tmp_path / "src" / "ct", 2)
    series(tmp_path / "src" / "mr", 2, modality="MR", index=1)
    conditions = tmp_path / "conditions.json"
    conditions.write_text(
        json.dumps(
            [
                {"value": ["mr"], "condition_type": "IN", "dicom_tag": "Modality"},
                {"value": "secondary", "condition_type": "NOT_SUBSTR", "dicom_tag": "00080008"},
            ]
        )
    )
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    args = ["--conditions", str(conditions), "--report", str(report), "--key-file", str(key_file)]
    assert cli(str(tmp_path / "src"), "--out", str(out), *args) == 0
    statuses = {line["url"].split("/")[-2]: line["status"] for line in lines_of(report)}
    assert statuses == {"ct": "skipped", "mr": "saved"}
    assert not (out / "ct").exists()
    assert len(list((out / "mr").glob("*.dcm"))) == 2


# -- dry run and PHI ------------------------------------------------------------------------------


def test_dry_run_writes_only_the_report(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = series(tmp_path / "src", 2)
    before = {p: p.read_bytes() for p in files}
    report = tmp_path / "r.jsonl"
    out = tmp_path / "out"
    args = ["--out", str(out), "--dry-run", "--report", str(report), "--key-file", str(key_file)]
    assert cli(str(tmp_path / "src"), *args) == 0
    assert not out.exists()
    assert {p: p.read_bytes() for p in files} == before
    text = report.read_text(encoding="utf-8")
    phi = planted_phi(make_patients(1)[0])
    assert find_phi(text.encode(), phi) == []
    captured = capsys.readouterr()
    assert find_phi((captured.out + captured.err).encode(), phi) == []
    assert "would be saved" in captured.out
    for line in lines_of(report):
        assert line["url_deid"] is None
        assert {a["keyword"] for a in line["actions"]} >= {"PatientName", "PatientBirthDate"}


# -- resume ----------------------------------------------------------------------------------------


def test_resume_after_losing_outputs_and_a_torn_report(tmp_path: Path, key_file: Path) -> None:
    files = series(tmp_path / "src", 6)
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    args = [str(tmp_path / "src"), "--out", str(out), "--report", str(report)]
    args += ["--key-file", str(key_file), "--timestamp", T]
    assert cli(*args) == 0
    outputs = [out / f"deid_{T}_{p.name}" for p in files]
    for path in outputs:
        os.utime(path, ns=(10**18, 10**18))  # an old mark: a rewritten output loses it
    outputs[0].unlink()
    text = report.read_text(encoding="utf-8")
    report.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1], encoding="utf-8")
    assert cli(*args, "--resume") == 0
    changed = [i for i, p in enumerate(outputs) if p.stat().st_mtime_ns != 10**18]
    assert changed == [0, 5]  # the deleted output, and the input whose line was torn
    assert [line["url"] for line in lines_of(report)] == [str(p) for p in files]


# -- progress and summary ------------------------------------------------------------------------


def test_plain_progress_lines_and_summary_when_not_a_tty(
    tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series(tmp_path / "src", 2)
    (tmp_path / "src" / "junk.dcm").write_bytes(b"junk" * 64)
    (tmp_path / "src" / "empty.dcm").write_bytes(b"")
    out = tmp_path / "out"
    args = [str(tmp_path / "src"), "--out", str(out), "--key-file", str(key_file), "--workers", "1"]
    assert main(["deidentify", *args, "--timestamp", T]) == 1
    captured = capsys.readouterr()
    assert "progress: 4/4 files" in captured.err
    assert "\r" not in captured.err
    assert "4 files: 2 saved, 0 skipped by save conditions, 2 failed" in captured.out
    assert "failed (not-dicom): 2" in captured.out
    assert f"report: {out}/dicomscrub-report-{T}.jsonl" in captured.out


def test_progress_draws_a_bar_on_a_tty() -> None:
    master, replica = os.openpty()
    with open(replica, "w", encoding="utf-8") as tty:  # noqa: PTH123 - a pty fd, not a path
        progress = Progress(tty)
        assert progress.tty
        for done in range(1, 5):
            progress(done, 4)
        drawn = ""
        while select.select([master], [], [], 0.2)[0]:
            drawn += os.read(master, 4096).decode()
    os.close(master)
    assert drawn.count("\r[") == 4
    assert "[##############################] 4/4 files" in drawn


def test_progress_on_a_plain_stream_prints_sparse_lines() -> None:
    stream = io.StringIO()
    progress = Progress(stream, interval=3600)
    for done in range(1, 101):
        progress(done, 100)
    assert stream.getvalue().splitlines()[0].startswith("progress: 1/100 files")
    assert stream.getvalue().splitlines()[-1].startswith("progress: 100/100 files")
    assert len(stream.getvalue().splitlines()) == 2


def test_summary_lists_failures_by_reason() -> None:
    stream = io.StringIO()
    summary = BatchSummary(
        total=5,
        saved=1,
        skipped=1,
        failed=3,
        failures_by_code={"truncated": 2, "not-dicom": 1},
        report_url="r.jsonl",
        cancelled=True,
    )
    print_summary(summary, dry_run=False, timestamp=7, stream=stream)
    text = stream.getvalue()
    assert "5 files: 1 saved, 1 skipped by save conditions, 3 failed" in text
    assert text.index("failed (not-dicom): 1") < text.index("failed (truncated): 2")
    assert "cancelled" in text
    assert "--timestamp 7" in text
