"""JSON for scripts: one top-level key per command (the contract is in the README)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from kzhealth.engine import Conflict
from kzhealth.model import Claim, Metric, Source
from kzhealth.records import (
    Tables,
    check_record,
    claim_record,
    conflict_json,
    join_conflicts,
    source_record,
)

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


def _dump(payload: dict[str, Any]) -> str:
    # ensure_ascii=False keeps Cyrillic readable; json still escapes every control character.
    # No indent: the C encoder is ten times faster, and scripts (or `jq`) do not need it.
    return json.dumps(payload, ensure_ascii=False) + "\n"


def claims(
    dataset: Tables, items: Sequence[Claim], shown: int | None = None, wide: bool = False
) -> str:
    return _dump({"claims": [claim_record(dataset, c) for c in islice(items, shown)]})


def sources(dataset: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None) -> str:
    return _dump({"sources": [source_record(s, n) for s, n in islice(items, shown)]})


def metrics(dataset: Tables, items: Sequence[tuple[Metric, int]], shown: int | None = None) -> str:
    return _dump({"metrics": [{**m.to_dict(), "claims": n} for m, n in islice(items, shown)]})


def conflicts(
    dataset: Tables, items: Sequence[Conflict], shown: int | None = None, wide: bool = False
) -> str:
    encoded: dict[str, str] = {}
    return join_conflicts(conflict_json(dataset, c, encoded) for c in islice(items, shown))


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
