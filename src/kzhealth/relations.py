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

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from kzhealth.engine import (
    Conflict,
    ConflictKind,
    Days,
    GroupKey,
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
from kzhealth.periods import Period
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


def bundle_key(key: GroupKey, metrics: Mapping[str, Metric]) -> tuple[str, str, str]:
    """The groups whose figures a relation may link: one metric and its parts, one subject and
    scope, reported figures and goals together (a target's baseline is a reported level)."""
    return (root_of(key.metric, metrics), key.subject, key.scope)


def may_relate(keys: list[GroupKey], metrics: Mapping[str, Metric]) -> bool:
    """Whether a bundle's groups may break a relation at all, by their keys alone: a change
    (against levels, or composing with another), a flow's levels (sub-periods against the
    whole), or parts with their whole. Levels of one metric alone relate nothing."""
    return (
        any(
            key.measure.is_change or kind_of(key.metric, metrics) is MetricKind.FLOW for key in keys
        )
        or len({key.metric for key in keys}) > 1
    )


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
    bundles: dict[tuple[str, str, str], list[Claim]] = defaultdict(list)
    for claim in claims:
        bundles[bundle_key(group_key(claim), known)].append(claim)
    found = group_conflicts(claims, metrics)
    for members in bundles.values():
        found += relate(members, known)
    return in_order(found)


def relate(claims: list[Claim], metrics: Mapping[str, Metric]) -> list[Conflict]:
    """The broken relations among one bundle's claims (``bundle_key``)."""
    compared = [c for c in claims if c.compared and c.period.stated]
    if len(compared) < 2:
        return []
    links: Links = {}
    for c in compared:
        if c.measure.is_change and (linked := _linked(c, kind_of(c.metric, metrics))):
            links[id(c)] = linked
    found = _changes(compared, metrics, links)
    found += _chains(compared, links)
    found += _tilings(compared, metrics)
    found += _parts(compared, metrics)
    return found


# --- a change against its two levels ---------------------------------------------------------


def _at(period: Period, kind: MetricKind) -> Days | None:
    """The days a level is for, as relations pair them: a running total's last day (a total
    "in 2025" is the total at its end), an "as of" level's day, a flow's or a level's span;
    None for a flow counted up to a date, which has no start to pair."""
    if kind is MetricKind.RUNNING_TOTAL or (period.as_of and kind is MetricKind.LEVEL):
        return None if period.end is None else (period.end, period.end)
    if period.as_of:
        return None
    return _days(period)


Links = dict[int, tuple[Days, Days]]  # a change's (by id) two linked days: ``_linked``


def _linked(change: Claim, kind: MetricKind) -> tuple[Days, Days] | None:
    """The days of the two levels a change links: its period's and its baseline's. The
    baseline is the one the claim states, else the one ``engine.baseline_of`` gives; for a
    running total it is the total before the period began ("54 more in 2025" leads from the
    end of 2024 to the end of 2025), and an increment to a day with no baseline links nothing."""
    now = _at(change.period, kind)
    if now is None:
        return None
    if change.baseline is not None and change.baseline.stated:
        then = _at(change.baseline, kind)
    elif kind is MetricKind.RUNNING_TOTAL:
        start = change.period.start
        if start is None or change.period.as_of or start == change.period.end:
            return None
        before = start - timedelta(days=1)
        then = (before, before)
    else:
        then = baseline_of(change)
    return None if then is None or then == now else (now, then)


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


def _reported_first(claims: list[Claim], goal: bool) -> list[Claim]:
    """The levels a change's baseline may be: what happened; for a goal, what happened or,
    when nothing did, the goals for that period (a target's baseline is a fact)."""
    reported = [c for c in claims if not c.status.is_goal]
    return reported if reported or not goal else claims


def _pooled(ranges: Iterable[Range]) -> Range:
    """What a set of figures for one thing allows together: where all their ranges meet; when
    they disagree among themselves (a conflict of their group), any of their values, so that a
    relation is broken only by what no reading of them allows."""
    ranges = list(ranges)
    lo, hi = max(r[0] for r in ranges), min(r[1] for r in ranges)
    if lo <= hi:
        return (lo, hi)
    return (min(r[0] for r in ranges), max(r[1] for r in ranges))


def _named(claims: list[Claim]) -> str:
    """Claims as a why names them: the first few, then how many more."""
    shown = " and ".join(_says(c) for c in claims[:MOST_NAMED])
    more = len(claims) - MOST_NAMED
    return f"{shown} (and {more} more)" if more > 0 else shown


MOST_NAMED = 3


def _verb(claims: list[Claim], one: str, many: str) -> str:
    """A verb that agrees with the claims a why names: "gives" for one, "give" for more."""
    return one if len(claims) == 1 else many


def _by_dimension(claims: Iterable[Claim]) -> dict[str, list[Claim]]:
    by: dict[str, list[Claim]] = defaultdict(list)
    for c in claims:
        by[c.unit_info.dimension].append(c)
    return by


def _changes(claims: list[Claim], metrics: Mapping[str, Metric], links: Links) -> list[Conflict]:
    """A change, the level for its period (of the same status) and the level for its baseline;
    and two changes of different measures from one level to one baseline (5 points and 14%
    from a share of 40%), whose implied baselines must meet. Claims that report one thing
    (one measure, period and baseline; one level) are related together, once, so that many
    sources repeating two figures make one conflict, not one for each combination."""
    levels: dict[tuple[str, Days], list[Claim]] = defaultdict(list)
    for c in claims:
        if c.measure in LEVELS and (days := _at(c.period, kind_of(c.metric, metrics))):
            levels[(c.metric, days)].append(c)
    changes: dict[tuple[str, Measure, bool, Days, Days, str], list[Claim]] = defaultdict(list)
    for c in claims:
        if linked := links.get(id(c)):
            key = (c.metric, c.measure, c.status.is_goal, *linked, c.unit_info.dimension)
            changes[key].append(c)
    implied_by: dict[tuple[str, bool, Days, Days, str], list[tuple[list[Claim], Range]]]
    implied_by = defaultdict(list)
    at_level: dict[tuple[str, bool, Days, Days, str], list[Claim]] = {}
    found = []
    for (metric, _, goal, now_days, before, _), group in changes.items():
        probe = group[0]
        now = [c for c in levels.get((metric, now_days), ())
               if _fits(probe, c) and c.status.is_goal == goal]  # fmt: skip
        then = [c for c in levels.get((metric, before), ()) if _fits(probe, c)]
        earlier_by = _by_dimension(_reported_first(then, goal))
        for dimension, afters in _by_dimension(now).items():
            after = _pooled(_range(c) for c in afters)
            each = [r for c in group if (r := _implied_baseline(c, after)) is not None]
            if not each:
                continue
            implied = _pooled(each)
            where = (metric, goal, now_days, before, dimension)
            implied_by[where].append((group, implied))
            at_level[where] = afters
            earliers = earlier_by.get(dimension, [])
            if not earliers:
                continue
            earlier = _pooled(_range(c) for c in earliers)
            if _meets(implied, earlier):
                continue
            why = (
                f"{_named(group)} for {probe.period.label()} and {_named(afters)} imply "
                f"{_show(implied, afters[0])} for {_period_text(before)}; {_named(earliers)} "
                f"{_verb(earliers, 'gives', 'give')} {_show(earlier, earliers[0])}"
            )
            found.append(_arithmetic([*group, *afters, *earliers], why))
    for where, baselines in implied_by.items():
        afters = at_level[where]
        for n, (a, a_range) in enumerate(baselines):
            for b, b_range in baselines[n + 1 :]:
                if _meets(a_range, b_range):
                    continue
                why = (
                    f"from {_named(afters)}, {_named(a)} implies {_show(a_range, afters[0])} "
                    f"for {_period_text(where[3])} and {_named(b)} implies "
                    f"{_show(b_range, afters[0])}"
                )
                found.append(_arithmetic([*a, *b, *afters], why))
    return found


# --- changes that compose -------------------------------------------------------------------


def _ratio(change: Claim) -> Range | None:
    """A relative change as the ratio of the two levels it links (+8.4% is 1.084, halved is
    0.5, a fall of 100% is 0); None for an absolute change."""
    lo, hi = change.interval.lo, change.interval.hi
    if change.measure is Measure.CHANGE_PCT:
        lo, hi = 1 + lo / _HUNDRED, 1 + hi / _HUNDRED
    elif change.measure is Measure.FOLD_REDUCTION:
        if lo <= 0:
            return None
        lo, hi = 1 / hi, 1 / lo
    elif change.measure is not Measure.MULTIPLE:
        return None
    return (max(lo, Decimal(0)), hi)


def _step(change: Claim) -> tuple[str, Range] | None:
    """A change in the terms it composes in: ratios multiply, absolute changes and points add."""
    ratio = _ratio(change)
    if ratio is not None:
        return "ratio", ratio
    if change.measure in (Measure.CHANGE_ABS, Measure.CHANGE_PP):
        return f"{change.measure}:{change.unit_info.dimension}", _range(change)
    return None


def _chains(claims: list[Claim], links: Links) -> list[Conflict]:
    """Changes between the same two periods in different measures (+80% and "doubled"), and
    two steps against the one change that spans them (+10% in 2023 and +10% in 2024 against
    2022 are +21%, not +30%): ratios multiply, absolute changes add."""
    steps: dict[tuple[str, bool, str], dict[tuple[Days, Days], list[tuple[Claim, Range]]]]
    steps = defaultdict(lambda: defaultdict(list))
    for c in claims:
        linked = links.get(id(c))
        if linked is not None and (step := _step(c)) is not None:
            now, then = linked
            steps[(c.metric, c.status.is_goal, step[0])][(then, now)].append((c, step[1]))
    found = []
    for (_, _, terms), edges in steps.items():
        agreed: dict[tuple[Days, Days], Range] = {}
        for (then, now), members in edges.items():
            lo = max(r[0] for _, r in members)
            hi = min(r[1] for _, r in members)
            if lo <= hi:
                agreed[(then, now)] = (lo, hi)
            by_measure: dict[Measure, list[tuple[Claim, Range]]] = defaultdict(list)
            for member in members:  # one measure: one group, compared there
                by_measure[member[0].measure].append(member)
            measured = [([c for c, _ in m], _pooled(r for _, r in m)) for m in by_measure.values()]
            for n, (x, x_range) in enumerate(measured):
                for y, y_range in measured[n + 1 :]:
                    if _meets(x_range, y_range):
                        continue
                    why = (
                        f"from {_period_text(then)} to {_period_text(now)}, {_named(x)} "
                        f"{_verb(x, 'is', 'are')} {_show_step(x_range, terms)}; "
                        f"{_named(y)} {_verb(y, 'is', 'are')} "
                        f"{_show_step(y_range, terms)}"
                    )
                    found.append(_arithmetic([*x, *y], why))
        leaving: dict[Days, list[Days]] = defaultdict(list)
        for then, now in agreed:
            leaving[then].append(now)
        for (a, b), first in agreed.items():
            for z in leaving.get(b, ()):
                whole = agreed.get((a, z))
                if whole is None:
                    continue
                try:
                    path = _compose(terms, first, agreed[(b, z)])
                except InvalidOperation:  # zero times an unbounded ratio: no bound at all
                    continue
                if _meets(path, whole):
                    continue
                used = [m for pair in ((a, b), (b, z), (a, z)) for m, _ in edges[pair]]
                why = (
                    f"the changes from {_period_text(a)} to {_period_text(b)} and on to "
                    f"{_period_text(z)} make {_show_step(path, terms)}; "
                    f"{', '.join(_says(m) for m, _ in edges[(a, z)])} gives "
                    f"{_show_step(whole, terms)} from {_period_text(a)} to {_period_text(z)}"
                )
                found.append(_arithmetic(used, why))
    return found


def _compose(terms: str, first: Range, second: Range) -> Range:
    if terms == "ratio":
        return (first[0] * second[0], first[1] * second[1])
    return (first[0] + second[0], first[1] + second[1])


def _show_step(r: Range, terms: str) -> str:
    """A composed change as read: a ratio as a percentage change, a sum in its unit's base."""
    if terms != "ratio":
        lo, hi = (_rounded(x) for x in r)
    else:
        lo, hi = (_rounded((x - 1) * _HUNDRED) + "%" for x in r)
    return lo if lo == hi else f"{lo} to {hi}"


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
    """A flow's figures for sub-periods that tile a period against its figure for the whole;
    and figures for sub-periods that do not overlap, whose sum is above the whole's (counts
    are never negative, so 200 in Q1 and 300 in Q2 cannot meet 450 for the year)."""
    by_kind: dict[tuple[str, Measure, str, bool], list[Claim]] = defaultdict(list)
    for c in claims:
        flow = kind_of(c.metric, metrics) is MetricKind.FLOW
        if flow and c.measure in (Measure.LEVEL, Measure.COUNT) and not c.period.as_of:
            by_kind[(c.metric, c.measure, c.unit_info.dimension, c.status.is_goal)].append(c)
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
            w_range = _pooled(_range(c) for c in members)
            told = False
            for tiling in _tiles(whole, starting):
                total = (
                    sum((agreed[d][0] for d in tiling), Decimal(0)),
                    sum((agreed[d][1] for d in tiling), Decimal(0)),
                )  # sums of finite lows, and of highs that may be infinite: always defined
                if _meets(total, w_range):
                    continue
                told = True
                parts = [c for d in tiling for c in spans[d]]
                found.append(
                    _over(members, w_range, parts, f"add up to {_show(total, members[0])}")
                )
            inside = [d for d in agreed if d != whole and whole[0] <= d[0] and d[1] <= whole[1]]
            chosen = _heaviest([d for d in inside if agreed[d][0] >= 0], agreed)
            if told or len(chosen) < 2:  # one part above its whole: a contradiction in its group
                continue
            least = sum((agreed[d][0] for d in chosen), Decimal(0))
            if least > w_range[1]:
                parts = [c for d in chosen for c in spans[d]]
                summed = (
                    f"that do not overlap add up to at least {_show((least, least), members[0])}"
                )
                found.append(_over(members, w_range, parts, summed))
    return found


def _over(wholes: list[Claim], whole: Range, parts: list[Claim], summed: str) -> Conflict:
    """The figures for parts of a period above the figure for the whole of it."""
    why = (
        f"the figures for parts of {wholes[0].period.label()} {summed}: {_listed(parts)}; "
        f"{_named(wholes)} {_verb(wholes, 'gives', 'give')} {_show(whole, wholes[0])} for the whole"
    )
    return _arithmetic([*wholes, *parts], why)


def _listed(parts: list[Claim]) -> str:
    """The figures of a period's parts, as a why names them."""
    return ", ".join(f"{c.id} {c.figure} for {c.period.label()}" for c in parts)


def _heaviest(spans: list[Days], agreed: Mapping[Days, Range]) -> list[Days]:
    """The spans, none overlapping another, whose lower bounds add up to the most (weighted
    interval scheduling: in order of end, each span with the best set ending before it)."""
    spans = sorted(spans, key=lambda d: d[1])
    ends = [d[1] for d in spans]
    best: list[tuple[Decimal, list[Days]]] = [(Decimal(0), [])]
    for n, span in enumerate(spans):
        before = bisect_left(ends, span[0], hi=n)  # spans ending before this one starts
        weight, chosen = best[before]
        taken = (weight + agreed[span][0], [*chosen, span])
        best.append(max(best[n], taken, key=lambda b: b[0]))
    return best[-1][1]


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
    """Parts against their whole, for one period and status: a part above the whole; a part's
    share times the whole against the part's level; and the parts of one whole together - as
    shares, or as levels with the rest as shares - above it."""
    declared = {metrics[c.metric] for c in claims if c.metric in metrics}
    wholes = {m.id: m.part_of for m in declared if m.part_of}
    if not wholes:
        return []
    found = []
    at: dict[tuple[str, Days, bool], list[Claim]] = defaultdict(list)
    for c in claims:
        if c.measure in LEVELS and (days := _at(c.period, kind_of(c.metric, metrics))):
            at[(c.metric, days, c.status.is_goal)].append(c)
    together: dict[tuple[str, Days, bool], dict[str, list[Claim]]] = defaultdict(dict)
    for (metric, days, goal), members in at.items():
        whole = wholes.get(metric)
        if whole is None:
            continue
        together[(whole, days, goal)][metric] = members
        amounts = [c for c in members if c.measure is not Measure.SHARE]
        parts_shares = [c for c in members if c.measure is Measure.SHARE]
        whole_amounts = [
            c for c in at.get((whole, days, goal), ()) if c.measure is not Measure.SHARE
        ]
        whole_by = _by_dimension(whole_amounts)
        shares = [_range(c) for c in parts_shares]
        for dimension, parts in _by_dimension(amounts).items():
            ws = whole_by.get(dimension)
            if not ws:
                continue
            part, w = _pooled(_range(c) for c in parts), _pooled(_range(c) for c in ws)
            if part[0] > w[1]:
                why = f"{_named(parts)} is a part of {_named(ws)}, and larger than it"
                found.append(_arithmetic([*parts, *ws], why))
                continue
            if not shares:
                continue
            s_lo, s_hi = (v / _HUNDRED for v in _pooled(shares))
            try:
                implied = (w[0] * s_lo, w[1] * s_hi)
            except InvalidOperation:  # an unbounded whole times a share of zero
                continue
            if not _meets(implied, part):
                why = (
                    f"{_named(parts_shares)} of {_named(ws)} implies {_show(implied, parts[0])}; "
                    f"{_named(parts)} {_verb(parts, 'gives', 'give')} "
                    f"{_show(part, parts[0])}"
                )
                found.append(_arithmetic([*parts_shares, *ws, *parts], why))
    for (whole, days, goal), by_part in together.items():
        if len(by_part) >= 2:
            found += _too_much(whole, by_part, at.get((whole, days, goal), []))
    return found


def _too_much(whole: str, by_part: Mapping[str, list[Claim]], of: list[Claim]) -> list[Conflict]:
    """The parts of one whole together above it. Each part counts once, by its level when it
    has one, else its share: the shares' least values must stay within 100%, and the levels'
    least values within what the whole's largest value leaves over for the shares."""
    shares: dict[str, Claim] = {}
    levels: dict[str, Claim] = {}
    for metric, members in by_part.items():
        for c in members:
            into = shares if c.measure is Measure.SHARE else levels
            if metric not in into or _range(c)[0] > _range(into[metric])[0]:
                into[metric] = c
    share_least = sum((_range(c)[0] for m, c in shares.items() if m not in levels), Decimal(0))
    share_part = [c for m, c in shares.items() if m not in levels]
    if share_least > _HUNDRED and len(share_part) >= 2:
        named = ", ".join(_says(c) for c in share_part)
        why = f"the shares of parts of {whole} add up to more than 100%: {named}"
        return [_arithmetic(share_part, why)]
    level_part = list(levels.values())
    if not level_part or len(level_part) + len(share_part) < 2:
        return []
    found = []
    left = 1 - share_least / _HUNDRED
    least = sum((_range(c)[0] for c in level_part), Decimal(0))
    for w in of:
        if w.measure is Measure.SHARE or any(
            c.unit_info.dimension != w.unit_info.dimension for c in level_part
        ):
            continue
        try:
            room = _range(w)[1] * left
        except InvalidOperation:  # an unbounded whole with no room left for the levels
            continue
        if least > room:
            named = ", ".join(_says(c) for c in [*level_part, *share_part])
            why = (
                f"the parts of {_says(w)} add up to more than it: {named} leave "
                f"{_show((room, room), w)} at most for the levels, which need "
                f"{_show((least, least), w)}"
            )
            found.append(_arithmetic([w, *level_part, *share_part], why))
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
