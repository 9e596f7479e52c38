"""The PS3.15 Annex E profile options, by the names the CLI and profile files use.

Each member's value is the user-facing name (``--option retain-uids``); ``column`` is the
key of the option's column in Table E.1-1 as stored in ``dicomscrub/_standard``; ``code``
is the CID 7050 code written to DeidentificationMethodCodeSequence (0012,0064).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from dicomscrub.errors import ConfigError

__all__ = ["BASIC_PROFILE_CODE", "Option", "parse_options"]

#: CID 7050 "De-identification Method": (code value, meaning) of the Basic Profile.
BASIC_PROFILE_CODE: Final = ("113100", "Basic Application Confidentiality Profile")


class Option(StrEnum):
    """One option of PS3.15 Table E.1-1 (edition 2024b)."""

    RETAIN_SAFE_PRIVATE = "retain-safe-private"
    RETAIN_UIDS = "retain-uids"
    RETAIN_DEVICE_IDENTITY = "retain-device-identity"
    RETAIN_INSTITUTION_IDENTITY = "retain-institution-identity"
    RETAIN_PATIENT_CHARACTERISTICS = "retain-patient-characteristics"
    RETAIN_LONGITUDINAL_FULL_DATES = "retain-longitudinal-full-dates"
    RETAIN_LONGITUDINAL_MODIFIED_DATES = "retain-longitudinal-modified-dates"
    CLEAN_DESCRIPTORS = "clean-descriptors"
    CLEAN_STRUCTURED_CONTENT = "clean-structured-content"
    CLEAN_GRAPHICS = "clean-graphics"

    @property
    def column(self) -> str:
        """The key of this option's column in the stored Table E.1-1."""
        return _COLUMNS[self]

    @property
    def code(self) -> tuple[str, str]:
        """The CID 7050 (code value, code meaning) of this option (scheme DCM)."""
        return _CODES[self]


_COLUMNS: Final[dict[Option, str]] = {
    Option.RETAIN_SAFE_PRIVATE: "rtnSafePrivOpt",
    Option.RETAIN_UIDS: "rtnUIDsOpt",
    Option.RETAIN_DEVICE_IDENTITY: "rtnDevIdOpt",
    Option.RETAIN_INSTITUTION_IDENTITY: "rtnInstIdOpt",
    Option.RETAIN_PATIENT_CHARACTERISTICS: "rtnPatCharsOpt",
    Option.RETAIN_LONGITUDINAL_FULL_DATES: "rtnLongFullDatesOpt",
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES: "rtnLongModifDatesOpt",
    Option.CLEAN_DESCRIPTORS: "cleanDescOpt",
    Option.CLEAN_STRUCTURED_CONTENT: "cleanStructContOpt",
    Option.CLEAN_GRAPHICS: "cleanGraphOpt",
}

# PS3.16 CID 7050 De-identification Method.
_CODES: Final[dict[Option, tuple[str, str]]] = {
    Option.CLEAN_GRAPHICS: ("113103", "Clean Graphics Option"),
    Option.CLEAN_STRUCTURED_CONTENT: ("113104", "Clean Structured Content Option"),
    Option.CLEAN_DESCRIPTORS: ("113105", "Clean Descriptors Option"),
    Option.RETAIN_LONGITUDINAL_FULL_DATES: (
        "113106",
        "Retain Longitudinal Temporal Information Full Dates Option",
    ),
    Option.RETAIN_LONGITUDINAL_MODIFIED_DATES: (
        "113107",
        "Retain Longitudinal Temporal Information Modified Dates Option",
    ),
    Option.RETAIN_PATIENT_CHARACTERISTICS: ("113108", "Retain Patient Characteristics Option"),
    Option.RETAIN_DEVICE_IDENTITY: ("113109", "Retain Device Identity Option"),
    Option.RETAIN_UIDS: ("113110", "Retain UIDs Option"),
    Option.RETAIN_SAFE_PRIVATE: ("113111", "Retain Safe Private Option"),
    Option.RETAIN_INSTITUTION_IDENTITY: ("113112", "Retain Institution Identity Option"),
}

#: CID 7050 code of the Clean Pixel Data Option, recorded when pixels were redacted.
CLEAN_PIXEL_DATA_CODE: Final = ("113101", "Clean Pixel Data Option")


def parse_options(names: object) -> frozenset[Option]:
    """Turn option names (an iterable of strings) into :class:`Option` members.

    Raises :class:`ConfigError` naming the unknown option and listing the valid ones.
    Full and modified dates exclude each other.
    """
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ConfigError("options must be a list of option names")
    result: set[Option] = set()
    for name in names:
        try:
            result.add(Option(str(name).strip().lower()))
        except ValueError:
            valid = ", ".join(o.value for o in Option)
            raise ConfigError(f"unknown option {name!r}; valid options: {valid}") from None
    if {
        Option.RETAIN_LONGITUDINAL_FULL_DATES,
        Option.RETAIN_LONGITUDINAL_MODIFIED_DATES,
    } <= result:
        raise ConfigError(
            "retain-longitudinal-full-dates and retain-longitudinal-modified-dates "
            "exclude each other; choose one"
        )
    return frozenset(result)
