"""Synthetic PHI-bearing DICOM: valid objects, PHI everywhere, deterministic."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.datadict import DicomDictionary
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLSLossless,
    RLELossless,
    UID_dictionary,
)

from dicomscrub.synthetic import _pools
from tests.factories import (
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    SOP_CLASSES,
    find_phi,
    make_corpus,
    make_dataset,
    make_patients,
    planted_phi,
    save,
    write_phi_file,
    write_series,
)

MODALITIES = ["CT", "MR"]


def test_make_patients_is_deterministic_and_prefix_stable() -> None:
    assert make_patients(4, seed=7) == make_patients(4, seed=7)
    assert make_patients(1, seed=7)[0] == make_patients(4, seed=7)[0]
    assert make_patients(3, seed=7) != make_patients(3, seed=8)


def test_make_patients_are_distinct() -> None:
    people = make_patients(len(_pools.PATIENT_FAMILY_NAMES), seed=3)
    given = [p.given_name for p in people[: len(_pools.PATIENT_GIVEN_NAMES)]]
    assert len(set(given)) == len(given)
    for attribute in ("family_name", "patient_id", "address", "phone"):
        values = [getattr(p, attribute) for p in people]
        assert len(set(values)) == len(values), attribute
    accessions = [a for p in people for a in p.accession_numbers]
    assert len(set(accessions)) == len(accessions)
    staff = [(p.referring_physician, p.performing_physician, p.operator) for p in people]
    assert all(len({s.split("^")[0] for s in trio}) == 3 for trio in staff)


@pytest.mark.parametrize("n", [-1, len(_pools.PATIENT_FAMILY_NAMES) + 1])
def test_make_patients_rejects_impossible_counts(n: int) -> None:
    with pytest.raises(ValueError):
        make_patients(n)


def test_patient_values_fit_their_value_representations() -> None:
    for p in make_patients(10, seed=1):
        assert p.name.count("^") == 2
        assert len(p.patient_id) <= 64
        assert len(p.phone) <= 16
        assert all(len(a) <= 16 for a in p.accession_numbers)
        assert len(p.institution_ae) <= 16
        assert p.study_dates[0] < p.study_dates[1]
        assert p.birth_date < p.study_dates[0]
        assert p.age_at(0).endswith("Y")
        assert p.sex == ("F" if p.given_name in _pools.FEMALE_GIVEN_NAMES else "M")


def test_pool_names_never_match_standard_dicom_text() -> None:
    # A de-identified file still holds keywords, code meanings and UID names; planted
    # names must not collide with them, or find_phi would report PHI that is not there.
    standard = " ".join(
        [str(entry[2]) + " " + str(entry[4]) for entry in DicomDictionary.values()]
        + [str(entry[0]) for entry in UID_dictionary.values()]
    ).lower()
    names = (
        _pools.PATIENT_FAMILY_NAMES
        + _pools.PATIENT_GIVEN_NAMES
        + _pools.STAFF_FAMILY_NAMES
        + _pools.STAFF_GIVEN_NAMES
    )
    assert [n for n in names if n.lower() in standard] == []


@pytest.mark.parametrize("modality", MODALITIES)
def test_dataset_is_a_valid_image_that_rereads(tmp_path: Path, modality: str) -> None:
    path, patient = write_phi_file(tmp_path, modality=modality, rows=48, columns=40)
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == SOP_CLASSES[modality]
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.PatientName == patient.name
    assert ds.pixel_array.shape == (48, 40)
    assert ds.pixel_array.dtype == (np.int16 if modality == "CT" else np.uint16)
    assert len(ds.ImageOrientationPatient) == 6
    assert len(ds.ImagePositionPatient) == 3
    assert ds.FrameOfReferenceUID
    if modality == "CT":
        assert (ds.RescaleSlope, ds.RescaleIntercept) == (1, -1024)
        assert ds.KVP == 120
    else:
        assert ds.RepetitionTime > ds.EchoTime > 0
        assert int(ds.pixel_array.max()) < 2**ds.BitsStored


@pytest.mark.parametrize("modality", MODALITIES)
def test_dciodvfy_reports_no_errors(tmp_path: Path, modality: str) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (Debian package dicom3tools) is needed: make .stamp-system"
    path, _ = write_phi_file(tmp_path, modality=modality)
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    assert ("CTImage" if modality == "CT" else "MRImage") in output
    assert [ln for ln in output.splitlines() if ln.startswith("Error")] == []


def test_dcmdump_reads_every_planted_place(tmp_path: Path) -> None:
    tool = shutil.which("dcmdump")
    assert tool, "dcmdump (Debian package dcmtk) is needed: make .stamp-system"
    path, patient = write_phi_file(tmp_path)
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True)
    assert f"[{PRIVATE_CREATOR}]" in result.stdout
    assert "EquivalentCodeSequence" in result.stdout
    assert f"[{patient.institution_ae}]" in result.stdout  # SourceApplicationEntityTitle


def test_phi_sits_in_nested_private_and_meta_places() -> None:
    patient = make_patients(1)[0]
    ds = make_dataset(patient)
    person = ds.ReferringPhysicianIdentificationSequence[0].PersonIdentificationCodeSequence[0]
    assert person.EquivalentCodeSequence[0].CodeMeaning == patient.referring_physician
    request = ds.RequestAttributesSequence[0]
    assert request.AccessionNumber == patient.accession_numbers[0]
    assert request.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == list(patient.other_ids)
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    assert block[0x01].value == patient.name
    assert block[0x10].value[0].PatientName == patient.name
    assert ds.file_meta.SourceApplicationEntityTitle == patient.institution_ae
    assert patient.name.split("^")[0] in ds.StudyDescription
    assert patient.patient_id in ds.ImageComments and patient.phone in ds.ImageComments
    assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID != ds.SOPInstanceUID


@pytest.mark.parametrize("study_index", [0, 1])
def test_find_phi_finds_every_planted_string(tmp_path: Path, study_index: int) -> None:
    path, patient = write_phi_file(tmp_path, study_index=study_index)
    strings = planted_phi(patient, study_index=study_index)
    assert find_phi(path.read_bytes(), strings) == strings


def test_plant_everywhere_off_plants_only_the_essentials(tmp_path: Path) -> None:
    path, patient = write_phi_file(tmp_path, plant_everywhere=False)
    found = find_phi(path.read_bytes(), planted_phi(patient, study_index=0))
    assert patient.patient_id in found and patient.name in found
    assert patient.address not in found and patient.operator not in found


def test_find_phi_ignores_case_and_short_strings() -> None:
    data = b"\x00\x01HARTMANN^GRETA\x00F\x00"
    assert find_phi(data, ["hartmann", "Greta", "F", "ACC", "OYELARAN"]) == [
        "hartmann",
        "Greta",
    ]


def test_planted_phi_of_all_studies_covers_each_study() -> None:
    patient = make_patients(1)[0]
    every = planted_phi(patient)
    assert set(planted_phi(patient, study_index=0)) | set(planted_phi(patient, study_index=1)) == (
        set(every)
    )
    assert len(every) == len(set(every))


@pytest.mark.parametrize(
    "syntax",
    [
        ImplicitVRLittleEndian,
        ExplicitVRLittleEndian,
        DeflatedExplicitVRLittleEndian,
        RLELossless,
        JPEGLSLossless,
        JPEG2000Lossless,
    ],
)
@pytest.mark.parametrize("modality", MODALITIES)
def test_pixels_survive_every_transfer_syntax(tmp_path: Path, syntax: str, modality: str) -> None:
    path, patient = write_phi_file(tmp_path, modality=modality, transfer_syntax=syntax)
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == syntax
    expected = make_dataset(patient, modality=modality).pixel_array
    np.testing.assert_array_equal(ds.pixel_array, expected)


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    first, _ = write_phi_file(tmp_path, name="a.dcm", seed=5)
    second, _ = write_phi_file(tmp_path, name="b.dcm", seed=5)
    other, _ = write_phi_file(tmp_path, name="c.dcm", seed=6)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_images_look_like_anatomy() -> None:
    patient = make_patients(1)[0]
    ct = make_dataset(patient, modality="CT", rows=128, columns=128)
    hu = ct.pixel_array.astype(np.int32) + int(ct.RescaleIntercept)
    assert hu[0, 0] == -1000  # air outside the body
    assert -100 < hu[64, 64] < 150  # soft tissue at the centre
    assert (hu > 500).any()  # bone
    # Smooth: neighbouring pixels differ little inside the body, unlike noise.
    assert np.median(np.abs(np.diff(hu[40:90, 40:90], axis=1))) < 10
    slices = [make_dataset(patient, instance_number=i).pixel_array for i in (1, 9)]
    assert not np.array_equal(*slices)


def test_write_series_shares_series_and_orders_instances(tmp_path: Path) -> None:
    patient = make_patients(1)[0]
    paths = write_series(tmp_path / "s", patient, n=4, modality="MR")
    assert [p.name for p in paths] == ["IM0001.dcm", "IM0002.dcm", "IM0003.dcm", "IM0004.dcm"]
    datasets = [pydicom.dcmread(p) for p in paths]
    assert len({d.SeriesInstanceUID for d in datasets}) == 1
    assert len({d.SOPInstanceUID for d in datasets}) == 4
    assert [d.InstanceNumber for d in datasets] == [1, 2, 3, 4]
    positions = [d.ImagePositionPatient[2] for d in datasets]
    assert positions == sorted(positions)


def test_make_corpus_has_the_promised_shape(tmp_path: Path) -> None:
    manifest = make_corpus(tmp_path / "in")
    assert len(manifest.patients) >= 3
    assert len(manifest.series) >= 4
    assert len(manifest.paths) >= 40
    assert {s.modality for s in manifest.series} == {"CT", "MR"}
    assert len(set(manifest.series_uids)) == len(manifest.series)
    sop_uids = set()
    for entry in manifest.series:
        for path in entry.paths:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            assert ds.SeriesInstanceUID == entry.series_uid
            assert ds.StudyInstanceUID == entry.study_uid
            assert ds.PatientID == manifest.patient_of(path).patient_id
            sop_uids.add(ds.SOPInstanceUID)
    assert len(sop_uids) == len(manifest.paths)
    # Each patient's PHI shows up in the corpus; the manifest's JSON carries none of it.
    every_byte = b"".join(p.read_bytes() for p in manifest.paths)
    assert find_phi(every_byte, manifest.phi_strings()) == manifest.phi_strings()
    assert find_phi(manifest.to_json().encode(), manifest.phi_strings()) == []
    assert json.loads(manifest.to_json())["patients"] == len(manifest.patients)


def test_save_creates_folders(tmp_path: Path) -> None:
    ds = make_dataset(make_patients(1)[0])
    path = save(ds, tmp_path / "a" / "b" / "x.dcm")
    assert pydicom.dcmread(path).SOPInstanceUID == ds.SOPInstanceUID
