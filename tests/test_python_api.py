"""The Python API: ``deidentify(urls, out, key=..., conditions=[...])`` returns FileReports."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from dicomscrub.api import build_policy, deidentify
from dicomscrub.errors import ConfigError
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import PixelMode
from dicomscrub.report.models import FileStatus
from tests.factories import make_patients, write_series


def two_series(root: Path) -> tuple[list[Path], list[Path]]:
    people = make_patients(2)
    ct = write_series(root / "ct", people[0], n=2, rows=32, columns=32)
    mr = write_series(root / "mr", people[1], n=2, modality="MR", rows=32, columns=32, seed=1)
    return ct, mr


def test_deidentify_with_reference_conditions(tmp_path: Path, key: bytes) -> None:
    ct, mr = two_series(tmp_path / "src")
    reports = deidentify(
        [str(tmp_path / "src")],
        str(tmp_path / "out"),
        key=key,
        conditions=[{"value": ["mr"], "condition_type": "IN", "dicom_tag": "Modality"}],
        workers=1,
        timestamp=42,
    )
    assert [r.url for r in reports] == [str(p) for p in ct + mr]
    assert [r.status for r in reports] == [FileStatus.SKIPPED] * 2 + [FileStatus.SAVED] * 2
    for report, path in zip(reports[2:], mr, strict=True):
        assert report.url_deid == f"{tmp_path}/out/mr/deid_42_{path.name}"
        assert pydicom.dcmread(report.url_deid).SeriesInstanceUID == report.SeriesInstanceUID_deid
    assert reports[0].save_conditions_evaluations[0]["tag_value"] == "CT"
    assert (tmp_path / "out" / "dicomscrub-report-42.jsonl").is_file()


def test_single_url_without_out_writes_beside_it(tmp_path: Path, key: bytes) -> None:
    ct, _ = two_series(tmp_path / "src")
    (report,) = deidentify(
        str(ct[0]), key=key, workers=1, timestamp=7, report=str(tmp_path / "r.jsonl")
    )
    assert report.url_deid == str(ct[0].parent / f"deid_7_{ct[0].name}")
    assert Path(report.url_deid).is_file()


def test_dry_run_returns_actions(tmp_path: Path, key: bytes) -> None:
    ct, _ = two_series(tmp_path / "src")
    reports = deidentify(
        str(ct[0]),
        str(tmp_path / "out"),
        key=key,
        workers=1,
        dry_run=True,
        report=str(tmp_path / "r.jsonl"),
    )
    assert reports[0].actions
    assert reports[0].url_deid is None
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"workers": 0},
        {"conditions": [{"value": "CT", "condition_type": "MAYBE", "dicom_tag": "Modality"}]},
        {"options": ["retain-everything"]},
        {"pixels": "some-text"},
        {"name_template": "{name"},
    ],
)
def test_bad_settings_raise_config_error_and_touch_nothing(
    tmp_path: Path, key: bytes, kwargs: dict[str, object]
) -> None:
    two_series(tmp_path / "src")
    with pytest.raises(ConfigError):
        deidentify(str(tmp_path / "src"), str(tmp_path / "out"), key=key, **kwargs)
    assert not (tmp_path / "out").exists()


def test_policy_and_settings_together_are_refused(tmp_path: Path, key: bytes) -> None:
    with pytest.raises(ConfigError, match="either"):
        deidentify(str(tmp_path), policy=build_policy(key=key), key=key)


def test_build_policy(key: bytes, key_file: Path) -> None:
    policy = build_policy(key=key, options=["retain-uids"], pixels="REDACT_ALL_TEXT")
    assert policy.options == frozenset({Option.RETAIN_UIDS})
    assert policy.pixels is PixelMode.ALL_TEXT
    assert build_policy(key_file=key_file).key == key
