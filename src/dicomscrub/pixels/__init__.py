"""Burned-in text in the pixels: decode every frame, find text, blank it, write back.

The pipeline calls :func:`needs_pixel_work` and :func:`redact_pixels`; text detection sits
behind :class:`TextFinder` (see ``detect.py``). Modules: ``frames`` (decode), ``encode``
(write back), ``redact`` (the flow), ``rules`` (fixed regions by header match),
``overlays`` (overlay planes and icon images).
"""

from dicomscrub.pixels.overlays import strip_icon_images, strip_overlays
from dicomscrub.pixels.redact import needs_pixel_work, redact_pixels
from dicomscrub.pixels.rules import RuleSet, load_rules
from dicomscrub.pixels.types import Box, FrameMeta, TextFinder

__all__ = [
    "Box",
    "FrameMeta",
    "RuleSet",
    "TextFinder",
    "load_rules",
    "needs_pixel_work",
    "redact_pixels",
    "strip_icon_images",
    "strip_overlays",
]
