"""Tables for people, laid out for the width they are shown at (``render.layout``).

Listings open with a summary and show the first ``shown`` items, most severe conflicts first,
with a footer that says what was left out and how to see it. Wide enough, claims sit side by
side with their quotes; narrower, each claim is a record with its quote beneath. Every text
from the data goes through ``visible``: control characters are shown, never acted on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from kzhealth.engine import Conflict, Severity, Tally, tally
from kzhealth.model import Claim, Metric, Rank, Source
from kzhealth.query import claim_tally
from kzhealth.records import Tables, check_lines, metric_named, named, visible
from kzhealth.render.layout import (
    GAP,
    Cell,
    Layout,
    Line,
    Part,
    columns,
    grid,
    indent,
    paragraph,
    part_lines,
    record,
)

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport

SEVERITY_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
WIDE = 100  # from this width on, listings are tables; below it, records
QUOTE_COLUMN = 36  # the narrowest quote column beside the figures; below it quotes go beneath
PAD = 2  # a conflict's claims and a record's quote are indented this much


def a(value: object, style: str = "") -> Part:
    """An atom from the data: shown whole."""
    return Part(visible(str(value)), style, atom=True)


def p(value: object, style: str = "", mark: str | None = None) -> Part:
    """Prose from the data: wrapped between words, ``mark`` (a figure) highlighted in it."""
    return Part(visible(str(value)), style, mark=visible(mark) if mark else None)


def _number(n: int) -> str:
    return f"{n:,}"


def _plural(n: int, noun: str) -> str:
    return f"{_number(n)} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class _View:
    """The folder's tables as a listing shows them: ``wide`` adds each source's file name."""

    tables: Tables
    wide: bool = False

    def label(self, claim: Claim) -> str:
        """A claim's source as tables show it: its short name and date (and file, wide)."""
        source = self.tables.sources.get(claim.source)
        if source is None:
            return claim.source
        label = f"{source.short} · {source.published.text}"
        return f"{label} · {source.file}" if self.wide else label


def _figure(claim: Claim) -> Cell:
    details = [claim.qualifier.value] if claim.qualifier != "exact" else []
    if claim.status != "reported":
        details.append(claim.status.value)
    cell = [a(claim.figure, "bold"), a(claim.interval_text), a(claim.unit, "dim")]
    if details:
        cell.insert(1, a(", ".join(details), "italic"))
    if claim.rank is Rank.DEPRECATED:
        cell.append(p(f"deprecated: {claim.reason}", "italic"))
    return cell


def _period(claim: Claim) -> Cell:
    cell = [a(claim.period.label(), "bold red" if not claim.period.stated else "")]
    if claim.baseline:
        cell.append(a(f"vs {claim.baseline.label()}", "dim"))
    return cell


def _quote(claim: Claim) -> Part:
    return p(claim.quote, "italic", mark=claim.figure)


def _summary(tallied: Tally, of: str) -> Iterator[Line]:
    kinds = ", ".join(f"{n} {kind.value.replace('_', ' ')}" for kind, n in tallied.kinds.items())
    noun = _plural(tallied.total, "conflict")
    yield [(f"{noun}{' ' + of if of else ''}: {kinds}" if kinds else "No conflicts found.", "bold")]
    if tallied.total:
        severities = sorted(tallied.severities.items(), reverse=True)
        yield [
            ("by severity: ", "dim"),
            *_counts((s.label, n, SEVERITY_STYLE[s]) for s, n in severities),
        ]
        yield _most(tallied.metrics)


def _counts(items: Iterable[tuple[str, int, str]]) -> Line:
    """``3 high, 5 medium``: counts before their names."""
    line: Line = []
    for name, n, style in items:
        if line:
            line.append((", ", ""))
        line += [(f"{_number(n)} ", ""), (visible(name), style)]
    return line


def _most(counter: Counter[str]) -> Line:
    """``infant_mortality_rate (5), ...``: the three names counted most, each with its count."""
    line: Line = [("most in: ", "dim")]
    for n, (name, count) in enumerate(counter.most_common(3)):
        line += [(", " if n else "", ""), (visible(name), ""), (f" ({_number(count)})", "dim")]
    return line


def _footer(shown: int, total: int, noun: str, narrow: str, width: int) -> Iterator[Line]:
    if shown >= total:
        return
    yield []
    yield [(f"Showing {_number(shown)} of {_plural(total, noun)}.", "bold")]
    more = f"More: --limit N or --all; fewer: {narrow}; every one as data: --format json or csv."
    yield from paragraph("", more, width, "dim")


