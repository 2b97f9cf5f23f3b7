"""Group comparable claims and classify how their figures disagree.

Claims are comparable only when they share a *group key*: metric, measure, subject, scope, unit
dimension, and whether they are goals (targets, forecasts) or reported figures. Grouping is one
dictionary pass; inside a group every test below is a count over dictionaries, never all pairs,
so the engine stays linear in the number of claims.

Kinds, from a group's claims (deprecated claims are never compared):

- ``internal``: one source gives figures for the same period whose ranges share no value;
- ``contradiction``: two sources give figures for the same period whose ranges share no value;
- ``recycled``: the same figure is given for different periods by different sources;
- ``different_period``: sources give different figures for different periods;
- ``unstated_period``: a claim gives no period, so it cannot be checked against the others.

Severity: ``high`` when a change's direction flips (a rise against a fall), ``medium`` for a gap
in size (contradiction, internal) or a figure moved to another period (recycled), ``low`` for a
difference the period may explain (different_period, unstated_period).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from operator import attrgetter
from typing import NamedTuple

from kzhealth.model import Claim, Measure
from kzhealth.ranges import Interval, common


class ConflictKind(StrEnum):
    INTERNAL = "internal"
    CONTRADICTION = "contradiction"
    RECYCLED = "recycled"
    DIFFERENT_PERIOD = "different_period"
    UNSTATED_PERIOD = "unstated_period"


class Severity(IntEnum):
    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class GroupKey(NamedTuple):
    """What claims must share to be compared (a tuple: one is made per claim, so it is cheap)."""

    metric: str
    measure: Measure
    subject: str
    scope: str
    dimension: str
    goal: bool

    def describe(self) -> str:
        what = "targets/forecasts" if self.goal else "reported figures"
        return (
            f"same metric {self.metric}, measure {self.measure}, subject {self.subject}, "
            f"scope {self.scope}, unit {self.dimension}; {what}"
        )


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: ConflictKind
    severity: Severity
    key: GroupKey
    claims: tuple[Claim, ...]
    why: str

    @property
    def grouped(self) -> str:
        return self.key.describe()


def group_key(claim: Claim) -> GroupKey:
    return GroupKey(
        claim.metric,
        claim.measure,
        claim.subject,
        claim.scope,
        claim.unit_info.dimension,
        claim.status.is_goal,
    )


def _direction(claim: Claim) -> int:
    """+1 for a rise, -1 for a fall, 0 when not a change or not sure."""
    if claim.measure in (Measure.MULTIPLE, Measure.FOLD_REDUCTION):
        r, one = claim.interval, Decimal(1)
        sign = Interval(r.lo - one, r.hi - one, r.lo_open, r.hi_open).sign
        return -sign if claim.measure is Measure.FOLD_REDUCTION else sign
    if claim.measure.is_change:
        return claim.interval.sign
    return 0


def _severity(claims: Iterable[Claim], base: Severity) -> Severity:
    signs = {_direction(c) for c in claims}
    return Severity.HIGH if {1, -1} <= signs else base


def _label(claim: Claim) -> str:
    return f"{claim.id} {claim.value_label()} {claim.interval_text} for {claim.period.label()}"


def _partners(claims: list[Claim]) -> tuple[list[Claim], list[Claim]]:
    """Claims with a partner from another source, for another period, whose value is the same
    (recycled), and those with one whose value differs too (different period).

    Counting by inclusion-exclusion over dictionaries keeps this linear: the partners of ``c``
    that differ in source, period and value are all claims, less those sharing its source, its
    period or its value, plus those sharing two of them, less those sharing all three.
    """
    sources = [c.source for c in claims]
    periods = [c.period_key for c in claims]
    if len(set(sources)) < 2 or len(set(periods)) < 2:
        return [], []  # partners need another source and another period: most groups stop here
    values = [c.value_key for c in claims]
    n = len(claims)
    s, p, v = Counter(sources), Counter(periods), Counter(values)
    sp = Counter(zip(sources, periods, strict=True))
    sv = Counter(zip(sources, values, strict=True))
    pv = Counter(zip(periods, values, strict=True))
    spv = Counter(zip(sources, periods, values, strict=True))
    recycled, differing = [], []
    for c, ks, kp, kv in zip(claims, sources, periods, values, strict=True):
        shared = spv[(ks, kp, kv)]
        if v[kv] - sv[(ks, kv)] - pv[(kp, kv)] + shared > 0:
            recycled.append(c)
        if n - s[ks] - p[kp] - v[kv] + sp[(ks, kp)] + sv[(ks, kv)] + pv[(kp, kv)] - shared > 0:
            differing.append(c)
    return recycled, differing


def _cross_source_gap(claims: list[Claim]) -> bool:
    """Whether two claims from different sources share no value (two extremes per side)."""
    lowest_hi: dict[str, Claim] = {}
    highest_lo: dict[str, Claim] = {}
    for c in claims:
        r = c.base_interval
        if c.source not in lowest_hi or r.hi < lowest_hi[c.source].base_interval.hi:
            lowest_hi[c.source] = c
        if c.source not in highest_lo or r.lo > highest_lo[c.source].base_interval.lo:
            highest_lo[c.source] = c
    lows = sorted(lowest_hi.values(), key=lambda c: c.base_interval.hi)[:2]
    highs = sorted(highest_lo.values(), key=lambda c: c.base_interval.lo, reverse=True)[:2]
    return any(
        a.source != b.source and a.base_interval.disjoint(b.base_interval)
        for a in lows
        for b in highs
    )


def _by(claims: Iterable[Claim], key: Callable[[Claim], Hashable]) -> dict[Hashable, list[Claim]]:
    out: dict[Hashable, list[Claim]] = defaultdict(list)
    for c in claims:
        out[key(c)].append(c)
    return out


def classify(key: GroupKey, claims: list[Claim]) -> list[Conflict]:
    """The conflicts among one group's claims (in the dataset's order), in no set order."""
    found: list[Conflict] = []
    stated = [c for c in claims if c.period.stated]
    unstated = [c for c in claims if not c.period.stated]

    for same_period in _by(stated, attrgetter("period_key")).values():
        if len(same_period) < 2:
            continue
        period = same_period[0].period.label()
        for source_claims in _by(same_period, attrgetter("source")).values():
            if len(source_claims) > 1 and common([c.base_interval for c in source_claims]) is None:
                ranges = "; ".join(_label(c) for c in source_claims)
                why = f"one source, one period ({period}), ranges that share no value: {ranges}"
                found.append(
                    _conflict(ConflictKind.INTERNAL, Severity.MEDIUM, key, source_claims, why)
                )
        if _cross_source_gap(same_period):
            ranges = "; ".join(_label(c) for c in same_period)
            why = f"same period ({period}) but the ranges share no value: {ranges}"
            found.append(
                _conflict(ConflictKind.CONTRADICTION, Severity.MEDIUM, key, same_period, why)
            )

    recycled, differing = _partners(stated)
    for same_value in _by(recycled, attrgetter("value_key")).values():
        figure = same_value[0].value_label()
        periods = "; ".join(f"{c.id}: {c.period.label()}" for c in same_value)
        why = f"the same figure {figure} is given for different periods: {periods}"
        if common([c.base_interval for c in same_value]) is None:
            ranges = "; ".join(f"{c.id} {c.qualifier} {c.interval}" for c in same_value)
            why += f"; the qualifiers disagree too, ranges share no value: {ranges}"
        found.append(_conflict(ConflictKind.RECYCLED, Severity.MEDIUM, key, same_value, why))

    if differing:
        ranges = "; ".join(_label(c) for c in differing)
        why = f"the figures differ, and so do their periods: {ranges}"
        found.append(_conflict(ConflictKind.DIFFERENT_PERIOD, Severity.LOW, key, differing, why))

    if unstated and len(claims) > 1:
        names = ", ".join(c.id for c in unstated)
        others = "; ".join(_label(c) for c in stated) or "other claims without a period"
        why = f"{names} states no period, so it cannot be checked against: {others}"
        ordered = unstated + stated
        found.append(_conflict(ConflictKind.UNSTATED_PERIOD, Severity.LOW, key, ordered, why))
    return found


def _conflict(
    kind: ConflictKind, base: Severity, key: GroupKey, claims: list[Claim], why: str
) -> Conflict:
    ordered = sorted(claims, key=lambda c: (c.period.start or c.period.end or _FAR, c.source, c.id))
    return Conflict(kind, _severity(claims, base), key, tuple(ordered), why)


_FAR = date.max
_KIND_ORDER = {kind: str(n) for n, kind in enumerate(ConflictKind)}
assert len(ConflictKind) <= 10 and all(0 <= s <= 9 for s in Severity), "one digit each"


def order(severity: Severity, kind: ConflictKind, key: GroupKey, first: str) -> str:
    """Where a conflict goes in a report: most severe first, then kind, metric, subject and its
    first claim's id. No two conflicts share it (a claim is in one group, and in one conflict
    of each kind), so the order is the same however the conflicts were found.

    One string that sorts that way - ``rank`` then ``order_prefix`` then the id - since 27,000
    strings sort in a fraction of the time of as many tuples: severity and kind as a digit each,
    then the texts, each after a NUL (which no slug holds, and which sorts before every
    character, so a shorter text sorts before a longer one it begins)."""
    return rank(severity, kind) + order_prefix(key) + first


def rank(severity: Severity, kind: ConflictKind) -> str:
    return f"{9 - severity}{_KIND_ORDER[kind]}"


def order_prefix(key: GroupKey) -> str:
    return f"\0{key.metric}\0{key.subject}\0"


def in_order(conflicts: list[Conflict]) -> list[Conflict]:
    """The conflicts sorted in place into the report's ``order``, and returned."""
    conflicts.sort(key=lambda c: order(c.severity, c.kind, c.key, c.claims[0].id))
    return conflicts


@dataclass(slots=True)
class Tally:
    """How many conflicts of each kind and severity, and in which metrics."""

    kinds: Counter[ConflictKind]
    severities: Counter[Severity]
    metrics: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


def tally(conflicts: Iterable[Conflict]) -> Tally:
    found = Tally(Counter(), Counter(), Counter())
    for conflict in conflicts:
        found.kinds[conflict.kind] += 1
        found.severities[conflict.severity] += 1
        found.metrics[conflict.key.metric] += 1
    return found


def group(claims: Iterable[Claim]) -> dict[GroupKey, list[Claim]]:
    """Comparable claims by group key, deprecated claims left out."""
    groups: dict[GroupKey, list[Claim]] = defaultdict(list)
    for claim in claims:
        if claim.compared:
            groups[group_key(claim)].append(claim)
    return groups


def find_conflicts(claims: Iterable[Claim]) -> list[Conflict]:
    """Every conflict among the claims, most severe first."""
    return in_order(
        [
            conflict
            for key, members in group(claims).items()
            if len(members) > 1
            for conflict in classify(key, members)
        ]
    )
