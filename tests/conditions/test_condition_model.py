"""Condition types, evaluation and the reference JSON form."""

from __future__ import annotations

import json
from typing import Any

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomscrub.conditions import (
    Condition,
    ConditionEvaluation,
    ConditionType,
    evaluate_conditions,
)
from dicomscrub.errors import ConfigError


def make_dataset(**attributes: Any) -> Dataset:
    ds = Dataset()
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    return ds


def evaluate(
    kind: ConditionType, value: str | tuple[str, ...] | None, tag: str, ds: Dataset
) -> ConditionEvaluation:
    return Condition(value=value, condition_type=kind, dicom_tag=tag).evaluate(ds)


def test_design_example_in_matches_modality_ignoring_case() -> None:
    condition = Condition.from_json(
        {"value": ["ct", "mr"], "condition_type": "IN", "dicom_tag": "Modality"}
    )
    evaluation = condition.evaluate(make_dataset(Modality="MR"))
    assert evaluation.evaluated_value is True
    assert evaluation.tag_value == "MR"


def test_design_example_not_substr_on_multivalued_image_type() -> None:
    condition = Condition.from_json(
        {"value": "PRIMARY", "condition_type": "NOT_SUBSTR", "dicom_tag": "ImageType"}
    )
    evaluation = condition.evaluate(make_dataset(ImageType=["ORIGINAL", "PRIMARY", "AXIAL"]))
    assert evaluation.evaluated_value is False
    assert evaluation.tag_value == "ORIGINAL\\PRIMARY\\AXIAL"


SERIES = make_dataset(
    Modality="CT",
    ImageType=["ORIGINAL", "PRIMARY", "AXIAL"],
    StudyDescription="Head CT w/o contrast",
    BodyPartExamined="",
)


@pytest.mark.parametrize(
    ("kind", "value", "tag", "expected"),
    [
        (ConditionType.IN, ("mr", "ct"), "Modality", True),
        (ConditionType.IN, ("mr", "pt"), "Modality", False),
        (ConditionType.IN, ("prim",), "ImageType", True),
        (ConditionType.NOT_IN, ("sr", "pr"), "Modality", True),
        (ConditionType.NOT_IN, ("sr", "c"), "Modality", False),
        (ConditionType.SUBSTR, "head", "StudyDescription", True),
        (ConditionType.SUBSTR, "chest", "StudyDescription", False),
        (ConditionType.NOT_SUBSTR, "derived", "ImageType", True),
        (ConditionType.NOT_SUBSTR, "axial", "ImageType", False),
        (ConditionType.EQUALS, "HEAD CT W/O CONTRAST", "StudyDescription", True),
        (ConditionType.EQUALS, "head ct", "StudyDescription", False),
        (ConditionType.EQUALS, "original\\primary\\axial", "ImageType", True),
        (ConditionType.EQUALS, "original", "ImageType", False),
        (ConditionType.REGEX, r"^head\s+ct", "StudyDescription", True),
        (ConditionType.REGEX, r"^ct\b", "StudyDescription", False),
        (ConditionType.REGEX, r"\\primary\\", "ImageType", True),
        (ConditionType.EXISTS, None, "Modality", True),
        (ConditionType.EXISTS, None, "BodyPartExamined", False),
        (ConditionType.EXISTS, None, "PatientName", False),
        (ConditionType.ABSENT, None, "PatientName", True),
        (ConditionType.ABSENT, None, "BodyPartExamined", True),
        (ConditionType.ABSENT, None, "Modality", False),
    ],
)
def test_each_type_true_and_false(
    kind: ConditionType, value: str | tuple[str, ...] | None, tag: str, expected: bool
) -> None:
    assert evaluate(kind, value, tag, SERIES).evaluated_value is expected


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (ConditionType.IN, ("ct",), False),
        (ConditionType.NOT_IN, ("ct",), True),
        (ConditionType.SUBSTR, "ct", False),
        (ConditionType.NOT_SUBSTR, "ct", True),
        (ConditionType.EQUALS, "", True),
        (ConditionType.EQUALS, "ct", False),
        (ConditionType.REGEX, "^$", True),
        (ConditionType.EXISTS, None, False),
        (ConditionType.ABSENT, None, True),
    ],
)
def test_missing_attribute_is_empty_and_reported_null(
    kind: ConditionType, value: str | tuple[str, ...] | None, expected: bool
) -> None:
    evaluation = evaluate(kind, value, "Modality", Dataset())
    assert evaluation.evaluated_value is expected
    assert evaluation.tag_value is None


