"""Profile files: a base profile, its options and per-attribute overrides, in TOML.

::

    base = "basic"                       # PS3.15 Basic Application Confidentiality Profile
    options = ["retain-uids", "clean-descriptors"]

    [[override]]
    tag = "PatientSex"                   # keyword, "(0010,0040)", "00100040", "(60xx,3000)"
    action = "keep"                      # keep | remove | empty | replace

    [[override]]
    tag = "(0008,0080)"
    action = "replace"
    value = "ANON HOSPITAL"

Every mistake raises :class:`~dicomscrub.errors.ConfigError` naming the file and the line
of the offending entry, before any DICOM file is touched.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydicom import datadict

# datadict re-exports this table without declaring it; pydicom is pinned to 3.0.x.
from pydicom._dicom_dict import RepeatersDictionary

from dicomscrub.errors import ConfigError
from dicomscrub.profile.options import Option, parse_options
from dicomscrub.profile.policy import Override

__all__ = ["ACTIONS", "BASE_PROFILES", "ProfileFile", "load_profile_file", "normalize_tag"]

#: Named base profiles; "basic" is PS3.15 Annex E's Basic Application Confidentiality Profile.
BASE_PROFILES: Final = frozenset({"basic"})
#: The actions an override may ask for.
ACTIONS: Final = ("keep", "remove", "empty", "replace")

_TOP_LEVEL_KEYS: Final = frozenset({"base", "options", "override"})
_OVERRIDE_KEYS: Final = frozenset({"tag", "action", "value"})

_HEX8 = re.compile(r"[0-9A-FX]{8}")
_PAIR = re.compile(r"\(?\s*([0-9A-FX]{4})\s*,\s*([0-9A-FX]{4})\s*\)?")
_TOML_POSITION = re.compile(r"\((?:at line (\d+), column \d+|at end of document)\)\s*$")
_OVERRIDE_HEADER = re.compile(r"^\s*\[\[\s*override\s*\]\]")


@dataclass(frozen=True)
class ProfileFile:
    """The contents of one profile file, validated."""

    base: str
    options: frozenset[Option]
    overrides: tuple[Override, ...]
    source: Path


def normalize_tag(text: str) -> str:
    """Turn a tag name into ``GGGGEEEE`` (upper-case hex, ``X`` for repeating-group digits).

    Accepts a DICOM keyword (``PatientSex``, or a repeating one such as ``OverlayData`` ->
    ``60XX3000``), ``(0010,0040)``, ``0010,0040`` or ``00100040``, with ``x`` wildcards
    (``(50xx,0010)``). Raises :class:`ConfigError` for anything else.
    """
    stripped = text.strip()
    upper = stripped.upper()
    compact = upper.replace(" ", "")
    if _HEX8.fullmatch(compact):
        return compact
    pair = _PAIR.fullmatch(upper)
    if pair and (upper.startswith("(") == upper.endswith(")")):
        return pair.group(1) + pair.group(2)
    if stripped.isidentifier():
        tag = datadict.tag_for_keyword(stripped)
        if tag is not None:
            return f"{tag:08X}"
        mask = _repeater_mask(stripped)
        if mask is not None:
            return mask
    raise ConfigError(
        f"unknown tag {text!r}: use a DICOM keyword, (gggg,eeee), ggggeeee, "
        "or x for repeating-group digits"
    )


def _repeater_mask(keyword: str) -> str | None:
    """The mask (``60XX3000``) of a repeating-group keyword, or None."""
    for mask, entry in RepeatersDictionary.items():
        if entry[4] == keyword:
            return str(mask).upper()
    return None


def load_profile_file(path: Path) -> ProfileFile:
    """Read and validate the TOML profile file at ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: profile file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: profile file cannot be read ({exc})") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, reason = _toml_error_line(str(exc), text)
        raise ConfigError(f"{path}, line {line}: invalid TOML: {reason}") from None
    return _Validator(path, text).profile(document)


def _toml_error_line(message: str, text: str) -> tuple[int, str]:
    """Split tomllib's message into (line number, reason).

    tomllib (3.11) reports the position only inside its message: "(at line N, column M)",
    or "(at end of document)", which is the last line.
    """
    found = _TOML_POSITION.search(message)
    if found is None:
        return max(1, len(text.splitlines())), message
    reason = message[: found.start()].rstrip()
    if found.group(1) is None:
        return max(1, len(text.splitlines())), reason
    return int(found.group(1)), reason


