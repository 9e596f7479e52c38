"""Save conditions as users write them: CLI expressions and JSON files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Final

from dicomscrub.conditions.model import (
    LIST_TYPES,
    PRESENCE_TYPES,
    Condition,
    ConditionType,
)
from dicomscrub.errors import ConfigError

__all__ = ["load_conditions_file", "parse_condition"]

# The attribute is one word, or a parenthesised tag that may hold a space: "(0008, 0060)".
_EXPRESSION: Final = re.compile(
    r"^\s*(?P<tag>\([^)]*\)|\S+)(?:\s+(?P<op>\S+)(?:\s+(?P<rest>.*))?)?$"
)
_OPERATORS: Final[dict[str, ConditionType]] = {kind.cli_name: kind for kind in ConditionType}
_VALID_OPERATORS: Final = ", ".join(_OPERATORS)

# One list item: quoted (may then hold commas) or bare, then a comma or the end.
_LIST_ITEM: Final = re.compile(
    r"""\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^,]*))\s*(?P<sep>,|\Z)"""
)


def _split_list(text: str) -> tuple[str, ...]:
    items: list[str] = []
    position = 0
    while True:
        # The bare alternative matches anything up to a comma, so there is always a match.
        match = _LIST_ITEM.match(text, position)
        assert match is not None
        bare = match["bare"]
        items.append(bare.strip() if bare is not None else match["dq"] or match["sq"] or "")
        if match["sep"] != ",":
            return tuple(items)
        position = match.end()


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_condition(expr: str) -> Condition:
    """Parse the CLI form ``ATTRIBUTE OPERATOR [VALUE]``, e.g. ``'Modality in CT,MR'``.

    Operators: in, not-in, substr, not-substr, equals, regex, exists, absent (case and
    ``_`` for ``-`` ignored). The value may be quoted (``equals "HEAD CT"``); list values
    (in, not-in) are split on commas, each item trimmed; a quoted item may hold commas.
    exists/absent take no value. Errors quote the attribute and operator, never the value.
    """
    match = _EXPRESSION.match(expr)
    if match is None or match["op"] is None:
        raise ConfigError(
            f"save condition needs 'ATTRIBUTE OPERATOR [VALUE]', e.g. 'Modality in CT,MR'; "
            f"valid operators: {_VALID_OPERATORS}"
        )
    tag, operator, rest = match["tag"], match["op"], (match["rest"] or "").strip()
    kind = _OPERATORS.get(operator.lower().replace("_", "-"))
    if kind is None:
        raise ConfigError(
            f"unknown save condition operator {operator!r} (attribute {tag!r}); "
            f"valid operators: {_VALID_OPERATORS}"
        )
    value: str | tuple[str, ...] | None
    if kind in PRESENCE_TYPES:
        if rest:
            raise ConfigError(f"save condition operator {operator!r} takes no value")
        value = None
    elif not rest:
        raise ConfigError(f"save condition operator {operator!r} (attribute {tag!r}) needs a value")
    elif kind in LIST_TYPES:
        value = _split_list(rest)
    else:
        value = _unquote(rest)
    return Condition(value=value, condition_type=kind, dicom_tag=tag)


def load_conditions_file(path: Path | str) -> tuple[Condition, ...]:
    """Read save conditions from a JSON file in the reference's form.

    The file holds a list of ``{value, condition_type, dicom_tag}`` objects, or an object
    with the key ``save_conditions`` (a whole reference request body; null means none).
    ConfigError names the file and the line (bad JSON) or the index (bad condition).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read save conditions file {path}: {exc}") from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})"
        ) from exc
    if isinstance(data, dict):
        # A whole request body of the reference API is accepted; only its conditions count.
        if "save_conditions" not in data:
            raise ConfigError(f"{path}: a JSON object needs the key 'save_conditions'")
        data = data["save_conditions"] if data["save_conditions"] is not None else []
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON list of save conditions")
    conditions: list[Condition] = []
    for index, item in enumerate(data):
        try:
            conditions.append(Condition.from_json(item))
        except ConfigError as exc:
            raise ConfigError(f"{path}: save_conditions[{index}]: {exc}") from exc
    return tuple(conditions)
