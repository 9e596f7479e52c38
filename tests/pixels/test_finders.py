"""The two finders on synthetic frames, and the mode -> finder choice."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pydicom
import pytest

from dicomscrub.phi import PhiValues, collect_phi
from dicomscrub.pixels.detect import Detection, is_available
from dicomscrub.pixels.finders import (
    AllTextFinder,
    SensitiveTextFinder,
    TextLine,
    _spread_along_rows,
    make_finder,
)
from dicomscrub.pixels.sensitive import Reading, Settled, Uint8Image, get_recognizer
from dicomscrub.pixels.types import Box
from dicomscrub.profile.policy import PixelMode
from dicomscrub.synthetic.burned_text import (
    GroundTruthBox,
    make_background,
    make_burned_image,
    patient_for_seed,
)

needs_ocr = pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")


def _coverage(t: GroundTruthBox, boxes: list[Box], shape: tuple[int, ...]) -> float:
    mask = np.zeros(shape[:2], bool)
    for b in boxes:
        mask[b.y0 : b.y1, b.x0 : b.x1] = True
    return float(mask[t.y0 : t.y1, t.x0 : t.x1].mean())


def _phi_of(seed: int) -> PhiValues:
    ds = pydicom.Dataset()
    patient_for_seed(seed).apply_to(ds)
    return collect_phi(ds)


@needs_ocr
@pytest.mark.parametrize(("kind", "seed"), [("ct", 21), ("us", 22), ("sizes", 23)])
def test_all_text_covers_planted_text(kind: str, seed: int) -> None:
    pixels, meta, truths = make_burned_image(kind, seed)
    boxes = AllTextFinder().find(pixels, meta)
    covered = [t for t in truths if _coverage(t, boxes, pixels.shape) >= 0.9]
    assert len(covered) >= len(truths) - 1
    assert all(b.reason == "ocr" and b.category is None for b in boxes)
    h, w = pixels.shape[:2]
    assert all(0 <= b.x0 < b.x1 <= w and 0 <= b.y0 < b.y1 <= h for b in boxes)


@needs_ocr
@pytest.mark.parametrize(("kind", "seed"), [("ct", 31), ("us", 32)])
def test_sensitive_text_redacts_phi_and_keeps_labels(kind: str, seed: int) -> None:
    pixels, meta, truths = make_burned_image(kind, seed)
    boxes = SensitiveTextFinder(_phi_of(seed)).find(pixels, meta)
    phi = [t for t in truths if t.phi]
    labels = [t for t in truths if not t.phi]
    missed = [t.category for t in phi if _coverage(t, boxes, pixels.shape) < 0.9]
    assert len(missed) <= 1, missed
    kept = [t for t in labels if _coverage(t, boxes, pixels.shape) < 0.2]
    assert len(kept) >= 0.6 * len(labels)
    assert all(b.category is not None for b in boxes)


@needs_ocr
def test_sensitive_reports_categories_not_text() -> None:
    pixels, meta, _ = make_burned_image("ct", 41)
    boxes = SensitiveTextFinder(_phi_of(41)).find(pixels, meta)
    allowed = {
        "name",
        "id",
        "date",
        "institution",
        "other",
        "phone",
        "email",
        "long-number",
        "unreadable",
    }
    assert boxes and {b.category for b in boxes} <= allowed


@needs_ocr
def test_text_free_slice_gives_no_boxes() -> None:
    pixels, meta = make_background("ct", 7)
    assert AllTextFinder().find(pixels, meta) == []
    assert SensitiveTextFinder(PhiValues(names=("NOBODY",))).find(pixels, meta) == []


@needs_ocr
def test_monochrome1_xray_text_is_found() -> None:
    seed = next(
        s for s in range(60, 90) if make_burned_image("xr", s)[1].photometric == "MONOCHROME1"
    )
    pixels, meta, truths = make_burned_image("xr", seed)
    boxes = AllTextFinder().find(pixels, meta)
    phi = [t for t in truths if t.phi and t.rotation == 0]
    assert sum(_coverage(t, boxes, pixels.shape) >= 0.9 for t in phi) >= len(phi) - 1


def test_make_finder_per_mode() -> None:
    assert make_finder(PixelMode.NONE, None) is None
    assert isinstance(make_finder(PixelMode.ALL_TEXT, None), AllTextFinder)
    assert isinstance(make_finder(PixelMode.SENSITIVE_TEXT, PhiValues()), SensitiveTextFinder)
    assert isinstance(make_finder(PixelMode.SENSITIVE_TEXT, None), SensitiveTextFinder)


def _line(x0: int, y0: int, x1: int, y1: int) -> TextLine:
    quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    return TextLine([Detection(quad, 0)])


def test_phi_spreads_to_the_other_pieces_of_a_phrase() -> None:
    # "Saint" | "Agatha Memorial Hospital" | "Hospital" tail, and a label a row below.
    lines = [_line(10, 10, 50, 24), _line(56, 10, 200, 24), _line(208, 11, 260, 24)]
    lines.append(_line(10, 40, 80, 54))
    read = [
        (None, "Saint"),
        ("institution", "Agatha Memorial"),
        (None, "Hospital"),
        (None, "kV 120"),
    ]
    assert _spread_along_rows(lines, read) == ["institution"] * 3 + [None]


def test_phi_does_not_spread_across_a_wide_gap_or_from_unreadable() -> None:
    lines = [_line(10, 10, 80, 24), _line(200, 10, 260, 24), _line(300, 10, 340, 24)]
    read = [("name", "GRETA"), (None, "kV 120"), ("unreadable", "")]
    assert _spread_along_rows(lines, read) == ["name", None, "unreadable"]


def test_time_beside_a_date_is_a_date() -> None:
    lines = [_line(10, 10, 100, 24), _line(130, 10, 170, 24), _line(300, 10, 340, 24)]
    read = [("date", "2023-11-07"), (None, "07:12"), (None, "14:03")]
    assert _spread_along_rows(lines, read) == ["date", "date", None]


@needs_ocr
def test_all_text_with_two_threads_finds_the_same() -> None:
    pixels, meta, _ = make_burned_image("ct", 21)
    assert AllTextFinder(threads=2).find(pixels, meta) == AllTextFinder().find(pixels, meta)


def test_phi_spreads_along_a_vertical_label() -> None:
    lines = [_line(500, 100, 530, 400), _line(500, 410, 530, 560), _line(560, 100, 590, 300)]
    read = [("institution", "Northgate Cardiothoracic"), (None, "PORTABLE"), (None, "AP")]
    assert _spread_along_rows(lines, read) == ["institution", "institution", None]


class CountingRecognizer:
    """The real recogniser, counting the crops it is asked to read."""

    def __init__(self) -> None:
        self.crops = 0

    def read(self, crops: Sequence[Uint8Image], settled: Settled | None = None) -> list[Reading]:
        self.crops += len(crops)
        return get_recognizer().read(crops, settled)


@needs_ocr
def test_cine_frames_sharing_an_overlay_read_each_line_once() -> None:
    pixels, meta, _ = make_burned_image("ct", 31)
    counting = CountingRecognizer()
    finder = SensitiveTextFinder(_phi_of(31), recognizer=counting)
    first = finder.find(pixels, meta)
    read_once = counting.crops
    assert read_once > 0
    assert finder.find(pixels.copy(), meta) == first
    assert counting.crops == read_once
