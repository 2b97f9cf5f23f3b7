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
from kzhealth.periods import MAX_YEAR, MIN_YEAR, Period, parse_period
from kzhealth.ranges import Qualifier, canonical_value, parse_value
from kzhealth.units import UNITS, Family, get_unit

SLUG = r"^[a-z0-9][a-z0-9._-]*$"
SUBJECT = r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$"


def _period(value: Any) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError("a period is written as text, e.g. 2025, 2025-H1 or 2025-01/2025-09")
    return parse_period(value)


_POINT = r"[0-9]{4}(-([0-9]{2}(-[0-9]{2})?|Q[1-4]|H[12]))?"
PERIOD = rf"^(unstated|(\.\./)?{_POINT}|{_POINT}/{_POINT})$"
_NUMBER = r"[+-]?([0-9](_?[0-9])*)?(\.[0-9](_?[0-9])*)?"
VALUE = rf"^{_NUMBER}(\.\.{_NUMBER})?$"

# In a YAML file a year or a number may be written bare (an integer or a number to YAML, and so
# to an editor's schema validator) or quoted; the loader reads either as the text written.
PeriodField = Annotated[
    Period,
    PlainValidator(_period),
    PlainSerializer(lambda p: p.text, return_type=str),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": PERIOD},
                {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
            ],
            "description": "YYYY, YYYY-MM, YYYY-MM-DD, YYYY-Q1..4, YYYY-H1/H2, START/END, "
            "../END (as of END) or unstated",
        }
    ),
]
Text = Annotated[str, Field(min_length=1)]
Figure = Annotated[
    str,
    Field(min_length=1),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "minLength": 1}, {"type": "number"}]},
    ),
]
Value = Annotated[
    str,
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": VALUE}, {"type": "number"}],
            "description": "The figure as a plain number (-20.2, 10500), or a range (10..13)",
        }
    ),
]
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
    part_of: Annotated[
        Slug | None,
        Field(description="The metric this one is a part of: a part never exceeds its whole."),
    ] = None

    def record(self) -> Metric:
        distinct = tuple(self.distinct_from)
        return Metric(
            self.id, self.description, self.topic, self.family, self.kind, distinct, self.part_of
        )


class IgnoredIn(Record):
    """A figure in the source text that carries no claim, and why."""

    figure: Figure
    context: Text | None = None
    reason: Text

    def record(self) -> Ignored:
        return Ignored(self.figure, self.context, self.reason)


class ClaimIn(Record):
    """One figure reported by one source document."""

    id: Slug
    source: Slug
    metric: Slug | None
    measure: Measure
    figure: Figure
    value: Value
    unit: Annotated[str, Field(min_length=1, json_schema_extra={"enum": sorted(UNITS)})]
    qualifier: Qualifier = Qualifier.EXACT
    period: PeriodField
    baseline: PeriodField | None = None
    subject: Annotated[str, Field(json_schema_extra={"pattern": SUBJECT})]
    scope: Slug = "national"
    status: Status = Status.REPORTED
    rank: Rank = Rank.NORMAL
    reason: Annotated[str | None, Field(min_length=1, validate_default=True)] = None
    quote: Text
    note: Text | None = None
    period_basis: PeriodBasis = PeriodBasis.STATED
    draft: Annotated[bool, Field(validate_default=True)] = False

    @field_validator("draft")
    @classmethod
    def _draft(cls, value: bool, info: ValidationInfo) -> bool:
        if "metric" in info.data and info.data["metric"] is None and not value:
            raise ValueError(
                "a reviewed claim names its metric (metric: null only in a draft); "
                "see `kzhealth metrics --search WORD`"
            )
        return value

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
        value = canonical_value(value)
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
        claim = Claim(*(getattr(self, name) for name in Claim.FIELDS))
        if claim.metric is None:  # a draft's: nothing fitted
            claim.metric = ""
        return claim


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


