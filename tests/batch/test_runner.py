"""run_batch end to end on synthetic folders: order, series aggregation, bad input, resume."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pydicom
import pytest
from pydicom.data import get_testdata_file

from dicomscrub.batch import JobSpec, run_batch, runner
from dicomscrub.conditions import Condition, parse_condition
from dicomscrub.errors import ConfigError
from dicomscrub.profile.policy import Policy
from dicomscrub.report.models import REFERENCE_KEYS, FileReport, FileStatus
from tests.factories import (
    find_phi,
    make_corpus,
    make_dataset,
    make_patients,
    planted_phi,
    save,
    write_series,
)

TIMESTAMP = 1700000000
OUR_KEYS = ("status", "error", "actions_applied")


def job(sources: list[Path] | Path, key: bytes, *, out: Path | None = None, **kw: Any) -> JobSpec:
    srcs = [sources] if isinstance(sources, Path) else sources
    return JobSpec(
        sources=tuple(str(s) for s in srcs),
        policy=Policy(key=key),
        out=None if out is None else str(out),
        timestamp=kw.pop("timestamp", TIMESTAMP),
        workers=kw.pop("workers", 1),
        **kw,
    )


def report_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def hashes(root: Path) -> dict[str, str]:
    """sha256 of every regular file under ``root`` (symlinks and folders left out)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def leftovers(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob(".dicomscrub-*")]


def small_series(folder: Path, n: int = 3, *, modality: str = "CT", index: int = 0) -> list[Path]:
    patient = make_patients(index + 1)[index]
    return write_series(folder, patient, n=n, modality=modality, rows=32, columns=32, seed=index)


# -- order and report shape ------------------------------------------------------------


def test_reports_one_per_input_in_input_order(tmp_path: Path, key: bytes) -> None:
    src = tmp_path / "src"
    small_series(src / "b_ct", 2)
    (src / "a_junk.dcm").write_bytes(b"not dicom at all" * 20)
    small_series(src / "c_mr", 2, modality="MR", index=1)
    (src / "d_junk.txt.dcm").write_bytes(b"")
    out = tmp_path / "out"
    seen: list[FileReport] = []
    summary = run_batch(
        job(src, key, out=out, conditions=(parse_condition("Modality in CT"),)),
        on_report=seen.append,
    )
    # Input order: a folder's files (sorted) before its subfolders (sorted).
    expected = [
        "a_junk.dcm",
        "d_junk.txt.dcm",
        "b_ct/IM0001.dcm",
        "b_ct/IM0002.dcm",
        "c_mr/IM0001.dcm",
        "c_mr/IM0002.dcm",
    ]
    urls = [f"{src}/{rel}" for rel in expected]
    lines = report_lines(out / f"dicomscrub-report-{TIMESTAMP}.jsonl")
    assert [line["url"] for line in lines] == urls
    assert [r.url for r in seen] == urls
    assert [line["status"] for line in lines] == [
        "failed",
        "failed",
        "saved",
        "saved",
        "skipped",
        "skipped",
    ]
    assert (summary.total, summary.saved, summary.skipped, summary.failed) == (6, 2, 2, 2)
    assert summary.failures_by_code == {"not-dicom": 2}


def test_report_has_exactly_the_reference_keys_and_ours(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 1)
    (tmp_path / "src" / "junk.dcm").write_bytes(b"junk" * 50)
    report = tmp_path / "r.jsonl"
    run_batch(job(tmp_path / "src", key, out=tmp_path / "out", report_url=str(report)))
    lines = report_lines(report)
    assert len(lines) == 2
    for line in lines:
        assert list(line) == [*REFERENCE_KEYS, *OUR_KEYS]
    saved = next(line for line in lines if line["status"] == "saved")
    assert saved["url_deid"] == f"{tmp_path}/out/deid_{TIMESTAMP}_IM0001.dcm"
    assert saved["error"] is None
    assert saved["actions_applied"] > 0
    assert saved["StudyInstanceUID_deid"].startswith("2.25.")
    assert saved["SeriesInstanceUID_deid"] != saved["SeriesInstanceUID"]
    out_ds = pydicom.dcmread(saved["url_deid"])
    assert out_ds.SeriesInstanceUID == saved["SeriesInstanceUID_deid"]
    assert out_ds.StudyInstanceUID == saved["StudyInstanceUID_deid"]
    failed = next(line for line in lines if line["status"] == "failed")
    assert failed["error"]["code"] == "not-dicom"
    assert failed["url_deid"] is None
    assert failed["StudyInstanceUID_deid"] is None


