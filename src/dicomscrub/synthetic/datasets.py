"""Build valid CT and MR Image Storage datasets with PHI planted in every hiding place."""

from __future__ import annotations

import hashlib

from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    MRImageStorage,
)

from dicomscrub.synthetic.identity import SyntheticPatient
from dicomscrub.synthetic.images import CT_RESCALE_INTERCEPT, ct_pixels, mr_pixels

__all__ = ["PRIVATE_CREATOR", "PRIVATE_GROUP", "SOP_CLASSES", "make_dataset", "synthetic_uid"]

SOP_CLASSES = {"CT": CTImageStorage, "MR": MRImageStorage}

#: The private block that carries PHI: not in PS3.15 Table E.3.10-1, so never "safe".
PRIVATE_CREATOR = "ACME PHI"
PRIVATE_GROUP = 0x0009

_IMPLEMENTATION_VERSION = "ACMESCAN_4_2"

_UNCOMPRESSED = {
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
}


def synthetic_uid(*parts: object) -> UID:
    """A ``2.25.`` UID derived from ``parts``: the same parts give the same UID."""
    # pydicom's generate_uid ignores its entropy sources under the 2.25 root, so hash here.
    digest = hashlib.sha256("|".join(["dicomscrub-synthetic", *map(str, parts)]).encode())
    return UID(f"2.25.{int.from_bytes(digest.digest()[:16], 'big')}")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _file_meta(sop_class: UID, sop_uid: UID, transfer_syntax: UID, ae: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = transfer_syntax
    # A made-up scanner's implementation, as a vendor's export would name it.
    meta.ImplementationClassUID = synthetic_uid("implementation", _IMPLEMENTATION_VERSION)
    meta.ImplementationVersionName = _IMPLEMENTATION_VERSION
    # Real archives put the sending station's AE title here; ours names the hospital.
    meta.SourceApplicationEntityTitle = ae
    return meta


def _add_patient(ds: Dataset, p: SyntheticPatient, study_index: int, everywhere: bool) -> None:
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.PatientBirthDate = p.birth_date
    ds.PatientSex = p.sex
    if not everywhere:
        return
    ds.IssuerOfPatientID = p.institution_ae
    ds.PatientAge = p.age_at(study_index)
    ds.PatientSize = f"{p.height_m:.2f}"
    ds.PatientWeight = f"{p.weight_kg:.1f}"
    ds.PatientAddress = p.address
    ds.PatientTelephoneNumbers = p.phone
    ds.AdditionalPatientHistory = f"Referred by Dr {p.referring_physician.split('^')[0].title()}"
    others = []
    for other_id in p.other_ids:
        item = Dataset()
        item.PatientID = other_id
        item.IssuerOfPatientID = p.institution_ae
        item.TypeOfPatientID = "TEXT"
        others.append(item)
    ds.OtherPatientIDsSequence = Sequence(others)


def _referring_identification(p: SyntheticPatient) -> Sequence:
    """Person Identification Macro: PHI at depth 2 and 3 of standard sequences."""
    family, _, given = p.referring_physician.partition("^")
    person_code = _code(f"DR{p.patient_id[-5:]}", "L", f"{family.title()}, {given.title()}")
    # EquivalentCodeSequence nests the name once more: depth 3.
    person_code.EquivalentCodeSequence = Sequence(
        [_code(f"STAFF{p.patient_id[-4:]}", "L", p.referring_physician)]
    )
    item = Dataset()
    item.PersonIdentificationCodeSequence = Sequence([person_code])
    item.PersonAddress = p.institution_address
    item.PersonTelephoneNumbers = p.phone
    item.InstitutionName = p.institution
    item.InstitutionAddress = p.institution_address
    return Sequence([item])


def _request_attributes(p: SyntheticPatient, study_index: int, study_uid: UID) -> Sequence:
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = p.institution_ae
    item = Dataset()
    item.RequestedProcedureID = f"RP{p.accession_numbers[study_index][3:]}"
    item.AccessionNumber = p.accession_numbers[study_index]
    item.IssuerOfAccessionNumberSequence = Sequence([issuer])
    item.StudyInstanceUID = study_uid
    item.RequestedProcedureDescription = f"Imaging for {p.display_name}"
    item.ScheduledProcedureStepID = f"SPS{p.patient_id[3:]}"
    item.ScheduledProcedureStepDescription = f"Scan {p.display_name}"
    return Sequence([item])


def _add_private(ds: Dataset, p: SyntheticPatient) -> None:
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", p.name)
    block.add_new(0x02, "LO", p.patient_id)
    block.add_new(0x03, "DA", p.birth_date)
    inner = Dataset()
    inner.PatientName = p.name
    inner.PatientAddress = p.address
    block.add_new(0x10, "SQ", Sequence([inner]))


def _add_study(
    ds: Dataset, p: SyntheticPatient, study_index: int, study_uid: UID, everywhere: bool
) -> None:
    day = p.study_dates[study_index]
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = day
    ds.StudyTime = "081500.000000"
    ds.StudyID = f"S{p.accession_numbers[study_index][-4:]}"
    ds.AccessionNumber = p.accession_numbers[study_index]
    ds.ReferringPhysicianName = p.referring_physician
    if not everywhere:
        return
    ds.StudyDescription = f"{ds.Modality} CHEST {p.family_name} {p.given_name}"
    ds.ReferringPhysicianIdentificationSequence = _referring_identification(p)
    ds.ProcedureCodeSequence = Sequence([_code("ZZ0101", "99ACME", f"{ds.Modality} chest")])


def _add_series(
    ds: Dataset,
    p: SyntheticPatient,
    study_index: int,
    series_uid: UID,
    instance_number: int,
    everywhere: bool,
) -> None:
    day = p.study_dates[study_index]
    seconds = 100 + 2 * instance_number
    acquired = f"0830{seconds // 60 % 60:02d}.{seconds % 60:02d}0000"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 3 if ds.Modality == "CT" else 5
    ds.PatientPosition = "HFS"
    ds.BodyPartExamined = "CHEST"
    ds.Manufacturer = "ACME Medical"
    ds.ManufacturerModelName = "Scanalot 9000"
    ds.StationName = f"{ds.Modality}SCAN01"
    ds.DeviceSerialNumber = f"SN{p.patient_id[-6:]}"
    ds.SoftwareVersions = "4.2.0"
    ds.InstanceNumber = instance_number
    ds.AcquisitionNumber = 1
    ds.ContentDate = day
    ds.ContentTime = acquired
    if not everywhere:
        return
    ds.SeriesDate = day
    ds.SeriesTime = "082900.000000"
    ds.AcquisitionDate = day
    ds.AcquisitionTime = acquired
    ds.AcquisitionDateTime = f"{day}{acquired}"
    ds.SeriesDescription = f"AX {p.given_name} {p.family_name}"
    ds.InstitutionName = p.institution
    ds.InstitutionAddress = p.institution_address
    ds.InstitutionalDepartmentName = "Radiology"
    ds.PerformingPhysicianName = p.performing_physician
    ds.OperatorsName = p.operator
    ds.ImageComments = f"{p.display_name} ({p.patient_id}) call {p.phone}"
    ds.RequestAttributesSequence = _request_attributes(p, study_index, ds.StudyInstanceUID)


def _add_geometry(ds: Dataset, instance_number: int, rows: int, columns: int) -> None:
    spacing = round(350.0 / max(rows, columns), 4)
    thickness = 2.5
    z = -100.0 + thickness * (instance_number - 1)
    ds.FrameOfReferenceUID = synthetic_uid("frame", ds.StudyInstanceUID)
    ds.PositionReferenceIndicator = ""
    ds.PatientOrientation = ""
    ds.ImagePositionPatient = [-spacing * columns / 2, -spacing * rows / 2, z]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [spacing, spacing]
    ds.SliceThickness = thickness
    ds.SliceLocation = z


def _add_acquisition(ds: Dataset) -> None:
    if ds.Modality == "CT":
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.KVP = 120
        ds.XRayTubeCurrent = 200
        ds.ExposureTime = 500
        ds.ConvolutionKernel = "STANDARD"
        ds.RescaleIntercept = CT_RESCALE_INTERCEPT
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        return
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = "NONE"
    ds.ScanOptions = ""
    ds.MRAcquisitionType = "2D"
    ds.RepetitionTime = 500.0
    ds.EchoTime = 15.0
    ds.EchoTrainLength = 1
    ds.MagneticFieldStrength = 1.5
    ds.ImagingFrequency = 63.87
    ds.ImagedNucleus = "1H"
    ds.WindowCenter = 1600
    ds.WindowWidth = 3200


def _add_pixels(
    ds: Dataset,
    rows: int,
    columns: int,
    instance_number: int,
    seed: int,
    with_pixels: bool,
) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = 16
    if ds.Modality == "CT":
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 15, 1
        pixels = ct_pixels(rows, columns, slice_index=instance_number, seed=seed)
    else:
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
        pixels = mr_pixels(rows, columns, slice_index=instance_number, seed=seed)
    if with_pixels:
        ds.PixelData = pixels.tobytes()
        # OW: pydicom would otherwise guess "OB or OW" when writing implicit VR.
        ds["PixelData"].VR = "OW"


def make_dataset(
    patient: SyntheticPatient,
    *,
    modality: str = "CT",
    study_uid: str | None = None,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    instance_number: int = 1,
    rows: int = 64,
    columns: int = 64,
    with_pixels: bool = True,
    transfer_syntax: str = ExplicitVRLittleEndian,
    plant_everywhere: bool = True,
    seed: int = 0,
    study_index: int = 0,
) -> FileDataset:
    """Return a valid CT or MR Image Storage object carrying ``patient``'s PHI.

    With ``plant_everywhere`` the PHI of :func:`planted_phi` is put in every place a
    scrubber must look: Patient and Study modules, descriptions and comments, dates and
    times, ``OtherPatientIDsSequence``, sequences nested 2 and 3 deep, a private block
    (:data:`PRIVATE_CREATOR`, group 0009, with a nested private sequence) and the file
    meta group. Without it only the Patient and General Study essentials carry PHI.
    UIDs not given are derived from the patient, ``study_index``, the modality and
    ``seed``; pixels are a smooth deterministic image (CT ``int16``, MR ``uint16``).
    A compressed ``transfer_syntax`` is encoded with pydicom's installed encoders.
    """
    if modality not in SOP_CLASSES:
        raise ValueError(f"modality must be one of {sorted(SOP_CLASSES)}")
    sop_class = SOP_CLASSES[modality]
    study = UID(study_uid or synthetic_uid("study", patient.patient_id, study_index, seed))
    series = UID(series_uid or synthetic_uid("series", study, modality, seed))
    sop = UID(sop_uid or synthetic_uid("sop", series, instance_number))
    syntax = UID(transfer_syntax)
    # pydicom compresses only datasets that are uncompressed to begin with.
    compress = with_pixels and syntax not in _UNCOMPRESSED
    initial_syntax = ExplicitVRLittleEndian if compress else syntax
    meta = _file_meta(sop_class, sop, initial_syntax, patient.institution_ae)
    ds = FileDataset("", Dataset(), file_meta=meta, preamble=b"\0" * 128)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop
    ds.Modality = modality
    _add_patient(ds, patient, study_index, plant_everywhere)
    _add_study(ds, patient, study_index, study, plant_everywhere)
    _add_series(ds, patient, study_index, series, instance_number, plant_everywhere)
    _add_geometry(ds, instance_number, rows, columns)
    _add_acquisition(ds)
    _add_pixels(ds, rows, columns, instance_number, seed, with_pixels)
    if plant_everywhere:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class
        ref.ReferencedSOPInstanceUID = synthetic_uid("localizer", series)
        ds.ReferencedImageSequence = Sequence([ref])
        _add_private(ds, patient)
    if compress:
        ds.compress(syntax)
    return ds
