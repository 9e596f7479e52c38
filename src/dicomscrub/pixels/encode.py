"""Write redacted frames back into a dataset, losslessly in the source transfer syntax if possible.

Where the output goes, by source transfer syntax:

============================================  ===============================================
source                                        written as
============================================  ===============================================
native (implicit, explicit LE/BE, deflated)   the same syntax
RLE Lossless                                  RLE Lossless
JPEG-LS Lossless                              JPEG-LS Lossless (pyjpegls)
JPEG 2000 Lossless                            JPEG 2000 Lossless (pylibjpeg-openjpeg)
JPEG 2000 not marked lossy                    JPEG 2000, reversible wavelet at ratio 1
JPEG Lossless (Process 14), HTJ2K lossless    Explicit VR Little Endian (no encoder exists)
lossy: JPEG baseline/extended, JPEG-LS        Explicit VR Little Endian, LossyImageCompression
near-lossless, JPEG 2000 marked lossy,        "01" kept with its ratio and method
HTJ2K
============================================  ===============================================

A lossless source whose pixel format its encoder does not accept (RLE of 32-bit samples, for
example) is written as Explicit VR Little Endian too: still lossless. With
``lossy_reencode``, lossy sources are compressed again in their own syntax where an encoder
exists (JPEG-LS near-lossless with the source's NEAR, JPEG 2000 at the source's ratio, 8-bit
JPEG baseline through Pillow), and the new ratio and method are appended to
LossyImageCompressionRatio/Method as PS3.3 C.7.6.1.1.5 asks for each lossy generation.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended, generate_frames
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.encoders.base import ENCODING_PROFILES, get_encoder
from pydicom.pixels.processing import convert_color_space
from pydicom.pixels.utils import pack_bits
from pydicom.uid import (
    HTJ2K,
    JPEG2000,
    JPEG2000MC,
    UID,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pydicom.valuerep import VR

from dicomscrub.errors import FileError
from dicomscrub.pixels.frames import CODEC_ERRORS, DecodedPixels

__all__ = ["OutputPlan", "is_lossy_source", "plan_output", "write_frames"]

#: Syntaxes that are always lossy (PS3.5 8.2); JPEG 2000 and HTJ2K are lossy only when
#: the header says so (LossyImageCompression "01").
_ALWAYS_LOSSY: Final = frozenset({JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLSNearLossless})
_MAYBE_LOSSY: Final = frozenset({JPEG2000, JPEG2000MC, HTJ2K})
#: Lossless sources re-encoded in their own syntax (pydicom has an encoder for each).
_LOSSLESS_ENCODERS: Final = frozenset({RLELossless, JPEGLSLossless, JPEG2000Lossless, JPEG2000})
#: ISO method names for LossyImageCompressionMethod (PS3.3 C.7.6.1.1.5.1).
_METHODS: Final = {
    JPEGBaseline8Bit: "ISO_10918_1",
    JPEGLSNearLossless: "ISO_14495_1",
    JPEG2000: "ISO_15444_1",
}


@dataclass(frozen=True)
class OutputPlan:
    """How redacted frames will be written: syntax, photometric and encoder options."""

    syntax: UID
    photometric: str
    lossy_source: bool
    new_lossy_generation: bool = False
    options: dict[str, Any] = field(default_factory=dict)


def is_lossy_source(ds: Dataset, syntax: UID) -> bool:
    """Whether ``syntax`` compressed these pixels lossily (by the syntax, or its header flag)."""
    if syntax in _ALWAYS_LOSSY:
        return True
    # A lossless syntax (RLE, say) flagged "01" holds pixels from an earlier lossy step,
    # but re-encoding it losslessly loses nothing more, so it is not a lossy source here.
    flagged = str(ds.get("LossyImageCompression", "")).strip() == "01"
    return flagged and syntax in _MAYBE_LOSSY


def plan_output(ds: Dataset, decoded: DecodedPixels, *, lossy_reencode: bool) -> OutputPlan:
    """Choose the output syntax for ``decoded``; reads the source Pixel Data, changes nothing."""
    source = decoded.source_syntax
    lossy = is_lossy_source(ds, source)
    if not source.is_compressed:
        return OutputPlan(source, decoded.photometric, lossy)
    if lossy:
        if lossy_reencode:
            plan = _plan_lossy_reencode(ds, decoded, source)
            if plan is not None:
                return plan
        return OutputPlan(ExplicitVRLittleEndian, decoded.photometric, lossy)
    if source in _LOSSLESS_ENCODERS:
        photometric = decoded.photometric
        options: dict[str, Any] = {}
        source_photometric = str(ds.get("PhotometricInterpretation", ""))
        if source == JPEG2000Lossless and source_photometric == "YBR_RCT" and photometric == "RGB":
            # Keep the source's reversible colour transform (PS3.5 8.2.4): the codec applies
            # it when told YBR_RCT, and undoes it on decoding.
            photometric = "YBR_RCT"
        if source == JPEG2000:
            # pydicom's encoder for this syntax insists on a ratio; 1 keeps every bit.
            options["j2k_cr"] = [1]
        if _fits_profile(source, decoded, photometric):
            return OutputPlan(source, photometric, lossy, options=options)
    return OutputPlan(ExplicitVRLittleEndian, decoded.photometric, lossy)


def _plan_lossy_reencode(ds: Dataset, decoded: DecodedPixels, source: UID) -> OutputPlan | None:
    """A plan that compresses lossy pixels again in their own syntax, or None if impossible."""
    photometric = decoded.photometric
    if source == JPEGLSNearLossless and _fits_profile(source, decoded, photometric):
        near = _jpeg_ls_near(ds, decoded.count)
        return OutputPlan(source, photometric, True, True, {"jls_error": max(near, 1)})
    if source == JPEG2000 and _fits_profile(source, decoded, photometric):
        ratio = _last_ratio(ds)
        return OutputPlan(source, photometric, True, True, {"j2k_cr": [max(ratio, 2.0)]})
    if source == JPEGBaseline8Bit and decoded.bits_allocated == 8 and decoded.samples in (1, 3):
        # Pillow writes JFIF: colour as full-resolution YCbCr.
        written = "YBR_FULL" if decoded.samples == 3 else photometric
        if written in ("MONOCHROME1", "MONOCHROME2", "YBR_FULL"):
            return OutputPlan(source, written, True, True)
    return None


def _fits_profile(syntax: UID, decoded: DecodedPixels, photometric: str) -> bool:
    """Whether ``syntax``'s encoder accepts this pixel format (PS3.5 8.2 via pydicom)."""
    profiles = ENCODING_PROFILES.get(syntax)
    if profiles is None:
        return False
    return any(
        photometric == pi
        and decoded.samples == spp
        and decoded.pixel_representation in reps
        and decoded.bits_allocated in allocated
        and decoded.bits_stored in stored
        for pi, spp, reps, allocated, stored in profiles
    )


