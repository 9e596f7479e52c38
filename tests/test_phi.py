"""Collecting a file's PHI without decoding what cannot hold it; matching text against it."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag

from dicomscrub.fastvalues import elements
from dicomscrub.phi import PhiValues, collect_phi
from dicomscrub.pipeline import read_dataset


def test_collect_phi_reads_names_ids_and_dates_but_leaves_other_elements_raw() -> None:
    ds = read_dataset(Path(get_testdata_file("CT_small.dcm")).read_bytes())
    phi = collect_phi(ds)
    assert "COMPRESSEDSAMPLES CT1" in phi.names
    assert ds.PatientID.upper() in phi.ids
    assert phi.dates
    for tag in (0x00180060, 0x00280030, 0x00200032):  # KVP, PixelSpacing, ImagePosition
        assert isinstance(elements(ds)[BaseTag(tag)], RawDataElement)


def test_phi_values_sharing_phrases_clean_alike() -> None:
    first = PhiValues(names=("GRETA HARTMANN", "GRETA", "HARTMANN"), ids=("MRN123",))
    second = PhiValues(names=("GRETA HARTMANN", "GRETA", "HARTMANN"), ids=("MRN123",))
    text = "Scan of Hartmann, Greta (MRN123) for follow-up"
    assert first.clean_text(text, patterns=False) == second.clean_text(text, patterns=False)
    cleaned, removed = first.clean_text(text, patterns=False)
    assert "HARTMANN" not in cleaned.upper() and "MRN123" not in cleaned
    assert removed == 3 and "follow-up" in cleaned  # HARTMANN, GRETA (reversed), MRN123


def test_phi_values_with_other_phrases_do_not_reuse_a_cached_pattern() -> None:
    greta = PhiValues(names=("GRETA",))
    ivan = PhiValues(names=("IVAN",))
    assert greta.clean_text("Ivan and Greta", patterns=False) == ("Ivan and", 1)
    assert ivan.clean_text("Ivan and Greta", patterns=False) == ("and Greta", 1)
