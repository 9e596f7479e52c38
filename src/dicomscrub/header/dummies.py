"""Dummy values valid for each VR (action D of PS3.15 Table E.1-1)."""

from __future__ import annotations

from typing import Final

__all__ = ["dummy_value"]

_TEXT: Final = "ANONYMIZED"

_DUMMIES: Final[dict[str, object]] = {
    "AE": "ANONYMIZED",
    "AS": "000Y",
    "CS": "ANONYMIZED",
    "DA": "19000101",
    "DT": "19000101000000.000000",
    "TM": "000000.00",
    "DS": "0",
    "IS": "0",
    "LO": _TEXT,
    "LT": _TEXT,
    "SH": _TEXT,
    "ST": _TEXT,
    "UT": _TEXT,
    "UC": _TEXT,
    "PN": "ANONYMIZED^ANONYMIZED",
    "UR": "",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "AT": 0,
    "OB": b"\x00\x00",
    "OW": b"\x00\x00",
    "OD": b"\x00" * 8,
    "OF": b"\x00" * 4,
    "OL": b"\x00" * 4,
    "OV": b"\x00" * 8,
    "UN": b"\x00\x00",
}


def dummy_value(vr: str) -> object:
    """A harmless non-empty value of ``vr`` (UI and SQ are handled by their own rules)."""
    return _DUMMIES.get(vr, _TEXT)
