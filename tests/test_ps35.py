"""The shared PS3.5 header layouts match what pydicom writes."""

from __future__ import annotations

import pytest
from pydicom.dataelem import DataElement
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element

from dicomscrub.ps35 import LONG_VRS, header_structs


def _pydicom_bytes(elem: DataElement, *, implicit: bool, little: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = little, implicit
    write_data_element(buffer, elem)
    return buffer.getvalue()


@pytest.mark.parametrize("little", [True, False])
@pytest.mark.parametrize(
    ("tag", "vr", "value"),
    [
        (0x00100010, "PN", "DOE^JANE"),
        (0x7FE00010, "OB", b"\x01\x02\x03\x04"),
        (0x00081030, "UT", "x"),
    ],
)
def test_explicit_headers_are_pydicoms(tag: int, vr: str, value: object, little: bool) -> None:
    written = _pydicom_bytes(DataElement(tag, vr, value), implicit=False, little=little)
    layouts = header_structs(little)
    layout = layouts.long if vr in LONG_VRS else layouts.short
    group, element, raw_vr, length = layout.unpack_from(written)
    assert (group << 16 | element, raw_vr.decode(), length) == (tag, vr, len(written) - layout.size)


@pytest.mark.parametrize("little", [True, False])
def test_implicit_header_is_a_marker(little: bool) -> None:
    written = _pydicom_bytes(DataElement(0x00100020, "LO", "ID42"), implicit=True, little=little)
    group, element, length = header_structs(little).marker.unpack_from(written)
    assert (group << 16 | element, length) == (0x00100020, len(written) - 8)
