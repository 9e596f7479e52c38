"""One file, start to finish, with no I/O policy: bytes in, de-identified bytes out.

:func:`scrub_dataset` is for callers who already hold a pydicom Dataset;
:func:`scrub_bytes` reads, scrubs and serialises one file; :func:`scrub_file` does the
same from one file on disk to another in bounded memory. All raise
:class:`~dicomscrub.errors.FileError` with a stable code when the file cannot be
de-identified; the batch runner turns that into a report entry.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.utils import get_expected_length
from pydicom.tag import BaseTag
from pydicom.uid import (
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
)

from dicomscrub.errors import FileError
from dicomscrub.fastvalues import effective_vr, elements, encode_file_parts, uid_of, write_file
from dicomscrub.header import HeaderResult, add_provenance, rewrite_file_meta, scrub_header
from dicomscrub.phi import collect_phi
from dicomscrub.profile.policy import PixelMode, Policy

__all__ = [
    "DEFER_SIZE",
    "ScrubResult",
    "read_dataset",
    "scrub_bytes",
    "scrub_dataset",
    "scrub_file",
    "scrub_to_parts",
    "write_dataset",
    "write_dataset_parts",
]

_READ_ERRORS = (EOFError, struct.error, ValueError, KeyError, IndexError, TypeError, OverflowError)


@dataclass
class ScrubResult:
    """What scrubbing one dataset did (never any original value other than UIDs)."""

    dataset: Dataset
    header: HeaderResult | None
    pixel_regions: list[dict[str, Any]] = field(default_factory=list)
    pixels_processed: bool = False

    @property
    def actions_applied(self) -> int:
        """Elements changed or removed, plus pixel regions blanked."""
        header = self.header.changed if self.header else 0
        return header + len(self.pixel_regions)


def read_dataset(
    source: bytes | BinaryIO, *, headers_only: bool = False, defer_size: int | None = None
) -> FileDataset:
    """Parse a DICOM file, raising ``FileError`` (not-dicom, truncated) on bad input.

    A file without the 128-byte preamble and ``DICM`` is still accepted when it parses
    as a data set with a SOP Class or SOP Instance UID (older files are written so).
    pydicom reads a file that ends early without complaint (a short last value, or a
    few bytes of a tag at the end); :func:`_check_complete` catches both, so a cut file
    is reported ``truncated`` instead of being de-identified without its tail.

    With ``defer_size``, values longer than that are left in ``source`` (a file on disk)
    until read; see :func:`scrub_file`.
    """
    fp = io.BytesIO(source) if isinstance(source, bytes) else source
    start = fp.tell()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = _dcmread(fp, start, headers_only, defer_size)
        except (OSError, RuntimeError) as exc:
            # pydicom raises these for a sequence or value cut short
            # ("No tag to read at file position", BytesLengthException).
            if isinstance(exc, OSError) and "No tag to read" not in str(exc):
                raise
            raise FileError(
                "truncated", f"the file ends inside an element ({type(exc).__name__})"
            ) from exc
    if any("End of file reached" in str(w.message) for w in caught):
        raise FileError("truncated", "the file ends before a sequence or value is closed")
    _check_complete(ds, fp, start, headers_only)
    if not headers_only and "PixelData" in ds:
        _check_pixel_length(ds)
    return ds


def _dcmread(fp: BinaryIO, start: int, headers_only: bool, defer_size: int | None) -> FileDataset:
    try:
        return pydicom.dcmread(fp, stop_before_pixels=headers_only, defer_size=defer_size)
    except InvalidDicomError:
        fp.seek(start)
        try:
            ds = pydicom.dcmread(
                fp, force=True, stop_before_pixels=headers_only, defer_size=defer_size
            )
        except (
            *_READ_ERRORS,
            InvalidDicomError,
            NotImplementedError,
            OSError,
            RuntimeError,
        ) as exc:
            raise FileError("not-dicom") from exc
        if "SOPClassUID" not in ds and "SOPInstanceUID" not in ds:
            raise FileError("not-dicom") from None
        return ds
    except _READ_ERRORS as exc:
        raise FileError(
            "truncated", f"the file could not be parsed to its end ({type(exc).__name__})"
        ) from exc
    except NotImplementedError as exc:
        raise FileError("unreadable", f"unsupported encoding ({type(exc).__name__})") from exc


_UNDEFINED = 0xFFFFFFFF


def _check_complete(ds: Dataset, fp: BinaryIO, start: int, headers_only: bool) -> None:
    """Raise ``truncated`` if a value is shorter than its header says, or if the file
    ends with a few stray bytes (the start of an element that was cut off)."""
    last_end = 0
    undefined_last = False
    for raw in elements(ds).values():
        if not isinstance(raw, RawDataElement):
            continue
        if raw.length == _UNDEFINED:
            undefined_last = True
            continue
        undefined_last = False
        if raw.value is not None and len(raw.value) < raw.length:
            raise FileError("truncated", f"{_tag(raw.tag)} is shorter than its declared length")
        last_end = max(last_end, raw.value_tell + raw.length)
    if headers_only or undefined_last or not last_end:
        return
    try:
        size = fp.seek(0, io.SEEK_END)
    except (OSError, ValueError):
        return
    if last_end > size:
        # Only a deferred value (not read, so not checked above) can reach past the end.
        raise FileError("truncated", "a value is shorter than its declared length")
    if 0 < size - last_end < 8:
        raise FileError("truncated", "the file ends inside the header of an element")


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _syntax_of(ds: Dataset) -> UID:
    """The transfer syntax a data set without file meta was encoded in."""
    implicit, little = getattr(ds, "original_encoding", (False, True))
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little in (True, None) else ExplicitVRBigEndian


def _check_pixel_length(ds: Dataset) -> None:
    """Native PixelData shorter than the image its pixel module describes is truncated."""
    ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if ts is not None and ts.is_compressed:
        return
    sizes = _raw_native_sizes(ds)
    if sizes is None:
        try:
            sizes = int(get_expected_length(ds, unit="bytes")), _pixel_length(ds)
        except (AttributeError, TypeError, ValueError, KeyError):
            return
    needed, present = sizes
    if present < needed:
        raise FileError("truncated", "PixelData (7FE0,0010) is shorter than the image it describes")


#: Rows, Columns, SamplesPerPixel, BitsAllocated: the size of one native frame.
_FRAME_TAGS = (0x00280010, 0x00280011, 0x00280002, 0x00280100)


def _is_deferred(raw: RawDataElement) -> bool:
    """Whether ``raw`` is a defined-length value left on disk (read with ``defer_size``)."""
    return raw.value is None and raw.length not in (0, _UNDEFINED)


def _pixel_length(ds: Dataset) -> int:
    """The length of PixelData, without reading a value left on disk (``defer_size``)."""
    raw = elements(ds)[BaseTag(0x7FE00010)]
    if isinstance(raw, RawDataElement) and _is_deferred(raw):
        return int(raw.length)
    return len(ds.PixelData)


def _raw_native_sizes(ds: Dataset) -> tuple[int, int] | None:
    """(bytes needed, bytes present) from the raw elements, for the common case only.

    One frame of whole-byte samples described by little-endian US values: the answer
    ``get_expected_length`` gives, without decoding (and so rewriting) the elements.
    Anything else (frames, 1-bit or YBR_FULL_422 data, converted elements) is None.
    """
    items = elements(ds)
    pixels = items.get(BaseTag(0x7FE00010))
    if pixels is None or not isinstance(pixels, RawDataElement):
        return None
    if pixels.value is None and not _is_deferred(pixels):
        return None
    if BaseTag(0x00280008) in items:
        return None  # NumberOfFrames
    photometric = items.get(BaseTag(0x00280004))
    if photometric is None or not isinstance(photometric.value, bytes):
        return None
    if photometric.value.strip(b" \x00") not in _PLAIN_PHOTOMETRIC:
        return None
    product = 1
    for tag in _FRAME_TAGS:
        raw = items.get(BaseTag(tag))
        if not isinstance(raw, RawDataElement) or raw.VR != "US" or not raw.is_little_endian:
            return None
        if raw.value is None or len(raw.value) != 2:
            return None
        product *= int.from_bytes(raw.value, "little")
    bits = int.from_bytes(items[BaseTag(0x00280100)].value, "little")  # type: ignore[arg-type]
    if bits % 8:
        return None
    return product // 8, _pixel_length(ds)


_PLAIN_PHOTOMETRIC = frozenset({b"MONOCHROME1", b"MONOCHROME2", b"RGB", b"PALETTE COLOR"})


def scrub_dataset(ds: Dataset, policy: Policy) -> ScrubResult:
    """De-identify ``ds`` in place: pixels (if asked), header, provenance and file meta.

    ``ds`` should carry ``file_meta`` (as read from a file); without it, Explicit VR
    Little Endian is assumed for the output.
    """
    meta = getattr(ds, "file_meta", None)
    sop_class = uid_of(ds, 0x00080016) or (meta.get("MediaStorageSOPClassUID") if meta else None)
    if sop_class == MediaStorageDirectoryStorage:
        raise FileError(
            "unsupported-sop-class",
            "Media Storage Directory (DICOMDIR) files hold byte offsets of records and are "
            "not de-identified; build a new DICOMDIR from the outputs",
        )
    phi = collect_phi(ds)
    regions: list[dict[str, Any]] = []
    pixels_processed = False
    if "PixelData" in ds and (policy.pixels is not PixelMode.NONE or policy.pixel_rules):
        from dicomscrub.pixels import needs_pixel_work, redact_pixels
        from dicomscrub.pixels.finders import make_finder

        if needs_pixel_work(ds, policy):
            finder = make_finder(policy.pixels, phi)
            regions = redact_pixels(ds, policy, finder)
            pixels_processed = True
    header: HeaderResult | None = None
    if policy.redact_tags:
        header = scrub_header(ds, policy, phi)
        add_provenance(ds, policy, pixels_cleaned=pixels_processed)
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = (meta.get("TransferSyntaxUID") if meta is not None else None) or (
        _syntax_of(ds)
    )
    if "SOPClassUID" not in ds:
        if meta is None or not meta.get("MediaStorageSOPClassUID"):
            raise FileError("missing-sop-class")
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
    if "SOPInstanceUID" not in ds:
        raise FileError("missing-sop-uid")
    if policy.redact_tags or meta is None:
        ds.file_meta = rewrite_file_meta(ds, transfer_syntax)
    elif "MediaStorageSOPInstanceUID" in ds.file_meta:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ScrubResult(ds, header, regions, pixels_processed)


def write_dataset(ds: Dataset) -> bytes:
    """Serialise ``ds`` as a DICOM file (preamble, ``DICM``, file meta) in its transfer syntax."""
    return b"".join(write_dataset_parts(ds))


def write_dataset_parts(ds: Dataset) -> list[bytes]:
    """:func:`write_dataset`'s bytes in pieces, to be written one after the other
    without first copying them into one (the pixel data is the data set's own value)."""
    try:
        fast = encode_file_parts(ds)
    except TypeError:
        fast = None  # an element without a VR: the decoding retry below handles it
    if fast is not None:
        return fast  # the bytes save_as writes, without its per-element cost
    ts = ds.file_meta.TransferSyntaxUID
    implicit, little = getattr(ds, "original_encoding", (None, None))
    if implicit is not None and (implicit != ts.is_implicit_VR or little != ts.is_little_endian):
        # Raw elements carry the source's encoding (a new transfer syntax after pixel
        # redaction, or a file that contradicts its own): decode them so pydicom writes
        # them in the declared one.
        _decode_all(ds)
    buffer = io.BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=True)
    except TypeError:
        # A raw element read as implicit VR inside an explicit-VR file has no VR to
        # write; decoding gives each its dictionary VR.
        _decode_all(ds)
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
    return [buffer.getvalue()]


