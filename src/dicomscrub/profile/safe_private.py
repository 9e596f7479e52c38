"""PS3.15 Table E.3.10-1 "Safe Private Attributes": is a private data element safe to keep?

Used by the Retain Safe Private Option (PS3.15 E.3.10). The table is data in
``dicomscrub/_standard/safe_private.json``; its header names the edition and source.

A row names a private creator, a group and the low byte of the element; the block byte
(``bb`` in ``(gggg,bbee)``) is assigned per file and is not part of the match. Creators
match case-sensitively, as the standard defines them, after surrounding spaces (and the
NUL padding some writers leave) are stripped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["SafePrivateRow", "is_safe_private", "iter_safe_private_rows", "safe_private_edition"]

_DATA_FILE = "safe_private.json"


@dataclass(frozen=True)
class SafePrivateRow:
    """One row of Table E.3.10-1.

    ``group`` is four upper-case hex digits, ``X`` for a wildcard digit; ``element`` is
    the low byte of the element number.
    """

    private_creator: str
    group: str
    element: int
    vr: str | None
    vm: str | None
    meaning: str | None

    def matches_group(self, group: int) -> bool:
        """Whether ``group`` fits this row's group pattern."""
        digits = f"{group:04X}"
        return all(p in ("X", d) for p, d in zip(self.group, digits, strict=True))


@cache
def _load() -> tuple[dict[str, Any], tuple[SafePrivateRow, ...]]:
    text = resources.files("dicomscrub._standard").joinpath(_DATA_FILE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    rows = tuple(
        SafePrivateRow(
            private_creator=row["private_creator"],
            group=row["group"].upper(),
            element=int(row["element"], 16),
            vr=row.get("vr"),
            vm=row.get("vm"),
            meaning=row.get("meaning"),
        )
        for row in document["rows"]
    )
    return document, rows


@cache
def _index() -> dict[tuple[str, int], tuple[SafePrivateRow, ...]]:
    """Rows keyed by (creator, element low byte); group patterns are checked per row."""
    index: dict[tuple[str, int], list[SafePrivateRow]] = {}
    for row in _load()[1]:
        index.setdefault((row.private_creator, row.element), []).append(row)
    return {key: tuple(rows) for key, rows in index.items()}


def _normalize_creator(private_creator: str) -> str:
    return private_creator.strip(" \x00")


def iter_safe_private_rows() -> Iterator[SafePrivateRow]:
    """Yield every row of the stored Table E.3.10-1, in table order."""
    yield from _load()[1]


def safe_private_edition() -> str:
    """The edition of the stored table, as its header states it."""
    return str(_load()[0]["edition"])


def is_safe_private(private_creator: str | None, group: int, element: int) -> bool:
    """Whether private data element ``(group, element)`` under ``private_creator`` is safe.

    ``element`` is the full 16-bit element number (e.g. ``0x100A``); only its low byte
    is compared. A missing creator, an even (standard) group or a private creator
    element itself (``gggg,0010-00FF``) is never listed, so the answer is false.
    """
    if private_creator is None or group % 2 == 0 or element < 0x1000:
        return False
    rows = _index().get((_normalize_creator(private_creator), element & 0xFF), ())
    return any(row.matches_group(group) for row in rows)
