"""redact_pixels end to end: modes, frames, fills, rules, overlays, failures."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from pydicom.data.data_manager import DATA_ROOT
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from dicomscrub.errors import FileError
from dicomscrub.pixels import needs_pixel_work, redact_pixels
from dicomscrub.pixels.frames import decode_frames
from dicomscrub.pixels.rules import load_rules
from dicomscrub.pixels.types import Box, FrameMeta
from dicomscrub.profile.policy import PixelMode, Policy

TEST_FILES = Path(DATA_ROOT) / "test_files"
KEY = b"k" * 32


class FixedBoxes:
    """Seam double of :class:`~dicomscrub.pixels.types.TextFinder`: returns fixed boxes.

    A real implementation of the Protocol (like httpx's MockTransport), not a mock: it
    records what it was given so tests can check which frames reached the detector.
    """

    def __init__(self, *boxes: Box, per_call: list[list[Box]] | None = None) -> None:
        self.boxes = list(boxes)
        self.per_call = per_call
        self.frames: list[npt.NDArray[np.generic]] = []
        self.metas: list[FrameMeta] = []

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        self.frames.append(frame.copy())
        self.metas.append(meta)
        if self.per_call is not None:
            return self.per_call[len(self.frames) - 1]
        return list(self.boxes)


def _read(name: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(TEST_FILES / name)


def _policy(mode: PixelMode = PixelMode.ALL_TEXT, **kwargs: object) -> Policy:
    return Policy(key=KEY, pixels=mode, **kwargs)  # type: ignore[arg-type]


def _roundtrip(ds: Dataset) -> Dataset:
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(io.BytesIO(buffer.getvalue()))


def _cine(frames: list[np.ndarray], syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7.2"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "US"
    ds.set_pixel_data(np.stack(frames), "MONOCHROME2", 8, generate_instance_uid=False)
    if syntax != ExplicitVRLittleEndian:
        ds.compress(syntax, generate_instance_uid=False)
    return _roundtrip(ds)


def _frame(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(10, 250, size=(32, 40), dtype=np.uint8)


def test_all_text_blanks_boxes_with_frame_minimum_and_sets_burned_in_annotation() -> None:
    ds = _read("CT_small.dcm")
    original = ds.pixel_array.copy()
    finder = FixedBoxes(Box(10, 20, 30, 25))
    regions = redact_pixels(ds, _policy(), finder)
    out = _roundtrip(ds)
    assert regions == [{"frame": 0, "box": [10, 20, 30, 25], "reason": "ocr", "category": None}]
    assert (out.pixel_array[20:25, 10:30] == original.min()).all()
    mask = np.ones(original.shape, dtype=bool)
    mask[20:25, 10:30] = False
    assert np.array_equal(out.pixel_array[mask], original[mask])
    assert out.BurnedInAnnotation == "NO"
    assert len(finder.frames) == 1
    assert finder.metas[0].modality == "CT"


def test_nothing_found_keeps_pixel_data_bytes_and_still_sets_burned_in_annotation() -> None:
    ds = _read("SC_rgb_jpeg_gdcm.dcm")
    before = bytes(ds.PixelData)
    syntax = ds.file_meta.TransferSyntaxUID
    assert redact_pixels(ds, _policy(), FixedBoxes()) == []
    assert bytes(ds.PixelData) == before
    assert ds.file_meta.TransferSyntaxUID == syntax
    assert ds.BurnedInAnnotation == "NO"


def test_sensitive_text_leaves_burned_in_annotation_alone() -> None:
    ds = _read("CT_small.dcm")
    ds.BurnedInAnnotation = "YES"
    redact_pixels(ds, _policy(PixelMode.SENSITIVE_TEXT), FixedBoxes(Box(0, 0, 4, 4, "ocr", "name")))
    assert ds.BurnedInAnnotation == "YES"


def test_boxes_are_clipped_to_the_frame() -> None:
    ds = _read("MR_small.dcm")
    regions = redact_pixels(ds, _policy(), FixedBoxes(Box(-5, 60, 10, 99), Box(70, 0, 80, 5)))
    assert [r["box"] for r in regions] == [[0, 60, 10, 64]]


def test_identical_frames_reach_the_finder_once() -> None:
    a, b = _frame(1), _frame(2)
    ds = _cine([a, b, a, a, b], syntax=RLELossless)
    finder = FixedBoxes(Box(0, 0, 5, 5))
    regions = redact_pixels(ds, _policy(), finder)
    assert len(finder.frames) == 2
    assert sorted(r["frame"] for r in regions) == [0, 1, 2, 3, 4]
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == RLELossless
    assert (out.pixel_array[:, :5, :5] == out.pixel_array[:, :5, :5].min()).all()


def test_union_frames_applies_every_frame_s_boxes_to_all_frames() -> None:
    ds = _cine([_frame(1), _frame(2), _frame(3)])
    finder = FixedBoxes(per_call=[[Box(0, 0, 4, 4)], [], [Box(10, 10, 14, 12)]])
    regions = redact_pixels(ds, _policy(union_frames=True), finder)
    assert len(regions) == 6
    assert {tuple(r["box"]) for r in regions if r["frame"] == 1} == {(0, 0, 4, 4), (10, 10, 14, 12)}
    frames = _roundtrip(ds).pixel_array
    for frame in frames:
        assert (frame[0:4, 0:4] == frame.min()).all()
        assert (frame[10:12, 10:14] == frame.min()).all()


def test_without_union_each_frame_keeps_its_own_boxes() -> None:
    ds = _cine([_frame(1), _frame(2)])
    finder = FixedBoxes(per_call=[[Box(0, 0, 4, 4)], []])
    regions = redact_pixels(ds, _policy(), finder)
    assert regions == [{"frame": 0, "box": [0, 0, 4, 4], "reason": "ocr", "category": None}]
    frames = _roundtrip(ds).pixel_array
    assert np.array_equal(frames[1], _frame(2))


def test_monochrome1_fills_with_the_maximum() -> None:
    ds = _read("dicomdirtests/77654033/CR1/6154")
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    original = ds.pixel_array.copy()
    redact_pixels(ds, _policy(), FixedBoxes(Box(0, 0, 4, 4)))
    assert (_roundtrip(ds).pixel_array[:4, :4] == original.max()).all()


@pytest.mark.parametrize("name", ["examples_rgb_color.dcm", "SC_ybr_full_422_uncompressed.dcm"])
def test_colour_fills_display_black(name: str) -> None:
    ds = _read(name)
    redact_pixels(ds, _policy(), FixedBoxes(Box(0, 0, 8, 8)))
    rgb = _roundtrip(ds).pixel_array  # pydicom shows YBR as RGB
    assert (rgb[:8, :8] <= 1).all()


def test_palette_fills_with_the_darkest_entry() -> None:
    ds = _read("examples_palette.dcm")
    redact_pixels(ds, _policy(), FixedBoxes(Box(0, 0, 8, 8)))
    out = _roundtrip(ds)
    index = int(out.pixel_array[0, 0])
    assert (out.pixel_array[:8, :8] == index).all()
    rgb = pydicom.pixels.apply_color_lut(out.pixel_array, out).astype(float)
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    assert luminance[0, 0] == luminance.min()


def test_the_finder_sees_rgb_for_palette_and_ybr() -> None:
    for name in ("examples_palette.dcm", "SC_ybr_full_422_uncompressed.dcm"):
        finder = FixedBoxes()
        redact_pixels(_read(name), _policy(), finder)
        assert finder.frames[0].shape[-1] == 3
        assert finder.metas[0].photometric == "RGB"


def test_overlays_and_icons_are_removed_in_text_modes() -> None:
    ds = _read("examples_overlay.dcm")
    icon = Dataset()
    icon.Rows = 1
    ds.IconImageSequence = Sequence([icon])
    redact_pixels(ds, _policy(), FixedBoxes())
    assert not any(0x6000 <= elem.tag.group <= 0x601E for elem in ds)
    assert "IconImageSequence" not in ds


def test_embedded_overlay_bits_are_cleared_even_without_boxes() -> None:
    ds = _read("CT_small.dcm")
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    pixels = np.full((ds.Rows, ds.Columns), 300, dtype=np.uint16)
    pixels[5, 5:9] |= 1 << 14
    ds.PixelData = pixels.tobytes()
    redact_pixels(ds, _policy(), FixedBoxes())
    raw = np.frombuffer(ds.PixelData, dtype="<u2")
    assert (raw == 300).all()


def test_mode_none_applies_only_rule_regions(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nboxes = [[-10, 0, 65535, 5]]\n[rule.when]\nModality = "mr"\n')
    ds = _read("MR_small.dcm")
    ds.BurnedInAnnotation = "YES"
    policy = _policy(PixelMode.NONE, pixel_rules=load_rules(rules))
    assert needs_pixel_work(ds, policy)
    regions = redact_pixels(ds, policy, None)
    assert regions == [{"frame": 0, "box": [54, 0, 64, 5], "reason": "rule", "category": None}]
    assert ds.BurnedInAnnotation == "YES"
    assert (_roundtrip(ds).pixel_array[0:5, 54:64] == _read("MR_small.dcm").pixel_array.min()).all()


def test_rules_add_to_detected_boxes(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rule]]\nboxes = [[0, 0, 3, 3]]\n")
    ds = _read("MR_small.dcm")
    regions = redact_pixels(
        ds, _policy(pixel_rules=load_rules(rules)), FixedBoxes(Box(10, 10, 12, 12))
    )
    assert {r["reason"] for r in regions} == {"rule", "ocr"}


def test_needs_pixel_work() -> None:
    ds = _read("MR_small.dcm")
    assert needs_pixel_work(ds, _policy())
    assert not needs_pixel_work(ds, _policy(PixelMode.NONE))
    del ds.PixelData
    assert not needs_pixel_work(ds, _policy())
    assert redact_pixels(ds, _policy(), FixedBoxes()) == []


def test_mode_none_without_rules_touches_nothing() -> None:
    ds = _read("examples_overlay.dcm")
    before = bytes(ds.PixelData)
    assert redact_pixels(ds, _policy(PixelMode.NONE), None) == []
    assert bytes(ds.PixelData) == before
    assert any(elem.tag.group == 0x6000 for elem in ds)


def test_text_modes_need_a_finder() -> None:
    with pytest.raises(ValueError, match="TextFinder"):
        redact_pixels(_read("MR_small.dcm"), _policy(), None)


def test_undecodable_pixels_fail_closed() -> None:
    with pytest.raises(FileError) as caught:
        redact_pixels(_read("MR_truncated.dcm"), _policy(), FixedBoxes())
    assert caught.value.code == "pixel-decode"


def test_lossy_source_is_written_decoded_with_lossy_flag() -> None:
    ds = _read("SC_rgb_jpeg_dcmtk.dcm")
    redact_pixels(ds, _policy(), FixedBoxes(Box(0, 0, 10, 10)))
    out = _roundtrip(ds)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert out.LossyImageCompression == "01"
    assert decode_frames(out).frames.shape == (1, 100, 100, 3)