def test_default_report_goes_beside_the_outputs(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 1)
    summary = run_batch(job(tmp_path / "src", key, out=tmp_path / "out"))
    assert summary.report_url == f"{tmp_path}/out/dicomscrub-report-{TIMESTAMP}.jsonl"
    assert Path(summary.report_url).is_file()


# -- save conditions and series ----------------------------------------------------------


def _two_series_one_bad_file(src: Path) -> tuple[list[Path], list[Path], Path]:
    ct = small_series(src / "ct", 3)
    mr = small_series(src / "mr", 3, modality="MR", index=1)
    bad = ct[1]
    ds = pydicom.dcmread(bad)
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.save_as(bad, enforce_file_format=True)
    return ct, mr, bad


def test_one_failing_file_skips_its_whole_series(tmp_path: Path, key: bytes) -> None:
    ct, mr, bad = _two_series_one_bad_file(tmp_path / "src")
    out = tmp_path / "out"
    cond = parse_condition("ImageType not-substr secondary")
    run_batch(
        job(tmp_path / "src", key, out=out, conditions=(cond,), report_url=str(tmp_path / "r"))
    )
    by_url = {line["url"]: line for line in report_lines(tmp_path / "r")}
    for path in ct:
        line = by_url[str(path)]
        assert line["status"] == "skipped"
        assert line["save_condition_series_agg"] is False
        assert line["save_disabling_urls_series_agg"] == [str(bad)]
        assert line["save_condition"] is (path != bad)
        assert line["url_deid"] is None
    for path in mr:
        line = by_url[str(path)]
        assert line["status"] == "saved"
        assert line["save_condition_series_agg"] is True
        assert line["save_disabling_urls_series_agg"] == []
    evaluation = by_url[str(bad)]["save_conditions_evaluations"][0]
    assert evaluation == {
        "condition": {
            "value": "secondary",
            "condition_type": "NOT_SUBSTR",
            "dicom_tag": "ImageType",
        },
        "tag_value": "DERIVED\\SECONDARY\\AXIAL",
        "evaluated_value": False,
    }
    written = sorted(p.name for p in out.rglob("*.dcm"))
    assert written == [f"deid_{TIMESTAMP}_IM000{i}.dcm" for i in (1, 2, 3)]
    assert not (out / "ct").exists()


def test_reference_condition_dicts_and_missing_attribute(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 2)
    conditions = tuple(
        Condition.from_json(c)
        for c in (
            {"value": ["ct", "mr"], "condition_type": "IN", "dicom_tag": "Modality"},
            {"value": "x", "condition_type": "NOT_SUBSTR", "dicom_tag": "(0018,0010)"},
        )
    )
    report = tmp_path / "r.jsonl"
    run_batch(
        job(
            tmp_path / "src",
            key,
            out=tmp_path / "out",
            conditions=conditions,
            report_url=str(report),
        )
    )
    for line in report_lines(report):
        assert line["status"] == "saved"
        first, second = line["save_conditions_evaluations"]
        assert first["tag_value"] == "CT"
        assert first["evaluated_value"] is True
        assert second["tag_value"] is None  # ContrastBolusAgent is absent
        assert second["evaluated_value"] is True


# -- bad input ---------------------------------------------------------------------------


def _not_dicom(folder: Path) -> Path:
    path = folder / "notes.dcm"
    path.write_bytes(b"Patient notes, not an image.\n" * 10)
    return path