def write_frames(
    ds: Dataset,
    decoded: DecodedPixels,
    plan: OutputPlan,
    *,
    verify: bool = True,
) -> None:
    """Encode ``decoded.frames`` per ``plan`` into ``ds`` (Pixel Data, syntax, pixel module).

    With ``verify``, lossless outputs are decoded again and compared to the frames, so a
    codec fault can never ship pixels other than the redacted ones. Any failure raises
    ``FileError("pixel-encode")`` and leaves ``ds`` unfit to write (the caller drops it).
    """
    try:
        if plan.syntax.is_compressed:
            fragments = _encode_compressed(decoded, plan)
            total = sum(len(f) + 8 for f in fragments)
            if total > 2**32 - 1:
                ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = (
                    encapsulate_extended(fragments)
                )
            else:
                ds.PixelData = encapsulate(fragments)
                _drop(ds, "ExtendedOffsetTable", "ExtendedOffsetTableLengths")
            elem = ds["PixelData"]
            elem.VR = VR.OB
            elem.is_undefined_length = True
        else:
            big_endian = not plan.syntax.is_little_endian
            ds.PixelData = _native_bytes(decoded, big_endian=big_endian)
            elem = ds["PixelData"]
            elem.VR = VR.OB if decoded.bits_allocated <= 8 else VR.OW
            elem.is_undefined_length = False
            _drop(ds, "ExtendedOffsetTable", "ExtendedOffsetTableLengths")
        _set_pixel_module(ds, decoded, plan)
        if plan.new_lossy_generation:
            _append_lossy_generation(ds, decoded, plan, len(ds.PixelData))
        if verify and not plan.new_lossy_generation:
            _verify(ds, decoded)
    except CODEC_ERRORS as exc:
        raise FileError("pixel-encode", f"PixelData: {type(exc).__name__}") from exc


def _encode_compressed(decoded: DecodedPixels, plan: OutputPlan) -> list[bytes]:
    if plan.syntax == JPEGBaseline8Bit:
        return [_pillow_jpeg(decoded, i) for i in range(decoded.count)]
    encoder = get_encoder(plan.syntax)
    options: dict[str, Any] = {
        "rows": decoded.rows,
        "columns": decoded.columns,
        "samples_per_pixel": decoded.samples,
        "bits_allocated": decoded.bits_allocated,
        "bits_stored": decoded.bits_stored,
        "pixel_representation": decoded.pixel_representation,
        "photometric_interpretation": plan.photometric,
        "number_of_frames": decoded.count,
        "planar_configuration": 0,
        **plan.options,
    }
    frames = decoded.frames[0] if decoded.count == 1 else decoded.frames
    return [bytes(f) for f in encoder.iter_encode(frames, **options)]


