"""Turn one decoded frame into 8-bit views, and find the regions of them worth detecting in.

Measured on synthetic CT/US/X-ray frames (issue 3): mapping the full stored range to
8 bits finds far more text than the clinical window (98.0 vs 92.8 % on CT), but text
that only stands out in the stored window, or that a few outlier pixels squash into a
handful of grey levels, needs a second look. So a grey frame yields one view per
window that shows it differently: full range first, then the stored VOI window or a
robust (percentile) range. MONOCHROME1 is inverted so text is bright; colour is kept.

The neural detector costs about 260 ms per megapixel on one core, so it only runs on
*candidate regions* (:func:`propose_regions`): places where a cheap stroke filter
(a small morphological top-hat above the local noise, at full and quarter scale) sees
glyph-sized structures, grown by a margin. In textured blocks (ultrasound speckle) the
top-hat cannot tell strokes from texture, but flatness can: burned-in text is drawn
in one value, so its pixels equal their neighbours along a row or column, and speckle's
do not. When the frame's other text is flat (stored losslessly), textured blocks are
searched only around dense flat pixels (ultrasound: ~100 -> ~45 ms of detection per
frame); otherwise they are detected in whole. A secondary window only adds the regions
where it shows strokes that the first view does not. Regions are cut into tiles of at
most :data:`TILE_SIDE` pixels at native resolution, never scaled down (scaling a 2k
X-ray to 1024 px dropped recall from 97 to 66 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from dicomscrub.pixels.types import FrameMeta

__all__ = [
    "DetectionView",
    "Region",
    "Window",
    "iter_tiles",
    "prepare_views",
    "propose_regions",
    "refinement",
    "stroke_mask",
    "whole_regions",
    "window_ranges",
]

#: Largest side of one detector input; the detector's cost per pixel grows above ~1k
#: (measured: 1024² 300 ms, 2048² 4 s on one core).
TILE_SIDE: Final = 1024
#: Tile overlap: more than the tallest text line expected.
TILE_OVERLAP: Final = 160
#: A second window is only worth a look when it differs this much from the first.
_MIN_RANGE_CHANGE: Final = 0.35
_ROBUST_PERCENTILES: Final = (0.5, 99.5)
#: The percentile range is used when it spans less than this share of the full range.
_OUTLIER_SPAN: Final = 0.25
#: Top-hat response (8-bit levels) a stroke must reach at least, whatever the noise ...
_MIN_STROKE_CONTRAST: Final = 20
#: ... and this many local noise standard deviations.
_NOISE_FACTOR: Final = 6.0
#: Noise is estimated per block of this many pixels square.
_NOISE_BLOCK: Final = 32
#: A block this noisy (sigma, 8-bit levels) is texture: detect in all of it.
_TEXTURED_SIGMA: Final = 3.0
#: Top-hat size: wider than the strokes of 8-28 px text, narrower than anatomy.
_STROKE_KERNEL: Final = 5
#: The coarse pass (for big glyphs) runs on the frame shrunk by this factor.
_COARSE: Final = 4
#: Candidate strokes are joined into regions within this reach (x, y), then grown by
#: the margin so the detector sees each line with some context around it.
_JOIN: Final = (41, 9)
_MARGIN: Final = 12
#: Beside flat-searched speckle, banner-wide regions (at least _BANNER_WIDTH pixels)
#: are at least _BANNER_ROWS rows high (before, such banners were inside the textured
#: area's region, with context all around).
_BANNER_ROWS: Final = 64
_BANNER_WIDTH: Final = 256

#: Text whose capitals are shorter than this (pixels) is enlarged for the detector, at
#: most by _MAX_UPSCALE (rapidocr enlarges a 512² slice 1.44x; 8 px text needs it).
_GLYPH_HEIGHT: Final = 12.0
_MAX_UPSCALE: Final = 2.0
#: A detected box (DB boxes are ~1.6x the ink height) lower than this, found at native
#: size, is looked at again enlarged: small text in speckle comes out in pieces.
_SMALL_BOX: Final = 24
#: The second look spans the box's row this many box heights to each side.
_REFINE_REACH: Final = 6
#: Burned-in text is drawn in one flat value: a pixel whose two neighbours along a row
#: or a column are within this many levels of it is "flat" (speckle almost never is).
_FLAT_TOLERANCE: Final = 2
#: Flat pixels must stand out from a neighbourhood this wide (a top-hat): the strokes
#: of bold 48 px letters (~8 px) too, which the stroke filter's 5 px one misses.
_FLAT_KERNEL: Final = 9
#: Flat pixels in a textured area count as text when at least this many of them lie
#: in the square of side _FLAT_REACH around (a lone flat speckle grain does not).
_FLAT_DENSITY: Final = 6
_FLAT_REACH: Final = 9
#: Textured areas are only searched for flat text when at least this share of the
#: frame's other stroke pixels is flat: its text is drawn flat and stored losslessly
#: (measured on issue 3's ultrasound: 0.11-0.19 lossless, at most 0.08 once JPEG'd at
#: quality 95); otherwise they are detected in whole.
_FLAT_TEXT_SHARE: Final = 0.10
#: ... counted over at least this many stroke pixels.
_FLAT_MIN_STROKES: Final = 400

Uint8Image = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]
Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Window:
    """A linear map of stored values ``lo..hi`` to 0..255 (``name`` says where it came from)."""

    name: str
    lo: float
    hi: float


@dataclass(frozen=True)
class DetectionView:
    """One 8-bit image to detect text in, and where its top-left pixel sits in the frame.

    ``image`` is ``(h, w)`` grey or ``(h, w, 3)`` RGB; text in it is usually bright.
    """

    image: Uint8Image
    x0: int
    y0: int
    window: str


@dataclass(frozen=True)
class Region:
    """A rectangle of view ``view`` (columns ``x0..x1-1``, rows ``y0..y1-1``) to detect in."""

    view: int
    x0: int
    y0: int
    x1: int
    y1: int
    upscale: float = 1.0
    #: Whether the region is textured (speckle): its text size is unknown.
    textured: bool = False


def window_ranges(frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[Window]:
    """The stored-value windows that show a grey frame's text differently enough to try each."""
    values = frame.astype(np.float32, copy=False)
    lo, hi = float(values.min()), float(values.max())
    windows = [Window("full", lo, hi)]
    span = max(hi - lo, 1.0)
    if meta.window_center is not None and meta.window_width is not None and meta.window_width > 1:
        # The VOI window is in rescaled units; text detection sees stored values.
        slope = meta.rescale_slope or 1.0
        c = (meta.window_center - meta.rescale_intercept) / slope
        half = meta.window_width / 2 / abs(slope)
        stored = Window("stored", c - half, c + half)
        if _differs(stored, windows[0], span):
            windows.append(stored)
            return windows
    # No usable stored window: a few extreme pixels can squash everything else into a
    # handful of grey levels; a percentile range then shows the rest.
    sample = values[:: max(1, values.shape[0] // 256)]
    p_lo, p_hi = (float(v) for v in np.percentile(sample, _ROBUST_PERCENTILES))
    if p_hi > p_lo and (p_hi - p_lo) < _OUTLIER_SPAN * span:
        windows.append(Window("robust", p_lo, p_hi))
    return windows


def _differs(a: Window, b: Window, span: float) -> bool:
    """Whether ``a`` maps the data differently enough from ``b`` to deserve a pass."""
    return abs(a.lo - b.lo) / span + abs(a.hi - b.hi) / span > _MIN_RANGE_CHANGE


def _to_uint8(values: npt.NDArray[np.generic], window: Window, invert: bool) -> Uint8Image:
    scale = 255.0 / max(window.hi - window.lo, 1.0)
    out = (values.astype(np.float32) - window.lo) * scale
    np.clip(out, 0, 255, out=out)
    img = out.astype(np.uint8)
    if invert:
        np.subtract(255, img, out=img)
    return img


def _colour_to_uint8(frame: npt.NDArray[np.generic]) -> Uint8Image:
    if frame.dtype == np.uint8:
        return np.ascontiguousarray(frame, dtype=np.uint8)
    top = max(float(frame.max()), 1.0)
    out: Uint8Image = np.clip(frame.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
    return out


def prepare_views(frame: npt.NDArray[np.generic], meta: FrameMeta) -> list[DetectionView]:
    """The whole-frame 8-bit views of ``frame``, primary (full range or colour) first."""
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 3:
        return [DetectionView(_colour_to_uint8(frame), 0, 0, "colour")]
    if frame.ndim != 2:
        raise ValueError(f"a frame must be 2-D or 3-D, not {frame.ndim}-D")
    invert = meta.photometric == "MONOCHROME1"
    return [
        DetectionView(_to_uint8(frame, w, invert), 0, 0, w.name) for w in window_ranges(frame, meta)
    ]


def iter_tiles(
    height: int, width: int, side: int = TILE_SIDE, overlap: int = TILE_OVERLAP
) -> list[Rect]:
    """``(x0, y0, x1, y1)`` tiles covering the frame, neighbours overlapping by ``overlap``."""

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        out = list(range(0, length - side + 1, side - overlap))
        if out[-1] + side < length:
            out.append(length - side)
        return out

    return [
        (x, y, min(x + side, width), min(y + side, height))
        for y in starts(height)
        for x in starts(width)
    ]


def _grey(image: Uint8Image) -> Uint8Image:
    # Brightest channel: coloured text (yellow, cyan, green) is bright in one of them.
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    # Pairwise maxima: numpy's reduce over a 3-long last axis is ~10x slower.
    return np.maximum(np.maximum(image[..., 0], image[..., 1]), image[..., 2])


def _noise_sigma_map(smooth: Uint8Image) -> npt.NDArray[np.float32]:
    """Noise standard deviation per block (8-bit levels), from horizontal differences."""
    h, w = smooth.shape
    b = _NOISE_BLOCK
    bh, bw = -(-h // b), -(-w // b)
    # Every fourth row is plenty for a median and keeps 2k frames cheap.
    rows = smooth[::4].astype(np.int16)
    diff = np.zeros((bh * (b // 4), bw * b), np.uint8)
    diff[: rows.shape[0], : w - 1] = np.abs(rows[:, 1:] - rows[:, :-1]).astype(np.uint8)
    blocks = diff.reshape(bh, b // 4, bw, b).transpose(0, 2, 1, 3).reshape(bh, bw, -1)
    # A quarter of the differences of Gaussian noise are below 0.319 * sigma * sqrt(2).
    # The lower quartile, not the median: text fills up to half of a block with edges,
    # but leaves at least a quarter flat (ground, inside strokes), whereas speckle
    # leaves nothing flat.
    quartile = np.partition(blocks, blocks.shape[2] // 4, axis=2)[..., blocks.shape[2] // 4]
    sigma: npt.NDArray[np.float32] = (quartile / (0.319 * 2**0.5)).astype(np.float32)
    return sigma


def _per_pixel(blocks: npt.NDArray[np.uint8], height: int, width: int) -> npt.NDArray[np.uint8]:
    """A per-block map spread over the ``height`` x ``width`` pixels it covers."""
    import cv2

    b = _NOISE_BLOCK
    full = cv2.resize(
        blocks, (blocks.shape[1] * b, blocks.shape[0] * b), interpolation=cv2.INTER_NEAREST
    )
    return np.ascontiguousarray(full[:height, :width], np.uint8)


def stroke_mask(image: Uint8Image) -> tuple[Mask, Mask]:
    """Glyph-stroke pixels of ``image``, and its textured pixels (noise too high to judge).

    A stroke is a structure a few pixels wide (small top-hat, bright or dark) standing
    out from its block's noise; specks and blobs are dropped.
    """
    strokes, _, textured = _stroke_parts(image)
    return strokes, textured


def _stroke_parts(image: Uint8Image) -> tuple[Mask, Mask, Mask]:
    """Strokes, the strokes that look like text on their own (evidence), textured pixels."""
    import cv2

    gray = _grey(image)
    h, w = gray.shape
    smooth = np.asarray(cv2.GaussianBlur(gray, (3, 3), 0.7), np.uint8)
    sigma = _noise_sigma_map(smooth)
    textured_blocks = (sigma > _TEXTURED_SIGMA).astype(np.uint8)
    threshold_blocks = np.clip(np.maximum(_MIN_STROKE_CONTRAST, _NOISE_FACTOR * sigma), 0, 255)
    threshold = _per_pixel(threshold_blocks.astype(np.uint8), h, w)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_STROKE_KERNEL, _STROKE_KERNEL))
    response = np.maximum(
        cv2.morphologyEx(smooth, cv2.MORPH_TOPHAT, kernel),  # bright text (the usual case)
        cv2.morphologyEx(smooth, cv2.MORPH_BLACKHAT, kernel),  # dark text on a light ground
    )
    strokes, evidence = _glyph_components((response >= threshold).astype(np.uint8))
    return strokes, evidence, _per_pixel(textured_blocks, h, w).astype(bool)


def _components(
    binary: npt.NDArray[np.uint8],
) -> tuple[int, npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """8-connected components of ``binary``: their count (background included), the
    label image, and their stats (``cv2.CC_STAT_*`` columns).

    With Grana's block-based algorithm, which finds the same components as OpenCV's
    default (Spaghetti) but gathers their statistics faster: 0.6 against 1.6 ms on a
    512² slice's stroke mask (OpenCV 4.14, one thread; the pre-filter of the pixel
    benchmark's 100 frames took half the time).
    """
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        binary, 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    return int(count), np.asarray(labels, np.int32), np.asarray(stats, np.int32)


def _glyph_components(binary: npt.NDArray[np.uint8]) -> tuple[Mask, Mask]:
    """``binary`` without specks, blobs and long edges (what could be glyphs), and the
    components that look like text on their own: a line (small text merges into one
    elongated component per word) or a big sparse glyph (a blob fills its box)."""
    import cv2

    count, labels, stats = _components(binary)
    if count <= 1:
        empty = np.zeros(binary.shape, bool)
        return empty, empty
    w = stats[:, cv2.CC_STAT_WIDTH]
    h = stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    long_side, short_side = np.maximum(w, h), np.maximum(np.minimum(w, h), 1)
    keep = (long_side >= 4) & (area >= 6) & (short_side <= 120) & (long_side <= 20 * short_side)
    keep[0] = False  # the background
    line = keep & (long_side >= 12) & (long_side >= 2.5 * short_side)
    sparse = keep & (short_side >= 6) & (area <= 0.5 * w * h)
    # np.take: half the time of keep[labels] on a label image (numpy 2.4).
    kept: Mask = np.take(keep, labels)
    evidence: Mask = np.take(line | sparse, labels)
    return kept, evidence


def _sparse_components(binary: npt.NDArray[np.uint8], min_long: int) -> Mask:
    """Components of ``binary`` at least ``min_long`` long that fill at most half their box."""
    import cv2

    count, labels, stats = _components(binary)
    if count <= 1:
        return np.zeros(binary.shape, bool)
    w = stats[:, cv2.CC_STAT_WIDTH]
    h = stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA]
    keep = (np.maximum(w, h) >= min_long) & (area <= 0.55 * w * h)
    keep[0] = False
    found: Mask = np.take(keep, labels)
    return found


def _candidates(image: Uint8Image) -> tuple[Mask, Mask, Mask]:
    """Stroke pixels at full scale, big glyphs found at coarse scale, textured pixels."""
    import cv2

    strokes, _, textured = _stroke_parts(image)
    h, w = strokes.shape
    big = np.zeros_like(strokes)
    if min(h, w) >= 16 * _COARSE:
        small = np.asarray(
            cv2.resize(_grey(image), (w // _COARSE, h // _COARSE), interpolation=cv2.INTER_AREA),
            np.uint8,
        )
        coarse, _ = stroke_mask(small)
        # Only letter-like shapes: round blobs (bones, vessels) are not text at any scale.
        found = _sparse_components(coarse.astype(np.uint8), 10)
        big = cv2.resize(found.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    return strokes, big, textured


def _flat_strokes(image: Uint8Image) -> Mask:
    """Pixels flat along a row or a column that stand out from their neighbourhood."""
    import cv2

    gray = _grey(image)
    g = gray.astype(np.int16)
    step_x = np.abs(np.diff(g, axis=1)) <= _FLAT_TOLERANCE
    step_y = np.abs(np.diff(g, axis=0)) <= _FLAT_TOLERANCE
    flat = np.zeros(g.shape, bool)
    flat[:, 1:-1] = step_x[:, :-1] & step_x[:, 1:]
    flat[1:-1] |= step_y[:-1] & step_y[1:]
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_FLAT_KERNEL, _FLAT_KERNEL))
    response = np.maximum(
        cv2.morphologyEx(gray, cv2.MORPH_TOPHAT, kernel),
        cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, kernel),
    )
    found: Mask = flat & (response >= _MIN_STROKE_CONTRAST)
    return found


def _flat_text(image: Uint8Image, strokes: Mask, textured: Mask) -> Mask | None:
    """Flat-drawn text pixels in the textured areas of ``image``, or None if unknown.

    None when the frame's text outside those areas is not flat (lossy compression,
    smoothed overlays): flatness then says nothing about text in speckle either.
    """
    import cv2

    flat = _flat_strokes(image)
    plain = strokes & ~textured
    count = int(np.count_nonzero(plain))
    if count < _FLAT_MIN_STROKES or np.count_nonzero(flat & plain) < _FLAT_TEXT_SHARE * count:
        return None
    candidates = flat & _near(textured)
    near = cv2.boxFilter(
        candidates.astype(np.uint8), -1, (_FLAT_REACH, _FLAT_REACH), normalize=False
    )
    dense: Mask = candidates & (near >= _FLAT_DENSITY)
    return dense


def _near(textured: Mask) -> Mask:
    """``textured`` grown by a noise block: speckle edges and dark holes next to it."""
    import cv2

    side = 2 * _NOISE_BLOCK + 1
    grown: Mask = cv2.dilate(textured.astype(np.uint8), np.ones((side, side), np.uint8)) > 0
    return grown


def _rects(
    mask: Mask, height: int, width: int, evidence: Mask | None = None, min_rows: int = 0
) -> list[Rect]:
    """Bounding rectangles of ``mask``'s joined components, grown by the margin.

    Banner-wide ones are grown to at least ``min_rows`` rows.

    With ``evidence``, a joined component is kept only if it holds at least two stroke
    components or one evidence pixel: a lone speck of anatomy is not text.
    """
    import cv2

    joined = np.asarray(
        cv2.dilate(mask.astype(np.uint8), np.ones((_JOIN[1], _JOIN[0]), np.uint8)), np.uint8
    )
    count, joined_labels, stats = _components(joined)
    keep = np.ones(count, bool)
    if evidence is not None and count > 1:
        _, stroke_labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        owners = joined_labels[mask].astype(np.int64)
        pairs = np.unique(owners * (int(stroke_labels.max()) + 1) + stroke_labels[mask])
        strokes_per_joined = np.bincount(pairs // (int(stroke_labels.max()) + 1), minlength=count)
        has_evidence = np.bincount(joined_labels[evidence], minlength=count) > 0
        keep = (strokes_per_joined >= 2) | has_evidence
    rects = []
    for label in range(1, count):
        if not keep[label]:
            continue
        x, y, w, h, _ = (int(v) for v in stats[label])
        # Big glyphs get more context, up to the margin again.
        m = _MARGIN + min(w // 4, h // 4, _MARGIN)
        # A banner strip gets rows of context: the detector missed a faint banner line
        # in a 44-row crop and found it in 64.
        y0, y1 = max(0, y - m), min(height, y + h + m)
        short = max(0, min_rows - (y1 - y0)) if w >= _BANNER_WIDTH else 0
        if short:
            y0 = max(0, y0 - short // 2)
            y1 = min(height, max(y1 + short - short // 2, y0 + min_rows))
        rects.append((max(0, x - m), y0, min(width, x + w + m), y1))
    return _merge(rects)


def _upscale(strokes: Mask, rect: Rect) -> float:
    """How much to enlarge ``rect`` so its text reaches the detector's comfortable height.

    The median height of the stroke components inside approximates the capital height.
    """
    import cv2

    x0, y0, x1, y1 = rect
    _, _, stats = _components(strokes[y0:y1, x0:x1].astype(np.uint8))
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    if heights.size == 0:
        return 1.0
    return float(np.clip(_GLYPH_HEIGHT / max(float(np.median(heights)), 1.0), 1.0, _MAX_UPSCALE))


def _area(r: Rect) -> int:
    return (r[2] - r[0]) * (r[3] - r[1])


def _merge(rects: list[Rect]) -> list[Rect]:
    """Join overlapping rectangles whose union costs no more than detecting both apart."""
    out = sorted(rects)
    changed = True
    while changed:
        changed = False
        merged: list[Rect] = []
        for r in out:
            for i, m in enumerate(merged):
                union = _union(r, m)
                overlap = r[0] < m[2] and m[0] < r[2] and r[1] < m[3] and m[1] < r[3]
                if overlap and _area(union) <= _area(r) + _area(m):
                    merged[i] = union
                    changed = True
                    break
            else:
                merged.append(r)
        out = merged
    return out


def _tiled(view: int, rects: Sequence[Rect], strokes: Mask | None = None) -> list[Region]:
    """Regions of ``rects``, tiled; ``strokes`` sets their enlargement (None: textured)."""
    regions = []
    for rect in rects:
        x0, y0, x1, y1 = rect
        factor = 1.0 if strokes is None else _upscale(strokes, rect)
        for tx0, ty0, tx1, ty1 in iter_tiles(y1 - y0, x1 - x0):
            regions.append(
                Region(view, x0 + tx0, y0 + ty0, x0 + tx1, y0 + ty1, factor, strokes is None)
            )
    return regions


def _covered_share(rect: Rect, other: Rect) -> float:
    """The share of ``rect``'s area that ``other`` covers."""
    ix = max(0, min(rect[2], other[2]) - max(rect[0], other[0]))
    iy = max(0, min(rect[3], other[3]) - max(rect[1], other[1]))
    return ix * iy / max(_area(rect), 1)


def _union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def whole_regions(views: Sequence[DetectionView], upscale: float = 1.0) -> list[Region]:
    """Every view in full, tiled: detection with no pre-filter (the benchmark's reference)."""
    regions: list[Region] = []
    for index, view in enumerate(views):
        h, w = view.image.shape[:2]
        regions.extend(
            Region(index, x0, y0, x1, y1, upscale) for x0, y0, x1, y1 in iter_tiles(h, w)
        )
    return regions


def propose_regions(views: Sequence[DetectionView]) -> list[Region]:
    """The regions of ``views`` that may hold text: few or none for a text-free frame.

    The first view contributes its stroke regions and its textured blocks (detected at
    native size: in whole, or only around their flat-drawn text when the frame's text
    outside them is flat, see :func:`_flat_text`); each later view (another window of
    the same frame) only the strokes the first did not show, and only where they look
    like text (two strokes, a line or a sparse glyph): a noisier window must not send
    its specks to the detector. Stroke
    regions are enlarged when their text is small.
    """
    import cv2

    if not views:
        return []
    # Every filter below looks at the brightest channel only: take it once.
    first = _grey(views[0].image)
    height, width = first.shape[:2]
    strokes, big, textured = _candidates(first)
    flat = _flat_text(first, strokes, textured) if textured.any() else None
    # Textured areas: only around their flat-drawn text when the frame's text is flat
    # (1-6 % of an ultrasound frame instead of the fan's ~70 %), else in whole.
    textured_rects = _rects(textured if flat is None else flat, height, width)
    loose: list[Rect] = []
    # Strokes in and beside speckle are mostly speckle: its flat text was found above.
    plain = strokes | big if flat is None else (strokes | big) & ~_near(textured)
    for rect in _rects(plain, height, width, min_rows=0 if flat is None else _BANNER_ROWS):
        if flat is not None:
            loose.append(rect)
            continue
        # Strokes mostly inside a textured area (speckle, or text on it) are detected
        # with that area, grown to hold them whole; the others on their own.
        shares = [_covered_share(rect, t) for t in textured_rects]
        if shares and max(shares) > 0.5:
            i = shares.index(max(shares))
            textured_rects[i] = _union(textured_rects[i], rect)
        else:
            loose.append(rect)
    regions = _tiled(0, _merge(textured_rects))
    # The enlargement follows the full-scale strokes (big glyphs need none).
    regions.extend(_tiled(0, loose, strokes))
    if len(views) > 1:
        # Strokes near ones already seen are the same text in another window.
        near = cv2.dilate(
            (strokes | big | textured).astype(np.uint8),
            np.ones((4 * _MARGIN + 1,) * 2, np.uint8),
        )
        for index, view in enumerate(views[1:], 1):
            extra, extra_evidence, _ = _stroke_parts(view.image)
            extra &= ~near.astype(bool)
            extra_evidence &= extra
            regions.extend(_tiled(index, _rects(extra, height, width, extra_evidence), extra))
    return regions


def refinement(box: Rect, region: Region, height: int, width: int) -> Region | None:
    """A second, enlarged look around ``box`` (frame pixels) found in ``region``, if needed.

    Needed when the box is small text found at native size, or when it touches an
    edge of the region inside the frame (the line may go on beyond the crop).
    """
    x0, y0, x1, y1 = box
    h = max(min(y1 - y0, x1 - x0), 1)  # the line height, for vertical text too
    small = region.textured and h < _SMALL_BOX
    near = max(4, h // 3)  # DB boxes stop a little short of where a crop cut the ink
    cut = (x0 <= region.x0 + near and region.x0 > 0) or (
        x1 >= region.x1 - near and region.x1 < width
    )
    cut |= (y0 <= region.y0 + near and region.y0 > 0) or (
        y1 >= region.y1 - near and region.y1 < height
    )
    if not (small or cut):
        return None
    factor = float(np.clip(_SMALL_BOX / h, 1.0, _MAX_UPSCALE)) if small else region.upscale
    # Reach along the line, one line height across it.
    reach_x, reach_y = (_REFINE_REACH * h, h) if x1 - x0 >= y1 - y0 else (h, _REFINE_REACH * h)
    return Region(
        region.view,
        max(0, x0 - reach_x),
        max(0, y0 - reach_y),
        min(width, x1 + reach_x),
        min(height, y1 + reach_y),
        max(factor, region.upscale),
    )