def test_present_but_empty_attribute_is_reported_as_empty_string() -> None:
    evaluation = evaluate(ConditionType.ABSENT, None, "BodyPartExamined", SERIES)
    assert evaluation.tag_value == ""


@pytest.mark.parametrize("spelling", ["Axial", "axial", "AXIAL"])
@pytest.mark.parametrize("needle", ["AXIAL", "axial", "aXiAl"])
def test_string_comparisons_ignore_case(spelling: str, needle: str) -> None:
    ds = make_dataset(SeriesDescription=spelling)
    tag = "SeriesDescription"
    assert evaluate(ConditionType.IN, (needle,), tag, ds).evaluated_value
    assert evaluate(ConditionType.SUBSTR, needle, tag, ds).evaluated_value
    assert evaluate(ConditionType.EQUALS, needle, tag, ds).evaluated_value
    assert evaluate(ConditionType.REGEX, needle, tag, ds).evaluated_value
    assert not evaluate(ConditionType.NOT_IN, (needle,), tag, ds).evaluated_value
    assert not evaluate(ConditionType.NOT_SUBSTR, needle, tag, ds).evaluated_value


def test_numeric_multivalue_is_joined_as_written() -> None:
    ds = make_dataset(PixelSpacing=["0.661468", "0.661468"])
    evaluation = evaluate(ConditionType.EQUALS, "0.661468\\0.661468", "PixelSpacing", ds)
    assert evaluation.evaluated_value
    assert evaluation.tag_value == "0.661468\\0.661468"


def test_person_name_is_compared_in_its_original_form() -> None:
    ds = make_dataset(PatientName="Yamada^Tarou=山田^太郎")
    evaluation = evaluate(ConditionType.SUBSTR, "tarou=山田", "PatientName", ds)
    assert evaluation.evaluated_value
    assert evaluation.tag_value == "Yamada^Tarou=山田^太郎"


def test_bytes_value_is_decoded_latin1_and_stripped() -> None:
    ds = Dataset()
    ds.add_new(0x00091010, "UN", b"ACME\xe9 \x00")
    evaluation = evaluate(ConditionType.EQUALS, "acmeÉ", "(0009,1010)", ds)
    assert evaluation.tag_value == "ACMEé"
    assert evaluation.evaluated_value


@pytest.mark.parametrize(
    ("items", "exists"),
    [([Dataset()], True), ([], False)],
)
def test_sequence_is_present_or_absent_only(items: list[Dataset], exists: bool) -> None:
    ds = make_dataset(OtherPatientIDsSequence=Sequence(items))
    evaluation = evaluate(ConditionType.EXISTS, None, "OtherPatientIDsSequence", ds)
    assert evaluation.evaluated_value is exists
    assert evaluation.tag_value is None
    absent = evaluate(ConditionType.ABSENT, None, "OtherPatientIDsSequence", ds)
    assert absent.evaluated_value is not exists


@pytest.mark.parametrize(
    "spelling",
    ["Modality", "modality", "(0008,0060)", "0008,0060", "00080060", "(0008, 0060)", " 0008,0060 "],
)
def test_tag_spellings_resolve_to_the_same_attribute(spelling: str) -> None:
    condition = Condition(value=("ct",), condition_type=ConditionType.IN, dicom_tag=spelling)
    assert condition.tag == 0x00080060
    assert condition.evaluate(make_dataset(Modality="CT")).evaluated_value
    assert condition.to_json()["dicom_tag"] == spelling


