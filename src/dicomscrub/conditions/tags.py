"""Resolve the attribute a condition names, and read its value as comparable text.

An attribute is named by keyword (``Modality``; an exact match first, then one ignoring
case) or by its hexadecimal tag in any of the spellings ``(0008,0060)``, ``0008,0060`` or
``00080060`` (hex digits in either case, spaces allowed around the comma). Private tags
can only be named by hex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from pydicom.datadict import keyword_dict
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

from dicomscrub.errors import ConfigError

__all__ = ["TagReading", "read_tag", "resolve_tag"]

_GROUP_ELEMENT: Final = re.compile(
    r"^\(?\s*(?P<group>[0-9A-Fa-f]{4})\s*,\s*(?P<element>[0-9A-Fa-f]{4})\s*\)?$"
)
_PACKED: Final = re.compile(r"^(?P<group>[0-9A-Fa-f]{4})(?P<element>[0-9A-Fa-f]{4})$")

#: DICOM multi-valued attributes separate their values with a backslash (PS3.5 6.4).
VALUE_SEPARATOR: Final = "\\"


@cache
def _keywords_ignoring_case() -> dict[str, int]:
    return {keyword.casefold(): tag for keyword, tag in keyword_dict.items()}


@cache
def resolve_tag(name: str) -> BaseTag:
    """Return the tag a condition's ``dicom_tag`` names; ConfigError when it names none."""
    text = name.strip()
    match = _GROUP_ELEMENT.match(text) or _PACKED.match(text)
    if match is not None:
        return Tag(int(match["group"], 16), int(match["element"], 16))
    # Retired attributes without a keyword are listed under "" in pydicom's dictionary.
    if text and text in keyword_dict:
        return Tag(keyword_dict[text])
    folded = _keywords_ignoring_case().get(text.casefold()) if text else None
    if folded is not None:
        return Tag(folded)
    raise ConfigError(
        f"unknown DICOM attribute {name!r}: use a keyword from the data dictionary "
        "(e.g. 'Modality') or a tag such as '(0008,0060)'"
    )


@dataclass(frozen=True)
class TagReading:
    """What a condition sees of one attribute of one dataset.

    ``text`` is what string conditions compare against ("" when the attribute is missing,
    empty or a sequence); ``reported`` is the report's ``tag_value`` (None when the
    attribute is missing or is a sequence); ``has_value`` is true when the attribute is
    present and non-empty (a sequence: has at least one item).
    """

    text: str
    reported: str | None
    has_value: bool


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        # Binary and UN values carry no character set; latin-1 maps every byte.
        return bytes(value).decode("latin-1").strip(" \x00")
    # str() of PersonName is its original "family^given=ideographic=phonetic" form, and
    # str() of DS/IS keeps the string as it was written in the file.
    return str(value)


def read_tag(ds: Dataset, tag: BaseTag) -> TagReading:
    """Read ``tag`` from ``ds`` (works on datasets read with ``stop_before_pixels``)."""
    element = ds.get(tag)
    if element is None:
        return TagReading(text="", reported=None, has_value=False)
    value = element.value
    if element.VR == "SQ" or isinstance(value, Sequence):
        # Sequences have no text of their own; only their presence is comparable.
        return TagReading(text="", reported=None, has_value=bool(value))
    if isinstance(value, MultiValue | list | tuple):
        text = VALUE_SEPARATOR.join(_as_text(item) for item in value)
    else:
        text = _as_text(value)
    return TagReading(text=text, reported=text, has_value=text != "")
