"""Read, replace and write element values as the raw bytes pydicom keeps, without its conversion.

pydicom parses a file lazily: an element stays a ``RawDataElement`` (bytes) until it is
accessed, and conversion then costs tens of microseconds (hooks, value classes,
validation); writing a converted ``DataElement`` costs as much again. A header has a
hundred or more elements and de-identification must look at most of them, so that cost
alone would exceed a plain read and write of the file. This module keeps elements raw:

* :class:`ElementView` decodes the string VRs itself, for the character sets where that
  is exact (default repertoire, ISO_IR 100, ISO_IR 192), and falls back to pydicom for
  everything else;
* writing a string value puts a new ``RawDataElement`` holding the encoded, padded bytes
  pydicom's writer would have produced (a ``DataElement`` where that is not exact);
* :func:`encode_file` serialises a data set whose encoding agrees with its transfer
  syntax, byte for byte as ``Dataset.save_as(enforce_file_format=True)`` does, but
  without pydicom's per-element overhead; :func:`write_file` writes the same bytes to a
  file, copying values pydicom left on disk (read with ``defer_size``) in chunks.

The helpers reach into ``Dataset._dict`` (pydicom's tag -> element mapping) in one
place, :func:`elements`, since its public accessors convert tags and values per call.
"""

from __future__ import annotations

import io
import struct
from collections.abc import MutableMapping
from copy import deepcopy
from dataclasses import dataclass
from functools import cache
from typing import Any, BinaryIO, Final

from pydicom.charset import convert_encodings, default_encoding
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_file_meta_info
from pydicom.filewriter import write_dataset as pydicom_write_dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from dicomscrub.ps35 import (
    ITEM,
    ITEM_END,
    LONG_VRS,
    SEQUENCE_END,
    UNDEFINED_LENGTH,
    header_structs,
)

__all__ = [
    "ElementView",
    "as_raw",
    "decode_text",
    "dictionary_vr",
    "elements",
    "encode_file",
    "encode_file_parts",
    "encode_strings",
    "encoding_of",
    "is_decodable",
    "keyword",
    "put_raw",
    "set_string_value",
    "simple_codec",
    "uid_of",
    "write_file",
]

_ASCII_VRS: Final = frozenset({"UI", "DA", "DT", "TM", "CS", "AS", "IS", "DS", "AE"})
_TEXT_VRS: Final = frozenset({"PN", "LO", "SH", "LT", "ST", "UT", "UC"})
_SINGLE_VALUED: Final = frozenset({"LT", "ST", "UT", "UR"})
_CODECS: Final = {
    "": "latin-1",
    "ISO_IR 6": "latin-1",
    "ISO_IR 100": "latin-1",
    "ISO_IR 192": "utf-8",
}

Element = DataElement | RawDataElement


def elements(ds: Dataset) -> MutableMapping[BaseTag, Element]:
    """The live tag -> element mapping of ``ds`` (pydicom's internal ``_dict``).

    Iterating it yields raw elements as read, with no per-call ``Tag()`` conversion or
    value decoding; writing to it must keep the keys ``BaseTag`` and the values
    elements whose ``tag`` is the key.
    """
    return ds._dict


