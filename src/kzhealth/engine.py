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

import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from itertools import combinations, groupby
from operator import attrgetter
from typing import NamedTuple

from kzhealth.model import Claim, Measure, Metric, MetricKind, PeriodBasis, Status
from kzhealth.periods import Period
from kzhealth.ranges import Interval, common
from kzhealth.units import DIMENSIONS


class ConflictKind(StrEnum):
    CONTRADICTION = "contradiction"
    ARITHMETIC = "arithmetic"  # figures a relation links cannot all be true (kzhealth.relations)
    INTERNAL = "internal"
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


def key_text(key: GroupKey) -> str:
    """A group key as one string: what the store keeps per claim, and hashes well."""
    return _KEY_SEP.join((*key[:5], "1" if key.goal else "0"))


def key_metric(text: str) -> str:
    """The metric of a group key written by ``key_text``."""
    return text.partition(_KEY_SEP)[0]


def metric_subject_scope(text: str) -> tuple[str, str, str]:
    """The metric, subject and scope of a group key written by ``key_text`` (what finds its
    bundle, ``relations.bundle_key``), without building the key."""
    metric, _, subject, scope, _, _ = text.split(_KEY_SEP)
    return metric, subject, scope


def parse_key(text: str) -> GroupKey | None:
    """The inverse of ``key_text``; None for text it never writes."""
    parts = text.split(_KEY_SEP)
    if len(parts) != 6:
        return None
    metric, measure, subject, scope, dimension, goal = parts
    member = _MEASURES.get(measure)
    if member is None or dimension not in DIMENSIONS or goal not in ("0", "1"):
        return None
    return GroupKey(metric, member, subject, scope, dimension, goal == "1")


_KEY_SEP = "\x1f"  # ids, slugs, subjects and dimensions never contain it
_MEASURES = {m.value: m for m in Measure}
_KEY_FIELD = f"[^{_KEY_SEP}]*"


def _choice(words: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(word) for word in sorted(words)) + ")"


# What parse_key reads, in one regular expression: checking a text is several times faster.
_KEY = re.compile(
    _KEY_SEP.join(
        (_KEY_FIELD, _choice(_MEASURES), _KEY_FIELD, _KEY_FIELD, _choice(DIMENSIONS), "[01]")
    ),
    re.DOTALL,
)


def is_key(text: str) -> bool:
    """Whether ``parse_key`` reads this text."""
    return _KEY.fullmatch(text) is not None


def claim_key_text(claim: Claim) -> str:
    """``key_text(group_key(claim))``, without building the key: a cold run does this for
    every claim."""
    return _KEY_SEP.join(
        (claim.metric, claim.measure, claim.subject, claim.scope, claim.unit_info.dimension,
         _GOAL[claim.status])
    )  # fmt: skip


_GOAL = {status: "1" if status.is_goal else "0" for status in Status}


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


def _when(claim: Claim) -> str:
    """The period a claim's figure is for, with the baseline a change is against."""
    when = claim.period.label()
    return f"{when} vs {claim.baseline.label()}" if claim.baseline is not None else when


def _label(claim: Claim) -> str:
    return f"{claim.id} {claim.value_label()} {claim.interval_text} for {_when(claim)}"


Days = tuple[date, date]


def _days(period: Period) -> Days:
    """The days a stated period covers; "as of" a date covers everything up to it."""
    return (period.start or date.min, period.end or date.max)


def _on(period: Period) -> Days:
    """The days a level is observed on: "as of" a date is that one day."""
    if period.as_of and period.end is not None:
        return (period.end, period.end)
    return _days(period)


def _year_before(days: Days) -> Days | None:
    """The same span one year earlier (29 February to 28 February)."""
    try:
        return tuple(d.replace(year=d.year - 1) for d in days)  # type: ignore[return-value]
    except ValueError:
        start, end = days
        return (start.replace(year=start.year - 1, day=28), end.replace(year=end.year - 1, day=28))


def baseline_of(claim: Claim) -> Days | None:
    """What a change is measured against: the baseline it states, else - for a change over a
    year or part of one - the same span one year earlier, as official statistics report
    changes; None for a level, or when nothing says (a change over several years)."""
    if not claim.measure.is_change:
        return None
    if claim.baseline is not None and claim.baseline.stated:
        return _days(claim.baseline)
    period = claim.period
    if period.start is None or period.end is None or period.as_of:
        return None
    if (period.end - period.start).days > 366:
        return None
    return _year_before(_days(period))


