"""Rich tables for people. Every cell from the data is a ``Text``, never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from kzhealth.engine import Conflict, Severity
from kzhealth.model import Claim, Metric, Rank, Source
from kzhealth.render.records import Tables, check_lines, visible

if TYPE_CHECKING:
    from kzhealth.checker import CheckReport

SEVERITY_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}


def t(value: object, style: str = "") -> Text:
    """Data as literal text: no markup, control characters shown as escapes."""
    return Text(visible("" if value is None else str(value)), style=style)


def _source_cell(dataset: Tables, claim: Claim) -> Text:
    source = dataset.sources.get(claim.source)
    if source is None:
        return t(claim.source)
    cell = t(source.short, "bold")
    cell.append_text(t(f"\n{source.published.text} · {source.file}", "dim"))
    return cell


def _figure_cell(claim: Claim) -> Text:
    cell = t(claim.figure, "bold")
    details = [claim.qualifier.value] if claim.qualifier != "exact" else []
    if claim.status != "reported":
        details.append(claim.status.value)
    if claim.rank is Rank.DEPRECATED:
        details.append(f"deprecated: {claim.reason}")
    cell.append_text(t(f"\n{claim.value_label()} {claim.unit}", "dim"))
    if details:
        cell.append_text(t("\n" + ", ".join(details), "italic"))
    return cell


def _period_cell(claim: Claim) -> Text:
    cell = t(claim.period.label(), "bold red" if not claim.period.stated else "")
    if claim.baseline:
        cell.append_text(t(f"\nvs {claim.baseline.label()}", "dim"))
    return cell


def claims(dataset: Tables, items: list[Claim]) -> list[RenderableType]:
    table = Table(
        box=box.SIMPLE_HEAD, show_lines=False, expand=False, title=t(f"{len(items)} claims")
    )
    for name in ("Claim", "Source", "Figure", "Range", "Period", "Subject", "Quote"):
        table.add_column(name, overflow="fold")
    for c in items:
        table.add_row(
            t(f"{c.id}\n{c.metric}"),
            _source_cell(dataset, c),
            _figure_cell(c),
            t(c.interval_text),
            _period_cell(c),
            t(c.subject if c.scope == "national" else f"{c.subject} ({c.scope})"),
            t(c.quote, "italic"),
        )
    return [table]


def sources(dataset: Tables, items: list[tuple[Source, int]]) -> list[RenderableType]:
    table = Table(box=box.SIMPLE_HEAD, title=t(f"{len(items)} sources"))
    for name in ("Source", "Title", "Published", "File", "Country", "Kind", "Claims"):
        table.add_column(name, overflow="fold", justify="right" if name == "Claims" else "left")
    for s, n in items:
        table.add_row(
            t(s.id),
            t(s.title),
            t(s.published.text),
            t(s.file),
            t(s.jurisdiction),
            t(s.kind.value),
            t(n),
        )
    return [table]


def conflict_table(dataset: Tables, number: int, conflict: Conflict) -> Table:
    style = SEVERITY_STYLE[conflict.severity]
    title = t(f"{number}. {conflict.kind.value.replace('_', ' ')}", style)
    title.append_text(t(f" ({conflict.severity.label}) · {conflict.key.metric}", "bold"))
    caption = t(f"grouped: {conflict.grouped}\n", "dim")
    caption.append_text(t(f"why: {conflict.why}"))
    table = Table(
        title=title,
        caption=caption,
        title_justify="left",
        caption_justify="left",
        box=box.ROUNDED,
        show_lines=True,
    )
    table.add_column("Source", overflow="fold", max_width=30)
    table.add_column("Period", overflow="fold", max_width=24)
    table.add_column("Figure", overflow="fold", max_width=24)
    table.add_column("Range", overflow="fold", no_wrap=True)
    table.add_column("Quote", overflow="fold", ratio=1)
    for c in conflict.claims:
        table.add_row(
            _source_cell(dataset, c),
            _period_cell(c),
            _figure_cell(c),
            t(c.interval_text),
            t(c.quote, "italic"),
        )
    return table


def conflicts(dataset: Tables, items: list[Conflict]) -> list[RenderableType]:
    if not items:
        return [t("No conflicts found.")]
    out: list[RenderableType] = []
    for number, conflict in enumerate(items, 1):
        out.extend([conflict_table(dataset, number, conflict), t("")])
    counts: dict[str, int] = {}
    for conflict in items:
        counts[conflict.kind.value] = counts.get(conflict.kind.value, 0) + 1
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
    noun = "conflict" if len(items) == 1 else "conflicts"
    out.append(t(f"{len(items)} {noun}: {summary}", "bold"))
    return out


def metric(dataset: Tables, metric: Metric, items: list[Claim]) -> list[RenderableType]:
    head = t(f"{metric.id}", "bold")
    head.append_text(t(f": {metric.description} ({metric.topic.value}, {metric.family.value})"))
    return [head, *claims(dataset, items)]


def check(report: CheckReport) -> list[RenderableType]:
    out: list[RenderableType] = []
    if report.coverage:
        table = Table(box=box.SIMPLE_HEAD, title=t("Coverage of the source texts"))
        for name in ("Source", "File", "Figures", "Covered", "Coverage"):
            table.add_column(
                name, justify="right" if name in ("Figures", "Covered", "Coverage") else "left"
            )
        for c in report.coverage:
            style = "green" if not c.uncovered else "red"
            table.add_row(
                t(c.source), t(c.file), t(c.figures), t(c.covered), t(f"{c.percent}%", style)
            )
        out.append(table)
    lines = check_lines(report)
    out.extend(t(line) for line in lines[:-1])
    out.append(t(lines[-1], "bold green" if report.ok else "bold red"))
    return out
