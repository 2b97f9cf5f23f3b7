"""Plain-data views of claims, sources and conflicts: the JSON contract and the CSV columns."""

from __future__ import annotations

from typing import Any

from kzhealth.engine import Conflict
from kzhealth.loader import Dataset
from kzhealth.model import Claim, Source


def claim_record(dataset: Dataset, claim: Claim) -> dict[str, Any]:
    source = dataset.sources.get(claim.source)
    record = claim.model_dump(mode="json")
    record["range"] = str(claim.interval)
    record["period_label"] = claim.period.label()
    record["source_file"] = source.file if source else None
    record["source_title"] = source.short if source else None
    record["source_published"] = source.published.text if source else None
    record["topic"] = (
        dataset.metrics[claim.metric].topic.value if claim.metric in dataset.metrics else None
    )
    return record


def source_record(source: Source, count: int) -> dict[str, Any]:
    record = source.model_dump(mode="json")
    record["claims"] = count
    return record


def conflict_record(dataset: Dataset, conflict: Conflict) -> dict[str, Any]:
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
        "claims": [claim_record(dataset, c) for c in conflict.claims],
    }


CLAIM_COLUMNS = [
    "id", "source", "metric", "measure", "figure", "value", "unit", "qualifier", "range",
    "period", "baseline", "subject", "scope", "status", "rank", "reason", "quote", "note",
    "source_file", "source_title", "source_published", "topic",
]  # fmt: skip


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if c not in (0x0A,)}
_CONTROL.update(
    {c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
)


def visible(text: str) -> str:
    """Control and bidi characters as visible escapes, so a terminal never acts on them."""
    return text.translate(_CONTROL)
