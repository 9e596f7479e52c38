"""The small types shared by pixel decoding, text detection and redaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Box", "FrameMeta", "TextFinder"]


@dataclass(frozen=True)
class FrameMeta:
    """What a detector needs to know about one decoded frame.

    ``photometric`` is the PhotometricInterpretation of the *decoded* array (pydicom
    converts YBR to RGB when decoding, so colour frames arrive as ``"RGB"``).
    """

    photometric: str
    bits_stored: int
    pixel_representation: int
    window_center: float | None = None
    window_width: float | None = None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    modality: str | None = None


@dataclass(frozen=True)
class Box:
    """A rectangle of one frame to blank: columns ``x0..x1-1``, rows ``y0..y1-1``.

    ``reason`` is ``"ocr"`` or ``"rule"``; ``category`` is the PHI category matched in
    sensitive-text mode (``"name"``, ``"id"``, ``"date"``, ...), never the text itself.
    """

    x0: int
    y0: int
    x1: int
    y1: int
    reason: str = "ocr"
    category: str | None = None

    def clipped(self, width: int, height: int) -> Box | None:
        """This box limited to a ``width`` x ``height`` frame, or None if nothing is left."""
        x0, y0 = max(0, self.x0), max(0, self.y0)
        x1, y1 = min(width, self.x1), min(height, self.y1)
        if x0 >= x1 or y0 >= y1:
            return None
        return Box(x0, y0, x1, y1, self.reason, self.category)

    def to_json(self, frame: int) -> dict[str, object]:
        return {
            "frame": frame,
            "box": [self.x0, self.y0, self.x1, self.y1],
            "reason": self.reason,
            "category": self.category,
        }


class TextFinder(Protocol):
    """Finds the boxes of one frame to redact under one mode (all-text or sensitive-text)."""

    def find(self, frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Box]:
        """Boxes (padded, in frame pixel coordinates) of the text to blank in ``frame``."""
        ...
