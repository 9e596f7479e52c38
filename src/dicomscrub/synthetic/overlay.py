"""Burn text into a dataset's pixels: the burned-text engine when present, else Pillow.

:mod:`dicomscrub.synthetic.burned_text` renders realistic text with ground truth; this
module calls it when it can be imported and otherwise draws plain text with Pillow's
bundled font, so the demo and the tests always have images with burned-in PHI.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset

__all__ = ["Box", "burn_texts", "draw_text"]

#: A text box in pixel coordinates: columns ``x0..x1-1``, rows ``y0..y1-1``.
Box = tuple[int, int, int, int]


def draw_text(ds: Dataset, texts: Sequence[str], seed: int) -> list[Box]:
    """Draw ``texts`` as lines down the left edge of a single-frame grey image, in place.

    The ink is the brightest value the stored bits allow. ``seed`` shifts the start a
    few pixels so that files differ. Lines that do not fit are skipped.
    """
    rows, columns = int(ds.Rows), int(ds.Columns)
    pixels = ds.pixel_array
    size = max(10, rows // 24)
    font = ImageFont.load_default(size=size)
    mask = Image.new("L", (columns, rows), 0)
    draw = ImageDraw.Draw(mask)
    rng = random.Random(seed)
    x, y = 4 + rng.randrange(8), 4 + rng.randrange(8)
    boxes: list[Box] = []
    for text in texts:
        left, top, right, bottom = (int(v) for v in draw.textbbox((x, y), text, font=font))
        if right >= columns or bottom >= rows:
            continue
        draw.text((x, y), text, fill=255, font=font)
        boxes.append((left, top, right + 1, bottom + 1))
        y = bottom + size // 2
    bits = int(ds.BitsStored)
    ink = 2 ** (bits - 1) - 1 if int(ds.PixelRepresentation) == 1 else 2**bits - 1
    ink_mask = np.asarray(mask) > 127
    burned = np.where(ink_mask, ink, pixels).astype(pixels.dtype)
    ds.PixelData = burned.tobytes()
    return boxes


def burn_texts(ds: Dataset, texts: Sequence[str], seed: int) -> list[Box]:
    """Burn ``texts`` into ``ds`` with the burned-text engine if installed, else Pillow."""
    try:
        engine = importlib.import_module("dicomscrub.synthetic.burned_text")
    except ImportError:
        return draw_text(ds, texts, seed)
    truths = engine.burn_text(ds, list(texts), seed)
    return [(int(t.x0), int(t.y0), int(t.x1), int(t.y1)) for t in truths]