class _Validator:
    """Checks a parsed profile, finding line numbers in the original text for messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(self, line: int, message: str) -> ConfigError:
        return ConfigError(f"{self.path}, line {line}: {message}")

    def profile(self, document: Mapping[str, object]) -> ProfileFile:
        for key in document:
            if key not in _TOP_LEVEL_KEYS:
                valid = ", ".join(sorted(_TOP_LEVEL_KEYS))
                raise self.fail(
                    self.top_level_line(key), f"unknown key {key!r}; valid keys: {valid}"
                )
        base = document.get("base", "basic")
        if not isinstance(base, str) or base.strip().lower() not in BASE_PROFILES:
            known = ", ".join(sorted(BASE_PROFILES))
            raise self.fail(
                self.top_level_line("base"), f"unknown base profile {base!r}; known: {known}"
            )
        try:
            options = parse_options(document.get("options", []))
        except ConfigError as exc:
            raise self.fail(self.top_level_line("options"), str(exc)) from None
        entries = document.get("override", [])
        if not isinstance(entries, list):
            raise self.fail(
                self.top_level_line("override"), "override must be written as [[override]] tables"
            )
        overrides = tuple(self.override(index, entry) for index, entry in enumerate(entries))
        return ProfileFile(
            base=base.strip().lower(), options=options, overrides=overrides, source=self.path
        )

    def override(self, index: int, entry: object) -> Override:
        header = self.override_line(index)
        if not isinstance(entry, dict):
            raise self.fail(header, "override must be a table with tag and action")
        for key in entry:
            if key not in _OVERRIDE_KEYS:
                valid = ", ".join(sorted(_OVERRIDE_KEYS))
                raise self.fail(
                    self.entry_line(index, key),
                    f"unknown key {key!r} in [[override]]; valid keys: {valid}",
                )
        tag_text = entry.get("tag")
        if not isinstance(tag_text, str):
            raise self.fail(header, '[[override]] needs tag = "Keyword" or "(gggg,eeee)"')
        try:
            tag = normalize_tag(tag_text)
        except ConfigError as exc:
            raise self.fail(self.entry_line(index, "tag"), str(exc)) from None
        action = entry.get("action")
        if not isinstance(action, str) or action.strip().lower() not in ACTIONS:
            raise self.fail(
                self.entry_line(index, "action"),
                f"bad action {action!r} for {tag_text}; use one of {', '.join(ACTIONS)}",
            )
        action = action.strip().lower()
        value = entry.get("value")
        if action == "replace":
            if not isinstance(value, str):
                raise self.fail(
                    self.entry_line(index, "value"),
                    f'action replace for {tag_text} needs value = "..." (a string)',
                )
        elif "value" in entry:
            raise self.fail(
                self.entry_line(index, "value"),
                f"action {action} for {tag_text} takes no value; only replace does",
            )
        return Override(tag=tag, action=action, value=value if action == "replace" else None)

    # -- line numbers ------------------------------------------------------------------

    def top_level_line(self, key: str) -> int:
        """The line where top-level ``key`` is set (before the first table), else 1."""
        if key == "override":
            return self.override_line(0)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, line in enumerate(self.lines, start=1):
            if line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return 1

    def override_line(self, index: int) -> int:
        """The line of the ``index``-th ``[[override]]`` header (0-based index).

        Overrides written inline (``override = [...]``) have no header: the line of
        ``override =`` stands for all of them.
        """
        seen = -1
        for number, line in enumerate(self.lines, start=1):
            if _OVERRIDE_HEADER.match(line):
                seen += 1
                if seen == index:
                    return number
        inline = re.compile(r"^\s*[\"']?override[\"']?\s*=")
        return next(
            (number for number, line in enumerate(self.lines, start=1) if inline.match(line)), 1
        )

    def entry_line(self, index: int, key: str) -> int:
        """The line of ``key`` inside the ``index``-th override, else its header line."""
        header = self.override_line(index)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(header + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return header
