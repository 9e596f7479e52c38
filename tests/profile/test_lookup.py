"""The patient lookup CSV: both header spellings load; errors name lines, never IDs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.profile.lookup import load_patient_lookup
from dicomscrub.profile.policy import PatientEntry


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lookup.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "header",
    [
        "original_id,new_id,new_name",
        "PatientID,NewPatientID,NewPatientName",
        "patientid , NEWPATIENTID , newpatientname",
        "new_name,original_id,new_id",
    ],
)
def test_header_spellings(tmp_path: Path, header: str) -> None:
    names = [name.strip().lower() for name in header.split(",")]
    values = {"original_id": "MRN-77", "patientid": "MRN-77", "new_id": "SUBJ-1"}
    values |= {"newpatientid": "SUBJ-1", "new_name": "SUBJ^1", "newpatientname": "SUBJ^1"}
    row = ",".join(values[name] for name in names)
    table = load_patient_lookup(write(tmp_path, f"{header}\n{row}\n"))
    assert table == {"MRN-77": PatientEntry(new_id="SUBJ-1", new_name="SUBJ^1")}


def test_several_rows_quotes_bom_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "lookup.csv"
    text = 'original_id,new_id,new_name\n1001,S-1,"DOE^ANON, JR"\n\n 1002 , S-2 ,\n'
    path.write_text(text, encoding="utf-8-sig")
    assert load_patient_lookup(path) == {
        "1001": PatientEntry("S-1", "DOE^ANON, JR"),
        "1002": PatientEntry("S-2", ""),
    }


def test_new_name_column_is_optional(tmp_path: Path) -> None:
    table = load_patient_lookup(write(tmp_path, "PatientID,NewPatientID\nA1,B1\n"))
    assert table == {"A1": PatientEntry("B1", "")}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("", 1, "empty"),
        ("original_id,new_name\nSECRET-1,X\n", 1, "missing column(s) new_id"),
        ("id,new,name\nSECRET-1,X,Y\n", 1, "missing column(s) original_id, new_id"),
        ("original_id,PatientID,new_id\nSECRET-1,SECRET-1,X\n", 1, "appears twice"),
        ("original_id,new_id\nSECRET-1,A\nSECRET-2,\n", 3, "new_id is empty"),
        ("original_id,new_id\n,A\n", 2, "original_id is empty"),
        (
            "original_id,new_id\nSECRET-1,A\nSECRET-2,B\nSECRET-1,C\n",
            4,
            "repeats the one on line 2",
        ),
    ],
)
def test_errors_name_line_not_ids(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_patient_lookup(path)
    message = str(caught.value)
    assert str(path) in message
    assert fragment in message
    assert re.search(rf"\bline {line}\b", message), message
    assert "SECRET" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_patient_lookup(tmp_path / "absent.csv")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "lookup.csv"
    path.write_bytes(b"original_id,new_id\n\xff\xfe,1\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_patient_lookup(path)
