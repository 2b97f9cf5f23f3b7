from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from kzhealth.console import plain_text
from kzhealth.loader import Dataset, load_dataset
from kzhealth.records import visible
from kzhealth.relations import find_conflicts
from kzhealth.render import OutputFormat, renderer

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_dataset(FIXTURES / "valid")


def as_text(output: object, width: int = 140) -> str:
    if isinstance(output, str):
        return output
    assert callable(output)  # a table: lines for a width
    return "".join(plain_text(output, width))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KZHEALTH_UPDATE_GOLDEN"):
        path.write_text(text, "utf-8")
    assert text == path.read_text("utf-8")


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_renders_every_listing(dataset: Dataset, fmt: OutputFormat) -> None:
    """Each OutputFormat member has a renderer for claims, sources, conflicts and a metric."""
    r = renderer(fmt)
    conflicts = find_conflicts(dataset.claims, dataset.metrics)
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
    text = as_text(
        renderer(fmt).conflicts(dataset, find_conflicts(dataset.claims, dataset.metrics))
    )
    check_golden(f"conflicts.{suffix}", text)


def test_json_conflicts_are_complete(dataset: Dataset) -> None:
    """JSON carries why the claims were grouped and why they disagree."""
    [conflict] = json.loads(
        as_text(
            renderer(OutputFormat.JSON).conflicts(
                dataset, find_conflicts(dataset.claims, dataset.metrics)
            )
        )
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
    from kzhealth.records import conflict_record  # noqa: PLC0415

    shipped = load_dataset(Path(__file__).parents[1] / "claims")
    conflicts = find_conflicts(shipped.claims, shipped.metrics)
    plain = {"conflicts": [conflict_record(shipped, c) for c in conflicts]}
    text = renderer(OutputFormat.JSON).conflicts(shipped, conflicts)
    assert isinstance(text, str)
    assert text == json.dumps(plain, ensure_ascii=False) + "\n"


def test_claims_table_is_a_table_when_wide_and_records_when_narrow(dataset: Dataset) -> None:
    """Wide, claims sit in columns under a header, quote last; at 80 columns each claim is a
    record: its id, figure, range and period on one line, its quote beneath, indented."""
    layout = renderer(OutputFormat.TABLE).claims(dataset, dataset.claims)
    wide = as_text(layout, 200).splitlines()
    header = next(line for line in wide if line.startswith("Claim"))
    assert header.split() == ["Claim", "Source", "Figure", "Period", "Subject", "Quote"]
    assert "[-20.25, -20.15]" in as_text(layout, 200)
    narrow = as_text(layout, 80).splitlines()
    assert not any(line.startswith("Claim ") for line in narrow)
    at = narrow.index(next(line for line in narrow if line.startswith("a-imr ")))
    assert narrow[at].split()[:3] == ["a-imr", "20.2%", "[-20.25,"]
    assert narrow[at + 1] == "    Infant mortality dropped by 20.2%."
