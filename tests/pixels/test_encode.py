"""Writing redacted frames back: every bundled image and synthetic gaps, decoded again."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data.data_manager import DATA_ROOT
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from dicomscrub.errors import FileError
from dicomscrub.pixels.encode import is_lossy_source, plan_output, write_frames
from dicomscrub.pixels.frames import decode_frames
from dicomscrub.pixels.redact import fill_values

TEST_FILES = Path(DATA_ROOT) / "test_files"
LOSSLESS_ENCODED = {RLELossless, JPEGLSLossless, JPEG2000Lossless}


def _read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _saves_unmodified(ds: Dataset) -> bool:
    try:
        ds.save_as(io.BytesIO(), enforce_file_format=True)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _bundled_images() -> list[str]:
    """Bundled pydicom files with Pixel Data that pydicom decodes and can save unmodified.

    Only files shipped inside the pydicom package are used: ``get_testdata_files`` would
    also try to download the optional pydicom-data set, which tests must not do.
    """
    names = []
    for path in sorted(p for p in TEST_FILES.rglob("*") if p.is_file() and p.suffix != ".py"):
        try:
            ds = _read(path)
            if "PixelData" not in ds or "TransferSyntaxUID" not in ds.file_meta:
                continue
            ds.pixel_array  # noqa: B018 - the filter is "pydicom decodes it"
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
        if _saves_unmodified(_read(path)):
            names.append(str(path.relative_to(TEST_FILES)))
    return names


BUNDLED = _bundled_images()


def make_image(
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    syntax: str = ExplicitVRLittleEndian,
    **compress_options: object,
) -> Dataset:
    """A minimal secondary-capture dataset holding ``pixels``, encoded in ``syntax``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "OT"
    ds.set_pixel_data(
        pixels, photometric, bits_stored or pixels.dtype.itemsize * 8, generate_instance_uid=False
    )
    if syntax in (ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian):
        ds.file_meta.TransferSyntaxUID = syntax
    elif syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, generate_instance_uid=False, **compress_options)
    return ds


def _roundtrip(ds: Dataset) -> Dataset:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


def _stored(ds: Dataset) -> np.ndarray:
    """All frames as stored (no colour conversion), with a leading frame axis."""
    return decode_frames(ds).frames


