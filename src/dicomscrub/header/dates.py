"""Keyed per-patient date shifting (Retain Longitudinal Temporal Information, Modified Dates)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Final

__all__ = ["MAX_SHIFT_DAYS", "date_offset", "shift_da", "shift_dt"]

#: Dates move back by 1 to MAX_SHIFT_DAYS days; the same patient always moves the same way.
MAX_SHIFT_DAYS: Final = 3650


def date_offset(key: bytes, patient: str) -> int:
    """The day offset (negative) for ``patient`` (their original PatientID) under ``key``."""
    digest = hmac.new(key, b"date-shift|" + patient.encode("utf-8"), hashlib.sha256).digest()
    return -(1 + int.from_bytes(digest[:8], "big") % MAX_SHIFT_DAYS)


def _shift(date_text: str, days: int) -> str | None:
    try:
        date = dt.date(int(date_text[:4]), int(date_text[4:6]), int(date_text[6:8]))
    except ValueError:
        return None
    try:
        return (date + dt.timedelta(days=days)).strftime("%Y%m%d")
    except OverflowError:
        return None


def shift_da(value: str, days: int) -> str | None:
    """Shift a DA value (or a DA range ``A-B``); None if it is not a date we can read."""
    value = value.strip()
    if not value:
        return value
    if "-" in value:
        parts = value.split("-")
        if len(parts) != 2:
            return None
        shifted = [shift_da(p, days) if p else "" for p in parts]
        if any(s is None for s in shifted):
            return None
        return "-".join(s or "" for s in shifted)
    if len(value) != 8 or not value.isdigit():
        return None
    return _shift(value, days)


def shift_dt(value: str, days: int) -> str | None:
    """Shift the date part of a DT value (YYYYMMDDHHMMSS.FFFFFF&ZZXX), keeping the rest.

    A DT with only a year or year-month cannot be shifted by days and returns None.
    """
    value = value.strip()
    if not value:
        return value
    if len(value) < 8 or not value[:8].isdigit():
        return None
    head = _shift(value[:8], days)
    return None if head is None else head + value[8:]
