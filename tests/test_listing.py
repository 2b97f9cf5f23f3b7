"""``kzhealth list`` from the folder's index: the claims a filter keeps, counted from the index
and read file by file as they are listed - the same claims, in the same order, as filtering the
folder loaded whole."""

from __future__ import annotations

import contextlib
import sqlite3
from itertools import islice
from pathlib import Path

import pytest

from helpers import claim, metric, run, source, write_dataset
from kzhealth.listing import Listing
from kzhealth.loader import load_dataset
from kzhealth.model import Topic
from kzhealth.query import ClaimFilter, claim_tally
from kzhealth.store.cache import DATABASE, Cache
from kzhealth.store.index import load_index


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """Two metrics of two topics, regions, a deprecated claim and a draft with no metric yet,
    in three files."""
    metrics = [metric(), metric("health_spending", "currency", "finance")]
    money = {"metric": "health_spending", "measure": "level", "figure": "$920 million",
             "value": "920", "unit": "USD million"}  # fmt: skip
    claims = {
        "src-a": [
            claim("a1"),
            claim("a2", subject="KZ-ALA", value="-18", figure="18%"),
            claim("a3", **money, quote="Spending reached $920 million."),
        ],
        "src-b": [
            claim("b1", rank="deprecated", reason="superseded", value="-26.3", figure="26.3%"),
            {**claim("b2", draft=True, quote="A rate fell (draft)."), "metric": None},
            claim("b3", subject="KZ-AST"),
        ],
        "src-c": [claim("c1", **money, period="2024", quote="Spending was $920 million.")],
    }
    sources = [source(s) for s in claims]
    return write_dataset(tmp_path / "claims", claims, metrics=metrics, sources=sources)


FILTERS = {
    "none": ClaimFilter(),
    "source": ClaimFilter(source="src-b"),
    "metric": ClaimFilter(metric="health_spending"),
    "topic": ClaimFilter(topic=Topic.FINANCE),
    "subject": ClaimFilter(subject="KZ"),
    "region": ClaimFilter(subject="KZ-ALA"),
    "search": ClaimFilter(search="DRAFT"),
    "two": ClaimFilter(source="src-a", metric="infant_mortality_rate", subject="KZ"),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("cached", [True, False])
def test_a_listing_is_the_filter_applied_to_the_folder(
    mixed: Path, tmp_path: Path, name: str, cached: bool
) -> None:
    chosen = FILTERS[name]
    dataset = load_dataset(mixed)
    expected = [c for c in dataset.claims if chosen.matches(c, dataset)]
    assert expected or name == "none"
    for _ in range(2):  # with an empty cache, then from it
        cache = Cache(tmp_path / "cache") if cached else None
        index = load_index(mixed, cache)
        listing = Listing(index, chosen)
        index.close()
        assert list(listing) == expected
        assert len(listing) == len(expected)
        assert listing.tally() == claim_tally(expected)
        assert listing[1:3] == expected[1:3]
        assert listing[::-1] == expected[::-1]
        if expected:
            assert listing[-1] == expected[-1]


def test_the_listing_reads_only_the_files_it_shows(mixed: Path, tmp_path: Path) -> None:
    load_index(mixed, Cache(tmp_path / "cache")).close()
    cache = Cache(tmp_path / "cache")
    index = load_index(mixed, cache)
    listing = Listing(index, ClaimFilter())
    index.close()
    read = cache.hits  # sources.yaml and metrics.yaml; src-b for its draft and deprecated claim
    assert [c.id for c in islice(listing, 3)] == ["a1", "a2", "a3"]
    assert cache.hits == read + 1
    assert len(listing) == 7
    assert listing.tally().metrics == {"infant_mortality_rate": 4, "health_spending": 2, "": 1}


def test_a_damaged_entry_is_read_from_its_file(mixed: Path, tmp_path: Path) -> None:
    load_index(mixed, Cache(tmp_path / "cache")).close()
    with contextlib.closing(sqlite3.connect(tmp_path / "cache" / DATABASE)) as db, db:
        db.execute("DELETE FROM entries")
    index = load_index(mixed, Cache(tmp_path / "cache"))
    assert list(Listing(index, ClaimFilter())) == load_dataset(mixed).claims


def test_list_prints_what_it_printed_from_the_loaded_folder(mixed: Path) -> None:
    """The summary comes from the index; the rows from the files, as they are printed."""
    shown = run("list", "--claims", str(mixed), "--source", "src-b")
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "3 claims from 1 source"
    assert lines[1].startswith("most in: infant_mortality_rate (2), ")
    assert [line.split()[0] for line in lines if line[:2] in ("b1", "b2", "b3")] == [
        "b1",
        "b2",
        "b3",
    ]
