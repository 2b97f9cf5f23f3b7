"""The records kzhealth works with: sources, metrics, claims. Plain frozen dataclasses.

They hold data that has already been validated (by ``kzhealth.schema`` when a file is parsed,
or by the cache's own checks when it is read back), so building them costs no validation and
importing this module imports no pydantic. What a claim's figure means (its unit, bounds and
intervals) is worked out once, when the record is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from kzhealth.periods import Period, parse_period
from kzhealth.ranges import Interval, Qualifier, figure_range, fmt, parse_value
from kzhealth.units import PERCENT, PERCENTAGE_POINTS, TIMES, Family, Unit, get_unit


class Measure(StrEnum):
    """What shape of figure a claim reports; a target is a level or change with status target."""

    LEVEL = "level"
    COUNT = "count"
    SHARE = "share"
    CHANGE_PCT = "change_pct"
    CHANGE_PP = "change_pp"
    CHANGE_ABS = "change_abs"
    MULTIPLE = "multiple"
    FOLD_REDUCTION = "fold_reduction"

    @property
    def is_change(self) -> bool:
        return self not in (Measure.LEVEL, Measure.COUNT, Measure.SHARE)

    @property
    def in_metric_unit(self) -> bool:
        """Levels, counts and absolute changes take the unit of their metric's family."""
        return self in (Measure.LEVEL, Measure.COUNT, Measure.CHANGE_ABS)


# Measures whose unit is fixed; levels and counts take the unit of the metric's family.
MEASURE_UNIT = {
    Measure.SHARE: PERCENT,
    Measure.CHANGE_PCT: PERCENT,
    Measure.CHANGE_PP: PERCENTAGE_POINTS,
    Measure.MULTIPLE: TIMES,
    Measure.FOLD_REDUCTION: TIMES,
}


class Status(StrEnum):
    REPORTED = "reported"
    ESTIMATE = "estimate"
    PROVISIONAL = "provisional"
    TARGET = "target"
    FORECAST = "forecast"

    @property
    def is_goal(self) -> bool:
        """Targets and forecasts are compared with each other, never with what happened."""
        return self in (Status.TARGET, Status.FORECAST)


class PeriodBasis(StrEnum):
    """Whether a claim's period is the text's own words or the curator's reading of it (from
    the publication date, from the article's context)."""

    STATED = "stated"
    INFERRED = "inferred"


class Rank(StrEnum):
    """As Wikidata ranks statements: a deprecated claim stays visible but is not compared."""

    PREFERRED = "preferred"
    NORMAL = "normal"
    DEPRECATED = "deprecated"


class Topic(StrEnum):
    HEALTH_OUTCOMES = "health_outcomes"
    FINANCE = "finance"
    WORKFORCE = "workforce"
    INFRASTRUCTURE = "infrastructure"
    PHARMA = "pharma"
    DIGITAL = "digital"
    ENVIRONMENT = "environment"
    ACCESS = "access"
    POLICY = "policy"


class MetricKind(StrEnum):
    """What kind of quantity a metric is, which decides how its figures for different periods
    relate (``kzhealth.engine``)."""

    LEVEL = "level"  # a stock or rate observed at a time: hospitals in operation, a death rate
    FLOW = "flow"  # counted over a period, so a part of the period holds no more than the whole
    RUNNING_TOTAL = "running_total"  # a flow added up since a start: it never falls


class SourceKind(StrEnum):
    NEWS = "news"
    GOVERNMENT = "government"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    PRESS_RELEASE = "press_release"
    OFFICIAL_STATISTICS = "official_statistics"  # a statistics office, WHO, the World Bank
    OTHER = "other"


