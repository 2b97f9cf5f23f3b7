"""JSON for scripts: one top-level key per command (the contract is in the README)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from kzhealth.engine import Conflict
from kzhealth.model import Claim, Metric, Source
from kzhealth.render.records import (
    Tables,
    check_record,
    claim_record,
    conflict_record,
    source_record,
)

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


def _dump(payload: dict[str, Any]) -> str:
    # ensure_ascii=False keeps Cyrillic readable; json still escapes every control character.
    # No indent: the C encoder is ten times faster, and scripts (or `jq`) do not need it.
    return json.dumps(payload, ensure_ascii=False) + "\n"


def claims(dataset: Tables, items: Sequence[Claim], shown: int | None = None) -> str:
    return _dump({"claims": [claim_record(dataset, c) for c in islice(items, shown)]})


def sources(dataset: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None) -> str:
    return _dump({"sources": [source_record(s, n) for s, n in islice(items, shown)]})


def conflicts(dataset: Tables, items: Sequence[Conflict], shown: int | None = None) -> str:
    encoded: dict[str, str] = {}
    return join_conflicts(conflict_json(dataset, c, encoded) for c in islice(items, shown))


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


def metric(
    dataset: Tables, metric: Metric, items: Sequence[Claim], shown: int | None = None
) -> str:
    return _dump(
        {
            "metric": metric.to_dict(),
            "claims": [claim_record(dataset, c) for c in islice(items, shown)],
        }
    )


def check(report: CheckReport) -> str:
    return _dump({"check": check_record(report)})
