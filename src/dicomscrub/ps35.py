"""The PS3.5 encoding facts shared by the fast writer and the sequence scanner.

Element headers (PS3.5 7.1), item and sequence delimiters (7.5) and the undefined
length: :mod:`dicomscrub.fastvalues` packs them, :mod:`dicomscrub.rawseq` unpacks them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache
from typing import Final

from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

__all__ = [
    "ITEM",
    "ITEM_END",
    "LONG_VRS",
    "SEQUENCE_END",
    "UNDEFINED_LENGTH",
    "HeaderStructs",
    "header_structs",
]

ITEM: Final = 0xFFFEE000
ITEM_END: Final = 0xFFFEE00D
SEQUENCE_END: Final = 0xFFFEE0DD
UNDEFINED_LENGTH: Final = 0xFFFFFFFF
#: VRs with a 4-byte length in explicit VR (PS3.5 7.1.2), as pydicom lists them.
LONG_VRS: Final = frozenset(EXPLICIT_VR_LENGTH_32)


@dataclass(frozen=True)
class HeaderStructs:
    """The three element header layouts in one byte order.

    ``marker``: tag and 4-byte length (implicit VR elements, items, delimiters);
    ``short``: tag, VR and 2-byte length; ``long``: tag, VR, 2 reserved bytes and a
    4-byte length (the :data:`LONG_VRS`).
    """

    marker: struct.Struct
    short: struct.Struct
    long: struct.Struct


@cache
def header_structs(little: bool) -> HeaderStructs:
    """The element header layouts for little (True) or big endian."""
    order = "<" if little else ">"
    return HeaderStructs(
        struct.Struct(order + "HHL"),
        struct.Struct(order + "HH2sH"),
        struct.Struct(order + "HH2s2xL"),
    )
