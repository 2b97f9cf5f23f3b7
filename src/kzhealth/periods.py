"""Periods as curators write them: ISO 8601 dates, months, years and intervals, plus shorthands.

Accepted forms (see README, "Periods"):

- ``2025`` a year, ``2025-04`` a month, ``2025-04-12`` a day;
- ``2025-Q3`` a quarter, ``2025-H1`` a half year;
- ``START/END`` an interval of any two of the above (``2025-01/2025-09``);
- ``../END`` "as of" END: a cumulative count up to that point (``../2025-10-01``);
- ``unstated`` when the source gives no period; such claims are flagged, never matched.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

UNSTATED = "unstated"
MIN_YEAR, MAX_YEAR = 1900, 2100

_POINT = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>\d{2})(?:-(?P<day>\d{2}))?|Q(?P<quarter>[1-4])|H(?P<half>[12])))?$"
)


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of days; ``as_of`` marks a cumulative figure up to ``end``."""

    text: str
    start: date | None
    end: date | None
    as_of: bool = False

    @property
    def stated(self) -> bool:
        return self.start is not None or self.end is not None

    @property
    def key(self) -> tuple[date | None, date | None, bool]:
        """Equal for periods that mean the same days (``2025`` and ``2025-01/2025-12``)."""
        return (self.start, self.end, self.as_of)

    def label(self) -> str:
        """How the period reads in a report."""
        if not self.stated:
            return "unstated"
        if self.as_of:
            return f"as of {self.text.removeprefix('../')}"
        return self.text


def _point(text: str) -> tuple[date, date]:
    """The first and last day of one date, month, quarter, half or year."""
    m = _POINT.match(text)
    if not m:
        raise ValueError(
            f"{text!r} is not a period; use YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Q1..Q4, YYYY-H1/H2, "
            "START/END, ../END (as of END) or 'unstated'"
        )
    year = int(m["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
    if m["quarter"]:
        first = (int(m["quarter"]) - 1) * 3 + 1
        months = (first, first + 2)
    elif m["half"]:
        months = (1, 6) if m["half"] == "1" else (7, 12)
    elif m["month"]:
        month = int(m["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r}: month {month} does not exist")
        if m["day"]:
            day = int(m["day"])
            last = calendar.monthrange(year, month)[1]
            if not 1 <= day <= last:
                raise ValueError(f"{text!r}: day {day} does not exist in {year}-{month:02d}")
            d = date(year, month, day)
            return d, d
        months = (month, month)
    else:
        months = (1, 12)
    start = date(year, months[0], 1)
    end = date(year, months[1], calendar.monthrange(year, months[1])[1])
    return start, end


@lru_cache(maxsize=4096)
def parse_period(text: str) -> Period:
    """Parse a period as written in a claims file; raises ValueError saying what is wrong.

    Cached: a dataset names a few hundred distinct periods, and Period is immutable."""
    text = text.strip()
    if text == UNSTATED:
        return Period(text, None, None)
    if text.startswith("../"):
        _, end = _point(text[3:])
        return Period(text, None, end, as_of=True)
    if "/" in text:
        left, _, right = text.partition("/")
        start, _ = _point(left)
        _, end = _point(right)
        if end < start:
            raise ValueError(f"{text!r} ends before it starts")
        return Period(text, start, end)
    start, end = _point(text)
    return Period(text, start, end)