def _decode_all(ds: Dataset) -> None:
    """Convert every raw element of ``ds`` (all depths) to a pydicom DataElement."""
    for _ in ds.iterall():
        pass


#: Called with the data set as read, before anything changes it; it may raise FileError.
OnRead = Callable[[Dataset], None]


def scrub_bytes(
    data: bytes, policy: Policy, *, on_read: OnRead | None = None
) -> tuple[bytes, ScrubResult]:
    """Read, de-identify and serialise one file held in memory.

    ``on_read`` sees the data set as read (the batch takes the original UIDs from it).
    """
    parts, result = scrub_to_parts(data, policy, on_read=on_read)
    return b"".join(parts), result


def scrub_to_parts(
    source: bytes | BinaryIO, policy: Policy, *, on_read: OnRead | None = None
) -> tuple[list[bytes], ScrubResult]:
    """:func:`scrub_bytes` for bytes or a file opened at its start, giving the output in
    pieces (see :func:`write_dataset_parts`): a file's pixel data is then read once and
    never copied again before it is written."""
    ds = read_dataset(source)
    if on_read is not None:
        on_read(ds)
    result = scrub_dataset(ds, policy)
    try:
        parts = write_dataset_parts(ds)
    except (ValueError, TypeError, struct.error, OverflowError) as exc:
        raise FileError(
            "scrub", f"the de-identified data set could not be encoded ({type(exc).__name__})"
        ) from exc
    return parts, result


