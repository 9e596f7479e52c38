"""Overlay planes and icon images: the other places where burned-in text hides.

With any pixel mode other than ``none``, overlay groups (60xx) are removed whole. An overlay
plane (PS3.3 C.9.2) is a bitmap drawn over the image by every viewer, and vendors put the
same annotations there that they burn into the pixels (patient name, IDs, dates). The
reference API's modes promise that no text is left to display, and cleaning a 1-bit plane
with OCR is not reliable, so the plane goes. Overlays embedded in the unused high bits of
Pixel Data (retired, but still written by old modalities) are cleared when the pixels are
decoded (see :mod:`dicomscrub.pixels.frames`); their describing 60xx group goes here too.

The IconImageSequence (0088,0200) holds a thumbnail of the image, with the same burned-in
text at a smaller size; it is removed rather than redacted, since nothing needs it.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

__all__ = ["has_overlay_groups", "strip_icon_images", "strip_overlays"]

_ICON_IMAGE_SEQUENCE = 0x00880200


def _is_overlay_tag(tag: BaseTag) -> bool:
    """Whether ``tag`` is in a repeating overlay group 6000-601E (even groups, PS3.5 7.6)."""
    group = tag.group
    return 0x6000 <= group <= 0x601E and group % 2 == 0


def has_overlay_groups(ds: Dataset) -> bool:
    """Whether ``ds`` has any element of an overlay group (60xx)."""
    return any(_is_overlay_tag(elem.tag) for elem in ds)


def strip_overlays(ds: Dataset) -> int:
    """Remove every overlay group (60xx) of ``ds``; return how many groups were removed.

    Overlay groups are defined at the top level of an image's dataset only (PS3.3 C.9.2),
    so nested sequences are not searched.
    """
    tags = [elem.tag for elem in ds if _is_overlay_tag(elem.tag)]
    groups = {tag.group for tag in tags}
    for tag in tags:
        del ds[tag]
    return len(groups)


def strip_icon_images(ds: Dataset) -> int:
    """Remove every IconImageSequence, at any sequence depth; return how many were removed."""
    removed = 0
    if _ICON_IMAGE_SEQUENCE in ds:
        del ds[_ICON_IMAGE_SEQUENCE]
        removed += 1
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                removed += strip_icon_images(item)
    return removed
