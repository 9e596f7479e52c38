"""TOML profile files: valid files load; every mistake names the file and its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dicomscrub.errors import ConfigError
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Override
from dicomscrub.profile.profile_file import load_profile_file, normalize_tag

VALID = """\
# a comment
base = "basic"
options = ["retain-uids", "clean-descriptors"]

[[override]]
tag = "PatientSex"
action = "keep"

[[override]]
tag = "(0008,0080)"
action = "replace"
value = "ANON HOSPITAL"

[[override]]
tag = "(50xx,0010)"
action = "remove"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_profile_loads(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    profile = load_profile_file(path)
    assert profile.base == "basic"
    assert profile.options == {Option.RETAIN_UIDS, Option.CLEAN_DESCRIPTORS}
    assert profile.source == path
    assert profile.overrides == (
        Override(tag="00100040", action="keep"),
        Override(tag="00080080", action="replace", value="ANON HOSPITAL"),
        Override(tag="50XX0010", action="remove"),
    )


def test_empty_file_means_basic_profile_without_options(tmp_path: Path) -> None:
    profile = load_profile_file(write(tmp_path, ""))
    assert (profile.base, profile.options, profile.overrides) == ("basic", frozenset(), ())


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('base = "basic"\noptions = [\n  "retain-uids"\n', 3, "invalid TOML"),
        ('base = "basic"\noptions = \n[[override]]\n', 2, "invalid TOML"),
        ('base = "basic"\nbase = "basic"\n', 2, "invalid TOML"),
        ('base = "basic"\ncolour = "blue"\n', 2, "unknown key 'colour'"),
        ('\n\nbase = "paranoid"\n', 3, "unknown base profile"),
        ('base = "basic"\noptions = ["retain-everything"]\n', 2, "unknown option"),
        ('options = "retain-uids"\n', 1, "options must be a list"),
        (
            'options = ["retain-longitudinal-full-dates", "retain-longitudinal-modified-dates"]',
            1,
            "exclude each other",
        ),
        (
            VALID + '\n[[override]]\ntag = "PatientNickname"\naction = "keep"\n',
            19,
            "unknown tag 'PatientNickname'",
        ),
        (VALID + '\n[[override]]\ntag = "PatientAge"\naction = "hash"\n', 20, "bad action"),
        (VALID + '\n[[override]]\ntag = "PatientAge"\naction = "replace"\n', 18, "needs value"),
        (
            VALID + '\n[[override]]\ntag = "PatientAge"\naction = "keep"\nvalue = "042Y"\n',
            21,
            "takes no value",
        ),
        (
            VALID + '\n[[override]]\ntag = "PatientAge"\naction = "remove"\nvalue = ""\n',
            21,
            "takes no value",
        ),
        (VALID + '\n[[override]]\ntag = "PatientAge"\nacton = "keep"\n', 20, "unknown key 'acton'"),
        (VALID + '\n[[override]]\naction = "keep"\n', 18, "needs tag"),
        (VALID + '\n[[override]]\ntag = "PatientAge"\n', 18, "bad action"),
        ('override = [{tag = "PatientAge", action = "zap"}]\n', 1, "bad action"),
        ('override = "PatientAge"\n', 1, "[[override]]"),
        (
            'options = []\n[[override]]\ntag = "(0010,0040)"\naction = "replace"\nvalue = 3\n',
            5,
            "needs value",
        ),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert fragment in message
    assert re.search(rf"\bline {line}\b", message), message


def test_replacement_values_are_not_echoed_in_errors(tmp_path: Path) -> None:
    text = '[[override]]\ntag = "NoSuchKeyword"\naction = "replace"\nvalue = "Jane Doe"\n'
    with pytest.raises(ConfigError) as caught:
        load_profile_file(write(tmp_path, text))
    assert "Jane Doe" not in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_profile_file(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PatientSex", "00100040"),
        ("Modality", "00080060"),
        ("(0008,0060)", "00080060"),
        ("( 0008 , 0060 )", "00080060"),
        ("0008,0060", "00080060"),
        ("00080060", "00080060"),
        ("0008 0060", "00080060"),
        ("(0029,10af)", "002910AF"),
        ("(50xx,0010)", "50XX0010"),
        ("60xx3000", "60XX3000"),
        ("OverlayData", "60XX3000"),
        ("  PatientID ", "00100020"),
    ],
)
def test_normalize_tag(text: str, expected: str) -> None:
    assert normalize_tag(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "patientsex", "NoSuchKeyword", "(0008,006)", "(0008,0060", "0008006G", "(0008;0060)", "1"],
)
def test_normalize_tag_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="unknown tag"):
        normalize_tag(text)
