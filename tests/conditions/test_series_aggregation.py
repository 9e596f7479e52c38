"""Series aggregation: a series is saved only when every file of it passes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dicomscrub.conditions import SeriesVerdict, aggregate_series, series_key


def test_several_interleaved_series_one_failing_file_disables_its_series() -> None:
    files = [
        ("a/1.dcm", "1.2.1", True),
        ("b/1.dcm", "1.2.2", True),
        ("a/2.dcm", "1.2.1", False),
        ("c/1.dcm", "1.2.3", False),
        ("b/2.dcm", "1.2.2", True),
        ("a/3.dcm", "1.2.1", True),
        ("c/2.dcm", "1.2.3", False),
    ]
    assert aggregate_series(files) == {
        "1.2.1": SeriesVerdict(saved=False, disabling_urls=["a/2.dcm"]),
        "1.2.2": SeriesVerdict(saved=True, disabling_urls=[]),
        "1.2.3": SeriesVerdict(saved=False, disabling_urls=["c/1.dcm", "c/2.dcm"]),
    }


def test_files_without_series_are_groups_of_their_own() -> None:
    verdicts = aggregate_series([("x.dcm", None, False), ("y.dcm", None, True)])
    assert verdicts == {
        "url:x.dcm": SeriesVerdict(saved=False, disabling_urls=["x.dcm"]),
        "url:y.dcm": SeriesVerdict(saved=True, disabling_urls=[]),
    }
    assert series_key("x.dcm", None) == "url:x.dcm"
    assert series_key("x.dcm", "1.2.3") == "1.2.3"


def test_a_url_is_listed_once() -> None:
    verdicts = aggregate_series([("a.dcm", "1.2", False), ("a.dcm", "1.2", False)])
    assert verdicts["1.2"].disabling_urls == ["a.dcm"]


def test_no_files_no_series() -> None:
    assert aggregate_series([]) == {}


FILES = st.lists(
    st.tuples(st.sampled_from(["1.1", "1.2", "1.3", None]), st.booleans()),
    max_size=30,
).map(lambda rows: [(f"f{index}.dcm", uid, ok) for index, (uid, ok) in enumerate(rows)])


@given(FILES)
def test_a_series_is_saved_iff_all_its_files_pass(
    files: list[tuple[str, str | None, bool]],
) -> None:
    verdicts = aggregate_series(files)
    assert set(verdicts) == {series_key(url, uid) for url, uid, _ in files}
    for key, verdict in verdicts.items():
        members = [(url, ok) for url, uid, ok in files if series_key(url, uid) == key]
        assert verdict.saved == all(ok for _, ok in members)
        assert verdict.disabling_urls == [url for url, ok in members if not ok]