def _blank_centre(ds: Dataset) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Decode ``ds``, blank its centre box with the fill values, write it back."""
    decoded = decode_frames(ds)
    h, w = decoded.rows, decoded.columns
    box = (w // 4, h // 4, max(w // 4 + 1, w // 2), max(h // 4 + 1, h // 2))
    fills = fill_values(decoded)
    for index in range(decoded.count):
        decoded.frames[index, box[1] : box[3], box[0] : box[2]] = fills[index]
    expected = decoded.frames.copy()
    write_frames(ds, decoded, plan_output(ds, decoded, lossy_reencode=False))
    return expected, box


def _outside(frames: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.ones(frames.shape[:3], dtype=bool)
    mask[:, box[1] : box[3], box[0] : box[2]] = False
    return frames[mask]


def _dcmdump_ok(ds: Dataset, tmp_path: Path) -> None:
    """dcmtk must parse the written file without an error."""
    if shutil.which("dcmdump") is None:
        pytest.skip("dcmtk's dcmdump is not installed")
    path = tmp_path / "out.dcm"
    ds.save_as(path, enforce_file_format=True)
    result = subprocess.run(
        ["dcmdump", str(path)], capture_output=True, text=True, errors="replace", check=False
    )
    assert result.returncode == 0, result.stderr
    assert "E: " not in result.stderr


def test_bundled_images_are_found() -> None:
    assert len(BUNDLED) >= 60


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_image_roundtrip(name: str, tmp_path: Path) -> None:
    source = _read(TEST_FILES / name)
    syntax = source.file_meta.TransferSyntaxUID
    lossy = is_lossy_source(source, syntax)
    source_photometric = source.PhotometricInterpretation
    original = _stored(_read(TEST_FILES / name))

    ds = _read(TEST_FILES / name)
    expected, box = _blank_centre(ds)
    out = _roundtrip(ds)
    written = _stored(out)

    # Every value written is the redacted array, inside and outside the box.
    assert written.shape == expected.shape
    assert np.array_equal(written, expected)
    # Outside the box, nothing changed from the source's decoded values.
    assert np.array_equal(_outside(written, box), _outside(original, box))
    # Inside the box: one flat value per frame.
    inside = written[:, box[1] : box[3], box[0] : box[2]].reshape(
        written.shape[0], -1, *written.shape[3:]
    )
    assert all((frame == frame[0]).all() for frame in inside)

    out_syntax = out.file_meta.TransferSyntaxUID
    if lossy:
        assert out_syntax == ExplicitVRLittleEndian
        assert out.LossyImageCompression == "01"
        for keyword in ("LossyImageCompressionRatio", "LossyImageCompressionMethod"):
            assert out.get(keyword) == source.get(keyword)
    elif not syntax.is_compressed or (syntax in LOSSLESS_ENCODED and source.BitsAllocated <= 16):
        assert out_syntax == syntax
    else:
        assert out_syntax == ExplicitVRLittleEndian

    if source_photometric in ("YBR_FULL_422", "YBR_FULL"):
        assert out.PhotometricInterpretation in ("YBR_FULL", "RGB")
    elif source_photometric in ("YBR_RCT", "YBR_ICT"):
        assert out.PhotometricInterpretation in (source_photometric, "RGB")
    else:
        assert out.PhotometricInterpretation == source_photometric
    if out.SamplesPerPixel == 3:
        assert out.PlanarConfiguration == 0
    else:
        assert "PlanarConfiguration" not in out
    assert out.HighBit == out.BitsStored - 1
    _dcmdump_ok(out, tmp_path)


def _ramp(frames: int, rows: int, cols: int, dtype: str, low: int, high: int) -> np.ndarray:
    values = np.linspace(low, high, frames * rows * cols)
    return values.reshape(frames, rows, cols).astype(dtype).squeeze(axis=0 if frames == 1 else ())


SYNTHETIC_SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    RLELossless,
    JPEGLSLossless,
    JPEG2000Lossless,
]

SYNTHETIC_IMAGES = {
    "signed-16": (lambda: _ramp(1, 40, 48, "int16", -32768, 32767), "MONOCHROME2", 16),
    "signed-12": (lambda: _ramp(1, 40, 48, "int16", -2048, 2047), "MONOCHROME2", 12),
    "unsigned-12": (lambda: _ramp(1, 40, 48, "uint16", 0, 4095), "MONOCHROME2", 12),
    "monochrome1": (lambda: _ramp(1, 40, 48, "uint16", 0, 1023), "MONOCHROME1", 10),
    "rgb-8": (
        lambda: np.stack([_ramp(1, 40, 48, "uint8", 0, 255)] * 3, axis=-1),
        "RGB",
        8,
    ),
    "cine-8": (
        lambda: np.repeat(_ramp(1, 40, 48, "uint8", 0, 255)[None], 4, axis=0),
        "MONOCHROME2",
        8,
    ),
}


@pytest.mark.parametrize("syntax", SYNTHETIC_SYNTAXES, ids=lambda s: s.name)
@pytest.mark.parametrize("kind", SYNTHETIC_IMAGES)
def test_synthetic_roundtrip(kind: str, syntax: str, tmp_path: Path) -> None:
    build, photometric, bits = SYNTHETIC_IMAGES[kind]
    pixels = build()
    ds = make_image(pixels, photometric=photometric, bits_stored=bits, syntax=syntax)
    source = _roundtrip(ds)
    original = _stored(source)

    expected, box = _blank_centre(source)
    out = _roundtrip(source)
    written = _stored(out)

    assert out.file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(written, expected)
    assert np.array_equal(_outside(written, box), _outside(original, box))
    fill = written[0, box[1], box[0]]
    if photometric == "MONOCHROME1":
        assert fill == original[0].max()
    elif photometric == "MONOCHROME2":
        assert fill == original[0].min()
    else:
        assert (fill == 0).all()
    assert out.BitsStored == bits
    assert out.PixelRepresentation == (1 if pixels.dtype.kind == "i" else 0)
    assert int(out.get("NumberOfFrames", 1)) == original.shape[0]
    _dcmdump_ok(out, tmp_path)


def test_jpeg2000_not_marked_lossy_is_rewritten_losslessly_in_its_syntax() -> None:
    pixels = _ramp(1, 40, 48, "uint16", 0, 4095)
    source = _roundtrip(make_image(pixels, bits_stored=12, syntax=JPEG2000, j2k_cr=[1]))
    assert not is_lossy_source(source, JPEG2000)
    original = _stored(source)
    expected, box = _blank_centre(source)
    out = _roundtrip(source)
    assert out.file_meta.TransferSyntaxUID == JPEG2000
    assert np.array_equal(_stored(out), expected)
    assert np.array_equal(_outside(_stored(out), box), _outside(original, box))
    assert "LossyImageCompression" not in out


@pytest.mark.skipif(shutil.which("dcmdrle") is None, reason="dcmtk is not installed")
@pytest.mark.parametrize(
    ("syntax", "tool"), [(RLELossless, "dcmdrle"), (JPEGLSLossless, "dcmdjpls")]
)
def test_dcmtk_decodes_our_encoding(syntax: str, tool: str, tmp_path: Path) -> None:
    """An independent decoder (dcmtk) reads our RLE and JPEG-LS output to the same values."""
    pixels = _ramp(1, 40, 48, "int16", -2048, 2047)
    source = _roundtrip(make_image(pixels, bits_stored=12, syntax=syntax))
    expected, _ = _blank_centre(source)
    encoded = tmp_path / "encoded.dcm"
    decoded = tmp_path / "decoded.dcm"
    source.save_as(encoded, enforce_file_format=True)
    subprocess.run([tool, str(encoded), str(decoded)], check=True, capture_output=True)
    assert np.array_equal(pydicom.dcmread(decoded).pixel_array, expected[0])


def test_lossy_source_keeps_lossy_attributes_and_is_written_decoded() -> None:
    ds = _read(TEST_FILES / "SC_rgb_dcmtk_+eb+cy+np.dcm")
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    _blank_centre(ds)
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.LossyImageCompression == "01"
    assert out.LossyImageCompressionMethod == "ISO_10918_1"
    assert out.PhotometricInterpretation == "YBR_FULL"


def test_lossy_source_without_flag_is_flagged() -> None:
    ds = _read(TEST_FILES / "SC_jpeg_no_color_transform.dcm")
    del ds.LossyImageCompression
    _blank_centre(ds)
    assert ds.LossyImageCompression == "01"


@pytest.mark.parametrize(
    ("name", "syntax", "method"),
    [
        ("JPEGLSNearLossless_16.dcm", JPEGLSNearLossless, "ISO_14495_1"),
        ("SC_rgb_jls_lossy_line.dcm", JPEGLSNearLossless, "ISO_14495_1"),
        ("693_J2KI.dcm", JPEG2000, "ISO_15444_1"),
        ("SC_rgb_jpeg_dcmtk.dcm", JPEGBaseline8Bit, "ISO_10918_1"),
        ("JPGExtended.dcm", ExplicitVRLittleEndian, None),
    ],
)
def test_lossy_reencode(name: str, syntax: str, method: str | None) -> None:
    ds = _read(TEST_FILES / name)
    methods_before = list(_as_list(ds.get("LossyImageCompressionMethod")))
    ratios_before = list(_as_list(ds.get("LossyImageCompressionRatio")))
    decoded = decode_frames(ds)
    decoded.frames[:, :4, :4] = fill_values(decoded)[0]
    write_frames(ds, decoded, plan_output(ds, decoded, lossy_reencode=True))
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == syntax
    assert out.LossyImageCompression == "01"
    again = _stored(out)
    assert again.shape == decoded.frames.shape
    if method is None:
        assert np.array_equal(again, decoded.frames)
        return
    assert list(_as_list(out.LossyImageCompressionMethod)) == [*methods_before, method]
    assert len(_as_list(out.LossyImageCompressionRatio)) == len(ratios_before) + 1
    # A new lossy generation stays close to what was redacted.
    difference = np.abs(again.astype(np.int64) - decoded.frames.astype(np.int64))
    assert float(difference.mean()) < 0.02 * float(np.ptp(decoded.frames) or 1)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, str) or not hasattr(value, "__len__"):
        return [value]
    return list(value)  # type: ignore[call-overload]


def test_jpeg_ls_near_is_taken_from_the_source() -> None:
    ds = _read(TEST_FILES / "JPEGLSNearLossless_08.dcm")
    decoded = decode_frames(ds)
    plan = plan_output(ds, decoded, lossy_reencode=True)
    assert plan.syntax == JPEGLSNearLossless
    assert plan.options["jls_error"] >= 1


def test_unwritable_pixel_format_fails_closed() -> None:
    ds = _read(TEST_FILES / "CT_small.dcm")
    decoded = decode_frames(ds)
    decoded.bits_allocated = 24  # no native encoding of 24-bit samples exists
    with pytest.raises(FileError) as caught:
        write_frames(ds, decoded, plan_output(ds, decoded, lossy_reencode=False))
    assert caught.value.code == "pixel-encode"


def test_big_endian_stays_big_endian() -> None:
    ds = _read(TEST_FILES / "MR_small_bigendian.dcm")
    original = _stored(_read(TEST_FILES / "MR_small_bigendian.dcm"))
    expected, box = _blank_centre(ds)
    out = _roundtrip(ds)
    assert not out.file_meta.TransferSyntaxUID.is_little_endian
    assert np.array_equal(_stored(out), expected)
    assert np.array_equal(_outside(_stored(out), box), _outside(original, box))


def test_one_bit_pixels_are_packed_again() -> None:
    ds = _read(TEST_FILES / "liver_1frame.dcm")
    expected, _ = _blank_centre(ds)
    out = _roundtrip(ds)
    assert out.BitsAllocated == 1
    assert (
        len(out.PixelData)
        == (out.Rows * out.Columns + 7) // 8 + ((out.Rows * out.Columns + 7) // 8) % 2
    )
    assert np.array_equal(_stored(out), expected)


def test_lossless_syntax_with_earlier_lossy_step_stays_in_its_syntax() -> None:
    ds = _read(TEST_FILES / "MR_small_RLE.dcm")
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = 8
    _blank_centre(ds)
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == RLELossless
    assert out.LossyImageCompression == "01"
    assert out.LossyImageCompressionRatio == 8
