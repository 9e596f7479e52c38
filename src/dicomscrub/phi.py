"""The PHI of one file, collected before scrubbing, and matching text against it.

Clean Descriptors (header free text) and sensitive-text pixel redaction both ask the
same question of a piece of text: does it contain this patient's name, IDs, dates or
institution, or something shaped like PHI (a date, a phone number, a long number, an
e-mail address)? :class:`PhiValues` answers it. It holds values, so it must never be
logged, reported or pickled into a result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Final

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import PersonName

from dicomscrub.fastvalues import (
    ElementView,
    decode_text,
    effective_vr,
    elements,
    is_decodable,
    keyword,
    simple_codec,
)
from dicomscrub.rawseq import scan_sequence

__all__ = ["MONTHS", "PhiValues", "collect_phi", "iter_dates_in_text"]

_ID_KEYWORDS: Final = frozenset(
    {
        "PatientID",
        "OtherPatientIDs",
        "AccessionNumber",
        "StudyID",
        "MedicalRecordLocator",
        "IssuerOfPatientID",
        "AdmissionID",
        "RequestedProcedureID",
        "ScheduledProcedureStepID",
        "PerformedProcedureStepID",
        "FillerOrderNumberImagingServiceRequest",
        "PlacerOrderNumberImagingServiceRequest",
        "PatientInsurancePlanCodeSequence",
        "MilitaryRank",
        "InsurancePlanIdentification",
        "DeviceSerialNumber",
        "PhysiciansOfRecordIdentificationSequence",
    }
)
_DATE_KEYWORDS: Final = frozenset(
    {
        "PatientBirthDate",
        "StudyDate",
        "SeriesDate",
        "AcquisitionDate",
        "ContentDate",
        "InstanceCreationDate",
        "PerformedProcedureStepStartDate",
    }
)
_PLACE_KEYWORDS: Final = frozenset(
    {
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "StationName",
        "ReferringPhysicianAddress",
        "LocalNamespaceEntityID",
        "UniversalEntityID",
        "InstitutionDepartmentTypeCodeSequence",
    }
)
_OTHER_KEYWORDS: Final = frozenset(
    {
        "PatientAddress",
        "PatientTelephoneNumbers",
        "ReferringPhysicianTelephoneNumbers",
        "PersonTelephoneNumbers",
        "PersonAddress",
        "ElectronicMailAddress",
        "PatientBirthName",
        "PatientMotherBirthName",
        "RegionOfResidence",
        "CountryOfResidence",
    }
)

#: Month abbreviations as dates are written in English text (and burned into images).
MONTHS: Final = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_MONTH_RE: Final = r"(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*\.?"
_DATE_PATTERNS: Final = (
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"),  # YYYYMMDD
    re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"),  # YYYY-MM-DD
    re.compile(r"(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?!\d)"),  # DD.MM.YYYY / MM/DD/YY
    re.compile(rf"(?<!\d)(\d{{1,2}})[- ]?({_MONTH_RE})[-, ]*(\d{{4}}|\d{{2}})(?!\d)", re.I),
    re.compile(rf"({_MONTH_RE})[- ]?(\d{{1,2}}),?[- ]+(\d{{4}})(?!\d)", re.I),
)
_PHONE_RE: Final = re.compile(r"(?<!\w)\+?\(?\d{2,4}\)?[-. ]?\d{3,4}[-. ]?\d{3,5}(?!\w)")
_EMAIL_RE: Final = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_LONG_NUMBER_RE: Final = re.compile(r"(?<!\d)\d{6,}(?!\d)")
_TOKEN_RE: Final = re.compile(r"[A-Z0-9]+")


def _norm(text: str) -> str:
    return " ".join(_TOKEN_RE.findall(text.upper()))


def _parse_da(value: str) -> dt.date | None:
    value = value.strip()[:8]
    if len(value) == 8 and value.isdigit():
        try:
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
        except ValueError:
            return None
    return None


def _year(text: str) -> int:
    year = int(text)
    if year < 100:
        year += 2000 if year < 50 else 1900
    return year


def iter_dates_in_text(text: str) -> Iterator[tuple[int, int, list[dt.date]]]:
    """Yield ``(start, end, candidate dates)`` for every date-shaped run in ``text``.

    A run like ``01/02/1970`` is ambiguous (day-first or month-first): both readings are
    candidates. Runs that are not a real date in any reading still yield, with no
    candidates, since the shape alone is worth redacting.
    """
    upper = text.upper()
    seen: set[tuple[int, int]] = set()
    for index, pattern in enumerate(_DATE_PATTERNS):
        for m in pattern.finditer(upper):
            span = m.span()
            if any(s <= span[0] < e or s < span[1] <= e for s, e in seen):
                continue
            seen.add(span)
            g = m.groups()
            triples: list[tuple[int, int, int]] = []
            if index in (0, 1):
                triples = [(int(g[0]), int(g[1]), int(g[2]))]
            elif index == 2:
                y = _year(g[2])
                triples = [(y, int(g[1]), int(g[0])), (y, int(g[0]), int(g[1]))]
            elif index == 3:
                triples = [(_year(g[2]), MONTHS.index(g[1][:3].upper()) + 1, int(g[0]))]
            else:
                triples = [(_year(g[2]), MONTHS.index(g[0][:3].upper()) + 1, int(g[1]))]
            dates = []
            for y, mo, d in triples:
                try:
                    dates.append(dt.date(y, mo, d))
                except ValueError:
                    continue
            yield span[0], span[1], dates


@lru_cache(maxsize=256)
def _compile_phrases(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex matching any of ``phrases`` as whole tokens, any separators between them.

    Cached: the files of one series, and of one patient, mostly share their phrases,
    and compiling costs more than matching.
    """
    parts = []
    for phrase in phrases:
        tokens = _TOKEN_RE.findall(phrase.upper())
        if tokens:
            parts.append(r"[^A-Z0-9]*".join(re.escape(t) for t in tokens))
    if not parts:
        return None
    return re.compile(r"(?<![A-Z0-9])(?:" + "|".join(parts) + r")(?![A-Z0-9])")


