"""Figures that cannot all be true: arithmetic across claims of one metric, or of a metric and
its parts (``part_of`` in metrics.yaml).

Every relation works on the ranges the model gives each figure (its rounding and qualifier), as
interval arithmetic: a relation is broken only when no values inside the ranges satisfy it, so
"almost doubled from $48M to $91.3M" is consistent. The relations:

- a change against the two levels it links: its period's and its baseline's ("8.4% growth to
  about $920M in 2024" fixes 2023 at $806M-$892M, so "$800M in 2023" cannot also be true);
- for a ``flow`` metric, the figures of sub-periods that tile a period against the figure for
  the whole ("200 in 2023 and 250 in 2024" against "480 in 2023-2024");
- a part never exceeds its whole; the shares of one whole's parts add up to at most 100%; a
  part's share of the whole times the whole is the part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from kzhealth.engine import (
    Conflict,
    ConflictKind,
    Days,
    Severity,
    _conflict,
    _days,
    baseline_of,
    group_conflicts,
    group_key,
    in_order,
    kind_of,
)
from kzhealth.model import Claim, Measure, Metric, MetricKind, Source, SourceKind
from kzhealth.ranges import fmt

Range = tuple[Decimal, Decimal]
LEVELS = (Measure.LEVEL, Measure.COUNT, Measure.SHARE)
MOST_TILINGS = 20  # tilings of one period tried (monthly and quarterly figures both tile a year)
_HUNDRED = Decimal(100)


def root_of(metric: str, metrics: Mapping[str, Metric]) -> str:
    """The whole a metric is part of, followed to the top (a cycle stops where it closes)."""
    seen = {metric}
    found = metrics.get(metric)
    while found is not None and found.part_of and found.part_of not in seen:
        seen.add(found.part_of)
        metric = found.part_of
        found = metrics.get(metric)
    return metric


def bundle_key(claim: Claim, metrics: Mapping[str, Metric]) -> tuple[str, str, str, bool]:
    """Claims whose figures a relation may link: one metric and its parts, one subject and
    scope, reported figures or goals."""
    return (root_of(claim.metric, metrics), claim.subject, claim.scope, claim.status.is_goal)


def _range(claim: Claim) -> Range:
    """A figure's range in its unit's base (closed: an open end only widens what is allowed)."""
    i = claim.base_interval
    return (i.lo, i.hi)


def _meets(a: Range, b: Range) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _show(r: Range, like: Claim) -> str:
    """A range in the unit of ``like``, rounded for reading."""
    scale = like.unit_info.scale
    lo, hi = (_rounded(x / scale) for x in r)
    unit = "" if like.unit == "count" else f" {like.unit}"
    return f"{lo}{unit}" if lo == hi else f"{lo}-{hi}{unit}"


def _rounded(x: Decimal) -> str:
    if not x.is_finite():
        return fmt(x)
    step = Decimal("0.01") if abs(x) < 10 else Decimal("0.1") if abs(x) < 1000 else Decimal(1)
    try:
        return fmt(x.quantize(step))
    except InvalidOperation:  # more digits than the context holds
        return fmt(x)


def _says(claim: Claim) -> str:
    return f"{claim.id} ({claim.source}) {claim.figure}"


def find_conflicts(
    claims: Iterable[Claim], metrics: Mapping[str, Metric] | None = None
) -> list[Conflict]:
    """Every conflict among the claims, most severe first: inside each group
    (``engine.group_conflicts``), and the broken relations of each bundle."""
    claims = list(claims)
    known = metrics or {}
    bundles: dict[tuple[str, str, str, bool], list[Claim]] = defaultdict(list)
    for claim in claims:
        bundles[bundle_key(claim, known)].append(claim)
    found = group_conflicts(claims, metrics)
    for members in bundles.values():
        found += relate(members, known)
    return in_order(found)


def relate(claims: list[Claim], metrics: Mapping[str, Metric]) -> list[Conflict]:
    """The broken relations among one bundle's claims (``bundle_key``)."""
    compared = [c for c in claims if c.compared and c.period.stated]
    found = _changes(compared)
    found += _tilings(compared, metrics)
    found += _parts(compared, metrics)
    return found


# --- a change against its two levels ---------------------------------------------------------


def _implied_baseline(change: Claim, level: Range) -> Range | None:
    """The baseline level a change and its period's level imply, or None when they imply
    nothing (a fall of 100% or more, a level that is not positive, an unbounded range)."""
    try:
        return _implied(change, level)
    except (InvalidOperation, ZeroDivisionError):  # inf - inf, inf / inf: no bound at all
        return None


