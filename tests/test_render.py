from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from kzhealth.engine import find_conflicts
from kzhealth.loader import Dataset, load_dataset
from kzhealth.render import OutputFormat, renderer
from kzhealth.render.records import visible

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(FIXTURES / "valid")


def as_text(output: object) -> str:
    if isinstance(output, str):
        return output
    console = Console(file=io.StringIO(), width=140, color_system=None, legacy_windows=False)
    assert isinstance(output, list)
    for item in output:
        console.print(item)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KZHEALTH_UPDATE_GOLDEN"):
        path.write_text(text, "utf-8")
    assert text == path.read_text("utf-8")


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders_every_listing(dataset: Dataset, fmt: OutputFormat) -> None:
    """Each OutputFormat member has a renderer for claims, sources, conflicts and a metric."""
    r = renderer(fmt)
    conflicts = find_conflicts(dataset.claims)
    outputs = [
        r.claims(dataset, dataset.claims),
        r.sources(dataset, [(s, 1) for s in dataset.sources.values()]),
        r.conflicts(dataset, conflicts),
        r.metric(dataset, dataset.metrics["infant_mortality_rate"], dataset.claims[:1]),
    ]
    for output in outputs:
        assert "a-imr" in as_text(output) or "alpha" in as_text(output)


@pytest.mark.parametrize(
    ("fmt", "suffix"), [(OutputFormat.TABLE, "txt"), (OutputFormat.MARKDOWN, "md")]
)
def test_conflicts_render_exactly(dataset: Dataset, fmt: OutputFormat, suffix: str) -> None:
    """The conflict report for the fixture matches its reviewed text, character for character."""
    text = as_text(renderer(fmt).conflicts(dataset, find_conflicts(dataset.claims)))
    check_golden(f"conflicts.{suffix}", text)


def test_json_conflicts_are_complete(dataset: Dataset) -> None:
    """JSON carries why the claims were grouped and why they disagree."""
    [conflict] = json.loads(
        as_text(renderer(OutputFormat.JSON).conflicts(dataset, find_conflicts(dataset.claims)))
    )["conflicts"]
    assert conflict["grouped_because"].startswith("same metric infant_mortality_rate")
    assert "the same figure -20.2 is given for different periods" in conflict["why"]
    assert conflict["severity"] == "medium"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("\u202eevil", "\\u202eevil"),
        ("line\nbreak", "line\nbreak"),
        ("[bold]x[/]", "[bold]x[/]"),
    ],
)
def test_visible_neutralises_control_characters(raw: str, shown: str) -> None:
    """Control and bidi characters become visible escapes; markup-like text is untouched."""
    assert visible(raw) == shown


def test_json_conflicts_splice_equals_plain_encoding() -> None:
    """The spliced JSON writer gives exactly what json.dumps of the full records gives."""
    from kzhealth.render.records import conflict_record  # noqa: PLC0415

    shipped = load_dataset(Path(__file__).parents[1] / "claims")
    conflicts = find_conflicts(shipped.claims)
    plain = {"conflicts": [conflict_record(shipped, c) for c in conflicts]}
    text = renderer(OutputFormat.JSON).conflicts(shipped, conflicts)
    assert isinstance(text, str)
    assert text == json.dumps(plain, ensure_ascii=False) + "\n"


def test_claims_table_headers_match_cells(dataset: Dataset) -> None:
    """Every claims-table row has one cell per header, and the range is shown."""
    [table] = renderer(OutputFormat.TABLE).claims(dataset, dataset.claims)
    assert [c.header for c in table.columns] == [  # type: ignore[attr-defined]
        "Claim", "Source", "Figure", "Range", "Period", "Subject", "Quote",
    ]  # fmt: skip
    assert "[-20.25, -20.15]" in as_text([table])
