"""locate_phi: element paths of planted PHI, never values."""

from __future__ import annotations

from pathlib import Path

from dicomscrub.synthetic.locate import OUTSIDE_ELEMENTS, locate_phi
from tests.factories import make_dataset, make_patients, planted_phi, save


def test_locate_phi_names_every_hiding_place(tmp_path: Path) -> None:
    patient = make_patients(1)[0]
    path = save(make_dataset(patient), tmp_path / "a.dcm")
    places = locate_phi(path.read_bytes(), planted_phi(patient))
    for expected in (
        "PatientName",
        "FileMeta.SourceApplicationEntityTitle",
        "OtherPatientIDsSequence[1].PatientID",
        "ReferringPhysicianIdentificationSequence[0].PersonIdentificationCodeSequence[0]"
        ".EquivalentCodeSequence[0].CodeMeaning",
        "(0009,1001)",
        "(0009,1010)[0].PatientName",
        "RequestAttributesSequence[0].AccessionNumber",
        "ImageComments",
    ):
        assert expected in places
    assert not any(patient.family_name.lower() in p.lower() for p in places)


def test_locate_phi_is_empty_without_phi(tmp_path: Path) -> None:
    first, second = make_patients(2)
    path = save(make_dataset(first, plant_everywhere=False), tmp_path / "a.dcm")
    strings = [s for s in planted_phi(second) if s not in planted_phi(first)]
    assert locate_phi(path.read_bytes(), strings) == []


def test_locate_phi_reports_bytes_no_element_explains() -> None:
    assert locate_phi(b"garbage HARTMANN garbage", ["HARTMANN"]) == [OUTSIDE_ELEMENTS]
