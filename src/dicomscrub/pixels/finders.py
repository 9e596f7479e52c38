"""The two OCR text finders the plumbing calls per frame, and the mode -> finder choice.

``AllTextFinder`` blanks every detected text line; ``SensitiveTextFinder`` reads each
line and blanks those that match the file's PHI (or cannot be read). Both prepare the
frame into 8-bit views (:mod:`dicomscrub.pixels.prepare`), detect with the pre-filter
and PP-OCRv4 (:mod:`dicomscrub.pixels.detect`), drop implausibly tall "text" (body
outlines read as a glyph), merge the same line found in several windows, and pad.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from dicomscrub.phi import PhiValues
from dicomscrub.pixels.detect import Detection, TextDetector, detect_views, get_detector
from dicomscrub.pixels.prepare import DetectionView, prepare_views
from dicomscrub.pixels.sensitive import (
    UNREADABLE,
    Reading,
    TextRecognizer,
    classify_reading,
    crop_quad,
    get_recognizer,
    is_time_text,
)
from dicomscrub.pixels.types import Box, FrameMeta, TextFinder
from dicomscrub.profile.policy import PixelMode

__all__ = ["AllTextFinder", "SensitiveTextFinder", "TextLine", "find_text_lines", "make_finder"]

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


@dataclass
class TextLine:
    """One text line of a frame: its detections (one per window that found it)."""

    detections: list[Detection] = field(default_factory=list)

    @property
    def rect(self) -> tuple[int, int, int, int]:
        rects = [d.rect for d in self.detections]
        return (
            min(r[0] for r in rects),
            min(r[1] for r in rects),
            max(r[2] for r in rects),
            max(r[3] for r in rects),
        )

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
    """REDACT_ALL_TEXT: every detected text line, padded."""

    def __init__(self, detector: TextDetector | None = None, *, prefilter: bool = True) -> None:
        self._detector = detector
        self._prefilter = prefilter

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        """Padded boxes of all text in ``frame``."""
        height, width = frame.shape[:2]
        detector = self._detector or get_detector()
        lines = find_text_lines(
            prepare_views(frame, meta), height, width, detector, prefilter=self._prefilter
        )
        return [b for line in lines if (b := line.padded_box(width, height, None)) is not None]


class SensitiveTextFinder:
    """REDACT_SENSITIVE_TEXT: text lines whose reading matches the file's PHI.

    Lines that cannot be read confidently are redacted too (category ``unreadable``),
    and so is a time of day on the same line as a redacted date.
    """

    def __init__(
        self,
        phi: PhiValues,
        detector: TextDetector | None = None,
        recognizer: TextRecognizer | None = None,
        *,
        prefilter: bool = True,
    ) -> None:
        self._phi = phi
        self._detector = detector
        self._recognizer = recognizer
        self._prefilter = prefilter

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        """Padded boxes of the PHI text in ``frame``, each with its category."""
        height, width = frame.shape[:2]
        views = prepare_views(frame, meta)
        detector = self._detector or get_detector()
        lines = find_text_lines(views, height, width, detector, prefilter=self._prefilter)
        if not lines:
            return []
        recognizer = self._recognizer or get_recognizer()
        read = [self._categorize(line, views, recognizer) for line in lines]
        categories = _times_next_to_dates(lines, read)
        return [
            b
            for line, category in zip(lines, categories, strict=True)
            if category is not None and (b := line.padded_box(width, height, category)) is not None
        ]

    def _categorize(
        self, line: TextLine, views: Sequence[DetectionView], recognizer: TextRecognizer
    ) -> tuple[str | None, str]:
        """The line's category and its best reading (text stays in memory, never reported)."""
        readings: list[Reading] = []
        category: str | None = UNREADABLE
        for det in line.detections:
            view = views[det.view]
            local = det.quad - np.array([view.x0, view.y0], dtype=np.float32)
            crop = crop_quad(view.image, local)
            crops = [crop]
            if crop.shape[0] >= _VERTICAL_RATIO * crop.shape[1]:
                # Vertical text reads either way up: try both quarter turns.
                crops = [
                    np.ascontiguousarray(np.rot90(crop)),
                    np.ascontiguousarray(np.rot90(crop, 3)),
                ]
            readings.extend(recognizer.read(crops))
            category = classify_reading(readings, self._phi)
            if category is not None:
                break  # PHI (or unreadable) in one window is enough; later windows cannot clear it
            # else: a confident non-PHI reading; another window might still show PHI
        best = max(readings, key=lambda r: r.score).text if readings else ""
        return category, best


def _times_next_to_dates(
    lines: Sequence[TextLine], read: Sequence[tuple[str | None, str]]
) -> list[str | None]:
    """Categories, with a time of day on the same row as a PHI date counted as a date."""
    categories = [category for category, _ in read]
    dates = [
        line.rect for line, (category, _) in zip(lines, read, strict=True) if category == "date"
    ]
    for i, (line, (category, text)) in enumerate(zip(lines, read, strict=True)):
        if category is not None or not is_time_text(text):
            continue
        x0, y0, x1, y1 = line.rect
        height = y1 - y0
        for dx0, dy0, dx1, dy1 in dates:
            same_row = min(y1, dy1) - max(y0, dy0) > 0.5 * min(height, dy1 - dy0)
            near = max(dx0 - x1, x0 - dx1) < 3 * height
            if same_row and near:
                categories[i] = "date"
                break
    return categories


def make_finder(mode: PixelMode, phi: PhiValues | None) -> TextFinder | None:
    """The OCR finder for ``mode`` (None for ``none``); ``phi`` is used in sensitive mode."""
    if mode is PixelMode.NONE:
        return None
    if mode is PixelMode.ALL_TEXT:
        return AllTextFinder()
    return SensitiveTextFinder(phi if phi is not None else PhiValues())
