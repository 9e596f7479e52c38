"""Find planted PHI strings in the raw bytes of a written file."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

__all__ = ["MIN_PHI_LENGTH", "find_phi"]

#: Shorter strings (a sex, a middle initial) match ordinary bytes by chance.
MIN_PHI_LENGTH = 4


def _encodings(text: str) -> set[bytes]:
    # A file may carry the same text as UTF-8 or Latin-1 (SpecificCharacterSet).
    forms = {text.encode("utf-8")}
    with contextlib.suppress(UnicodeEncodeError):
        forms.add(text.encode("latin-1"))
    return forms


def find_phi(data: bytes, strings: Sequence[str]) -> list[str]:
    """Return the strings of ``strings`` that occur in ``data``, ignoring case.

    Every byte is searched: the preamble, the file meta group, private elements, items
    of nested sequences and pixel data alike. Strings shorter than
    :data:`MIN_PHI_LENGTH` are skipped. The result keeps the order of ``strings``.
    The bytes are searched as stored: the dataset of a Deflated Explicit VR Little
    Endian file is compressed, so inflate it before calling.
    """
    haystack = data.lower()
    found: list[str] = []
    for text in strings:
        if len(text) < MIN_PHI_LENGTH or text in found:
            continue
        if any(needle in haystack for needle in _encodings(text.lower())):
            found.append(text)
    return found
