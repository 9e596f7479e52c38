"""Say where in a DICOM file planted PHI strings are, by element path (never by value)."""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from dicomscrub.synthetic.phi_scan import find_phi

__all__ = ["OUTSIDE_ELEMENTS", "locate_phi"]

#: The place reported for a string found in the bytes but in no parsed element.
OUTSIDE_ELEMENTS = "<bytes outside any parsed element>"


def _name(elem: DataElement) -> str:
    return elem.keyword or f"({elem.tag.group:04X},{elem.tag.element:04X})"


def _holds(elem: DataElement, needles: Sequence[str]) -> bool:
    value = elem.value
    if isinstance(value, bytes):
        raw = value.lower()
        return any(
            n.encode("utf-8") in raw or n.encode("latin-1", "ignore") in raw for n in needles
        )
    text = str(value).lower()
    return any(n in text for n in needles)


def _visit(ds: Dataset, prefix: str, needles: Sequence[str], places: list[str]) -> None:
    for elem in ds:
        path = f"{prefix}{_name(elem)}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                _visit(item, f"{path}[{index}].", needles, places)
        elif _holds(elem, needles):
            places.append(path)


def locate_phi(data: bytes, strings: Sequence[str]) -> list[str]:
    """Return the paths of the elements of ``data`` that contain any of ``strings``.

    Paths look like ``PatientName``, ``FileMeta.SourceApplicationEntityTitle``,
    ``OtherPatientIDsSequence[1].PatientID`` or ``(0009,1001)`` for private elements.
    ``data`` must be a DICOM file with preamble and file meta, as dicomscrub writes
    them; a match that no parsed element explains (bytes that are not such a file, a
    corrupt file, the preamble) is reported as :data:`OUTSIDE_ELEMENTS`. The strings
    themselves are never returned.
    """
    needles = [s.lower() for s in find_phi(data, strings)]
    if not needles:
        return []
    places: list[str] = []
    try:
        ds = pydicom.dcmread(BytesIO(data))
    except (InvalidDicomError, ValueError, EOFError, OSError):
        return [OUTSIDE_ELEMENTS]
    _visit(ds.file_meta, "FileMeta.", needles, places)
    _visit(ds, "", needles, places)
    return places or [OUTSIDE_ELEMENTS]
