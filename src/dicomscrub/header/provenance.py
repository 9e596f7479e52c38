"""Record that and how the data set was de-identified (PS3.15 E.1.1, PS3.3 C.7.1.1)."""

from __future__ import annotations

from functools import lru_cache

from pydicom.charset import default_encoding
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID

from dicomscrub import __version__
from dicomscrub.fastvalues import as_raw, elements, encode_strings, encoding_of, put_raw, uid_of
from dicomscrub.header.uids import remap_uid
from dicomscrub.profile.options import BASIC_PROFILE_CODE, CLEAN_PIXEL_DATA_CODE, Option
from dicomscrub.profile.policy import Policy

__all__ = ["IMPLEMENTATION_CLASS_UID", "add_provenance", "rewrite_file_meta"]

#: dicomscrub's Implementation Class UID (a 2.25 UID derived from the project's name).
IMPLEMENTATION_CLASS_UID = UID(remap_uid("dicomscrub implementation", b"dicomscrub"))
IMPLEMENTATION_VERSION_NAME = f"DICOMSCRUB_{__version__.replace('.', '')}"[:16]

#: The file meta group is always Explicit VR Little Endian (PS3.10 7.1).
_META_FLAGS = (False, True)


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item


def _provenance_dataset(options: frozenset[Option], pixels_cleaned: bool) -> Dataset:
    """The provenance attributes for ``options`` as a small data set."""
    ds = Dataset()
    codes = [BASIC_PROFILE_CODE]
    if pixels_cleaned:
        codes.append(CLEAN_PIXEL_DATA_CODE)
    codes += sorted(option.code for option in options)
    ds.PatientIdentityRemoved = "YES"
    # LO is 1-n: one value per fact keeps each within the 64-character limit.
    ds.DeidentificationMethod = [
        f"dicomscrub {__version__}",
        "PS3.15 Basic Application Confidentiality Profile",
        *sorted(o.value for o in options),
    ]
    ds.DeidentificationMethodCodeSequence = Sequence([_code_item(*c) for c in codes])
    if Option.RETAIN_LONGITUDINAL_FULL_DATES in options:
        ds.LongitudinalTemporalInformationModified = "UNMODIFIED"
    elif Option.RETAIN_LONGITUDINAL_MODIFIED_DATES in options:
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
    else:
        ds.LongitudinalTemporalInformationModified = "REMOVED"
    return ds


@lru_cache(maxsize=64)
def _provenance_elements(
    options: frozenset[Option], pixels_cleaned: bool, flags: tuple[bool, bool]
) -> tuple[RawDataElement, ...]:
    """The provenance attributes encoded once per run (they are the same in every file).

    Their values are ASCII, which every DICOM character set encodes alike.
    """
    template = _provenance_dataset(options, pixels_cleaned)
    return tuple(as_raw(template[tag], flags) for tag in elements(template))


def add_provenance(ds: Dataset, policy: Policy, *, pixels_cleaned: bool) -> None:
    """Set PatientIdentityRemoved, DeidentificationMethod(+CodeSequence) and (0028,0303)."""
    items = elements(ds)
    for raw in _provenance_elements(policy.options, pixels_cleaned, encoding_of(ds)):
        items[raw.tag] = raw


def _put_uid(meta: FileMetaDataset, tag: int, value: str) -> None:
    data = encode_strings("UI", value, None)
    if data is None:
        meta[tag] = DataElement(tag, "UI", value)  # pydicom reports what is wrong with it
    else:
        put_raw(meta, tag, "UI", data, _META_FLAGS)


def rewrite_file_meta(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    """A new file meta group that agrees with the scrubbed data set.

    Only the elements PS3.10 7.1 requires are written: nothing of the source's (its
    SourceApplicationEntityTitle, private information, sending/receiving AE titles)
    survives. The elements are built as the encoded bytes pydicom writes for them.
    """
    meta = FileMetaDataset()
    put_raw(meta, 0x00020001, "OB", b"\x00\x01", _META_FLAGS)
    _put_uid(meta, 0x00020002, uid_of(ds, 0x00080016) or "")
    _put_uid(meta, 0x00020003, uid_of(ds, 0x00080018) or "")
    _put_uid(meta, 0x00020010, UID(transfer_syntax))
    _put_uid(meta, 0x00020012, IMPLEMENTATION_CLASS_UID)
    version = encode_strings("SH", IMPLEMENTATION_VERSION_NAME, "latin-1")
    assert version is not None  # ASCII by construction
    put_raw(meta, 0x00020013, "SH", version, _META_FLAGS)
    meta.set_original_encoding(False, True, default_encoding)
    return meta
