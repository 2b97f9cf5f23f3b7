"""Markdown tables, for pasting into a fact-check or an issue."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from kzhealth.engine import Conflict
from kzhealth.model import Claim, Metric, Source
from kzhealth.records import Tables, check_lines, metric_named, named, visible

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport


_MARKUP = re.compile(r"([\\`*_{}\[\]()#!|~])")  # inline markup; a cell never starts a line
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def _cell(value: object) -> str:
    """Data as literal text in Markdown: HTML and Markdown's inline markup escaped (no tag,
    image, link or emphasis from the data is ever live), line breaks as <br>."""
    text = visible("" if value is None else str(value))
    text = "".join(_HTML.get(char, char) for char in text)
    text = _MARKUP.sub(r"\\\1", text)
    return text.replace("\n", "<br>")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def _source_label(dataset: Tables, claim: Claim) -> str:
    source = dataset.sources.get(claim.source)
    if source is None:
        return claim.source
    return f"{source.short} ({source.published.text}, {source.file})"


CLAIM_HEADER = ("id", "source", "metric", "figure", "range", "period", "quote")


def _claim_row(dataset: Tables, c: Claim) -> tuple[object, ...]:
    figure = c.figure if c.qualifier == "exact" else f"{c.figure} ({c.qualifier})"
    return (
        named(c),
        _source_label(dataset, c),
        metric_named(c),
        figure,
        c.interval,
        c.period.label(),
        c.quote,
    )


def claims(
    dataset: Tables, items: Sequence[Claim], shown: int | None = None, wide: bool = False
) -> str:
    return _table(CLAIM_HEADER, (_claim_row(dataset, c) for c in islice(items, shown)))


def sources(dataset: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None) -> str:
    header = ("id", "title", "published", "file", "jurisdiction", "claims")
    return _table(
        header,
        (
            (s.id, s.title, s.published.text, s.file, s.jurisdiction, n)
            for s, n in islice(items, shown)
        ),
    )


def metrics(dataset: Tables, items: Sequence[tuple[Metric, int]], shown: int | None = None) -> str:
    header = ("id", "description", "topic", "family", "kind", "claims")
    rows = (
        (m.id, m.description, m.topic.value, m.family.value, m.kind.value, n)
        for m, n in islice(items, shown)
    )
    return _table(header, rows)


def conflicts(
    dataset: Tables, items: Sequence[Conflict], shown: int | None = None, wide: bool = False
) -> str:
    parts = []
    for i, conflict in enumerate(islice(items, shown), 1):
        title = f"### {i}. {conflict.kind} ({conflict.severity.label}): {conflict.key.metric}\n\n"
        why = f"Grouped: {_cell(conflict.grouped)}.\n\nWhy: {_cell(conflict.why)}\n\n"
        parts.append(
            title + why + _table(CLAIM_HEADER, (_claim_row(dataset, c) for c in conflict.claims))
        )
    return "\n".join(parts) if parts else "No conflicts.\n"


def metric(
    dataset: Tables, metric: Metric, items: Sequence[Claim], shown: int | None = None
) -> str:
    head = f"### {metric.id}\n\n{_cell(metric.description)} ({metric.topic}, {metric.family})\n\n"
    return head + claims(dataset, items, shown)


def check(report: CheckReport) -> str:
    header = ("source", "file", "figures", "covered", "coverage")
    rows = ((c.source, c.file, c.figures, c.covered, f"{c.percent}%") for c in report.coverage)
    table = _table(header, rows) if report.coverage else ""
    return table + "".join(f"\n- {_cell(line)}" for line in check_lines(report)) + "\n"