def _truncated_in_pixels(folder: Path) -> Path:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    start = data.find(b"\xe0\x7f\x10\x00")
    path = folder / "ct_cut_pixels.dcm"
    path.write_bytes(data[: start + (len(data) - start) // 2])
    return path


def _truncated_half(folder: Path) -> Path:
    data = Path(get_testdata_file("MR_small.dcm")).read_bytes()
    path = folder / "mr_half.dcm"
    path.write_bytes(data[: len(data) // 2])
    return path


def _without(keyword: str, name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        ds = make_dataset(make_patients(3)[2], rows=32, columns=32, instance_number=9)
        delattr(ds, keyword)
        return save(ds, folder / name)

    return make


def _dangling_symlink(folder: Path) -> Path:
    path = folder / "gone.dcm"
    path.symlink_to(folder / "no-such-target.dcm")
    return path


def _duplicate_sop(folder: Path) -> Path:
    # Sorted after the good series' IM0001.dcm, whose SOPInstanceUID it repeats.
    ds = pydicom.dcmread(folder / "good" / "IM0001.dcm")
    return save(ds, folder / "good" / "IM0001_copy.dcm")


BAD_INPUTS = [
    pytest.param(_not_dicom, "not-dicom", id="not-dicom"),
    pytest.param(_truncated_in_pixels, "truncated", id="truncated-in-pixel-data"),
    pytest.param(_truncated_half, "truncated", id="cut-in-half"),
    pytest.param(
        _without("SeriesInstanceUID", "noseries.dcm"), "missing-series-uid", id="no-series"
    ),
    pytest.param(_without("SOPInstanceUID", "nosop.dcm"), "missing-sop-uid", id="no-sop"),
    pytest.param(_dangling_symlink, "unreadable", id="dangling-symlink"),
    pytest.param(_duplicate_sop, "duplicate-sop-instance", id="duplicate-sop"),
]


@pytest.mark.parametrize(("make_bad", "code"), BAD_INPUTS)
def test_bad_input_fails_alone_with_a_stable_code(
    tmp_path: Path, key: bytes, make_bad: Callable[[Path], Path], code: str
) -> None:
    src = tmp_path / "src"
    good = small_series(src / "good", 2)
    bad = make_bad(src)
    before = hashes(src)
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    summary = run_batch(job(src, key, out=out, report_url=str(report)))
    by_url = {line["url"]: line for line in report_lines(report)}
    assert len(by_url) == len(good) + 1
    assert by_url[str(bad)]["status"] == "failed"
    assert by_url[str(bad)]["error"]["code"] == code
    assert by_url[str(bad)]["url_deid"] is None
    assert summary.failures_by_code == {code: 1}
    for path in good:
        assert by_url[str(path)]["status"] == "saved"
        assert Path(by_url[str(path)]["url_deid"]).is_file()
    assert sorted(p.name for p in out.rglob("*.dcm")) == sorted(
        f"deid_{TIMESTAMP}_{p.name}" for p in good
    )
    assert hashes(src) == before
    assert leftovers(src, out) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_skipping_the_header_pass_changes_no_report_and_no_output(
    tmp_path: Path, key: bytes, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Without conditions no header pass runs; every bad input still ends as the pass
    would have it: same reports (codes, UIDs, flags), same outputs, byte for byte."""
    src = tmp_path / "src"
    small_series(src / "good", 3)
    for param in BAD_INPUTS:
        param.values[0](src)
    results = []
    for header_pass in (True, False):
        with monkeypatch.context() as patch:
            if header_pass:
                patch.setattr(runner, "_reads_headers_first", lambda *args: True)
            out = tmp_path / f"out-{header_pass}"
            report = tmp_path / f"r-{header_pass}.jsonl"
            run_batch(job(src, key, out=out, report_url=str(report), workers=workers))
        lines = report.read_text(encoding="utf-8").replace(str(out), "OUT")
        results.append((lines, hashes(out)))
    (with_pass, with_outputs), (without_pass, without_outputs) = results
    assert without_pass == with_pass
    assert without_outputs == with_outputs
    codes = [
        line["error"]["code"] for line in map(json.loads, with_pass.splitlines()) if line["error"]
    ]
    assert sorted(codes) == sorted(param.values[1] for param in BAD_INPUTS)


@pytest.mark.parametrize("name", ["CT_small.dcm", "rtplan.dcm"])
def test_file_cut_inside_its_header_is_truncated(tmp_path: Path, key: bytes, name: str) -> None:
    data = Path(get_testdata_file(name)).read_bytes()
    pixels = data.find(b"\xe0\x7f\x10\x00")
    end = pixels if pixels > 0 else len(data)
    src = tmp_path / "src"
    src.mkdir()
    (src / name).write_bytes(data[: end // 2])
    report = tmp_path / "r.jsonl"
    run_batch(job(src, key, out=tmp_path / "out", report_url=str(report)))
    (line,) = report_lines(report)
    assert line["error"] is not None
    assert line["error"]["code"] == "truncated"


def test_output_equal_to_input_is_refused(tmp_path: Path, key: bytes) -> None:
    src = tmp_path / "src"
    files = small_series(src, 2)
    before = hashes(src)
    report = tmp_path / "r.jsonl"
    summary = run_batch(job(src, key, name_template="{name}", report_url=str(report)))
    assert summary.failures_by_code == {"output-is-input": 2}
    assert [line["error"]["code"] for line in report_lines(report)] == ["output-is-input"] * 2
    assert hashes(src) == before
    assert sorted(p.name for p in src.iterdir()) == [p.name for p in files]


def test_unwritable_output_folder_fails_those_files_only(tmp_path: Path, key: bytes) -> None:
    src = tmp_path / "src"
    blocked = small_series(src / "blocked", 1)
    fine = small_series(src / "fine", 1, index=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "blocked").write_text("a regular file where the output folder should be")
    report = tmp_path / "r.jsonl"
    summary = run_batch(job(src, key, out=out, report_url=str(report)))
    by_url = {line["url"]: line for line in report_lines(report)}
    assert by_url[str(blocked[0])]["error"]["code"] == "output-unwritable"
    assert by_url[str(fine[0])]["status"] == "saved"
    assert summary.failed == 1
    assert leftovers(out) == []


def test_two_inputs_with_one_output_name_do_not_overwrite(tmp_path: Path, key: bytes) -> None:
    first = small_series(tmp_path / "a", 1)[0]
    second = small_series(tmp_path / "b", 1, index=1)[0]
    report = tmp_path / "r.jsonl"
    run_batch(job([first, second], key, out=tmp_path / "out", report_url=str(report)))
    lines = report_lines(report)
    assert [line["status"] for line in lines] == ["saved", "failed"]
    assert lines[1]["error"]["code"] == "output-collision"
    written = pydicom.dcmread(lines[0]["url_deid"])
    assert written.SeriesInstanceUID == lines[0]["SeriesInstanceUID_deid"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name_template": "{nope}_{name}"}, "unknown field"),
        ({"name_template": "fixed.dcm"}, "{name}"),
        ({"workers": 0}, "at least 1"),
        ({"executor": "dask-maybe"}, "unknown executor"),
    ],
)
def test_config_errors_touch_nothing(
    tmp_path: Path, key: bytes, change: dict[str, Any], message: str
) -> None:
    small_series(tmp_path / "src", 1)
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=message):
        run_batch(job(tmp_path / "src", key, out=out, **change))
    assert not out.exists()


def test_empty_folder_and_output_under_a_file_are_config_errors(tmp_path: Path, key: bytes) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no input"):
        run_batch(job(tmp_path / "empty", key, out=tmp_path / "out"))
    small_series(tmp_path / "src", 1)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError):
        run_batch(job(tmp_path / "src", key, out=tmp_path / "file" / "out"))
    assert not (tmp_path / "out").exists()


# -- dry run ---------------------------------------------------------------------------------


def test_dry_run_reports_actions_without_values_and_writes_no_file(
    tmp_path: Path, key: bytes
) -> None:
    corpus = make_corpus(
        tmp_path / "src", patients=2, series_per_patient=1, files_per_series=2, rows=32, columns=32
    )
    out = tmp_path / "out"
    report = tmp_path / "r.jsonl"
    summary = run_batch(job(corpus.root, key, out=out, dry_run=True, report_url=str(report)))
    assert summary.saved == 4
    assert summary.output_urls == []
    assert not out.exists()
    text = report.read_text(encoding="utf-8")
    assert find_phi(text.encode(), corpus.phi_strings()) == []
    for line in report_lines(report):
        assert line["url_deid"] is None
        assert line["status"] == "saved"
        actions = line["actions"]
        assert {"PatientName", "PatientID", "SOPInstanceUID"} <= {a["keyword"] for a in actions}
        for action in actions:
            assert set(action) == {"path", "tag", "keyword", "action", "changed"}
        assert line["actions_applied"] == sum(a["changed"] for a in actions)


# -- determinism and the process pool -----------------------------------------------------


def test_process_pool_gives_byte_identical_outputs_and_report(tmp_path: Path, key: bytes) -> None:
    corpus = make_corpus(
        tmp_path / "src", patients=2, series_per_patient=2, files_per_series=3, rows=32, columns=32
    )
    (tmp_path / "src" / "junk.dcm").write_bytes(b"junk" * 40)
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        run_batch(
            job(
                corpus.root, key, out=out, workers=workers, report_url=str(tmp_path / f"r{workers}")
            )
        )
        runs[workers] = (
            hashes(out),
            (tmp_path / f"r{workers}").read_text().replace(f"out{workers}", "out"),
        )
    assert len(runs[1][0]) == 12
    assert runs[1] == runs[2]


def test_same_key_same_output_other_key_other_uids(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 2)
    outs = []
    for name, k in (("a", key), ("b", key), ("c", b"another-key-of-enough-bytes!")):
        run_batch(job(tmp_path / "src", k, out=tmp_path / name))
        outs.append(tmp_path / name / f"deid_{TIMESTAMP}_IM0001.dcm")
    a, b, c = (pydicom.dcmread(p) for p in outs)
    assert outs[0].read_bytes() == outs[1].read_bytes()
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID"):
        assert a.get(keyword) == b.get(keyword)
        assert a.get(keyword) != c.get(keyword)


# -- resume and cancel ---------------------------------------------------------------------


#: A modification time no output gets when written (a rewritten output loses it).
_OLD_MARK: Final = 10**18


@dataclass
class _FirstRun:
    """A finished job of ``count`` files, its outputs marked with :data:`_OLD_MARK`."""

    files: list[Path]
    out: Path
    report: Path
    outputs: list[Path]

    def rewritten(self) -> set[Path]:
        return {p for p in self.outputs if p.stat().st_mtime_ns != _OLD_MARK}


def _mark_old(path: Path) -> None:
    os.utime(path, ns=(_OLD_MARK, _OLD_MARK))


def _first_run(tmp_path: Path, key: bytes, count: int) -> _FirstRun:
    files = small_series(tmp_path / "src", count)
    out, report = tmp_path / "out", tmp_path / "r.jsonl"
    run_batch(job(tmp_path / "src", key, out=out, report_url=str(report)))
    outputs = [out / f"deid_{TIMESTAMP}_{p.name}" for p in files]
    for path in outputs:
        _mark_old(path)
    return _FirstRun(files, out, report, outputs)


def test_resume_processes_only_what_is_missing(tmp_path: Path, key: bytes) -> None:
    first = _first_run(tmp_path, key, 8)
    files, out, report, outputs = first.files, first.out, first.report, first.outputs
    deleted = {outputs[1], outputs[4]}
    for path in deleted:
        path.unlink()
    text = report.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    torn = "".join(lines[:6]) + lines[6][: len(lines[6]) // 2]
    report.write_text(torn, encoding="utf-8")
    lost = {outputs[6], outputs[7]}  # line 7 torn, line 8 gone: no record of either

    seen: list[FileReport] = []
    summary = run_batch(
        job(tmp_path / "src", key, out=out, report_url=str(report), resume=True),
        on_report=seen.append,
    )
    assert summary.saved == 8
    assert first.rewritten() == deleted | lost
    lines_after = report_lines(report)
    assert [line["url"] for line in lines_after] == [str(p) for p in files]
    assert all(line["status"] == "saved" for line in lines_after)
    assert [r.url for r in seen] == [str(p) for p in files]


def test_resume_reprocesses_outputs_left_empty_or_cut_short(tmp_path: Path, key: bytes) -> None:
    # Outputs are not flushed one by one: after a power failure a file the report
    # called saved can be empty or shorter than written.
    first = _first_run(tmp_path, key, 4)
    outputs = first.outputs
    whole = outputs[0].read_bytes()
    outputs[1].write_bytes(b"")
    outputs[2].write_bytes(outputs[2].read_bytes()[:-100])
    _mark_old(outputs[1])
    _mark_old(outputs[2])
    spec = job(tmp_path / "src", key, out=first.out, report_url=str(first.report), resume=True)
    summary = run_batch(spec)
    assert summary.saved == 4
    assert first.rewritten() == {outputs[1], outputs[2]}
    assert outputs[0].read_bytes() == whole
    for path in outputs:
        pydicom.dcmread(path).PixelData  # noqa: B018 - reads every value to the end


def test_resume_reprocesses_an_earlier_report_whose_output_is_gone(
    tmp_path: Path, key: bytes
) -> None:
    (path,) = small_series(tmp_path / "src", 1)
    out = tmp_path / "out"
    target = f"{out}/deid_{TIMESTAMP}_{path.name}"
    earlier = FileReport(url=str(path), status=FileStatus.SAVED, url_deid=target)
    summary = run_batch(job(tmp_path / "src", key, out=out), previous={str(path): earlier})
    assert summary.saved == 1
    assert Path(target).is_file()


@pytest.mark.parametrize("with_conditions", [True, False])
def test_cancel_stops_handing_out_files(tmp_path: Path, key: bytes, with_conditions: bool) -> None:
    small_series(tmp_path / "src", 6)
    calls = 0
    # With conditions every header is read first (six polls), then files are processed.
    header_polls = 6 if with_conditions else 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        return calls > header_polls + 2  # two files processed

    out = tmp_path / "out"
    conditions = (parse_condition("Modality in CT"),) if with_conditions else ()
    spec = job(tmp_path / "src", key, out=out, conditions=conditions)
    summary = run_batch(spec, should_cancel=cancel)
    assert summary.cancelled
    assert summary.saved == 2
    assert len(list(out.glob("*.dcm"))) == 2


def test_progress_counts_every_report(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 3)
    (tmp_path / "src" / "junk.dcm").write_bytes(b"x" * 300)
    calls: list[tuple[int, int]] = []
    run_batch(
        job(tmp_path / "src", key, out=tmp_path / "out"),
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_planted_phi_absent_from_outputs(tmp_path: Path, key: bytes) -> None:
    corpus = make_corpus(
        tmp_path / "src", patients=2, series_per_patient=2, files_per_series=2, rows=32, columns=32
    )
    out = tmp_path / "out"
    run_batch(job(corpus.root, key, out=out))
    outputs = sorted(out.rglob("*.dcm"))
    assert len(outputs) == 8
    for path in outputs:
        assert find_phi(path.read_bytes(), corpus.phi_strings()) == []
    assert planted_phi(corpus.patients[0])  # the scan looked for something


def test_cancel_while_reading_headers_writes_nothing(tmp_path: Path, key: bytes) -> None:
    small_series(tmp_path / "src", 4)
    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        return calls > 1

    out = tmp_path / "out"
    seen: list[FileReport] = []
    spec = job(tmp_path / "src", key, out=out, conditions=(parse_condition("Modality in CT"),))
    summary = run_batch(spec, should_cancel=cancel, on_report=seen.append)
    assert summary.cancelled
    assert seen == []
    assert not out.exists()