@cache
def dictionary_vr(tag: int) -> str | None:
    """The data dictionary's VR for ``tag``; None when unknown or ambiguous ("US or SS")."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return None
    return vr if len(vr) == 2 else None


@cache
def effective_vr(raw_vr: str | None, tag: int) -> str | None:
    """The VR to act on: the dictionary's when the file gave none (implicit VR) or gave
    UN for an attribute the dictionary knows (pydicom then decodes it as the known VR).

    Pass a plain ``int`` tag (see :func:`keyword`)."""
    if raw_vr is None or (raw_vr == "UN" and not tag >> 16 & 1):
        return dictionary_vr(tag) or raw_vr
    return raw_vr


@cache
def keyword(tag: int) -> str:
    """The data dictionary's keyword for ``tag`` ("" for private and unknown tags).

    Pass a plain ``int``: a pydicom ``BaseTag`` key makes every cache hit (and every
    lookup in pydicom's dictionary) call its Python-level ``__eq__``.
    """
    return keyword_for_tag(tag) or ""


def simple_codec(ds: Dataset) -> str | None:
    """The codec for the text of ``ds`` when it is a single-byte or UTF-8 set, else None."""
    raw = elements(ds).get(BaseTag(0x00080005))
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


def encoding_of(ds: Dataset) -> tuple[bool, bool]:
    """``(implicit VR, little endian)`` that raw values put into ``ds`` are encoded in.

    That is how ``ds`` was read; a data set built in memory gets Explicit VR Little
    Endian flags (pydicom converts raw elements by their own flags when it writes one).
    """
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        return False, True
    return implicit, little


def put_raw(ds: Dataset, tag: int, vr: str, data: bytes, flags: tuple[bool, bool]) -> None:
    """Put already encoded, even-length ``data`` into ``ds`` as a raw element of ``vr``."""
    btag = BaseTag(tag)
    elements(ds)[btag] = RawDataElement(btag, vr, len(data), data, 0, flags[0], flags[1])


def as_raw(elem: DataElement, flags: tuple[bool, bool]) -> RawDataElement:
    """A raw element holding the bytes pydicom's writer produces for ``elem`` in ``flags``.

    For values built once and put into many data sets (provenance): pydicom writes the
    raw bytes as they are and decodes them by the flags if anyone reads them.
    """
    pk = _Packer(*flags)
    data = _pydicom_element(pk, elem, None)
    undefined = not flags[0] and elem.VR not in LONG_VRS
    start = 8 if flags[0] or undefined else 12
    value = data[start:]
    return RawDataElement(elem.tag, elem.VR, len(value), value, 0, flags[0], flags[1])


def encode_strings(vr: str, value: object, codec: str | None) -> bytes | None:
    """The bytes pydicom writes for a string ``value`` of ``vr``, or None if not exact."""
    return _encode_strings(vr, value, codec)


def _encode_strings(vr: str, value: object, codec: str | None) -> bytes | None:
    """The bytes pydicom writes for a string ``value`` of ``vr``, or None if not exact.

    pydicom joins multiple values with a backslash, encodes text VRs with the data
    set's character set (ASCII VRs with ISO 8859-1) and pads to even length: UI with
    NUL, everything else with a space (PS3.5 6.2).
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | MultiValue) and all(isinstance(v, str) for v in value):
        text = "\\".join(value)
    else:
        return None
    if vr in _ASCII_VRS:
        codec = "latin-1"
    elif vr not in _TEXT_VRS or codec is None:
        return None
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        return None  # pydicom replaces or raises per its settings: let it decide
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return data


def set_string_value(
    ds: Dataset, tag: int, vr: str, value: Any, codec: str | None, flags: tuple[bool, bool]
) -> None:
    """Set ``ds[tag]`` to ``value`` of ``vr``: as raw bytes where exact, else a DataElement."""
    data = _encode_strings(vr, value, codec)
    if data is None:
        ds[tag] = DataElement(tag, vr, value)
    else:
        put_raw(ds, tag, vr, data, flags)


def is_decodable(vr: str, codec: str | None) -> bool:
    """Whether :func:`decode_text` reads values of ``vr`` exactly as pydicom would."""
    return vr in _ASCII_VRS or (vr in _TEXT_VRS and codec is not None)


def decode_text(data: bytes, vr: str, codec: str | None) -> str | list[str]:
    """The value pydicom gives the raw bytes of a string VR (see :func:`is_decodable`):
    one string, or a list for several backslash-separated values."""
    text = data.decode(codec or "latin-1", "replace")
    if vr in _SINGLE_VALUED:
        return text.rstrip(" \x00")
    parts = [p.strip(" \x00") for p in text.split("\\")]
    return parts[0] if len(parts) == 1 else parts