def _implied(change: Claim, level: Range) -> Range | None:
    lo, hi = change.interval.lo, change.interval.hi
    p_lo, p_hi = level
    measure = change.measure
    if measure is Measure.CHANGE_PCT:
        if lo <= -_HUNDRED or p_lo < 0:
            return None
        return (p_lo / (1 + hi / _HUNDRED), p_hi / (1 + lo / _HUNDRED))
    if measure in (Measure.CHANGE_ABS, Measure.CHANGE_PP):
        c_lo, c_hi = (change.base_interval.lo, change.base_interval.hi)
        return (p_lo - c_hi, p_hi - c_lo)
    if measure is Measure.MULTIPLE:
        if lo <= 0 or p_lo < 0:
            return None
        return (p_lo / hi, p_hi / lo)
    if measure is Measure.FOLD_REDUCTION:
        if lo <= 0 or p_lo < 0:
            return None
        return (p_lo * lo, p_hi * hi)
    return None


def _fits(change: Claim, level: Claim) -> bool:
    """Whether a level is in the terms a change is about: a share for percentage points, the
    same unit dimension for an absolute change, any level of the metric for the rest."""
    if change.measure is Measure.CHANGE_PP:
        return level.measure is Measure.SHARE or level.unit == "percent"
    if change.measure is Measure.CHANGE_ABS:
        return level.unit_info.dimension == change.unit_info.dimension
    return True


def _changes(claims: list[Claim]) -> list[Conflict]:
    levels: dict[tuple[str, Days], list[Claim]] = defaultdict(list)
    for c in claims:
        if c.measure in LEVELS and not c.period.as_of:
            levels[(c.metric, _days(c.period))].append(c)
    found = []
    for change in claims:
        if not change.measure.is_change or change.period.as_of:
            continue
        before = baseline_of(change)
        if before is None:
            continue
        now = [c for c in levels.get((change.metric, _days(change.period)), ()) if _fits(change, c)]
        then = [c for c in levels.get((change.metric, before), ()) if _fits(change, c)]
        for after in now:
            implied = _implied_baseline(change, _range(after))
            if implied is None:
                continue
            for earlier in then:
                if earlier.unit_info.dimension != after.unit_info.dimension:
                    continue
                if _meets(implied, _range(earlier)):
                    continue
                why = (
                    f"{_says(change)} for {change.period.label()} and {_says(after)} imply "
                    f"{_show(implied, after)} for {_period_text(before)}; {_says(earlier)} "
                    f"gives {_show(_range(earlier), earlier)}"
                )
                found.append(_arithmetic([change, after, earlier], why))
    return found


def _period_text(days: Days) -> str:
    start, end = days
    if start.year == end.year and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return str(start.year)
    return f"{start.isoformat()}/{end.isoformat()}"


def _arithmetic(claims: list[Claim], why: str) -> Conflict:
    """A broken relation among these claims, filed under the first one's group."""
    return _conflict(ConflictKind.ARITHMETIC, Severity.MEDIUM, group_key(claims[0]), claims, why)


# --- a flow's sub-periods against the whole ------------------------------------------------


def _tilings(claims: list[Claim], metrics: Mapping[str, Metric]) -> list[Conflict]:
    by_kind: dict[tuple[str, Measure, str], list[Claim]] = defaultdict(list)
    for c in claims:
        flow = kind_of(c.metric, metrics) is MetricKind.FLOW
        if flow and c.measure in (Measure.LEVEL, Measure.COUNT) and not c.period.as_of:
            by_kind[(c.metric, c.measure, c.unit_info.dimension)].append(c)
    found = []
    for same in by_kind.values():
        spans: dict[Days, list[Claim]] = defaultdict(list)
        for c in same:
            spans[_days(c.period)].append(c)
        agreed: dict[Days, Range] = {}
        for days, members in spans.items():
            lo = max(_range(c)[0] for c in members)
            hi = min(_range(c)[1] for c in members)
            if lo <= hi:  # members that disagree are a contradiction already
                agreed[days] = (lo, hi)
        starting: dict[object, list[Days]] = defaultdict(list)
        for days in agreed:
            starting[days[0]].append(days)
        for whole, members in spans.items():
            for tiling in _tiles(whole, starting):
                total = (
                    sum((agreed[d][0] for d in tiling), Decimal(0)),
                    sum((agreed[d][1] for d in tiling), Decimal(0)),
                )  # sums of finite lows, and of highs that may be infinite: always defined
                for w in members:
                    if _meets(total, _range(w)):
                        continue
                    parts = [c for d in tiling for c in spans[d]]
                    named = ", ".join(f"{c.id} {c.figure} for {c.period.label()}" for c in parts)
                    why = (
                        f"the figures for the parts of {w.period.label()} add up to "
                        f"{_show(total, w)}: {named}; {_says(w)} gives "
                        f"{_show(_range(w), w)} for the whole"
                    )
                    found.append(_arithmetic([w, *parts], why))
    return found