#: Values longer than this stay on disk while :func:`scrub_file` works.
DEFER_SIZE: Final = 2**20
#: VRs of values that may stay on disk: the header engine keeps them as read or has
#: pydicom convert them (which reads them back); text it decodes from the raw bytes.
_BINARY_VRS: Final = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})


def scrub_file(
    source: BinaryIO,
    out: BinaryIO,
    policy: Policy,
    *,
    defer_size: int = DEFER_SIZE,
    on_read: OnRead | None = None,
) -> ScrubResult:
    """Read, de-identify and write one file on disk, leaving its large values there.

    ``source`` is a file on disk opened at offset 0 (pydicom reads a deferred value back
    by its name); ``out`` receives the bytes :func:`scrub_bytes` returns for the same
    file. Binary values over ``defer_size`` bytes (pixel data, mostly) are copied from
    ``source`` in chunks unless something needs them (pixel redaction reads the pixels),
    so memory does not grow with the file. ``on_read`` as for :func:`scrub_bytes`.
    """
    ds = read_dataset(source, defer_size=defer_size)
    _load_deferred_text(ds, source)
    if on_read is not None:
        on_read(ds)
    result = scrub_dataset(ds, policy)
    try:
        if not write_file(ds, out, source):
            out.write(write_dataset(ds))  # reads the deferred values back: rare layouts
    except (ValueError, TypeError, struct.error, OverflowError) as exc:
        raise FileError(
            "scrub", f"the de-identified data set could not be encoded ({type(exc).__name__})"
        ) from exc
    return result


def _load_deferred_text(ds: Dataset, source: BinaryIO) -> None:
    """Read back deferred values that are not binary (the engine decodes their bytes)."""
    items = elements(ds)
    for tag, raw in list(items.items()):
        if not isinstance(raw, RawDataElement) or not _is_deferred(raw):
            continue
        vr = effective_vr(raw.VR, tag)
        if vr is None or vr in _BINARY_VRS:
            continue  # binary or ambiguous ("OB or OW"): pydicom reads it if converted
        source.seek(raw.value_tell)
        value = source.read(raw.length)
        items[tag] = raw._replace(value=value)
