"""Factories for tests: synthetic PHI-bearing DICOM (see dicomscrub.synthetic.patients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import FileDataset

from dicomscrub.synthetic.patients import (
    PRIVATE_CREATOR,
    PRIVATE_GROUP,
    SOP_CLASSES,
    CorpusManifest,
    SeriesEntry,
    SyntheticPatient,
    find_phi,
    make_corpus,
    make_dataset,
    make_patients,
    planted_phi,
    synthetic_uid,
    write_series,
)

__all__ = [
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
    "residual_phi",
    "save",
    "synthetic_uid",
    "write_phi_file",
    "write_series",
]


def save(ds: FileDataset, path: Path) -> Path:
    """Write ``ds`` as a DICOM file (preamble and file meta) and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_phi_file(
    folder: Path, *, name: str = "phi.dcm", patient_index: int = 0, seed: int = 0, **kwargs: Any
) -> tuple[Path, SyntheticPatient]:
    """Write one PHI-laden file (``make_dataset`` keywords pass through); return it and whose."""
    patient = make_patients(patient_index + 1, seed)[patient_index]
    ds = make_dataset(patient, seed=seed, **kwargs)
    return save(ds, folder / name), patient


def residual_phi(path: Path, patient: SyntheticPatient) -> list[str]:
    """The planted PHI strings of ``patient`` still present in the file at ``path``."""
    return find_phi(path.read_bytes(), planted_phi(patient))
