"""Synthetic PHI-bearing DICOM in one import: patients, datasets, series, corpora, PHI scan.

The parts live in small modules (:mod:`.identity`, :mod:`.datasets`, :mod:`.corpus`,
:mod:`.phi_scan`); this module gathers them so tests, the demo and the benchmarks need
one import line.
"""

from __future__ import annotations

from dicomscrub.synthetic.corpus import CorpusManifest, SeriesEntry, make_corpus, write_series
from dicomscrub.synthetic.datasets import (
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    SOP_CLASSES,
    make_dataset,
    synthetic_uid,
)
from dicomscrub.synthetic.identity import SyntheticPatient, make_patients, planted_phi
from dicomscrub.synthetic.phi_scan import MIN_PHI_LENGTH, find_phi

__all__ = [
    "MIN_PHI_LENGTH",
    "PRIVATE_CREATOR",
    "PRIVATE_GROUP",
    "SOP_CLASSES",
    "CorpusManifest",
    "SeriesEntry",
    "SyntheticPatient",
    "find_phi",
    "make_corpus",
    "make_dataset",
    "make_patients",
    "planted_phi",
    "synthetic_uid",
    "write_series",
]
