"""Burning text into pixels: Pillow fallback and the engine dispatcher."""

from __future__ import annotations

import numpy as np
import pytest

from dicomscrub.synthetic.overlay import burn_texts, draw_text
from tests.factories import make_dataset, make_patients


@pytest.mark.parametrize("burn", [draw_text, burn_texts])
@pytest.mark.parametrize("modality", ["CT", "MR"])
def test_text_lands_inside_its_boxes(burn: object, modality: str) -> None:
    patient = make_patients(1)[0]
    ds = make_dataset(patient, modality=modality, rows=256, columns=256)
    before = ds.pixel_array.copy()
    boxes = burn(ds, [patient.display_name, patient.patient_id], 3)  # type: ignore[operator]
    after = ds.pixel_array
    assert len(boxes) == 2
    changed = after != before
    inside = np.zeros_like(changed)
    for x0, y0, x1, y1 in boxes:
        assert 0 <= x0 < x1 <= 256 and 0 <= y0 < y1 <= 256
        # Anti-aliased edges may fall a pixel or two outside the tight ink box.
        inside[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = True
    assert changed[inside].any()
    assert not changed[~inside].any()


def test_draw_text_skips_lines_that_do_not_fit() -> None:
    ds = make_dataset(make_patients(1)[0], rows=32, columns=32)
    assert draw_text(ds, ["A LINE FAR TOO LONG FOR THIS IMAGE"], 0) == []