@lru_cache(maxsize=256)
def _sorted_phrases(
    names: tuple[str, ...],
    ids: tuple[str, ...],
    institutions: tuple[str, ...],
    other: tuple[str, ...],
) -> list[tuple[str, str]]:
    """(phrase, category) of every phrase to look for, longest first, so that "GRETA
    HARTMANN" is removed whole before "GRETA". Cached: the files of one series share
    them (do not change the list returned)."""
    phrases = [(v, "name") for v in names]
    phrases += [(v, "id") for v in ids]
    phrases += [(v, "institution") for v in institutions]
    phrases += [(v, "other") for v in other]
    return sorted(
        ((p, c) for p, c in phrases if len(_norm(p).replace(" ", "")) >= 2),
        key=lambda pc: -len(pc[0]),
    )


@dataclass(frozen=True)
class PhiValues:
    """PHI values of one file, upper-case, for matching text against.

    ``names`` holds person-name parts and full forms; ``ids`` identifiers; ``dates`` the
    patient's and study's dates; ``institutions`` institution, department and station
    names; ``other`` addresses, phone numbers, e-mail and birth names.
    """

    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    dates: tuple[dt.date, ...] = ()
    institutions: tuple[str, ...] = ()
    other: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show values
        return (
            f"PhiValues(names={len(self.names)}, ids={len(self.ids)}, "
            f"dates={len(self.dates)}, institutions={len(self.institutions)})"
        )

    def _phrases(self) -> list[tuple[str, str]]:
        return _sorted_phrases(self.names, self.ids, self.institutions, self.other)

    @cached_property
    def _regex(self) -> re.Pattern[str] | None:
        return self._phrase_regex()

    @cached_property
    def _phrase_list(self) -> list[tuple[str, str]]:
        return self._phrases()

    def _phrase_regex(self) -> re.Pattern[str] | None:
        return _compile_phrases(tuple(phrase for phrase, _ in self._phrase_list))

    def categorize(self, text: str) -> str | None:
        """The PHI category found in ``text``, or None.

        Categories: ``name``, ``id``, ``date``, ``institution``, ``other`` (address,
        phone, e-mail of the file), and the patterns ``phone``, ``email``,
        ``long-number``. Matching is on whole tokens, case-insensitive.
        """
        upper = text.upper()
        for start, end, dates in iter_dates_in_text(upper):
            del start, end, dates
            return "date"
        tokens = set(_TOKEN_RE.findall(upper))
        compact = _norm(upper)
        for phrase, category in self._phrase_list:
            norm = _norm(phrase)
            if not norm:
                continue
            if " " in norm:
                if re.search(rf"(?<![A-Z0-9]){re.escape(norm)}(?![A-Z0-9])", compact):
                    return category
            elif norm in tokens:
                return category
        if _EMAIL_RE.search(text):
            return "email"
        if _PHONE_RE.search(text):
            return "phone"
        if _LONG_NUMBER_RE.search(text):
            return "long-number"
        return None

    def clean_text(self, text: str, *, patterns: bool = True) -> tuple[str, int]:
        """Remove this file's PHI and (with ``patterns``) PHI-shaped runs from ``text``.

        Returns the cleaned text and how many runs were removed; the rest of the text
        (its words, punctuation and case) is kept. Without ``patterns`` only this
        file's own values are removed (dates, phones and long numbers stay).
        """
        spans: list[tuple[int, int]] = []
        upper = text.upper()
        regex = self._regex
        if regex is not None:
            spans += [m.span() for m in regex.finditer(upper)]
        if patterns:
            spans += [(s, e) for s, e, _ in iter_dates_in_text(upper)]
            for pattern in (_EMAIL_RE, _PHONE_RE, _LONG_NUMBER_RE):
                spans += [m.span() for m in pattern.finditer(text)]
        if not spans:
            return text, 0
        spans.sort()
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        out, last = [], 0
        for s, e in merged:
            out.append(text[last:s])
            last = e
        out.append(text[last:])
        cleaned = re.sub(r"[ \t]{2,}", " ", "".join(out)).strip(" ,;:-^")
        return cleaned, len(merged)