def _partnered(rows: list[tuple[Hashable, ...]]) -> list[bool]:
    """For each row of attributes, whether another row differs from it in every attribute.

    Counted by inclusion-exclusion over dictionaries, so linear: the rows differing in every
    attribute are all rows, less those sharing one attribute, plus those sharing two, and so
    on; a row shares every attribute with itself, which the count cancels."""
    if len(rows) < 2 or any(len(set(column)) < 2 for column in zip(*rows, strict=True)):
        return [False] * len(rows)  # no other row, or an attribute every row shares
    width = len(rows[0])
    subsets = [s for size in range(width + 1) for s in combinations(range(width), size)]
    counts = [Counter(tuple(row[n] for n in subset) for row in rows) for subset in subsets]
    return [
        sum(
            (-1) ** len(subset) * count[tuple(row[n] for n in subset)]
            for subset, count in zip(subsets, counts, strict=True)
        )
        > 0
        for row in rows
    ]


def _rebased(same_period: list[Claim]) -> list[Claim]:
    """Claims for one period that compare it with different baselines (12% against 2024, 60%
    against 2014) and differ in value, from different sources: a reader may mistake one
    change for the other."""
    known = [(c, b) for c in same_period if (b := baseline_of(c)) is not None]
    rows: list[tuple[Hashable, ...]] = [(c.source, b, c.value_key) for c, b in known]
    return [c for (c, _), partnered in zip(known, _partnered(rows), strict=True) if partnered]


def _comparable(same_period: list[Claim]) -> list[list[Claim]]:
    """Claims for one period as sets that measure the same thing: a baseline one claim states
    and another leaves unknown is no difference, two different baselines are two comparisons."""
    known: dict[Days, list[Claim]] = defaultdict(list)
    unknown = []
    for claim in same_period:
        base = baseline_of(claim)
        if base is None:
            unknown.append(claim)
        else:
            known[base].append(claim)
    if not known:
        return [unknown]
    return [members + unknown for members in known.values()]


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


def _below(a: Claim, b: Claim) -> bool:
    """Whether every value ``a`` allows is below every value ``b`` allows."""
    return a.base_interval.disjoint(b.base_interval) and a.base_interval.hi <= b.base_interval.lo


def _recycled(claims: list[Claim]) -> list[Claim]:
    """Claims with a partner from another source, for another period, with the same value
    (``_partnered`` within each value)."""
    if len({c.source for c in claims}) < 2:
        return []
    found = []
    for same in _by(claims, attrgetter("value_key")).values():
        rows: list[tuple[Hashable, ...]] = [(c.source, c.period.key) for c in same]
        found += [c for c, partnered in zip(same, _partnered(rows), strict=True) if partnered]
    return found


class _Spans:
    """How many claims of a bucket (claims sharing some attributes) have a span that overlaps
    a given span: the bucket less those that end before it starts or start after it ends."""

    def __init__(self) -> None:
        self.starts: dict[Hashable, list[date]] = defaultdict(list)
        self.ends: dict[Hashable, list[date]] = defaultdict(list)

    def add(self, bucket: Hashable, span: Days) -> None:
        self.starts[bucket].append(span[0])
        self.ends[bucket].append(span[1])

    def ready(self) -> None:
        for found in (*self.starts.values(), *self.ends.values()):
            found.sort()

    def overlapping(self, bucket: Hashable, span: Days) -> int:
        starts, ends = self.starts.get(bucket, []), self.ends.get(bucket, [])
        before = bisect_left(ends, span[0])
        after = len(starts) - bisect_right(starts, span[1])
        return len(starts) - before - after


def _differing(claims: list[Claim], kind: MetricKind) -> list[Claim]:
    """Claims with a partner a reader could mistake for them: from another source, with
    another value, for a period that overlaps theirs but is not the same (nine months against
    the year, three years against five). Figures for periods that do not overlap are a series,
    not a conflict. Counted by inclusion-exclusion over source, value and period, each count a
    pair of binary searches: O(n log n). A level "as of" a date is observed on that day; a
    flow "as of" a date is counted up to it."""
    if len({c.source for c in claims}) < 2:
        return []
    point = kind is MetricKind.LEVEL
    spans = [_on(c.period) if point else _days(c.period) for c in claims]
    if len(set(spans)) < 2:
        return []
    index = _Spans()
    rows = []
    for c, span in zip(claims, spans, strict=True):
        attributes = {"s": c.source, "v": c.value_key, "p": span}
        buckets = [
            tuple((name, attributes[name]) for name in names)
            for names in ("", "s", "v", "p", "sv", "sp", "vp", "svp")
        ]
        for bucket in buckets:
            index.add(bucket, span)
        rows.append((c, span, buckets))
    index.ready()
    found = []
    for c, span, buckets in rows:
        counts = [index.overlapping(b, span) for b in buckets]
        total, s, v, p, sv, sp, vp, svp = counts
        if total - s - v - p + sv + sp + vp - svp > 0:
            found.append(c)
    return found