def _pillow_jpeg(decoded: DecodedPixels, index: int) -> bytes:
    """One frame as 8-bit JPEG baseline (Pillow), colour as 4:4:4 YCbCr."""
    from PIL import Image  # only lossy re-encoding needs Pillow

    frame = decoded.frames[index]
    if decoded.photometric == "YBR_FULL":
        frame = convert_color_space(frame, "YBR_FULL", "RGB")
    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, subsampling=0)
    return out.getvalue()


def _native_bytes(decoded: DecodedPixels, *, big_endian: bool) -> bytes:
    """The frames as native Pixel Data bytes (PS3.5 8.1), padded to an even length."""
    frames = decoded.frames
    if decoded.bits_allocated == 1:
        return bytes(pack_bits(frames.ravel(), pad=True))
    if decoded.bits_allocated not in (8, 16, 32, 64):
        raise ValueError(f"BitsAllocated {decoded.bits_allocated} cannot be written natively")
    kind = "i" if frames.dtype.kind == "i" else "u"
    dtype = np.dtype(f"{'>' if big_endian else '<'}{kind}{decoded.bits_allocated // 8}")
    data = frames.astype(dtype, copy=False).tobytes()
    return data + b"\x00" if len(data) % 2 else data


def _set_pixel_module(ds: Dataset, decoded: DecodedPixels, plan: OutputPlan) -> None:
    """Make the Image Pixel module and the file meta describe exactly what was written."""
    ds.PhotometricInterpretation = plan.photometric
    ds.SamplesPerPixel = decoded.samples
    if decoded.samples > 1:
        ds.PlanarConfiguration = 0
    else:
        _drop(ds, "PlanarConfiguration")
    ds.BitsAllocated = decoded.bits_allocated
    ds.BitsStored = decoded.bits_stored
    ds.HighBit = decoded.bits_stored - 1
    ds.PixelRepresentation = decoded.pixel_representation
    ds.Rows = decoded.rows
    ds.Columns = decoded.columns
    if decoded.count > 1 or "NumberOfFrames" in ds:
        ds.NumberOfFrames = decoded.count
    if getattr(ds, "file_meta", None) is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = plan.syntax
    if plan.lossy_source or plan.new_lossy_generation:
        # Once lossy, always flagged (PS3.3 C.7.6.1.1.5); ratio and method stay as they were.
        ds.LossyImageCompression = "01"
    # pydicom caches the decoded array by element identity; make sure nothing stale is reused.
    ds._pixel_array = None
    ds._pixel_id = {}


def _append_lossy_generation(
    ds: Dataset, decoded: DecodedPixels, plan: OutputPlan, compressed_size: int
) -> None:
    """Record this compression as one more lossy generation (ratio and method)."""
    raw_size = decoded.frames.size * decoded.frames.dtype.itemsize
    ratio = f"{raw_size / max(compressed_size, 1):.4g}"[:16]
    ratios = [str(v) for v in _as_list(ds.get("LossyImageCompressionRatio"))]
    methods = [str(v) for v in _as_list(ds.get("LossyImageCompressionMethod"))]
    ds.LossyImageCompressionRatio = [*ratios, ratio]
    ds.LossyImageCompressionMethod = [*methods, _METHODS.get(plan.syntax, "ISO_10918_1")]


def _verify(ds: Dataset, decoded: DecodedPixels) -> None:
    """Decode the written Pixel Data and require it to equal the frames written."""
    again, _ = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, raw=True)
    again = np.asarray(again).reshape(decoded.frames.shape)
    if not np.array_equal(again, decoded.frames):
        raise ValueError("re-decoded PixelData differs from the redacted frames")


def _jpeg_ls_near(ds: Dataset, count: int) -> int:
    """The NEAR parameter of the source's first JPEG-LS scan (ISO 14495-1 C.2.3), or 0."""
    first = next(generate_frames(ds.PixelData, number_of_frames=count), b"")
    start = first.find(b"\xff\xda")
    if start < 0 or len(first) < start + 5:
        return 0
    components = first[start + 4]
    near_at = start + 5 + 2 * components
    return first[near_at] if near_at < len(first) else 0


def _last_ratio(ds: Dataset) -> float:
    """The last LossyImageCompressionRatio of the source, or 10 when it is absent."""
    values = _as_list(ds.get("LossyImageCompressionRatio"))
    last = values[-1] if values else None
    try:
        return float(last) if isinstance(last, int | float | str) else 10.0
    except ValueError:
        return 10.0


def _as_list(value: object) -> list[object]:
    if value is None or value == "":
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _drop(ds: Dataset, *keywords: str) -> None:
    for keyword in keywords:
        if keyword in ds:
            delattr(ds, keyword)