def test_private_tag_by_hex_in_lower_case() -> None:
    condition = Condition(value="gems", condition_type=ConditionType.SUBSTR, dicom_tag="0009001a")
    assert condition.tag == 0x0009001A


@pytest.mark.parametrize("spelling", ["Modalty", "(0008,006)", "0008-0060", "", "GGGG,0000"])
def test_unknown_attribute_is_a_config_error(spelling: str) -> None:
    with pytest.raises(ConfigError, match="unknown DICOM attribute"):
        Condition(value=("ct",), condition_type=ConditionType.IN, dicom_tag=spelling)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"value": "CT", "condition_type": "IN", "dicom_tag": "Modality"}, "value"),
        ({"value": ["CT", 3], "condition_type": "NOT_IN", "dicom_tag": "Modality"}, "value"),
        ({"value": [], "condition_type": "IN", "dicom_tag": "Modality"}, "value"),
        ({"value": ["CT", ""], "condition_type": "IN", "dicom_tag": "Modality"}, "value"),
        ({"value": ["CT"], "condition_type": "SUBSTR", "dicom_tag": "Modality"}, "value"),
        ({"value": None, "condition_type": "EQUALS", "dicom_tag": "Modality"}, "value"),
        ({"value": "", "condition_type": "NOT_SUBSTR", "dicom_tag": "Modality"}, "value"),
        ({"value": "(", "condition_type": "REGEX", "dicom_tag": "Modality"}, "value"),
        ({"condition_type": "IN", "dicom_tag": "Modality"}, "value"),
        ({"value": ["CT"], "dicom_tag": "Modality"}, "condition_type"),
        (
            {"value": ["CT"], "condition_type": "CONTAINS", "dicom_tag": "Modality"},
            "condition_type",
        ),
        ({"value": ["CT"], "condition_type": 1, "dicom_tag": "Modality"}, "condition_type"),
        ({"value": ["CT"], "condition_type": "IN"}, "dicom_tag"),
        ({"value": ["CT"], "condition_type": "IN", "dicom_tag": 0x00080060}, "dicom_tag"),
        ({"value": ["CT"], "condition_type": "IN", "dicom_tags": "Modality"}, "dicom_tags"),
        (
            {
                "value": ["CT"],
                "conditionType": "IN",
                "condition_type": "IN",
                "dicomTag": "Modality",
            },
            "condition_type",
        ),
    ],
)
def test_from_json_rejects_bad_fields_naming_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=f"'{field}'"):
        Condition.from_json(data)


def test_from_json_error_does_not_echo_the_value() -> None:
    with pytest.raises(ConfigError) as info:
        Condition.from_json(
            {"value": "SECRET-ID", "condition_type": "IN", "dicom_tag": "PatientID"}
        )
    assert "SECRET-ID" not in str(info.value)


def test_from_json_rejects_a_non_object() -> None:
    with pytest.raises(ConfigError, match="JSON object"):
        Condition.from_json(["IN"])  # type: ignore[arg-type]


def test_from_json_accepts_camel_case_and_lower_case_type() -> None:
    condition = Condition.from_json(
        {"value": ["CT"], "conditionType": "in", "dicomTag": "Modality"}
    )
    assert condition == Condition(("CT",), ConditionType.IN, "Modality")


def test_presence_types_ignore_a_json_value() -> None:
    condition = Condition.from_json(
        {"value": "x", "condition_type": "EXISTS", "dicom_tag": "Modality"}
    )
    assert condition.value is None
    assert Condition.from_json({"condition_type": "ABSENT", "dicom_tag": "Modality"}).value is None


def test_direct_construction_of_presence_type_with_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="'value' must be null"):
        Condition(value="x", condition_type=ConditionType.EXISTS, dicom_tag="Modality")