class ElementView:
    """The parts of a DataElement the engine uses, decoded lazily and cheaply."""

    __slots__ = ("VR", "_codec", "_ds", "_elem", "_flags", "_int_tag", "_raw", "_value", "tag")

    def __init__(
        self,
        ds: Dataset,
        tag: BaseTag,
        codec: str | None,
        raw: Element | None = None,
        flags: tuple[bool, bool] = (False, True),
    ) -> None:
        self._ds = ds
        self.tag = tag  # the key object of ``ds``: the same object looks up fastest
        self._int_tag = int(tag)
        self._codec = codec
        self._flags = flags
        self._elem: DataElement | None = None
        self._value: Any = _UNSET
        if raw is None:
            raw = elements(ds)[tag]
        self._raw = raw
        vr = effective_vr(raw.VR, self._int_tag)
        if vr is None or len(vr) != 2 or not raw.is_raw or raw.VR == "UN":
            # Unknown or ambiguous VR, or already converted: let pydicom decide.
            self._elem = ds[tag]
            vr = self._elem.VR
        self.VR: str = vr

    @property
    def keyword(self) -> str:
        return keyword(self._int_tag)

    def _decodable(self) -> bool:
        return is_decodable(self.VR, self._codec)

    @property
    def value(self) -> Any:
        if self._value is not _UNSET:
            return self._value
        if self._elem is None and self._decodable():
            data = self._raw.value or b""
            assert isinstance(data, bytes)
            value = decode_text(data, self.VR, self._codec)
            self._value = value
            return value
        if self._elem is None:
            self._elem = self._ds[self.tag]
        self._value = self._elem.value
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        data = _encode_strings(self.VR, new, self._codec)
        if data is None:
            elem = DataElement(self.tag, self.VR, new)
            self._ds[self.tag] = elem
            self._elem = elem
            self._value = elem.value
            return
        put_raw(self._ds, self.tag, self.VR, data, self._flags)
        self._elem = None
        self._value = new

    def element(self) -> DataElement:
        """The converted pydicom element (for sequences and binary values)."""
        if self._elem is None:
            self._elem = self._ds[self.tag]
        return self._elem


class _Unset:
    pass


_UNSET: Final = _Unset()


# -- writing ---------------------------------------------------------------------------
# encode_file mirrors pydicom 3's dcmwrite/write_dataset/write_data_element for the common
# case (the data set's encoding is its transfer syntax's), writing raw elements and
# sequences itself and handing every other element to pydicom's own element writer, so
# the bytes are pydicom's. Anything unusual returns None and the caller uses save_as.

#: VRs pydicom writes with ``write_string`` when their value is text (DS and IS keep
#: their original strings, so they are left to pydicom).
_WRITE_STRING_VRS: Final = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI"})
_PIXEL_DATA: Final = 0x7FE00010


class _Packer:
    """Element headers for one encoding, as pydicom writes them (PS3.5 7.1)."""

    def __init__(self, implicit: bool, little: bool) -> None:
        layouts = header_structs(little)
        self.implicit = implicit
        self.little = little
        self.short = layouts.short.pack
        self.long = layouts.long.pack
        self.plain = layouts.marker.pack
        self.us = struct.Struct("<H" if little else ">H").pack

    def header(self, tag: int, vr: str, length: int) -> bytes:
        if self.implicit:
            return self.plain(tag >> 16, tag & 0xFFFF, length)
        if vr in LONG_VRS:
            return self.long(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)
        return self.short(tag >> 16, tag & 0xFFFF, vr.encode("ascii"), length)

    def marker(self, tag: int, length: int) -> bytes:
        return self.plain(tag >> 16, tag & 0xFFFF, length)


_META_PACKER: Final = _Packer(False, True)


def _pydicom_element(pk: _Packer, elem: Element, encodings: Any) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = pk.implicit, pk.little
    write_data_element(buffer, elem, encodings)
    return buffer.getvalue()


def _raw_is_plain(pk: _Packer, raw: RawDataElement) -> bool:
    """Whether pydicom would write ``raw`` as header + its bytes with nothing else to do."""
    if raw.value is None or (raw.length == UNDEFINED_LENGTH and raw.tag == _PIXEL_DATA):
        return False  # deferred value; encapsulation check
    if pk.implicit:
        return True
    vr = raw.VR
    if vr is None or len(vr) != 2:
        return False  # pydicom raises: the caller's fallback decodes and retries
    if vr in LONG_VRS:
        return True
    return raw.length != UNDEFINED_LENGTH and len(raw.value) <= 0xFFFF  # else written as UN