def _name_forms(value: PersonName | str) -> list[str]:
    pn = value if isinstance(value, PersonName) else PersonName(str(value))
    forms: list[str] = []
    for group in (pn, pn.ideographic, pn.phonetic):
        text = str(group) if group is pn else str(group or "")
        if not text:
            continue
        comps = [c.strip() for c in text.split("^") if c.strip()]
        if not comps:
            continue
        forms.append(" ".join(comps))
        if len(comps) >= 2:
            forms.append(f"{comps[1]} {comps[0]}")
            forms.append(f"{comps[0]}, {comps[1]}")
        for comp in comps[:3]:
            forms.extend(part for part in comp.replace(",", " ").split() if len(part) >= 2)
    return [f.upper() for f in forms]


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bytes):
        return [value.decode("latin-1", "replace")]
    if isinstance(value, str | PersonName):
        return [str(value)]
    try:
        return [str(v) for v in value]  # type: ignore[attr-defined]
    except TypeError:
        return [str(value)]


_PHI_VRS: Final = frozenset({"SQ", "PN"})
_KEYWORD_TAGS: Final = frozenset(
    tag
    for kw in _ID_KEYWORDS | _DATE_KEYWORDS | _PLACE_KEYWORDS | _OTHER_KEYWORDS
    if (tag := tag_for_keyword(kw)) is not None
)


def _take_scanned(raw: object, codec: str | None, take: Callable[[str, str, object], None]) -> bool:
    """Collect from a sequence still held as raw bytes, without pydicom parsing it
    (:mod:`dicomscrub.rawseq`); False, having collected nothing, where pydicom must."""
    if not isinstance(raw, RawDataElement) or raw.VR not in ("SQ", None) or codec is None:
        return False  # a UN read as SQ holds implicit VR items whatever the file's syntax
    data = raw.value
    if not isinstance(data, bytes) or raw.length == 0xFFFFFFFF:
        return False
    found = scan_sequence(data, implicit=raw.is_implicit_VR, little=raw.is_little_endian)
    if found is None:
        return False
    wanted = [(t, vr, v) for t, vr, v in found if vr in _PHI_VRS or t in _KEYWORD_TAGS]
    if not all(is_decodable(vr, codec) for _, vr, _ in wanted):
        return False
    for tag, vr, value in wanted:
        take(vr, keyword(tag), decode_text(value, vr, codec))
    return True


def collect_phi(ds: Dataset, *, scan_raw: bool = True) -> PhiValues:
    """Collect the PHI values of ``ds`` (all sequence depths; private elements too).

    Person names come from every PN element; IDs, dates, places and contact details
    from the attributes that carry them wherever they sit. Sequences pydicom has not
    parsed yet are read from their bytes (``scan_raw=False`` has pydicom parse them: the
    same values, more slowly; for tests).
    """
    names: list[str] = []
    ids: list[str] = []
    dates: list[dt.date] = []
    places: list[str] = []
    other: list[str] = []

    codec = simple_codec(ds)

    def walk(d: Dataset) -> None:
        for tag, raw in list(elements(d).items()):
            int_tag = int(tag)  # plain ints for the caches (see fastvalues.keyword)
            vr = effective_vr(raw.VR, int_tag)
            if vr is not None and vr not in _PHI_VRS and int_tag not in _KEYWORD_TAGS:
                continue  # cannot hold a name, ID, date or place: leave it undecoded
            if vr == "SQ" and scan_raw and _take_scanned(raw, codec, take):
                continue
            elem = ElementView(d, tag, codec, raw)
            if elem.VR == "SQ":
                for item in elem.value or ():
                    walk(item)
                continue
            take(elem.VR, elem.keyword, elem.value)

    def take(vr: str, kw: str, value: object) -> None:
        """Collect one element's value by its VR and keyword."""
        if value is None or value == "":
            return
        if vr == "PN":
            for v in _strings(value):
                names.extend(_name_forms(v))
        elif kw in _ID_KEYWORDS:
            ids.extend(s.strip().upper() for s in _strings(value))
        elif kw in _DATE_KEYWORDS or vr in ("DA", "DT"):
            for s in _strings(value):
                parsed = _parse_da(s)
                if parsed and kw in _DATE_KEYWORDS | {"PatientBirthDate"}:
                    dates.append(parsed)
        elif kw in _PLACE_KEYWORDS:
            places.extend(s.strip().upper() for s in _strings(value))
        elif kw in _OTHER_KEYWORDS:
            other.extend(s.strip().upper() for s in _strings(value))

    walk(ds)

    def unique(values: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in values if v.strip()))

    return PhiValues(
        names=unique(names),
        ids=unique(ids),
        dates=tuple(dict.fromkeys(dates)),
        institutions=unique(places),
        other=unique(other),
    )
