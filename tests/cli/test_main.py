"""Exit codes of ``dicomscrub``: 0 all done, 1 per-file failures, 2 configuration errors.

A configuration error is reported before any file is touched: the output folder is not
even created.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dicomscrub.cli.main import EXIT_CONFIG, EXIT_FAILURES, EXIT_OK, build_parser, main
from tests.factories import make_patients, write_series


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    write_series(folder, make_patients(1)[0], n=2, rows=32, columns=32)
    return folder


def run(src: Path, out: Path, key_file: Path, *extra: str) -> int:
    return main(
        [
            "deidentify",
            str(src),
            "--out",
            str(out),
            "--key-file",
            str(key_file),
            "-q",
            "--workers",
            "1",
            *extra,
        ]
    )


def test_all_saved_is_0(src: Path, tmp_path: Path, key_file: Path) -> None:
    assert run(src, tmp_path / "out", key_file) == EXIT_OK
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 2


def test_all_skipped_by_conditions_is_0(src: Path, tmp_path: Path, key_file: Path) -> None:
    code = run(src, tmp_path / "out", key_file, "--condition", "Modality in MR")
    assert code == EXIT_OK
    assert list((tmp_path / "out").glob("*.dcm")) == []


def test_some_failed_is_1_with_the_report_written(
    src: Path, tmp_path: Path, key_file: Path
) -> None:
    (src / "junk.dcm").write_bytes(b"junk" * 100)
    report = tmp_path / "r.jsonl"
    code = run(src, tmp_path / "out", key_file, "--report", str(report))
    assert code == EXIT_FAILURES
    statuses = [json.loads(line)["status"] for line in report.read_text().splitlines()]
    assert sorted(statuses) == ["failed", "saved", "saved"]


def _bad_profile(tmp_path: Path) -> list[str]:
    path = tmp_path / "profile.toml"
    path.write_text('base = "basic"\noptions = [\n', encoding="utf-8")
    return ["--profile", str(path)]


def _bad_conditions_file(tmp_path: Path) -> list[str]:
    path = tmp_path / "conditions.json"
    path.write_text('[{"value": "CT", "condition_type": "SOMETIMES", "dicom_tag": "Modality"}]')
    return ["--conditions", str(path)]


CONFIG_ERRORS: dict[str, Callable[[Path], list[str]]] = {
    "unknown-option": lambda t: ["--frobnicate"],
    "unknown-ps315-option": lambda t: ["--option", "retain-everything"],
    "bad-pixels-mode": lambda t: ["--pixels", "some-text"],
    "bad-condition": lambda t: ["--condition", "Modality ~~ CT"],
    "bad-condition-tag": lambda t: ["--condition", "NoSuchKeyword in CT"],
    "bad-conditions-file": _bad_conditions_file,
    "missing-conditions-file": lambda t: ["--conditions", str(t / "absent.json")],
    "bad-profile": _bad_profile,
    "missing-profile": lambda t: ["--profile", str(t / "absent.toml")],
    "bad-name-template": lambda t: ["--name-template", "{patient}_{name}"],
    "name-template-without-name": lambda t: ["--name-template", "same.dcm"],
    "workers-0": lambda t: ["--workers", "0"],
    "workers-not-a-number": lambda t: ["--workers", "many"],
    "resume-without-timestamp": lambda t: ["--resume"],
    "missing-input": lambda t: [str(t / "no-such-folder")],
    "glob-matching-nothing": lambda t: [str(t / "src" / "*.nothing")],
}


@pytest.mark.parametrize("make_args", CONFIG_ERRORS.values(), ids=CONFIG_ERRORS.keys())
def test_config_errors_are_2_and_touch_nothing(
    src: Path,
    tmp_path: Path,
    key_file: Path,
    make_args: Callable[[Path], list[str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    args = make_args(tmp_path)
    assert run(src, out, key_file, *args) == EXIT_CONFIG
    assert not out.exists()
    assert list(tmp_path.glob("*.jsonl")) == []
    assert "dicomscrub" in capsys.readouterr().err


def test_missing_key_file_is_2(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(src, out, tmp_path / "no.key") == EXIT_CONFIG
    assert not out.exists()


def test_output_under_a_regular_file_is_2(src: Path, tmp_path: Path, key_file: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    assert run(src, tmp_path / "plain" / "out", key_file) == EXIT_CONFIG


def test_no_command_is_2_and_version_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == EXIT_CONFIG
    assert main(["--version"]) == EXIT_OK
    assert "dicomscrub" in capsys.readouterr().out


def test_help_is_0_and_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deidentify", "--help"]) == EXIT_OK
    text = capsys.readouterr().out
    assert "Exit 0" in text
    assert "--name-template" in text


def test_core_commands_are_registered() -> None:
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    assert choices is not None
    assert {"deidentify", "inspect"} <= set(choices)


def test_bad_pixel_rules_file_is_2(src: Path, tmp_path: Path, key_file: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]\n", encoding="utf-8")
    out = tmp_path / "out"
    assert run(src, out, key_file, "--pixel-rules", str(rules)) == EXIT_CONFIG
    assert not out.exists()