def _write_element(out: list[bytes], pk: _Packer, elem: Element, encodings: Any) -> None:
    if isinstance(elem, RawDataElement):
        if _raw_is_plain(pk, elem):
            value = elem.value
            assert isinstance(value, bytes)
            undefined = elem.length == UNDEFINED_LENGTH
            out.append(
                pk.header(elem.tag, elem.VR or "", UNDEFINED_LENGTH if undefined else len(value))
            )
            out.append(value)
            if undefined:
                out.append(pk.marker(SEQUENCE_END, 0))
        else:
            out.append(_pydicom_element(pk, elem, encodings))
    elif elem.VR == "SQ" and not elem.is_buffered:
        _write_sequence(out, pk, elem, encodings)
    else:
        data = _value_bytes(elem, pk)
        if data is None or (not pk.implicit and elem.VR not in LONG_VRS and len(data) > 0xFFFF):
            out.append(_pydicom_element(pk, elem, encodings))
        else:
            out.append(pk.header(elem.tag, elem.VR or "", len(data)))
            out.append(data)


def _value_bytes(elem: Element, pk: _Packer) -> bytes | None:
    """pydicom's encoding of a converted element's value for the simple cases, else None.

    Those are ASCII text (``write_string``), whole OB/OW bytes such as native pixel
    data (``write_OBvalue``: padded with a NUL) and a single US number
    (``write_numbers``); pydicom's writer would otherwise be most of the cost.
    """
    if isinstance(elem, RawDataElement) or elem.value is None:
        return None
    vr, value = elem.VR, elem.value
    if vr in _WRITE_STRING_VRS:
        return _encode_strings(vr, value, None)
    if vr in ("OB", "OW") and type(value) is bytes and not elem.is_undefined_length:
        return value + b"\x00" if len(value) % 2 else value
    if vr == "US" and type(value) is int and 0 <= value <= 0xFFFF:
        return pk.us(value)
    return None


def _write_sequence(out: list[bytes], pk: _Packer, elem: DataElement, encodings: Any) -> None:
    body: list[bytes] = []
    items_encoding = convert_encodings(encodings or [default_encoding])
    for item in elem.value or ():
        content: list[bytes] = []
        _write_dataset(content, pk, item, items_encoding)
        if getattr(item, "is_undefined_length_sequence_item", False):
            body.append(pk.marker(ITEM, UNDEFINED_LENGTH))
            body.extend(content)
            body.append(pk.marker(ITEM_END, 0))
        else:
            body.append(pk.marker(ITEM, sum(map(len, content))))
            body.extend(content)
    if elem.is_undefined_length:
        out.append(pk.header(elem.tag, "SQ", UNDEFINED_LENGTH))
        out.extend(body)
        out.append(pk.marker(SEQUENCE_END, 0))
    else:
        out.append(pk.header(elem.tag, "SQ", sum(map(len, body))))
        out.extend(body)


def _write_dataset(out: list[bytes], pk: _Packer, ds: Dataset, parent_encoding: Any) -> None:
    """Append the encoding of ``ds`` (no group lengths past group 6) to ``out``."""
    if (
        ds.original_encoding != (pk.implicit, pk.little)
        or ds.original_character_set != ds._character_set
    ):
        # pydicom converts every element of such a data set: let it.
        buffer = DicomBytesIO()
        buffer.is_implicit_VR, buffer.is_little_endian = pk.implicit, pk.little
        pydicom_write_dataset(buffer, ds, parent_encoding)
        out.append(buffer.getvalue())
        return
    encodings = ds.get("SpecificCharacterSet", parent_encoding)
    items = elements(ds)
    for tag in sorted(items):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue
        _write_element(out, pk, items[tag], encodings)


_META_REQUIRED: Final = (0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013)