def _dump(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Fields as JSON-able values: enums as their value, periods as their text."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if isinstance(value, Period):
            value = value.text
        elif isinstance(value, StrEnum):
            value = value.value
        out[name] = value
    return out


@dataclass(frozen=True, slots=True)
class Source:
    """One source document."""

    id: str
    title: str
    short: str
    publisher: str | None
    published: Period
    file: str
    sha256: str
    jurisdiction: str
    kind: SourceKind
    url: str | None = None
    note: str | None = None

    FIELDS = (
        "id", "title", "short", "publisher", "published", "file", "sha256", "jurisdiction",
        "kind", "url", "note",
    )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return _dump(self, self.FIELDS)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Source:
        return cls(**{**d, "published": parse_period(d["published"]), "kind": _KINDS[d["kind"]]})


@dataclass(frozen=True, slots=True)
class Metric:
    """A canonical real-world quantity: one name across every document."""

    id: str
    description: str
    topic: Topic
    family: Family
    kind: MetricKind = MetricKind.LEVEL
    distinct_from: tuple[str, ...] = ()  # metrics that look alike but are other quantities
    part_of: str | None = None  # the metric this one is a part of (kzhealth.relations)

    FIELDS = ("id", "description", "topic", "family", "kind", "distinct_from", "part_of")

    def to_dict(self) -> dict[str, Any]:
        return {**_dump(self, self.FIELDS), "distinct_from": list(self.distinct_from)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Metric:
        kind = _METRIC_KINDS[d.get("kind", "level")]
        topic, family = _TOPICS[d["topic"]], _FAMILIES[d["family"]]
        distinct = tuple(d.get("distinct_from") or ())
        return cls(d["id"], d["description"], topic, family, kind, distinct, d.get("part_of"))


@dataclass(frozen=True, slots=True)
class Ignored:
    """A figure in the source text that carries no claim, and why."""

    figure: str
    context: str | None
    reason: str

    FIELDS = ("figure", "context", "reason")

    def to_dict(self) -> dict[str, Any]:
        return _dump(self, self.FIELDS)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Ignored:
        return cls(d["figure"], d.get("context"), d["reason"])


Meaning = tuple[Unit, tuple[Decimal, Decimal], Interval, Interval, str, tuple[Decimal, Decimal]]


@lru_cache(maxsize=65536)
def _meaning(value: str, qualifier: Qualifier, unit: str) -> Meaning:
    """What a figure means, shared by equal figures: unit, bounds, interval, the interval in the
    unit's base, its text, and the bounds in the base (the figure's identity across scales)."""
    info = get_unit(unit)
    lo, hi = parse_value(value)
    interval = figure_range(lo, hi, qualifier)
    base = ((lo * info.scale).normalize(), (hi * info.scale).normalize())
    return info, (lo, hi), interval, interval.scaled(info.scale), str(interval), base


@dataclass(slots=True)
class Claim:
    """One figure reported by one source document.

    Treated as immutable, but not ``frozen``: a frozen dataclass sets every field through
    ``object.__setattr__``, which made building claims from the cache several times slower.
    """

    id: str
    source: str
    metric: str
    measure: Measure
    figure: str
    value: str
    unit: str
    qualifier: Qualifier
    period: Period
    baseline: Period | None
    subject: str
    scope: str
    status: Status
    rank: Rank
    reason: str | None
    quote: str
    note: str | None
    period_basis: PeriodBasis = PeriodBasis.STATED
    draft: bool = False  # drafted by ``kzhealth draft`` and not yet reviewed; metric may be ""
    # Worked out once from value, qualifier, unit and periods (see ranges.py for the rules).
    unit_info: Unit = field(init=False, repr=False, compare=False)
    bounds: tuple[Decimal, Decimal] = field(init=False, repr=False, compare=False)
    interval: Interval = field(init=False, repr=False, compare=False)
    base_interval: Interval = field(init=False, repr=False, compare=False)
    interval_text: str = field(init=False, repr=False, compare=False)
    value_key: tuple[Decimal, Decimal] = field(init=False, repr=False, compare=False)
    period_key: tuple[object, object] = field(init=False, repr=False, compare=False)

    FIELDS = (
        "id", "source", "metric", "measure", "figure", "value", "unit", "qualifier", "period",
        "baseline", "subject", "scope", "status", "rank", "reason", "quote", "note",
        "period_basis", "draft",
    )  # fmt: skip

    def __post_init__(self) -> None:
        (self.unit_info, self.bounds, self.interval, self.base_interval, self.interval_text,
         self.value_key) = _meaning(self.value, self.qualifier, self.unit)  # fmt: skip
        baseline = self.baseline.key if self.baseline is not None else None
        self.period_key = (self.period.key, baseline)

    def to_dict(self) -> dict[str, Any]:
        return dict(zip(self.FIELDS, self.to_row(), strict=True))

    def to_row(self) -> list[Any]:
        """The fields in FIELDS order, as JSON values: what the cache stores (a row is a third
        shorter than a dict), written out field by field because it runs once per claim."""
        # Enum members are str subclasses: JSON writes them as their value, no lookup needed.
        return [
            self.id, self.source, self.metric, self.measure, self.figure, self.value,
            self.unit, self.qualifier, self.period.text,
            self.baseline.text if self.baseline is not None else None, self.subject, self.scope,
            self.status, self.rank, self.reason, self.quote, self.note, self.period_basis,
            self.draft,
        ]  # fmt: skip

    @classmethod
    def from_row(cls, row: list[Any]) -> Claim:
        """The inverse of ``to_row``; raises KeyError, ValueError or TypeError on a bad row."""
        (cid, source, metric, measure, figure, value, unit, qualifier, period, baseline,
         subject, scope, status, rank, reason, quote, note, basis, draft) = row  # fmt: skip
        return cls(
            cid, source, metric, _MEASURES[measure], figure, value, unit, _QUALIFIERS[qualifier],
            parse_period(period), parse_period(baseline) if baseline is not None else None,
            subject, scope, _STATUSES[status], _RANKS[rank], reason, quote, note,
            _BASES[basis or "stated"], draft is True,
        )  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Claim:
        return cls.from_row([d.get(name) for name in cls.FIELDS])

    def value_label(self) -> str:
        lo, hi = self.bounds
        return fmt(lo) if lo == hi else f"{fmt(lo)} to {fmt(hi)}"

    @property
    def compared(self) -> bool:
        """Grouped and compared: not deprecated, and with a metric (a draft may have none)."""
        return self.rank is not Rank.DEPRECATED and bool(self.metric)


# Value-to-member tables: a dict lookup is several times faster than calling the enum, which
# building 100,000 claims, 4,000 sources and 2,500 metrics from the cache does for each.
_MEASURES = {m.value: m for m in Measure}
_KINDS = {k.value: k for k in SourceKind}
_METRIC_KINDS = {k.value: k for k in MetricKind}
_BASES = {b.value: b for b in PeriodBasis}
_TOPICS = {t.value: t for t in Topic}
_FAMILIES = {f.value: f for f in Family}
_QUALIFIERS = {q.value: q for q in Qualifier}
_STATUSES = {s.value: s for s in Status}
_RANKS = {r.value: r for r in Rank}