def _tiles(whole: Days, starting: Mapping[object, list[Days]]) -> Iterable[list[Days]]:
    """Chains of two or more spans, each starting the day after the last ends, that cover
    ``whole`` exactly (at most MOST_TILINGS)."""
    start, end = whole
    out: list[list[Days]] = []

    def walk(day: object, chain: list[Days]) -> None:
        if len(out) >= MOST_TILINGS:
            return
        for span in starting.get(day, ()):
            if span == whole or span[1] > end:
                continue
            if span[1] == end:
                if chain:
                    out.append([*chain, span])
                continue
            walk(span[1] + timedelta(days=1), [*chain, span])

    walk(start, [])
    return out


# --- parts and their whole ------------------------------------------------------------------


def _parts(claims: list[Claim], metrics: Mapping[str, Metric]) -> list[Conflict]:
    wholes = {m.id: m.part_of for m in metrics.values() if m.part_of}
    if not any(c.metric in wholes for c in claims):
        return []
    found = []
    at: dict[tuple[str, Days], list[Claim]] = defaultdict(list)
    for c in claims:
        if c.measure in LEVELS:
            at[(c.metric, _days(c.period))].append(c)
    shares: dict[tuple[str, Days], dict[str, list[Claim]]] = defaultdict(dict)
    for (metric, days), members in at.items():
        whole = wholes.get(metric)
        if whole is None:
            continue
        amounts = [c for c in members if c.measure is not Measure.SHARE]
        parts_shares = [c for c in members if c.measure is Measure.SHARE]
        whole_amounts = [c for c in at.get((whole, days), ()) if c.measure is not Measure.SHARE]
        for part in amounts:
            for w in whole_amounts:
                if part.unit_info.dimension != w.unit_info.dimension:
                    continue
                if _range(part)[0] > _range(w)[1]:
                    why = f"{_says(part)} is a part of {_says(w)}, and larger than it"
                    found.append(_arithmetic([part, w], why))
        for share in parts_shares:
            s_lo, s_hi = (v / _HUNDRED for v in _range(share))
            for w in whole_amounts:
                w_lo, w_hi = _range(w)
                try:
                    implied = (w_lo * s_lo, w_hi * s_hi)
                except InvalidOperation:  # an unbounded whole times a share of zero
                    continue
                for part in amounts:
                    if part.unit_info.dimension != w.unit_info.dimension:
                        continue
                    if not _meets(implied, _range(part)):
                        why = (
                            f"{_says(share)} of {_says(w)} implies {_show(implied, part)}; "
                            f"{_says(part)} gives {_show(_range(part), part)}"
                        )
                        found.append(_arithmetic([share, w, part], why))
        if parts_shares:
            shares[(whole, days)][metric] = parts_shares
    for (whole, _), by_part in shares.items():
        if len(by_part) < 2:
            continue
        least = {m: max(_range(c)[0] for c in cs) for m, cs in by_part.items()}
        if sum(least.values()) > _HUNDRED:
            members = [c for cs in by_part.values() for c in cs]
            named = ", ".join(_says(c) for c in members)
            why = f"the shares of parts of {whole} add up to more than 100%: {named}"
            found.append(_arithmetic(members, why))
    return found


# --- official statistics ---------------------------------------------------------------------


def with_official(conflict: Conflict, sources: Mapping[str, Source]) -> Conflict:
    """A conflict that holds an official figure (a source of kind ``official_statistics``):
    the official claims first, ranked above the others, and the verdict says which of the
    others agree with them (their ranges meet). Unchanged when no claim is official."""
    official = [c for c in conflict.claims if _is_official(c, sources)]
    if not official or conflict.kind is ConflictKind.ARITHMETIC:
        return conflict
    others = [c for c in conflict.claims if c not in official]
    lo = max(_range(c)[0] for c in official)
    hi = min(_range(c)[1] for c in official)
    named = ", ".join(c.id for c in official)
    if lo > hi:
        why = f"{conflict.why}; the official figures ({named}) disagree among themselves"
    else:
        agree = [c.id for c in others if _meets((lo, hi), _range(c))]
        disagree = [c.id for c in others if c.id not in agree]
        why = (
            f"{conflict.why}; against the official figure ({named}): "
            f"agree {', '.join(agree) or 'none'}; disagree {', '.join(disagree) or 'none'}"
        )
    claims = (*official, *others)
    return Conflict(conflict.kind, conflict.severity, conflict.key, claims, why)


def _is_official(claim: Claim, sources: Mapping[str, Source]) -> bool:
    source = sources.get(claim.source)
    return source is not None and source.kind is SourceKind.OFFICIAL_STATISTICS
