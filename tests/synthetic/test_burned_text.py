"""The burned-in text generator: deterministic frames with truthful boxes."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from dicomscrub.synthetic.burned_text import (
    IMAGE_KINDS,
    burn_text,
    make_background,
    make_burned_image,
    patient_for_seed,
)


@pytest.mark.parametrize("kind", IMAGE_KINDS)
def test_boxes_hold_ink_and_background_does_not_change_outside(kind: str) -> None:
    pixels, meta, truths = make_burned_image(kind, 3)
    assert (truths and any(t.phi for t in truths)) or kind == "sizes"
    h, w = pixels.shape[:2]
    for t in truths:
        assert 0 <= t.x0 < t.x1 <= w and 0 <= t.y0 < t.y1 <= h
        assert (t.category is not None) == t.phi
        assert 8 <= t.size <= 80
    if kind.startswith("us"):
        assert pixels.dtype == np.uint8 and pixels.shape[2] == 3 and meta.photometric == "RGB"
    else:
        assert pixels.dtype == np.uint16 and pixels.max() <= 4095 and meta.bits_stored == 12


def test_same_seed_same_image() -> None:
    a, _, ta = make_burned_image("ct", 9)
    b, _, tb = make_burned_image("ct", 9)
    assert np.array_equal(a, b) and ta == tb
    c, _, _ = make_burned_image("ct", 10)
    assert not np.array_equal(a, c)


def test_phi_text_comes_from_the_patient() -> None:
    patient = patient_for_seed(4)
    _, _, truths = make_burned_image("ct", 4)
    names = [t.text.upper() for t in truths if t.category == "name"]
    assert any(patient.family in n for n in names)
    ids = [t.text for t in truths if t.category == "id"]
    assert any(patient.patient_id in i for i in ids)


def test_xray_is_2k_and_sometimes_monochrome1() -> None:
    kinds = {make_burned_image("xr", s)[1].photometric for s in range(4)}
    pixels, _, _ = make_burned_image("xr", 0)
    assert min(pixels.shape) >= 2000
    assert kinds <= {"MONOCHROME1", "MONOCHROME2"}


@pytest.mark.parametrize("kind", ["ct", "us", "xr"])
def test_background_has_no_text(kind: str) -> None:
    pixels, meta = make_background(kind, 1)
    assert pixels.size and meta.photometric in ("MONOCHROME2", "RGB")


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small_RLE.dcm",
        "SC_rgb_rle_2frame.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "JPEG2000.dcm",
    ],
)
def test_burn_text_into_dataset(name: str) -> None:
    ds = pydicom.dcmread(get_testdata_file(name))
    before = ds.pixel_array.copy()
    truths = burn_text(ds, ["GRETA HARTMANN", "ID 4032748"], seed=1)
    after = ds.pixel_array
    assert truths and after.shape == before.shape
    assert (after != before).any()
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    # Every frame gets the text, and only inside the returned boxes (1 px anti-aliasing margin).
    stack = (after != before).reshape(frames, int(ds.Rows), int(ds.Columns), -1).any(axis=(0, 3))
    inside = np.zeros_like(stack)
    for t in truths:
        inside[max(0, t.y0 - 2) : t.y1 + 2, max(0, t.x0 - 2) : t.x1 + 2] = True
    assert not (stack & ~inside).any()
    if frames > 1:
        per_frame = (after != before).reshape(frames, -1).any(axis=1)
        assert per_frame.all()