def _uid_text(elem: Element | None) -> str | None:
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, bytes):
        return value.decode("latin-1").strip("\x00 ")
    return str(value) if value is not None else None


def uid_of(ds: Dataset, tag: int) -> str | None:
    """The text of the UID element ``tag`` of ``ds`` (None when absent or empty), read
    from its raw bytes when pydicom has not converted it."""
    return (_uid_text(elements(ds).get(BaseTag(tag))) or "").strip() or None


def _has_value(elem: Element) -> bool:
    """Whether ``elem`` is raw or ASCII text (written by us), and not empty."""
    return bool(elem.value) if elem.is_raw else bool(_value_bytes(elem, _META_PACKER))


def _meta_bytes(ds: Dataset, tsyntax: UID) -> bytes:
    """The file meta group exactly as ``dcmwrite(..., enforce_file_format=True)`` writes it.

    A group of raw elements, as read or as built by ``rewrite_file_meta``, that already
    holds everything pydicom would add or update is written directly.
    """
    meta = elements(ds.file_meta)
    items = elements(ds)
    if (
        ds.file_meta.original_encoding == (False, True)
        and all(tag >> 16 == 2 and _has_value(elem) for tag, elem in meta.items())
        and all(tag in meta for tag in _META_REQUIRED)
        and _uid_text(meta[BaseTag(0x00020002)]) == _uid_text(items.get(BaseTag(0x00080016)))
        and _uid_text(meta[BaseTag(0x00020003)]) == _uid_text(items.get(BaseTag(0x00080018)))
    ):
        pk = _META_PACKER
        body: list[bytes] = []
        for tag in sorted(meta):
            if tag != 0x00020000:
                _write_element(body, pk, meta[tag], None)
        length = sum(map(len, body))
        return b"".join([pk.header(0x00020000, "UL", 4), struct.pack("<L", length), *body])
    return _pydicom_meta_bytes(ds, tsyntax)


def _pydicom_meta_bytes(ds: Dataset, tsyntax: UID) -> bytes:
    file_meta = deepcopy(ds.file_meta)  # pydicom's own steps, on a copy as it does
    meta_class = file_meta.get("MediaStorageSOPClassUID", None)
    ds_class = ds.get("SOPClassUID", None)
    if meta_class is None or (ds_class and ds_class != meta_class):
        file_meta.MediaStorageSOPClassUID = ds_class
    meta_instance = file_meta.get("MediaStorageSOPInstanceUID", None)
    ds_instance = ds.get("SOPInstanceUID", None)
    if meta_instance is None or (ds_instance and ds_instance != meta_instance):
        file_meta.MediaStorageSOPInstanceUID = ds_instance
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = False, True  # PS3.10 7.1
    write_file_meta_info(buffer, file_meta, enforce_standard=True)
    return buffer.getvalue()


def _file_syntax(ds: Dataset) -> tuple[UID, _Packer] | None:
    """The transfer syntax ``ds`` is written in and its packer, when this module can."""
    meta = getattr(ds, "file_meta", None)
    tsyntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if (
        tsyntax is None
        or tsyntax.is_private
        or not tsyntax.is_transfer_syntax
        or tsyntax == DeflatedExplicitVRLittleEndian
        or (tsyntax.is_implicit_VR and not tsyntax.is_little_endian)
    ):
        return None
    pk = _Packer(tsyntax.is_implicit_VR, tsyntax.is_little_endian)
    preamble = getattr(ds, "preamble", None) or b"\x00" * 128
    if (
        ds.original_encoding != (pk.implicit, pk.little)
        or any(tag >> 16 in (0, 2) for tag in elements(ds))
        or len(preamble) != 128
    ):
        return None
    return tsyntax, pk


def _set_pixel_length_form(ds: Dataset, tsyntax: UID) -> None:
    """PS3.5 A.4: dcmwrite sets the length of PixelData (defined or undefined) from the
    transfer syntax. A raw native value that already has the defined, even length it
    would get is left raw (converting 512 KiB of pixels only to write them back)."""
    raw = elements(ds).get(BaseTag(_PIXEL_DATA))
    if raw is None:
        return
    if (
        isinstance(raw, RawDataElement)
        and not tsyntax.is_compressed
        and raw.length != UNDEFINED_LENGTH
        and raw.value is not None
        and len(raw.value) == raw.length
        and raw.length % 2 == 0
    ):
        return
    ds["PixelData"].is_undefined_length = tsyntax.is_compressed


