"""CLI condition expressions and JSON condition files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dicomscrub.conditions import Condition, ConditionType, load_conditions_file, parse_condition
from dicomscrub.errors import ConfigError


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("Modality in CT,MR", Condition(("CT", "MR"), ConditionType.IN, "Modality")),
        ("Modality in CT, MR ,PT", Condition(("CT", "MR", "PT"), ConditionType.IN, "Modality")),
        (
            "ImageType not-substr PRIMARY",
            Condition("PRIMARY", ConditionType.NOT_SUBSTR, "ImageType"),
        ),
        (
            "SeriesDescription regex ^ax",
            Condition("^ax", ConditionType.REGEX, "SeriesDescription"),
        ),
        (
            "SeriesDescription regex ^ax, cor",
            Condition("^ax, cor", ConditionType.REGEX, "SeriesDescription"),
        ),
        ("BodyPartExamined exists", Condition(None, ConditionType.EXISTS, "BodyPartExamined")),
        ("BodyPartExamined absent", Condition(None, ConditionType.ABSENT, "BodyPartExamined")),
        ("(0008,0060) not-in SR,PR", Condition(("SR", "PR"), ConditionType.NOT_IN, "(0008,0060)")),
        (
            "(0008, 0060) not-in SR",
            Condition(("SR",), ConditionType.NOT_IN, "(0008, 0060)"),
        ),
        (
            'StudyDescription equals "HEAD CT"',
            Condition("HEAD CT", ConditionType.EQUALS, "StudyDescription"),
        ),
        (
            "StudyDescription equals 'HEAD CT'",
            Condition("HEAD CT", ConditionType.EQUALS, "StudyDescription"),
        ),
        (
            "StudyDescription equals HEAD CT",
            Condition("HEAD CT", ConditionType.EQUALS, "StudyDescription"),
        ),
        ('StudyDescription equals ""', Condition("", ConditionType.EQUALS, "StudyDescription")),
        (
            'StudyDescription in "head ct", "chest"',
            Condition(("head ct", "chest"), ConditionType.IN, "StudyDescription"),
        ),
        (
            "StudyDescription not-in 'head, neck',chest ,\"\"x",
            Condition(("head, neck", "chest", '""x'), ConditionType.NOT_IN, "StudyDescription"),
        ),
        ("00080060 SUBSTR c", Condition("c", ConditionType.SUBSTR, "00080060")),
        ("Modality NOT_IN SR", Condition(("SR",), ConditionType.NOT_IN, "Modality")),
        ("  Modality   in   CT  ", Condition(("CT",), ConditionType.IN, "Modality")),
    ],
)
def test_parse_condition(expr: str, expected: Condition) -> None:
    assert parse_condition(expr) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("Modality contains CT", r"'contains'.*valid operators: in, not-substr, substr, not-in"),
        ("Modality", "ATTRIBUTE OPERATOR"),
        ("", "ATTRIBUTE OPERATOR"),
        ("Modality in", "needs a value"),
        ("Modality exists CT", "takes no value"),
        ("Modalty in CT", "unknown DICOM attribute 'Modalty'"),
        ("Modality in CT,,MR", "empty string"),
        ("Modality not-substr ''", "empty string"),
        ("SeriesDescription regex [ax", "not a valid regular expression"),
    ],
)
def test_parse_errors(expr: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_condition(expr)


def test_operator_error_lists_every_operator() -> None:
    with pytest.raises(ConfigError) as info:
        parse_condition("Modality is CT")
    for kind in ConditionType:
        assert kind.cli_name in str(info.value)


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "conditions.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


REFERENCE_CONDITIONS = [
    {"value": ["ct", "mr"], "condition_type": "IN", "dicom_tag": "Modality"},
    {"value": "PRIMARY", "condition_type": "NOT_SUBSTR", "dicom_tag": "ImageType"},
]
EXPECTED = (
    Condition(("ct", "mr"), ConditionType.IN, "Modality"),
    Condition("PRIMARY", ConditionType.NOT_SUBSTR, "ImageType"),
)


def test_load_list(tmp_path: Path) -> None:
    assert load_conditions_file(write(tmp_path, REFERENCE_CONDITIONS)) == EXPECTED


def test_load_request_body(tmp_path: Path) -> None:
    body = {"dicom_urls": ["s3://b/k.dcm"], "save_conditions": REFERENCE_CONDITIONS}
    assert load_conditions_file(write(tmp_path, body)) == EXPECTED
    assert load_conditions_file(write(tmp_path, {"save_conditions": None})) == ()


def test_load_round_trips_to_json(tmp_path: Path) -> None:
    path = write(tmp_path, [condition.to_json() for condition in EXPECTED])
    assert load_conditions_file(str(path)) == EXPECTED


def test_load_names_file_and_index(tmp_path: Path) -> None:
    bad = [*REFERENCE_CONDITIONS, {"value": "CT", "condition_type": "IN", "dicom_tag": "Modality"}]
    path = write(tmp_path, bad)
    with pytest.raises(ConfigError, match=r"conditions\.json: save_conditions\[2\]: .*'value'"):
        load_conditions_file(path)


def test_load_names_file_and_line_of_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "conditions.json"
    path.write_text('[\n  {"value": ["ct"],\n   "condition_type": "IN" "dicom_tag": 1}\n]\n')
    with pytest.raises(ConfigError, match=r"conditions\.json: line 3 column"):
        load_conditions_file(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"conditions": []}, "'save_conditions'"),
        ("IN", "expected a JSON list"),
        ([["IN"]], r"save_conditions\[0\]: a save condition must be a JSON object"),
    ],
)
def test_load_rejects_wrong_shapes(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_conditions_file(write(tmp_path, data))


def test_load_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.json"):
        load_conditions_file(tmp_path / "missing.json")
