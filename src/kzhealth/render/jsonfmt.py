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
    # A claim met in several conflicts is turned into a record once and shared; one json.dumps
    # call then encodes everything in C.
    records: dict[str, dict[str, Any]] = {}

    def record(claim: Claim) -> dict[str, Any]:
        found = records.get(claim.id)
        if found is None:
            found = records[claim.id] = claim_record(dataset, claim)
        return found

    return _dump(
        {
            "conflicts": [
                conflict_record(dataset, c, with_claims=False)
                | {"claims": [record(m) for m in c.claims]}
                for c in items
            ]
        }
    )


def metric(dataset: Dataset, metric: Metric, items: list[Claim]) -> str:
    return _dump(
        {
            "metric": metric.to_dict(),
            "claims": [claim_record(dataset, c) for c in items],
        }
    )


def check(report: CheckReport) -> str:
    return _dump({"check": check_record(report)})