def encode_file_parts(ds: Dataset) -> list[bytes] | None:
    """``ds`` as a DICOM file, as ``save_as(enforce_file_format=True)`` writes it, in
    pieces to be written one after the other (values such as the pixel data are the
    data set's own bytes objects, not copies).

    Returns None when pydicom would convert elements (the data set's encoding or
    character set differ from what it is written in), for deflated and private
    transfer syntaxes, and for anything ``save_as`` would refuse: the caller then uses
    ``save_as``, which also raises the errors.
    """
    syntax = _file_syntax(ds)
    if syntax is None:
        return None
    tsyntax, pk = syntax
    _set_pixel_length_form(ds, tsyntax)
    out = [getattr(ds, "preamble", None) or b"\x00" * 128, b"DICM", _meta_bytes(ds, tsyntax)]
    _write_dataset(out, pk, ds, default_encoding)
    return out


def encode_file(ds: Dataset) -> bytes | None:
    """:func:`encode_file_parts` joined into one bytes object."""
    parts = encode_file_parts(ds)
    return None if parts is None else b"".join(parts)


# -- writing to a file, values left on disk ----------------------------------------------
# A file read with ``defer_size`` keeps large values (pixel data, big OB/OW) as raw
# elements whose value is None; pydicom would read each whole into memory to write it.
# write_file writes the bytes encode_file would, copying those values from the source
# in chunks, so memory stays bounded whatever the file's size.

#: Deferred values are copied in pieces of this size.
COPY_CHUNK: Final = 2**20
_OB_OW: Final = frozenset({"OB", "OW"})


@dataclass(frozen=True)
class _Span:
    """A deferred value written as: ``head``, the source's bytes ``[start, start +
    length)``, then ``tail`` (a pad byte or the sequence delimiter)."""

    head: bytes
    start: int
    length: int
    tail: bytes


def write_file(ds: Dataset, out: BinaryIO, source: BinaryIO) -> bool:
    """Write the bytes :func:`~dicomscrub.pipeline.write_dataset` returns for ``ds`` to
    ``out``, copying deferred values from ``source`` (the file ``ds`` was read from).

    Returns False, having written nothing, when :func:`encode_file` would not encode
    ``ds`` or a deferred value is not one whose bytes are known without reading it; the
    caller then loads it all and uses ``write_dataset``.
    """
    syntax = _file_syntax(ds)
    if syntax is None or ds.original_character_set != ds._character_set:
        return False
    tsyntax, pk = syntax
    items = elements(ds)
    deferred = [
        tag
        for tag, elem in items.items()
        if isinstance(elem, RawDataElement) and elem.value is None and elem.length
    ]
    try:
        parts = _file_parts(ds, pk, tsyntax, source, deferred)
    except TypeError:
        # encode_file raises it too for an empty raw value pydicom read as None, and
        # write_dataset then uses save_as, which converts exactly those elements.
        _convert_empty(ds)
        try:
            parts = _file_parts(ds, pk, tsyntax, source, deferred)
        except TypeError:
            return False  # an explicit element without a VR: write_dataset decodes all
    if parts is None:
        return False
    for part in parts:
        if isinstance(part, bytes):
            out.write(part)
        else:
            out.write(part.head)
            _copy(source, out, part.start, part.length)
            out.write(part.tail)
    return True


