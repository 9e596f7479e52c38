"""PP-OCRv4 detection on the candidate regions of a frame."""

from __future__ import annotations

import numpy as np
import pytest

from dicomscrub.pixels.detect import (
    Detection,
    detect_views,
    get_detector,
    is_available,
    upscale_for,
)
from dicomscrub.pixels.prepare import DetectionView, prepare_views
from dicomscrub.synthetic.burned_text import _render, make_background, make_burned_image

pytestmark = pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")


def _covered(truth_rect: tuple[int, int, int, int], dets: list[Detection]) -> float:
    x0, y0, x1, y1 = truth_rect
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for d in dets:
        a0, b0, a1, b1 = d.rect
        mask[max(0, b0 - y0) : max(0, b1 - y0), max(0, a0 - x0) : max(0, a1 - x0)] = True
    return float(mask.mean())


class CountingDetector:
    """A real TextDetector that finds nothing and counts the pixels it was shown."""

    def __init__(self) -> None:
        self.pixels = 0

    def detect(self, image: np.ndarray, upscale: float = 1.0) -> list[np.ndarray]:
        self.pixels += image.shape[0] * image.shape[1]
        return []


def test_is_available_with_the_wheel_installed() -> None:
    assert is_available()


@pytest.mark.parametrize("kind", ["ct", "sizes", "us"])
def test_detector_finds_planted_phi(kind: str) -> None:
    pixels, meta, truths = make_burned_image(kind, 11)
    w = pixels.shape[1]
    dets = detect_views(prepare_views(pixels, meta), get_detector())
    phi = [t for t in truths if t.phi]
    found = [t for t in phi if _covered((t.x0, t.y0, t.x1, t.y1), dets) >= 0.9]
    assert len(found) >= len(phi) - 1, [t.category for t in phi if t not in found]
    assert all(d.rect[0] >= 0 and d.rect[2] <= w + 1 for d in dets)


def test_uniform_frame_never_reaches_the_detector() -> None:
    blank = DetectionView(np.full((256, 256), 30, np.uint8), 0, 0, "full")
    counting = CountingDetector()
    assert detect_views([blank], counting) == []
    assert counting.pixels == 0
    detect_views([blank], counting, prefilter=False)
    assert counting.pixels == 256 * 256


@pytest.mark.parametrize("kind", ["ct", "xr"])
def test_text_free_frame_costs_the_detector_little(kind: str) -> None:
    pixels, meta = make_background(kind, 3)
    counting = CountingDetector()
    detect_views(prepare_views(pixels, meta), counting)
    assert counting.pixels < 0.05 * pixels.shape[0] * pixels.shape[1] * 4  # even enlarged 2x


def test_text_frame_is_detected_in_part_only() -> None:
    pixels, meta, _ = make_burned_image("xr", 12)
    counting = CountingDetector()
    detect_views(prepare_views(pixels, meta), counting)
    assert 0 < counting.pixels < 0.2 * pixels.shape[0] * pixels.shape[1]


def test_view_offsets_are_added_to_quads() -> None:
    pixels, meta, truths = make_burned_image("ct", 2)
    img = prepare_views(pixels, meta)[0].image
    shifted = DetectionView(np.ascontiguousarray(img[:, 256:]), 256, 0, "full")
    dets = detect_views([shifted], get_detector())
    right = [t for t in truths if t.x0 >= 260 and t.phi]
    assert right
    assert any(_covered((t.x0, t.y0, t.x1, t.y1), dets) >= 0.9 for t in right)


@pytest.mark.parametrize("upscale", [1.0, 1.5, 2.0])
def test_enlarged_detection_reports_image_pixels(upscale: float) -> None:
    alpha = _render("HARTMANN GRETA", "bundled", 16)
    image = np.zeros((80, alpha.shape[1] + 60), np.uint8)
    image[30 : 30 + alpha.shape[0], 30 : 30 + alpha.shape[1]] = (alpha * 255).astype(np.uint8)
    (quad,) = get_detector().detect(image, upscale)
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    assert x0 <= 30 and y0 <= 30
    assert x1 >= 30 + alpha.shape[1] - 1 and y1 >= 30 + alpha.shape[0] - 1
    assert x1 < image.shape[1] and y1 < image.shape[0]


def test_eight_pixel_text_needs_the_enlargement() -> None:
    alpha = _render("19690102 SMALL", "bundled", 8)
    image = np.zeros((60, alpha.shape[1] + 60), np.uint8)
    image[25 : 25 + alpha.shape[0], 30 : 30 + alpha.shape[1]] = (alpha * 255).astype(np.uint8)
    view = DetectionView(image, 0, 0, "full")
    dets = detect_views([view], get_detector())
    assert _covered((30, 25, 30 + alpha.shape[1], 25 + alpha.shape[0]), dets) >= 0.9


def test_two_threads_find_the_same_boxes() -> None:
    pixels, meta, _ = make_burned_image("ct", 4)
    views = prepare_views(pixels, meta)
    one = sorted(d.rect for d in detect_views(views, get_detector(1)))
    two = sorted(d.rect for d in detect_views(views, get_detector(2)))
    assert one == two and one


def test_small_frames_are_enlarged_large_ones_not() -> None:
    assert upscale_for(512, 512) > 1.0
    assert upscale_for(2048, 2048) == 1.0
