"""Renderers: one module per output format behind one interface (see ``Renderer``)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:  # only the table renderer needs Rich at run time
    from kzhealth.checker import CheckReport
    from kzhealth.engine import Conflict
    from kzhealth.model import Claim, Metric, Source
    from kzhealth.records import Tables
    from kzhealth.render.layout import Layout

Output: TypeAlias = "str | Layout"  # text as it is written, or lines for a width (tables)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"


class Renderer(Protocol):
    """Every listing renders its first ``shown`` items (all when None), in order; ``wide``
    tables add what only sometimes helps (each source's file name)."""

    def claims(
        self,
        dataset: Tables,
        items: Sequence[Claim],
        shown: int | None = None,
        wide: bool = False,
    ) -> Output: ...

    def sources(
        self, dataset: Tables, items: Sequence[tuple[Source, int]], shown: int | None = None
    ) -> Output: ...

    def metrics(
        self, dataset: Tables, items: Sequence[tuple[Metric, int]], shown: int | None = None
    ) -> Output: ...

    def conflicts(
        self,
        dataset: Tables,
        items: Sequence[Conflict],
        shown: int | None = None,
        wide: bool = False,
    ) -> Output: ...

    def metric(
        self, dataset: Tables, metric: Metric, items: Sequence[Claim], shown: int | None = None
    ) -> Output: ...

    def check(self, report: CheckReport) -> Output: ...


MODULES = {
    OutputFormat.TABLE: "table",
    OutputFormat.JSON: "jsonfmt",
    OutputFormat.CSV: "csvfmt",
    OutputFormat.MARKDOWN: "markdown",
}


def renderer(fmt: OutputFormat) -> Renderer:
    """The renderer for a format (every member has one); only that module is imported, so
    JSON output never pays for Rich's table machinery."""
    module: Renderer = importlib.import_module(f"kzhealth.render.{MODULES[fmt]}")
    return module
