"""Save conditions (per file) and their aggregation per series, as in the reference API.

``model`` holds the condition types and evaluation, ``tags`` how an attribute is named
and read, ``parsing`` the CLI expressions and JSON files, ``series`` the aggregation.
"""

from dicomscrub.conditions.model import (
    Condition,
    ConditionEvaluation,
    ConditionType,
    evaluate_conditions,
    parse_condition_type,
)
from dicomscrub.conditions.parsing import load_conditions_file, parse_condition
from dicomscrub.conditions.series import SeriesVerdict, aggregate_series, series_key
from dicomscrub.conditions.tags import resolve_tag

__all__ = [
    "Condition",
    "ConditionEvaluation",
    "ConditionType",
    "SeriesVerdict",
    "aggregate_series",
    "evaluate_conditions",
    "load_conditions_file",
    "parse_condition",
    "parse_condition_type",
    "resolve_tag",
    "series_key",
]