def _wrapped(lines: Iterable[Line], width: int) -> Iterator[Line]:
    """Lines of one span each, wrapped to the width (a summary's long counts)."""
    for line in lines:
        text = "".join(t for t, _ in line)
        if len(text) <= width:
            yield line
        else:
            yield from paragraph("", text, width, line[0][1] if line else "")


def _claim_grid(view: _View, items: Sequence[Claim], width: int) -> Iterator[Line] | None:
    """Claims side by side with their quotes, or None when the width cannot hold them."""
    header = ("Claim", "Source", "Figure", "Period", "Subject")
    rows = [
        [
            [a(named(c), "bold"), a(metric_named(c), "dim")],
            [p(view.label(c))],
            _figure(c),
            _period(c),
            [a(c.subject if c.scope == "national" else f"{c.subject} ({c.scope})")],
        ]
        for c in items
    ]
    widths = columns(header, rows, width - QUOTE_COLUMN - GAP, (42, 44, 28, 20, 16))
    if widths is None:
        return None
    quote = width - sum(widths) - GAP * len(widths)
    cells = [[*row, [_quote(c)]] for row, c in zip(rows, items, strict=True)]
    return grid((*header, "Quote"), _spaced(cells), [*widths, quote])


def _spaced(rows: Iterable[Sequence[Cell]]) -> Iterator[Sequence[Cell]]:
    for n, row in enumerate(rows):
        if n:
            yield [[] for _ in row]
        yield row


def _claim_record(view: _View, claim: Claim, width: int) -> Iterator[Line]:
    figure = _figure(claim)
    head = [a(named(claim), "bold"), *figure[: len(figure) - 1], *_period(claim)]
    head += [a(view.label(claim), "dim"), a(metric_named(claim), "dim")]
    if claim.subject != "KZ" or claim.scope != "national":
        scope = "" if claim.scope == "national" else f" ({claim.scope})"
        head.append(a(f"{claim.subject}{scope}", "dim"))
    yield from record(head, width, PAD * 2)
    yield from indent(part_lines(_quote(claim), width - PAD * 2), PAD * 2)


CHUNK = 50  # claims laid out at a time, so that a long listing starts at once


def _claim_lines(view: _View, items: Iterable[Claim], width: int) -> Iterator[Line]:
    """Claims as a table (side by side, in chunks) when the width allows, else as records."""
    claims = iter(items)
    first = True
    while chunk := list(islice(claims, CHUNK)):
        table = _claim_grid(view, chunk, width) if width >= WIDE else None
        if table is not None:
            if not first:
                yield []
            yield from table
        else:
            for claim in chunk:
                if not first:
                    yield []
                yield from _claim_record(view, claim, width)
                first = False
        first = False


def claims(
    tables: Tables, items: Sequence[Claim], shown: int | None = None, wide: bool = False
) -> Layout:
    view = _View(tables, wide)

    def lines(width: int) -> Iterator[Line]:
        total = len(items)
        count = min(total, shown) if shown is not None else total
        tallied = items.tally() if hasattr(items, "tally") else claim_tally(items)
        head = f"{_plural(total, 'claim')} from {_plural(tallied.sources, 'source')}"
        yield [(head, "bold")]
        if total > 1:
            yield from _wrapped([_most(tallied.metrics)], width)
        if count:
            yield []
        yield from _claim_lines(view, islice(items, count), width)
        narrow = "--source, --metric, --topic, --subject, --search"
        yield from _footer(count, total, "claim", narrow, width)

    return lines


def sources(
    tables: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None
) -> Layout:
    def lines(width: int) -> Iterator[Line]:
        yield [(_plural(len(items), "source"), "bold")]
        for source, count in items:
            yield []
            head = [a(source.id, "bold"), p(source.short), a(source.published.text)]
            head += [a(source.kind.value), a(source.jurisdiction), a(_plural(count, "claim"))]
            yield from record(head, width, PAD * 2)
            yield from indent(part_lines(p(source.title, "italic"), width - PAD * 2), PAD * 2)
            where = f"{source.file} · sha256 {source.sha256[:12]}"
            yield from indent(part_lines(a(where, "dim"), width - PAD * 2), PAD * 2)

    return lines


def metrics(
    tables: Tables, items: Sequence[tuple[Metric, int]], shown: int | None = None
) -> Layout:
    def lines(width: int) -> Iterator[Line]:
        count = min(len(items), shown) if shown is not None else len(items)
        yield [(_plural(len(items), "metric"), "bold")]
        for metric, claims in islice(items, count):
            yield []
            head = [a(metric.id, "bold"), a(metric.family.value), a(metric.kind.value)]
            head += [a(metric.topic.value, "dim"), a(_plural(claims, "claim"))]
            yield from record(head, width, PAD * 2)
            yield from indent(part_lines(p(metric.description, "italic"), width - PAD * 2), PAD * 2)
        yield from _footer(count, len(items), "metric", "--search", width)

    return lines


