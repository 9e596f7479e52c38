"""Policy: everything that decides how one file is de-identified, and nothing about I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from dicomscrub.profile.options import Option

if TYPE_CHECKING:
    # The pixels package imports this module; at run time the policy only carries one.
    from dicomscrub.pixels.rules import RuleSet

__all__ = ["Override", "PatientEntry", "PixelMode", "Policy"]


class PixelMode(StrEnum):
    """What to do with text burned into the pixels (the reference's ``redact_pixels_mode``)."""

    NONE = "none"
    """REDACT_NO_TEXT: pixels are not examined (rule regions still apply)."""
    ALL_TEXT = "all-text"
    """REDACT_ALL_TEXT: every detected piece of text is blacked out."""
    SENSITIVE_TEXT = "sensitive-text"
    """REDACT_SENSITIVE_TEXT: only text that matches PHI is blacked out."""

    @classmethod
    def from_reference(cls, name: str) -> PixelMode:
        """Map the reference API's ``REDACT_*`` names (or our own names) to a mode."""
        table = {
            "redact_no_text": cls.NONE,
            "redact_all_text": cls.ALL_TEXT,
            "redact_sensitive_text": cls.SENSITIVE_TEXT,
        }
        key = name.strip().lower()
        if key in table:
            return table[key]
        return cls(key)


@dataclass(frozen=True)
class Override:
    """A per-attribute override from a profile file, applied after the rule table.

    ``tag`` is ``"GGGGEEEE"`` (hex, upper case; ``x`` allowed for repeating groups) and
    ``action`` is ``"keep"``, ``"remove"``, ``"empty"`` or ``"replace"`` (with ``value``).
    """

    tag: str
    action: str
    value: str | None = None


@dataclass(frozen=True)
class PatientEntry:
    """A row of the user's patient lookup table: the new identity of one original PatientID."""

    new_id: str
    new_name: str


@dataclass(frozen=True)
class Policy:
    """How to de-identify: options, key, overrides, pseudonyms and pixel settings.

    The ``key`` seeds every keyed transformation (UIDs, date shifts, pseudonyms); the
    same key gives the same output in every run. It is never logged or reported.
    """

    key: bytes = field(repr=False)
    options: frozenset[Option] = frozenset()
    overrides: tuple[Override, ...] = ()
    patient_lookup: Mapping[str, PatientEntry] | None = field(default=None, repr=False)
    redact_tags: bool = True
    pixels: PixelMode = PixelMode.NONE
    pixel_rules: RuleSet | None = None
    union_frames: bool = False
    lossy_reencode: bool = False
    base_profile: str = "basic"
