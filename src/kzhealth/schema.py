"""What a claims folder's files must hold: pydantic models that validate parsed YAML.

Fields arrive as the text the curator wrote (see yamlsource); each field's validator turns that
text into meaning or says exactly why it cannot. A validated item becomes a plain record from
``kzhealth.model`` (``.record()``); the JSON Schema of the format comes from these models.
Only the loader imports this module, and only when a file has to be validated.
"""

from __future__ import annotations

import re
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

from kzhealth.model import (
    MEASURE_UNIT,
    Claim,
    Ignored,
    Measure,
    Metric,
    MetricKind,
    PeriodBasis,
    Rank,
    Source,
    SourceKind,
    Status,
    Topic,
)
from kzhealth.periods import Period, parse_period
from kzhealth.ranges import Qualifier, parse_value
from kzhealth.units import Family, get_unit

SLUG = r"^[a-z0-9][a-z0-9._-]*$"
SUBJECT = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


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


# The sources' and metrics' models are built when first used: a run that parses only an edited
# claims file (the usual edit) then does not build them.
_LATER = ConfigDict(defer_build=True)


class SourceIn(Record):
    """One source document."""

    model_config = _LATER

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

    def record(self) -> Source:
        return Source(*(getattr(self, name) for name in Source.FIELDS))


class MetricIn(Record):
    """A canonical real-world quantity: one name across every document."""

    model_config = _LATER

    id: Slug
    description: Text
    topic: Topic
    family: Family
    kind: MetricKind = MetricKind.LEVEL
    distinct_from: list[Slug] = []

    def record(self) -> Metric:
        distinct = tuple(self.distinct_from)
        return Metric(self.id, self.description, self.topic, self.family, self.kind, distinct)


class IgnoredIn(Record):
    """A figure in the source text that carries no claim, and why."""

    figure: Text
    context: Text | None = None
    reason: Text

    def record(self) -> Ignored:
        return Ignored(self.figure, self.context, self.reason)


class ClaimIn(Record):
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
    period_basis: PeriodBasis = PeriodBasis.STATED

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

    def record(self) -> Claim:
        return Claim(*(getattr(self, name) for name in Claim.FIELDS))


class SourcesFile(Record):
    model_config = _LATER
    sources: list[SourceIn]


class MetricsFile(Record):
    model_config = _LATER
    metrics: list[MetricIn]


class ClaimsFile(Record):
    source: Slug
    claims: list[ClaimIn] = []
    ignored: list[IgnoredIn] = []
