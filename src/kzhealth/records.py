"""Plain-data views of claims, sources and conflicts: the JSON contract and the CSV columns."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from kzhealth.engine import Conflict
from kzhealth.model import Claim, Metric, Source

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


class Tables(Protocol):
    """What a claim's record takes from beyond the claim (a Dataset or a DatasetIndex)."""

    @property
    def sources(self) -> dict[str, Source]: ...

    @property
    def metrics(self) -> dict[str, Metric]: ...


def source_details(
    source: Source | None,
) -> tuple[str | None, str | None, str | None, str | None]:
    """The source's file, short title, publication date and kind, as a claim's record shows
    them (the kind decides whether it is the official figure)."""
    if source is None:
        return (None, None, None, None)
    return (source.file, source.short, source.published.text, source.kind.value)


def metric_details(metric: Metric | None) -> tuple[str, str] | None:
    """What a group's conflicts take from its metric: its topic, which a claim's record shows,
    and its kind, which decides how figures for different periods relate."""
    return (metric.topic.value, metric.kind.value) if metric else None


def claim_record(tables: Tables, claim: Claim) -> dict[str, Any]:
    """A claim as data. Beyond the claim it shows only ``source_details`` and the topic of
    ``metric_details``, which is what the conflicts report's cache keys rely on."""
    record = claim.to_dict()
    if not claim.metric:
        record["metric"] = None  # a draft's claim that no metric fitted, as its file says
    record["range"] = claim.interval_text
    record["period_label"] = claim.period.label()
    source_file, source_title, published, kind = source_details(tables.sources.get(claim.source))
    record["source_file"] = source_file
    record["source_title"] = source_title
    record["source_published"] = published
    record["source_kind"] = kind
    details = metric_details(tables.metrics.get(claim.metric))
    record["topic"] = details[0] if details else None
    return record


def named(claim: Claim) -> str:
    """A claim's id as people's formats show it: a draft says so."""
    return f"{claim.id} (draft)" if claim.draft else claim.id


def metric_named(claim: Claim) -> str:
    """A claim's metric as people's formats show it: a draft's may have none yet."""
    return claim.metric or "(no metric yet)"


def source_record(source: Source, count: int) -> dict[str, Any]:
    record = source.to_dict()
    record["claims"] = count
    return record


def conflict_record(
    tables: Tables, conflict: Conflict, *, with_claims: bool = True
) -> dict[str, Any]:
    """A conflict as data (its claims last, so a writer can splice them in itself)."""
    key = conflict.key
    return {
        "kind": conflict.kind.value,
        "severity": conflict.severity.label,
        "metric": key.metric,
        "measure": key.measure.value,
        "subject": key.subject,
        "scope": key.scope,
        "unit_dimension": key.dimension,
        "goal": key.goal,
        "grouped_because": conflict.grouped,
        "why": conflict.why,
    } | ({"claims": [claim_record(tables, c) for c in conflict.claims]} if with_claims else {})


# json.dumps(value, ensure_ascii=False), without building an encoder per call (this runs twice
# per conflict, 250,000 times for 100,000 claims).
_encode = json.JSONEncoder(ensure_ascii=False).encode


def conflict_json(tables: Tables, conflict: Conflict, encoded: dict[str, str]) -> str:
    """One conflict as ``json.dumps`` writes it inside the report. A claim met in several
    conflicts is encoded once: ``encoded`` keeps each claim's JSON by id."""
    members = []
    for claim in conflict.claims:
        text = encoded.get(claim.id)
        if text is None:
            text = encoded[claim.id] = _encode(claim_record(tables, claim))
        members.append(text)
    head = _encode(conflict_record(tables, conflict, with_claims=False))
    return f'{head[:-1]}, "claims": [{", ".join(members)}]}}'


# The report around its conflicts' JSON, as ``_dump({"conflicts": [...]})`` writes it.
REPORT_HEAD, REPORT_SEPARATOR, REPORT_TAIL = '{"conflicts": [', ", ", "]}\n"


def join_conflicts(pieces: Iterable[str]) -> str:
    return REPORT_HEAD + REPORT_SEPARATOR.join(pieces) + REPORT_TAIL


CLAIM_COLUMNS = [
    "id", "source", "metric", "measure", "figure", "value", "unit", "qualifier", "range",
    "period", "baseline", "subject", "scope", "status", "rank", "reason", "quote", "note",
    "period_basis", "draft",
    "source_file", "source_title", "source_published", "source_kind", "topic",
]  # fmt: skip


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (0x0A,)}
_CONTROL.update(
    {
        c: f"\\u{c:04x}"
        for c in (
            0x061C,
            0x2028,
            0x2029,
            0xFEFF,
            *range(0x200B, 0x2010),
            *range(0x202A, 0x202F),
            *range(0x2060, 0x2065),
            *range(0x2066, 0x206A),
        )
    }
)
_CONTROL.update({c: f"\\U{c:08x}" for c in range(0xE0000, 0xE0080)})


def visible(text: str) -> str:
    """Control and bidi characters as visible escapes, so a terminal never acts on them."""
    return text.translate(_CONTROL)


def check_record(report: CheckReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "claims": report.claims,
        "sources": report.sources,
        "texts": str(report.texts) if report.texts else None,
        "failures": [
            {"location": str(p.location), "field": p.field, "message": p.message}
            for p in report.failures
        ],
        "warnings": [
            {"location": str(p.location), "field": p.field, "message": p.message}
            for p in report.warnings
        ],
        "coverage": [
            {
                "source": c.source,
                "file": c.file,
                "figures": c.figures,
                "covered": c.covered,
                "percent": float(c.percent),
                "uncovered": [
                    {"location": str(u.location), "figure": u.figure, "context": u.context}
                    for u in c.uncovered
                ],
            }
            for c in report.coverage
        ],
    }


def check_lines(report: CheckReport) -> list[str]:
    """The report as located lines, one per failure or uncovered figure, then a summary."""
    lines = [str(p) for p in report.failures]
    lines += [f"warning: {p}" for p in report.warnings]
    lines += [
        f"{u.location}: uncovered figure {u.figure!r} in ...{u.context}..."
        for c in report.coverage
        for u in c.uncovered
    ]
    if report.texts is None:
        lines.append(f"ok: {report.claims} claims from {report.sources} sources are valid")
    elif report.ok:
        checked = f"{report.claims} claims checked against {report.sources} texts"
        lines.append(f"ok: {checked}, every figure covered")
    else:
        uncovered = sum(len(c.uncovered) for c in report.coverage)
        lines.append(f"failed: {len(report.failures)} failures, {uncovered} uncovered figures")
    return lines
