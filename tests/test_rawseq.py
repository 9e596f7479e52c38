"""The raw sequence scanner finds what pydicom finds, and refuses what it cannot be sure of."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence

from dicomscrub.fastvalues import elements
from dicomscrub.phi import collect_phi
from dicomscrub.pipeline import read_dataset
from dicomscrub.rawseq import scan_sequence
from dicomscrub.synthetic.patients import make_dataset, make_patients


def _nested() -> Dataset:
    inner = Dataset()
    inner.PatientName = "Inner^Name"
    inner.CodeValue = "123"
    outer = Dataset()
    outer.PersonName = "Outer^Person"
    outer.ContentSequence = Sequence([inner])
    second = Dataset()
    second.PatientID = "ID-42"
    top = Dataset()
    top.ReferencedPatientSequence = Sequence([outer, second])
    return top


def _sequence_bytes(ds: Dataset, *, implicit: bool, little: bool) -> bytes:
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = implicit, little
    write_dataset(fp, ds)
    raw = fp.getvalue()
    header = 8 if implicit else 12
    return raw[header:]  # the value of the one top-level sequence


@pytest.mark.parametrize(
    ("implicit", "little"), [(False, True), (True, True), (False, False)], ids=["ELE", "ILE", "EBE"]
)
def test_scan_lists_elements_at_every_depth_in_walk_order(implicit: bool, little: bool) -> None:
    data = _sequence_bytes(_nested(), implicit=implicit, little=little)
    found = scan_sequence(data, implicit=implicit, little=little)
    assert found is not None
    assert [(tag, vr) for tag, vr, _ in found] == [
        (0x0040A123, "PN"),
        (0x00080100, "SH"),
        (0x00100010, "PN"),
        (0x00100020, "LO"),
    ]
    assert found[0][2].rstrip(b" ") == b"Outer^Person"


def test_scan_follows_undefined_length_items_and_sequences() -> None:
    ds = _nested()
    ds.ReferencedPatientSequence.is_undefined_length = False
    for item in ds.ReferencedPatientSequence:
        item.is_undefined_length_sequence_item = True
    ds.ReferencedPatientSequence[0]["ContentSequence"].is_undefined_length = True
    data = _sequence_bytes(ds, implicit=False, little=True)
    found = scan_sequence(data, implicit=False, little=True)
    assert found is not None
    assert [tag for tag, _, _ in found] == [0x0040A123, 0x00080100, 0x00100010, 0x00100020]


@pytest.mark.parametrize("cut", [1, 4, 9, 20])
def test_scan_of_cut_bytes_is_unsure(cut: int) -> None:
    data = _sequence_bytes(_nested(), implicit=False, little=True)
    assert scan_sequence(data[:-cut], implicit=False, little=True) is None


def test_scan_is_unsure_of_un_private_implicit_and_item_character_sets() -> None:
    item = Dataset()
    item.add_new(0x00090010, "LO", "CREATOR")
    item.add_new(0x00091001, "PN", "Private^Name")
    ds = Dataset()
    ds.ReferencedPatientSequence = Sequence([item])
    # Explicit VR: the private element says what it is.
    explicit = _sequence_bytes(ds, implicit=False, little=True)
    assert scan_sequence(explicit, implicit=False, little=True) is not None
    # Implicit VR: only pydicom's private dictionary could say it is a PN.
    implicit = _sequence_bytes(ds, implicit=True, little=True)
    assert scan_sequence(implicit, implicit=True, little=True) is None
    charset = Dataset()
    charset.SpecificCharacterSet = "ISO_IR 144"
    charset.PatientName = "Name"
    ds.ReferencedPatientSequence = Sequence([charset])
    assert (
        scan_sequence(_sequence_bytes(ds, implicit=False, little=True), implicit=False, little=True)
        is None
    )
    # An element written as UN (pydicom may read it as its dictionary VR).
    element = struct.pack("<HH2s2xL", 0x0010, 0x0010, b"UN", 4) + b"Name"
    item_bytes = struct.pack("<HHL", 0xFFFE, 0xE000, len(element)) + element
    assert scan_sequence(item_bytes, implicit=False, little=True) is None


def _bundled() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sorted(get_testdata_files("*.dcm"))


def _read(path: str) -> pydicom.Dataset | None:
    try:
        return read_dataset(Path(path).read_bytes())
    except Exception:  # files the pipeline refuses are tested in test_bundled_files
        return None


@pytest.mark.parametrize("path", _bundled(), ids=lambda p: Path(p).name)
def test_collect_phi_from_raw_sequences_equals_pydicom_parse(path: str) -> None:
    fast, slow = _read(path), _read(path)
    if fast is None or slow is None:
        pytest.skip("refused by the pipeline (tested in test_bundled_files)")
    assert collect_phi(fast) == collect_phi(slow, scan_raw=False)


def test_collect_phi_leaves_scanned_sequences_unparsed() -> None:
    ds = make_dataset(make_patients(1)[0], rows=8, columns=8)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    fast = read_dataset(buffer.getvalue())
    slow = read_dataset(buffer.getvalue())
    phi = collect_phi(fast)
    assert phi == collect_phi(slow, scan_raw=False)
    assert phi.names and phi.ids
    sequences = [e for e in elements(fast).values() if e.VR == "SQ"]
    assert sequences and all(isinstance(e, RawDataElement) for e in sequences)


def test_collect_phi_of_a_bundled_file_with_sequences_is_unchanged() -> None:
    path = get_testdata_file("rtplan.dcm")
    assert path is not None
    fast, slow = _read(path), _read(path)
    assert fast is not None and slow is not None
    assert collect_phi(fast) == collect_phi(slow, scan_raw=False)
