"""Text detection behind a small interface: a cheap OpenCV pre-filter, then PP-OCRv4.

The neural detector is the PP-OCRv4 mobile text detector shipped inside the
``rapidocr-onnxruntime`` 1.4.4 wheel (measured in issue 3: 99.1 % of PHI boxes on
synthetic CT/US/X-ray frames). It is loaded from the installed package, never
downloaded, and created once per process on first use. Another engine only has to
implement :class:`TextDetector`.

The pre-filter looks for glyph strokes (a small morphological top-hat above the
frame's noise); a view with no line-shaped or large sparse stroke component and fewer
than three small ones skips the neural detector. The benchmark
(``benchmarks/bench_pixels.py``) checks that it costs no recall.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from dicomscrub.errors import ConfigError
from dicomscrub.pixels.prepare import DetectionView

__all__ = [
    "Detection",
    "RapidOcrDetector",
    "TextDetector",
    "detect_views",
    "get_detector",
    "has_text_candidates",
    "is_available",
    "rapidocr_config",
]

Uint8Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]

_INSTALL_HINT: Final = "pip install 'rapidocr-onnxruntime==1.4.4' opencv-python-headless"
#: Top-hat response (8-bit levels) a stroke must reach at least, whatever the noise.
_MIN_STROKE_CONTRAST: Final = 24
#: ... and this many noise standard deviations.
_NOISE_FACTOR: Final = 6.0
#: Top-hat size: wider than the strokes of 8-28 px text, narrower than anatomy.
_STROKE_KERNEL: Final = 5
#: A view with fewer stroke-like components than this, none of them line-shaped or a
#: large sparse glyph, is treated as text-free.
_MIN_STROKES: Final = 3


class TextDetector(Protocol):
    """Finds text lines in one 8-bit image."""

    def detect(self, image: Uint8Image) -> list[Quad]:
        """Quadrilaterals ``(4, 2)`` (x, y) around each text line, in ``image`` pixels."""
        ...


@dataclass(frozen=True)
class Detection:
    """A text line found in a frame: its quad in frame pixels and the view it came from."""

    quad: Quad
    view: int

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """The axis-aligned ``(x0, y0, x1, y1)`` around the quad."""
        x0, y0 = np.floor(self.quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.quad.max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1) + 1, int(y1) + 1


def is_available() -> bool:
    """Whether the PP-OCRv4 detector can run here (package and model file installed)."""
    for module in ("rapidocr_onnxruntime", "onnxruntime", "cv2"):
        if importlib.util.find_spec(module) is None:
            return False
    return _model_dir().joinpath("ch_PP-OCRv4_det_infer.onnx").is_file()


def _model_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        return Path("/nonexistent")
    return Path(spec.origin).parent / "models"


def rapidocr_config() -> dict[str, Any]:
    """rapidocr-onnxruntime's own configuration with model paths resolved in the wheel."""
    if not is_available():
        raise ConfigError(f"pixel text detection needs the PP-OCRv4 models: {_INSTALL_HINT}")
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path

    root = _model_dir().parent
    config: dict[str, Any] = update_model_path(read_yaml(str(root / "config.yaml")))
    return config


class RapidOcrDetector:
    """PP-OCRv4 mobile text detection (DB) on onnxruntime, from rapidocr-onnxruntime."""

    def __init__(self) -> None:
        from rapidocr_onnxruntime.ch_ppocr_det import TextDetector as _RapidDet

        config = rapidocr_config()["Det"]
        # Keep faint boxes: a missed name costs more than a blanked scale label.
        config["box_thresh"] = 0.4
        self._det = _RapidDet(config)

    def detect(self, image: Uint8Image) -> list[Quad]:
        """Text-line quads of ``image`` (grey or RGB)."""
        import cv2

        if image.ndim == 2:
            bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        else:
            bgr = np.ascontiguousarray(image[..., ::-1])
        boxes, _ = self._det(bgr)
        if boxes is None:
            return []
        return [np.asarray(b, dtype=np.float32) for b in boxes]


@cache
def get_detector() -> RapidOcrDetector:
    """The process-wide detector (the ONNX session is built once, on first use)."""
    return RapidOcrDetector()


def _noise_sigma(gray: Uint8Image) -> float:
    """Noise standard deviation from horizontal differences of the non-flat pixels."""
    step = max(1, gray.shape[0] // 384)
    rows = gray[::step].astype(np.int16)
    diff = np.abs(rows[:, 1:] - rows[:, :-1])
    textured = diff[diff > 0]
    if textured.size == 0:
        return 0.0
    # Half of the pixels of flat noise differ by more than 0.954 sigma*sqrt(2).
    return float(np.median(textured)) / (0.954 * 2**0.5)


def has_text_candidates(image: Uint8Image) -> bool:
    """Whether ``image`` holds glyph strokes; False means clearly text-free."""
    import cv2

    gray: Uint8Image = image.max(axis=2) if image.ndim == 3 else image
    if int(gray.max()) - int(gray.min()) < _MIN_STROKE_CONTRAST:
        return False
    # A light blur takes the edge off pixel noise; a small top-hat keeps only structures
    # a few pixels wide (glyph strokes), not the edges of anatomy.
    smooth = np.asarray(cv2.GaussianBlur(np.ascontiguousarray(gray), (3, 3), 0.7), np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_STROKE_KERNEL, _STROKE_KERNEL))
    response = np.maximum(
        cv2.morphologyEx(smooth, cv2.MORPH_TOPHAT, kernel),  # bright text (the usual case)
        cv2.morphologyEx(smooth, cv2.MORPH_BLACKHAT, kernel),  # dark text on a light ground
    )
    threshold = max(_MIN_STROKE_CONTRAST, _NOISE_FACTOR * _noise_sigma(smooth))
    strokes = (response >= threshold).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    w = stats[1:, cv2.CC_STAT_WIDTH]
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    long_side, short_side = np.maximum(w, h), np.maximum(np.minimum(w, h), 1)
    glyph = (long_side >= 4) & (area >= 6) & (short_side <= 120) & (long_side <= 20 * short_side)
    # Small text merges into one component per line (or block of lines): elongated.
    line = glyph & (long_side >= 12) & (long_side >= 2.5 * short_side)
    # A large glyph on its own is big and sparse; a blob (bone, vessel) fills its box.
    big_glyph = glyph & (short_side >= 8) & (area <= 0.5 * w * h)
    return bool(line.any() or big_glyph.any() or int(glyph.sum()) >= _MIN_STROKES)


def detect_views(
    views: Sequence[DetectionView], detector: TextDetector, *, prefilter: bool = True
) -> list[Detection]:
    """Run ``detector`` on each view (skipping text-free ones) and map quads to the frame."""
    found: list[Detection] = []
    for index, view in enumerate(views):
        if prefilter and not has_text_candidates(view.image):
            continue
        offset = np.array([view.x0, view.y0], dtype=np.float32)
        found.extend(Detection(quad + offset, index) for quad in detector.detect(view.image))
    return found
