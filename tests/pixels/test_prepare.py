"""Frames become 8-bit views (windows, MONOCHROME1, colour) and candidate regions."""

from __future__ import annotations

import numpy as np
import pytest

from dicomscrub.pixels.prepare import (
    TILE_SIDE,
    DetectionView,
    Region,
    iter_tiles,
    prepare_views,
    propose_regions,
    refinement,
    stroke_mask,
    whole_regions,
    window_ranges,
)
from dicomscrub.pixels.types import FrameMeta
from dicomscrub.synthetic.burned_text import (
    GroundTruthBox,
    _fonts,
    _render,
    make_background,
    make_burned_image,
)

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
    regions = whole_regions(views)
    assert len(regions) > 1
    covered = np.zeros((height, width), bool)
    for r in regions:
        assert max(r.x1 - r.x0, r.y1 - r.y0) <= TILE_SIDE  # native resolution, tile-sized
        assert r.upscale == 1.0
        covered[r.y0 : r.y1, r.x0 : r.x1] = True
    assert covered.all()


def test_tiles_overlap_more_than_a_text_line() -> None:
    tiles = iter_tiles(5000, 2000)
    ys = sorted({t[1] for t in tiles})
    ends = sorted({t[3] for t in tiles})
    assert all(end - start >= 100 for start, end in zip(ys[1:], ends[:-1], strict=False))


@pytest.mark.parametrize(("kind", "seed"), [("ct", 3), ("xr", 3), ("ct", 8), ("ct", 901)])
def test_text_free_frames_get_little_or_no_region(kind: str, seed: int) -> None:
    pixels, meta = make_background(kind, seed)
    regions = propose_regions(prepare_views(pixels, meta))
    # A glyph-like bit of anatomy may cost one small look; most of the frame costs none.
    h, w = pixels.shape[:2]
    assert sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in regions) < 0.05 * h * w


def test_uniform_frame_gets_no_region() -> None:
    view = DetectionView(np.full((512, 512), 40, np.uint8), 0, 0, "full")
    assert propose_regions([view]) == []
    strokes, textured = stroke_mask(view.image)
    assert not strokes.any() and not textured.any()


def _inside(t: object, regions: list[Region]) -> bool:
    x0, y0, x1, y1 = (getattr(t, k) for k in ("x0", "y0", "x1", "y1"))
    return any(r.x0 <= x0 and r.y0 <= y0 and r.x1 >= x1 and r.y1 >= y1 for r in regions)


@pytest.mark.parametrize(
    ("kind", "seed"), [("ct", 5), ("sizes", 6), ("us", 7), ("us_low", 8), ("xr", 9)]
)
def test_regions_hold_every_planted_line(kind: str, seed: int) -> None:
    pixels, meta, truths = make_burned_image(kind, seed)
    regions = propose_regions(prepare_views(pixels, meta))
    # Big lone markers (48-80 px "L") may only be partly inside: the detector misses them.
    lines = [t for t in truths if t.size < 48]
    assert all(_inside(t, regions) for t in lines), [
        t.text for t in lines if not _inside(t, regions)
    ]
    h, w = pixels.shape[:2]
    area = sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in regions)
    if not kind.startswith("us"):
        assert area < 0.5 * h * w  # the point of the pre-filter


def test_small_text_is_enlarged_and_big_text_is_not() -> None:
    image = np.zeros((400, 600), np.uint8)
    small = _render("SMALL TEXT 1970", "bundled", 8)
    big = _render("BIG TEXT", "bundled", 28)
    image[20 : 20 + small.shape[0], 20 : 20 + small.shape[1]] = (small * 255).astype(np.uint8)
    image[300 : 300 + big.shape[0], 300 : 300 + big.shape[1]] = (big * 255).astype(np.uint8)
    regions = propose_regions([DetectionView(image, 0, 0, "full")])
    top = [r for r in regions if r.y0 < 100]
    bottom = [r for r in regions if r.y0 >= 200]
    assert top and all(r.upscale >= 1.5 for r in top)
    assert bottom and all(r.upscale == 1.0 for r in bottom)


def test_ultrasound_speckle_is_one_textured_region_at_native_size() -> None:
    pixels, meta = make_background("us", 4)
    regions = propose_regions(prepare_views(pixels, meta))
    textured = [r for r in regions if r.textured]
    assert textured and all(r.upscale == 1.0 for r in textured)


