"""The elements inside a sequence's raw bytes, without building pydicom data sets.

pydicom leaves a defined-length sequence as raw bytes until it is accessed, then parses
every item into a ``Dataset``, which costs far more than the bytes do: most of reading
a header's sequences is constructing those objects. Collecting a file's PHI only needs
the text values inside, and most sequences are then removed whole by the profile, so
:func:`scan_sequence` walks the bytes itself (PS3.5 7.5) and lists the elements at every
depth, leaving pydicom's parse to the sequences the engine keeps.

It answers None, and the caller lets pydicom parse, for anything whose reading pydicom
would decide differently: elements without an explicit VR that the data dictionary does
not know or knows as ambiguous ("US or SS"), UN values (pydicom may give them a known
VR), a character set declared inside an item, and bytes that do not parse.
"""

from __future__ import annotations

import struct
from typing import Final

from dicomscrub.fastvalues import dictionary_vr
from dicomscrub.ps35 import (
    ITEM,
    ITEM_END,
    LONG_VRS,
    SEQUENCE_END,
    UNDEFINED_LENGTH,
    header_structs,
)

__all__ = ["ScannedElement", "scan_sequence"]

#: (tag, VR, value bytes) of one element found inside a sequence.
ScannedElement = tuple[int, str, bytes]

_CHARSET: Final = 0x00080005


class _Unsure(Exception):
    """Raised inside the scan when pydicom's reading is the one to trust."""


class _Scanner:
    def __init__(self, data: bytes, implicit: bool, little: bool) -> None:
        layouts = header_structs(little)
        self.data = data
        self.implicit = implicit
        self.marker = layouts.marker.unpack_from
        self.short = layouts.short.unpack_from
        self.long = layouts.long.unpack_from
        self.out: list[ScannedElement] = []

    def tag_and_length(self, pos: int) -> tuple[int, int]:
        """The tag at ``pos`` and the 4 bytes after it read as a length (an item's, or an
        implicit VR element's); unsure past the end of the bytes."""
        if pos + 8 > len(self.data):
            raise _Unsure
        group, element, length = self.marker(self.data, pos)
        return group << 16 | element, length

    def items(self, pos: int, end: int | None) -> int:
        """Read items from ``pos`` to ``end`` (or to a sequence delimiter when None)."""
        data = self.data
        while end is None or pos < end:
            tag, length = self.tag_and_length(pos)
            pos += 8
            if tag == SEQUENCE_END and end is None:
                return pos
            if tag != ITEM:
                raise _Unsure
            if length == UNDEFINED_LENGTH:
                pos = self.elements(pos, None)
            else:
                item_end = pos + length
                if item_end > len(data) or self.elements(pos, item_end) != item_end:
                    raise _Unsure
                pos = item_end
        if pos != end:
            raise _Unsure
        return pos

    def elements(self, pos: int, end: int | None) -> int:
        """Read one item's elements from ``pos`` to ``end`` (or its delimiter when None)."""
        data = self.data
        while end is None or pos < end:
            tag, length = self.tag_and_length(pos)
            if tag == ITEM_END:
                if end is not None:
                    raise _Unsure
                return pos + 8
            if self.implicit:
                vr = dictionary_vr(tag)
                if vr is None:
                    raise _Unsure  # private, unknown or ambiguous: pydicom decides
                pos += 8
            else:
                _, _, raw_vr, length = self.short(data, pos)
                vr = raw_vr.decode("latin-1")
                if vr in LONG_VRS:
                    _, _, _, length = self.long(data, pos)
                    pos += 12
                else:
                    pos += 8
            if vr == "UN" or tag == _CHARSET:
                raise _Unsure
            if vr == "SQ":
                pos = self.items(pos, None if length == UNDEFINED_LENGTH else pos + length)
                continue
            if length == UNDEFINED_LENGTH or pos + length > len(data):
                raise _Unsure
            self.out.append((tag, vr, data[pos : pos + length]))
            pos += length
        if pos != end:
            raise _Unsure
        return pos


def scan_sequence(data: bytes, *, implicit: bool, little: bool) -> list[ScannedElement] | None:
    """Every non-sequence element inside the defined-length sequence value ``data``, at
    every depth, in the order pydicom's walk visits them; None when unsure (see the
    module docstring)."""
    scanner = _Scanner(data, implicit, little)
    try:
        scanner.items(0, len(data))
    except (_Unsure, struct.error, UnicodeDecodeError):
        return None
    return scanner.out
