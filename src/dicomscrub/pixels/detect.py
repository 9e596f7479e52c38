"""Text detection behind a small interface: PP-OCRv4 on the candidate regions of a frame.

The neural detector is the PP-OCRv4 mobile text detector shipped inside the
``rapidocr-onnxruntime`` 1.4.4 wheel (measured in issue 3: 99.1 % of PHI boxes on
synthetic CT/US/X-ray frames). It is loaded from the installed package, never
downloaded, folded into a faster copy with the same outputs
(:func:`dicomscrub.pixels.models.derived_model`, cached on disk), and its onnxruntime
session is created once per process and thread count.
Another engine only has to implement :class:`TextDetector`.

It runs only on the regions :func:`dicomscrub.pixels.prepare.propose_regions` finds
(a text-free frame costs a few milliseconds), each enlarged as the region says: small
text up to 2x (8 px text is then found, as when rapidocr enlarges a 512² slice to
736²), big text and textured areas (ultrasound speckle) at native size. A line that
comes out small in a textured area, or cut by its region's edge, gets a second,
enlarged look around it (:func:`dicomscrub.pixels.prepare.refinement`). The input is
padded, never resized, to the multiple of 32 the network needs.

onnxruntime uses one intra-op thread by default: a batch runs one process per core, and
on the shared 2-core machine a second thread bought nothing (see benchmarks/README.md).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from dicomscrub.errors import ConfigError
from dicomscrub.pixels.models import derived_model
from dicomscrub.pixels.prepare import (
    DetectionView,
    Region,
    propose_regions,
    refinement,
    whole_regions,
)

__all__ = [
    "Detection",
    "RapidOcrDetector",
    "TextDetector",
    "detect_views",
    "get_detector",
    "is_available",
    "rapidocr_config",
    "upscale_for",
]

Uint8Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]

_INSTALL_HINT: Final = "pip install 'rapidocr-onnxruntime==1.4.4'"
_DET_MODEL: Final = "ch_PP-OCRv4_det_infer.onnx"
#: Frames whose short side is at most this are enlarged before detection ...
_SMALL_FRAME: Final = 1100
#: ... by this factor (rapidocr enlarges a 512² slice to 736²: 1.44x).
_SMALL_UPSCALE: Final = 1.5
#: Keep faint boxes: a missed name costs more than a blanked scale label.
_BOX_THRESH: Final = 0.4


class TextDetector(Protocol):
    """Finds text lines in one 8-bit image."""

    def detect(self, image: Uint8Image, upscale: float = 1.0) -> list[Quad]:
        """Quads ``(4, 2)`` (x, y) around each text line, in ``image`` pixels.

        ``upscale`` enlarges the image first (for small text); coordinates stay in
        ``image`` pixels.
        """
        ...


@dataclass(frozen=True)
class Detection:
    """A text line found in a frame: its quad in frame pixels and the view it came from."""

    quad: Quad
    view: int

    @cached_property
    def rect(self) -> tuple[int, int, int, int]:
        """The axis-aligned ``(x0, y0, x1, y1)`` around the quad (computed once: line
        grouping and row spreading ask for it thousands of times per frame)."""
        x0, y0 = np.floor(self.quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(self.quad.max(axis=0)).astype(int)
        return int(x0), int(y0), int(x1) + 1, int(y1) + 1


def is_available() -> bool:
    """Whether the PP-OCRv4 detector can run here (package and model file installed)."""
    for module in ("rapidocr_onnxruntime", "onnxruntime", "cv2"):
        if importlib.util.find_spec(module) is None:
            return False
    return _model_dir().joinpath(_DET_MODEL).is_file()


def _model_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        return Path("/nonexistent")
    return Path(spec.origin).parent / "models"


def rapidocr_config(threads: int = 1) -> dict[str, Any]:
    """rapidocr-onnxruntime's configuration, model paths resolved in the wheel, ``threads`` set."""
    if not is_available():
        raise ConfigError(f"pixel text detection needs the PP-OCRv4 models: {_INSTALL_HINT}")
    if threads < 1:
        raise ConfigError("the OCR thread count must be at least 1")
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path

    root = _model_dir().parent
    config: dict[str, Any] = update_model_path(read_yaml(str(root / "config.yaml")))
    for part in ("Det", "Cls", "Rec"):
        config[part]["intra_op_num_threads"] = threads
        config[part]["inter_op_num_threads"] = 1
    return config


