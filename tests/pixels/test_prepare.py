"""Frames become 8-bit views for detection: windows, MONOCHROME1, colour, tiling."""

from __future__ import annotations

import numpy as np
import pytest

from dicomscrub.pixels.prepare import iter_tiles, prepare_views, window_ranges
from dicomscrub.pixels.types import FrameMeta

CT_META = FrameMeta(
    "MONOCHROME2", 12, 0, window_center=40.0, window_width=400.0, rescale_intercept=-1024.0
)


def test_16bit_frame_gets_full_range_and_stored_window() -> None:
    frame = np.linspace(0, 4095, 256 * 256).reshape(256, 256).astype(np.uint16)
    views = prepare_views(frame, CT_META)
    assert [v.window for v in views] == ["full", "stored"]
    full, stored = views
    assert full.image.dtype == np.uint8
    assert full.image.min() == 0 and full.image.max() == 255
    # Stored window W400/L40 with intercept -1024 covers stored 864..1264.
    assert stored.image[frame < 864].max() == 0
    assert stored.image[frame > 1264].min() == 255


def test_text_only_visible_in_stored_window_shows_there() -> None:
    frame = np.full((64, 64), 1000, np.uint16)
    frame[0, 0], frame[0, 1] = 0, 65535  # outliers squash the full range
    frame[20:30, 20:22] = 1100  # faint stroke, 100 stored levels above tissue
    meta = FrameMeta("MONOCHROME2", 16, 0, window_center=1050.0, window_width=200.0)
    full, stored = prepare_views(frame, meta)
    assert int(full.image[25, 21]) - int(full.image[10, 10]) <= 1
    assert int(stored.image[25, 21]) - int(stored.image[10, 10]) >= 100


def test_window_like_full_range_is_not_repeated() -> None:
    frame = np.linspace(0, 4095, 4096).reshape(64, 64).astype(np.uint16)
    meta = FrameMeta("MONOCHROME2", 12, 0, window_center=2048.0, window_width=4096.0)
    assert [w.name for w in window_ranges(frame, meta)] == ["full"]


def test_outliers_without_stored_window_add_a_robust_range() -> None:
    frame = np.random.default_rng(0).integers(1000, 1200, (128, 128)).astype(np.uint16)
    frame[0, :3] = 65535
    meta = FrameMeta("MONOCHROME2", 16, 0)
    assert [w.name for w in window_ranges(frame, meta)] == ["full", "robust"]


def test_monochrome1_is_inverted() -> None:
    frame = np.zeros((32, 32), np.uint16)
    frame[:, 16:] = 4095
    mono1 = prepare_views(frame, FrameMeta("MONOCHROME1", 12, 0))[0].image
    mono2 = prepare_views(frame, FrameMeta("MONOCHROME2", 12, 0))[0].image
    assert mono1[0, 0] == 255 and mono1[0, 31] == 0
    assert np.array_equal(mono1, 255 - mono2)


def test_signed_frame_maps_its_own_range() -> None:
    frame = np.array([[-2000, 0], [1000, 3000]], np.int16)
    (view,) = prepare_views(frame, FrameMeta("MONOCHROME2", 16, 1))
    assert view.image[0, 0] == 0 and view.image[1, 1] == 255


def test_rgb_frame_is_kept_as_colour() -> None:
    frame = np.random.default_rng(1).integers(0, 256, (40, 50, 3)).astype(np.uint8)
    (view,) = prepare_views(frame, FrameMeta("RGB", 8, 0))
    assert view.window == "colour"
    assert np.array_equal(view.image, frame)


@pytest.mark.parametrize(("height", "width"), [(3000, 4000), (5000, 2600), (2561, 100)])
def test_huge_frame_is_tiled_not_scaled(height: int, width: int) -> None:
    frame = np.zeros((height, width), np.uint16)
    frame[-1, -1] = 1
    views = prepare_views(frame, FrameMeta("MONOCHROME2", 16, 0))
    assert len(views) > 1
    covered = np.zeros((height, width), bool)
    for v in views:
        h, w = v.image.shape
        assert max(h, w) <= 2048  # native resolution, tile-sized
        covered[v.y0 : v.y0 + h, v.x0 : v.x0 + w] = True
    assert covered.all()
    # The bottom-right pixel keeps its value: nothing was resampled.
    last = next(
        v for v in views if v.y0 + v.image.shape[0] == height and v.x0 + v.image.shape[1] == width
    )
    assert last.image[-1, -1] == 255


def test_tiles_overlap_more_than_a_text_line() -> None:
    tiles = iter_tiles(5000, 2000)
    ys = sorted({t[1] for t in tiles})
    ends = sorted({t[3] for t in tiles})
    assert all(end - start >= 100 for start, end in zip(ys[1:], ends[:-1], strict=False))
