"""The header engine: every action code, every option, sequences, private tags, file meta."""

from __future__ import annotations

import copy
import datetime as dt
import io

import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from dicomscrub.header.dates import date_offset
from dicomscrub.header.engine import iter_uid_elements, scrub_header
from dicomscrub.header.uids import is_valid_uid, remap_uid
from dicomscrub.phi import collect_phi
from dicomscrub.pipeline import scrub_bytes, scrub_dataset, write_dataset
from dicomscrub.profile.options import Option
from dicomscrub.profile.policy import Override, PatientEntry, Policy
from dicomscrub.profile.rules import Action, load_rule_table, resolve_action
from tests.factories import find_phi, make_dataset, make_patients, planted_phi

KEY = b"engine-test-key-0123456789abcdef"


def _ds(seed: int = 0, **kw: object) -> FileDataset:
    patient = make_patients(1, seed)[0]
    return make_dataset(patient, seed=seed, **kw)  # type: ignore[arg-type]


def _scrub(ds: Dataset, *options: Option, **policy: object) -> Dataset:
    scrub_dataset(ds, Policy(key=KEY, options=frozenset(options), **policy))  # type: ignore[arg-type]
    return ds


# -- the rule table ----------------------------------------------------------------------


def test_the_table_has_every_row_of_the_2024b_edition() -> None:
    table = load_rule_table()
    assert len(table) == 621
    assert table.private is not None


@pytest.mark.parametrize("group", [0x6000, 0x6002, 0x601E])
def test_repeating_group_rows_match_every_group(group: int) -> None:
    rule = load_rule_table().rule_for((group << 16) | 0x3000)
    assert rule is not None and rule.keyword == ""
    assert rule.name == "Overlay Data"


def test_curve_pattern_matches_any_element_of_50xx() -> None:
    table = load_rule_table()
    assert table.rule_for(0x50040010) is not None
    assert table.rule_for(0x50063000) is not None
    assert table.rule_for(0x50053000) is None  # odd groups are private
    assert table.rule_for(0x51000010) is None


@pytest.mark.parametrize(
    ("code", "action"),
    [
        ("X/Z", Action.ZERO),
        ("X/D", Action.DUMMY),
        ("X/Z/D", Action.DUMMY),
        ("Z/D", Action.DUMMY),
        ("X/Z/U*", Action.UID),
        ("K", Action.KEEP),
        ("C", Action.CLEAN),
    ],
)
def test_compound_codes_resolve_to_a_reading_that_keeps_the_attribute(
    code: str, action: Action
) -> None:
    assert resolve_action(code) is action


# -- each action code on real attributes ------------------------------------------------


def test_basic_profile_actions() -> None:
    ds = _scrub(_ds())
    assert "PatientAddress" not in ds  # X
    assert ds.AccessionNumber == ""  # Z
    assert ds.InstitutionName == "ANONYMIZED"  # X/Z/D -> D
    assert ds.ContentDate == "19000101"  # Z/D -> D
    assert ds.StudyInstanceUID.startswith("2.25.")  # U
    assert ds.Modality in ("CT", "MR")  # not in the table, not PHI: kept
    assert ds.ImagePositionPatient and ds.PixelSpacing  # geometry kept
    assert "StudyDescription" not in ds or ds.StudyDescription == ""


def test_patient_name_and_id_become_keyed_pseudonyms() -> None:
    a = _scrub(_ds(seed=3))
    b = _scrub(_ds(seed=3))
    assert a.PatientID == b.PatientID and str(a.PatientName) == str(b.PatientName)
    assert a.PatientID.startswith("ANON")
    other = _scrub(_ds(seed=4))
    assert other.PatientID != a.PatientID


def test_patient_lookup_table_supplies_the_new_identity() -> None:
    ds = _ds(seed=1)
    original = ds.PatientID
    lookup = {original: PatientEntry(new_id="STUDY-001", new_name="SUBJECT^ONE")}
    _scrub(ds, patient_lookup=lookup)
    assert ds.PatientID == "STUDY-001"
    assert str(ds.PatientName) == "SUBJECT^ONE"


