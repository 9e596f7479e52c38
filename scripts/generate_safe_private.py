"""Generate ``src/dicomscrub/_standard/safe_private.json`` from PS3.15's DocBook source.

Usage::

    python scripts/generate_safe_private.py part15.xml --edition 2024b \\
        --source "https://dicom.nema.org/medical/dicom/2024b/source/docbook/part15/part15.xml" \\
        --out src/dicomscrub/_standard/safe_private.json

``part15.xml`` is the DocBook file NEMA publishes for each edition. The script reads
Table E.3.10-1 ("Safe Private Attributes", ``xml:id="table_E.3.10-1"``), finds its
columns by their headings and writes one JSON row per table row. It needs no network:
download the file first.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

DOCBOOK = "{http://docbook.org/ns/docbook}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
TABLE_ID = "table_E.3.10-1"
_TAG = re.compile(r"\(\s*([0-9A-Fa-fxX]{4})\s*,\s*[xX]{2}([0-9A-Fa-f]{2})\s*\)")
_HEADINGS = {
    "data element": "tag",
    "private creator": "private_creator",
    "vr": "vr",
    "vm": "vm",
    "meaning": "meaning",
}


def _text(element: ET.Element) -> str:
    """All text inside ``element``, whitespace collapsed, zero-width spaces dropped."""
    return " ".join("".join(element.itertext()).replace("\u200b", "").split())


def read_rows(root: ET.Element) -> list[dict[str, Any]]:
    """The rows of Table E.3.10-1 in ``root`` (a parsed part15.xml)."""
    table = next((e for e in root.iter() if e.get(XML_ID) == TABLE_ID), None)
    if table is None:
        raise SystemExit(f"no element with xml:id={TABLE_ID!r} in this document")
    headings = [_text(th).lower() for th in table.iter(f"{DOCBOOK}th")]
    columns = [_HEADINGS.get(h) for h in headings]
    if set(_HEADINGS.values()) - set(columns):
        raise SystemExit(f"unexpected table headings: {headings}")
    rows: list[dict[str, Any]] = []
    for tr in table.iter(f"{DOCBOOK}tr"):
        cells = [_text(td) for td in tr.findall(f"{DOCBOOK}td")]
        if not cells:
            continue  # the heading row
        if len(cells) != len(columns):
            raise SystemExit(f"row with {len(cells)} cells, expected {len(columns)}: {cells}")
        values = {name: cell for name, cell in zip(columns, cells, strict=True) if name}
        match = _TAG.fullmatch(values["tag"])
        if match is None:
            raise SystemExit(f"cannot read data element {values['tag']!r}")
        rows.append(
            {
                "private_creator": values["private_creator"],
                "group": match.group(1).upper(),
                "element": match.group(2).upper(),
                "vr": values["vr"] or None,
                "vm": values["vm"] or None,
                "meaning": values["meaning"] or None,
            }
        )
    return rows


def build_document(rows: list[dict[str, Any]], *, edition: str, source: str) -> dict[str, Any]:
    """The JSON document as stored in ``_standard/safe_private.json``."""
    return {
        "table": "PS3.15 Table E.3.10-1 Safe Private Attributes",
        "edition": edition,
        "source": source,
        "regenerate": (
            "python scripts/generate_safe_private.py part15.xml --edition EDITION "
            "--source URL --out src/dicomscrub/_standard/safe_private.json"
        ),
        "columns": {
            "private_creator": "Private Creator (LO value of (gggg,00bb))",
            "group": "gggg, 4 hex digits; 'X' would mark a wildcard digit",
            "element": "the low byte of (gggg,bbee): ee, 2 hex digits",
            "vr": "VR as listed (null where the table leaves it blank)",
            "vm": "VM as listed",
            "meaning": "Meaning as listed (null where blank)",
        },
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part15", type=Path, help="PS3.15 DocBook file (part15.xml)")
    parser.add_argument("--edition", required=True, help="edition, e.g. 2024b")
    parser.add_argument("--source", help="where part15.xml came from (default: its path)")
    parser.add_argument("--out", type=Path, help="output JSON (default: standard output)")
    args = parser.parse_args(argv)
    rows = read_rows(ET.parse(args.part15).getroot())
    document = build_document(rows, edition=args.edition, source=args.source or str(args.part15))
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    print(f"{len(rows)} rows of {TABLE_ID} ({args.edition})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