def _area_share(regions: list[Region], height: int, width: int, textured: bool) -> float:
    area = sum((r.x1 - r.x0) * (r.y1 - r.y0) for r in regions if r.textured == textured)
    return area / (height * width)


@pytest.mark.parametrize(("kind", "seed"), [("us", 11), ("us_low", 12), ("us", 13)])
def test_speckle_is_searched_only_around_its_flat_text(kind: str, seed: int) -> None:
    pixels, meta, truths = make_burned_image(kind, seed)
    regions = propose_regions(prepare_views(pixels, meta))
    h, w = pixels.shape[:2]
    # The fan's rectangle is ~70 % of the frame; its flat-drawn text needs a few percent.
    assert _area_share(regions, h, w, textured=True) < 0.1
    assert all(_inside(t, regions) for t in truths), [
        t.text for t in truths if not _inside(t, regions)
    ]


@pytest.mark.parametrize("size", [24, 40, 48])
def test_big_bold_text_in_speckle_is_searched(size: int) -> None:
    bold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    if bold not in _fonts():
        pytest.skip("DejaVu Sans Bold is not installed")
    pixels, meta, _ = make_burned_image("us", 13)
    alpha = _render("HARTMANN", bold, size)[..., None]
    h, w = pixels.shape[:2]
    y, x = int(h * 0.55), int(w * 0.4)
    patch = pixels[y : y + alpha.shape[0], x : x + alpha.shape[1]]
    patch[:] = (patch.astype(np.float32) * (1 - alpha) + 255 * alpha).astype(np.uint8)
    regions = propose_regions(prepare_views(pixels, meta))
    # Strokes of bold 40-48 px letters are ~8 px wide: too wide for a 5 px top-hat.
    ink = GroundTruthBox(x, y, x + alpha.shape[1], y + alpha.shape[0], "", True, "name", size)
    assert _inside(ink, regions)


def test_speckle_is_searched_whole_when_the_text_is_not_flat() -> None:
    from io import BytesIO

    from PIL import Image

    pixels, meta, _ = make_burned_image("us", 11)
    buffer = BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    lossy = np.asarray(Image.open(buffer), np.uint8)
    regions = propose_regions(prepare_views(lossy, meta))
    # JPEG ringing: no stroke is flat any more, so flatness cannot find text in speckle.
    h, w = pixels.shape[:2]
    assert _area_share(regions, h, w, textured=True) > 0.4


def test_second_window_adds_only_what_the_first_does_not_show() -> None:
    frame = np.full((256, 256), 1000, np.uint16)
    frame[0, 0], frame[0, 1] = 0, 65535  # outliers squash the full range
    alpha = _render("HIDDEN 1234", "bundled", 16)
    h, w = alpha.shape
    frame[100 : 100 + h, 60 : 60 + w] += (alpha * 100).astype(np.uint16)
    meta = FrameMeta("MONOCHROME2", 16, 0, window_center=1050.0, window_width=200.0)
    views = prepare_views(frame, meta)
    regions = propose_regions(views)
    assert regions and all(r.view == 1 for r in regions)
    assert any(r.x0 <= 60 and r.x1 >= 60 + w and r.y0 <= 100 and r.y1 >= 100 + h for r in regions)


def test_refinement_enlarges_small_text_found_in_texture() -> None:
    region = Region(0, 0, 0, 600, 400, 1.0, textured=True)
    again = refinement((200, 200, 260, 214), region, 400, 600)
    assert again is not None and again.upscale > 1.0
    assert again.x0 < 200 and again.x1 > 260 and again.y0 < 200 and again.y1 > 214


def test_refinement_extends_a_line_cut_by_its_region() -> None:
    region = Region(0, 100, 100, 300, 160, 1.5)
    again = refinement((150, 120, 299, 140), region, 400, 600)
    assert again is not None and again.x1 > 300 and again.upscale == 1.5
    assert refinement((150, 120, 250, 140), region, 400, 600) is None
    # A region that ends at the frame's edge cuts nothing.
    edge = Region(0, 100, 100, 600, 160, 1.5)
    assert refinement((150, 120, 599, 140), edge, 400, 600) is None
