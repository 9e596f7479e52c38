"""FileReport: the reference keys in order, our additions, a lossless JSON round trip."""

from __future__ import annotations

import json

from dicomscrub.report.models import REFERENCE_KEYS, FileReport, FileStatus, ReportError


def test_reference_keys_are_the_contract() -> None:
    assert REFERENCE_KEYS == (
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


def test_minimal_report_has_reference_keys_then_ours() -> None:
    data = FileReport(url="a.dcm").to_json()
    assert list(data) == [*REFERENCE_KEYS, "status", "error", "actions_applied"]
    assert data["status"] == "failed"
    assert data["error"] is None


def test_optional_members_appear_only_when_set() -> None:
    report = FileReport(url="a.dcm", actions=[], pixel_regions=[{"frame": 0}])
    data = report.to_json()
    assert data["actions"] == []
    assert data["pixel_regions"] == [{"frame": 0}]
    assert "verification" not in data


def test_round_trip_through_json() -> None:
    report = FileReport(
        url="s3://b/raw/x.dcm",
        status=FileStatus.SKIPPED,
        StudyInstanceUID="1.2",
        SeriesInstanceUID="1.2.3",
        save_conditions_evaluations=[
            {
                "condition": {"value": ["CT"], "condition_type": "IN", "dicom_tag": "Modality"},
                "tag_value": None,
                "evaluated_value": False,
            }
        ],
        save_condition=False,
        save_condition_series_agg=False,
        save_disabling_urls_series_agg=["s3://b/raw/x.dcm"],
        error=ReportError("truncated", "the file ends early"),
        actions_applied=3,
        actions=[
            {
                "path": "(0010,0010)",
                "tag": "(0010,0010)",
                "keyword": "PatientName",
                "action": "Z",
                "changed": True,
            }
        ],
    )
    again = FileReport.from_json(json.loads(json.dumps(report.to_json())))
    assert again == report
    assert again.to_json() == report.to_json()