def _file_parts(
    ds: Dataset,
    pk: _Packer,
    tsyntax: UID,
    source: BinaryIO,
    deferred: list[BaseTag],
) -> list[bytes | _Span] | None:
    """The file as the bytes of its header and spans of deferred values; None if a span
    cannot be known without reading the value."""
    items = elements(ds)
    size = source.seek(0, io.SEEK_END)
    spans: dict[int, _Span] = {}
    for tag in deferred:
        raw = items[BaseTag(tag)]
        assert isinstance(raw, RawDataElement)
        span = _deferred_span(pk, raw, source, size, tsyntax.is_compressed)
        if span is None:
            return None
        spans[tag] = span
    if _PIXEL_DATA not in spans:
        _set_pixel_length_form(ds, tsyntax)
    preamble = getattr(ds, "preamble", None) or b"\x00" * 128
    parts: list[bytes | _Span] = [preamble + b"DICM" + _meta_bytes(ds, tsyntax)]
    pending: list[bytes] = []
    encodings = ds.get("SpecificCharacterSet", default_encoding)
    for tag in sorted(items):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:
            continue
        span = spans.get(tag)
        if span is None:
            _write_element(pending, pk, items[tag], encodings)
            continue
        parts.append(b"".join(pending))
        parts.append(span)
        pending = []
    parts.append(b"".join(pending))
    return parts


def _convert_empty(ds: Dataset) -> None:
    """Convert the raw elements of ``ds`` and its items whose value pydicom read as None
    (empty IS and DS), as ``save_as`` does when it writes them."""
    for tag, elem in list(elements(ds).items()):
        if isinstance(elem, RawDataElement):
            if elem.value is None and not elem.length:
                ds.__getitem__(tag)  # converting is the point
        elif elem.VR == "SQ" and not elem.is_buffered:
            for item in elem.value or ():
                _convert_empty(item)


def _deferred_span(
    pk: _Packer,
    raw: RawDataElement,
    source: BinaryIO,
    size: int,
    compressed: bool,
) -> _Span | None:
    """How :func:`encode_file` writes the deferred ``raw``, or None if that needs its value.

    A defined-length value other than PixelData is written as read (``_raw_is_plain``).
    PixelData is converted by encode_file: native data is written with a NUL pad to
    even length, encapsulated data (undefined length) with its sequence delimiter.
    """
    vr = raw.VR or ""
    if raw.length != UNDEFINED_LENGTH:
        if raw.value_tell + raw.length > size:
            return None
        if raw.tag != _PIXEL_DATA:
            return _Span(pk.header(raw.tag, vr, raw.length), raw.value_tell, raw.length, b"")
        if compressed or not (vr in _OB_OW or pk.implicit):
            return None
        pad = raw.length % 2
        head = pk.header(raw.tag, vr, raw.length + pad)
        return _Span(head, raw.value_tell, raw.length, b"\x00" * pad)
    if raw.tag != _PIXEL_DATA or not compressed or vr not in _OB_OW:
        return None
    length = _encapsulated_length(source, raw.value_tell, size, pk)
    if length is None:
        return None
    head = pk.header(raw.tag, vr, UNDEFINED_LENGTH)
    return _Span(head, raw.value_tell, length, pk.marker(SEQUENCE_END, 0))


def _encapsulated_length(source: BinaryIO, start: int, size: int, pk: _Packer) -> int | None:
    """The length of encapsulated pixel data at ``start``, up to its sequence delimiter.

    Walks the items by their headers, as pydicom does first when it reads the value;
    None when they do not lead to a delimiter (pydicom then scans for its bytes).
    """
    unpack = struct.Struct(("<" if pk.little else ">") + "HHL").unpack
    pos = start
    first = True
    while pos + 8 <= size:
        source.seek(pos)
        group, element, length = unpack(source.read(8))
        tag = group << 16 | element
        if tag == SEQUENCE_END:
            return None if first else pos - start
        if tag != ITEM or length == UNDEFINED_LENGTH:
            return None
        first = False
        pos += 8 + length
    return None


def _copy(source: BinaryIO, out: BinaryIO, start: int, length: int) -> None:
    """Copy ``length`` bytes of ``source`` from ``start`` to ``out``, a chunk at a time."""
    source.seek(start)
    left = length
    while left:
        chunk = source.read(min(COPY_CHUNK, left))
        if not chunk:
            raise EOFError("the source file ended while a deferred value was copied")
        out.write(chunk)
        left -= len(chunk)
