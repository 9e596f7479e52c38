"""Turn one decoded frame into the 8-bit images that text detection runs on.

Measured on synthetic CT/US/X-ray frames (issue 3): mapping the full stored range to
8 bits finds far more text than the clinical window (98.0 vs 92.8 % on CT), but text
that only stands out in the stored window, or that a few outlier pixels squash into a
handful of grey levels, needs a second look. So a grey frame yields one image per
window that shows it differently: full range, the stored VOI window, and a robust
(percentile) range. MONOCHROME1 is inverted so text is bright, colour is kept as is,
and frames larger than the detector's comfortable size are tiled with overlap rather
than scaled down (scaling a 2k X-ray to 1024 px dropped recall from 97 to 66 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from dicomscrub.pixels.types import FrameMeta

__all__ = ["DetectionView", "Window", "iter_tiles", "prepare_views", "window_ranges"]

#: Frames up to this many pixels on their long side are detected whole.
MAX_WHOLE_SIDE: Final = 2560
#: Tile size and overlap for larger frames; the overlap exceeds the tallest text expected.
TILE_SIDE: Final = 2048
TILE_OVERLAP: Final = 160
#: A second window is only worth a detector pass when it differs this much from the first.
_MIN_RANGE_CHANGE: Final = 0.35
_ROBUST_PERCENTILES: Final = (0.5, 99.5)
#: The percentile range is used when it spans less than this share of the full range.
_OUTLIER_SPAN: Final = 0.25

Uint8Image = npt.NDArray[np.uint8]


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


def iter_tiles(
    height: int, width: int, side: int = TILE_SIDE, overlap: int = TILE_OVERLAP
) -> list[tuple[int, int, int, int]]:
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


def prepare_views(
    frame: npt.NDArray[np.generic], meta: FrameMeta, *, max_whole_side: int = MAX_WHOLE_SIDE
) -> list[DetectionView]:
    """The 8-bit views of ``frame`` to run text detection on (several windows, tiles)."""
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 3:
        images = [("colour", _colour_to_uint8(frame))]
    elif frame.ndim == 2:
        invert = meta.photometric == "MONOCHROME1"
        images = [(w.name, _to_uint8(frame, w, invert)) for w in window_ranges(frame, meta)]
    else:
        raise ValueError(f"a frame must be 2-D or 3-D, not {frame.ndim}-D")
    height, width = frame.shape[:2]
    if max(height, width) <= max_whole_side:
        return [DetectionView(img, 0, 0, name) for name, img in images]
    return [
        DetectionView(img[y0:y1, x0:x1], x0, y0, name)
        for name, img in images
        for x0, y0, x1, y1 in iter_tiles(height, width)
    ]
