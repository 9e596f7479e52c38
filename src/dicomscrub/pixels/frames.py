"""Decode a dataset's Pixel Data into one numpy array of frames, whatever its transfer syntax.

Decoding goes through pydicom's decoders, so every transfer syntax that pydicom decodes with
the installed plugins (pylibjpeg-libjpeg, -openjpeg, -rle, python-gdcm, pyjpegls) works:
native little/big endian, implicit, deflated, RLE, JPEG baseline/extended/lossless, JPEG-LS
and JPEG 2000. The array keeps the *stored* colour space (``raw=True``), so writing it back
changes no value outside the redacted boxes; :meth:`DecodedPixels.detection_frame` gives the
detector an RGB view of colour frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.pixels.decoders.base import get_decoder
from pydicom.pixels.processing import apply_color_lut, convert_color_space
from pydicom.uid import UID

from dicomscrub.errors import FileError
from dicomscrub.pixels.types import FrameMeta

__all__ = ["CODEC_ERRORS", "DecodedPixels", "decode_frames"]

#: What pydicom and its plugins raise on pixel data they cannot decode or encode. pydicom has no
#: common base class for decoding failures, so the set is spelled out here, at the one
#: boundary where they become ``FileError("pixel-decode")`` or ``"pixel-encode"``.
CODEC_ERRORS: tuple[type[Exception], ...] = (
    AttributeError,
    IndexError,
    KeyError,
    NotImplementedError,
    OSError,
    RuntimeError,
    TypeError,
    ValueError,
)

# Photometric interpretations whose decoded values we can keep and write back as they are.
_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
_KEPT = (*_MONOCHROME, "PALETTE COLOR", "RGB", "YBR_FULL")


@dataclass
class DecodedPixels:
    """All frames of one dataset, decoded once, in the colour space they are stored in.

    ``frames`` has shape ``(frames, rows, columns)`` or ``(frames, rows, columns, samples)``,
    native byte order, writeable. ``photometric`` is the PhotometricInterpretation of
    ``frames``: YBR_FULL_422 sources arrive up-sampled as ``"YBR_FULL"``, JPEG 2000
    YBR_RCT/YBR_ICT sources arrive as ``"RGB"`` (the codec undoes its colour transform).
    ``high_bits_cleared`` is true when bits above BitsStored were set in the source (an
    embedded overlay or garbage) and have been cleared in ``frames``.
    """

    frames: npt.NDArray[np.generic]
    photometric: str
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    source_syntax: UID
    high_bits_cleared: bool
    meta: FrameMeta
    palette_ds: Dataset | None = None

    @property
    def count(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    @property
    def rows(self) -> int:
        return int(self.frames.shape[1])

    @property
    def columns(self) -> int:
        return int(self.frames.shape[2])

    @property
    def samples(self) -> int:
        return 1 if self.frames.ndim == 3 else int(self.frames.shape[3])

    def detection_frame(self, index: int) -> npt.NDArray[np.generic]:
        """Frame ``index`` as the detector sees it: RGB for colour, stored values otherwise."""
        frame = self.frames[index]
        if self.photometric == "YBR_FULL":
            return np.asarray(convert_color_space(frame, "YBR_FULL", "RGB"))
        if self.photometric == "PALETTE COLOR" and self.palette_ds is not None:
            return np.asarray(apply_color_lut(frame, self.palette_ds))
        return np.asarray(frame)


def decode_frames(ds: Dataset) -> DecodedPixels:
    """Decode every frame of ``ds``'s Pixel Data; ``FileError("pixel-decode")`` if impossible.

    The dataset is not modified.
    """
    try:
        syntax = UID(ds.file_meta.TransferSyntaxUID)
        decoder = get_decoder(syntax)
        # Unused high bits are cleared below, where we can tell whether they held anything.
        options: dict[str, Any] = {"correct_unused_bits": False}
        raw, props = decoder.as_array(ds, raw=True, **options)
    except CODEC_ERRORS as exc:
        raise FileError("pixel-decode", f"PixelData: {type(exc).__name__}") from exc

    photometric = str(props.get("photometric_interpretation", ds.PhotometricInterpretation))
    samples = int(props.get("samples_per_pixel", 1))
    bits_allocated = int(props["bits_allocated"])
    bits_stored = int(props["bits_stored"])
    pixel_representation = int(props["pixel_representation"])
    # JPEG codecs hand back full-resolution YCbCr for YBR_FULL_422; natively encoded 422
    # is up-sampled by pydicom. Either way the array holds YBR_FULL values.
    if photometric == "YBR_FULL_422":
        photometric = "YBR_FULL"
    if photometric not in _KEPT or (samples == 3) != (photometric in ("RGB", "YBR_FULL")):
        raise FileError("pixel-decode", f"PhotometricInterpretation {photometric} unsupported")

    frames = _as_frames(np.asarray(raw), samples)
    frames, cleared = _clear_unused_bits(frames, bits_allocated, bits_stored)
    meta = _frame_meta(ds, photometric, bits_stored, pixel_representation)
    return DecodedPixels(
        frames=frames,
        photometric=photometric,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=pixel_representation,
        source_syntax=syntax,
        high_bits_cleared=cleared,
        meta=meta,
        palette_ds=ds if photometric == "PALETTE COLOR" else None,
    )


def _as_frames(arr: npt.NDArray[np.generic], samples: int) -> npt.NDArray[np.generic]:
    """``arr`` with a leading frame axis, native byte order, writeable."""
    single = arr.ndim == (3 if samples > 1 else 2)
    if single:
        arr = arr[np.newaxis, ...]
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.writeable or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr).copy()
    return arr


def _clear_unused_bits(
    frames: npt.NDArray[np.generic], bits_allocated: int, bits_stored: int
) -> tuple[npt.NDArray[np.generic], bool]:
    """Clear (or sign-extend) the bits above BitsStored; tell whether any value changed.

    Those bits may carry an embedded overlay (PS3.3 C.9.2, retired) which can hold text;
    the stored values themselves are unchanged.
    """
    shift = frames.dtype.itemsize * 8 - bits_stored
    if bits_allocated == 1 or shift <= 0 or frames.dtype.kind not in "iu":
        return frames, False
    corrected = np.right_shift(np.left_shift(frames, shift), shift)
    if np.array_equal(corrected, frames):
        return frames, False
    # Signed values stored without sign extension are clean too: only their high bits differ.
    unsigned = frames.view(frames.dtype.str.replace("i", "u"))
    low_only = np.bitwise_and(unsigned, (1 << bits_stored) - 1)
    return corrected, not np.array_equal(low_only, unsigned)


def _frame_meta(
    ds: Dataset, photometric: str, bits_stored: int, pixel_representation: int
) -> FrameMeta:
    """What the detector is told about each frame (colour and palette frames arrive as RGB)."""
    shown = photometric
    if photometric in ("YBR_FULL", "PALETTE COLOR"):
        shown = "RGB"
    if photometric == "PALETTE COLOR":
        # apply_color_lut returns 8- or 16-bit RGB depending on the palette's entry size.
        descriptor = ds.get("RedPaletteColorLookupTableDescriptor")
        bits_stored = 16 if descriptor is not None and int(descriptor[2]) > 8 else 8
        pixel_representation = 0
    return FrameMeta(
        photometric=shown,
        bits_stored=bits_stored,
        pixel_representation=pixel_representation,
        window_center=_first_number(ds.get("WindowCenter")),
        window_width=_first_number(ds.get("WindowWidth")),
        rescale_slope=_first_number(ds.get("RescaleSlope")) or 1.0,
        rescale_intercept=_first_number(ds.get("RescaleIntercept")) or 0.0,
        modality=str(ds.Modality) if ds.get("Modality") else None,
    )


def _first_number(value: object) -> float | None:
    """The first value of a possibly multi-valued numeric attribute, or None."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        value = value[0] if len(value) else None
    if not isinstance(value, int | float | str) or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return None
