"""The two OCR text finders the plumbing calls per frame, and the mode -> finder choice.

``AllTextFinder`` blanks every detected text line; ``SensitiveTextFinder`` reads each
line and blanks those that match the file's PHI (or cannot be read). Both prepare the
frame into 8-bit views (:mod:`dicomscrub.pixels.prepare`), detect with the pre-filter
and PP-OCRv4 (:mod:`dicomscrub.pixels.detect`), drop implausibly tall "text" (body
outlines read as a glyph), merge the same line found in several windows, and pad.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from dicomscrub.phi import PhiValues
from dicomscrub.pixels.detect import (
    Detection,
    TextDetector,
    detect_views,
    get_detector,
    rapidocr_config,
)
from dicomscrub.pixels.models import derived_model
from dicomscrub.pixels.prepare import DetectionView, prepare_views
from dicomscrub.pixels.sensitive import (
    UNREADABLE,
    Reading,
    TextRecognizer,
    Uint8Image,
    classify_reading,
    crop_quad,
    get_recognizer,
    is_time_text,
    recognizer_model,
)
from dicomscrub.pixels.types import Box, FrameMeta, TextFinder
from dicomscrub.profile.policy import PixelMode

__all__ = [
    "AllTextFinder",
    "SensitiveTextFinder",
    "TextLine",
    "find_text_lines",
    "make_finder",
    "prepare_models",
    "use_one_core",
]

#: Drop "text" whose short side exceeds this share of the frame's short side (issue 3:
#: it never removed true text, and removed whole-body boxes on low-contrast CT) ...
_MAX_HEIGHT_FRACTION: Final = 0.1
#: ... but never below this many pixels, so big orientation letters on small frames stay.
_MAX_HEIGHT_FLOOR: Final = 48
#: Two detections from different windows with this IoU are the same line.
_SAME_LINE_IOU: Final = 0.5
#: Padding: this share of the line's height, at least _MIN_PAD pixels.
_PAD_FRACTION: Final = 0.15
_MIN_PAD: Final = 3
#: A crop at least this much taller than wide is vertical text.
_VERTICAL_RATIO: Final = 1.5
#: Pieces of one row closer than this many line heights are one phrase ...
_PHRASE_GAP: Final = 1.5
#: ... and a time of day this close to a PHI date belongs to it.
_TIME_GAP: Final = 3.0
#: Line readings remembered per file (a few cine overlays' worth).
_MAX_CACHED_READINGS: Final = 4096


@dataclass
class TextLine:
    """One text line of a frame: its detections (one per window that found it)."""

    detections: list[Detection] = field(default_factory=list)

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """The rectangle around all of the line's detections."""
        x0, y0, x1, y1 = self.detections[0].rect
        for det in self.detections[1:]:
            r = det.rect
            x0, y0, x1, y1 = min(x0, r[0]), min(y0, r[1]), max(x1, r[2]), max(y1, r[3])
        return x0, y0, x1, y1

    def padded_box(self, width: int, height: int, category: str | None) -> Box | None:
        """The line's rectangle grown by its padding, clipped to the frame."""
        x0, y0, x1, y1 = self.rect
        pad = max(_MIN_PAD, math.ceil(_PAD_FRACTION * min(x1 - x0, y1 - y0)))
        return Box(x0 - pad, y0 - pad, x1 + pad, y1 + pad, "ocr", category).clipped(width, height)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def find_text_lines(
    views: Sequence[DetectionView],
    height: int,
    width: int,
    detector: TextDetector,
    *,
    prefilter: bool = True,
) -> list[TextLine]:
    """Detect text in every view and group the detections of the same line."""
    limit = max(_MAX_HEIGHT_FLOOR, _MAX_HEIGHT_FRACTION * min(height, width))
    lines: list[TextLine] = []
    for det in detect_views(views, detector, prefilter=prefilter):
        x0, y0, x1, y1 = det.rect
        if min(x1 - x0, y1 - y0) > limit:
            continue
        for line in lines:
            if _iou(line.rect, det.rect) >= _SAME_LINE_IOU:
                line.detections.append(det)
                break
        else:
            lines.append(TextLine([det]))
    return lines


