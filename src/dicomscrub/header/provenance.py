"""Record that and how the data set was de-identified (PS3.15 E.1.1, PS3.3 C.7.1.1)."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from dicomscrub import __version__
from dicomscrub.header.uids import remap_uid
from dicomscrub.profile.options import BASIC_PROFILE_CODE, CLEAN_PIXEL_DATA_CODE, Option
from dicomscrub.profile.policy import Policy

__all__ = ["IMPLEMENTATION_CLASS_UID", "add_provenance", "rewrite_file_meta"]

#: dicomscrub's Implementation Class UID (a 2.25 UID derived from the project's name).
IMPLEMENTATION_CLASS_UID = UID(remap_uid("dicomscrub implementation", b"dicomscrub"))
IMPLEMENTATION_VERSION_NAME = f"DICOMSCRUB_{__version__.replace('.', '')}"[:16]


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def add_provenance(ds: Dataset, policy: Policy, *, pixels_cleaned: bool) -> None:
    """Set PatientIdentityRemoved, DeidentificationMethod(+CodeSequence) and (0028,0303)."""
    codes = [BASIC_PROFILE_CODE]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    codes += sorted(option.code for option in policy.options)
    ds.PatientIdentityRemoved = "YES"
    # LO is 1-n: one value per fact keeps each within the 64-character limit.
    ds.DeidentificationMethod = [
        f"dicomscrub {__version__}",
        "PS3.15 Basic Application Confidentiality Profile",
        *sorted(o.value for o in policy.options),
    ]
    ds.DeidentificationMethodCodeSequence = Sequence([_code_item(*c) for c in codes])
    if Option.RETAIN_LONGITUDINAL_FULL_DATES in policy.options:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in policy.options:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"


def rewrite_file_meta(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    """A new file meta group that agrees with the scrubbed data set.

    Only the elements PS3.10 7.1 requires are written: nothing of the source's (its
    SourceApplicationEntityTitle, private information, sending/receiving AE titles)
    survives.
    """
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    return meta
