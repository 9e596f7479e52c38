"""The pipeline's own writer: the bytes pydicom's save_as writes, faster."""

from __future__ import annotations

import copy
import io
from pathlib import Path

import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataelem import RawDataElement
from pydicom.uid import ImplicitVRLittleEndian

from dicomscrub.errors import FileError
from dicomscrub.fastvalues import elements, encode_file
from dicomscrub.pipeline import read_dataset, scrub_bytes, scrub_dataset, write_dataset
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Policy
from tests.factories import make_dataset, make_patients

KEY = b"pipeline-test-key-0123456789abcd"
BUNDLED = sorted({Path(p) for p in get_testdata_files("*.dcm")})


def _save_as(ds: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "options", [frozenset(), frozenset({Option.RETAIN_SAFE_PRIVATE, Option.RETAIN_UIDS})]
)
def test_encode_file_writes_what_save_as_writes(path: Path, options: frozenset[Option]) -> None:
    try:
        ds = read_dataset(path.read_bytes())
        scrub_dataset(ds, Policy(key=KEY, options=options))
    except FileError:
        pytest.skip("refused with a code (tested in test_bundled_files)")
    twin = copy.deepcopy(ds)
    try:
        fast = encode_file(ds)
    except TypeError:
        pytest.skip("an element without a VR: write_dataset decodes and uses save_as")
    if fast is None:
        return  # save_as writes it
    assert fast == _save_as(twin)


def test_a_read_file_written_unchanged_is_its_own_bytes_after_the_meta() -> None:
    path = Path(get_testdata_file("CT_small.dcm"))
    ds = read_dataset(path.read_bytes())
    assert encode_file(ds) == _save_as(copy.deepcopy(read_dataset(path.read_bytes())))


def test_a_data_set_encoded_unlike_its_syntax_is_left_to_pydicom() -> None:
    ds = read_dataset(Path(get_testdata_file("CT_small.dcm")).read_bytes())
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    assert encode_file(ds) is None
    out = pydicom.dcmread(io.BytesIO(write_dataset(ds)))
    assert out.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    assert out.Rows == 128


def test_replaced_values_are_stored_as_encoded_padded_bytes() -> None:
    ds = read_dataset(Path(get_testdata_file("CT_small.dcm")).read_bytes())
    scrub_dataset(ds, Policy(key=KEY))
    study = elements(ds)[pydicom.tag.BaseTag(0x0020000D)]
    assert isinstance(study, RawDataElement)
    assert study.value is not None and len(study.value) % 2 == 0
    assert ds.StudyInstanceUID.startswith("2.25.")
    assert isinstance(elements(ds)[pydicom.tag.BaseTag(0x00120064)], RawDataElement)
    assert ds.DeidentificationMethodCodeSequence[0].CodeValue == "113100"


def test_unchanged_elements_keep_their_original_bytes() -> None:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    out, _ = scrub_bytes(data, Policy(key=KEY))
    source, result = pydicom.dcmread(io.BytesIO(data)), pydicom.dcmread(io.BytesIO(out))
    # ImagePositionPatient, KVP, Rows, SliceThickness
    for tag in (0x00200032, 0x00180060, 0x00280010, 0x00180050):
        before, after = source.get_item(tag), result.get_item(tag)
        assert before is not None and after is not None
        assert after.value == before.value


def test_the_change_count_matches_the_detailed_actions() -> None:
    data = Path(get_testdata_file("MR_small.dcm")).read_bytes()
    _, result = scrub_bytes(data, Policy(key=KEY))
    assert result.header is not None
    actions = result.header.actions
    assert result.header.changed == sum(1 for a in actions if a.changed) > 0
    assert len(actions) == len(result.header.records)
    kept = [a for a in actions if a.keyword == "Rows"]
    assert kept and kept[0].action == "K" and not kept[0].changed


def _element_ends(data: bytes) -> set[int]:
    """Byte offsets where a top-level element (or the file meta) ends."""
    from pydicom.filereader import data_element_generator

    ds = pydicom.dcmread(io.BytesIO(data))
    meta_end = 132 + 12 + int(ds.file_meta.FileMetaInformationGroupLength)
    ts = ds.file_meta.TransferSyntaxUID
    fp = io.BytesIO(data)
    fp.seek(meta_end)
    ends = {meta_end}
    for raw in data_element_generator(fp, ts.is_implicit_VR, ts.is_little_endian):
        ends.add(raw.value_tell + raw.length)
    return ends


@settings(max_examples=80, deadline=None)
@given(fraction=st.floats(min_value=0.0, max_value=0.999))
def test_a_cut_file_is_never_scrubbed_as_whole(fraction: float) -> None:
    patient = make_patients(1, 3)[0]
    raw = io.BytesIO()
    make_dataset(patient, rows=16, columns=16, seed=3).save_as(raw, enforce_file_format=True)
    data = raw.getvalue()
    cut = 132 + int((len(data) - 132) * fraction)
    try:
        scrub_bytes(data[:cut], Policy(key=b"k" * 32))
    except FileError as exc:
        assert exc.code in {"truncated", "not-dicom", "missing-sop-uid", "missing-sop-class"}
        return
    # Only a cut exactly between two elements looks like a complete (smaller) file.
    assert cut in _element_ends(data)