@pytest.mark.parametrize(
    "condition",
    [
        Condition(("ct", "mr"), ConditionType.IN, "Modality"),
        Condition(("SR",), ConditionType.NOT_IN, "(0008,0060)"),
        Condition("PRIMARY", ConditionType.NOT_SUBSTR, "ImageType"),
        Condition("head", ConditionType.SUBSTR, "StudyDescription"),
        Condition("HEAD CT", ConditionType.EQUALS, "00081030"),
        Condition(r"^ax\d", ConditionType.REGEX, "SeriesDescription"),
        Condition(None, ConditionType.EXISTS, "BodyPartExamined"),
        Condition(None, ConditionType.ABSENT, "0009,1001"),
    ],
)
def test_json_round_trip(condition: Condition) -> None:
    data = json.loads(json.dumps(condition.to_json()))
    assert Condition.from_json(data) == condition
    assert data["condition_type"] == condition.condition_type.value


def test_to_json_is_the_reference_shape() -> None:
    condition = Condition(("ct", "mr"), ConditionType.IN, "Modality")
    evaluation = condition.evaluate(make_dataset(Modality="MR"))
    assert evaluation.to_json() == {
        "condition": {"value": ["ct", "mr"], "condition_type": "IN", "dicom_tag": "Modality"},
        "tag_value": "MR",
        "evaluated_value": True,
    }


def test_condition_type_values_and_cli_names() -> None:
    assert [kind.value for kind in ConditionType] == [
        "IN",
        "NOT_SUBSTR",
        "SUBSTR",
        "NOT_IN",
        "EQUALS",
        "REGEX",
        "EXISTS",
        "ABSENT",
    ]
    assert ConditionType.NOT_SUBSTR.cli_name == "not-substr"


def test_evaluate_conditions_requires_all_and_reports_each() -> None:
    conditions = [
        Condition(("ct",), ConditionType.IN, "Modality"),
        Condition("PRIMARY", ConditionType.NOT_SUBSTR, "ImageType"),
        Condition(None, ConditionType.ABSENT, "PatientName"),
    ]
    evaluations, passed = evaluate_conditions(conditions, SERIES)
    assert [e.evaluated_value for e in evaluations] == [True, False, True]
    assert passed is False
    evaluations, passed = evaluate_conditions([conditions[0], conditions[2]], SERIES)
    assert passed is True
    assert len(evaluations) == 2


def test_no_conditions_pass() -> None:
    assert evaluate_conditions([], Dataset()) == ([], True)


def test_real_file_read_without_pixels() -> None:
    path = get_testdata_file("CT_small.dcm")
    assert path is not None
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    conditions = [
        Condition(("ct", "mr"), ConditionType.IN, "Modality"),
        Condition("PRIMARY", ConditionType.NOT_SUBSTR, "ImageType"),
        Condition("ge medical", ConditionType.SUBSTR, "(0008,0070)"),
        Condition("compressedsamples^ct1", ConditionType.EQUALS, "PatientName"),
        Condition(r"^0\.66\d+\\0\.66", ConditionType.REGEX, "PixelSpacing"),
        Condition(None, ConditionType.EXISTS, "OtherPatientIDsSequence"),
        Condition(None, ConditionType.ABSENT, "AccessionNumber"),
        Condition("ge_genesis", ConditionType.SUBSTR, "(0009,1001)"),
        Condition(("24078",), ConditionType.IN, "00211015"),
    ]
    evaluations, passed = evaluate_conditions(conditions, ds)
    assert [e.evaluated_value for e in evaluations] == [True, False] + [True] * 7
    assert passed is False
    assert [e.tag_value for e in evaluations] == [
        "CT",
        "ORIGINAL\\PRIMARY\\AXIAL",
        "GE MEDICAL SYSTEMS",
        "CompressedSamples^CT1",
        "0.661468\\0.661468",
        None,
        "",
        "GE_GENESIS_FF",
        "24078",
    ]