def _conflict_lines(view: _View, number: int, conflict: Conflict, width: int) -> Iterator[Line]:
    style = SEVERITY_STYLE[conflict.severity]
    title = f"{number}. {conflict.kind.value.replace('_', ' ')} ({conflict.severity.label})"
    metric = visible(conflict.key.metric)
    if len(title) + 3 + len(metric) <= width:
        yield [(title, style), (" · ", ""), (metric, "bold")]
    else:
        yield from record([Part(title, style, atom=True), a(metric, "bold")], width, PAD + 1)
    yield from paragraph("why", visible(conflict.why), width, "", PAD + 1)
    yield from paragraph("grouped", visible(conflict.grouped), width, "dim", PAD + 1)
    yield []
    yield from indent(_side_by_side(view, conflict.claims, width - PAD - 1), PAD + 1)


def _side_by_side(view: _View, members: Sequence[Claim], width: int) -> Iterator[Line]:
    """A conflict's claims in columns, figures beside figures; quotes beside them when there
    is room, else beneath each claim; each claim a record when even the figures do not fit."""
    header = ("Claim", "Period", "Figure")
    rows = [
        [[a(named(c), "bold"), p(view.label(c), "dim")], _period(c), _figure(c)] for c in members
    ]
    caps = (44, 22, 28)
    beside = columns(header, rows, width - QUOTE_COLUMN - GAP, caps)
    if beside is not None:
        quote = width - sum(beside) - GAP * len(beside)
        cells = [[*row, [_quote(c)]] for row, c in zip(rows, members, strict=True)]
        yield from grid((*header, "Quote"), _spaced(cells), [*beside, quote])
        return
    widths = columns(header, rows, width, caps)
    if widths is not None:
        yield from grid(header, [], widths)
        for n, (row, claim) in enumerate(zip(rows, members, strict=True)):
            if n:
                yield []
            yield from grid(None, [row], widths)
            yield from indent(part_lines(_quote(claim), width - PAD), PAD)
        return
    for n, claim in enumerate(members):
        if n:
            yield []
        yield from _claim_record(view, claim, width)


def conflicts(
    tables: Tables, items: Sequence[Conflict], shown: int | None = None, wide: bool = False
) -> Layout:
    view = _View(tables, wide)

    def lines(width: int) -> Iterator[Line]:
        tallied = items.tally() if hasattr(items, "tally") else tally(items)
        total = tallied.total
        count = min(total, shown) if shown is not None else total
        yield from _wrapped(_summary(tallied, ""), width)
        for number, conflict in enumerate(islice(items, count), 1):
            yield []
            yield from _conflict_lines(view, number, conflict, width)
        narrow = "--kind, --metric, --source, --subject"
        yield from _footer(count, total, "conflict", narrow, width)

    return lines


def metric(
    tables: Tables, metric: Metric, items: Sequence[Claim], shown: int | None = None
) -> Layout:
    def lines(width: int) -> Iterator[Line]:
        about = f"{metric.description} ({metric.topic.value}, {metric.family.value})"
        yield from record([a(metric.id, "bold"), p(about)], width, PAD * 2)
        yield []
        yield from claims(tables, items, shown, wide=True)(width)  # where file names help

    return lines


def check(report: CheckReport) -> Layout:
    def lines(width: int) -> Iterator[Line]:
        if report.coverage:
            header = ("Source", "File", "Figures", "Covered", "Coverage")
            rows = [
                [
                    [a(c.source)],
                    [a(c.file)],
                    [a(c.figures)],
                    [a(c.covered)],
                    [a(f"{c.percent}%", "green" if not c.uncovered else "red")],
                ]
                for c in report.coverage
            ]
            widths = columns(header, rows, width, (40, 40, 8, 8, 8))
            if widths is not None:
                yield [("Coverage of the source texts", "bold")]
                yield from grid(header, rows, widths)
            else:
                yield [("Coverage of the source texts", "bold")]
                for c, row in zip(report.coverage, rows, strict=True):
                    counts = [a(f"{c.figures} figures"), a(f"{c.covered} covered"), *row[4]]
                    yield from record([*row[0], *row[1], *counts], width, PAD * 2)
            yield []
        found = check_lines(report)
        for line in found[:-1]:
            yield from paragraph("", visible(line), width)
        yield from paragraph("", found[-1], width, "bold green" if report.ok else "bold red")

    return lines