class AllTextFinder:
    """REDACT_ALL_TEXT: every detected text line, padded.

    ``threads`` is onnxruntime's intra-op thread count (one per process is best when a
    batch runs one process per core).
    """

    def __init__(
        self, detector: TextDetector | None = None, *, prefilter: bool = True, threads: int = 1
    ) -> None:
        self._detector = detector
        self._prefilter = prefilter
        self._threads = threads

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        """Padded boxes of all text in ``frame``."""
        height, width = frame.shape[:2]
        detector = self._detector or get_detector(self._threads)
        lines = find_text_lines(
            prepare_views(frame, meta), height, width, detector, prefilter=self._prefilter
        )
        return [b for line in lines if (b := line.padded_box(width, height, None)) is not None]


class SensitiveTextFinder:
    """REDACT_SENSITIVE_TEXT: text lines whose reading matches the file's PHI.

    Lines that cannot be read confidently are redacted too (category ``unreadable``).
    A PHI category spreads along its row: to a time of day beside a redacted date, and
    to the other pieces of a phrase the detector split (``Saint`` | ``Agatha Memorial
    Hospital``: only the second piece names the institution, both are blanked).
    """

    def __init__(
        self,
        phi: PhiValues,
        detector: TextDetector | None = None,
        recognizer: TextRecognizer | None = None,
        *,
        prefilter: bool = True,
        threads: int = 1,
    ) -> None:
        self._phi = phi
        self._detector = detector
        self._recognizer = recognizer
        self._prefilter = prefilter
        self._threads = threads
        # Readings by crop content: the frames of a cine share their text overlay, so
        # each distinct line image is read once per file (one finder serves one file).
        self._readings: dict[bytes, Reading] = {}

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        """Padded boxes of the PHI text in ``frame``, each with its category."""
        height, width = frame.shape[:2]
        views = prepare_views(frame, meta)
        detector = self._detector or get_detector(self._threads)
        lines = find_text_lines(views, height, width, detector, prefilter=self._prefilter)
        if not lines:
            return []
        recognizer = self._recognizer or get_recognizer(self._threads)
        read = self._read_all(lines, views, recognizer)
        categories = _spread_along_rows(lines, read)
        return [
            b
            for line, category in zip(lines, categories, strict=True)
            if category is not None and (b := line.padded_box(width, height, category)) is not None
        ]

    def _read_all(
        self, lines: Sequence[TextLine], views: Sequence[DetectionView], recognizer: TextRecognizer
    ) -> list[tuple[str | None, str]]:
        """Each line's category and best reading (the text stays in memory, never reported).

        Every line's first detection is read in one batch; a line read as plainly not
        PHI is read again in the other windows that found it, in a second batch.
        """
        readings: list[list[Reading]] = [[] for _ in lines]
        pending = [(i, 0) for i in range(len(lines))]
        while pending:
            crops: list[Uint8Image] = []
            owners: list[int] = []
            for i, d in pending:
                for crop in _crops(lines[i].detections[d], views):
                    crops.append(crop)
                    owners.append(i)
            for owner, reading in zip(owners, self._read(crops, recognizer), strict=True):
                readings[owner].append(reading)
            # PHI (or unreadable) in one window is enough; a confident non-PHI reading
            # is checked in the next window that found the line, which may show PHI.
            pending = [
                (i, d + 1)
                for i, d in pending
                if d + 1 < len(lines[i].detections)
                and classify_reading(readings[i], self._phi) is None
            ]
        out: list[tuple[str | None, str]] = []
        for rs in readings:
            best = max(rs, key=lambda r: r.score).text if rs else ""
            out.append((classify_reading(rs, self._phi), best))
        return out

    def _read(self, crops: Sequence[Uint8Image], recognizer: TextRecognizer) -> list[Reading]:
        """Readings of ``crops``, recognising only those not read before in this file."""
        keys = [_crop_key(c) for c in crops]
        todo = {k: c for k, c in zip(keys, crops, strict=True) if k not in self._readings}
        if len(self._readings) + len(todo) > _MAX_CACHED_READINGS:
            self._readings.clear()
        read = recognizer.read(list(todo.values()), settled=self._is_phi)
        for key, reading in zip(todo, read, strict=True):
            self._readings[key] = reading
        return [self._readings[k] for k in keys]

    def _is_phi(self, reading: Reading) -> bool:
        """Whether ``reading`` matches the file's PHI (its line is blanked whatever else)."""
        category = classify_reading([reading], self._phi)
        return category is not None and category != UNREADABLE