def upscale_for(height: int, width: int) -> float:
    """The enlargement for detecting in a whole ``height`` x ``width`` frame (no pre-filter)."""
    return _SMALL_UPSCALE if min(height, width) <= _SMALL_FRAME else 1.0


class RapidOcrDetector:
    """PP-OCRv4 mobile text detection (DB) on onnxruntime, from rapidocr-onnxruntime."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort
        from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

        config = rapidocr_config(threads)["Det"]
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 4
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The folded copy (dicomscrub.pixels.models): same outputs, a quarter faster.
        model = derived_model(Path(config["model_path"]))
        self._session = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._post = DBPostProcess(
            thresh=config["thresh"],
            box_thresh=_BOX_THRESH,
            max_candidates=config["max_candidates"],
            unclip_ratio=config["unclip_ratio"],
            use_dilation=config["use_dilation"],
            score_mode=config["score_mode"],
        )

    def detect(self, image: Uint8Image, upscale: float = 1.0) -> list[Quad]:
        """Text-line quads of ``image`` (grey or RGB), in ``image`` pixels."""
        import cv2

        h, w = image.shape[:2]
        if min(h, w) < 4:
            return []
        if upscale != 1.0:
            size = (round(w * upscale), round(h * upscale))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), np.uint8)
        sh, sw = image.shape[:2]
        ph, pw = -(-sh // 32) * 32, -(-sw // 32) * 32
        # Normalised as PP-OCR expects ((x / 255 - 0.5) / 0.5), BGR channel order, padded
        # with black (the usual ground of burned-in text) to the network's multiple of 32.
        tensor = np.full((1, 3, ph, pw), -1.0, np.float32)
        norm = image.astype(np.float32) * (2.0 / 255.0) - 1.0
        if norm.ndim == 2:
            tensor[0, :, :sh, :sw] = norm
        else:
            tensor[0, :, :sh, :sw] = norm[..., ::-1].transpose(2, 0, 1)
        pred = self._session.run(None, {self._input: tensor})[0]
        # The post-processing maps the probability map (ph x pw) onto (pw, ph) / upscale.
        boxes, _ = self._post(pred, (ph / upscale, pw / upscale))
        out = []
        for box in boxes:
            quad = np.asarray(box, np.float32)
            quad[:, 0] = np.clip(quad[:, 0], 0, w - 1)
            quad[:, 1] = np.clip(quad[:, 1], 0, h - 1)
            side_a = float(np.linalg.norm(quad[0] - quad[1]))
            side_b = float(np.linalg.norm(quad[1] - quad[2]))
            if min(side_a, side_b) > 3:
                out.append(quad)
        return out


@cache
def get_detector(threads: int = 1) -> RapidOcrDetector:
    """The process-wide detector for ``threads`` (the ONNX session is built once)."""
    return RapidOcrDetector(threads)


def detect_views(
    views: Sequence[DetectionView],
    detector: TextDetector,
    *,
    prefilter: bool = True,
    upscale: float | None = None,
) -> list[Detection]:
    """Run ``detector`` on the candidate regions of ``views``; quads in frame pixels.

    ``prefilter=False`` runs it on every view in full instead (the benchmark's
    reference). ``upscale`` defaults to :func:`upscale_for` the frame's size.
    """
    if not views:
        return []
    if prefilter:
        regions = propose_regions(views)
    else:
        height, width = views[0].image.shape[:2]
        regions = whole_regions(views, upscale_for(height, width))
    height, width = views[0].image.shape[:2]
    found: list[Detection] = []
    second: list[Region] = []
    for region in regions:
        for det in _detect_region(views, region, detector, upscale):
            found.append(det)
            again = refinement(det.rect, region, height, width) if prefilter else None
            if again is not None and not any(_inside(again, r) for r in second):
                second.append(again)
    for region in second:
        found.extend(_detect_region(views, region, detector, upscale))
    return found


def _inside(inner: Region, outer: Region) -> bool:
    return (
        inner.view == outer.view
        and outer.x0 <= inner.x0
        and outer.y0 <= inner.y0
        and outer.x1 >= inner.x1
        and outer.y1 >= inner.y1
    )


def _detect_region(
    views: Sequence[DetectionView],
    region: Region,
    detector: TextDetector,
    upscale: float | None,
) -> list[Detection]:
    view = views[region.view]
    crop = view.image[region.y0 : region.y1, region.x0 : region.x1]
    offset = np.array([view.x0 + region.x0, view.y0 + region.y0], dtype=np.float32)
    factor = region.upscale if upscale is None else upscale
    return [Detection(quad + offset, region.view) for quad in detector.detect(crop, factor)]