def _falls(claims: list[Claim]) -> list[tuple[Claim, Claim]]:
    """For a running total: pairs (earlier, later) where the later figure is below the earlier
    one, whatever sources give them - a total of what has been done never falls. Each later
    claim against the earlier claim with the highest lower bound: one pass over the dates."""
    dated = sorted(claims, key=lambda c: (c.period.end or date.max, c.id))
    found = []
    highest: Claim | None = None  # among claims for strictly earlier dates
    pending: Claim | None = None  # the highest of the current date's claims so far
    current: date | None = None
    for claim in dated:
        when = claim.period.end or date.max
        if when != current:
            if pending is not None and (
                highest is None or pending.base_interval.lo > highest.base_interval.lo
            ):
                highest = pending
            pending, current = None, when
        if highest is not None and _below(claim, highest):
            found.append((highest, claim))
        if pending is None or claim.base_interval.lo > pending.base_interval.lo:
            pending = claim
    return found


def _exceeds(claims: list[Claim]) -> list[tuple[Claim, Claim]]:
    """For a flow: pairs (whole, part) where a figure for part of a period is above the figure
    for the whole period, from any sources (a flow's parts add up to its whole, and counts are
    never negative). Claims in order of start, longest first, each checked against the lowest
    upper bound among periods already seen that end no earlier: O(n log n)."""
    counted = [c for c in claims if c.base_interval.lo >= 0]
    ends = sorted({_days(c.period)[1] for c in counted})
    rank = {end: n for n, end in enumerate(ends)}
    size = len(ends)
    tree: list[Claim | None] = [None] * (size + 1)  # lowest upper bound among ends >= a rank

    def insert(claim: Claim) -> None:
        at = size - rank[_days(claim.period)[1]]  # reversed: a prefix is every later end
        while at <= size:
            held = tree[at]
            if held is None or claim.base_interval.hi < held.base_interval.hi:
                tree[at] = claim
            at += at & -at

    def lowest(end: date) -> Claim | None:
        at, best = size - rank[end], None
        while at > 0:
            held = tree[at]
            if held is not None and (best is None or held.base_interval.hi < best.base_interval.hi):
                best = held
            at -= at & -at
        return best

    found = []
    order = sorted(counted, key=lambda c: (_days(c.period)[0], -_days(c.period)[1].toordinal()))
    for _, same in groupby(order, key=lambda c: _days(c.period)):
        batch = list(same)
        for part in batch:  # against wholes seen before: none of them has this very period
            whole = lowest(_days(part.period)[1])
            if whole is not None and _below(whole, part):
                found.append((whole, part))
        for part in batch:
            insert(part)
    return found


def classify(
    key: GroupKey, claims: list[Claim], kind: MetricKind = MetricKind.LEVEL
) -> list[Conflict]:
    """The conflicts among one group's claims (in the dataset's order), in no set order;
    ``kind`` is the kind of the group's metric."""
    stated = [c for c in claims if c.period.stated]
    unstated = [c for c in claims if not c.period.stated]
    found, rebased = _same_period(key, stated)
    totals, explained = _totals(key, stated, kind)
    found += totals

    for same_value in _by(_recycled(stated), attrgetter("value_key")).values():
        figure = same_value[0].value_label()
        periods = "; ".join(f"{c.id}: {_when(c)}" for c in same_value)
        why = f"the same figure {figure} is given for different periods: {periods}"
        if common([c.base_interval for c in same_value]) is None:
            ranges = "; ".join(f"{c.id} {c.qualifier} {c.interval}" for c in same_value)
            why += f"; the qualifiers disagree too, ranges share no value: {ranges}"
        found.append(_conflict(ConflictKind.RECYCLED, Severity.MEDIUM, key, same_value, why))

    differing = _differing(stated, kind) if kind is not MetricKind.RUNNING_TOTAL else []
    differing = list({c.id: c for c in (*differing, *rebased) if c.id not in explained}.values())
    if differing:
        ranges = "; ".join(_label(c) for c in differing)
        why = f"the figures differ, and so do their periods, which overlap: {ranges}"
        found.append(_conflict(ConflictKind.DIFFERENT_PERIOD, Severity.LOW, key, differing, why))

    if unstated and len(claims) > 1:
        names = ", ".join(c.id for c in unstated)
        others = "; ".join(_label(c) for c in stated) or "other claims without a period"
        why = f"{names} states no period, so it cannot be checked against: {others}"
        ordered = unstated + stated
        found.append(_conflict(ConflictKind.UNSTATED_PERIOD, Severity.LOW, key, ordered, why))
    return found