def _crop_key(crop: Uint8Image) -> bytes:
    shape = ",".join(str(n) for n in crop.shape).encode()
    return shape + hashlib.blake2b(crop.tobytes(), digest_size=16).digest()


def _crops(det: Detection, views: Sequence[DetectionView]) -> list[Uint8Image]:
    """The upright crops to read for one detection (both quarter turns if vertical)."""
    view = views[det.view]
    local = det.quad - np.array([view.x0, view.y0], dtype=np.float32)
    crop = crop_quad(view.image, local)
    if crop.shape[0] >= _VERTICAL_RATIO * crop.shape[1]:
        # Vertical text reads either way up: try both quarter turns.
        return [np.ascontiguousarray(np.rot90(crop)), np.ascontiguousarray(np.rot90(crop, 3))]
    return [crop]


def _along(rect: tuple[int, int, int, int], vertical: bool) -> tuple[int, int, int, int]:
    """``rect`` with x and y swapped for vertical text, so its row runs along x."""
    return (rect[1], rect[0], rect[3], rect[2]) if vertical else rect


def _is_vertical(rect: tuple[int, int, int, int]) -> bool:
    return rect[3] - rect[1] >= _VERTICAL_RATIO * (rect[2] - rect[0])


def _same_row(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """Whether two boxes of the same orientation share a text row (or column, if vertical)."""
    ha, hb = a[3] - a[1], b[3] - b[1]
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(ha, hb) and max(ha, hb) <= 1.6 * min(ha, hb)


def _gap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    return max(a[0] - b[2], b[0] - a[2], 0)


def _spread_along_rows(
    lines: Sequence[TextLine], read: Sequence[tuple[str | None, str]]
) -> list[str | None]:
    """Categories, with PHI spread to the pieces of the same phrase and to times by dates.

    Pieces of one phrase sit on one row less than :data:`_PHRASE_GAP` line heights
    apart. A time of day within :data:`_TIME_GAP` heights of a PHI date is a date.
    """
    categories = [category for category, _ in read]
    vertical = [_is_vertical(line.rect) for line in lines]
    changed = True
    while changed:  # a phrase may have more than two pieces
        changed = False
        for i, line in enumerate(lines):
            if categories[i] is not None:
                continue
            rect = _along(line.rect, vertical[i])
            for j, other_line in enumerate(lines):
                category = categories[j]
                if category is None or category == UNREADABLE or vertical[j] != vertical[i]:
                    continue
                other = _along(other_line.rect, vertical[j])
                if not _same_row(rect, other):
                    continue
                # The taller piece's height: a short tail ("enter") is a poor yardstick.
                height = max(rect[3] - rect[1], other[3] - other[1])
                gap = _gap(rect, other)
                is_time = category == "date" and is_time_text(read[i][1])
                if gap < _PHRASE_GAP * height or (is_time and gap < _TIME_GAP * height):
                    categories[i] = category
                    changed = True
                    break
    return categories


def make_finder(mode: PixelMode, phi: PhiValues | None) -> TextFinder | None:
    """The OCR finder for ``mode`` (None for ``none``); ``phi`` is used in sensitive mode."""
    if mode is PixelMode.NONE:
        return None
    if mode is PixelMode.ALL_TEXT:
        return AllTextFinder()
    return SensitiveTextFinder(phi if phi is not None else PhiValues())


def prepare_models(mode: PixelMode) -> None:
    """Derive the cached model files ``mode`` needs (:mod:`dicomscrub.pixels.models`)
    now, without loading them: called before worker processes start, so that they do
    not all derive the same files at once on first use."""
    if mode is PixelMode.NONE:
        return
    config = rapidocr_config(1)
    derived_model(Path(config["Det"]["model_path"]))
    if mode is PixelMode.SENSITIVE_TEXT:
        recognizer_model(Path(config["Rec"]["model_path"]))


def use_one_core() -> None:
    """Limit OpenCV to one thread in this process (onnxruntime already uses one).

    For batch worker processes, one per core: OpenCV's default pool of a thread per
    core would have every worker compete for every core. Even alone on 2 cores, the
    pre-filter took 15-30 % longer with two OpenCV threads than with one (the pixel
    benchmark's 100 frames, OpenCV 4.14; benchmarks/README.md).
    """
    import cv2

    cv2.setNumThreads(1)
