"""Renderers: one module per output format behind one interface (see ``Renderer``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from rich.console import RenderableType

from kzhealth.checker import CheckReport
from kzhealth.engine import Conflict
from kzhealth.loader import Dataset
from kzhealth.model import Claim, Metric, Source

Output = str | list[RenderableType]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


class Renderer(Protocol):
    def claims(self, dataset: Dataset, items: list[Claim]) -> Output: ...

    def sources(self, dataset: Dataset, items: list[tuple[Source, int]]) -> Output: ...

    def conflicts(self, dataset: Dataset, items: list[Conflict]) -> Output: ...

    def metric(self, dataset: Dataset, metric: Metric, items: list[Claim]) -> Output: ...

    def check(self, report: CheckReport) -> Output: ...


def renderer(fmt: OutputFormat) -> Renderer:
    """The renderer for a format; every member of OutputFormat has one."""
    from kzhealth.render import csvfmt, jsonfmt, markdown, table  # noqa: PLC0415 - lazy by format

    modules: dict[OutputFormat, Renderer] = {
        OutputFormat.TABLE: table,
        OutputFormat.JSON: jsonfmt,
        OutputFormat.CSV: csvfmt,
        OutputFormat.MARKDOWN: markdown,
    }
    return modules[fmt]