# What each value of an enumerated field means, shown by editors beside the value.
MEANINGS: dict[str, dict[str, str]] = {
    "Measure": {
        "level": "a level in the metric's unit (a stock, a rate, an amount)",
        "count": "a number of things",
        "share": "a percentage of a whole",
        "change_pct": "a change in percent (negative for a fall)",
        "change_pp": "a change in percentage points",
        "change_abs": "a change in the metric's unit",
        "multiple": "so many times as much ('doubled' is 2)",
        "fold_reduction": "so many times less ('halved' is 2)",
    },
    "Qualifier": {
        "exact": "the figure as rounded (20.2 is 20.15 to 20.25)",
        "about": "at least 5% either side",
        "nearly": "just below: within 10% under the figure",
        "more_than": "above the figure",
        "at_least": "the figure or above",
        "up_to": "from zero to the figure",
        "less_than": "from zero to just below the figure",
    },
    "Status": {
        "reported": "what happened, as reported",
        "estimate": "an estimate of what happened",
        "provisional": "reported, to be revised",
        "target": "a plan: compared only with other targets and forecasts",
        "forecast": "a forecast: compared only with other targets and forecasts",
    },
    "Rank": {
        "preferred": "the figure to use where claims agree",
        "normal": "the default",
        "deprecated": "kept visible, never compared (say why in reason)",
    },
    "PeriodBasis": {
        "stated": "the text names the period",
        "inferred": "the curator read the period from the date or context",
    },
    "MetricKind": {
        "level": "a stock or rate observed at a time",
        "flow": "counted over a period: a part holds no more than the whole",
        "running_total": "a flow added up since a start: it never falls",
    },
    "Family": {
        "percent": "percent",
        "count": "count, thousand, million, billion",
        "currency": "USD, KZT and their multiples",
        "rate": "per 1,000 live births and other rates",
        "duration": "years, days, working days",
    },
    "SourceKind": {
        "news": "a news article",
        "government": "a government release or page",
        "international_organisation": "WHO, the World Bank, the UN and the like",
        "press_release": "a press release",
        "official_statistics": "a statistics office, WHO, the World Bank: the reference figure",
        "other": "anything else",
    },
}

SCHEMA_FILES: dict[str, type[Record]] = {
    "sources": SourcesFile,
    "metrics": MetricsFile,
    "claims": ClaimsFile,
}


def file_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a claims folder's file as curators write it: the
    loader's own models, with numbers allowed where YAML reads a bare figure or year as one, a
    claims file's source stated once at its top, and every enumerated value explained."""
    model = SCHEMA_FILES[kind]
    found = model.model_json_schema(mode="validation")
    definitions = found.get("$defs", {})
    claim = definitions.get("ClaimIn")
    if claim is not None:  # the file states the source once, at its top (see the loader)
        claim["properties"].pop("source", None)
        claim["required"] = [name for name in claim["required"] if name != "source"]
    for name, definition in definitions.items():
        meanings = MEANINGS.get(name)
        if meanings is not None and "enum" in definition:
            definition["enumDescriptions"] = [meanings[v] for v in definition["enum"]]
            definition["markdownEnumDescriptions"] = definition["enumDescriptions"]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **_plain_refs(found)}


def _plain_refs(node: Any) -> Any:
    """``{"allOf": [{"$ref": X}], ...}``, as older pydantic writes a reference with a default
    beside it, as ``{"$ref": X, ...}``, as newer pydantic and draft 2020-12 write it: the same
    schema whichever pydantic made it."""
    if isinstance(node, list):
        return [_plain_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _plain_refs(value) for key, value in node.items()}
    wrapped = out.get("allOf")
    if isinstance(wrapped, list) and len(wrapped) == 1 and set(wrapped[0]) == {"$ref"}:
        del out["allOf"]
        out = {"$ref": wrapped[0]["$ref"], **out}
    return out
