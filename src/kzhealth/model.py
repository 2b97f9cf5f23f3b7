"""The validated records: sources, metrics and claims.

Fields arrive as the text the curator wrote (see yamlsource); each field's validator turns that
text into meaning or says exactly why it cannot.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from kzhealth.periods import Period, parse_period
from kzhealth.ranges import Interval, Qualifier, figure_range, fmt, parse_value
from kzhealth.units import PERCENT, PERCENTAGE_POINTS, TIMES, Family, Unit, get_unit

SLUG = r"^[a-z0-9][a-z0-9._-]*$"
SUBJECT = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


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


class SourceKind(StrEnum):
    NEWS = "news"
    GOVERNMENT = "government"
    INTERNATIONAL_ORGANISATION = "international_organisation"
    PRESS_RELEASE = "press_release"
    OTHER = "other"


def _period(value: Any) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError("a period is written as text, e.g. 2025, 2025-H1 or 2025-01/2025-09")
    return parse_period(value)


PeriodField = Annotated[
    Period,
    PlainValidator(_period),
    PlainSerializer(lambda p: p.text, return_type=str),
    WithJsonSchema({"type": "string", "description": "YYYY[-MM[-DD]] | YYYY-Qn | YYYY-Hn | A/B"}),
]
Text = Annotated[str, Field(min_length=1)]
Slug = Annotated[str, Field(pattern=SLUG, max_length=120)]


class Record(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, strict=False, use_enum_values=False
    )


class Source(Record):
    """One source document."""

    id: Slug
    title: Text
    short: Annotated[str, Field(min_length=1, max_length=40)]
    publisher: Text | None = None
    published: PeriodField
    file: Text
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    jurisdiction: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    kind: SourceKind
    url: Text | None = None
    note: Text | None = None

    @field_validator("file")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value in {".", ".."}:
            raise ValueError("a file name only, inside the texts folder (no / or ..)")
        return value


class Metric(Record):
    """A canonical real-world quantity: one name across every document."""

    id: Slug
    description: Text
    topic: Topic
    family: Family


class Ignored(Record):
    """A figure in the source text that carries no claim, and why."""

    figure: Text
    context: Text | None = None
    reason: Text


class Claim(Record):
    """One figure reported by one source document."""

    id: Slug
    source: Slug
    metric: Slug
    measure: Measure
    figure: Text
    value: Text
    unit: Text
    qualifier: Qualifier = Qualifier.EXACT
    period: PeriodField
    baseline: PeriodField | None = None
    subject: str
    scope: Slug = "national"
    status: Status = Status.REPORTED
    rank: Rank = Rank.NORMAL
    reason: Annotated[str | None, Field(min_length=1, validate_default=True)] = None
    quote: Text
    note: Text | None = None

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        if not re.match(SUBJECT, value):
            raise ValueError(
                f"{value!r} is not a jurisdiction code; use ISO 3166-1 alpha-2 (KZ), "
                "or ISO 3166-2 for a region (KZ-ALA)"
            )
        return value

    @field_validator("value")
    @classmethod
    def _value(cls, value: str, info: ValidationInfo) -> str:
        lo, hi = parse_value(value)
        measure = info.data.get("measure")
        if measure in (Measure.LEVEL, Measure.COUNT, Measure.SHARE) and lo < 0:
            raise ValueError(f"a {measure.value} cannot be negative; changes use change_pct")
        if measure is Measure.SHARE and hi > 100:
            raise ValueError("a share is a percentage of a whole, at most 100")
        if measure in (Measure.MULTIPLE, Measure.FOLD_REDUCTION) and lo <= 0:
            raise ValueError(f"a {measure.value} is positive (2 for 'doubled' or 'halved')")
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str, info: ValidationInfo) -> str:
        unit = get_unit(value)
        measure = info.data.get("measure")
        wanted = MEASURE_UNIT.get(measure) if isinstance(measure, Measure) else None
        if wanted and value != wanted:
            raise ValueError(f"a {measure} is in {wanted}, not {value}")
        text = info.data.get("value")
        whole = isinstance(text, str) and not any((v * unit.scale) % 1 for v in parse_value(text))
        if measure is Measure.COUNT and isinstance(text, str) and not whole:
            raise ValueError(f"{text} {value} is not a whole number of things")
        return value

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, value: Period | None, info: ValidationInfo) -> Period | None:
        measure = info.data.get("measure")
        if value is not None and isinstance(measure, Measure) and not measure.is_change:
            raise ValueError(f"only a change has a baseline, and a {measure} is not one")
        return value

    @field_validator("qualifier")
    @classmethod
    def _qualifier(cls, value: Qualifier, info: ValidationInfo) -> Qualifier:
        text = info.data.get("value")
        if (
            isinstance(text, str)
            and ".." in text
            and value not in (Qualifier.EXACT, Qualifier.ABOUT)
        ):
            raise ValueError(f"a range of values cannot be {value}")
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("rank") is not Rank.DEPRECATED:
            raise ValueError("a reason is given only for a deprecated claim")
        if value is None and info.data.get("rank") is Rank.DEPRECATED:
            raise ValueError("a deprecated claim says why (reason: ...)")
        return value

    @cached_property
    def unit_info(self) -> Unit:
        return get_unit(self.unit)

    @cached_property
    def bounds(self) -> tuple[Decimal, Decimal]:
        return parse_value(self.value)

    @cached_property
    def interval(self) -> Interval:
        """The values the figure as written allows, in the claim's own unit."""
        return figure_range(*self.bounds, self.qualifier)

    @cached_property
    def base_interval(self) -> Interval:
        """The same interval in the unit's base (``USD million`` to USD), for comparison."""
        return self.interval.scaled(self.unit_info.scale)

    def value_label(self) -> str:
        lo, hi = self.bounds
        return fmt(lo) if lo == hi else f"{fmt(lo)} to {fmt(hi)}"

    @property
    def compared(self) -> bool:
        return self.rank is not Rank.DEPRECATED


class SourcesFile(Record):
    sources: list[Source]


class MetricsFile(Record):
    metrics: list[Metric]


class ClaimsFile(Record):
    source: Slug
    claims: list[Claim] = []
    ignored: list[Ignored] = []
