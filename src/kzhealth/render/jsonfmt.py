"""JSON for scripts: one top-level key per command (the contract is in the README)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kzhealth.engine import Conflict
from kzhealth.loader import Dataset
from kzhealth.model import Claim, Metric, Source
from kzhealth.render.records import check_record, claim_record, conflict_record, source_record

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


def _dump(payload: dict[str, Any]) -> str:
    # ensure_ascii=False keeps Cyrillic readable; json still escapes every control character.
    # No indent: the C encoder is ten times faster, and scripts (or `jq`) do not need it.
    return json.dumps(payload, ensure_ascii=False) + "\n"


def claims(dataset: Dataset, items: list[Claim]) -> str:
    return _dump({"claims": [claim_record(dataset, c) for c in items]})


def sources(dataset: Dataset, items: list[tuple[Source, int]]) -> str:
    return _dump({"sources": [source_record(s, n) for s, n in items]})


def conflicts(dataset: Dataset, items: list[Conflict]) -> str:
    # A claim met in several conflicts is encoded once: each conflict is written as its own
    # fields with the claims' JSON spliced in (the same text json.dumps would give).
    encoded: dict[str, str] = {}

    def claim_json(claim: Claim) -> str:
        text = encoded.get(claim.id)
        if text is None:
            text = encoded[claim.id] = json.dumps(claim_record(dataset, claim), ensure_ascii=False)
        return text

    parts = []
    for conflict in items:
        head = json.dumps(conflict_record(dataset, conflict, with_claims=False), ensure_ascii=False)
        parts.append(
            f'{head[:-1]}, "claims": [{", ".join(claim_json(c) for c in conflict.claims)}]}}'
        )
    return '{"conflicts": [' + ", ".join(parts) + "]}\n"


def metric(dataset: Dataset, metric: Metric, items: list[Claim]) -> str:
    return _dump(
        {
            "metric": metric.to_dict(),
            "claims": [claim_record(dataset, c) for c in items],
        }
    )


def check(report: CheckReport) -> str:
    return _dump({"check": check_record(report)})