def test_clean_descriptors_keeps_non_phi_words() -> None:
    ds = _ds()
    patient_name = str(ds.PatientName).split("^")[0]
    ds.StudyDescription = f"CT CHEST {patient_name} follow-up 2021-03-04"
    _scrub(ds, Option.CLEAN_DESCRIPTORS)
    assert "CT CHEST" in ds.StudyDescription and "follow-up" in ds.StudyDescription
    assert patient_name.upper() not in ds.StudyDescription.upper()
    assert "2021" not in ds.StudyDescription


def test_without_clean_descriptors_descriptions_are_removed() -> None:
    ds = _ds()
    ds.StudyDescription = "CT CHEST"
    _scrub(ds)
    assert "StudyDescription" not in ds


# -- options -------------------------------------------------------------------------------


def test_retain_uids_keeps_valid_and_replaces_invalid() -> None:
    ds = _ds()
    valid = ds.StudyInstanceUID
    ds.SeriesInstanceUID = "1.2.3.04"  # a leading zero makes it invalid
    ds.FrameOfReferenceUID = "1." + "2" * 70  # too long
    _scrub(ds, Option.RETAIN_UIDS)
    assert ds.StudyInstanceUID == valid
    assert ds.SeriesInstanceUID.startswith("2.25.") and is_valid_uid(ds.SeriesInstanceUID)
    assert ds.FrameOfReferenceUID.startswith("2.25.")


def test_retain_device_and_institution_identity() -> None:
    ds = _ds()
    ds.DeviceSerialNumber = "SN-4711"
    ds.StationName = "CTSTATION1"
    institution = ds.InstitutionName
    _scrub(ds, Option.RETAIN_DEVICE_IDENTITY, Option.RETAIN_INSTITUTION_IDENTITY)
    assert ds.DeviceSerialNumber == "SN-4711"
    assert ds.StationName == "CTSTATION1"
    assert ds.InstitutionName == institution


def test_retain_patient_characteristics() -> None:
    ds = _ds()
    ds.PatientSex = "F"
    ds.PatientAge = "054Y"
    ds.PatientWeight = 61.5
    kept = _scrub(copy.deepcopy(ds), Option.RETAIN_PATIENT_CHARACTERISTICS)
    assert (kept.PatientSex, kept.PatientAge, float(kept.PatientWeight)) == ("F", "054Y", 61.5)
    basic = _scrub(ds)
    assert basic.get("PatientSex", "") == "" and "PatientWeight" not in basic


def test_full_dates_are_kept() -> None:
    ds = _ds()
    study_date = ds.StudyDate
    _scrub(ds, Option.RETAIN_LONGITUDINAL_FULL_DATES)
    assert ds.StudyDate == study_date
    assert ds.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_modified_dates_shift_one_patient_consistently() -> None:
    first = _ds(seed=5)
    second = _ds(seed=5, instance_number=2)  # same patient, another file, another run
    second.StudyDate = "20200301"
    first.StudyDate = "20200101"
    original_birth = first.PatientBirthDate
    pid = first.PatientID
    a = _scrub(
        first, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES, Option.RETAIN_PATIENT_CHARACTERISTICS
    )
    b = _scrub(second, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES)
    days = date_offset(KEY, pid)
    assert days < 0
    da = dt.datetime.strptime(a.StudyDate, "%Y%m%d").date()
    db = dt.datetime.strptime(b.StudyDate, "%Y%m%d").date()
    assert (db - da).days == (dt.date(2020, 3, 1) - dt.date(2020, 1, 1)).days
    assert da == dt.date(2020, 1, 1) + dt.timedelta(days=days)
    assert a.PatientBirthDate != original_birth
    assert a.LongitudinalTemporalInformationModified == "MODIFIED"
    if "AcquisitionDateTime" in a:
        assert a.AcquisitionDateTime[:8] != "19000101"


def test_basic_profile_marks_dates_removed() -> None:
    assert _scrub(_ds()).LongitudinalTemporalInformationModified == "REMOVED"