def _same_period(key: GroupKey, stated: list[Claim]) -> tuple[list[Conflict], list[Claim]]:
    """Contradictions and a source's own disagreements among claims for one period and one
    comparison; and the claims for one period that differ in baseline and value."""
    found: list[Conflict] = []
    rebased: list[Claim] = []
    for same_period in _by(stated, lambda c: c.period.key).values():
        if len(same_period) < 2:
            continue
        period = same_period[0].period.label()
        rebased += _rebased(same_period)
        for comparison in _comparable(same_period):
            for own in _by(comparison, attrgetter("source")).values():
                if len(own) > 1 and common([c.base_interval for c in own]) is None:
                    ranges = "; ".join(_label(c) for c in own)
                    why = f"one source, one period ({period}), ranges that share no value: {ranges}"
                    found.append(_conflict(ConflictKind.INTERNAL, Severity.MEDIUM, key, own, why))
            if _cross_source_gap(comparison):
                ranges = "; ".join(_label(c) for c in comparison)
                why = f"same period ({period}) but the ranges share no value: {ranges}"
                found.append(
                    _conflict(ConflictKind.CONTRADICTION, Severity.MEDIUM, key, comparison, why)
                )
    return found, rebased


def _totals(
    key: GroupKey, stated: list[Claim], kind: MetricKind
) -> tuple[list[Conflict], set[str]]:
    """A running total that falls, a flow whose part exceeds its whole: contradictions, and
    the ids of the claims they hold."""
    if key.measure not in (Measure.LEVEL, Measure.COUNT):
        return [], set()
    if kind is MetricKind.RUNNING_TOTAL:
        pairs = _falls(stated)
        told = "; ".join(f"{_label(a)}, then {_label(b)}" for a, b in pairs)
        why = f"a running total never falls, but a later figure is lower: {told}"
    elif kind is MetricKind.FLOW:
        pairs = _exceeds(stated)
        told = "; ".join(f"{_label(part)} within {_label(whole)}" for whole, part in pairs)
        why = f"a flow over part of a period cannot exceed the whole period's: {told}"
    else:
        return [], set()
    if not pairs:
        return [], set()
    members = list({c.id: c for pair in pairs for c in pair}.values())
    conflict = _conflict(ConflictKind.CONTRADICTION, Severity.MEDIUM, key, members, why)
    return [conflict], {c.id for c in members}


def _conflict(
    kind: ConflictKind, base: Severity, key: GroupKey, claims: list[Claim], why: str
) -> Conflict:
    """A conflict among these claims. One that rests on a period the curator inferred (from the
    publication date, say) rather than read in the text is one step less severe, and says so;
    a source's own disagreement does not rest on it (its claims share their reading)."""
    ordered = sorted(claims, key=lambda c: (c.period.start or c.period.end or _FAR, c.source, c.id))
    severity = _severity(claims, base)
    inferred = [c.id for c in ordered if c.period_basis is PeriodBasis.INFERRED]
    if inferred and kind not in (ConflictKind.INTERNAL, ConflictKind.UNSTATED_PERIOD):
        severity = Severity(max(severity - 1, Severity.LOW))
        which = ", ".join(inferred)
        why += f" (rests on a period the text does not state, inferred for {which})"
    return Conflict(kind, severity, key, tuple(ordered), why)


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
    return rank(severity, kind) + order_prefix(key.metric, key.subject) + first


def rank(severity: Severity, kind: ConflictKind) -> str:
    return f"{9 - severity}{_KIND_ORDER[kind]}"


def order_prefix(metric: str, subject: str) -> str:
    """What ``order`` puts between a conflict's rank and its first claim's id."""
    return f"\0{metric}\0{subject}\0"


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


def group_conflicts(
    claims: Iterable[Claim], metrics: Mapping[str, Metric] | None = None
) -> list[Conflict]:
    """Every conflict inside the claims' groups, most severe first; ``metrics`` gives each
    metric's kind (a level when it is not there). ``relations.find_conflicts`` adds the
    arithmetic across groups."""
    return in_order(
        [
            conflict
            for key, members in group(claims).items()
            if len(members) > 1
            for conflict in classify(key, members, kind_of(key.metric, metrics))
        ]
    )


def kind_of(metric: str, metrics: Mapping[str, Metric] | None) -> MetricKind:
    found = metrics.get(metric) if metrics else None
    return found.kind if found is not None else MetricKind.LEVEL
