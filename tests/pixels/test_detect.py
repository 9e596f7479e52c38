"""PP-OCRv4 detection and the pre-filter that lets text-free views skip it."""

from __future__ import annotations

import numpy as np
import pytest

from dicomscrub.pixels.detect import (
    Detection,
    detect_views,
    get_detector,
    has_text_candidates,
    is_available,
)
from dicomscrub.pixels.prepare import DetectionView, prepare_views
from dicomscrub.synthetic.burned_text import make_background, make_burned_image

pytestmark = pytest.mark.skipif(not is_available(), reason="rapidocr-onnxruntime not installed")


def _covered(truth_rect: tuple[int, int, int, int], dets: list[Detection]) -> float:
    x0, y0, x1, y1 = truth_rect
    mask = np.zeros((y1 - y0, x1 - x0), bool)
    for d in dets:
        a0, b0, a1, b1 = d.rect
        mask[max(0, b0 - y0) : max(0, b1 - y0), max(0, a0 - x0) : max(0, a1 - x0)] = True
    return float(mask.mean())


def test_is_available_with_the_wheel_installed() -> None:
    assert is_available()


@pytest.mark.parametrize("kind", ["ct", "sizes", "us"])
def test_detector_finds_planted_phi(kind: str) -> None:
    pixels, meta, truths = make_burned_image(kind, 11)
    w = pixels.shape[1]
    dets = detect_views(prepare_views(pixels, meta), get_detector())
    phi = [t for t in truths if t.phi]
    found = [t for t in phi if _covered((t.x0 - 3, t.y0 - 3, t.x1 + 3, t.y1 + 3), dets) >= 0.9]
    assert len(found) >= len(phi) - 1, [t.category for t in phi if t not in found]
    assert all(d.rect[0] >= 0 and d.rect[2] <= w + 1 for d in dets)


@pytest.mark.parametrize("kind", ["ct", "xr"])
def test_prefilter_skips_text_free_frames(kind: str) -> None:
    pixels, meta = make_background(kind, 3)
    assert not any(has_text_candidates(v.image) for v in prepare_views(pixels, meta))


def test_prefilter_skips_a_uniform_frame() -> None:
    assert not has_text_candidates(np.full((512, 512), 40, np.uint8))


@pytest.mark.parametrize("kind", ["ct", "ct_low", "sizes", "us", "us_low"])
def test_prefilter_passes_frames_with_text(kind: str) -> None:
    pixels, meta, _ = make_burned_image(kind, 5)
    assert any(has_text_candidates(v.image) for v in prepare_views(pixels, meta))


def test_skipped_view_never_reaches_the_detector() -> None:
    class Counting:
        calls = 0

        def detect(self, image: np.ndarray) -> list[np.ndarray]:
            Counting.calls += 1
            return []

    blank = DetectionView(np.zeros((256, 256), np.uint8), 0, 0, "full")
    assert detect_views([blank], Counting()) == []
    assert Counting.calls == 0
    detect_views([blank], Counting(), prefilter=False)
    assert Counting.calls == 1


def test_tile_offsets_are_added_to_quads() -> None:
    pixels, meta, truths = make_burned_image("ct", 2)
    img = prepare_views(pixels, meta)[0].image
    shifted = DetectionView(img[:, 256:], 256, 0, "full")
    dets = detect_views([shifted], get_detector())
    right = [t for t in truths if t.x0 >= 260 and t.phi]
    assert right
    assert any(_covered((t.x0, t.y0, t.x1, t.y1), dets) >= 0.9 for t in right)