def test_retain_safe_private_keeps_only_listed_private_elements() -> None:
    ds = _ds()
    block = ds.private_block(0x7053, "Philips PET Private Group", create=True)
    block.add_new(0x00, "DS", "1.5")  # (7053,xx00) SUV Factor: safe
    block.add_new(0x50, "LO", "not in the table")
    kept = _scrub(copy.deepcopy(ds), Option.RETAIN_SAFE_PRIVATE)
    kept_block = kept.private_block(0x7053, "Philips PET Private Group")
    assert kept_block[0x00].value == "1.5"
    assert 0x50 not in kept_block
    assert not any(e.tag.group == 0x0009 for e in kept)  # the factory's PHI creator
    removed = _scrub(ds)
    assert not any(e.tag.is_private for e in removed)


@pytest.mark.parametrize("options", [(), (Option.CLEAN_GRAPHICS,)], ids=["basic", "clean-graphics"])
def test_overlays_and_curves_are_removed_with_their_groups(options: tuple[Option, ...]) -> None:
    ds = _ds()
    ds.add_new(0x60000010, "US", 8)
    ds.add_new(0x60000011, "US", 8)
    ds.add_new(0x60003000, "OW", b"\xff" * 8)
    ds.add_new(0x50000005, "US", 2)
    ds.add_new(0x50003000, "OW", b"\x01\x02")
    _scrub(ds, *options)
    assert not any(e.tag.group in (0x6000, 0x5000) for e in ds)


def test_overrides_win_over_the_table() -> None:
    ds = _ds()
    ds.PatientSex = "M"
    overrides = (
        Override(tag="00100040", action="keep"),
        Override(tag="00080080", action="replace", value="RESEARCH SITE 1"),
        Override(tag="00080060", action="remove"),
        Override(tag="00180050", action="empty"),
    )
    _scrub(ds, overrides=overrides)
    assert ds.PatientSex == "M"
    assert ds.InstitutionName == "RESEARCH SITE 1"
    assert "Modality" not in ds
    assert ds.SliceThickness in ("", None)


# -- structure ---------------------------------------------------------------------------


def test_nested_sequences_follow_the_rules_at_every_depth() -> None:
    ds = _ds()
    inner = Dataset()
    inner.PatientName = "NESTED^PERSON"
    inner.StudyInstanceUID = "1.2.3.4.5"
    inner.PatientAddress = "1 Deep Street"
    middle = Dataset()
    middle.SourceImageSequence = Sequence([inner])  # X/Z/U*: walked
    ds.ReferencedImageSequence = Sequence([middle])
    _scrub(ds)
    deep = ds.ReferencedImageSequence[0].SourceImageSequence[0]
    assert "PatientAddress" not in deep
    assert "NESTED" not in str(deep.get("PatientName", ""))
    assert deep.StudyInstanceUID == remap_uid("1.2.3.4.5", KEY)


def test_references_map_like_their_targets() -> None:
    referenced = _ds(seed=2)
    referrer = _ds(seed=2, instance_number=2)
    item = Dataset()
    item.ReferencedSOPClassUID = referenced.SOPClassUID
    item.ReferencedSOPInstanceUID = referenced.SOPInstanceUID
    referrer.ReferencedImageSequence = Sequence([item])
    _scrub(referenced)
    _scrub(referrer)
    ref = referrer.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == referenced.SOPInstanceUID
    assert ref.ReferencedSOPClassUID == referenced.SOPClassUID  # a class, not an instance


def test_standard_uids_are_never_remapped() -> None:
    ds = _scrub(_ds())
    for elem in iter_uid_elements(ds):
        values = elem.value if isinstance(elem.value, list) else [elem.value]
        for value in values:
            assert is_valid_uid(str(value)), elem.keyword
    assert ds.SOPClassUID == UID("1.2.840.10008.5.1.4.1.1.2") or ds.SOPClassUID.startswith(
        "1.2.840.10008."
    )


def test_file_meta_is_rewritten() -> None:
    ds = _ds()
    ds.file_meta.SourceApplicationEntityTitle = "HOSPITALPACS"
    _scrub(ds)
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert "SourceApplicationEntityTitle" not in ds.file_meta
    out = pydicom.dcmread(io.BytesIO(write_dataset(ds)))
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID


