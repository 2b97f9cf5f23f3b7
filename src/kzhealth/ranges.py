"""From a figure as written to the interval of values it can honestly mean.

Rules (also in the README):

1. *Rounding.* A figure covers every value that rounds to it: ``20.2`` is [20.15, 20.25],
   ``920`` is [919.5, 920.5], as statcheck and the GRIM test read reported numbers. A written range
   ``10..13`` covers [9.5, 13.5].
2. *Qualifier*, applied to the magnitude (so "fell by more than 20%", value -20, is (-inf, -20)):
   ``exact`` keeps the rounding interval; ``about`` widens it to at least 5% either side;
   ``nearly`` (almost) is just below the figure: [v - 10%, v);
   ``more_than`` is (v, inf), ``at_least`` [v, inf); ``up_to`` is [0, v] and ``less_than`` [0, v).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

INF = Decimal("Infinity")
ZERO = Decimal(0)
ABOUT = Decimal("0.05")
NEARLY = Decimal("0.10")
MAX_DIGITS = 30


class Qualifier(StrEnum):
    EXACT = "exact"
    ABOUT = "about"
    NEARLY = "nearly"
    MORE_THAN = "more_than"
    AT_LEAST = "at_least"
    UP_TO = "up_to"
    LESS_THAN = "less_than"


@dataclass(frozen=True, slots=True)
class Interval:
    lo: Decimal
    hi: Decimal
    lo_open: bool = False
    hi_open: bool = False

    def __str__(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{fmt(self.lo)}, {fmt(self.hi)}{right}"

    def scaled(self, factor: Decimal) -> Interval:
        return Interval(self.lo * factor, self.hi * factor, self.lo_open, self.hi_open)

    def disjoint(self, other: Interval) -> bool:
        return _empty(max_lo(self, other), min_hi(self, other))

    @property
    def sign(self) -> int:
        """+1 when every value is a rise, -1 when every value is a fall, 0 otherwise."""
        if self.lo > 0 or (self.lo == 0 and self.lo_open):
            return 1
        if self.hi < 0 or (self.hi == 0 and self.hi_open):
            return -1
        return 0


def max_lo(*items: Interval) -> tuple[Decimal, bool]:
    lo = max(i.lo for i in items)
    return lo, any(i.lo == lo and i.lo_open for i in items)


def min_hi(*items: Interval) -> tuple[Decimal, bool]:
    hi = min(i.hi for i in items)
    return hi, any(i.hi == hi and i.hi_open for i in items)


def _empty(lo: tuple[Decimal, bool], hi: tuple[Decimal, bool]) -> bool:
    return lo[0] > hi[0] or (lo[0] == hi[0] and (lo[1] or hi[1]))


def common(items: list[Interval]) -> Interval | None:
    """The values every interval allows, or None when they share none."""
    lo, hi = max_lo(*items), min_hi(*items)
    if _empty(lo, hi):
        return None
    return Interval(lo[0], hi[0], lo[1], hi[1])


def fmt(value: Decimal) -> str:
    """A number without exponent or trailing zeros beyond its precision; ``inf`` for infinity."""
    if value.is_infinite():
        return "-inf" if value < 0 else "inf"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# ASCII digits only (Decimal would read Arabic-Indic or full-width ones too), an underscore
# only between two digits (as Python reads 10_500), an optional sign, decimals after a point.
NUMBER = re.compile(r"[+-]?(?:[0-9](?:_?[0-9])*)?(?:\.[0-9](?:_?[0-9])*)?")


def parse_number(text: str) -> Decimal:
    """A finite decimal as a curator writes it: ``20.2``, ``-20.2``, ``10500``, ``10_500``."""
    clean = text.strip()
    if not NUMBER.fullmatch(clean) or not any(c.isdigit() for c in clean):
        raise ValueError(f"{text!r} is not a number (ASCII digits, as 20.2, -20.2 or 10_500)")
    clean = clean.replace("_", "")
    if len(clean) > MAX_DIGITS:
        raise ValueError(f"{text!r} is not a number")
    try:
        number = Decimal(clean)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not number.is_finite() or "e" in clean.lower():
        raise ValueError(f"{text!r} is not a plain finite number (write it out, no exponent)")
    return number


def canonical_number(text: str) -> str:
    """A number in its one spelling: no plus sign, underscore or leading zero, a zero before a
    point, no minus before zero; the decimals as written (20.20 keeps its second, which says how
    it was rounded)."""
    clean = text.strip().replace("_", "")
    negative = clean.startswith("-")
    whole, _, decimals = clean.lstrip("+-").partition(".")
    whole = whole.lstrip("0") or "0"
    spelled = f"{whole}.{decimals}" if decimals else whole
    return f"-{spelled}" if negative and parse_number(text) != 0 else spelled


def canonical_value(text: str) -> str:
    """A value or a written range ``lo..hi`` in its one spelling (``canonical_number``)."""
    if ".." in text:
        left, _, right = text.partition("..")
        return f"{canonical_number(left)}..{canonical_number(right)}"
    return canonical_number(text)


def parse_value(text: str) -> tuple[Decimal, Decimal]:
    """A value or a written range ``lo..hi`` as its two ends (equal for a single figure)."""
    if ".." in text:
        left, _, right = text.partition("..")
        lo, hi = parse_number(left), parse_number(right)
        if hi < lo:
            raise ValueError(f"{text!r}: the range ends below its start")
        return lo, hi
    number = parse_number(text)
    return number, number


def half_unit(number: Decimal) -> Decimal:
    """Half of the last written digit's place: 0.05 for 20.2, 0.5 for 920."""
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5).scaleb(exponent - 1)


def figure_range(lo: Decimal, hi: Decimal, qualifier: Qualifier) -> Interval:
    """The interval a written figure (or range ``lo..hi``) and its qualifier allow."""
    rounded_lo, rounded_hi = lo - half_unit(lo), hi + half_unit(hi)
    if qualifier is Qualifier.EXACT:
        return Interval(rounded_lo, rounded_hi)
    if qualifier is Qualifier.ABOUT:
        return Interval(
            min(rounded_lo, lo - abs(lo) * ABOUT), max(rounded_hi, hi + abs(hi) * ABOUT)
        )
    if lo != hi:
        raise ValueError(f"a range of values cannot be {qualifier.value}")
    v = lo
    negative = v < 0
    mag = abs(v)
    if qualifier is Qualifier.NEARLY:
        below = mag - mag * NEARLY
        low, high, lo_open, hi_open = below, mag, False, True
    elif qualifier is Qualifier.MORE_THAN:
        low, high, lo_open, hi_open = mag, INF, True, True
    elif qualifier is Qualifier.AT_LEAST:
        low, high, lo_open, hi_open = mag, INF, False, True
    elif qualifier is Qualifier.UP_TO:
        low, high, lo_open, hi_open = ZERO, mag, False, False
    else:  # LESS_THAN
        low, high, lo_open, hi_open = ZERO, mag, False, True
    if negative:
        return Interval(-high, -low, hi_open, lo_open)
    return Interval(low, high, lo_open, hi_open)
