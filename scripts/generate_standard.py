"""Regenerate ``src/dicomscrub/_standard/e1_1.json`` from the shared PS3.15 Table E.1-1.

Usage::

    python scripts/generate_standard.py [SOURCE_JSON]

SOURCE_JSON defaults to ``../shared/standard/confidentiality_profile_attributes.json``
(Innolitics' extraction of DICOM PS3.15 Table E.1-1, edition 2024b, MIT licence). The
output keeps one row per attribute: tag pattern (``GGGGEEEE``, ``X`` for repeating
digits), name, keyword (from pydicom's dictionary where the tag is not a pattern), the
Basic Profile action and the action of each option column that has one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydicom.datadict import keyword_for_tag

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "standard" / "confidentiality_profile_attributes.json"
TARGET = ROOT / "src" / "dicomscrub" / "_standard" / "e1_1.json"
EDITION = "2024b"
OPTION_COLUMNS = (
    "rtnSafePrivOpt",
    "rtnUIDsOpt",
    "rtnDevIdOpt",
    "rtnInstIdOpt",
    "rtnPatCharsOpt",
    "rtnLongFullDatesOpt",
    "rtnLongModifDatesOpt",
    "cleanDescOpt",
    "cleanStructContOpt",
    "cleanGraphOpt",
)
ACTIONS = {"D", "Z", "X", "K", "C", "U", "X/Z", "X/D", "X/Z/D", "X/Z/U*", "Z/D"}


def convert(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for row in rows:
        if row["tag"].upper().startswith("(GGGG,EEEE) WHERE GGGG IS ODD"):
            tag = "PRIVATE"  # the row for all private attributes
        else:
            tag = row["tag"].strip("()").replace(",", "").upper()
        if len(tag) != 8 and tag != "PRIVATE":
            raise SystemExit(f"unexpected tag {row['tag']!r}")
        keyword = ""
        if "X" not in tag and tag != "PRIVATE":
            keyword = keyword_for_tag(int(tag, 16)) or ""
        basic = row["basicProfile"]
        if basic not in ACTIONS:
            raise SystemExit(f"unexpected action {basic!r} for {row['tag']}")
        options = {col: row[col] for col in OPTION_COLUMNS if row.get(col)}
        for col, action in options.items():
            if action not in ACTIONS:
                raise SystemExit(f"unexpected action {action!r} in {col} for {row['tag']}")
        out.append(
            {
                "tag": tag,
                "name": row["name"],
                "keyword": keyword,
                "in_std_comp_iod": row.get("stdCompIOD", "N") == "Y",
                "basic": basic,
                "options": options,
            }
        )
    out.sort(key=lambda r: str(r["tag"]))
    return out


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    rows = json.loads(source.read_text(encoding="utf-8"))
    table = {
        "edition": EDITION,
        "table": "PS3.15 Table E.1-1 Application Level Confidentiality Profile Attributes",
        "source": "Innolitics dicom-standard extraction (MIT), shared/standard/",
        "generated_by": "scripts/generate_standard.py",
        "rows": convert(rows),
    }
    TARGET.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(table['rows'])} rows to {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