def test_deidentification_method_lists_the_options_used() -> None:
    ds = _scrub(_ds(), Option.RETAIN_UIDS, Option.CLEAN_DESCRIPTORS)
    codes = {item.CodeValue for item in ds.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113110", "113105"}
    assert ds.PatientIdentityRemoved == "YES"
    assert "retain-uids" in ds.DeidentificationMethod


def test_unlisted_person_names_are_removed_and_free_text_cleaned() -> None:
    ds = _ds()
    family = str(ds.PatientName).split("^")[0]
    ds.add_new(0x00321032, "PN", "SOMEONE^ELSE")  # RequestingPhysician: in the table
    ds.add_new(0x00400006, "PN", "OTHER^DOCTOR")  # ScheduledPerformingPhysicianName
    ds.add_new(0x00181030, "LO", f"protocol for {family}")  # ProtocolName
    _scrub(ds, Option.CLEAN_DESCRIPTORS)
    assert "ScheduledPerformingPhysicianName" not in ds or not str(
        ds.ScheduledPerformingPhysicianName
    ).startswith("OTHER")
    assert family.upper() not in str(ds.get("ProtocolName", "")).upper()


def test_scrub_is_deterministic_for_a_key() -> None:
    raw = io.BytesIO()
    _ds(seed=9).save_as(raw, enforce_file_format=True)
    first, _ = scrub_bytes(raw.getvalue(), Policy(key=KEY))
    second, _ = scrub_bytes(raw.getvalue(), Policy(key=KEY))
    other, _ = scrub_bytes(raw.getvalue(), Policy(key=b"another-key-0123456789abcdef"))
    assert first == second
    assert first != other


@pytest.mark.parametrize(
    "options",
    [
        frozenset(),
        frozenset({Option.CLEAN_DESCRIPTORS}),
        frozenset(
            {Option.CLEAN_DESCRIPTORS, Option.CLEAN_STRUCTURED_CONTENT, Option.CLEAN_GRAPHICS}
        ),
        frozenset({Option.RETAIN_UIDS, Option.RETAIN_LONGITUDINAL_MODIFIED_DATES}),
        frozenset({Option.RETAIN_DEVICE_IDENTITY, Option.RETAIN_PATIENT_CHARACTERISTICS}),
        frozenset({Option.RETAIN_SAFE_PRIVATE}),
    ],
    ids=lambda o: "+".join(sorted(x.value for x in o)) or "basic",
)
@pytest.mark.parametrize("seed", range(4))
def test_no_planted_phi_survives_anywhere(options: frozenset[Option], seed: int) -> None:
    patient = make_patients(4, seed)[seed]
    raw = io.BytesIO()
    make_dataset(patient, seed=seed).save_as(raw, enforce_file_format=True)
    strings = planted_phi(patient)
    assert find_phi(raw.getvalue(), strings)  # the factory really planted them
    out, _ = scrub_bytes(raw.getvalue(), Policy(key=KEY, options=options))
    assert find_phi(out, strings) == []


def test_phi_values_are_collected_before_scrubbing() -> None:
    ds = _ds()
    phi = collect_phi(ds)
    assert phi.names and phi.ids and phi.dates
    assert "PhiValues(names=" in repr(phi) and str(ds.PatientID) not in repr(phi)
    result = scrub_header(ds, Policy(key=KEY), phi)
    assert result.changed > 10
    for action in result.actions:
        assert set(action.to_json()) == {"path", "tag", "keyword", "action", "changed"}


def test_standard_attributes_stored_as_un_are_handled_as_their_dictionary_vr() -> None:
    from pydicom.data import get_testdata_file

    # rtdose_rle.dcm stores standard attributes with VR UN (explicit VR little endian).
    path = get_testdata_file("rtdose_rle.dcm")
    assert path is not None
    raw = pydicom.dcmread(path)
    assert raw.get_item(0x0020000D).VR == "UN"
    original = raw.StudyInstanceUID
    out, _ = scrub_bytes(open(path, "rb").read(), Policy(key=KEY))  # noqa: PTH123, SIM115
    ds = pydicom.dcmread(io.BytesIO(out))
    assert ds.StudyInstanceUID == remap_uid(original, KEY)
    assert is_valid_uid(ds.FrameOfReferenceUID) and is_valid_uid(ds.SeriesInstanceUID)
