"""Overlay planes and icon images are removed."""

from __future__ import annotations

import warnings
from pathlib import Path

import pydicom
from pydicom.data.data_manager import DATA_ROOT
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from dicomscrub.pixels.overlays import has_overlay_groups, strip_icon_images, strip_overlays

TEST_FILES = Path(DATA_ROOT) / "test_files"


def _overlay_file() -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(TEST_FILES / "examples_overlay.dcm")


def test_strip_overlays_removes_every_group_and_counts_them() -> None:
    ds = _overlay_file()
    ds.add_new(0x60020010, "US", 4)
    ds.add_new(0x60023000, "OW", b"\x00\x01")
    ds.add_new(0x60010010, "LO", "private creator in an odd group")
    assert has_overlay_groups(ds)
    assert strip_overlays(ds) == 2
    assert not has_overlay_groups(ds)
    assert 0x60010010 in ds  # odd groups are private, not overlays
    assert "PixelData" in ds
    assert strip_overlays(ds) == 0


def test_strip_icon_images_at_every_depth() -> None:
    ds = Dataset()
    icon = Dataset()
    icon.Rows = 8
    ds.IconImageSequence = Sequence([icon])
    item = Dataset()
    item.IconImageSequence = Sequence([Dataset()])
    nested = Dataset()
    nested.IconImageSequence = Sequence([Dataset()])
    item.ReferencedImageSequence = Sequence([nested])
    ds.ReferencedSeriesSequence = Sequence([item])
    assert strip_icon_images(ds) == 3
    assert "IconImageSequence" not in ds
    assert "IconImageSequence" not in ds.ReferencedSeriesSequence[0]
    assert "IconImageSequence" not in ds.ReferencedSeriesSequence[0].ReferencedImageSequence[0]
    assert strip_icon_images(ds) == 0
