"""Units a claim's value can be in, and which of them can be compared.

A unit is a *dimension* and a *scale*: ``KZT billion`` is the dimension ``KZT`` at 10^9, so
``214.8 KZT billion`` and ``214,800 KZT million`` compare; ``USD`` and ``KZT`` never do (no exchange
rate is assumed). Every metric declares a family, and a claim's unit must belong to it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Family(StrEnum):
    """What kind of quantity a metric is, which decides the units its levels may use."""

    PERCENT = "percent"
    COUNT = "count"
    CURRENCY = "currency"
    RATE = "rate"
    DURATION = "duration"


@dataclass(frozen=True, slots=True)
class Unit:
    name: str
    dimension: str
    scale: Decimal
    family: Family | None  # None for the units of changes and multiples, which fit any metric


CURRENCIES = ("USD", "KZT", "KGS", "EUR", "RUB")
SCALES = {"": 1, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
PERCENT = "percent"
PERCENTAGE_POINTS = "percentage_points"
TIMES = "times"

_FIXED: dict[str, tuple[str, Family | None]] = {
    PERCENT: ("percent", Family.PERCENT),
    PERCENTAGE_POINTS: ("percentage_points", None),
    TIMES: ("times", None),
    "count": ("count", Family.COUNT),
    "per_1000_live_births": ("per_1000_live_births", Family.RATE),
    "per_100000_live_births": ("per_100000_live_births", Family.RATE),
    "per_100000_population": ("per_100000_population", Family.RATE),
    "per_1000_population": ("per_1000_population", Family.RATE),
    "per_10000_population": ("per_10000_population", Family.RATE),
    "per_10000_live_births": ("per_10000_live_births", Family.RATE),
    "years": ("days", Family.DURATION),
    "days": ("days", Family.DURATION),
    "working_days": ("working_days", Family.DURATION),
}
_DAYS_PER_YEAR = Decimal("365.25")


def _build() -> dict[str, Unit]:
    units = {
        name: Unit(name, dim, _DAYS_PER_YEAR if name == "years" else Decimal(1), family)
        for name, (dim, family) in _FIXED.items()
    }
    for word in ("thousand", "million", "billion", "trillion"):  # "2.7 million" keeps its rounding
        units[word] = Unit(word, "count", Decimal(SCALES[word]), Family.COUNT)
    for code in CURRENCIES:
        for word, scale in SCALES.items():
            name = f"{code} {word}".strip()
            units[name] = Unit(name, code, Decimal(scale), Family.CURRENCY)
    return units


UNITS: dict[str, Unit] = _build()
DIMENSIONS = frozenset(unit.dimension for unit in UNITS.values())


def get_unit(name: str) -> Unit:
    try:
        return UNITS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(UNITS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "see the README's list of units"
        raise ValueError(f"unknown unit {name!r}; {hint}") from None
