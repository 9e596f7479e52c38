"""Write synthetic series and whole corpora (patients x series x files) to a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian

from dicomscrub.synthetic.datasets import make_dataset, synthetic_uid
from dicomscrub.synthetic.identity import SyntheticPatient, make_patients, planted_phi

__all__ = ["CorpusManifest", "SeriesEntry", "make_corpus", "write_series"]


@dataclass(frozen=True)
class SeriesEntry:
    """One written series: whose it is, its UIDs and its files."""

    patient_index: int
    modality: str
    study_uid: str
    series_uid: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class CorpusManifest:
    """What :func:`make_corpus` wrote: patients, series and every file path."""

    root: Path
    patients: tuple[SyntheticPatient, ...]
    series: tuple[SeriesEntry, ...] = field(default_factory=tuple)

    @property
    def paths(self) -> list[Path]:
        """Every file of the corpus, series by series."""
        return [p for s in self.series for p in s.paths]

    @property
    def series_uids(self) -> list[str]:
        """The SeriesInstanceUID of every series, in order."""
        return [s.series_uid for s in self.series]

    def phi_strings(self) -> list[str]:
        """The planted PHI of every patient of the corpus, without duplicates."""
        return list(dict.fromkeys(s for p in self.patients for s in planted_phi(p)))

    def patient_of(self, path: Path) -> SyntheticPatient:
        """The patient whose PHI the file at ``path`` carries."""
        for entry in self.series:
            if path in entry.paths:
                return self.patients[entry.patient_index]
        raise KeyError(path.name)

    def to_json(self) -> str:
        """The manifest as JSON (paths relative to ``root``; no PHI values)."""
        return json.dumps(
            {
                "root": str(self.root),
                "patients": len(self.patients),
                "series": [
                    {
                        "patient_index": s.patient_index,
                        "modality": s.modality,
                        "study_uid": s.study_uid,
                        "series_uid": s.series_uid,
                        "files": [p.relative_to(self.root).as_posix() for p in s.paths],
                    }
                    for s in self.series
                ],
            },
            indent=2,
        )


def write_series(
    folder: Path | str,
    patient: SyntheticPatient,
    *,
    n: int,
    modality: str = "CT",
    study_index: int = 0,
    study_uid: str | None = None,
    series_uid: str | None = None,
    rows: int = 64,
    columns: int = 64,
    transfer_syntax: str = ExplicitVRLittleEndian,
    plant_everywhere: bool = True,
    seed: int = 0,
) -> list[Path]:
    """Write ``n`` instances of one series to ``folder`` as ``IM0001.dcm``, ``IM0002.dcm``...

    File names carry no PHI, as hospitals' exports rarely do; the folder is created.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    study = study_uid or synthetic_uid("study", patient.patient_id, study_index, seed)
    series = series_uid or synthetic_uid("series", study, modality, seed)
    paths = []
    for number in range(1, n + 1):
        ds = make_dataset(
            patient,
            modality=modality,
            study_uid=study,
            series_uid=series,
            instance_number=number,
            rows=rows,
            columns=columns,
            transfer_syntax=transfer_syntax,
            plant_everywhere=plant_everywhere,
            seed=seed,
            study_index=study_index,
        )
        path = out / f"IM{number:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def make_corpus(
    folder: Path | str,
    *,
    patients: int = 3,
    series_per_patient: int = 2,
    files_per_series: int = 8,
    rows: int = 64,
    columns: int = 64,
    seed: int = 0,
) -> CorpusManifest:
    """Write a small hospital export: ``patients`` x ``series_per_patient`` series.

    Series alternate CT and MR, so every patient with two or more series has both; the
    defaults (3 patients, 6 series, 48 files) are what the demo uses. Odd-numbered series
    (CT) belong to a patient's first study, even-numbered ones (MR) to the second, so
    each patient has two visits on two dates. Layout:
    ``folder/patientNN/seriesNN_MOD/IM0001.dcm``.
    """
    root = Path(folder)
    people = make_patients(patients, seed)
    entries = []
    for p_index, patient in enumerate(people):
        for s_index in range(series_per_patient):
            modality = ("CT", "MR")[s_index % 2]
            study_index = s_index % 2
            study = synthetic_uid("study", patient.patient_id, study_index, seed)
            series = synthetic_uid("series", study, modality, seed, s_index)
            subdir = root / f"patient{p_index + 1:02d}" / f"series{s_index + 1:02d}_{modality}"
            paths = write_series(
                subdir,
                patient,
                n=files_per_series,
                modality=modality,
                study_index=study_index,
                study_uid=study,
                series_uid=series,
                rows=rows,
                columns=columns,
                seed=seed + s_index,
            )
            entries.append(SeriesEntry(p_index, modality, study, series, tuple(paths)))
    return CorpusManifest(root=root, patients=tuple(people), series=tuple(entries))
