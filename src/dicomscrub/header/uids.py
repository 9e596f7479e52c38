"""Keyed, deterministic UID remapping (``2.25.`` + HMAC-SHA256 of the original)."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache
from typing import Final

from pydicom._uid_dict import UID_dictionary

__all__ = ["is_valid_uid", "is_well_known_uid", "remap_uid"]

_VALID: Final = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")
_DICOM_ROOT: Final = "1.2.840.10008."


def is_valid_uid(uid: str) -> bool:
    """Whether ``uid`` is a valid UID per PS3.5 9.1: digits and dots, no leading zeros, <= 64."""
    return 0 < len(uid) <= 64 and bool(_VALID.match(uid))


def is_well_known_uid(uid: str) -> bool:
    """Whether ``uid`` is defined by the standard (SOP classes, transfer syntaxes, ...).

    Such UIDs identify kinds of things, not patients or studies, and are never remapped.
    """
    return uid.startswith(_DICOM_ROOT) or uid in UID_dictionary


@lru_cache(maxsize=65536)
def _remap(uid: str, key: bytes) -> str:
    digest = hmac.new(key, b"uid|" + uid.encode("ascii", "replace"), hashlib.sha256).digest()
    # 128 bits as a decimal integer: at most 39 digits, so the UID is at most 44
    # characters; a collision needs ~2**64 distinct inputs (birthday bound).
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def remap_uid(uid: str, key: bytes) -> str:
    """The replacement of ``uid`` under ``key``: the same in every run with that key.

    Trailing NUL/space padding is ignored, so the same UID padded differently maps the
    same way.
    """
    return _remap(uid.strip("\x00 "), key)
