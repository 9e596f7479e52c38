"""Read string values straight from the raw bytes pydicom keeps, without its conversion.

pydicom parses a file lazily: an element stays a ``RawDataElement`` (bytes) until it is
accessed, and conversion then costs tens of microseconds (hooks, value classes,
validation). A header has a hundred or more elements and de-identification must look at
most of them, so that cost alone would exceed a plain read and write of the file.
:class:`ElementView` decodes the string VRs itself, for the character sets where that is
exact (default repertoire, ISO_IR 100, ISO_IR 192), and falls back to pydicom for
everything else. Writing a value puts a new ``DataElement`` in place of the raw one.
"""

from __future__ import annotations

from typing import Any, Final

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

__all__ = ["ElementView", "simple_codec"]

_ASCII_VRS: Final = frozenset({"UI", "DA", "DT", "TM", "CS", "AS", "IS", "DS", "AE"})
_TEXT_VRS: Final = frozenset({"PN", "LO", "SH", "LT", "ST", "UT", "UC"})
_SINGLE_VALUED: Final = frozenset({"LT", "ST", "UT", "UR"})
_CODECS: Final = {
    "": "latin-1",
    "ISO_IR 6": "latin-1",
    "ISO_IR 100": "latin-1",
    "ISO_IR 192": "utf-8",
}


def simple_codec(ds: Dataset) -> str | None:
    """The codec for the text of ``ds`` when it is a single-byte or UTF-8 set, else None."""
    raw = ds.get_item(0x00080005)
    if raw is None:
        return "latin-1"
    value = raw.value
    if isinstance(value, bytes):
        text = value.decode("ascii", "replace").strip(" \x00")
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None  # multi-valued: ISO 2022 code extensions
    return _CODECS.get(text)


class ElementView:
    """The parts of a DataElement the engine uses, decoded lazily and cheaply."""

    __slots__ = ("_codec", "_ds", "_elem", "_value", "tag", "VR")

    def __init__(self, ds: Dataset, tag: BaseTag, codec: str | None) -> None:
        self._ds = ds
        self.tag = tag
        self._codec = codec
        self._elem: DataElement | None = None
        self._value: Any = _UNSET
        raw = ds.get_item(tag)
        vr = raw.VR
        if vr is None:
            try:
                vr = dictionary_VR(tag)
            except KeyError:
                vr = None
        if vr is None or len(vr) != 2 or isinstance(raw, DataElement):
            # Unknown or ambiguous VR, or already converted: let pydicom decide.
            self._elem = ds[tag]
            vr = self._elem.VR
        self.VR: str = vr

    @property
    def keyword(self) -> str:
        return keyword_for_tag(self.tag) or ""

    def _decodable(self) -> bool:
        if self.VR in _ASCII_VRS:
            return True
        return self.VR in _TEXT_VRS and self._codec is not None

    @property
    def value(self) -> Any:
        if self._value is not _UNSET:
            return self._value
        if self._elem is None and self._decodable():
            raw = self._ds.get_item(self.tag)
            assert isinstance(raw, RawDataElement)
            data = raw.value or b""
            text = data.decode(self._codec or "latin-1", "replace")
            if self.VR in _SINGLE_VALUED:
                value: Any = text.rstrip(" \x00")
            else:
                parts = [p.strip(" \x00") for p in text.split("\\")]
                value = parts[0] if len(parts) == 1 else parts
            self._value = value
            return value
        if self._elem is None:
            self._elem = self._ds[self.tag]
        self._value = self._elem.value
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        elem = DataElement(self.tag, self.VR, new)
        self._ds[self.tag] = elem
        self._elem = elem
        self._value = elem.value

    def element(self) -> DataElement:
        """The converted pydicom element (for sequences and binary values)."""
        if self._elem is None:
            self._elem = self._ds[self.tag]
        return self._elem


class _Unset:
    pass


_UNSET: Final = _Unset()
