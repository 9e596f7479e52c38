"""Table E.3.10-1 lookups: known rows are safe, anything else is not."""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path

import pytest

from dicomscrub.profile.safe_private import (
    is_safe_private,
    iter_safe_private_rows,
    safe_private_edition,
)


@pytest.mark.parametrize(
    ("creator", "group", "element"),
    [
        # (7053,xx00) Philips PET Private Group, DS, SUV Factor
        ("Philips PET Private Group", 0x7053, 0x1000),
        # (0019,xx9E) GEMS_ACQU_01, LO, Internal Pulse Sequence Name; block 0x10
        ("GEMS_ACQU_01", 0x0019, 0x109E),
        # (0019,xx0C) SIEMENS MR HEADER, IS, B Value; the block byte does not matter
        ("SIEMENS MR HEADER", 0x0019, 0x200C),
        # (0903,xx10) GEIIS PACS, US, Reject Image Flag
        ("GEIIS PACS", 0x0903, 0x1110),
    ],
)
def test_known_rows_are_safe(creator: str, group: int, element: int) -> None:
    assert is_safe_private(creator, group, element)


@pytest.mark.parametrize("creator", ["Philips PET Private Group ", " GEIIS PACS\x00", "NQLeft  "])
def test_surrounding_padding_is_tolerated(creator: str) -> None:
    group = {"Philips": 0x7053, "GEIIS": 0x0903, "NQLeft": 0x0199}[creator.split()[0]]
    element = {0x7053: 0x1000, 0x0903: 0x1010, 0x0199: 0x100A}[group]
    assert is_safe_private(creator, group, element)


@pytest.mark.parametrize(
    ("creator", "group", "element"),
    [
        ("ACME PRIVATE", 0x7053, 0x1000),  # unknown creator
        ("philips pet private group", 0x7053, 0x1000),  # creators are case-sensitive
        ("Philips PET Private Group", 0x7053, 0x1001),  # element not listed
        ("Philips PET Private Group", 0x7055, 0x1000),  # group not listed
        ("GEMS_ACQU_01", 0x0019, 0x0010),  # the creator element itself
        (None, 0x0019, 0x109E),  # no creator found in the dataset
        ("GEMS_ACQU_01", 0x0018, 0x109E),  # even group: not private
    ],
)
def test_unlisted_elements_are_not_safe(creator: str | None, group: int, element: int) -> None:
    assert not is_safe_private(creator, group, element)


def test_rows_mirror_the_stored_table() -> None:
    text = resources.files("dicomscrub._standard").joinpath("safe_private.json").read_text()
    document = json.loads(text)
    rows = list(iter_safe_private_rows())
    assert len(rows) == len(document["rows"]) > 100
    assert {"table", "edition", "source"} <= document.keys()
    assert safe_private_edition() == document["edition"]
    for row in rows:
        assert len(row.group) == 4 and 0 <= row.element <= 0xFF
        assert int(row.group.replace("X", "1"), 16) % 2 == 1  # private groups are odd
        # every row of the table answers true for itself, in any block
        group = int(row.group.replace("X", "0"), 16)
        assert is_safe_private(row.private_creator, group, 0x1000 | row.element)
        assert is_safe_private(row.private_creator, group, 0xFF00 | row.element)


def test_iter_rows_keeps_table_order() -> None:
    first = next(iter_safe_private_rows())
    assert (first.private_creator, first.group, first.element, first.vr) == (
        "Philips PET Private Group",
        "7053",
        0x00,
        "DS",
    )


DOCBOOK_FIXTURE = """\
<book xmlns="http://docbook.org/ns/docbook" xmlns:xml="http://www.w3.org/XML/1998/namespace">
 <table xml:id="table_E.3.10-1"><caption>Safe Private Attributes</caption>
  <thead><tr><th><para>Data Element</para></th><th><para>Private Creator</para></th>
   <th><para>VR</para></th><th><para>VM</para></th><th><para>Meaning</para></th></tr></thead>
  <tbody>
   <tr><td><para>(7053,xx00)</para></td><td><para>Philips PET Private Group</para></td>
    <td><para>DS</para></td><td><para>1</para></td><td><para>SUV Factor</para></td></tr>
   <tr><td><para>(0199,xx0a)</para></td><td><para>NQLeft</para></td>
    <td><para/></td><td><para>1</para></td><td><para>Left Cerebellar
     Gray Matter</para></td></tr>
  </tbody></table>
</book>
"""


def test_generator_reads_the_docbook_table(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "generate_safe_private.py"
    spec = importlib.util.spec_from_file_location("generate_safe_private", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    source = tmp_path / "part15.xml"
    source.write_text(DOCBOOK_FIXTURE, encoding="utf-8")
    out = tmp_path / "safe_private.json"
    assert module.main([str(source), "--edition", "2099z", "--out", str(out)]) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["edition"] == "2099z"
    assert document["rows"] == [
        {
            "private_creator": "Philips PET Private Group",
            "group": "7053",
            "element": "00",
            "vr": "DS",
            "vm": "1",
            "meaning": "SUV Factor",
        },
        {
            "private_creator": "NQLeft",
            "group": "0199",
            "element": "0A",
            "vr": None,
            "vm": "1",
            "meaning": "Left Cerebellar Gray Matter",
        },
    ]
    # the stored table has the same shape, so a regenerated file drops straight in
    stored = resources.files("dicomscrub._standard").joinpath("safe_private.json").read_text()
    assert json.loads(stored)["rows"][0].keys() == document["rows"][0].keys()
