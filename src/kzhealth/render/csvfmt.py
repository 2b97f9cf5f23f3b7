"""CSV: one row per claim (conflicts add their kind, severity and a group number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from kzhealth.engine import Conflict
from kzhealth.model import Claim, Metric, Source
from kzhealth.records import CLAIM_COLUMNS, Tables, check_record, claim_record, source_record

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


# Columns that hold numbers, which may start with "-" and are left as they are; every other cell
# is text from the data, which a spreadsheet must never run as a formula (CWE-1236).
NUMBERS = frozenset({"value", "range", "conflict", "claims", "figures", "covered", "percent"})
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutral(column: str, value: Any) -> Any:
    """A text cell that a spreadsheet would read as a formula, with a leading apostrophe (as
    OWASP recommends: shown, not run)."""
    if column in NUMBERS or not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    return "'" + value


def _write(columns: list[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: neutral(k, v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def claims(
    dataset: Tables, items: Sequence[Claim], shown: int | None = None, wide: bool = False
) -> str:
    return _write(CLAIM_COLUMNS, (claim_record(dataset, c) for c in islice(items, shown)))


def sources(dataset: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None) -> str:
    columns = ["id", "short", "title", "publisher", "published", "file", "jurisdiction", "kind"]
    return _write([*columns, "claims"], (source_record(s, n) for s, n in islice(items, shown)))


def metrics(dataset: Tables, items: Sequence[tuple[Metric, int]], shown: int | None = None) -> str:
    columns = ["id", "description", "topic", "family", "kind", "claims"]
    return _write(columns, ({**m.to_dict(), "claims": n} for m, n in islice(items, shown)))


def conflicts(
    dataset: Tables, items: Sequence[Conflict], shown: int | None = None, wide: bool = False
) -> str:
    rows = (
        {
            "conflict": i,
            "kind": c.kind.value,
            "severity": c.severity.label,
            **claim_record(dataset, m),
        }
        for i, c in enumerate(islice(items, shown), 1)
        for m in c.claims
    )
    return _write(["conflict", "kind", "severity", *CLAIM_COLUMNS], rows)


def metric(
    dataset: Tables, metric: Metric, items: Sequence[Claim], shown: int | None = None
) -> str:
    return claims(dataset, items, shown)


def check(report: CheckReport) -> str:
    """One row per source: its coverage, and its uncovered figures joined."""
    rows = (
        {**c, "uncovered": "; ".join(f"{u['location']} {u['figure']}" for u in c["uncovered"])}
        for c in check_record(report)["coverage"]
    )
    return _write(["source", "file", "figures", "covered", "percent", "uncovered"], rows)
