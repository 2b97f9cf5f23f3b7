from __future__ import annotations

from datetime import date

import pytest

from kzhealth.periods import parse_period


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("2025-04", date(2025, 4, 1), date(2025, 4, 30)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-04-12", date(2025, 4, 12), date(2025, 4, 12)),
        ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30)),
        ("2025-H1", date(2025, 1, 1), date(2025, 6, 30)),
        ("2025-H2", date(2025, 7, 1), date(2025, 12, 31)),
        ("2025-01/2025-09", date(2025, 1, 1), date(2025, 9, 30)),
        ("2020/2024", date(2020, 1, 1), date(2024, 12, 31)),
    ],
)
def test_period_covers_the_days_it_names(text: str, start: date, end: date) -> None:
    """Each accepted form becomes the first and last day it covers."""
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert period.stated and not period.as_of


def test_same_days_written_differently_share_a_key() -> None:
    """A year and the interval of its months are the same period for grouping."""
    assert parse_period("2025").key == parse_period("2025-01/2025-12").key
    assert parse_period("2025").key != parse_period("2025-01/2025-09").key


def test_as_of_is_cumulative_up_to_its_date() -> None:
    """`../DATE` is an "as of" period ending that day, labelled as such."""
    period = parse_period("../2025-10-01")
    assert period.as_of and period.start is None and period.end == date(2025, 10, 1)
    assert period.label() == "as of 2025-10-01"
    assert period.key != parse_period("2025-10-01").key


def test_unstated_is_not_a_period_that_matches() -> None:
    """`unstated` has no days, so it never shares a key with a real period."""
    period = parse_period("unstated")
    assert not period.stated and period.label() == "unstated"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-13", "month 13 does not exist"),
        ("2025-02-30", "day 30 does not exist"),
        ("2025-Q5", "is not a period"),
        ("1:20", "is not a period"),
        ("2025-09/2025-01", "ends before it starts"),
        ("1850", "outside"),
        ("last year", "is not a period"),
    ],
)
def test_impossible_periods_are_refused(text: str, message: str) -> None:
    """Impossible or unreadable periods raise with a reason."""
    with pytest.raises(ValueError, match=message):
        parse_period(text)
