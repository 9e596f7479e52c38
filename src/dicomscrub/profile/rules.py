"""PS3.15 Table E.1-1 as a lookup: which action applies to a tag under a set of options."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

from dicomscrub.profile.options import Option

__all__ = ["EDITION", "Action", "Rule", "RuleTable", "load_rule_table", "resolve_action"]

EDITION: Final = "2024b"


class Action(StrEnum):
    """The simple action codes of PS3.15 Table E.1-1 (E.3.1 "Action codes")."""

    DUMMY = "D"
    """Replace with a non-zero-length dummy value consistent with the VR."""
    ZERO = "Z"
    """Replace with a zero-length value."""
    REMOVE = "X"
    """Remove the attribute."""
    KEEP = "K"
    """Keep (sequences are still processed item by item)."""
    CLEAN = "C"
    """Clean: keep the value with identifying information removed or modified."""
    UID = "U"
    """Replace with a non-zero-length UID, consistently within the set of instances."""


# Compound codes name alternatives that depend on the attribute's Type in the IOD of
# the SOP class. dicomscrub does not carry the IOD module tables, so each resolves to the
# reading that removes every value while keeping the attribute present: no information
# survives either way, and a Type 1 or Type 2 attribute never disappears (which would
# make a conformant file non-conformant). PS3.15 E.3.1.
_COMPOUND: Final[dict[str, Action]] = {
    "X/Z": Action.ZERO,
    "X/D": Action.DUMMY,
    "X/Z/D": Action.DUMMY,
    "Z/D": Action.DUMMY,
    "X/Z/U*": Action.UID,
}


def resolve_action(code: str) -> Action:
    """Turn an action code of the table, simple or compound, into one :class:`Action`."""
    if code in _COMPOUND:
        return _COMPOUND[code]
    return Action(code)


@dataclass(frozen=True)
class Rule:
    """One row of Table E.1-1."""

    tag: str
    name: str
    keyword: str
    basic: str
    options: dict[str, str]
    in_std_comp_iod: bool

    def action(self, options: frozenset[Option]) -> Action:
        """The action under ``options``: a Retain option's K wins, then any C, then Basic.

        No two options of the 2024b table prescribe different actions for one attribute
        except K with C (dates: Full Dates K, Modified Dates C, which exclude each other;
        device UIDs: Retain UIDs K, Retain Device Identity K), so the order only matters
        between an explicit retain and a clean, where the user's retain is honoured.
        """
        chosen = [self.options[o.column] for o in options if o.column in self.options]
        if "K" in chosen:
            return Action.KEEP
        if "C" in chosen:
            return Action.CLEAN
        return resolve_action(self.basic)


class RuleTable:
    """Table E.1-1 indexed by tag; ``XX`` patterns match every repeating group."""

    def __init__(self, rules: list[Rule]) -> None:
        self._exact: dict[int, Rule] = {}
        self._patterns: list[tuple[int, int, Rule]] = []
        self.private: Rule | None = None
        for rule in rules:
            if rule.tag == "PRIVATE":
                self.private = rule
            elif "X" in rule.tag:
                mask = int("".join("0" if c == "X" else "F" for c in rule.tag), 16)
                value = int(rule.tag.replace("X", "0"), 16)
                self._patterns.append((mask, value, rule))
            else:
                self._exact[int(rule.tag, 16)] = rule
        self.rules = tuple(rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rule_for(self, tag: int) -> Rule | None:
        """The row for a standard (even-group) ``tag``, or None if the table lacks it."""
        rule = self._exact.get(tag)
        if rule is not None:
            return rule
        for mask, value, pattern_rule in self._patterns:
            # Repeating groups (50xx, 60xx) use even groups only, PS3.5 7.6.
            if tag & mask == value and not (tag >> 16) & 1:
                return pattern_rule
        return None


@cache
def load_rule_table() -> RuleTable:
    """Load the packaged Table E.1-1 (edition :data:`EDITION`)."""
    text = resources.files("dicomscrub._standard").joinpath("e1_1.json").read_text("utf-8")
    data = json.loads(text)
    rules = [
        Rule(
            tag=row["tag"],
            name=row["name"],
            keyword=row["keyword"],
            basic=row["basic"],
            options=dict(row["options"]),
            in_std_comp_iod=row["in_std_comp_iod"],
        )
        for row in data["rows"]
    ]
    return RuleTable(rules)
