"""Save conditions: one test on one attribute of a file, in the reference API's JSON form.

A file passes when every condition is true (``evaluate_conditions``). String comparisons
ignore case. Multi-valued attributes are compared as their values joined with ``\\``; a
missing attribute is compared as ``""`` and reported with ``tag_value`` null; a sequence
is only present (it has items) or absent, and its ``tag_value`` is null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Final

from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from dicomscrub.conditions.tags import read_tag, resolve_tag
from dicomscrub.errors import ConfigError

__all__ = [
    "Condition",
    "ConditionEvaluation",
    "ConditionType",
    "evaluate_conditions",
    "parse_condition_type",
]


class ConditionType(StrEnum):
    """How a condition tests the attribute's value; the first two are the reference's."""

    IN = "IN"
    """A list: true if any item is contained in the value."""
    NOT_SUBSTR = "NOT_SUBSTR"
    """A string: true if it is not contained in the value."""
    SUBSTR = "SUBSTR"
    """A string: true if it is contained in the value."""
    NOT_IN = "NOT_IN"
    """A list: true if no item is contained in the value."""
    EQUALS = "EQUALS"
    """A string: true if it equals the whole (joined) value."""
    REGEX = "REGEX"
    """A Python regular expression: true if ``re.search`` finds it in the value."""
    EXISTS = "EXISTS"
    """No value: true if the attribute is present and not empty."""
    ABSENT = "ABSENT"
    """No value: true if the attribute is missing or empty."""

    @property
    def cli_name(self) -> str:
        """The operator as the CLI spells it (``not-substr``)."""
        return self.value.lower().replace("_", "-")


LIST_TYPES: Final = frozenset({ConditionType.IN, ConditionType.NOT_IN})
STRING_TYPES: Final = frozenset(
    {ConditionType.SUBSTR, ConditionType.NOT_SUBSTR, ConditionType.EQUALS, ConditionType.REGEX}
)
PRESENCE_TYPES: Final = frozenset({ConditionType.EXISTS, ConditionType.ABSENT})
# An empty needle is contained in every value, which would make these always true/false.
_NON_EMPTY_TYPES: Final = LIST_TYPES | {ConditionType.SUBSTR, ConditionType.NOT_SUBSTR}


def parse_condition_type(text: object) -> ConditionType:
    """Return the type named ``text`` (``IN``, ``not_substr``, ``not-substr``...)."""
    if isinstance(text, ConditionType):
        return text
    valid = ", ".join(member.value for member in ConditionType)
    if not isinstance(text, str):
        raise ConfigError(f"save condition field 'condition_type' must be one of {valid}")
    try:
        return ConditionType(text.strip().upper().replace("-", "_"))
    except ValueError:
        raise ConfigError(
            f"unknown save condition type {text!r} in field 'condition_type'; valid: {valid}"
        ) from None


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    """One save condition; validated on construction (ConfigError naming the field).

    ``value`` is a tuple of strings for IN/NOT_IN, a string for SUBSTR, NOT_SUBSTR,
    EQUALS and REGEX, and None for EXISTS/ABSENT. ``dicom_tag`` is kept as the user wrote
    it, so reports echo it verbatim. Error messages name the attribute, never the value:
    a condition's value may itself be PHI (a PatientID list).
    """

    value: str | tuple[str, ...] | None
    condition_type: ConditionType
    dicom_tag: str

    def __post_init__(self) -> None:
        kind = parse_condition_type(self.condition_type)
        object.__setattr__(self, "condition_type", kind)
        if not isinstance(self.dicom_tag, str):
            raise ConfigError("save condition field 'dicom_tag' must be a string")
        resolve_tag(self.dicom_tag)
        where = f"save condition {kind.value} on {self.dicom_tag!r}"
        value: Any = self.value
        if kind in LIST_TYPES:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: field 'value' must be a list of strings")
            if not value:
                raise ConfigError(f"{where}: field 'value' must not be an empty list")
            object.__setattr__(self, "value", tuple(value))
        elif kind in STRING_TYPES:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: field 'value' must be a string")
            if kind is ConditionType.REGEX:
                try:
                    _compile(value)
                except re.error as exc:
                    raise ConfigError(
                        f"{where}: field 'value' is not a valid regular expression "
                        f"({exc.msg} at position {exc.pos})"
                    ) from None
        elif value is not None:
            raise ConfigError(f"{where}: field 'value' must be null")
        if kind in _NON_EMPTY_TYPES and any(v == "" for v in _needles(self.value)):
            raise ConfigError(f"{where}: field 'value' must not contain an empty string")

    @property
    def tag(self) -> BaseTag:
        """The attribute's tag, resolved from ``dicom_tag``."""
        return resolve_tag(self.dicom_tag)

    def to_json(self) -> dict[str, Any]:
        """The reference API's JSON form: ``{value, condition_type, dicom_tag}``."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "value": value,
            "condition_type": self.condition_type.value,
            "dicom_tag": self.dicom_tag,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Condition:
        """Build a condition from the reference's JSON form (camelCase keys accepted too).

        IN/NOT_IN need a JSON list (a bare string is refused, as by the reference);
        the value of EXISTS/ABSENT is ignored.
        """
        if not isinstance(data, Mapping):
            raise ConfigError("a save condition must be a JSON object")
        fields: dict[str, Any] = {}
        for key, item in data.items():
            name = _FIELD_ALIASES.get(key)
            if name is None:
                expected = "'value', 'condition_type', 'dicom_tag'"
                raise ConfigError(f"unknown save condition field {key!r}; expected {expected}")
            if name in fields:
                raise ConfigError(f"save condition field {name!r} is given twice")
            fields[name] = item
        for name in ("condition_type", "dicom_tag"):
            if name not in fields:
                raise ConfigError(f"save condition field {name!r} is missing")
        kind = parse_condition_type(fields["condition_type"])
        if kind in PRESENCE_TYPES:
            value = None
        elif "value" in fields:
            value = fields["value"]
        else:
            raise ConfigError(f"save condition {kind.value}: field 'value' is missing")
        return cls(value=value, condition_type=kind, dicom_tag=fields["dicom_tag"])

    def evaluate(self, ds: Dataset) -> ConditionEvaluation:
        """Test this condition on ``ds`` (headers are enough; pixels are never read)."""
        reading = read_tag(ds, self.tag)
        haystack = reading.text.casefold()
        kind = self.condition_type
        result: bool
        if kind in (ConditionType.IN, ConditionType.NOT_IN):
            found = any(needle.casefold() in haystack for needle in _needles(self.value))
            result = found if kind is ConditionType.IN else not found
        elif kind is ConditionType.SUBSTR:
            result = str(self.value).casefold() in haystack
        elif kind is ConditionType.NOT_SUBSTR:
            result = str(self.value).casefold() not in haystack
        elif kind is ConditionType.EQUALS:
            result = str(self.value).casefold() == haystack
        elif kind is ConditionType.REGEX:
            result = _compile(str(self.value)).search(reading.text) is not None
        elif kind is ConditionType.EXISTS:
            result = reading.has_value
        else:
            result = not reading.has_value
        return ConditionEvaluation(
            condition=self, tag_value=reading.reported, evaluated_value=result
        )


_FIELD_ALIASES: Final[dict[str, str]] = {
    "value": "value",
    "condition_type": "condition_type",
    "conditionType": "condition_type",
    "dicom_tag": "dicom_tag",
    "dicomTag": "dicom_tag",
}


def _needles(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return value


@dataclass(frozen=True)
class ConditionEvaluation:
    """The outcome of one condition on one file, as the report lists it."""

    condition: Condition
    tag_value: str | None
    evaluated_value: bool

    def to_json(self) -> dict[str, Any]:
        """``{condition: {...}, tag_value, evaluated_value}`` as in the reference report."""
        return {
            "condition": self.condition.to_json(),
            "tag_value": self.tag_value,
            "evaluated_value": self.evaluated_value,
        }


def evaluate_conditions(
    conditions: Sequence[Condition], ds: Dataset
) -> tuple[list[ConditionEvaluation], bool]:
    """Evaluate every condition on ``ds``; the file passes when all are true.

    Every condition is evaluated (no short-circuit) so the report shows each outcome.
    No conditions: ``([], True)``.
    """
    evaluations = [condition.evaluate(ds) for condition in conditions]
    return evaluations, all(evaluation.evaluated_value for evaluation in evaluations)
