"""Blank burned-in text: decode once, find boxes per distinct frame, fill, encode once.

This is the entry point the pipeline calls (:func:`redact_pixels`). Text detection lives
behind :class:`~dicomscrub.pixels.types.TextFinder`; this module does everything around it:
rule regions, overlays and icons, identical-frame reuse, ``union_frames``, fill values,
BurnedInAnnotation, and writing the pixels back (:mod:`dicomscrub.pixels.encode`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut

from dicomscrub.errors import FileError
from dicomscrub.pixels.encode import plan_output, write_frames
from dicomscrub.pixels.frames import CODEC_ERRORS, DecodedPixels, decode_frames
from dicomscrub.pixels.overlays import strip_icon_images, strip_overlays
from dicomscrub.pixels.rules import PixelRule
from dicomscrub.pixels.types import Box, TextFinder
from dicomscrub.profile.policy import PixelMode, Policy

__all__ = ["fill_values", "needs_pixel_work", "redact_pixels"]

Fill = int | float | tuple[int, ...]


def needs_pixel_work(ds: Dataset, policy: Policy) -> bool:
    """Whether :func:`redact_pixels` has anything to do for ``ds`` under ``policy``.

    True when ``ds`` has Pixel Data and either a pixel mode other than ``none`` is set or
    a rule region's header match selects it. (Float and double-float pixel data hold
    parametric maps, never burned-in text, and are not examined.)
    """
    if "PixelData" not in ds:
        return False
    if policy.pixels != PixelMode.NONE:
        return True
    return bool(_matching_rules(ds, policy))


def redact_pixels(
    ds: Dataset, policy: Policy, finder: TextFinder | None
) -> list[dict[str, object]]:
    """Redact ``ds``'s pixels in place; return the report's ``pixel_regions``.

    ``finder`` is required in the ``all-text`` and ``sensitive-text`` modes and ignored in
    ``none`` (where only rule regions apply). In the text modes overlay planes and icon
    images are removed too (:mod:`dicomscrub.pixels.overlays`), and after ``all-text``
    BurnedInAnnotation becomes ``NO``. Frames are written back only when something was
    blanked or embedded overlay bits were cleared; otherwise Pixel Data is left untouched.

    Raises ``FileError("pixel-decode")`` when the pixels cannot be decoded and
    ``FileError("pixel-encode")`` when the redacted pixels cannot be written: the file is
    then not written at all.
    """
    if "PixelData" not in ds:
        return []
    detect = policy.pixels != PixelMode.NONE
    if detect and finder is None:
        raise ValueError(f"pixel mode {policy.pixels.value!r} needs a TextFinder")
    rules = _matching_rules(ds, policy)
    if not detect and not rules:
        return []
    if detect:
        strip_overlays(ds)
        strip_icon_images(ds)

    decoded = decode_frames(ds)
    width, height = decoded.columns, decoded.rows
    rule_boxes = _dedupe(box for rule in rules for box in rule.resolve(width, height))
    found = _find_text(decoded, finder) if detect and finder is not None else None
    if found is not None and policy.union_frames:
        union = _dedupe(box for boxes in found for box in boxes)
        found = [union] * decoded.count
    per_frame = [
        _dedupe([*rule_boxes, *(found[i] if found is not None else [])])
        for i in range(decoded.count)
    ]

    if any(per_frame) or decoded.high_bits_cleared:
        _blank(decoded, per_frame)
        plan = plan_output(ds, decoded, lossy_reencode=policy.lossy_reencode)
        write_frames(ds, decoded, plan)
    if policy.pixels == PixelMode.ALL_TEXT:
        ds.BurnedInAnnotation = "NO"
    return [box.to_json(index) for index, boxes in enumerate(per_frame) for box in boxes]


def _matching_rules(ds: Dataset, policy: Policy) -> list[PixelRule]:
    if policy.pixel_rules is None:
        return []
    return policy.pixel_rules.matching(ds)


def _find_text(decoded: DecodedPixels, finder: TextFinder) -> list[list[Box]]:
    """Boxes per frame; frames with identical bytes are given to the finder once."""
    seen: dict[bytes, list[Box]] = {}
    per_frame = []
    for index in range(decoded.count):
        frame = np.ascontiguousarray(decoded.frames[index])
        key = hashlib.blake2b(frame.data, digest_size=16).digest()
        if key not in seen:
            boxes = finder.find(decoded.detection_frame(index), decoded.meta)
            clipped = (box.clipped(decoded.columns, decoded.rows) for box in boxes)
            seen[key] = _dedupe(box for box in clipped if box is not None)
        per_frame.append(seen[key])
    return per_frame


def _dedupe(boxes: Iterable[Box]) -> list[Box]:
    return list(dict.fromkeys(boxes))


def _blank(decoded: DecodedPixels, per_frame: list[list[Box]]) -> None:
    """Fill each frame's boxes with that frame's displayed-black value, in place."""
    fills = fill_values(decoded)
    for index, boxes in enumerate(per_frame):
        for box in boxes:
            decoded.frames[index, box.y0 : box.y1, box.x0 : box.x1] = fills[index]


def fill_values(decoded: DecodedPixels) -> list[Fill]:
    """Per frame, the stored value that displays as black.

    MONOCHROME2: the frame's minimum (the darkest value the frame actually uses, so a CT's
    padding or air rather than -32768); MONOCHROME1: the frame's maximum; RGB: 0, 0, 0;
    YBR_FULL: Y 0 with neutral chroma; PALETTE COLOR: the index whose entry is darkest.
    """
    frames = decoded.frames
    flat = frames.reshape(decoded.count, -1)
    if decoded.photometric == "MONOCHROME2":
        return [v.item() for v in flat.min(axis=1)]
    if decoded.photometric == "MONOCHROME1":
        return [v.item() for v in flat.max(axis=1)]
    if decoded.photometric == "RGB":
        return [(0, 0, 0)] * decoded.count
    if decoded.photometric == "YBR_FULL":
        half = 1 << (decoded.bits_stored - 1)
        return [(0, half, half)] * decoded.count
    return [_darkest_palette_index(decoded)] * decoded.count


def _darkest_palette_index(decoded: DecodedPixels) -> int:
    """The stored index whose palette entry has the lowest luminance (PS3.3 C.7.6.3.1.5)."""
    ds = decoded.palette_ds
    try:
        if ds is None:
            raise ValueError("no palette")
        entries, first = (int(v) for v in ds.RedPaletteColorLookupTableDescriptor[:2])
        entries = entries or 65536  # PS3.3 C.7.6.3.1.5: 0 means 2**16 entries
        info = np.iinfo(decoded.frames.dtype)  # type: ignore[type-var]
        indices = np.arange(max(first, info.min), min(first + entries, info.max + 1))
        rgb = np.asarray(apply_color_lut(indices.astype(decoded.frames.dtype), ds), np.float64)
    except CODEC_ERRORS as exc:
        raise FileError("pixel-decode", "PALETTE COLOR lookup tables unreadable") from exc
    luminance = rgb @ np.array([0.299, 0.587, 0.114])
    return int(indices[int(np.argmin(luminance))])
