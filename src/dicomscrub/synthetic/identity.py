"""Synthetic patients: invented identities with every kind of PHI a DICOM file can carry."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dicomscrub.synthetic import _pools

__all__ = ["SyntheticPatient", "make_patients", "planted_phi"]


@dataclass(frozen=True)
class SyntheticPatient:
    """One invented patient, with the people and places of their imaging visits.

    Names are DICOM person names (``FAMILY^GIVEN^MIDDLE``); dates are ``YYYYMMDD``.
    ``study_dates`` and ``accession_numbers`` pair up: study ``i`` of this patient took
    place on ``study_dates[i]`` under ``accession_numbers[i]``.
    """

    family_name: str
    given_name: str
    middle_initial: str
    patient_id: str
    birth_date: str
    sex: str
    street: str
    address: str
    phone: str
    other_ids: tuple[str, ...]
    institution: str
    institution_address: str
    institution_ae: str
    referring_physician: str
    performing_physician: str
    operator: str
    accession_numbers: tuple[str, ...]
    study_dates: tuple[str, ...]
    weight_kg: float
    height_m: float

    @property
    def name(self) -> str:
        """PatientName as DICOM writes it, e.g. ``HARTMANN^GRETA^M``."""
        return f"{self.family_name}^{self.given_name}^{self.middle_initial}"

    @property
    def display_name(self) -> str:
        """The name as a person writes it, e.g. ``Greta Hartmann``."""
        return f"{self.given_name.title()} {self.family_name.title()}"

    def age_at(self, study_index: int) -> str:
        """PatientAge (``nnnY``) on the date of study ``study_index``."""
        born = _parse(self.birth_date)
        seen = _parse(self.study_dates[study_index])
        years = seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
        return f"{years:03d}Y"


def _parse(value: str) -> date:
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _staff_name(rng: random.Random, taken: set[str]) -> str:
    # Staff of one patient are distinct people, so each name tests its own attribute.
    while True:
        family = rng.choice(_pools.STAFF_FAMILY_NAMES)
        if family not in taken:
            taken.add(family)
            return f"{family}^{rng.choice(_pools.STAFF_GIVEN_NAMES)}"


def _random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _make_patient(rng: random.Random, index: int, family: str, given: str) -> SyntheticPatient:
    institution, institution_address, ae = rng.choice(_pools.INSTITUTIONS)
    born = _random_date(rng, date(1935, 1, 1), date(2004, 12, 31))
    first_study = _random_date(rng, date(2019, 1, 1), date(2023, 6, 30))
    second_study = first_study + timedelta(days=rng.randrange(20, 400))
    street = rng.choice(_pools.STREETS)
    number = rng.randrange(2, 240)
    zip_code = rng.randrange(10000, 99999)
    staff: set[str] = set()
    # The index is part of every identifier so that patients of one batch never collide.
    return SyntheticPatient(
        family_name=family,
        given_name=given,
        middle_initial=rng.choice("ABCDEFGHJKLMNPRSTW"),
        patient_id=f"MRN{index:02d}{rng.randrange(10**6):06d}",
        birth_date=born.strftime("%Y%m%d"),
        sex="F" if given in _pools.FEMALE_GIVEN_NAMES else "M",
        street=street,
        address=f"{number} {street}, {rng.choice(_pools.CITIES)} {zip_code}",
        phone=f"555-{rng.randrange(200, 999)}-{rng.randrange(10**4):04d}",
        other_ids=(
            f"INS{index:02d}{rng.randrange(10**7):07d}",
            f"NHS{index:02d}{rng.randrange(10**7):07d}",
        ),
        institution=institution,
        institution_address=institution_address,
        institution_ae=ae,
        referring_physician=_staff_name(rng, staff),
        performing_physician=_staff_name(rng, staff),
        operator=_staff_name(rng, staff),
        accession_numbers=(
            f"ACC{index:02d}{rng.randrange(10**6):06d}",
            f"ACC{index:02d}{rng.randrange(10**6):06d}A",
        ),
        study_dates=(first_study.strftime("%Y%m%d"), second_study.strftime("%Y%m%d")),
        weight_kg=round(rng.uniform(48.0, 112.0), 1),
        height_m=round(rng.uniform(1.52, 1.96), 2),
    )


def make_patients(n: int, seed: int = 0) -> list[SyntheticPatient]:
    """Return ``n`` distinct invented patients, the same for the same ``seed``.

    The list is stable by prefix (``make_patients(1, s)[0] == make_patients(5, s)[0]``)
    Family names never repeat within one seed and given names only after 22 patients,
    so a patient's name and identifiers are theirs alone; institutions and staff may be
    shared, as in a real hospital. At most 24 patients per seed (the size of
    ``PATIENT_FAMILY_NAMES``).
    """
    pool = _pools.PATIENT_FAMILY_NAMES
    if not 0 <= n <= len(pool):
        raise ValueError(f"n must be between 0 and {len(pool)}")
    families = random.Random(f"dicomscrub-families-{seed}").sample(pool, len(pool))
    names = _pools.PATIENT_GIVEN_NAMES
    givens = random.Random(f"dicomscrub-givens-{seed}").sample(names, len(names))
    patients = []
    for index in range(n):
        rng = random.Random(f"dicomscrub-patient-{seed}-{index}")
        given = givens[index % len(givens)]
        patients.append(_make_patient(rng, index, families[index], given))
    return patients


def _names(pn: str, *, comma: bool = False, spaced: bool = False) -> list[str]:
    family, _, rest = pn.partition("^")
    given = rest.partition("^")[0]
    forms = [pn, family, given]
    if comma:
        forms.append(f"{family}, {given}")
    if spaced:
        forms += [f"{given} {family}", f"{family} {given}"]
    return forms


def planted_phi(patient: SyntheticPatient, *, study_index: int | None = None) -> list[str]:
    """Every PHI string that :func:`~dicomscrub.synthetic.datasets.make_dataset` plants.

    With ``study_index``, exactly the strings a file of that study carries (all of them
    are found in an unscrubbed file); without it, those of every study of the patient,
    for scanning a whole corpus. After de-identification with the Basic Profile and no
    options none may remain anywhere in the file (Retain options keep some on purpose:
    institution names, dates). Names appear in each written form used; no duplicates.
    """
    studies = range(len(patient.study_dates)) if study_index is None else [study_index]
    strings = [
        *_names(patient.name, spaced=True),
        patient.patient_id,
        patient.birth_date,
        patient.address,
        patient.street,
        patient.phone,
        *patient.other_ids,
        patient.institution,
        patient.institution_address,
        patient.institution_ae,
        *(patient.accession_numbers[i] for i in studies),
        *(patient.study_dates[i] for i in studies),
        *_names(patient.referring_physician, comma=True),
        *_names(patient.performing_physician),
        *_names(patient.operator),
    ]
    return list(dict.fromkeys(strings))
