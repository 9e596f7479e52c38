"""Decoding frames: every bundled image, colour spaces, unused bits, failures."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data.data_manager import DATA_ROOT
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

from dicomscrub.errors import FileError
from dicomscrub.pixels.frames import decode_frames

TEST_FILES = Path(DATA_ROOT) / "test_files"


def _read(name: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(TEST_FILES / name)


def _decodable() -> list[str]:
    """Bundled files (shipped in the pydicom package) whose Pixel Data pydicom decodes."""
    names = []
    for path in sorted(p for p in TEST_FILES.rglob("*") if p.is_file() and p.suffix != ".py"):
        name = str(path.relative_to(TEST_FILES))
        try:
            ds = _read(name)
            if "PixelData" in ds:
                ds.pixel_array  # noqa: B018 - the filter is "pydicom decodes it"
                names.append(name)
        except (
            AttributeError,
            InvalidDicomError,
            KeyError,
            OSError,
            RuntimeError,
            TypeError,
            ValueError,
        ):
            continue
    return names


DECODABLE = _decodable()


@pytest.mark.parametrize("name", DECODABLE)
def test_decodes_like_pydicom(name: str) -> None:
    ds = _read(name)
    decoded = decode_frames(ds)
    reference = _read(name).pixel_array  # pydicom: YBR converted to RGB, unused bits cleared
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames == 1:
        reference = reference[np.newaxis, ...]
    assert decoded.count == frames
    assert decoded.frames.shape == reference.shape
    assert decoded.frames.dtype.isnative
    assert decoded.frames.flags.writeable
    as_detected = np.stack([decoded.detection_frame(i) for i in range(decoded.count)])
    if decoded.photometric == "PALETTE COLOR":
        assert as_detected.shape == (*reference.shape, 3)
        assert decoded.meta.photometric == "RGB"
    elif decoded.photometric == "YBR_FULL":
        # The stored YCbCr values are kept; the detector gets pydicom's RGB conversion.
        assert np.array_equal(as_detected, reference)
        assert decoded.meta.photometric == "RGB"
    else:
        assert np.array_equal(decoded.frames, reference.astype(reference.dtype.newbyteorder("=")))
        assert decoded.meta.photometric == decoded.photometric
    if decoded.photometric == "PALETTE COLOR":
        # The detector sees the palette's RGB, 8 or 16 bits per entry.
        assert decoded.meta.bits_stored == as_detected.dtype.itemsize * 8
    else:
        assert decoded.meta.bits_stored == decoded.bits_stored


def test_decodable_set_covers_the_syntaxes() -> None:
    syntaxes = {_read(name).file_meta.TransferSyntaxUID.name for name in DECODABLE}
    for needed in (
        "Explicit VR Little Endian",
        "Implicit VR Little Endian",
        "Explicit VR Big Endian",
        "Deflated Explicit VR Little Endian",
        "RLE Lossless",
        "JPEG Baseline (Process 1)",
        "JPEG Extended (Process 2 and 4)",
        "JPEG-LS Lossless Image Compression",
        "JPEG 2000 Image Compression (Lossless Only)",
    ):
        assert needed in syntaxes


def test_ybr_full_422_is_upsampled_and_kept_as_ybr_full() -> None:
    decoded = decode_frames(_read("SC_ybr_full_422_uncompressed.dcm"))
    assert decoded.photometric == "YBR_FULL"
    assert decoded.frames.shape == (1, 100, 100, 3)


def test_j2k_reversible_colour_arrives_as_rgb() -> None:
    decoded = decode_frames(_read("GDCMJ2K_TextGBR.dcm"))
    assert decoded.photometric == "RGB"


def test_frame_meta_carries_window_and_rescale() -> None:
    ds = _read("CT_small.dcm")
    ds.WindowCenter = [40, 400]
    ds.WindowWidth = 400
    meta = decode_frames(ds).meta
    assert meta.window_center == 40.0
    assert meta.window_width == 400.0
    assert meta.rescale_slope == float(ds.RescaleSlope)
    assert meta.rescale_intercept == float(ds.RescaleIntercept)
    assert meta.modality == "CT"
    assert meta.pixel_representation == 1


def _native(pixels: np.ndarray, bits_stored: int, signed: bool) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def test_embedded_overlay_bits_are_cleared() -> None:
    pixels = np.full((8, 8), 100, dtype=np.uint16)
    pixels[2, 3:6] |= 1 << 15  # an embedded overlay in bit 15 of 12-bit data
    decoded = decode_frames(_native(pixels, 12, signed=False))
    assert decoded.high_bits_cleared
    assert (decoded.frames == 100).all()


def test_clean_unused_bits_are_not_flagged() -> None:
    decoded = decode_frames(_native(np.full((8, 8), 4095, dtype=np.uint16), 12, signed=False))
    assert not decoded.high_bits_cleared


def test_signed_values_without_sign_extension_are_not_flagged() -> None:
    # -1 in 12 bits stored as 0x0FFF, high bits left at zero: clean, read as -1.
    decoded = decode_frames(_native(np.full((8, 8), 0x0FFF, dtype=np.uint16), 12, signed=True))
    assert not decoded.high_bits_cleared
    assert (decoded.frames == -1).all()


@pytest.mark.parametrize("name", ["MR_truncated.dcm", "meta_missing_tsyntax.dcm"])
def test_undecodable_bundled_files_fail_closed(name: str) -> None:
    with pytest.raises(FileError) as caught:
        decode_frames(_read(name))
    assert caught.value.code == "pixel-decode"


def test_corrupt_jpeg_fails_closed() -> None:
    ds = _native(np.zeros((8, 8), dtype=np.uint16), 8, signed=False)
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb not a jpeg \xff\xd9"])
    with pytest.raises(FileError) as caught:
        decode_frames(ds)
    assert caught.value.code == "pixel-decode"
