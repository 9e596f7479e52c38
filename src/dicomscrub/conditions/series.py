"""Series aggregation: a series is saved only when every file of it passes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["SeriesVerdict", "aggregate_series", "series_key"]

#: Prefix of the group key of a file without a SeriesInstanceUID. UIDs hold only digits
#: and dots (PS3.5 9.1), so such a key never collides with a series.
URL_KEY_PREFIX = "url:"


@dataclass
class SeriesVerdict:
    """Whether a series is written, and which of its files (urls) stopped it."""

    saved: bool = True
    disabling_urls: list[str] = field(default_factory=list)


def series_key(url: str, series_instance_uid: str | None) -> str:
    """The key of a file's group in :func:`aggregate_series`'s result.

    The SeriesInstanceUID; a file without one is a group of its own, keyed ``url:{url}``,
    because ``None`` names no series and must not tie unrelated files together.
    """
    if series_instance_uid is None:
        return f"{URL_KEY_PREFIX}{url}"
    return series_instance_uid


def aggregate_series(files: Iterable[tuple[str, str | None, bool]]) -> dict[str, SeriesVerdict]:
    """Group ``(url, series_instance_uid, file_passed)`` by series (see :func:`series_key`).

    A series is saved only when every file of it passed; ``disabling_urls`` lists the urls
    of its failed files in input order, each once.
    """
    verdicts: dict[str, SeriesVerdict] = {}
    for url, series_uid, passed in files:
        verdict = verdicts.setdefault(series_key(url, series_uid), SeriesVerdict())
        if not passed:
            verdict.saved = False
            if url not in verdict.disabling_urls:
                verdict.disabling_urls.append(url)
    return verdicts
