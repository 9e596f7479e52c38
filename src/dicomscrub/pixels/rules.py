"""Rule regions: fixed rectangles to blank on images whose header matches, from a TOML file.

Some devices always burn their text in the same place (an ultrasound banner, a dose
screen's header). A rule names them by header values and lists the boxes; rule boxes apply
in every pixel mode, ``none`` included, with reason ``"rule"``::

    [[rule]]
    name = "Acme US banner"
    boxes = [[0, 0, 65535, 48], [-200, -40, 65535, 65535]]

    [rule.when]
    Manufacturer = "acme"             # string: case-insensitive substring of the value
    Modality = ["US", "IVUS"]         # list: any of these
    Rows = 600                        # integer: equal

``when`` keys are DICOM keywords. A multi-valued attribute (ImageType) is matched as its
values joined by backslashes. A rule without ``when`` applies to every image. A box is
``[x0, y0, x1, y1]`` (columns x0..x1-1, rows y0..y1-1); a negative number counts from the
right or bottom edge, and numbers past the edge are clipped, so ``65535`` means "to the
edge". See ``example_rules.toml`` beside this module.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from dicomscrub.errors import ConfigError
from dicomscrub.pixels.types import Box

__all__ = ["PixelRule", "RuleSet", "load_rules", "parse_rules"]

Match = str | int | tuple[str, ...] | tuple[int, ...]


@dataclass(frozen=True)
class PixelRule:
    """One ``[[rule]]``: header matches and the boxes they select."""

    name: str
    when: tuple[tuple[str, Match], ...]
    boxes: tuple[tuple[int, int, int, int], ...]

    def matches(self, ds: Dataset) -> bool:
        """Whether every ``when`` entry matches ``ds``."""
        return all(_matches(ds, keyword, expected) for keyword, expected in self.when)

    def resolve(self, width: int, height: int) -> list[Box]:
        """The rule's boxes in a ``width`` x ``height`` frame (negatives counted from the edge)."""
        boxes = []
        for x0, y0, x1, y1 in self.boxes:
            box = Box(
                _from_edge(x0, width),
                _from_edge(y0, height),
                _from_edge(x1, width),
                _from_edge(y1, height),
                reason="rule",
            ).clipped(width, height)
            if box is not None:
                boxes.append(box)
        return boxes


@dataclass(frozen=True)
class RuleSet:
    """The rules of one file, in file order."""

    rules: tuple[PixelRule, ...]

    def matching(self, ds: Dataset) -> list[PixelRule]:
        """The rules whose header matches ``ds``."""
        return [rule for rule in self.rules if rule.matches(ds)]

    def boxes_for(self, ds: Dataset, width: int, height: int) -> list[Box]:
        """Every box of every matching rule, resolved for a ``width`` x ``height`` frame."""
        return [box for rule in self.matching(ds) for box in rule.resolve(width, height)]


def load_rules(path: Path) -> RuleSet:
    """Read and check a rules file; ``ConfigError`` naming the file and line if it is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read pixel rules file ({exc})") from exc
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<rules>") -> RuleSet:
    """Parse rules from TOML ``text``; ``source`` names the file in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        line = f" line {at.group(1)}" if at else ""
        raise ConfigError(f"{source}{line}: invalid TOML: {exc}") from exc
    unknown = set(doc) - {"rule"}
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; expected [[rule]]"
        )
    tables = doc.get("rule", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{source}: 'rule' must be an array of tables ([[rule]])")
    headers = [
        m.start() for m in re.finditer(r"^[ \t]*\[\[[ \t]*rule[ \t]*\]\]", text, re.MULTILINE)
    ]
    rules = []
    for index, table in enumerate(tables):
        where = _Where(source, text, headers, index)
        rules.append(_parse_rule(table, where))
    return RuleSet(tuple(rules))


@dataclass(frozen=True)
class _Where:
    """Locates a rule (and a key inside it) in the file text, for error messages."""

    source: str
    text: str
    headers: list[int]
    index: int

    def error(self, message: str, key: str | None = None) -> ConfigError:
        start = self.headers[self.index] if self.index < len(self.headers) else 0
        end = self.headers[self.index + 1] if self.index + 1 < len(self.headers) else None
        offset = start
        if key is not None:
            pattern = rf"^[ \t]*{re.escape(key)}[ \t]*="
            found = re.search(pattern, self.text[start:end], re.MULTILINE)
            if found:
                offset = start + found.start()
        line = self.text.count("\n", 0, offset) + 1
        return ConfigError(f"{self.source} line {line} (rule {self.index + 1}): {message}")


def _parse_rule(table: object, where: _Where) -> PixelRule:
    if not isinstance(table, dict):
        raise where.error("a rule must be a table")
    unknown = set(table) - {"name", "when", "boxes"}
    if unknown:
        raise where.error(f"unknown key(s) {sorted(unknown)}", sorted(unknown)[0])
    name = table.get("name", f"rule {where.index + 1}")
    if not isinstance(name, str) or not name.strip():
        raise where.error("'name' must be a non-empty string", "name")
    when = table.get("when", {})
    if not isinstance(when, dict):
        raise where.error("'when' must be a table ([rule.when])", "when")
    matches = tuple((key, _parse_match(key, value, where)) for key, value in when.items())
    boxes = table.get("boxes")
    if not isinstance(boxes, list) or not boxes:
        raise where.error("'boxes' must be a non-empty list of [x0, y0, x1, y1]", "boxes")
    return PixelRule(name, matches, tuple(_parse_box(box, where) for box in boxes))


def _parse_match(keyword: str, value: object, where: _Where) -> Match:
    if tag_for_keyword(keyword) is None:
        raise where.error(f"'{keyword}' is not a DICOM keyword", keyword)
    if isinstance(value, bool):
        raise where.error(f"'{keyword}': booleans are not matched", keyword)
    if isinstance(value, str | int):
        return value
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return tuple(str(v) for v in value)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return tuple(int(v) for v in value)
    raise where.error(
        f"'{keyword}' must be a string, an integer, or a non-empty list of one of them",
        keyword,
    )


def _parse_box(box: object, where: _Where) -> tuple[int, int, int, int]:
    if not (
        isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, int) and not isinstance(v, bool) for v in box)
    ):
        raise where.error("each box must be [x0, y0, x1, y1] of four integers", "boxes")
    x0, y0, x1, y1 = (int(v) for v in box)
    # Only boxes whose corners count from the same edge can be checked without an image.
    if ((x0 < 0) == (x1 < 0) and x0 >= x1) or ((y0 < 0) == (y1 < 0) and y0 >= y1):
        raise where.error(f"box {box} is empty (x0 must be < x1 and y0 < y1)", "boxes")
    return x0, y0, x1, y1


def _from_edge(value: int, size: int) -> int:
    return size + value if value < 0 else value


def _matches(ds: Dataset, keyword: str, expected: Match) -> bool:
    if keyword not in ds:
        return False
    value = ds.data_element(keyword)
    actual = value.value if value is not None else None
    if actual is None or actual == "":
        return False
    options: Sequence[str | int] = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(options[0], int):
        number = _as_int(actual)
        return number is not None and number in options
    text = _as_text(actual).lower()
    return any(str(option).lower() in text for option in options)


def _as_int(value: object) -> int | None:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if len(value) != 1:
            return None
        value = value[0]
    if isinstance(value, int | float | str):
        try:
            number = float(value)
        except ValueError:
            return None
        return int(number) if number.is_integer() else None
    return None


def _as_text(value: object) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "\\".join(str(v) for v in value)
    return str(value)
