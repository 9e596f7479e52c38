"""Rule regions: TOML parsing, header matching, edge-relative boxes, errors with lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

import dicomscrub.pixels
from dicomscrub.errors import ConfigError
from dicomscrub.pixels.rules import load_rules, parse_rules
from dicomscrub.pixels.types import Box

SC = "1.2.840.10008.5.1.4.1.1.7"
EXAMPLE = Path(dicomscrub.pixels.__file__).parent / "example_rules.toml"


def _ds(**values: object) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def _rule(when: str, boxes: str = "[[0, 0, 10, 10]]") -> str:
    return f"[[rule]]\nname = 'r'\nboxes = {boxes}\n[rule.when]\n{when}\n"


@pytest.mark.parametrize(
    ("when", "values", "expected"),
    [
        ('Manufacturer = "acme"', {"Manufacturer": "ACME Medical"}, True),
        ('Manufacturer = "acme"', {"Manufacturer": "Other"}, False),
        ('Manufacturer = "acme"', {}, False),
        ('Modality = ["us", "xa"]', {"Modality": "XA"}, True),
        ('Modality = ["us", "xa"]', {"Modality": "CT"}, False),
        ("Rows = 600", {"Rows": 600}, True),
        ("Rows = 600", {"Rows": 6000}, False),
        ("Columns = [512, 1024]", {"Columns": 1024}, True),
        ('ImageType = "primary\\\\axial"', {"ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"]}, True),
        ('ImageType = "SCREEN"', {"ImageType": ["ORIGINAL", "PRIMARY"]}, False),
        (
            'SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"',
            {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.7"},
            True,
        ),
        ('Modality = "US"\nRows = 480', {"Modality": "US", "Rows": 600}, False),
    ],
)
def test_when_matching(when: str, values: dict[str, object], expected: bool) -> None:
    rules = parse_rules(_rule(when))
    assert bool(rules.matching(_ds(**values))) is expected


def test_rule_without_when_matches_every_image() -> None:
    rules = parse_rules("[[rule]]\nboxes = [[0, 0, 5, 5]]\n")
    assert rules.boxes_for(_ds(), 20, 10) == [Box(0, 0, 5, 5, "rule")]


def test_negative_coordinates_count_from_the_far_edge_and_large_ones_clip() -> None:
    rules = parse_rules("[[rule]]\nboxes = [[-100, -20, 65535, 65535], [0, 0, 50, -590]]\n")
    assert rules.boxes_for(_ds(), 800, 600) == [
        Box(700, 580, 800, 600, "rule"),
        Box(0, 0, 50, 10, "rule"),
    ]


def test_box_outside_a_small_frame_is_dropped() -> None:
    rules = parse_rules("[[rule]]\nboxes = [[700, 0, 800, 10]]\n")
    assert rules.boxes_for(_ds(), 512, 512) == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("[[rule]]\nboxes = [[0, 0, 1, 1]]\n[rule.when]\nManufactrer = 'x'\n", 4, "DICOM keyword"),
        (
            "[[rule]]\nboxes = [[0, 0, 1, 1]]\n\n[[rule]]\nname = 'b'\nboxes = [[5, 0, 1, 1]]\n",
            6,
            "empty",
        ),
        ("[[rule]]\nname = 'a'\n", 1, "boxes"),
        ("[[rule]]\nboxes = [[0, 0, 1]]\n", 2, "four integers"),
        ("[[rule]]\nboxes = [[0, 0, 1, 1]]\n[rule.when]\nRows = true\n", 4, "booleans"),
        ("[[rule]]\nboxes = [[0, 0, 1, 1]]\ncolour = 'x'\n", 3, "unknown key"),
        ("[[rule]]\nboxes = [[0, 0, 1, 1]]\nname = \n", 3, "invalid TOML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)
    assert f"line {line}" in str(caught.value)
    assert message in str(caught.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "absent.toml")


def test_example_file_loads_and_documents_every_key() -> None:
    rules = load_rules(EXAMPLE)
    assert len(rules.rules) >= 2
    text = EXAMPLE.read_text()
    for key in ("[[rule]]", "name", "boxes", "[rule.when]", "negative", "65535"):
        assert key in text
    banner = rules.boxes_for(_ds(Modality="US", Manufacturer="Acme Ultrasound"), 640, 480)
    assert banner == [Box(0, 0, 640, 56, "rule")]
